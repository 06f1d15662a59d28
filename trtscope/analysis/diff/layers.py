"""Layer-level comparisons: kinds, per-op-type time, and the layers that run no ONNX work of their own.

Reformat, Q/DQ, no-op and glue layers have no node of their own to pair through, so they are compared as
groups keyed by where they sit: the ONNX node they serve (paired across the sides by the node matching), the
direction (in front of it: input; behind it: output) and the tensor position. Where they sit is read, best
first, from TensorRT's reformat name (``Reformatting CopyNode for Input Tensor 0 to <layer>``), from the layer
tensors (the layer consuming the output, else producing the input), else from the next layer in engine order
that runs ONNX work (the previous one at the end of the engine).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trtscope.analysis.diff.frames import tidy
from trtscope.analysis.diff.matching import Matching
from trtscope.analysis.diff.sides import Side
from trtscope.model import diff_outputs as dout
from trtscope.model.diff import GroupChange
from trtscope.model.vocabulary import LayerKind

#: Kinds of layers that run no ONNX work of their own.
INSERTED_KINDS = (LayerKind.REFORMAT.value, LayerKind.QDQ.value, LayerKind.NOOP.value, LayerKind.OTHER.value)
_KEY = ["kind", "serves_key", "direction", "tensor"]
_MISSING = "\x00"  # merge-key stand-in for None (pandas would not join None with None reliably)


def _sum(x: pd.Series) -> float:
    return float(x.sum(min_count=1)) if len(x) else float("nan")


def layer_kinds(a: Side, b: Side) -> pd.DataFrame:
    """DIFF_LAYER_KINDS: layers and time per kind on each side, plus a Myelin row."""
    rows = []
    la, lb = a.an.layers, b.an.layers
    kinds = [k.value for k in LayerKind]
    for kind in kinds:
        sa, sb = la[la["kind"] == kind], lb[lb["kind"] == kind]
        if len(sa) or len(sb):
            rows.append((kind, len(sa), len(sb), _sum(sa["mean_ms"]), _sum(sb["mean_ms"])))
    ma, mb = la[la["in_myelin"]], lb[lb["in_myelin"]]
    if len(ma) or len(mb):
        rows.append(("myelin", len(ma), len(mb), _sum(ma["mean_ms"]), _sum(mb["mean_ms"])))
    df = pd.DataFrame(rows, columns=["kind", "layers_a", "layers_b", "ms_a", "ms_b"])
    df["delta"] = df["layers_b"] - df["layers_a"]
    df["delta_ms"] = df["ms_b"] - df["ms_a"]
    return tidy(df, dout.DIFF_LAYER_KINDS)


def op_types(a: Side, b: Side) -> pd.DataFrame:
    """DIFF_OP_TYPES: the two sides' op_hotspots joined with their coverage_by_op, by |delta_ms|."""
    def side(s: Side, sfx: str) -> pd.DataFrame:
        h = s.an.op_hotspots[["op_type", "layer_kind", "nodes", "layers", "ms", "share"]].copy()
        c = s.an.coverage_by_op[["op_type", "fused", "unfused", "coverage"]]
        h = h.merge(c.assign(layer_kind=None), on=["op_type", "layer_kind"], how="left") if len(c) else \
            h.assign(fused=np.nan, unfused=np.nan, coverage=np.nan)
        for k in ("op_type", "layer_kind"):
            h[k] = h[k].where(h[k].notna(), _MISSING)
        return h.rename(columns={c: f"{c}_{sfx}" for c in h.columns if c not in ("op_type", "layer_kind")})

    df = side(a, "a").merge(side(b, "b"), on=["op_type", "layer_kind"], how="outer", sort=False)
    for k in ("op_type", "layer_kind"):
        df[k] = df[k].where(df[k] != _MISSING, None)
    for c in ("nodes", "layers", "fused", "unfused"):
        for sfx in ("a", "b"):
            df[f"{c}_{sfx}"] = df[f"{c}_{sfx}"].fillna(0).astype(np.int64)
    for sfx in ("a", "b"):
        df[f"ms_{sfx}"] = df[f"ms_{sfx}"].astype(np.float64)
        df[f"share_{sfx}"] = df[f"share_{sfx}"].astype(np.float64)
    df["delta_ms"] = df["ms_b"].fillna(0) - df["ms_a"].fillna(0)
    df.loc[df["ms_a"].isna() & df["ms_b"].isna(), "delta_ms"] = np.nan
    df["delta_share"] = df["share_b"].fillna(0) - df["share_a"].fillna(0)
    df = df.iloc[np.argsort(-df["delta_ms"].abs().fillna(0).to_numpy(), kind="stable")].reset_index(drop=True)
    return tidy(df, dout.DIFF_OP_TYPES)


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
    consumer, producer = _tensor_links(s)
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


def inserted(a: Side, b: Side, m: Matching) -> pd.DataFrame:
    """DIFF_INSERTED: groups of layers running no ONNX work, keyed by kind and where they sit, both sides."""
    def side(s: Side, sfx: str, pair: np.ndarray, other: Side) -> pd.DataFrame:
        p = _placements(s)
        layers = s.an.layers
        p["copying"] = (layers["type"].to_numpy(dtype=object)[p["index"].to_numpy(dtype=np.int64)] != "NoOp") \
            if len(p) else []
        p["ms"] = layers["mean_ms"].to_numpy(dtype=np.float64)[p["index"].to_numpy(dtype=np.int64)] if len(p) else []
        p["layer_name"] = layers["name"].to_numpy(dtype=object)[p["index"].to_numpy(dtype=np.int64)] \
            if len(p) else []
        keys: list[str] = []
        own: list[str | None] = []
        oth: list[str | None] = []
        for node, lname in zip(p["served_node"].tolist(), p["served_layer"].tolist(), strict=True):
            if node is not None and node == node:  # not None / NaN
                r = int(node)
                q = int(pair[r])
                a_name = s.names[r] if sfx == "a" else (other.names[q] if q >= 0 else None)
                keys.append(f"n:{a_name}" if a_name is not None else f"{sfx}:{s.names[r]}")
                own.append(s.names[r])
                oth.append(other.names[q] if q >= 0 else None)
            elif isinstance(lname, str):
                keys.append(f"l:{lname}")
                own.append(lname)
                oth.append(lname)
            else:
                keys.append(_MISSING)
                own.append(None)
                oth.append(None)
        p["serves_key"] = keys
        p["serves_own"] = own
        p["serves_other"] = oth
        p["direction"] = p["direction"].where(p["direction"].notna(), _MISSING)
        p["tensor"] = p["tensor"].where(p["tensor"].notna(), -1).astype(np.int64) if len(p) else []
        g = p.groupby(_KEY, sort=False, dropna=False)
        agg = g.agg(layers=("index", "size"), copying=("copying", "sum"), ms=("ms", _sum),
                    layer_names=("layer_name", list), serves_own=("serves_own", "first"),
                    serves_other=("serves_other", "first")).reset_index()
        return agg.rename(columns={c: f"{c}_{sfx}" for c in agg.columns if c not in _KEY})

    ga = side(a, "a", m.pair_a, b)
    gb = side(b, "b", m.pair_b, a)
    df = ga.merge(gb, on=_KEY, how="outer", sort=False)
    serves: list[str | None] = []
    serves_b: list[str | None] = []
    for key, own_a, oth_b, own_b, oth_a in zip(df["serves_key"].tolist(), df["serves_own_a"].tolist(),
                                               df["serves_other_a"].tolist(), df["serves_own_b"].tolist(),
                                               df["serves_other_b"].tolist(), strict=True):
        if key == _MISSING:
            serves.append(None)
            serves_b.append(None)
            continue
        serves.append(own_a if isinstance(own_a, str) else oth_a if isinstance(oth_a, str) else own_b)
        serves_b.append(own_b if isinstance(own_b, str) else oth_b if isinstance(oth_b, str) else None)
    df["serves"] = serves
    df["serves_b"] = serves_b
    df["direction"] = df["direction"].where(df["direction"] != _MISSING, None)
    df["tensor"] = pd.array([None if t < 0 else int(t) for t in df["tensor"].tolist()], dtype="Int64")
    for c in ("layers", "copying"):
        for sfx in ("a", "b"):
            df[f"{c}_{sfx}"] = df[f"{c}_{sfx}"].fillna(0).astype(np.int64)
    for sfx in ("a", "b"):
        df[f"layer_names_{sfx}"] = [x if isinstance(x, list) else [] for x in df[f"layer_names_{sfx}"].tolist()]
        df[f"ms_{sfx}"] = df[f"ms_{sfx}"].astype(np.float64)
    df["delta_ms"] = df["ms_b"].fillna(0) - df["ms_a"].fillna(0)
    df.loc[df["ms_a"].isna() & df["ms_b"].isna(), "delta_ms"] = np.nan
    na, nb = df["layers_a"].to_numpy(), df["layers_b"].to_numpy()
    df["change"] = np.select([na == 0, nb == 0, nb > na, nb < na],
                             [GroupChange.NEW.value, GroupChange.VANISHED.value, GroupChange.MORE.value,
                              GroupChange.FEWER.value], default=GroupChange.SAME.value).astype(object)
    df = df.drop(columns=["serves_key", "serves_own_a", "serves_other_a", "serves_own_b", "serves_other_b"])
    return tidy(df, dout.DIFF_INSERTED)
