"""``trtscope tui``: browse the analysis in a terminal UI (Textual, imported only when this command runs);
with two inputs (``trtscope tui A B``, or per-side options as ``trtscope diff`` takes them), the diff view.

The cheap checks come first: a third input path, options of the wrong mode, malformed ``--fail-on`` conditions
and the lack of an interactive terminal are reported before anything is loaded (a 20,000-layer input takes
seconds to load; a pipe should not wait for that). Inputs are then read and checked before the UI starts, so
a missing or bad input prints the same one-line error as ``trtscope report`` / ``trtscope diff`` and the
terminal is never switched to the UI for nothing; one input's analysis itself runs in the UI's worker thread
behind a loading Overview.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from trtscope.cli import diff as diff_cli
from trtscope.cli.common import add_command, add_input_options, artifacts_from_args
from trtscope.errors import MissingDependencyError, TrtscopeError

EPILOG = """examples:
  trtscope tui --example
  trtscope tui engine_dir/
  trtscope tui --layers model.layers.json --profile model.profile.json --onnx model.onnx
  trtscope tui capture.trtscope/
  trtscope tui runs/fp32/ runs/qat/                     the diff view: A (baseline) against B
  trtscope tui --layers-a a.json --onnx-a a.onnx --layers-b b.json --onnx-b b.onnx --label-a fp16 --label-b int8

One input (PATH and/or --layers/--profile/--times/--onnx), or two: A B (and/or --layers-a ... --onnx-b, as
`trtscope diff` takes them) for the diff view, which compares them node by node as `trtscope diff` does.
keys: 1-7 screens (Overview, Layers, Fusion, Hotspots, Kernels, Timeline, Lint), / search, Enter open,
      Backspace back, s sort by a column, u unfused only, y copy name, c copy..., e export, Ctrl+P every
      command, t dark/light, ? every key, q quit. NO_COLOR is honoured.
diff view keys: 1-5 Overview, Nodes, Op types, Inserted, Layer kinds; p matched / only A / only B, d changed
      only (Nodes); v unchanged groups too (Inserted); a / b open side A / B in the screens above (q returns).
--fail-on conditions (the diff view's Overview shows the gate's verdict):
""" + diff_cli.FAIL_ON_CONDITIONS


def register(sub: Any, name: str, summary: str) -> None:
    # not str.capitalize(): it would lower-case "GPU" and "UI"
    p = add_command(sub, name, summary, EPILOG)
    add_input_options(p)
    # B of the diff view; a third path is caught to say why it is refused (argparse would only say
    # "unrecognized arguments")
    p.add_argument("more_paths", nargs="*", metavar="B", help="a second input: compare PATH (A) with it")
    diff_cli.add_side_options(p)
    diff_cli.add_fail_on(p)
    p.set_defaults(func=run)


def describe_input(args: argparse.Namespace) -> str:
    """What the Overview names as the input."""
    if args.example:
        return "bundled example (ResNet-18, TensorRT-RTX, H100)"
    parts = [args.path] if args.path else []
    parts += [f"--{k} {getattr(args, k)}" for k in ("layers", "profile", "times", "onnx") if getattr(args, k)]
    return " ".join(parts)


def interactive() -> bool:
    """stdin and stdout are a terminal (a function, so tests can stand in for one)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def _two_inputs(args: argparse.Namespace) -> bool:
    """The diff view was asked for (a second path or a per-side option); options of the other mode are refused
    here, in one line, before anything is loaded."""
    if len(args.more_paths) > 1:
        raise TrtscopeError(f"`trtscope tui` shows one input, or compares two; got {1 + len(args.more_paths)} "
                            "paths")
    two = bool(args.more_paths) or diff_cli.side_options_given(args)
    single = [f"--{k}" for k in ("layers", "profile", "times", "onnx", "example") if getattr(args, k)]
    if args.attribution != "anchor":
        single.append("--attribution")
    if two and single:
        raise TrtscopeError(f"{', '.join(single)} applies to one input; with two, give each side's files as "
                            "--layers-a/--layers-b, --profile-a/-b, --times-a/-b, --onnx-a/-b (the comparison "
                            "uses anchor attribution)")
    if not two:
        paired = [f"--{k.replace('_', '-')}" for k in ("label_a", "label_b", "fail_on") if getattr(args, k)]
        if paired:
            raise TrtscopeError(f"{', '.join(paired)} applies to two inputs (trtscope tui A B)")
    return two


def _textual() -> None:
    try:
        import textual  # noqa: F401
    except ImportError as err:  # textual is a dependency, but a broken install should still say so
        raise MissingDependencyError("textual", f"pip install 'textual>=0.80' ({err})") from err


def run(args: argparse.Namespace) -> int:
    two = _two_inputs(args)
    if not interactive():  # before loading: a pipe gets its answer at once
        raise TrtscopeError("the terminal UI needs an interactive terminal (stdin and stdout); "
                            "use `trtscope report` (or --json) for output to a pipe or file"
                            + ("; `trtscope diff` compares two inputs there" if two else ""))
    if two:
        return _run_diff(args)
    import gc

    from trtscope.gcpause import collector_paused

    art = None
    if not _read_behind_ui(args):
        with collector_paused():
            art = artifacts_from_args(args)  # read and checked: a bad input is one line (exit 2) before any UI
            gc.freeze()  # they live as long as the UI: out of the collector's sight (see gcpause)
    _textual()
    from trtscope.views.tui.app import PendingAnalysis, TrtscopeApp

    # The Overview paints at once (with what the inputs hold, when they were read first) while the reading
    # left and the analysis run in a worker thread.
    pending = PendingAnalysis(art, attribution=args.attribution,
                              read=None if art is not None else lambda: artifacts_from_args(args, progress=False))
    app = TrtscopeApp(pending, source=describe_input(args))
    app.run()
    if app.failure is not None:  # raised by the reading or the analysis, reported now that the terminal is back
        raise app.failure
    return 0


#: Inputs to read of at most this many bytes (ONNX models and documents aside) are read before the UI starts:
#: that takes a fraction of a second, and a bad one then never touches the terminal.
READ_FIRST_BYTES = 4 * 1024**2


def _read_behind_ui(args: argparse.Namespace) -> bool:
    """Whether the inputs are large enough to be read behind the loading Overview rather than before the UI:
    decided by cheap checks only (paths exist, sizes). A missing path, a bundle, the bundled example or small
    inputs are read first, so their errors are the one-line error before any UI; a large input found bad
    while the UI runs ends the UI and is reported the same way (exit 2) once the terminal is restored. The
    ONNX graph's walk starts now either way (a worker process, before the UI's imports)."""
    from pathlib import Path

    from trtscope.cli.common import prefetch_onnx

    if args.example:
        return False
    named = [Path(v) for v in (args.path, args.layers, args.profile, args.times, args.onnx) if v]
    if not named or not all(p.exists() for p in named):
        return False
    prefetch_onnx(args)
    from trtscope.errors import InputError
    from trtscope.parsers.files import is_document, read_input
    from trtscope.parsers.onnx_wire import looks_like_onnx, onnx_files_in

    total = 0
    try:
        for p in named:
            if p.is_dir():
                if (p / "manifest.json").exists():  # a bundle (or something claiming to be one): read first
                    return False
                files = [f for f in onnx_files_in(p)[1] if not is_document(f)]
            elif p.suffix.lower() == ".onnx" or looks_like_onnx(read_input(p, 16)):
                continue  # walked by the worker started above
            else:
                files = [p]
            total += sum(f.stat().st_size for f in files)
    except (InputError, OSError):
        return False  # the reader says why, before the UI
    return total > READ_FIRST_BYTES


def _run_diff(args: argparse.Namespace) -> int:
    """Both sides loaded and checked like `trtscope diff` (same options, same errors), then the diff view;
    the comparison itself runs inside the UI, after its first paint."""
    conditions = diff_cli.conditions_from(args)  # malformed conditions fail before anything is loaded
    args.a, args.b = args.path, (args.more_paths or [None])[0]
    a, b, label_a, label_b = diff_cli.load_sides(args)
    _textual()
    from trtscope.views.tui.diff_app import browse

    browse(a, b, label_a, label_b, (diff_cli.describe_side(args, "a"), diff_cli.describe_side(args, "b")),
           conditions)
    return 0
