"""``trtscope lint``: why nodes did not fuse or run fast, as findings with evidence and advice; CI exit codes."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from trtscope.cli.common import add_command, add_input_options, load_from_args, require_input

EPILOG = """examples:
  trtscope lint --example
  trtscope lint engine_dir/ --onnx model.onnx
  trtscope lint engine_dir/ --fail-on error                  CI: exit 1 when any error is found
  trtscope lint engine_dir/ --select Q,R001 --ignore Q001    only the Q/DQ rules and R001, without Q001
  trtscope lint engine_dir/ --json | jq '.findings[] | select(.severity=="warning") | .title'
  trtscope lint --list-rules

exit codes: 0 no finding at or above --fail-on (or no --fail-on), 1 the --fail-on gate tripped, 2 bad input.
rule pages: docs/lint/<RULE>.md
"""

SEVERITIES = ("error", "warning", "info")


def _ids(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [x for v in values for x in v.split(",") if x.strip()]


def register(sub: Any, name: str, summary: str) -> None:
    p = add_command(sub, name, summary, EPILOG)
    add_input_options(p)
    p.add_argument("--json", action="store_true", help="print one JSON document (schema trtscope-lint/1)")
    p.add_argument("--fail-on", choices=SEVERITIES, metavar="SEVERITY",
                   help="exit 1 when a finding of this severity or worse exists (error, warning, info)")
    p.add_argument("--select", action="append", metavar="IDS",
                   help="only these rules: ids or prefixes, comma-separated (e.g. Q,R001); repeatable")
    p.add_argument("--ignore", action="append", metavar="IDS", help="leave these rules out (ids or prefixes)")
    p.add_argument("--limit", type=int, metavar="N", help="show at most N findings on the console (default all)")
    p.add_argument("--list-rules", action="store_true", help="list the rules and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from trtscope.errors import TrtscopeError

    if args.limit is not None and args.limit < 1:
        raise TrtscopeError("--limit must be at least 1")
    from trtscope.analysis.lint import resolve

    select, ignore = _ids(args.select), _ids(args.ignore)
    rules = resolve(select, ignore)  # a typo in --select / --ignore fails before anything is loaded
    if args.list_rules:
        return _list_rules(args.json)
    require_input(args)
    analysis = load_from_args(args, onnx_edges=any(n.value == "onnx" for r in rules for n in r.needs))
    from trtscope.cli.main import RETAINED

    RETAINED.append(analysis)
    from trtscope.analysis.lint.runner import run_rules

    result = run_rules(analysis, rules)
    if args.json:
        from trtscope.exporters.lint_json import lint_json

        sys.stdout.write(lint_json(result, analysis) + "\n")
    else:
        from rich.console import Console

        from trtscope.views.console.lint import render_lint

        render_lint(result, analysis, Console(), limit=args.limit)
    return 1 if args.fail_on and result.trips(args.fail_on) else 0


def _list_rules(as_json: bool) -> int:
    if as_json:
        from trtscope.exporters.json_report import dumps
        from trtscope.exporters.lint_json import rules_document

        sys.stdout.write(dumps({"rules": rules_document()}) + "\n")
        return 0
    from rich.console import Console
    from rich.table import Table

    from trtscope.analysis.lint import RULES

    t = Table(title="trtscope lint rules", title_justify="left")
    for col in ("rule", "name", "severity", "title", "needs"):
        t.add_column(col, no_wrap=col != "title")
    for r in RULES.values():
        t.add_row(r.id, r.name, r.severity.value, r.title, ", ".join(sorted(n.value for n in r.needs)))
    Console().print(t)
    return 0
