"""Where the time goes: per layer, rolled up per ONNX node and per op type, unfused hotspots, reformat cost.

Per-layer times are the profile's mean (``averageMs``). A fused layer's time is split evenly among its ONNX
nodes when rolling up per node (``attributed_ms``), so the per-node and per-op totals add up to the layer total
instead of counting a fused layer once per node. Layers with no ONNX source keep their time under their layer
kind (reformat, no-op, other) in the per-op rollup.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def add_shares(layers: pd.DataFrame) -> float | None:
    """Fill ``share`` (0..1 of the sum of mean times) and return that sum (None without a profile)."""
    if not layers["profiled"].any():
        layers["share"] = np.nan
        return None
    total = float(layers["mean_ms"].sum(skipna=True))
    layers["share"] = layers["mean_ms"] / total if total > 0 else np.nan
    return total


def layer_hotspots(layers: pd.DataFrame) -> pd.DataFrame:
    """Layers ranked by mean time, with cumulative share."""
    cols = ["index", "name", "kind", "type", "onnx_nodes", "mean_ms", "median_ms", "share"]
    timed = layers[layers["mean_ms"].notna()]
    out = timed.sort_values("mean_ms", ascending=False, kind="stable")[cols].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out["cum_share"] = out["share"].cumsum()
    return out


def attribute_to_nodes(nodes: pd.DataFrame, mapping: pd.DataFrame, layers: pd.DataFrame) -> None:
    """Fill ``attributed_ms`` (even split of each layer's mean) and ``layers_ms`` (sum of whole layers).

    Vectorised with ``np.bincount`` over the mapping's node numbers (layer ``index`` is its row position).
    """
    if mapping.empty or not layers["profiled"].any():
        nodes["attributed_ms"] = np.nan
        nodes["layers_ms"] = np.nan
        return
    li = mapping["layer_index"].to_numpy(dtype=np.int64)
    ni = mapping["node_index"].to_numpy(dtype=np.int64)
    mean = layers["mean_ms"].to_numpy(dtype="float64")[li]
    n = np.maximum(layers["n_onnx_nodes"].to_numpy(dtype="float64")[li], 1)
    timed = ~np.isnan(mean)
    size = len(nodes)
    split = np.bincount(ni[timed], weights=(mean / n)[timed], minlength=size)
    whole = np.bincount(ni[timed], weights=mean[timed], minlength=size)
    has = np.bincount(ni[timed], minlength=size) > 0
    nodes["attributed_ms"] = np.where(has, split, np.nan)
    nodes["layers_ms"] = np.where(has, whole, np.nan)


def op_type_hotspots(nodes: pd.DataFrame, layers: pd.DataFrame, total_ms: float | None) -> pd.DataFrame:
    """Time per ONNX op type (plus unmapped layer kinds), descending."""
    cols = ["op_type", "ms", "share", "nodes", "unfused_ms"]
    if total_ms is None:
        return pd.DataFrame(columns=cols)
    df = nodes.assign(op_type=nodes["op_type"].fillna("(unknown op)"))
    df["unfused"] = df["attributed_ms"].where(df["status"].eq("alone"))
    g = df.groupby("op_type", sort=False)
    per_op = pd.DataFrame(
        {"ms": g["attributed_ms"].sum(min_count=1), "nodes": g.size(), "unfused_ms": g["unfused"].sum()}
    )
    unmapped = layers[(layers["n_onnx_nodes"] == 0) & layers["mean_ms"].notna()]
    if len(unmapped):
        lg = unmapped.groupby("kind", sort=False)["mean_ms"].sum()
        extra = pd.DataFrame(
            {"ms": lg.to_numpy(), "nodes": 0, "unfused_ms": 0.0},
            index=[f"[{k} layers]" for k in lg.index],
        )
        per_op = pd.concat([per_op, extra])
    per_op = per_op[per_op["ms"].notna()]
    per_op["share"] = per_op["ms"] / total_ms if total_ms > 0 else np.nan
    out = per_op.sort_values("ms", ascending=False, kind="stable").reset_index(names="op_type")
    return out[cols]


def unfused_hotspots(layers: pd.DataFrame, nodes: pd.DataFrame, mapping: pd.DataFrame) -> pd.DataFrame:
    """Layers of one unfused ONNX compute node (plain, or a single-node Myelin layer), ranked by time.

    "Unfused" is the coverage's definition: a node that shares no running layer with another node. A node
    split over several Myelin layers, one of them shared, is fused — its single-node kernels are not listed.
    """
    cols = ["index", "name", "onnx_node", "op_type", "type", "kind", "mean_ms", "median_ms", "share"]
    single = (layers["kind"].isin(["single", "myelin"]) & layers["n_onnx_nodes"].eq(1)).to_numpy()
    node_of_layer = np.full(len(layers), -1, dtype=np.int64)
    node_of_layer[mapping["layer_index"].to_numpy(dtype=np.int64)] = mapping["node_index"].to_numpy(dtype=np.int64)
    unfused_node = (nodes["node_class"].eq("compute") & ~nodes["fused"].astype(bool)).to_numpy()
    j = node_of_layer[single]
    keep = np.zeros(len(layers), dtype=bool)
    keep[np.nonzero(single)[0][unfused_node[j]]] = True
    out = layers.loc[keep].copy()
    ix = node_of_layer[keep]
    out["onnx_node"] = nodes["name"].to_numpy(dtype=object)[ix]
    out["op_type"] = nodes["op_type"].to_numpy(dtype=object)[ix]
    out = out.sort_values("mean_ms", ascending=False, kind="stable", na_position="last")
    return out[cols].reset_index(drop=True)


def reformat_cost(layers: pd.DataFrame, total_ms: float | None) -> dict[str, Any]:
    ref = layers[layers["kind"].eq("reformat")]
    real = ref[~ref["type"].eq("NoOp")]
    ms = float(ref["mean_ms"].sum()) if total_ms is not None else None
    return {
        "count": len(ref),
        "elided_count": int(ref["type"].eq("NoOp").sum()),
        "copying_count": len(real),
        "total_ms": ms,
        "share": (ms / total_ms) if (ms is not None and total_ms) else None,
    }


def end_to_end(iterations: pd.DataFrame | None, layer_sum_ms: float | None) -> dict[str, Any] | None:
    """Latency statistics of the timed iterations, and how the per-layer sum compares to GPU compute time."""
    if iterations is None or iterations.empty:
        return None
    lat = pd.to_numeric(iterations["latency_ms"], errors="coerce").dropna()
    comp = pd.to_numeric(iterations["compute_ms"], errors="coerce").dropna()

    def stats(s: pd.Series) -> dict[str, float] | None:
        if s.empty:
            return None
        q = s.quantile([0.5, 0.9, 0.99])
        return {
            "mean_ms": float(s.mean()),
            "median_ms": float(q.loc[0.5]),
            "p90_ms": float(q.loc[0.9]),
            "p99_ms": float(q.loc[0.99]),
            "min_ms": float(s.min()),
            "max_ms": float(s.max()),
        }

    out: dict[str, Any] = {"iterations": len(iterations), "latency": stats(lat), "compute": stats(comp)}
    ref = out["compute"] or out["latency"]
    if layer_sum_ms is not None and ref is not None and ref["median_ms"] > 0:
        out["layer_sum_ms"] = layer_sum_ms
        out["layer_sum_vs_compute"] = layer_sum_ms / ref["median_ms"]
    return out
