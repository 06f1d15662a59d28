"""``trtscope tui`` on the command line: registration, help, input errors reported exactly like
``trtscope report`` before any UI starts (textual is not even imported then), the terminal check before any
loading, and one input only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trtscope.cli.main import main

OWN = Path(__file__).resolve().parents[1] / "fixtures"

PROBE = """
import json, os, sys
if os.environ.get("FAKE_TTY"):  # stand in for a terminal: the UI itself never starts in these runs
    import trtscope.cli.tui
    trtscope.cli.tui.interactive = lambda: True
from trtscope.cli.main import main
rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "textual": any(m == "textual" or m.startswith("textual.") for m in sys.modules),
                  "loaded": "trtscope.loader" in sys.modules}))
"""


def run_cli(*args: str, cwd: Path | None = None, tty: bool = False) -> tuple[dict[str, object], str]:
    """(exit code, whether textual and the loader got imported; stderr) of ``trtscope ARGS`` in a fresh
    interpreter (``tty``: as if on a terminal)."""
    env = {**os.environ, "FAKE_TTY": "1"} if tty else None
    p = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=cwd,
                       stdin=subprocess.DEVNULL, timeout=120, env=env)
    return json.loads(p.stdout.strip().splitlines()[-1]), p.stderr


@pytest.mark.parametrize("bad", ["missing", "garbage"])
def test_bad_input_gives_the_report_error_before_any_ui(tmp_path, bad) -> None:  # type: ignore[no-untyped-def]
    if bad == "missing":
        arg = str(tmp_path / "no-such-dir")
    else:
        f = tmp_path / "model.layers.json"
        f.write_text('{"Layers": [ {"Name": ')  # cut off mid-way
        arg = str(f)
    tui, tui_err = run_cli("tui", arg, tty=True)
    report, report_err = run_cli("report", arg)
    assert tui["rc"] == report["rc"] == 2
    assert tui_err == report_err and tui_err.startswith("trtscope: error: ") and tui_err.count("\n") == 1
    assert tui["textual"] is False  # the UI never started


def test_layers_option_errors_the_same_way(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import trtscope.cli.tui

    monkeypatch.setattr(trtscope.cli.tui, "interactive", lambda: True)
    missing = str(tmp_path / "x.json")
    assert main(["tui", "--layers", missing]) == 2
    tui_err = capsys.readouterr().err
    assert main(["report", "--layers", missing]) == 2
    assert capsys.readouterr().err == tui_err and missing in tui_err


def test_no_terminal_is_an_error_before_loading_anything() -> None:
    result, err = run_cli("tui", "--example")  # stdout is a pipe here
    assert result["rc"] == 2 and "interactive terminal" in err and "trtscope report" in err
    assert result["textual"] is False
    assert result["loaded"] is False  # said at once: nothing was loaded first


def test_two_inputs_are_checked_like_diff_before_any_ui(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``tui A B`` (the diff view): a bad side fails with `trtscope diff`'s one-line error before the UI starts;
    a third path, single-input options beside two inputs, and a malformed gate condition are refused before
    anything is loaded; the terminal check names `trtscope diff`."""
    good = str(OWN / "rtx-h200-convblock-fused")
    missing = str(tmp_path / "no-such-dir")
    tui, tui_err = run_cli("tui", good, missing, tty=True)
    diff, diff_err = run_cli("diff", good, missing)
    assert tui["rc"] == diff["rc"] == 2 and tui_err == diff_err and tui_err.count("\n") == 1
    assert missing in tui_err and tui["textual"] is False
    for args, said in ((["a", "b", "c"], "got 3 paths"), (["a", "b", "--layers", "x.json"], "--layers applies to one"),
                       (["--layers-a", "x.json", "--example"], "--example applies to one"),
                       (["a", "b", "--fail-on", "new-unfused=x"], "is not a number"),
                       (["a", "--label-a", "fp32"], "applies to two inputs")):
        result, err = run_cli("tui", *args, tty=True)
        assert result["rc"] == 2 and err.count("\n") == 1 and said in err, (args, err)
        assert result["loaded"] is False and result["textual"] is False
    result, err = run_cli("tui", good, good)  # stdout is a pipe here
    assert result["rc"] == 2 and "interactive terminal" in err and "trtscope diff" in err
    assert result["loaded"] is False


def test_help_lists_options_examples_and_keys(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exc:
        main(["tui", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for text in ("--layers", "--profile", "--times", "--onnx", "--example", "trtscope tui --example",
                 "trtscope tui engine_dir/", "? every key", "NO_COLOR", "GPU activity in a terminal UI",
                 "trtscope diff", "Ctrl+P", "Backspace back", "--layers-a", "--onnx-b", "--label-b", "--fail-on",
                 "trtscope tui runs/fp32/ runs/qat/", "new-unfused[=N]", "a / b open side A / B"):
        assert text in out


def test_tui_module_imports_no_textual() -> None:
    code = ("import sys, trtscope.cli.tui, trtscope.views.tui, trtscope.views.tui.data; "
            "print(any(m.startswith('textual') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "False"


def test_only_large_inputs_are_read_behind_the_ui(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The cheap checks decide: inputs above the threshold (ONNX models and documents not counted) are read
    behind the UI; missing paths, bundles, the example and small inputs are read (and refused) before it."""
    import argparse

    import trtscope.cli.tui as cli_tui

    def args(path: object = None, **kw: object) -> argparse.Namespace:
        base = {"layers": None, "profile": None, "times": None, "onnx": None, "example": False}
        return argparse.Namespace(path=None if path is None else str(path), **{**base, **kw})

    monkeypatch.setattr(cli_tui, "READ_FIRST_BYTES", 1000)
    d = tmp_path / "engine"
    d.mkdir()
    (d / "model.onnx").write_bytes(b"\x08\x07" + b"\x00" * 5000)  # an ONNX model: walked by its own worker
    (d / "README.md").write_text("x" * 5000)  # a document: skipped
    (d / "engine.layers.json").write_text("{" + " " * 900 + "}")
    assert not cli_tui._read_behind_ui(args(d))
    (d / "engine.profile.json").write_text("[" + " " * 900 + "]")
    assert cli_tui._read_behind_ui(args(d))
    assert cli_tui._read_behind_ui(args(layers=d / "engine.layers.json", profile=d / "engine.profile.json"))
    assert not cli_tui._read_behind_ui(args(layers=d / "engine.layers.json"))
    assert not cli_tui._read_behind_ui(args(d, layers=tmp_path / "missing.json"))
    assert not cli_tui._read_behind_ui(args(example=True))
    (d / "manifest.json").write_text("{}")
    assert not cli_tui._read_behind_ui(args(d))
