"""Getting NVTX ranges into CUPTI: ``NVTX_INJECTION64_PATH`` must name libcupti before the process starts.

NVTX initialises once per process, at its first call, and only then reads ``NVTX_INJECTION64_PATH``; setting
the variable from Python after anything (trtscope's own ``nvtx`` import, TensorRT) made an NVTX call is too
late. ``trtscope profile --kernels`` therefore re-executes itself once with the variable set to the libcupti
that cupti-python loads (:func:`reexec_with_injection`), guarded by ``TRTSCOPE_NVTX_REEXEC`` against loops.
"""

from __future__ import annotations

import glob
import os
import sys
from collections.abc import Sequence
from pathlib import Path

ENV = "NVTX_INJECTION64_PATH"
GUARD = "TRTSCOPE_NVTX_REEXEC"
ARGV0 = "TRTSCOPE_ARGV0"  # the command name the user typed, for the bundle manifest after a re-exec

#: Where the CUDA wheels put libcupti (CUDA 13: nvidia/cu13/lib; CUDA 12: nvidia/cuda_cupti/lib).
_WHEEL_GLOBS = (
    "nvidia/cu13/lib/libcupti.so*",
    "nvidia/cuda_cupti/lib/libcupti.so*",
    "nvidia/cu12/lib/libcupti.so*",
)


def mapped_libcupti(maps: str = "/proc/self/maps") -> str | None:
    """The libcupti this process has loaded (Linux), if any."""
    try:
        with open(maps, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                parts = line.split(maxsplit=5)
                path = parts[5].strip() if len(parts) == 6 else ""
                if "/libcupti.so" in path and os.path.isfile(path):
                    return path
    except OSError:
        return None
    return None


def _candidates(search_path: Sequence[str]) -> list[str]:
    found: list[str] = []
    for base in search_path:
        for pattern in _WHEEL_GLOBS:
            found.extend(sorted(glob.glob(os.path.join(base, pattern))))
    for d in os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep):
        if d:
            found.extend(sorted(glob.glob(os.path.join(d, "libcupti.so*"))))
    return [p for p in found if os.path.isfile(p)]


def find_libcupti(*, load: bool = True, search_path: Sequence[str] | None = None) -> str | None:
    """The libcupti that cupti-python uses: with ``load``, import cupti, make one call and read the loaded
    path; otherwise (or if that fails) look where the CUDA wheels and LD_LIBRARY_PATH put it."""
    if load:
        try:
            from cupti import cupti

            cupti.get_timestamp()
            path = mapped_libcupti()
            if path:
                return path
        except Exception:  # missing module, or a CUPTI that fails to initialise: fall back to searching
            pass
    found = _candidates(list(search_path) if search_path is not None else sys.path)
    return found[0] if found else None


def injection_active() -> bool:
    """True when this process started with NVTX_INJECTION64_PATH naming an existing file."""
    value = os.environ.get(ENV, "")
    return bool(value) and Path(value).is_file()


def reexec_with_injection(argv: Sequence[str], *, command: Sequence[str] | None = None) -> str | None:
    """Re-run ``COMMAND ARGV`` (default ``python -m trtscope``) with NVTX_INJECTION64_PATH set; returns only
    when it cannot (the returned text says why, for the bundle's notes and the user), or when the variable
    is already set."""
    if os.environ.get(ENV):
        if injection_active():
            return None
        return f"{ENV}={os.environ[ENV]} does not name a file: NVTX ranges will not reach CUPTI"
    if os.environ.get(GUARD):
        return f"re-executed once but {ENV} is still unset: NVTX ranges will not reach CUPTI"
    path = find_libcupti()
    if path is None:
        return (
            f"no libcupti found (pip install cupti-python); NVTX ranges will not reach CUPTI. Set {ENV} "
            "to libcupti.so before starting trtscope to map kernels to ranges"
        )
    env = dict(os.environ)
    env[ENV] = path
    env[GUARD] = "1"
    env[ARGV0] = sys.argv[0]
    sys.stdout.flush()
    sys.stderr.flush()
    cmd = list(command) if command is not None else [sys.executable, "-m", "trtscope"]
    os.execve(cmd[0], [*cmd, *argv], env)
    return None  # pragma: no cover - execve does not return


def original_command() -> list[str]:
    """The command line as the user typed it, also after :func:`reexec_with_injection`."""
    return [os.environ.get(ARGV0, sys.argv[0]), *sys.argv[1:]]
