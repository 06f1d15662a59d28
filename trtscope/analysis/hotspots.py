"""Where the time goes: per layer, derived per ONNX node and per op type, unfused hotspots, reformat cost.

Per-layer times are the profile's mean (``averageMs``): measured. Per-node and per-op-type times are *derived*
from them by an attribution rule (:class:`Attribution`):

* ``anchor`` (the default): a layer's whole time goes to its anchor node, the heavy compute op the layer was
  built around (``layers.anchor_node``). A Conv + BatchNorm + Relu layer is convolution time; a weight
  quantizer folded into a convolution gets none. This is what ranks op types the way engineers read them.
* ``split``: a layer's time is split evenly over its nodes.

Either way every timed layer's time is counted exactly once: layers that run ONNX work give it to their nodes,
the others (reformat, no-op, no ONNX source) keep it under their layer kind — so the per-op-type rows sum to
the sum of layer times.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trtscope.analysis.coverage import op_codes
from trtscope.model.outputs import HOTSPOTS, OP_HOTSPOTS, REFORMAT_LAYERS, UNFUSED_HOTSPOTS
from trtscope.model.summary import EndToEnd, ReformatCost, TimeStats
from trtscope.model.vocabulary import Attribution, LayerKind, NodeClass, NodeStatus


def add_shares(layers: pd.DataFrame) -> float | None:
    """Fill ``share`` (0..1 of the sum of mean times) and return that sum (None when no layer has a time)."""
    mean = pd.to_numeric(layers["mean_ms"], errors="coerce").astype("float64")
    timed = np.isfinite(mean.to_numpy())
    if not timed.any():
        layers["share"] = np.nan
        return None
    total = float(mean[timed].sum())
    layers["share"] = mean / total if total > 0 else np.where(timed, 0.0, np.nan)
    return total


HOTSPOT_COLUMNS = tuple(HOTSPOTS.names)


def layer_hotspots(layers: pd.DataFrame) -> pd.DataFrame:
    """Timed layers ranked by mean time, with cumulative share."""
    timed = layers[np.isfinite(layers["mean_ms"].to_numpy(dtype="float64"))]
    out = timed.sort_values("mean_ms", ascending=False, kind="stable").reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out["cum_share"] = out["share"].cumsum()
    return out[list(HOTSPOT_COLUMNS)]


def attribute_to_nodes(nodes: pd.DataFrame, mapping: pd.DataFrame, layers: pd.DataFrame, rule: Attribution) -> None:
    """Fill ``derived_ms`` (the node's part of layer time under ``rule``; sums over nodes to the time of the
    layers that run ONNX work) and ``layers_ms`` (the whole time of every layer the node is in; not additive).

    Vectorised with ``np.bincount`` over the mapping's node numbers (layer ``index`` is its row position).
    """
    size = len(nodes)
    mean_all = layers["mean_ms"].to_numpy(dtype="float64")
    if mapping.empty or not np.isfinite(mean_all).any():
        nodes["derived_ms"] = np.nan
        nodes["layers_ms"] = np.nan
        return
    li = mapping["layer_index"].to_numpy(dtype=np.int64)
    ni = mapping["node_index"].to_numpy(dtype=np.int64)
    mean = mean_all[li]
    timed = np.isfinite(mean)
    anchored = layers["anchor_node"].notna().to_numpy()[li]  # layers that run ONNX work
    if rule is Attribution.ANCHOR:
        weight = np.where(mapping["anchor"].to_numpy(dtype=bool), mean, 0.0)
    else:
        n = np.maximum(layers["n_onnx_nodes"].to_numpy(dtype="float64")[li], 1)
        weight = mean / n
    use = timed & anchored
    derived = np.bincount(ni[use], weights=weight[use], minlength=size)
    whole = np.bincount(ni[timed], weights=mean[timed], minlength=size)
    has = np.bincount(ni[use], minlength=size) > 0
    nodes["derived_ms"] = np.where(has, derived, np.nan)
    nodes["layers_ms"] = np.where(np.bincount(ni[timed], minlength=size) > 0, whole, np.nan)


OP_HOTSPOT_COLUMNS = tuple(OP_HOTSPOTS.names)


def op_type_hotspots(nodes: pd.DataFrame, layers: pd.DataFrame, mapping: pd.DataFrame, total_ms: float | None,
                     rule: Attribution = Attribution.ANCHOR) -> pd.DataFrame:
    """Derived time per ONNX op type (``ms``, ``share`` of the layer sum, ``unfused_ms`` = the part of it spent
    in unfused compute nodes), plus the time of layers that run no ONNX node per layer kind; descending.

    ``nodes`` counts the op type's running nodes; ``layers`` the timed layers whose time it received under
    ``rule`` (anchor: layers anchored on the op type; split: layers holding a node of it).
    """
    cols = list(OP_HOTSPOT_COLUMNS)
    if total_ms is None:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})
    codes, labels = op_codes(nodes["op_type"])
    k = len(labels)
    status = nodes["status"].to_numpy(dtype=object)
    derived = nodes["derived_ms"].to_numpy(dtype="float64")
    running = (status == NodeStatus.FUSED.value) | (status == NodeStatus.UNFUSED.value)
    counted = running | ~np.isnan(derived)
    unfused = (nodes["node_class"].to_numpy(dtype=object) == NodeClass.COMPUTE.value) & \
        (status == NodeStatus.UNFUSED.value)
    d0 = np.nan_to_num(derived)
    n_per = np.bincount(codes[counted], minlength=k)
    ms_per = np.bincount(codes[counted], weights=d0[counted], minlength=k)
    u_per = np.bincount(codes[counted & unfused], weights=d0[counted & unfused], minlength=k)
    mean = layers["mean_ms"].to_numpy(dtype="float64")
    timed = np.isfinite(mean)
    has_anchor = layers["anchor_node"].notna().to_numpy()
    if rule is Attribution.ANCHOR:  # layers anchored on each op type
        li = mapping["layer_index"].to_numpy(dtype=np.int64)
        rows = mapping["anchor"].to_numpy(dtype=bool) & timed[li]
        layer_per = np.bincount(codes[mapping["node_index"].to_numpy(dtype=np.int64)[rows]], minlength=k)
    else:  # layers holding a node of each op type
        li = mapping["layer_index"].to_numpy(dtype=np.int64)
        use = (has_anchor & timed)[li]
        pairs = np.unique(li[use] * (k + 1) + codes[mapping["node_index"].to_numpy(dtype=np.int64)[use]])
        layer_per = np.bincount(pairs % (k + 1), minlength=k)
    keep = n_per > 0
    per_op = pd.DataFrame({"op_type": pd.Series(labels, dtype=object)[keep].to_numpy(dtype=object),
                           "layer_kind": None, "nodes": n_per[keep], "layers": layer_per[keep],
                           "ms": ms_per[keep], "unfused_ms": u_per[keep]})
    rest = layers[~has_anchor & timed]
    if len(rest):
        lg = rest.groupby("kind", sort=False)["mean_ms"].agg(["sum", "size"])
        extra = pd.DataFrame({"op_type": None, "layer_kind": lg.index.astype(object), "nodes": 0,
                              "layers": lg["size"].to_numpy(), "ms": lg["sum"].to_numpy(), "unfused_ms": 0.0})
        per_op = pd.concat([per_op, extra], ignore_index=True)
    per_op["share"] = per_op["ms"] / total_ms if total_ms > 0 else np.nan
    per_op["nodes"] = per_op["nodes"].astype(np.int64)
    per_op["layers"] = per_op["layers"].astype(np.int64)
    out = per_op.sort_values("ms", ascending=False, kind="stable").reset_index(drop=True)
    return out[cols]


UNFUSED_HOTSPOT_COLUMNS = tuple(UNFUSED_HOTSPOTS.names)


def unfused_hotspots(layers: pd.DataFrame, nodes: pd.DataFrame) -> pd.DataFrame:
    """Layers whose anchor is an unfused compute node (status unfused: it fused with nothing anywhere), ranked
    by time. Their times, summed per op type, are ``op_hotspots.unfused_ms`` under anchor attribution."""
    cols = list(UNFUSED_HOTSPOT_COLUMNS)
    unfused = nodes.loc[nodes["node_class"].eq(NodeClass.COMPUTE.value) & nodes["status"].eq(NodeStatus.UNFUSED.value)]
    op_of = dict(zip(unfused["name"].tolist(), unfused["op_type"].tolist(), strict=True))
    anchor = layers["anchor_node"].astype(object)
    keep = anchor.isin(list(op_of)).to_numpy()
    out = layers.loc[keep].copy()
    out["onnx_node"] = out["anchor_node"]
    out["op_type"] = [op_of[n] for n in out["anchor_node"].tolist()]
    out = out.sort_values("mean_ms", ascending=False, kind="stable", na_position="last")
    return out[cols].reset_index(drop=True)


def reformat_cost(layers: pd.DataFrame, total_ms: float | None) -> ReformatCost:
    ref = layers[layers["kind"].eq(LayerKind.REFORMAT.value)]
    elided = int(ref["type"].eq("NoOp").sum())
    ms = float(np.nansum(ref["mean_ms"].to_numpy(dtype="float64"))) if total_ms is not None else None
    return ReformatCost(
        count=len(ref),
        copying_count=len(ref) - elided,
        elided_count=elided,
        total_ms=ms,
        share=(ms / total_ms) if (ms is not None and total_ms) else None,
    )


REFORMAT_LAYER_COLUMNS = tuple(REFORMAT_LAYERS.names)


def reformat_layers(layers: pd.DataFrame) -> pd.DataFrame:
    """Reformat layers, most expensive first (engine order without times): ``direction`` ("input"/"output"),
    ``tensor`` (its position) and ``target`` (the layer it serves) from the name TensorRT gave it; ``elided``
    for NoOp-typed ones, whose copy TensorRT removed."""
    ref = layers[layers["kind"].eq(LayerKind.REFORMAT.value)]
    if ref["mean_ms"].notna().any():
        ref = ref.sort_values("mean_ms", ascending=False, kind="stable", na_position="last")
    out = pd.DataFrame({
        "index": ref["index"].to_numpy(), "name": ref["name"].to_numpy(dtype=object),
        "type": ref["type"].to_numpy(dtype=object), "elided": ref["type"].eq("NoOp").to_numpy(),
        "direction": ref["reformat_direction"].to_numpy(dtype=object), "tensor": ref["reformat_tensor"].array,
        "target": ref["reformat_target"].to_numpy(dtype=object), "mean_ms": ref["mean_ms"].to_numpy(dtype="float64"),
        "share": ref["share"].to_numpy(dtype="float64"),
    })
    return out[list(REFORMAT_LAYER_COLUMNS)]


def _stats(s: pd.Series) -> TimeStats | None:
    if s.empty:
        return None
    q = s.quantile([0.5, 0.9, 0.99])
    return TimeStats(mean_ms=float(s.mean()), median_ms=float(q.loc[0.5]), p90_ms=float(q.loc[0.9]),
                     p99_ms=float(q.loc[0.99]), min_ms=float(s.min()), max_ms=float(s.max()))


def end_to_end(iterations: pd.DataFrame | None, layer_sum_ms: float | None) -> EndToEnd | None:
    """Latency statistics of the timed iterations, and how the per-layer sum compares to GPU compute time."""
    if iterations is None or iterations.empty:
        return None
    lat = _stats(pd.to_numeric(iterations["latency_ms"], errors="coerce").dropna())
    comp = _stats(pd.to_numeric(iterations["compute_ms"], errors="coerce").dropna())
    ref = comp or lat
    ratio = None
    if layer_sum_ms is not None and ref is not None and ref.median_ms > 0:
        ratio = layer_sum_ms / ref.median_ms
    return EndToEnd(iterations=len(iterations), latency=lat, compute=comp,
                    layer_sum_ms=layer_sum_ms if ratio is not None else None, layer_sum_vs_compute=ratio)
