"""NVTX_INJECTION64_PATH handling: finding libcupti and re-executing trtscope with the variable set."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from trtscope.capture import nvtx_injection as inj


class Exec(Exception):
    """Raised by the patched os.execve so the test sees what would have been executed."""


def _lib(root: Path, rel: str) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(b"\x7fELF fake")
    return p


def test_mapped_libcupti_reads_proc_maps(tmp_path: Path) -> None:
    lib = _lib(tmp_path, "lib/libcupti.so.13")
    maps = tmp_path / "maps"
    maps.write_text(
        "7f00-7f10 r-xp 00000000 00:00 0 \n"
        "7f10-7f20 r--p 00000000 08:01 1234  /usr/lib/libc.so.6\n"
        f"7f20-7f30 r-xp 00000000 08:01 99   {lib}\n"
    )
    assert inj.mapped_libcupti(str(maps)) == str(lib)
    assert inj.mapped_libcupti(str(tmp_path / "absent")) is None


def test_find_libcupti_searches_wheel_layouts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
    assert inj.find_libcupti(load=False, search_path=[str(tmp_path)]) is None
    lib = _lib(tmp_path, "nvidia/cu13/lib/libcupti.so.13")
    assert inj.find_libcupti(load=False, search_path=[str(tmp_path)]) == str(lib)


def test_find_libcupti_uses_ld_library_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = _lib(tmp_path, "cuda/extras/CUPTI/lib64/libcupti.so.12")
    monkeypatch.setenv("LD_LIBRARY_PATH", str(lib.parent))
    assert inj.find_libcupti(load=False, search_path=[]) == str(lib)


def test_already_set_to_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = _lib(tmp_path, "libcupti.so")
    monkeypatch.setenv(inj.ENV, str(lib))
    assert inj.injection_active()
    assert inj.reexec_with_injection(["profile", "m.onnx", "--kernels"]) is None


def test_set_to_a_missing_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(inj.ENV, "/nonexistent/libcupti.so")
    assert not inj.injection_active()
    msg = inj.reexec_with_injection(["profile"])
    assert msg is not None and "does not name a file" in msg


def test_guard_prevents_a_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(inj.ENV, raising=False)
    monkeypatch.setenv(inj.GUARD, "1")
    msg = inj.reexec_with_injection(["profile"])
    assert msg is not None and "re-executed once" in msg


def test_no_libcupti_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(inj.ENV, raising=False)
    monkeypatch.delenv(inj.GUARD, raising=False)
    monkeypatch.setattr(inj, "find_libcupti", lambda **kw: None)
    msg = inj.reexec_with_injection(["profile"])
    assert msg is not None and "no libcupti found" in msg and "cupti-python" in msg


def test_reexec_sets_variable_guard_and_argv0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = _lib(tmp_path, "libcupti.so.13")
    monkeypatch.delenv(inj.ENV, raising=False)
    monkeypatch.delenv(inj.GUARD, raising=False)
    monkeypatch.setattr(inj, "find_libcupti", lambda **kw: str(lib))
    monkeypatch.setattr(sys, "argv", ["/usr/bin/trtscope", "profile", "m.onnx", "--kernels"])
    seen: dict[str, object] = {}

    def fake_execve(path: str, argv: list[str], env: dict[str, str]) -> None:
        seen.update(path=path, argv=argv, env=env)
        raise Exec

    monkeypatch.setattr(os, "execve", fake_execve)
    with pytest.raises(Exec):
        inj.reexec_with_injection(sys.argv[1:])
    assert seen["path"] == sys.executable
    assert seen["argv"] == [sys.executable, "-m", "trtscope", "profile", "m.onnx", "--kernels"]
    env = seen["env"]
    assert isinstance(env, dict)
    assert env[inj.ENV] == str(lib) and env[inj.GUARD] == "1" and env[inj.ARGV0] == "/usr/bin/trtscope"


def test_original_command_after_reexec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["/x/trtscope/__main__.py", "profile", "m.onnx"])
    monkeypatch.setenv(inj.ARGV0, "/usr/bin/trtscope")
    assert inj.original_command() == ["/usr/bin/trtscope", "profile", "m.onnx"]
    monkeypatch.delenv(inj.ARGV0)
    assert inj.original_command()[0] == "/x/trtscope/__main__.py"
