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


def coverage_by_op(nodes: pd.DataFrame) -> pd.DataFrame:
    """One row per op type (None: op type unknown): node counts per status (summing to ``nodes``), how many
    ran inside Myelin, and coverage = fused / (fused + unfused) for compute op types (NaN otherwise)."""
    if nodes.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in COVERAGE_BY_OP_COLUMNS})
    op = nodes["op_type"].astype(object)
    key = op.where(op.notna(), "\x00")  # group unknown op types together; restored to None below
    counts = pd.crosstab(key, nodes["status"]).reindex(columns=NodeStatus.values(), fill_value=0)
    g = nodes.groupby(key, sort=False)
    out = pd.DataFrame(
        {"node_class": g["node_class"].first(), "nodes": g.size(), "in_myelin": g["in_myelin"].sum()}
    ).join(counts)
    running = out[NodeStatus.FUSED.value] + out[NodeStatus.UNFUSED.value]
    out["coverage"] = (out[NodeStatus.FUSED.value] / running.where(running > 0)).where(
        out["node_class"].eq(NodeClass.COMPUTE.value)
    )
    out = out.rename_axis("op_type").reset_index()
    out = out.sort_values(["nodes", "op_type"], ascending=[False, True], kind="stable").reset_index(drop=True)
    out["op_type"] = out["op_type"].astype(object).where(out["op_type"].ne("\x00"), None)
    for c in ("nodes", "in_myelin", *NodeStatus.values()):
        out[c] = out[c].astype(np.int64)
    return out[list(COVERAGE_BY_OP_COLUMNS)]


def unfused_compute_nodes(nodes: pd.DataFrame) -> pd.DataFrame:
    """Compute nodes with status unfused, most expensive first when times exist."""
    out = nodes[nodes["node_class"].eq(NodeClass.COMPUTE.value) & nodes["status"].eq(NodeStatus.UNFUSED.value)]
    if "derived_ms" in out.columns and out["derived_ms"].notna().any():
        out = out.sort_values("derived_ms", ascending=False, kind="stable", na_position="last")
    return out.reset_index(drop=True)
