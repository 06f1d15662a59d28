"""``trtscope lint`` on the console: findings grouped by severity, worst first, each with its evidence, why it
matters and what to change. Names are rendered as ``Text`` (never markup): layer names hold brackets and
control bytes. The severity is written out, never shown by colour alone (NO_COLOR)."""

from __future__ import annotations

from itertools import groupby

from rich.console import Console
from rich.text import Text

from trtscope.analysis.lint import RULES, Finding, LintResult
from trtscope.analysis.session import Analysis
from trtscope.model.vocabulary import Severity
from trtscope.presentation.formatting import ms, pct, printable

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
_PLURAL = {Severity.ERROR: "errors", Severity.WARNING: "warnings", Severity.INFO: "info"}
#: Evidence lines shown per finding (the JSON document has them all).
EVIDENCE_LINES = 6


def _finding(console: Console, f: Finding, names: list[str], first_of_rule: bool) -> None:
    head = Text()
    head.append(f"{f.severity.value.upper():7} ", style=_STYLE[f.severity])
    head.append(f"{f.rule} ", style="bold")
    head.append(printable(f.title))
    if f.ms is not None:
        head.append(f"  [{ms(f.ms)} ms, {pct(f.share)}]", style="dim")
    console.print(head)
    if f.layers:
        shown = ", ".join(f"#{i} {printable(names[i])}" for i in f.layers[:3])
        more = f" (+{len(f.layers) - 3} more)" if len(f.layers) > 3 else ""
        console.print(Text(f"    layers: {shown}{more}", overflow="ellipsis", no_wrap=True))
    if f.onnx_nodes:
        shown = ", ".join(printable(n) for n in f.onnx_nodes[:4])
        more = f" (+{len(f.onnx_nodes) - 4} more)" if len(f.onnx_nodes) > 4 else ""
        console.print(Text(f"    ONNX nodes: {shown}{more}", overflow="ellipsis", no_wrap=True))
    for e in f.evidence[:EVIDENCE_LINES]:
        console.print(Text(f"    · {printable(e.text)}", style="dim"))
    if len(f.evidence) > EVIDENCE_LINES:
        console.print(Text(f"    · … {len(f.evidence) - EVIDENCE_LINES} more (see --json)", style="dim"))
    if first_of_rule or f.why != RULES[f.rule].why:
        console.print(Text(f"    why: {f.why}"))
    console.print(Text(f"    fix: {f.advice}", style="bold"))
    console.print(Text(f"    docs: {RULES[f.rule].docs}", style="dim"))


def render_lint(result: LintResult, a: Analysis, console: Console, limit: int | None = None) -> None:
    """Every finding (at most ``limit``), worst first, under a header per severity; then the skipped rules."""
    counts = ", ".join(f"{result.count(s)} {_PLURAL[s]}" for s in Severity)
    console.print(Text(f"trtscope lint: {counts} ({len(result.ran)} rules run, {len(result.skipped)} skipped)",
                       style="bold"))
    names = a.layers["name"].tolist()
    shown = result.findings if limit is None else result.findings[:limit]
    seen: set[str] = set()  # a rule's "why" is printed with its first finding only
    for sev, group in groupby(shown, key=lambda f: f.severity):
        items = list(group)
        console.print()
        console.rule(Text(f"{sev.value} ({result.count(sev)})", style=_STYLE[sev]), align="left")
        for f in items:
            _finding(console, f, names, f.rule not in seen)
            seen.add(f.rule)
    if len(shown) < len(result.findings):
        console.print()
        console.print(Text(f"{len(result.findings) - len(shown)} more findings not shown (--limit; --json has all)",
                           style="dim"))
    if result.skipped:
        console.print()
        by_reason: dict[str, list[str]] = {}
        for rid, why in result.skipped:
            by_reason.setdefault(why, []).append(rid)
        for why, ids in by_reason.items():
            console.print(Text(f"skipped {', '.join(ids)}: {why}", style="dim"))
    if not result.findings:
        console.print(Text("no findings", style="green"))
