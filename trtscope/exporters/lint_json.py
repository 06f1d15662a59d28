"""``trtscope lint --json``: the findings as one JSON document (schema ``trtscope-lint/1``).

Documented in docs/lint/README.md. Each finding: ``rule``, ``name``, ``severity``, ``title``, ``layers`` (layer
indices, most relevant first) with ``layer_names``, ``onnx_nodes``, ``evidence`` (``text`` plus the same fact as
data), ``ms``, ``share``, ``why``, ``advice``, ``docs``.
"""

from __future__ import annotations

from typing import Any

from trtscope._version import __version__
from trtscope.analysis.lint import RULES, LintResult
from trtscope.analysis.session import Analysis
from trtscope.exporters.json_report import _clean, dumps
from trtscope.model.vocabulary import Severity

SCHEMA = "trtscope-lint/1"


def rules_document() -> list[dict[str, Any]]:
    return [{"rule": r.id, "name": r.name, "severity": r.severity.value, "title": r.title, "why": r.why,
             "needs": sorted(n.value for n in r.needs), "docs": r.docs} for r in RULES.values()]


def lint_document(result: LintResult, a: Analysis) -> dict[str, Any]:
    names = a.layers["name"].tolist()
    findings = []
    for f in result.findings:
        findings.append({
            "rule": f.rule,
            "name": RULES[f.rule].name,
            "severity": f.severity.value,
            "title": f.title,
            "layers": list(f.layers),
            "layer_names": [names[i] for i in f.layers],
            "onnx_nodes": list(f.onnx_nodes),
            "evidence": [{"text": e.text, **dict(e.data)} for e in f.evidence],
            "ms": f.ms,
            "share": f.share,
            "why": f.why,
            "advice": f.advice,
            "docs": RULES[f.rule].docs,
        })
    doc = {
        "schema": SCHEMA,
        "trtscope_version": __version__,
        "sources": [{"path": x.path, "kind": x.kind, "detail": x.detail} for x in a.artifacts.sources],
        "warnings": list(a.warnings),
        "counts": {s.value: result.count(s) for s in Severity},
        "rules_run": list(result.ran),
        "skipped": [{"rule": r, "reason": why} for r, why in result.skipped],
        "findings": findings,
    }
    cleaned: dict[str, Any] = _clean(doc)
    return cleaned


def lint_json(result: LintResult, a: Analysis) -> str:
    return dumps(lint_document(result, a))
