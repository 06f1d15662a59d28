"""``trtscope tui``: browse the analysis in a terminal UI (Textual, imported only when this command runs).

The cheap checks come first: a second input path and the lack of an interactive terminal are reported before
anything is loaded (a 20,000-layer input takes seconds to load; a pipe should not wait for that). Inputs are
then loaded and checked before the UI starts, so a missing or bad input prints the same one-line error as
``trtscope report`` and the terminal is never switched to the UI for nothing.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from trtscope.cli.common import add_command, add_input_options, load_from_args
from trtscope.errors import MissingDependencyError, TrtscopeError

EPILOG = """examples:
  trtscope tui --example
  trtscope tui engine_dir/
  trtscope tui --layers model.layers.json --profile model.profile.json --onnx model.onnx
  trtscope tui capture.trtscope/

One input (PATH and/or --layers/--profile/--times/--onnx); comparing two analyses is `trtscope diff`'s job.
keys: 1-6 screens (Overview, Layers, Fusion, Hotspots, Kernels, Timeline), / search, Enter open,
      Backspace back, s sort by a column, u unfused only, y copy name, c copy..., e export, Ctrl+P every
      command, t dark/light, ? every key, q quit. NO_COLOR is honoured.
"""


def register(sub: Any, name: str, summary: str) -> None:
    # not str.capitalize(): it would lower-case "GPU" and "UI"
    p = add_command(sub, name, summary, EPILOG)
    add_input_options(p)
    # a second path is caught to say why it is refused (argparse would only say "unrecognized arguments")
    p.add_argument("more_paths", nargs="*", help=argparse.SUPPRESS)
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


def run(args: argparse.Namespace) -> int:
    if args.more_paths:
        raise TrtscopeError(f"`trtscope tui` shows one input, got {1 + len(args.more_paths)} paths; comparing "
                            "two analyses comes with `trtscope diff A B`")
    if not interactive():  # before loading: a pipe gets its answer at once
        raise TrtscopeError("the terminal UI needs an interactive terminal (stdin and stdout); "
                            "use `trtscope report` (or --json) for output to a pipe or file")
    analysis = load_from_args(args)  # raises TrtscopeError (one line, exit 2) before any UI
    try:
        from trtscope.views.tui.app import TrtscopeApp
    except ImportError as err:  # textual is a dependency, but a broken install should still say so
        raise MissingDependencyError("textual", f"pip install 'textual>=0.80' ({err})") from err
    TrtscopeApp(analysis, source=describe_input(args)).run()
    return 0
