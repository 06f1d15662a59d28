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
        self.index = {n: i for i, n in enumerate(names)}
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

    map_layer: list[int] = []
    map_node: list[str] = []
    map_source: list[str] = []
    map_layer_name: list[str] = []
    node_lists: list[list[str]] = []
    sources: list[str] = []
    regions: list[str | None] = []
    kinds: list[str] = []
    targets: list[str | None] = []
    node_flags: dict[str, int] = {}
    node_layers: dict[str, list[int]] = {}
    for idx, name, md, origin, ltype in zip(
        layers["index"].tolist(), layers["name"].tolist(), layers["metadata"].tolist(), layers["origin"].tolist(),
        layers["type"].tolist(), strict=True
    ):
        md = md if isinstance(md, str) else None
        origin = origin if isinstance(origin, str) else None
        ltype = ltype if isinstance(ltype, str) else ""
        nodes, src = _layer_nodes(name, md, origin, graph, foreign, warnings)
        myel, region = _is_myelin(name, ltype)
        kind = _layer_kind(name, ltype, origin, nodes, myel, op_of)
        rt = nm.reformat_target(name)
        node_lists.append(nodes)
        sources.append(src)
        regions.append(region)
        kinds.append(kind)
        targets.append(rt[2] if rt else None)
        flags = 0
        if kind != "noop":
            flags = _LIVE | (_MYELIN if kind == "myelin" else 0) | (_FUSED if len(nodes) >= 2 else 0)
        for n in nodes:
            map_layer.append(idx)
            map_node.append(n)
            map_source.append(src)
            map_layer_name.append(name)
            node_flags[n] = node_flags.get(n, 0) | flags
            node_layers.setdefault(n, []).append(idx)

    layers["onnx_nodes"] = node_lists
    layers["n_onnx_nodes"] = np.fromiter((len(x) for x in node_lists), dtype=np.int64, count=len(node_lists))
    layers["mapping_source"] = sources
    layers["myelin_region"] = regions
    layers["reformat_target"] = targets
    layers["kind"] = kinds

    known = graph.index if graph is not None else {}
    mapping = pd.DataFrame(
        {
            "layer_index": np.asarray(map_layer, dtype=np.int64),
            "layer_name": pd.Series(map_layer_name, dtype=object),
            "node_name": pd.Series(map_node, dtype=object),
            "source": pd.Series(map_source, dtype=object),
            "in_onnx": np.fromiter((n in known for n in map_node), dtype=bool, count=len(map_node)),
        }
    )
    if graph is not None and graph.unmatched > graph.matched:
        warnings.append(
            f"{graph.unmatched} layer-name pieces that look like ONNX node names are not in {graph.g.source} "
            f"(only {graph.matched} are): is it the model this engine was built from?"
        )
    nodes_df = _node_table(onnx, node_layers, op_of, warnings)
    _statuses(nodes_df, node_flags, node_layers)
    return FusionResult(layers=layers, onnx_nodes=nodes_df, mapping=mapping, warnings=_dedupe(warnings))


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _node_table(
    onnx: OnnxGraph | None, node_layers: dict[str, list[int]], op_of: OpLookup, warnings: list[str]
) -> pd.DataFrame:
    """ONNX nodes: the graph's when given (plus engine-referenced names missing from it), else those the
    engine names, with op types guessed from the names."""
    if onnx is not None:
        names = onnx.nodes["name"].tolist()
        known = set(names)
        missing = [n for n in node_layers if n not in known]
        ops = onnx.nodes["op_type"].tolist()
        domains = onnx.nodes["domain"].tolist()
        if missing:
            warnings.append(
                f"{len(missing)} of {len(node_layers)} ONNX node names the engine references are not in "
                f"{onnx.source} (a different model version?): " + ", ".join(repr(n) for n in missing[:3])
                + (" ..." if len(missing) > 3 else "")
            )
        op_src: list[str | None] = [*(["onnx"] * len(names)), *(["name"] * len(missing))]
        in_onnx = [True] * len(names) + [False] * len(missing)
        names = names + missing
        ops = ops + [op_of(n) for n in missing]
        domains = domains + [""] * len(missing)
    else:
        names = list(node_layers)
        ops = [op_of(n) for n in names]
        domains = [""] * len(names)
        op_src = ["name" if op is not None else None for op in ops]
        in_onnx = [False] * len(names)
    return pd.DataFrame(
        {
            "index": np.arange(len(names), dtype=np.int64),
            "name": pd.Series(names, dtype=object),
            "op_type": pd.Series(ops, dtype=object),
            "domain": pd.Series(domains, dtype=object),
            "op_type_source": pd.Series(op_src, dtype=object),
            "in_onnx": np.asarray(in_onnx, dtype=bool),
            "node_class": pd.Series([node_class(op) for op in ops], dtype=object),
        }
    )


def _statuses(nodes: pd.DataFrame, flags: dict[str, int], node_layers: dict[str, list[int]]) -> None:
    """Fill status / reason / fused / layer list per node from the flags gathered over the layers."""
    names = nodes["name"].tolist()
    f = np.fromiter((flags.get(n, -1) for n in names), dtype=np.int64, count=len(names))
    present = f >= 0
    live = present & ((f & _LIVE) != 0)
    myelin = (f & _MYELIN) != 0
    fused = live & ((f & _FUSED) != 0)
    nodes["status"] = np.select(
        [~present, ~live, myelin, fused], ["absent", "absent", "myelin", "fused"], default="alone"
    ).astype(object)
    nodes["reason"] = np.select(
        [~present, ~live], ["folded or eliminated (in no engine layer)", "eliminated (only in no-op layers)"],
        default="",
    ).astype(object)
    nodes["fused"] = fused
    empty: list[int] = []
    nodes["layer_indices"] = pd.Series([node_layers.get(n, empty) for n in names], dtype=object)
    nodes["n_layers"] = np.fromiter((len(node_layers.get(n, empty)) for n in names), dtype=np.int64, count=len(names))
