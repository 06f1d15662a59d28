"""Layer-level comparisons: kinds, per-op-type time, and the layers that run no ONNX work of their own.

Reformat, Q/DQ, no-op and glue layers have no node of their own to pair through, so they are compared as
groups keyed by where they sit: the ONNX node they serve (paired across the sides by the node matching), the
direction (in front of it: input; behind it: output) and the tensor position. Where they sit is read, best
first, from TensorRT's reformat name (``Reformatting CopyNode for Input Tensor 0 to <layer>``), from the layer
tensors (the layer consuming the output, else producing the input), else from the next layer in engine order
that runs ONNX work (the previous one at the end of the engine).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from trtscope.analysis.diff.frames import build, none_if_nan
from trtscope.analysis.diff.matching import Matching
from trtscope.analysis.diff.sides import Side
from trtscope.model import diff_outputs as dout
from trtscope.model.diff import GroupChange
from trtscope.model.vocabulary import LayerKind

#: Kinds of layers that run no ONNX work of their own.
INSERTED_KINDS = (LayerKind.REFORMAT.value, LayerKind.QDQ.value, LayerKind.NOOP.value, LayerKind.OTHER.value)


def _ms_sum(values: list[float]) -> float:
    """Sum of mean times of a side's layers in one row: 0 when the side has no such layer (it spends nothing
    there, profile or not); NaN when it has some and none is timed (no profile: unknown, never taken as 0)."""
    if not values:
        return 0.0
    known = [v for v in values if v == v]
    return float(sum(known)) if known else float("nan")


def _delta(a: float, b: float) -> float:
    """b - a; NaN when either side's figure is unknown."""
    return b - a


def layer_kinds(a: Side, b: Side) -> pd.DataFrame:
    """DIFF_LAYER_KINDS: layers and time per kind on each side, plus a Myelin row."""
    def per_kind(s: Side) -> dict[str, list[float]]:
        lay = s.an.layers
        out: dict[str, list[float]] = {}
        for kind, myelin, t in zip(lay["kind"].tolist(), lay["in_myelin"].tolist(), lay["mean_ms"].tolist(),
                                   strict=True):
            out.setdefault(kind, []).append(t)
            if myelin:
                out.setdefault("myelin", []).append(t)
        return out

    ka, kb = per_kind(a), per_kind(b)
    kinds = [k for k in [*(k.value for k in LayerKind), "myelin"] if k in ka or k in kb]
    ms_a = [_ms_sum(ka.get(k, [])) for k in kinds]
    ms_b = [_ms_sum(kb.get(k, [])) for k in kinds]
    n_a = [len(ka.get(k, [])) for k in kinds]
    n_b = [len(kb.get(k, [])) for k in kinds]
    return build(dout.DIFF_LAYER_KINDS, {
        "kind": kinds, "layers_a": n_a, "layers_b": n_b, "delta": [y - x for x, y in zip(n_a, n_b, strict=True)],
        "ms_a": ms_a, "ms_b": ms_b, "delta_ms": [y - x for x, y in zip(ms_a, ms_b, strict=True)],
    })


def op_types(a: Side, b: Side) -> pd.DataFrame:
    """DIFF_OP_TYPES: the two sides' op_hotspots joined with their coverage_by_op, by |delta_ms|."""
    def side(s: Side) -> dict[tuple[str | None, str | None], dict[str, Any]]:
        h = s.an.op_hotspots
        cov = s.an.coverage_by_op
        by_op = {none_if_nan(op): (f, u, c) for op, f, u, c in zip(
            cov["op_type"].tolist(), cov["fused"].tolist(), cov["unfused"].tolist(), cov["coverage"].tolist(),
            strict=True)}
        out: dict[tuple[str | None, str | None], dict[str, Any]] = {}
        if s.an.summary.total_ms is None:  # no profile: no op_hotspots; the op types it runs, times unknown
            nan = float("nan")
            for op, (f, u, c) in by_op.items():
                if f + u:
                    out[(op, None)] = {"nodes": f + u, "layers": 0, "ms": nan, "share": nan, "fused": f,
                                       "unfused": u, "coverage": c}
            return out
        for op, lk, nodes, layers, ms, share in zip(
                h["op_type"].tolist(), h["layer_kind"].tolist(), h["nodes"].tolist(), h["layers"].tolist(),
                h["ms"].tolist(), h["share"].tolist(), strict=True):
            op, lk = none_if_nan(op), none_if_nan(lk)
            f, u, c = by_op.get(op, (0, 0, float("nan"))) if lk is None else (0, 0, float("nan"))
            out[(op, lk)] = {"nodes": nodes, "layers": layers, "ms": ms, "share": share, "fused": f,
                             "unfused": u, "coverage": c}
        return out

    sa, sb = side(a), side(b)
    keys = list(dict.fromkeys([*sa, *sb]))
    cols: dict[str, list[Any]] = {"op_type": [k[0] for k in keys], "layer_kind": [k[1] for k in keys]}
    for sfx, side_rows, s in (("a", sa, a), ("b", sb, b)):
        # an op type a profiled side does not run costs it nothing; without a profile its time is unknown
        zero = 0.0 if s.an.summary.total_ms is not None else float("nan")
        empty = {"nodes": 0, "layers": 0, "ms": zero, "share": zero, "fused": 0, "unfused": 0,
                 "coverage": float("nan")}
        for f in empty:
            cols[f"{f}_{sfx}"] = [side_rows.get(k, empty)[f] for k in keys]
    cols["delta_ms"] = [_delta(x, y) for x, y in zip(cols["ms_a"], cols["ms_b"], strict=True)]
    cols["delta_share"] = [_delta(x, y) for x, y in zip(cols["share_a"], cols["share_b"], strict=True)]
    order = sorted(range(len(keys)), key=lambda i: -abs(cols["delta_ms"][i]) if cols["delta_ms"][i] == \
                   cols["delta_ms"][i] else 0.0)
    return build(dout.DIFF_OP_TYPES, {c: [v[i] for i in order] for c, v in cols.items()})


def _placements(s: Side) -> pd.DataFrame:
    """Per layer running no ONNX work: kind, served node row (or layer name), direction, tensor position."""
    layers = s.an.layers
    sel = layers[layers["kind"].isin(INSERTED_KINDS)]
    if sel.empty:
        return pd.DataFrame(columns=["index", "kind", "served_node", "served_layer", "direction", "tensor"])
    row_of = {n: r for r, n in enumerate(s.names)}
    anchor = layers["anchor_node"].tolist()
    first_node = [ns[0] if isinstance(ns, list) and ns else None for ns in layers["onnx_nodes"].tolist()]
    lkind = layers["kind"].tolist()
    work = [k in (LayerKind.FUSED.value, LayerKind.SINGLE.value) for k in lkind]
    first_of_name: dict[str, int] = {}
    for i, n in enumerate(layers["name"].tolist()):
        first_of_name.setdefault(n, i)
    # the layer tensors are read only when a layer's name does not say where it sits (building them for a
    # 20,000-layer engine costs as much as the rest of this comparison)
    needs_tensors = any(not isinstance(t, str) for t in sel["reformat_target"].tolist())
    consumer, producer = _tensor_links(s) if needs_tensors else ({}, {})
    next_work = np.full(len(layers) + 1, -1, dtype=np.int64)
    for i in range(len(layers) - 1, -1, -1):
        next_work[i] = i if work[i] else next_work[i + 1]
    prev_work = np.full(len(layers) + 1, -1, dtype=np.int64)  # prev_work[i + 1]: last work layer <= i
    for i in range(len(layers)):
        prev_work[i + 1] = i if work[i] else prev_work[i]

    names = layers["name"].tolist()

    def node_of(li: int) -> int | None:
        n = anchor[li] if isinstance(anchor[li], str) else first_node[li]
        return row_of.get(n) if n is not None else None

    out = []
    for li, target, direction, tensor in zip(sel["index"].tolist(), sel["reformat_target"].tolist(),
                                             sel["reformat_direction"].tolist(), sel["reformat_tensor"].tolist(),
                                             strict=True):
        served_node: int | None = None
        served_layer: str | None = None
        pos = None if tensor is pd.NA or tensor is None else int(tensor)
        if isinstance(target, str):
            t = first_of_name.get(target)
            served_node = node_of(t) if t is not None else None
            served_layer = None if served_node is not None else target
        elif li in consumer:
            t, pos = consumer[li]
            direction, served_node = "input", node_of(t)
            served_layer = None if served_node is not None else names[t]
        elif li in producer:
            t, pos = producer[li]
            direction, served_node = "output", node_of(t)
            served_layer = None if served_node is not None else names[t]
        elif next_work[li + 1] >= 0:
            direction, served_node = "input", node_of(int(next_work[li + 1]))
        elif prev_work[li] >= 0:
            direction, served_node = "output", node_of(int(prev_work[li]))
        out.append((li, lkind[li], served_node, served_layer, direction, pos))
    return pd.DataFrame(out, columns=["index", "kind", "served_node", "served_layer", "direction", "tensor"])


def _tensor_links(s: Side) -> tuple[dict[int, tuple[int, int]], dict[int, tuple[int, int]]]:
    """For layers running no ONNX work: (first layer consuming its first output, with the input position) and
    (the layer producing its first input, with the output position), from the layer tensors."""
    t = s.an.tensors
    if t is None or t.empty:
        return {}, {}
    kinds = s.an.layers["kind"].to_numpy(dtype=object)
    ins = t[t["direction"] == "input"]
    outs = t[t["direction"] == "output"]
    consumers: dict[str, tuple[int, int]] = {}
    for name, li, pos in zip(ins["name"].tolist(), ins["layer_index"].tolist(), ins["position"].tolist(), strict=True):
        if kinds[li] not in INSERTED_KINDS:
            consumers.setdefault(name, (li, pos))
    producers: dict[str, tuple[int, int]] = {}
    for name, li, pos in zip(outs["name"].tolist(), outs["layer_index"].tolist(), outs["position"].tolist(),
                             strict=True):
        if kinds[li] not in INSERTED_KINDS:
            producers.setdefault(name, (li, pos))
    first_out = outs[outs["position"] == 0]
    first_in = ins[ins["position"] == 0]
    consumer = {li: consumers[n] for n, li in zip(first_out["name"].tolist(), first_out["layer_index"].tolist(),
                                                   strict=True) if kinds[li] in INSERTED_KINDS and n in consumers}
    producer = {li: producers[n] for n, li in zip(first_in["name"].tolist(), first_in["layer_index"].tolist(),
                                                   strict=True) if kinds[li] in INSERTED_KINDS and n in producers}
    return consumer, producer


def _groups(s: Side, pair: np.ndarray, other: Side, is_a: bool) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Per (kind, where, direction, tensor): layers, copying layers, summed time, names, served node names."""
    p = _placements(s)
    layers = s.an.layers
    types = layers["type"].tolist()
    means = layers["mean_ms"].tolist()
    names = layers["name"].tolist()
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for li, kind, node, lname, direction, tensor in zip(
            p["index"].tolist(), p["kind"].tolist(), p["served_node"].tolist(), p["served_layer"].tolist(),
            p["direction"].tolist(), p["tensor"].tolist(), strict=True):
        own = oth = None
        where: str | None = None
        if node is not None and node == node:  # a node row (not None / NaN)
            r = int(node)
            q = int(pair[r])
            own = s.names[r]
            oth = other.names[q] if q >= 0 else None
            a_name = own if is_a else oth
            where = f"n:{a_name}" if a_name is not None else f"{s.letter}:{own}"
        elif isinstance(lname, str):
            where, own, oth = f"l:{lname}", lname, lname
        key = (kind, where, none_if_nan(direction), none_if_nan(tensor))
        g = out.setdefault(key, {"layers": 0, "copying": 0, "ms": [], "names": [], "own": own, "other": oth})
        g["layers"] += 1
        g["copying"] += types[li] != "NoOp"
        g["ms"].append(means[li])
        g["names"].append(names[li])
    return out


def inserted(a: Side, b: Side, m: Matching) -> pd.DataFrame:
    """DIFF_INSERTED: groups of layers running no ONNX work, keyed by kind and where they sit, both sides."""
    ga, gb = _groups(a, m.pair_a, b, True), _groups(b, m.pair_b, a, False)
    keys = list(dict.fromkeys([*ga, *gb]))
    none: dict[str, Any] = {"layers": 0, "copying": 0, "ms": [], "names": [], "own": None, "other": None}
    cols: dict[str, list[Any]] = {c: [] for c in dout.DIFF_INSERTED.names}
    for key in keys:
        xa, xb = ga.get(key, none), gb.get(key, none)
        kind, _, direction, tensor = key
        cols["kind"].append(kind)
        cols["serves"].append(xa["own"] or xb["other"] or xb["own"])
        cols["serves_b"].append(xb["own"] or xa["other"])
        cols["direction"].append(direction)
        cols["tensor"].append(None if tensor is None else int(tensor))
        for sfx, x in (("a", xa), ("b", xb)):
            cols[f"layers_{sfx}"].append(x["layers"])
            cols[f"copying_{sfx}"].append(x["copying"])
            cols[f"ms_{sfx}"].append(_ms_sum(x["ms"]))
            cols[f"layer_names_{sfx}"].append(list(x["names"]))
        cols["delta_ms"].append(_delta(cols["ms_a"][-1], cols["ms_b"][-1]))
        na, nb = xa["layers"], xb["layers"]
        cols["change"].append((GroupChange.NEW if na == 0 else GroupChange.VANISHED if nb == 0 else
                               GroupChange.MORE if nb > na else GroupChange.FEWER if nb < na
                               else GroupChange.SAME).value)
    return build(dout.DIFF_INSERTED, cols)
