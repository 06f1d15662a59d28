"""Which ONNX nodes each engine layer came from, what kind of layer it is, and what became of every node.

The mapping is many-to-many: a fused layer holds several nodes, and in TensorRT 10+ one node can be spread
over several Myelin layers. Sources, best first: the layer's ``Metadata`` (exact, 8.6+/10+); a verbose build
log's ``ForeignNode ... metadata:`` line; the ``" + "`` pieces of the layer name that are ONNX nodes (with the
ONNX graph: exact; without it: pieces that are neither weights nor TensorRT helper names); a
``{ForeignNode[first...last]}`` range resolved through the ONNX graph.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trtscope.analysis import names as nm
from trtscope.analysis.onnx_ops import KNOWN_OPS, QDQ_OPS, node_class
from trtscope.model.artifacts import LayerInfo, LayerProfile, OnnxGraph
from trtscope.model.tables import LAYER_COLUMNS, frame

#: Layer kinds, in the order they are decided.
KINDS = ("reformat", "qdq", "noop", "myelin", "fused", "single", "other")
KIND_LABELS = {
    "reformat": "reformat (inserted)",
    "qdq": "Q/DQ",
    "noop": "no-op",
    "myelin": "Myelin",
    "fused": "fused compute",
    "single": "single node",
    "other": "no ONNX source",
}
#: LayerTypes that move no data or only synchronise (TREx and NVIDIA's analyzer drop or fold them).
NOOP_TYPES = frozenset({"NoOp", "Constant", "shape_call", "signal", "wait", "reshape", "TrainStation"})
MYELIN_TYPES = frozenset({"Myelin", "kgen"})
#: Node statuses.
STATUSES = ("fused", "myelin", "alone", "absent")


@dataclass
class FusionResult:
    layers: pd.DataFrame
    onnx_nodes: pd.DataFrame
    mapping: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


class _Graph:
    """Name lookups and reachability over the ONNX graph, built once."""

    def __init__(self, g: OnnxGraph) -> None:
        self.g = g
        names = g.nodes["name"].tolist()
        self.index = dict(zip(names, range(len(names)), strict=True))
        self.names = names
        self.op_types = g.nodes["op_type"].tolist()
        self._producer: dict[str, int] | None = None
        self._consumers: dict[str, list[int]] | None = None
        # name pieces that look like ONNX nodes, found / not found in this graph (a wrong-model check)
        self.matched = 0
        self.unmatched = 0

    def _edges(self) -> None:
        e = self.g.edges
        producer: dict[str, int] = {}
        consumers: dict[str, list[int]] = {}
        outs = e[e["direction"] == "output"]
        for t, i in zip(outs["tensor"].tolist(), outs["node_index"].tolist(), strict=True):
            producer[t] = i
        ins = e[e["direction"] == "input"]
        for t, i in zip(ins["tensor"].tolist(), ins["node_index"].tolist(), strict=True):
            consumers.setdefault(t, []).append(i)
        self._producer, self._consumers = producer, consumers
        # per-node tensor lists, for walking the graph
        self._outs: dict[int, list[str]] = {}
        self._ins: dict[int, list[str]] = {}
        for t, i in zip(outs["tensor"].tolist(), outs["node_index"].tolist(), strict=True):
            self._outs.setdefault(i, []).append(t)
        for t, i in zip(ins["tensor"].tolist(), ins["node_index"].tolist(), strict=True):
            self._ins.setdefault(i, []).append(t)

    @property
    def producer(self) -> dict[str, int]:
        if self._producer is None:
            self._edges()
        return self._producer  # type: ignore[return-value]

    @property
    def consumers(self) -> dict[str, list[int]]:
        if self._consumers is None:
            self._edges()
        return self._consumers  # type: ignore[return-value]

    def locate(self, piece: str, end: str) -> int | None:
        """A range end as a node index: a node name, else a tensor's producer (last) / first consumer (first)."""
        if piece in self.index:
            return self.index[piece]
        if end == "last" and piece in self.producer:
            return self.producer[piece]
        cons = self.consumers.get(piece)
        if cons:
            return min(cons) if end == "first" else max(cons)
        return None

    def between(self, first: int, last: int) -> list[int]:
        """Nodes on paths from ``first`` to ``last`` (descendants of first that are ancestors of last)."""
        if first > last:
            first, last = last, first
        consumers, producer = self.consumers, self.producer
        outs, ins = self._outs, self._ins
        down = {first}
        queue = deque([first])
        while queue:
            i = queue.popleft()
            for t in outs.get(i, ()):
                for j in consumers.get(t, ()):
                    if j <= last and j not in down:
                        down.add(j)
                        queue.append(j)
        if last not in down:
            return []
        up = {last}
        queue = deque([last])
        while queue:
            i = queue.popleft()
            for t in ins.get(i, ()):
                p = producer.get(t)
                if p is not None and p >= first and p not in up and p in down:
                    up.add(p)
                    queue.append(p)
        return sorted(up)


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
    graph: _Graph | None,
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
    if nm.reformat_target(name) is not None or origin == "REFORMAT":
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
    parts = nm.name_parts(name)
    if graph is not None:
        hits = [p for p in parts if p in graph.index]
        if len(hits) < len(parts):
            graph.unmatched += len(_node_like([p for p in parts if p not in graph.index]))
        graph.matched += len(hits)
        return list(dict.fromkeys(hits)), "name"
    return list(dict.fromkeys(_node_like(parts))), "name"


def _node_like(parts: list[str]) -> list[str]:
    return [p for p in parts if not nm.is_internal_name(p) and not nm.looks_like_weight(p)]


def _is_myelin(name: str, ltype: str) -> tuple[bool, str | None]:
    myl = nm.myelin_parts(name)
    if myl is not None:
        return True, f"myl{myl[1]}"
    if ltype in MYELIN_TYPES or nm.is_foreign_node_layer(name) or name.startswith(("__myl", "__mye")):
        return True, name
    return False, None


def _layer_kind(name: str, ltype: str, origin: str | None, nodes: list[str], myelin: bool, op_of: OpLookup) -> str:
    """Kinds are decided in KINDS order: what TensorRT inserted first, then what runs ONNX work."""
    if origin == "QDQ" or (nodes and ltype in ("Reformat", "NoOp", "") and all(op_of(n) in QDQ_OPS for n in nodes)):
        return "qdq"
    if origin == "REFORMAT" or nm.reformat_target(name) is not None:
        return "reformat"
    if ltype in NOOP_TYPES:
        return "noop"
    if myelin:
        return "myelin"
    if len(nodes) >= 2:
        return "fused"
    return "single" if nodes else "other"


class OpLookup:
    """Op type of a node name: from the ONNX graph, else guessed from the name (cached)."""

    def __init__(self, graph: _Graph | None) -> None:
        self.graph = graph
        self.guessed: dict[str, str | None] = {}

    def __call__(self, name: str) -> str | None:
        g = self.graph
        if g is not None:
            i = g.index.get(name)
            if i is not None:
                return g.op_types[i]
        if name not in self.guessed:
            self.guessed[name] = nm.op_type_from_name(name, KNOWN_OPS)
        return self.guessed[name]


_MYELIN, _FUSED, _LIVE = 1, 2, 4


def analyze_fusion(
    info: LayerInfo | None, profile: LayerProfile | None, onnx: OnnxGraph | None
) -> FusionResult:
    """One pass over the layers builds the mapping, the layer kinds and every node's flags.

    Plain dicts and lists, not pandas group-bys: keys are names, and 20,000 layers x 100,000 nodes must
    stay well under a second.
    """
    warnings: list[str] = []
    layers = _base_layers(info, profile)
    layers = _join_profile(layers, profile, warnings)
    graph = _Graph(onnx) if onnx is not None else None
    foreign = info.foreign_nodes if info is not None else {}
    op_of = OpLookup(graph)

    # Nodes are numbered once, by their index in the ONNX graph (names the graph lacks are numbered after it),
    # so every later per-node step works on arrays instead of hashing 100,000 names again.
    node_id: dict[str, int] = dict(graph.index) if graph is not None else {}
    n_graph = len(node_id)
    extra_names: list[str] = []
    map_node: list[int] = []
    node_lists: list[list[str]] = []
    sources: list[str] = []
    regions: list[str | None] = []
    kinds: list[str] = []
    targets: list[str | None] = []
    layer_flags: list[int] = []
    get_id = node_id.get
    for name, md, origin, ltype in zip(
        layers["name"].tolist(), layers["metadata"].tolist(), layers["origin"].tolist(), layers["type"].tolist(),
        strict=True,
    ):
        md = md if isinstance(md, str) else None
        origin = origin if isinstance(origin, str) else None
        ltype = ltype if isinstance(ltype, str) else ""
        nodes, src = _layer_nodes(name, md, origin, graph, foreign, warnings)
        myel, region = _is_myelin(name, ltype)
        kind = _layer_kind(name, ltype, origin, nodes, myel, op_of)
        rt = nm.reformat_target(name) if name.startswith("Reformatting") else None
        node_lists.append(nodes)
        sources.append(src)
        regions.append(region)
        kinds.append(kind)
        targets.append(rt[2] if rt else None)
        layer_flags.append(
            0 if kind == "noop" else _LIVE | (_MYELIN if kind == "myelin" else 0) | (_FUSED if len(nodes) >= 2 else 0)
        )
        for n in nodes:
            j = get_id(n)
            if j is None:
                j = node_id[n] = n_graph + len(extra_names)
                extra_names.append(n)
            map_node.append(j)

    # Per mapping row, then per node: vectorised from the layer-level lists gathered above.
    counts = np.fromiter(map(len, node_lists), dtype=np.int64, count=len(node_lists))
    node_ix = np.asarray(map_node, dtype=np.int64)
    layer_ix = np.repeat(layers["index"].to_numpy(dtype=np.int64), counts)
    n_nodes = n_graph + len(extra_names)
    flags = np.zeros(n_nodes, dtype=np.int64)
    np.bitwise_or.at(flags, node_ix, np.repeat(np.asarray(layer_flags, dtype=np.int64), counts))
    per_node = np.bincount(node_ix, minlength=n_nodes)
    flags[per_node == 0] = -1
    order = np.argsort(node_ix, kind="stable")
    grouped = layer_ix[order].tolist()
    ends = np.cumsum(per_node).tolist()
    layers_of: list[list[int] | None] = []
    start = 0
    for end in ends:
        layers_of.append(grouped[start:end] if end > start else None)
        start = end

    layers["onnx_nodes"] = node_lists
    layers["n_onnx_nodes"] = counts
    layers["mapping_source"] = sources
    layers["myelin_region"] = regions
    layers["reformat_target"] = targets
    layers["kind"] = kinds

    if graph is not None and graph.unmatched > graph.matched:
        warnings.append(
            f"{graph.unmatched} layer-name pieces that look like ONNX node names are not in {graph.g.source} "
            f"(only {graph.matched} are): is it the model this engine was built from?"
        )
    nodes_df = _node_table(onnx, extra_names, op_of, warnings)
    _statuses(nodes_df, flags, layers_of)
    names = nodes_df["name"].to_numpy(dtype=object)
    mapping = pd.DataFrame(
        {
            "layer_index": layer_ix,
            "layer_name": layers["name"].to_numpy(dtype=object)[layer_ix],
            "node_name": names[node_ix] if len(node_ix) else np.array([], dtype=object),
            "node_index": node_ix,
            "source": np.repeat(np.asarray(sources, dtype=object), counts),
            "in_onnx": node_ix < n_graph,
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
    s = pd.Series(ops, dtype=object)
    classes = {op: node_class(op) for op in pd.unique(s.dropna())}
    out = s.map(classes).astype(object)
    return out.where(out.notna(), node_class(None))


def _statuses(nodes: pd.DataFrame, flags: np.ndarray, layers_of: list[list[int] | None]) -> None:
    """Fill status / reason / fused / layer list per node from the flags gathered over the layers
    (``flags[i]`` is -1 for a node in no layer)."""
    present = flags >= 0
    live = present & ((flags & _LIVE) != 0)
    myelin = (flags & _MYELIN) != 0
    fused = live & ((flags & _FUSED) != 0)
    nodes["status"] = np.select(
        [~present, ~live, myelin, fused], ["absent", "absent", "myelin", "fused"], default="alone"
    ).astype(object)
    nodes["reason"] = np.select(
        [~present, ~live], ["folded or eliminated (in no engine layer)", "eliminated (only in no-op layers)"],
        default="",
    ).astype(object)
    nodes["fused"] = fused
    lists = [x if x is not None else [] for x in layers_of]
    nodes["layer_indices"] = pd.Series(lists, dtype=object)
    nodes["n_layers"] = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
