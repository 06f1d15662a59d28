"""The machine-readable comparison (``trtscope diff --json``): one JSON document, schema ``trtscope-diff/1``.

Documented in docs/diff.md. Every figure comes from the Diff's summary and tables; nothing is recounted here.
NaN becomes null.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from trtscope._version import __version__
from trtscope.analysis.diff import Diff
from trtscope.analysis.diff.gate import FailOn, Violation
from trtscope.exporters.json_report import _clean, _records, dumps
from trtscope.model import diff_outputs as dout
from trtscope.model.diff import SideFigures
from trtscope.model.summary import as_dict

SCHEMA = "trtscope-diff/1"

_SIDE_FIELDS = ["layer", "layer_index", "status", "precision", "ms", "layer_ms", "fused_with"]


def _side(d: Diff, s: SideFigures, which: str) -> dict[str, Any]:
    an = d.a if which == "a" else d.b
    return {**as_dict(s),
            "sources": [{"path": x.path, "kind": x.kind, "detail": x.detail} for x in an.artifacts.sources]}


def summary_document(d: Diff) -> dict[str, Any]:
    """``summary``: the keys the issue names first, then the rest of the typed summary."""
    s = d.summary
    m = s.match
    return {
        "layers_a": s.a.layers, "layers_b": s.b.layers,
        "nodes_matched": m.matched, "nodes_only_a": m.only_a, "nodes_only_b": m.only_b,
        "fusion_changes": s.fusion_changes, "precision_changes": s.precision_changes,
        "total_ms_a": s.a.total_ms, "total_ms_b": s.b.total_ms,
        "total_ms_delta": s.total_ms_delta, "total_change": s.total_change,
        "e2e_median_ms_a": s.a.e2e_median_ms, "e2e_median_ms_b": s.b.e2e_median_ms, "e2e_change": s.e2e_change,
        "fusion_coverage_a": s.a.fusion_coverage, "fusion_coverage_b": s.b.fusion_coverage,
        "coverage_exact": s.a.coverage_exact and s.b.coverage_exact, "coverage_delta": s.coverage_delta,
        "nodes_exact": m.exact, "nodes_structural": m.structural, "names_shared": m.names_shared,
        "low_confidence_pairs": m.low_confidence,
        "compute_nodes_matched": m.compute_matched, "compute_nodes_only_a": m.compute_only_a,
        "compute_nodes_only_b": m.compute_only_b,
        "newly_unfused": s.newly_unfused, "newly_fused": s.newly_fused, "precision_fallbacks": s.precision_fallbacks,
        "reformats_new": s.reformats_new, "reformats_new_copying": s.reformats_new_copying,
        "reformats_vanished": s.reformats_vanished, "no_change": s.no_change,
    }


def _table(df: pd.DataFrame, names: list[str]) -> list[dict[str, Any]]:
    """Records with plain Python values: nullable integer columns (<NA>) as ints / None."""
    nullable = [c for c in names if isinstance(df[c].dtype, pd.Int64Dtype)]
    if nullable:
        df = df.copy()
        for c in nullable:
            # an object array: a list holding None would make pandas store floats (1.0) again
            values = np.empty(len(df), dtype=object)
            values[:] = [None if v is pd.NA else int(v) for v in df[c].tolist()]
            df[c] = values
    return _records(df, names)


def _nodes(d: Diff, start: int = 0, stop: int | None = None) -> list[dict[str, Any]]:
    recs = _table(d.nodes.iloc[start:stop], dout.DIFF_NODES.names)
    out = []
    for r in recs:
        a = {k: r.pop(f"{k}_a") for k in _SIDE_FIELDS}
        b = {k: r.pop(f"{k}_b") for k in _SIDE_FIELDS}
        r["a"], r["b"] = a, b
        out.append(r)
    return out


def _reformats(d: Diff) -> dict[str, Any]:
    s = d.summary
    return {
        "count_a": s.a.reformat_layers, "count_b": s.b.reformat_layers,
        "copying_a": s.a.reformat_copying, "copying_b": s.b.reformat_copying,
        "ms_a": s.a.reformat_ms, "ms_b": s.b.reformat_ms,
        "new": s.reformats_new, "new_copying": s.reformats_new_copying, "vanished": s.reformats_vanished,
        "groups": _table(d.reformats, dout.DIFF_INSERTED.names),
    }


def diff_document(d: Diff, conditions: list[FailOn] | None = None, violations: list[Violation] | None = None,
                  top: int = 10, *, with_nodes: bool = True) -> dict[str, Any]:
    """The document as a dict: ``changes`` holds the first ``top`` rows of the ranked change list (every node
    is in ``nodes``)."""
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "trtscope_version": __version__,
        "a": _side(d, d.summary.a, "a"),
        "b": _side(d, d.summary.b, "b"),
        "warnings": list(d.warnings),
        "summary": summary_document(d),
    }
    if conditions:
        doc["gate"] = {
            "conditions": [c.text for c in conditions],
            "passed": not violations,
            "violations": [{"condition": v.condition.value, "given": v.text, "observed": v.observed,
                            "threshold": v.threshold, "message": v.message} for v in (violations or [])],
        }
    doc["changes_total"] = len(d.changes)
    doc = _clean(doc)
    # the tables: plain Python values already (NaN -> None per column), not walked again (100,000+ records)
    doc["changes"] = _table(d.changes.head(top), dout.DIFF_CHANGES.names)
    doc["op_types"] = _table(d.op_types, dout.DIFF_OP_TYPES.names)
    doc["layer_kinds"] = _table(d.layer_kinds, dout.DIFF_LAYER_KINDS.names)
    doc["reformats"] = _reformats(d)
    doc["inserted"] = _table(d.inserted, dout.DIFF_INSERTED.names)
    if with_nodes:
        doc["nodes"] = _nodes(d)
    return doc


#: Nodes encoded per chunk: the records of 100,000 nodes never exist as dicts all at once.
_CHUNK = 10_000


def diff_json(d: Diff, conditions: list[FailOn] | None = None, violations: list[Violation] | None = None,
              top: int = 10) -> str:
    """``diff --json``: the document of :func:`diff_document`, its ``nodes`` array encoded chunk by chunk."""
    head = dumps(diff_document(d, conditions, violations, top, with_nodes=False))
    chunks = [dumps({"n": _nodes(d, i, i + _CHUNK)})[6:-2] for i in range(0, len(d.nodes), _CHUNK)]
    return head[:-1] + ',"nodes":[' + ",".join(c for c in chunks if c) + "]}"
