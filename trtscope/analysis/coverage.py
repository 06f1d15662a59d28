"""Fusion coverage: the share of ONNX compute nodes that ran fused, overall and per op type.

Coverage = fused / (fused + unfused) over *compute* nodes (see docs/analysis.md). Absorbed nodes (inside a
Myelin region, named by no layer) and folded nodes are outside the denominator: no layer says what kernel ran
them, so they are neither fusion wins nor losses — they are counted and shown beside the figure. Shape,
constant and Q/DQ nodes are not compute.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trtscope.model.outputs import COVERAGE_BY_OP
from trtscope.model.summary import CoverageSummary, StatusCounts
from trtscope.model.vocabulary import NodeClass, NodeStatus


def status_counts(status: pd.Series) -> StatusCounts:
    vc = status.value_counts()
    return StatusCounts(**{s.value: int(vc.get(s.value, 0)) for s in NodeStatus})


def coverage_summary(nodes: pd.DataFrame, *, exact: bool) -> CoverageSummary:
    """The headline coverage figures. ``exact`` is False when node op types were inferred from names (no
    ONNX model): the figure is then an estimate over the nodes the engine names."""
    compute = nodes["node_class"].eq(NodeClass.COMPUTE.value)
    classes = nodes["node_class"].value_counts()
    c = status_counts(nodes.loc[compute, "status"])
    running = c.fused + c.unfused
    return CoverageSummary(
        onnx_node_count=len(nodes),
        status_counts=status_counts(nodes["status"]),
        class_counts={k.value: int(classes.get(k.value, 0)) for k in NodeClass},
        compute=c,
        fusion_coverage=(c.fused / running) if running else None,
        exact=exact,
    )


COVERAGE_BY_OP_COLUMNS = tuple(COVERAGE_BY_OP.names)


def op_codes(op_types: pd.Series) -> tuple[np.ndarray, list[str | None]]:
    """A code per row for its op type (unknown op types share the last code, labelled None), and the labels.
    Grouping by these codes with ``np.bincount`` is what keeps per-op rollups of 100,000 nodes cheap."""
    codes, uniques = pd.factorize(op_types.astype(object), use_na_sentinel=True)
    k = len(uniques)
    return np.where(codes < 0, k, codes), [*uniques.tolist(), None]


_STATUS_CODES = {s.value: i for i, s in enumerate(NodeStatus)}


def coverage_by_op(nodes: pd.DataFrame) -> pd.DataFrame:
    """One row per op type (None: unknown): node counts per status (summing to ``nodes``), how many ran inside
    Myelin, and coverage = fused / (fused + unfused) for compute op types (NaN otherwise); most nodes first."""
    if nodes.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in COVERAGE_BY_OP_COLUMNS})
    codes, labels = op_codes(nodes["op_type"])
    k = len(labels)
    status = np.fromiter(map(_STATUS_CODES.__getitem__, nodes["status"].tolist()), dtype=np.int64, count=len(nodes))
    per_status = np.bincount(codes * 4 + status, minlength=k * 4).reshape(k, 4)
    total = per_status.sum(axis=1)
    in_myelin = np.bincount(codes, weights=nodes["in_myelin"].to_numpy(dtype=bool), minlength=k).astype(np.int64)
    first = np.zeros(k, dtype=np.int64)
    used, at = np.unique(codes, return_index=True)
    first[used] = at
    classes = nodes["node_class"].to_numpy(dtype=object)[first]
    out = pd.DataFrame({"op_type": pd.Series(labels, dtype=object), "node_class": pd.Series(classes, dtype=object),
                        "nodes": total, **{st.value: per_status[:, i] for i, st in enumerate(NodeStatus)},
                        "in_myelin": in_myelin})
    running = per_status[:, 0] + per_status[:, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = per_status[:, 0] / running
    out["coverage"] = np.where((running > 0) & (classes == NodeClass.COMPUTE.value), cov, np.nan)
    out = out[total > 0]
    key = out["op_type"].fillna("")
    out = out.iloc[np.lexsort((key.to_numpy(dtype=object).astype(str), -out["nodes"].to_numpy()))]
    return out[list(COVERAGE_BY_OP_COLUMNS)].reset_index(drop=True)


def unfused_compute_nodes(nodes: pd.DataFrame) -> pd.DataFrame:
    """Compute nodes with status unfused, most expensive first when times exist."""
    out = nodes[nodes["node_class"].eq(NodeClass.COMPUTE.value) & nodes["status"].eq(NodeStatus.UNFUSED.value)]
    if "derived_ms" in out.columns and out["derived_ms"].notna().any():
        out = out.sort_values("derived_ms", ascending=False, kind="stable", na_position="last")
    return out.reset_index(drop=True)
