"""Fusion coverage: the share of ONNX compute nodes that ran fused, overall and per op type.

Denominator: compute nodes that run in the engine (status fused / myelin / alone). Nodes TensorRT folded or
eliminated cost nothing and are counted separately; shape and Q/DQ nodes are not compute (see onnx_ops).
A node counts as fused when it shares an engine layer (one kernel) with another ONNX node; inside a Myelin
region that is decided per Myelin layer, not for the region as a whole.
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def _running_compute(nodes: pd.DataFrame) -> pd.Series:
    return nodes["node_class"].eq("compute") & nodes["status"].ne("absent")


def coverage_summary(nodes: pd.DataFrame) -> dict[str, Any]:
    compute = nodes["node_class"].eq("compute")
    running = _running_compute(nodes)
    fused = running & nodes["fused"].astype(bool)
    n_running = int(running.sum())
    status_counts = nodes["status"].value_counts()
    return {
        "onnx_node_count": len(nodes),
        "compute_node_count": int(compute.sum()),
        "running_compute_node_count": n_running,
        "fused_compute_node_count": int(fused.sum()),
        "unfused_compute_node_count": n_running - int(fused.sum()),
        "fusion_coverage": (fused.sum() / n_running) if n_running else None,
        "status_counts": {s: int(status_counts.get(s, 0)) for s in ("fused", "myelin", "alone", "absent")},
        "absent_compute_node_count": int((compute & nodes["status"].eq("absent")).sum()),
    }


def coverage_by_op(nodes: pd.DataFrame) -> pd.DataFrame:
    """One row per op type: node counts by status, compute class, and coverage (None for non-compute ops)."""
    if nodes.empty:
        return pd.DataFrame(
            columns=["op_type", "node_class", "nodes", "fused", "myelin", "alone", "absent", "running", "coverage"]
        )
    df = nodes.assign(op_type=nodes["op_type"].fillna("(unknown)"), running=nodes["status"].ne("absent"))
    df["fused_running"] = df["running"] & df["fused"].astype(bool)
    counts = pd.crosstab(df["op_type"], df["status"]).reindex(
        columns=["fused", "myelin", "alone", "absent"], fill_value=0
    )
    g = df.groupby("op_type", sort=False)
    out = pd.DataFrame(
        {
            "node_class": g["node_class"].first(),
            "nodes": g.size(),
            "running": g["running"].sum(),
            "fused_running": g["fused_running"].sum(),
        }
    ).join(counts)
    out["coverage"] = (out["fused_running"] / out["running"]).where(
        (out["running"] > 0) & out["node_class"].eq("compute")
    )
    out = out.reset_index().rename(columns={"index": "op_type"})
    out = out.sort_values(["nodes", "op_type"], ascending=[False, True], kind="stable").reset_index(drop=True)
    return out[["op_type", "node_class", "nodes", "fused", "myelin", "alone", "absent", "running", "coverage"]]


def unfused_compute_nodes(nodes: pd.DataFrame) -> pd.DataFrame:
    """Compute nodes that run but were fused with nothing, most expensive first when times exist."""
    mask = _running_compute(nodes) & ~nodes["fused"].astype(bool)
    out = nodes[mask]
    if "attributed_ms" in out.columns and out["attributed_ms"].notna().any():
        out = out.sort_values("attributed_ms", ascending=False, kind="stable", na_position="last")
    return out.reset_index(drop=True)
