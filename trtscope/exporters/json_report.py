"""The machine-readable report (``trtscope report --json``): one JSON document, stable keys.

Documented in docs/json-report.md. NaN becomes null; numpy scalars become Python numbers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from trtscope._version import __version__
from trtscope.analysis.session import Analysis
from trtscope.model.summary import Summary, as_dict

SCHEMA = "trtscope-report/2"


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
    "index", "name", "type", "kind", "in_myelin", "myelin_region", "onnx_nodes", "anchor_node", "anchor_op",
    "mean_ms", "median_ms", "share", "total_ms", "count", "precision", "tactic", "reformat_target", "mapping_source",
    "in_layer_info", "kernel_count", "kernel_ms_per_run",
]


def summary_document(s: Summary) -> dict[str, Any]:
    """``summary``: the headline figures (see docs/json-report.md)."""
    meta = s.metadata
    return {
        "layer_count": s.layer_count,
        "layer_detail": s.layer_detail,
        "layer_kinds": s.layer_kinds,
        "fused_layer_count": s.fused_layer_count,
        "reformat_layer_count": s.reformat_layer_count,
        "myelin_layer_count": s.myelin_layer_count,
        "myelin_region_count": s.myelin_region_count,
        "total_ms": s.total_ms,
        "profile_iterations": s.profile_iterations,
        "onnx_node_count": s.onnx_node_count,
        "fusion_coverage": s.fusion_coverage,
        "fusion_coverage_estimate": s.fusion_coverage_estimate,
        "reformat": as_dict(s.reformat),
        "end_to_end": as_dict(s.end_to_end) if s.end_to_end is not None else None,
        "tensorrt_version": meta.get("tensorrt_version"),
        "gpu": meta.get("gpu"),
        "precision": meta.get("precision"),
    }


def coverage_document(a: Analysis) -> dict[str, Any]:
    """``coverage``: node statuses (a partition), classes, coverage, per op type, the unfused compute nodes."""
    c = a.summary.coverage
    return {
        "onnx_node_count": c.onnx_node_count,
        "exact": c.exact,
        "fusion_coverage": c.fusion_coverage if c.exact else None,
        "fusion_coverage_estimate": c.fusion_coverage if not c.exact else None,
        "status_counts": as_dict(c.status_counts),
        "class_counts": dict(c.class_counts),
        "compute_status_counts": as_dict(c.compute),
        "by_op_type": _records(a.coverage_by_op, list(a.coverage_by_op.columns)),
        "unfused_compute_nodes": _records(a.unfused_nodes(), ["name", "op_type", "layer_indices", "derived_ms"]),
    }


def kernels_document(a: Analysis, top: int) -> dict[str, Any] | None:
    """``kernels``: counts, and the top (kernel, layer, NVTX range) groups with their ONNX nodes."""
    ks = a.summary.kernels
    if ks is None:
        return None
    return {**as_dict(ks), "top": _records(a.kernel_rollup.head(top), list(a.kernel_rollup.columns))}


def figures_document(a: Analysis) -> dict[str, Any]:
    """The headline figures without the tables (``summary``, ``coverage`` counts, ``kernels`` counts): what an
    export's summary.json holds, identical to the same keys of ``report --json``."""
    cov = coverage_document(a)
    cov.pop("by_op_type")
    cov.pop("unfused_compute_nodes")
    doc: dict[str, Any] = {"summary": summary_document(a.summary), "coverage": cov,
                           "op_type_attribution": a.summary.op_type_attribution}
    if a.summary.kernels is not None:
        doc["kernels"] = as_dict(a.summary.kernels)
    return _clean(doc)


def report_document(a: Analysis, top: int = 10, *, include_layers: bool = True) -> dict[str, Any]:
    """The report as a dict (``layers`` last). :func:`report_json` renders the same document faster."""
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "trtscope_version": __version__,
        "sources": [{"path": x.path, "kind": x.kind, "detail": x.detail} for x in a.artifacts.sources],
        "warnings": list(a.warnings),
        "summary": summary_document(a.summary),
        "coverage": coverage_document(a),
        "hotspots": {
            "op_type_attribution": a.summary.op_type_attribution,
            "layers": _records(a.hotspots.head(top), ["rank", "index", "name", "kind", "in_myelin", "mean_ms",
                                                       "median_ms", "share", "cum_share"]),
            "op_types": _records(a.op_hotspots.head(top), list(a.op_hotspots.columns)),
            "unfused": _records(a.unfused_hotspots.head(top), list(a.unfused_hotspots.columns)),
            "reformat_layers": _records(a.reformat_layers.head(top), list(a.reformat_layers.columns)),
        },
    }
    kernels = kernels_document(a, top)
    if kernels is not None:
        doc["kernels"] = kernels
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
    return "".join(report_json_parts(a, top))


#: Layers per piece of the ``layers`` array: big enough for pandas' writer to run at full speed, small enough
#: that a 50,000-layer document (30+ MB) is never held (and encoded) whole.
LAYER_CHUNK = 4096


def report_json_parts(a: Analysis, top: int = 10) -> Iterator[str]:
    """:func:`report_json` in pieces whose concatenation is the document (write them one after the other)."""
    head = dumps(report_document(a, top, include_layers=False))
    cols = [c for c in LAYER_FIELDS if c in a.layers.columns]
    layers = a.layers[cols]
    nodes = layers["onnx_nodes"].tolist()
    if set(map(type, nodes)) != {list}:  # (the analysis gives lists; anything else becomes one, None -> [])
        nodes = [list(x) if isinstance(x, (list, tuple, np.ndarray)) else [] for x in nodes]
        layers = layers.assign(onnx_nodes=pd.Series(nodes, dtype=object, index=layers.index))
    yield head[:-1] + ',"layers":['
    for start in range(0, len(layers), LAYER_CHUNK):
        body = layers.iloc[start : start + LAYER_CHUNK].to_json(orient="records", force_ascii=False,
                                                                  double_precision=15)
        yield ("," if start else "") + body[1:-1]
    yield "]}"


def dumps(doc: dict[str, Any]) -> str:
    """Compact JSON (the C encoder; indenting a 20,000-layer document is ten times slower). Pipe to jq."""
    return json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
