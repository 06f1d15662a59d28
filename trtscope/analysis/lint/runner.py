"""Running the rules: selection, skipping what the input cannot support, ordering, and the findings tables."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from trtscope.analysis.lint.base import RANK, RULES, Finding, Need, Rule
from trtscope.analysis.lint.context import LintContext
from trtscope.analysis.session import Analysis
from trtscope.errors import TrtscopeError
from trtscope.gcpause import collector_paused
from trtscope.model.outputs import LINT_FINDINGS, LINT_TARGETS
from trtscope.model.vocabulary import Severity

_NEED_TEXT = {
    Need.LAYERS: "no layer information",
    Need.TENSORS: "no tensor descriptions in the layer information (rebuild with --profilingVerbosity=detailed)",
    Need.PROFILE: "no per-layer profile",
    Need.ONNX: "no ONNX model (pass --onnx)",
    Need.TIMES: "no per-iteration times (trtexec --exportTimes)",
}


@dataclass
class LintResult:
    """The findings (worst first), the rules that ran and those skipped with the reason."""

    findings: list[Finding]
    ran: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (rule id, why)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    @property
    def worst(self) -> Severity | None:
        return self.findings[0].severity if self.findings else None

    def trips(self, fail_on: Severity | str) -> bool:
        """Some finding is at least as bad as ``fail_on`` (what ``--fail-on`` gates on)."""
        level = RANK[Severity(fail_on)]
        return any(RANK[f.severity] <= level for f in self.findings)

    def table(self) -> pd.DataFrame:
        """LINT_FINDINGS: one row per finding (docs/data-model.md)."""
        fs = self.findings
        df = pd.DataFrame({
            "finding": np.arange(len(fs), dtype=np.int64),
            "rule": pd.Series([f.rule for f in fs], dtype=object),
            "rule_name": pd.Series([RULES[f.rule].name for f in fs], dtype=object),
            "severity": pd.Series([f.severity.value for f in fs], dtype=object),
            "title": pd.Series([f.title for f in fs], dtype=object),
            "layers": pd.Series([list(f.layers) for f in fs], dtype=object),
            "onnx_nodes": pd.Series([list(f.onnx_nodes) for f in fs], dtype=object),
            "ms": np.array([_num(f.ms) for f in fs], dtype="float64"),
            "share": np.array([_num(f.share) for f in fs], dtype="float64"),
            "evidence": pd.Series([[e.text for e in f.evidence] for f in fs], dtype=object),
            "why": pd.Series([f.why for f in fs], dtype=object),
            "advice": pd.Series([f.advice for f in fs], dtype=object),
            "docs": pd.Series([RULES[f.rule].docs for f in fs], dtype=object),
        })
        return df[LINT_FINDINGS.names]

    def targets(self) -> pd.DataFrame:
        """LINT_TARGETS: one row per (finding, layer) and per (finding, ONNX node), worst first."""
        cols: dict[str, list[Any]] = {c: [] for c in LINT_TARGETS.names}
        for k, f in enumerate(self.findings):
            rows: list[tuple[int | None, str | None]] = [(i, None) for i in f.layers]
            rows += [(None, n) for n in f.onnx_nodes]
            for layer, node in rows:
                cols["finding"].append(k)
                cols["rule"].append(f.rule)
                cols["severity"].append(f.severity.value)
                cols["title"].append(f.title)
                cols["layer_index"].append(layer)
                cols["node"].append(node)
                cols["ms"].append(_num(f.ms))
        return pd.DataFrame({
            "finding": np.asarray(cols["finding"], dtype=np.int64),
            "rule": pd.Series(cols["rule"], dtype=object),
            "severity": pd.Series(cols["severity"], dtype=object),
            "title": pd.Series(cols["title"], dtype=object),
            "layer_index": pd.array(cols["layer_index"], dtype="Int64"),
            "node": pd.Series(cols["node"], dtype=object),
            "ms": np.asarray(cols["ms"], dtype="float64"),
        })[LINT_TARGETS.names]


def _num(v: float | None) -> float:
    return float(v) if v is not None and math.isfinite(v) else math.nan


def resolve(select: Sequence[str] | None, ignore: Sequence[str] | None) -> list[Rule]:
    """The rules to run: ``select`` (ids or id prefixes such as ``Q``; default all) minus ``ignore``. An id or
    prefix matching no rule is an error: a typo must not silently disable a CI gate."""
    def match(patterns: Iterable[str], flag: str) -> set[str]:
        out: set[str] = set()
        for p in patterns:
            key = p.strip().upper()
            if not key:
                continue
            hit = {r for r in RULES if r.upper().startswith(key) or RULES[r].name == p.strip().lower()}
            if not hit:
                raise TrtscopeError(f"{flag} {p!r}: no such rule (rules: {', '.join(RULES)}; see trtscope lint "
                                    "--list-rules)")
            out |= hit
        return out

    chosen = match(select, "--select") if select else set(RULES)
    dropped = match(ignore, "--ignore") if ignore else set()
    rules = [r for rid, r in RULES.items() if rid in chosen and rid not in dropped]
    if not rules:  # a gate that checks nothing would pass every engine
        raise TrtscopeError("--select / --ignore leave no rule to run (see trtscope lint --list-rules)")
    return rules


def _order(f: Finding) -> tuple[int, float, str, int]:
    ms = f.ms if f.ms is not None and math.isfinite(f.ms) else -1.0
    return (RANK[f.severity], -ms, f.rule, f.layers[0] if f.layers else -1)


def run_rules(a: Analysis, rules: Sequence[Rule]) -> LintResult:
    """Run ``rules`` in order; the cyclic collector is paused meanwhile (the facts built are acyclic; see
    trtscope/gcpause.py)."""
    with collector_paused():
        return _run(a, rules)


def _run(a: Analysis, rules: Sequence[Rule]) -> LintResult:
    ctx = LintContext(a)
    findings: list[Finding] = []
    ran: list[str] = []
    skipped: list[tuple[str, str]] = []
    for r in rules:
        missing = [n for n in sorted(r.needs, key=lambda n: n.value) if not ctx.has(n)]
        if missing:
            skipped.append((r.id, "; ".join(_NEED_TEXT[n] for n in missing)))
            continue
        ran.append(r.id)
        for f in r.check(ctx):
            findings.append(f if f.why else _with_why(f, r.why))
    findings.sort(key=_order)
    return LintResult(findings=findings, ran=ran, skipped=skipped)


def _with_why(f: Finding, why: str) -> Finding:
    from dataclasses import replace

    return replace(f, why=why)
