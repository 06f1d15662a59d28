"""``trtscope diff A B``: compare two engines of one model at the ONNX-node level, with a CI gate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trtscope.cli.common import add_command, progress_status

if TYPE_CHECKING:
    from trtscope.analysis.diff.gate import FailOn
    from trtscope.analysis.session import Analysis

EPILOG = """A is the baseline, B the candidate: deltas are B - A. Each side is anything `trtscope report` reads
(a directory of artifacts, an artifact file, a capture bundle, an nsys export), or explicit files per side.

examples:
  trtscope diff runs/fp16/ runs/int8/
  trtscope diff --layers-a a.layers.json --profile-a a.profile.json --onnx-a model.onnx \\
                --layers-b b.layers.json --profile-b b.profile.json --onnx-b model_qat.onnx
  trtscope diff main/ pr/ --json | jq .summary
  trtscope diff main/ pr/ --fail-on coverage-drop=2 --fail-on time-increase=5% --fail-on new-unfused

"""
#: the --fail-on conditions (also in ``trtscope tui A B --help``)
FAIL_ON_CONDITIONS = """  coverage-drop=P          fusion coverage fell by more than P percentage points
  time-increase=P%         the sum of layer times rose by more than P percent
  latency-increase=P%      the median end-to-end time rose by more than P percent (needs --times)
  new-unfused[=N]          more than N compute nodes run unfused in B that did not in A (default 0)
  new-reformat[=N]         B adds more than N reformat layers that copy data (default 0)
  precision-fallback[=N]   more than N nodes run in a wider data type in B than in A (default 0)
"""

_FILES = (("layers", "engine layer information"), ("profile", "per-layer profile"),
          ("times", "per-iteration times"), ("onnx", "the ONNX model"))


def register(sub: Any, name: str, summary: str) -> None:
    p = add_command(sub, name, summary, EPILOG + "--fail-on conditions (exit 1 when one holds, listing each; exit 0 "
                    "when none does; exit 2 on bad input):\n" + FAIL_ON_CONDITIONS)
    p.add_argument("a", nargs="?", metavar="A", help="side A (baseline): a directory, artifact file or bundle")
    p.add_argument("b", nargs="?", metavar="B", help="side B (candidate): a directory, artifact file or bundle")
    add_side_options(p)
    p.add_argument("--top", type=int, default=10, metavar="N",
                   help="rows per table; with --json, rows of the ranked change list (default 10)")
    p.add_argument("--json", action="store_true", help="print one JSON document (schema trtscope-diff/1)")
    add_fail_on(p)
    p.set_defaults(func=run)


def add_side_options(p: argparse.ArgumentParser) -> None:
    """The per-side options (``--layers-a`` ... ``--onnx-b``, ``--label-a/-b``): ``diff`` and ``tui A B``."""
    for side in ("a", "b"):
        for opt, what in _FILES:
            p.add_argument(f"--{opt}-{side}", metavar="F", help=f"{what} of side {side.upper()}")
        p.add_argument(f"--label-{side}", metavar="TEXT", help=f"name of side {side.upper()} in the output "
                       "(default: from its path)")


def add_fail_on(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fail-on", action="append", default=[], metavar="COND",
                   help="a CI gate condition (repeatable, or comma-separated); see below")


def side_options_given(args: argparse.Namespace) -> bool:
    """Any per-side option (``--layers-a`` ...; labels and the gate do not count) was given."""
    return any(getattr(args, f"{opt}_{side}", None) for side in ("a", "b") for opt, _ in _FILES)


def conditions_from(args: argparse.Namespace) -> list[FailOn]:
    """The ``--fail-on`` conditions, parsed (a malformed one fails here, before anything is loaded)."""
    from trtscope.analysis.diff.gate import parse_fail_on
    from trtscope.errors import TrtscopeError

    conditions = [c for spec in args.fail_on for c in parse_fail_on(spec)]
    if args.fail_on and not conditions:
        raise TrtscopeError("--fail-on: no condition given")
    return conditions


def load_sides(args: argparse.Namespace) -> tuple[Analysis, Analysis, str, str]:
    """Both sides loaded (A first; a bad input fails with its one-line error) and their labels."""
    a, b = _load(args, "a"), _load(args, "b")
    la, lb = default_labels(_given(args, "a"), _given(args, "b"))
    return a, b, args.label_a or la, args.label_b or lb


def describe_side(args: argparse.Namespace, side: str) -> str:
    """What side ``side`` was read from, as given on the command line."""
    parts = [str(getattr(args, side))] if getattr(args, side) else []
    parts += [f"--{opt}-{side} {getattr(args, f'{opt}_{side}')}" for opt, _ in _FILES
              if getattr(args, f"{opt}_{side}")]
    return " ".join(parts)


def _given(args: argparse.Namespace, side: str) -> Path | None:
    """The path that names side ``side`` (for its label): its positional, else its first explicit file."""
    pos = getattr(args, side)
    if pos:
        return Path(pos)
    for opt, _ in _FILES:
        v = getattr(args, f"{opt}_{side}")
        if v:
            return Path(v)
    return None


def default_labels(pa: Path | None, pb: Path | None) -> tuple[str, str]:
    """Labels from the paths: their names, with as many parent folders as it takes to tell them apart."""
    if pa is None or pb is None:
        return "A", "B"
    ra, rb = pa.resolve(), pb.resolve()
    for depth in range(1, 4):
        la = "/".join(ra.parts[-depth:])
        lb = "/".join(rb.parts[-depth:])
        if la != lb:
            return la, lb
    return "A", "B"


def _load(args: argparse.Namespace, side: str) -> Analysis:
    from trtscope.errors import TrtscopeError
    from trtscope.loader import load

    kw = {opt: getattr(args, f"{opt}_{side}") for opt, _ in _FILES}
    path = getattr(args, side)
    if path is None and not any(kw.values()):
        raise TrtscopeError(f"side {side.upper()} is missing: give {side.upper()} (a directory, file or bundle) "
                            f"or --layers-{side} / --profile-{side}")
    with progress_status(True) as progress:
        return load(path, progress=progress, **kw)


def run(args: argparse.Namespace) -> int:
    from trtscope.analysis.diff.gate import evaluate
    from trtscope.errors import TrtscopeError

    if args.top < 1:
        raise TrtscopeError("--top must be at least 1")
    conditions = conditions_from(args)  # bad specs fail before loading
    a, b, label_a, label_b = load_sides(args)
    from trtscope.analysis.diff import diff

    d = diff(a, b, label_a, label_b)
    violations = evaluate(d.summary, conditions)
    if args.json:
        from trtscope.exporters.diff_json import diff_json
        from trtscope.gcpause import collector_paused

        with collector_paused():
            text = diff_json(d, conditions, violations, top=args.top)
        sys.stdout.write(text + "\n")
    else:
        from rich.console import Console

        from trtscope.views.console.diff import render_diff

        render_diff(d, Console(), top=args.top, conditions=conditions, violations=violations)
    if violations:
        if args.json:  # the document holds them; say why the exit code is 1 where a CI log shows it
            for v in violations:
                print(f"trtscope diff: gate: {v.text}: {v.message}", file=sys.stderr)
        return 1
    return 0
