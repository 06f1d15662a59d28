"""The machine-readable report (``trtscope report --json``): one JSON document, stable keys.

Documented in docs/json-report.md. NaN becomes null; numpy scalars become Python numbers.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd

from trtscope import __version__
from trtscope.analysis.session import Analysis

SCHEMA = "trtscope-report/1"


def _clean(v: Any) -> Any:
    if isinstance(v, float):
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(v, (np.floating,)):
        f = float(v)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_clean(x) for x in v]
    if v is pd.NA or v is pd.NaT:
        return None
    return v


def _column(series: pd.Series) -> list[Any]:
    """A column as plain Python values, NaN/NA -> None (vectorised; records are built by zipping columns)."""
    values = series.tolist()
    if series.dtype.kind == "f":
        return [None if v != v or v in (math.inf, -math.inf) else v for v in values]
    if series.dtype == object or series.dtype.kind not in "iub":
        mask = series.isna().tolist() if series.dtype != object else None
        if mask is not None and any(mask):
            return [None if miss else v for v, miss in zip(values, mask, strict=True)]
        return [None if isinstance(v, float) and v != v else v for v in values]
    return values


def _records(df: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    cols = [c for c in columns if c in df.columns]
    data = [_column(df[c]) for c in cols]
    return [dict(zip(cols, row, strict=True)) for row in zip(*data, strict=True)] if cols else []


LAYER_FIELDS = [
    "index", "name", "type", "kind", "onnx_nodes", "mean_ms", "median_ms", "share", "total_ms", "count",
    "precision", "tactic", "myelin_region", "reformat_target", "mapping_source", "in_layer_info",
]


def report_document(a: Analysis, top: int = 10, *, include_layers: bool = True) -> dict[str, Any]:
    """The report as a dict (``layers`` last). :func:`report_json` renders the same document faster."""
    s = a.summary
    meta = s.get("metadata", {})
    unfused = a.unfused_nodes()
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "trtscope_version": __version__,
        "sources": [{"path": x.path, "kind": x.kind, "detail": x.detail} for x in a.artifacts.sources],
        "warnings": list(a.warnings),
        "summary": {
            "layer_count": s["layer_count"],
            "reformat_layer_count": s["reformat_layer_count"],
            "fused_layer_count": s["fused_layer_count"],
            "total_ms": s["total_ms"],
            "onnx_node_count": s["onnx_node_count"],
            "fusion_coverage": s["fusion_coverage"],
            "fusion_coverage_estimate": s["fusion_coverage_estimate"],
            "layer_detail": s["layer_detail"],
            "layer_kinds": s["layer_kinds"],
            "myelin_region_count": s["myelin_region_count"],
            "profile_iterations": s["profile_iterations"],
            "reformat": s["reformat"],
            "end_to_end": s["end_to_end"],
            "tensorrt_version": meta.get("tensorrt_version"),
            "gpu": meta.get("gpu"),
            "precision": meta.get("precision"),
        },
        "coverage": {
            **{k: v for k, v in s["coverage"].items()},
            "by_op_type": _records(a.coverage_by_op, list(a.coverage_by_op.columns)),
            "unfused_compute_nodes": _records(
                unfused, ["name", "op_type", "status", "layer_indices", "attributed_ms"]
            ),
        },
        "hotspots": {
            "layers": _records(a.hotspots.head(top), ["rank", "index", "name", "kind", "mean_ms", "median_ms", "share",
                                                       "cum_share"]),
            "op_types": _records(a.op_hotspots.head(top), list(a.op_hotspots.columns)),
            "unfused": _records(a.unfused_hotspots.head(top), list(a.unfused_hotspots.columns)),
            "reformat_layers": _records(
                a.layers[a.layers["kind"].eq("reformat") & a.layers["mean_ms"].notna()]
                .sort_values("mean_ms", ascending=False).head(top),
                ["index", "name", "type", "mean_ms", "share", "reformat_target"],
            ),
        },
    }
    doc = _clean(doc)
    if include_layers:
        layers = _records(a.layers, LAYER_FIELDS)
        for rec in layers:
            nodes = rec.get("onnx_nodes")
            if not isinstance(nodes, list):
                rec["onnx_nodes"] = list(nodes) if isinstance(nodes, (tuple, np.ndarray)) else []
        doc["layers"] = layers  # already plain Python values; not walked again (20,000+ records)
    return doc


def report_json(a: Analysis, top: int = 10) -> str:
    """``report --json``: the summary parts through ``json``, the (large) layers array through pandas' C
    JSON writer, which is several times faster for 20,000 records."""
    head = dumps(report_document(a, top, include_layers=False))
    cols = [c for c in LAYER_FIELDS if c in a.layers.columns]
    layers = a.layers[cols].copy()
    layers["onnx_nodes"] = [list(x) if isinstance(x, (list, tuple, np.ndarray)) else [] for x in layers["onnx_nodes"]]
    body = layers.to_json(orient="records", force_ascii=False, double_precision=15)
    return head[:-1] + ',"layers":' + body + "}"


def dumps(doc: dict[str, Any]) -> str:
    """Compact JSON (the C encoder; indenting a 20,000-layer document is ten times slower). Pipe to jq."""
    return json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
