"""``trtscope tui``: browse the analysis in a terminal UI (Textual, imported only when this command runs).

Inputs are loaded and checked before the UI starts, so a missing or bad input prints the same one-line error
as ``trtscope report`` and the terminal is never switched to the UI for nothing.
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

keys: 1-5 screens (Overview, Layers, Fusion, Hotspots, Timeline), / search, Enter open, Escape back,
      s/r sort, u unfused only, e export CSV, t dark/light, ? every key, q quit. NO_COLOR is honoured.
"""

def register(sub: Any, name: str, summary: str) -> None:
    # not str.capitalize(): it would lower-case "GPU" and "UI"
    p = add_command(sub, name, summary, EPILOG)
    add_input_options(p)
    p.set_defaults(func=run)


def describe_input(args: argparse.Namespace) -> str:
    """What the Overview names as the input."""
    if args.example:
        return "bundled example (ResNet-18, TensorRT-RTX, H100)"
    parts = [args.path] if args.path else []
    parts += [f"--{k} {getattr(args, k)}" for k in ("layers", "profile", "times", "onnx") if getattr(args, k)]
    return " ".join(parts)


def run(args: argparse.Namespace) -> int:
    analysis = load_from_args(args)  # raises TrtscopeError (one line, exit 2) before any UI
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise TrtscopeError("the terminal UI needs an interactive terminal (stdin and stdout); "
                            "use `trtscope report` (or --json) for output to a pipe or file")
    try:
        from trtscope.views.tui.app import TrtscopeApp
    except ImportError as err:  # textual is a dependency, but a broken install should still say so
        raise MissingDependencyError("textual", f"pip install 'textual>=0.80' ({err})") from err
    TrtscopeApp(analysis, source=describe_input(args)).run()
    return 0
