"""``trtscope report``: the console report, or one JSON document with --json."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from trtscope.cli.common import add_command, add_input_options, load_from_args

EPILOG = """examples:
  trtscope report --example
  trtscope report engine_dir/ --top 20
  trtscope report --layers model.layers.json --profile model.profile.json --onnx model.onnx
  trtscope report capture.trtscope/ --json | jq .summary
"""


def register(sub: Any, name: str, summary: str) -> None:
    p = add_command(sub, name, summary, EPILOG)
    add_input_options(p)
    p.add_argument("--top", type=int, default=10, metavar="N", help="rows in the hotspot tables (default 10)")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of the console report")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.top < 1:
        from trtscope.errors import TrtscopeError

        raise TrtscopeError("--top must be at least 1")
    from trtscope.gcpause import collector_paused

    # The collector stays paused from loading to output: objects made while it is paused all wait in its
    # youngest generation, and the first collection after a resume would walk every one of them (a few hundred
    # thousand on a 20,000-layer engine) for nothing.
    with collector_paused():
        return _report(args)


def _report(args: argparse.Namespace) -> int:
    analysis = load_from_args(args)
    from trtscope.cli.main import RETAINED

    RETAINED.append(analysis)  # freed by the process's end, not one object at a time (see main.entry)
    if args.json:
        from trtscope.exporters.json_report import report_json_parts

        for part in report_json_parts(analysis, top=args.top):
            sys.stdout.write(part)
        sys.stdout.write("\n")
        return 0
    from rich.console import Console

    from trtscope.views.console.report import render_report

    render_report(analysis, Console(), top=args.top)
    return 0
