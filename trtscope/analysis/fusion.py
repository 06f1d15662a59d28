"""Which ONNX nodes each engine layer came from, what kind of layer it is, and what became of every node.

The mapping is many-to-many: a fused layer holds several nodes, and in TensorRT 10+ one node can be spread
over several Myelin layers. Sources, best first: the layer's ``Metadata`` (exact, 8.6+/10+); a verbose build
log's ``ForeignNode ... metadata:`` line; the ``" + "`` pieces of the layer name that are ONNX nodes (with the
ONNX graph: exact; without it: pieces that are neither weights nor TensorRT helper names); a
``{ForeignNode[first...last]}`` range resolved through the ONNX graph.
"""

from __future__ import annotations

from collections import ChainMap
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from trtscope.analysis.graph_walk import GraphWalk
from trtscope.analysis.onnx_ops import KNOWN_OPS, anchor_priorities, node_class
from trtscope.analysis.regions import absorbed_nodes
from trtscope.model import names as nm
from trtscope.model.artifacts import LayerInfo, LayerProfile, OnnxGraph
from trtscope.model.tables import LAYER_COLUMNS, frame
from trtscope.model.vocabulary import LayerKind, NodeClass, NodeStatus

#: LayerTypes that move no data or only synchronise (TREx and NVIDIA's analyzer drop or fold them).
NOOP_TYPES = frozenset({"NoOp", "Constant", "shape_call", "signal", "wait", "reshape", "TrainStation"})
#: Layer kinds that run the work of their ONNX nodes (a reformat or no-op layer may name a node it serves).
_RUNNING_KINDS = frozenset({LayerKind.FUSED, LayerKind.SINGLE, LayerKind.QDQ})
#: Node classes whose presence makes a layer a fusion (pure shape / constant ops do not).
_SUBSTANTIVE = frozenset({NodeClass.COMPUTE, NodeClass.QDQ})


@dataclass
class FusionResult:
    """``layers`` (LAYER columns + kind, in_myelin, myelin_region, onnx_nodes, anchor...), ``onnx_nodes``
    (status, node_class, in_myelin, layer_indices...), ``mapping`` (layer <-> node pairs); see docs/data-model.md."""

    layers: pd.DataFrame
    onnx_nodes: pd.DataFrame
    mapping: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def _base_layers(info: LayerInfo | None, profile: LayerProfile | None) -> pd.DataFrame:
    if info is not None:
        layers = info.layers.copy()
        layers["in_layer_info"] = True
    else:
        names = profile.times["name"].tolist() if profile is not None else []
        rows = [(i, n, "", None, None, None, None, None, None, None) for i, n in enumerate(names)]
        layers = frame(rows, LAYER_COLUMNS)
        layers["in_layer_info"] = False
    layers["occurrence"] = layers.groupby("name", sort=False).cumcount() if len(layers) else []
    return layers


def _join_profile(layers: pd.DataFrame, profile: LayerProfile | None, warnings: list[str]) -> pd.DataFrame:
    cols = ["count", "total_ms", "mean_ms", "median_ms", "percentage"]
    if profile is None:
        for c in cols:
            layers[c] = np.nan
        layers["profiled"] = False
        return layers
    prof = profile.times[["name", "occurrence", *cols]].copy()
    if prof["name"].tolist() == layers["name"].tolist():
        # the usual case: trtexec and IProfiler list the layers in engine order, so no join is needed
        for c in cols:
            layers[c] = pd.to_numeric(prof[c], errors="coerce").astype("float64").to_numpy()
        layers["profiled"] = True
        return layers
    prof["profiled"] = True
    merged = layers.merge(prof, on=["name", "occurrence"], how="left", sort=False)
    merged["profiled"] = merged["profiled"].eq(True)
    key = set(zip(layers["name"].tolist(), layers["occurrence"].tolist(), strict=True))
    extra = prof[[k not in key for k in zip(prof["name"].tolist(), prof["occurrence"].tolist(), strict=True)]]
    if len(extra) and layers["in_layer_info"].any():
        warnings.append(
            f"{len(extra)} profiled layers are not in the layer information (listed as profile-only layers): "
            + ", ".join(repr(n) for n in extra["name"].head(3))
            + (" ..." if len(extra) > 3 else "")
        )
        add = extra.copy()
        add["index"] = np.arange(len(merged), len(merged) + len(add))
        add["type"] = ""
        add["in_layer_info"] = False
        merged = pd.concat([merged, add], ignore_index=True, sort=False)
    unprofiled = int((~merged["profiled"]).sum())
    if unprofiled and len(prof):
        warnings.append(f"{unprofiled} layers have no entry in the profile {profile.source}")
    for c in ("count", "total_ms", "mean_ms", "median_ms", "percentage"):
        merged[c] = pd.to_numeric(merged[c], errors="coerce").astype("float64")
    return merged


def _layer_nodes(
    name: str,
    metadata: str | None,
    origin: str | None,
    graph: GraphWalk | None,
    foreign: dict[str, list[str]],
    warnings: list[str],
) -> tuple[list[str], str]:
    """(ONNX node names, how they were found) for one layer."""
    if metadata:
        entries = nm.metadata_entries(metadata)
        if entries:
            out: dict[str, None] = {}
            for e in entries:
                if " | " in e:  # an ONNX local function: prefer the name the graph knows (the caller)
                    cands = nm.entry_candidates(e)
                    e = next((c for c in cands if c in graph.index), cands[0]) if graph is not None else cands[0]
                out[e] = None
            return list(out), "metadata"
    known = graph is not None and name in graph.index  # (the graph decides, whatever the name's form)
    if origin == "REFORMAT" or (nm.reformat_target(name) is not None and not known):
        return [], "inserted"
    if nm.is_foreign_node_layer(name):
        if name in foreign:
            return list(dict.fromkeys(foreign[name])), "log_metadata"
        ends = nm.foreign_node(name)
        assert ends is not None
        first, last = ends
        if graph is not None:
            f = graph.locate(first, "first")
            la = graph.locate(last, "last")
            if f is not None and la is not None:
                idx = graph.between(f, la) or list(range(min(f, la), max(f, la) + 1))
                return [graph.names[i] for i in idx], "foreign_range"
            found = [graph.names[i] for i in (f, la) if i is not None]
            warnings.append(f"could not resolve the interior of {name} through the ONNX graph (ends not found)")
            return list(dict.fromkeys(found)), "foreign_ends"
        pieces = [p for e in (first, last) for p in nm.name_parts(e)]
        return list(dict.fromkeys(_node_like(pieces))), "foreign_ends"
    myl = nm.myelin_parts(name)
    if myl is not None:
        src = myl[0]
        if graph is not None:
            return ([src] if src in graph.index else []), "myelin_name"
        return ([] if nm.is_internal_name(src) else [src]), "myelin_name"
    parts = nm.name_parts(name, graph.index if graph is not None else ())
    if graph is not None:
        hits = [p for p in parts if p in graph.index]
        if len(hits) < len(parts):
            graph.unmatched += len(_node_like([p for p in parts if p not in graph.index]))
        graph.matched += len(hits)
        return list(dict.fromkeys(hits)), "name"
    return list(dict.fromkeys(_node_like(parts))), "name"


_META_PREFIX = "[ONNX Layer: "
_META_JOIN = "]\x1f" + _META_PREFIX


def _all_layer_nodes(
    names: list[str],
    mds: list[str | None],
    origins: list[str | None],
    graph: GraphWalk | None,
    foreign: dict[str, list[str]],
    warnings: list[str],
) -> tuple[list[list[str]], list[str]]:
    """(node names, how they were found) per layer: :func:`_layer_nodes` for each layer, except that Metadata in
    its plain form (``[ONNX Layer: a]<0x1F>[ONNX Layer: b]``, no function stacks, each node once) — nearly
    every layer of a 10+ engine — is split for all layers at once, in a few C-level string calls."""
    plain = [
        m is not None and m.startswith(_META_PREFIX) and m.endswith("]") and "\x1e" not in m and " | " not in m
        for m in mds
    ]
    fast = [m for m, ok in zip(mds, plain, strict=True) if ok]
    nodes_of: list[list[str]] = []
    if fast:
        big = "\x1f".join(fast)  # type: ignore[arg-type]
        parts = big[len(_META_PREFIX) : -1].split(_META_JOIN)
        # Per layer, the prefix count >= its parts and the separator count >= parts - 1: equal sums mean every
        # layer is in the plain form (no stray marker or separator inside an entry).
        if big.count(_META_PREFIX) == len(parts) and big.count("\x1f") == len(parts) - 1:
            ends = np.cumsum([m.count("\x1f") + 1 for m in fast]).tolist()  # type: ignore[union-attr]
            nodes_of = [parts[a:b] for a, b in zip([0, *ends][:-1], ends, strict=True)]
            if any(len(set(x)) < len(x) for x in nodes_of if len(x) > 1):
                nodes_of = [list(dict.fromkeys(x)) for x in nodes_of]
        else:
            plain = [False] * len(mds)
    node_lists: list[list[str]] = []
    sources: list[str] = []
    it = iter(nodes_of)
    for name, md, origin, ok in zip(names, mds, origins, plain, strict=True):
        if ok:
            node_lists.append(next(it))
            sources.append("metadata")
        else:
            nodes, src = _layer_nodes(name, md, origin, graph, foreign, warnings)
            node_lists.append(nodes)
            sources.append(src)
    return node_lists, sources


def _node_like(parts: list[str]) -> list[str]:
    return [p for p in parts if not nm.is_internal_name(p) and not nm.looks_like_weight(p)]


def _is_myelin(name: str, ltype: str) -> tuple[bool, str | None]:
    myl = nm.myelin_parts(name)
    if myl is not None:
        return True, f"myl{myl[1]}"
    if ltype in nm.MYELIN_TYPES or nm.is_foreign_node_layer(name) or name.startswith(("__myl", "__mye")):
        return True, name
    return False, None


class OpLookup:
    """Op type (and class) of a node name: from the ONNX graph, else guessed from the name (cached)."""

    def __init__(self, graph: GraphWalk | None) -> None:
        self.graph = graph
        self.guessed: dict[str, str | None] = {}
        self._classes: dict[str | None, NodeClass] = {}

    def __call__(self, name: str) -> str | None:
        g = self.graph
        if g is not None:
            i = g.index.get(name)
            if i is not None:
                return g.op_types[i]
        if name not in self.guessed:
            self.guessed[name] = nm.op_type_from_name(name, KNOWN_OPS)
        return self.guessed[name]

    def node_class(self, name: str) -> NodeClass:
        op = self(name)
        c = self._classes.get(op)
        if c is None:
            c = self._classes[op] = node_class(op)
        return c


# per-node flags gathered over the layers
_LIVE, _FUSED, _MYELIN, _PRESENT = 1, 2, 4, 8
_CLASS_CODES = {c.value: i for i, c in enumerate(NodeClass)}
_SUBSTANTIVE_CODES = np.array([c in _SUBSTANTIVE for c in NodeClass], dtype=bool)
_QDQ_CODE = _CLASS_CODES[NodeClass.QDQ.value]
#: LayerTypes a layer made only of Q/DQ nodes has when TensorRT turned the Q/DQ pair into a conversion
_QDQ_CARRIER_TYPES = frozenset({"Reformat", "NoOp", ""})


def analyze_fusion(
    info: LayerInfo | None, profile: LayerProfile | None, onnx: OnnxGraph | None
) -> FusionResult:
    """One pass over the layers builds the mapping; kinds, anchors and node flags are then vectorised.

    Plain dicts and lists in the pass, arrays after it, no pandas group-bys: keys are names, and 20,000 layers
    x 100,000 nodes must stay well under a second.
    """
    warnings: list[str] = []
    layers = _base_layers(info, profile)
    layers = _join_profile(layers, profile, warnings)
    graph = GraphWalk(onnx) if onnx is not None else None
    foreign = info.foreign_nodes if info is not None else {}
    op_of = OpLookup(graph)

    # Nodes are numbered once, by their index in the ONNX graph (names the graph lacks are numbered after it),
    # so every later per-node step works on arrays instead of hashing 100,000 names again.
    index: dict[str, int] = graph.index if graph is not None else {}
    n_graph = len(index)
    extra_id: dict[str, int] = {}  # names the graph lacks -> their numbers (the graph's index is not copied)
    extra_names: list[str] = []
    names = layers["name"].tolist()
    mds = [m if isinstance(m, str) else None for m in layers["metadata"].tolist()]
    origins = [o if isinstance(o, str) else None for o in layers["origin"].tolist()]
    ltypes = [t if isinstance(t, str) else "" for t in layers["type"].tolist()]
    node_lists, sources = _all_layer_nodes(names, mds, origins, graph, foreign, warnings)
    myl = [_is_myelin(n, t) for n, t in zip(names, ltypes, strict=True)]
    in_myelin = [m[0] for m in myl]
    regions = [m[1] for m in myl]
    known = graph.index if graph is not None else {}  # (a name the ONNX graph has is its node, whatever its form)
    targets = [nm.reformat_target(n) if nm.is_reformat_name(n) and n not in known else None for n in names]
    # what the layer is before its nodes are looked at: 1 QDQ origin, 2 reformat, 3 no-op
    pre = [1 if o == "QDQ" else 2 if (o == "REFORMAT" or rt is not None) else 3 if t in NOOP_TYPES else 0
           for o, rt, t in zip(origins, targets, ltypes, strict=True)]
    carrier = [t in _QDQ_CARRIER_TYPES for t in ltypes]  # a LayerType that makes an all-Q/DQ layer a Q/DQ layer
    flat = list(chain.from_iterable(node_lists))
    map_node: list[Any] = list(map(index.get, flat))
    if None in map_node:  # names the graph lacks: numbered after it, in order of first mention
        for k, (n, j) in enumerate(zip(flat, map_node, strict=True)):
            if j is None:
                j = extra_id.get(n)
                if j is None:
                    j = extra_id[n] = n_graph + len(extra_names)
                    extra_names.append(n)
                map_node[k] = j
    del flat

    # Nodes the builder listed for a Myelin region but no layer names are numbered too (they may be absorbed).
    for listed in foreign.values():
        for n in listed:
            if n not in index and n not in extra_id:
                extra_id[n] = n_graph + len(extra_names)
                extra_names.append(n)

    if graph is not None and graph.unmatched > graph.matched:
        warnings.append(
            f"{graph.unmatched} layer-name pieces that look like ONNX node names are not in {graph.g.source} "
            f"(only {graph.matched} are): is it the model this engine was built from?"
        )
    nodes_df = _node_table(onnx, extra_names, op_of, warnings)
    n_nodes = len(nodes_df)
    node_class = np.fromiter(map(_CLASS_CODES.__getitem__, nodes_df["node_class"].tolist()), dtype=np.int64,
                             count=len(nodes_df))

    # Per mapping row, then per layer, then per node: arrays from here on.
    n_layers = len(node_lists)
    counts = np.fromiter(map(len, node_lists), dtype=np.int64, count=n_layers)
    node_ix = np.asarray(map_node, dtype=np.int64)
    row_layer = np.repeat(np.arange(n_layers, dtype=np.int64), counts)  # layer position == layers.index
    row_class = node_class[node_ix]
    n_sub = np.bincount(row_layer, weights=_SUBSTANTIVE_CODES[row_class], minlength=n_layers)
    n_qdq = np.bincount(row_layer, weights=row_class == _QDQ_CODE, minlength=n_layers)
    pre_a = np.asarray(pre, dtype=np.int64)
    kind = np.select(
        [pre_a == 1, (counts > 0) & np.asarray(carrier, dtype=bool) & (n_qdq == counts), pre_a == 2, pre_a == 3,
         counts == 0, n_sub >= 2],
        [LayerKind.QDQ.value, LayerKind.QDQ.value, LayerKind.REFORMAT.value, LayerKind.NOOP.value,
         LayerKind.OTHER.value, LayerKind.FUSED.value],
        default=LayerKind.SINGLE.value,
    ).astype(object)
    runs = np.isin(kind, [k.value for k in _RUNNING_KINDS])
    fused = kind == LayerKind.FUSED.value
    myelin = np.asarray(in_myelin, dtype=bool)
    layer_flags = _PRESENT | np.where(runs, _LIVE, 0) | np.where(fused, _FUSED, 0) | np.where(myelin, _MYELIN, 0)
    flags = np.zeros(n_nodes, dtype=np.int64)
    np.bitwise_or.at(flags, node_ix, np.repeat(layer_flags, counts))

    # The anchor of a running layer: its row of lowest anchor priority, the first such in the layer's order.
    offsets = np.arange(len(node_ix)) - np.repeat(np.cumsum(counts) - counts, counts)
    priority = anchor_priorities(nodes_df["op_type"])[node_ix]
    order = np.lexsort((offsets, priority, row_layer))
    first = np.ones(len(order), dtype=bool)
    first[1:] = row_layer[order][1:] != row_layer[order][:-1]
    is_anchor = np.zeros(len(node_ix), dtype=bool)
    is_anchor[order[first]] = True
    is_anchor &= runs[row_layer]
    anchor_rows = np.flatnonzero(is_anchor)
    anchor_node = np.full(n_layers, None, dtype=object)
    anchor_op = np.full(n_layers, None, dtype=object)
    node_names = nodes_df["name"].to_numpy(dtype=object)
    if len(anchor_rows):
        anchor_node[row_layer[anchor_rows]] = node_names[node_ix[anchor_rows]]
        anchor_op[row_layer[anchor_rows]] = nodes_df["op_type"].to_numpy(dtype=object)[node_ix[anchor_rows]]

    per_node = np.bincount(node_ix, minlength=n_nodes)
    grouped = row_layer[np.argsort(node_ix, kind="stable")].tolist()
    node_ends = np.cumsum(per_node).tolist()
    layers_of = [grouped[a:b] for a, b in zip([0, *node_ends][:-1], node_ends, strict=True)]

    absorbed = absorbed_nodes(n_graph, ChainMap(extra_id, index), (flags & _LIVE) != 0,
                              nodes_df["node_class"].tolist(), row_layer, node_ix, regions, foreign)
    # Each layer's node names as the node table's own strings (equal to the ones split from Metadata, which
    # are then freed: on a 50,000-layer engine that is a copy of every node name less to hold).
    ends = np.cumsum(counts).tolist()
    canonical = node_names[node_ix].tolist()
    node_lists = [canonical[a:b] for a, b in zip([0, *ends][:-1], ends, strict=True)]
    _statuses(nodes_df, flags, layers_of, absorbed)
    idx = layers.index
    new_columns = pd.DataFrame(
        {
            "onnx_nodes": pd.Series(node_lists, dtype=object, index=idx),
            "n_onnx_nodes": counts,
            "mapping_source": pd.Series(sources, dtype=object, index=idx),
            "in_myelin": myelin,
            "myelin_region": pd.Series(regions, dtype=object, index=idx),
            "reformat_direction": pd.Series([t[0].lower() if t else None for t in targets], dtype=object, index=idx),
            "reformat_tensor": pd.array([t[1] if t else None for t in targets], dtype="Int64"),
            "reformat_target": pd.Series([t[2] if t else None for t in targets], dtype=object, index=idx),
            "kind": pd.Series(kind, dtype=object, index=idx),
            "anchor_node": pd.Series(anchor_node, dtype=object, index=idx),
            "anchor_op": pd.Series(anchor_op, dtype=object, index=idx),
        },
        index=idx,
    )
    layers = pd.concat([layers, new_columns], axis=1)
    mapping = pd.DataFrame(
        {
            "layer_index": row_layer,
            "layer_name": pd.Series(layers["name"].to_numpy(dtype=object)[row_layer], dtype=object),
            "node_name": pd.Series(node_names[node_ix] if len(node_ix) else [], dtype=object),
            "node_index": node_ix,
            "source": pd.Series(np.repeat(np.asarray(sources, dtype=object), counts), dtype=object),
            "in_onnx": node_ix < n_graph,
            "anchor": is_anchor,
        }
    )
    return FusionResult(layers=layers, onnx_nodes=nodes_df, mapping=mapping, warnings=_dedupe(warnings))


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _node_table(onnx: OnnxGraph | None, extra: list[str], op_of: OpLookup, warnings: list[str]) -> pd.DataFrame:
    """ONNX nodes: the graph's (when given) followed by the engine-referenced names it lacks, whose op types
    are guessed from the names; without a graph, just the names the engine references."""
    if onnx is not None:
        names = onnx.nodes["name"].tolist()
        ops = onnx.nodes["op_type"].tolist()
        domains = onnx.nodes["domain"].tolist()
        if extra:
            warnings.append(
                f"{len(extra)} ONNX node names the engine references are not in {onnx.source} "
                f"(a different model version?): " + ", ".join(repr(n) for n in extra[:3])
                + (" ..." if len(extra) > 3 else "")
            )
        n_graph = len(names)
        guessed = [op_of(n) for n in extra]
        op_src: list[str | None] = [*(["onnx"] * n_graph), *(["name" if op else None for op in guessed])]
        names = names + extra
        ops = ops + guessed
        domains = domains + [""] * len(extra)
    else:
        n_graph = 0
        names = list(extra)
        ops = [op_of(n) for n in names]
        domains = [""] * len(names)
        op_src = ["name" if op is not None else None for op in ops]
    in_onnx = np.zeros(len(names), dtype=bool)
    in_onnx[:n_graph] = True
    return pd.DataFrame(
        {
            "index": np.arange(len(names), dtype=np.int64),
            "name": pd.Series(names, dtype=object),
            "op_type": pd.Series(ops, dtype=object),
            "domain": pd.Series(domains, dtype=object),
            "op_type_source": pd.Series(op_src, dtype=object),
            "in_onnx": in_onnx,
            "node_class": _node_classes(ops),
        }
    )


def _node_classes(ops: list[str | None]) -> pd.Series:
    """node_class per op, classifying each distinct op type once."""
    classes: dict[str | None, str] = {None: node_class(None).value}
    for op in set(ops):
        if op not in classes:
            classes[op] = node_class(op).value if isinstance(op, str) else classes[None]
    return pd.Series([classes[op] for op in ops], dtype=object)


_FOLDED_REASONS = {True: "only in layers that do not run it (no-op, reformat)",
                   False: "in no engine layer: folded or eliminated"}


def _statuses(nodes: pd.DataFrame, flags: np.ndarray, layers_of: list[list[int]], absorbed: dict[int, str]) -> None:
    """Fill status / reason / in_myelin / layer list per node from the flags gathered over the layers.

    The statuses partition the nodes (see NodeStatus): fused, else unfused, else absorbed, else folded.
    """
    live = (flags & _LIVE) != 0
    fused = (flags & _FUSED) != 0
    present = (flags & _PRESENT) != 0
    is_absorbed = np.zeros(len(nodes), dtype=bool)
    reasons = np.full(len(nodes), "", dtype=object)
    if absorbed:
        at = np.fromiter(absorbed.keys(), dtype=np.int64, count=len(absorbed))
        keep = ~live[at]
        is_absorbed[at[keep]] = True
        reasons[at[keep]] = np.asarray(list(absorbed.values()), dtype=object)[keep]
    folded = ~live & ~is_absorbed
    reasons[folded & present] = _FOLDED_REASONS[True]
    reasons[folded & ~present] = _FOLDED_REASONS[False]
    # (text columns as Python objects: pandas 3 would otherwise infer Arrow strings, slower to build and to map)
    nodes["status"] = pd.Series(np.select(
        [fused, live, is_absorbed],
        [NodeStatus.FUSED.value, NodeStatus.UNFUSED.value, NodeStatus.ABSORBED.value],
        default=NodeStatus.FOLDED.value,
    ).astype(object), dtype=object, index=nodes.index)
    nodes["reason"] = pd.Series(reasons, dtype=object, index=nodes.index)
    nodes["in_myelin"] = ((flags & _MYELIN) != 0) | is_absorbed
    nodes["layer_indices"] = pd.Series(layers_of, dtype=object)
    nodes["n_layers"] = np.fromiter(map(len, layers_of), dtype=np.int64, count=len(layers_of))
