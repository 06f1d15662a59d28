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

    def _edges(self) -> None:
        producer: dict[str, int] = {}
        consumers: dict[str, list[int]] = {}
        for i, (ins, outs) in enumerate(zip(self.g.nodes["inputs"], self.g.nodes["outputs"], strict=True)):
            for t in outs:
                producer[t] = i
            for t in ins:
                consumers.setdefault(t, []).append(i)
        self._producer, self._consumers = producer, consumers

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
        outs = self.g.nodes["outputs"]
        ins = self.g.nodes["inputs"]
        down = {first}
        queue = deque([first])
        while queue:
            i = queue.popleft()
            for t in outs.iat[i]:
                for j in self.consumers.get(t, ()):
                    if j <= last and j not in down:
                        down.add(j)
                        queue.append(j)
        if last not in down:
            return []
        up = {last}
        queue = deque([last])
        while queue:
            i = queue.popleft()
            for t in ins.iat[i]:
                j = self.producer.get(t)
                if j is not None and j >= first and j not in up and j in down:
                    up.add(j)
                    queue.append(j)
        return sorted(up)


def _base_layers(info: LayerInfo | None, profile: LayerProfile | None) -> pd.DataFrame:
    if info is not None:
        layers = info.layers.copy()
        layers["in_layer_info"] = True
    else:
        assert profile is not None
        names = profile.times["name"].tolist()
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
    key = set(zip(layers["name"], layers["occurrence"], strict=True))
    extra = prof[[k not in key for k in zip(prof["name"], prof["occurrence"], strict=True)]]
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
                cands = nm.entry_candidates(e)
                pick = cands[0]
                if graph is not None:
                    pick = next((c for c in cands if c in graph.index), cands[0])
                out.setdefault(pick, None)
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
        return list(dict.fromkeys(p for p in parts if p in graph.index)), "name"
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


def analyze_fusion(
    info: LayerInfo | None, profile: LayerProfile | None, onnx: OnnxGraph | None
) -> FusionResult:
    warnings: list[str] = []
    layers = _base_layers(info, profile)
    layers = _join_profile(layers, profile, warnings)
    graph = _Graph(onnx) if onnx is not None else None
    foreign = info.foreign_nodes if info is not None else {}

    map_layer: list[int] = []
    map_node: list[str] = []
    map_source: list[str] = []
    node_lists: list[list[str]] = []
    sources: list[str] = []
    regions: list[str | None] = []
    is_myelin: list[bool] = []
    targets: list[str | None] = []
    for idx, name, md, origin, ltype in zip(
        layers["index"], layers["name"], layers["metadata"], layers["origin"], layers["type"], strict=True
    ):
        md = md if isinstance(md, str) else None
        origin = origin if isinstance(origin, str) else None
        ltype = ltype if isinstance(ltype, str) else ""
        nodes, src = _layer_nodes(name, md, origin, graph, foreign, warnings)
        node_lists.append(nodes)
        sources.append(src)
        myel, region = _is_myelin(name, ltype)
        is_myelin.append(myel)
        regions.append(region)
        rt = nm.reformat_target(name)
        targets.append(rt[2] if rt else None)
        for n in nodes:
            map_layer.append(idx)
            map_node.append(n)
            map_source.append(src)

    layers["onnx_nodes"] = node_lists
    layers["n_onnx_nodes"] = np.fromiter((len(x) for x in node_lists), dtype=np.int64, count=len(node_lists))
    layers["mapping_source"] = sources
    layers["myelin_region"] = regions
    layers["reformat_target"] = targets

    mapping = pd.DataFrame({"layer_index": map_layer, "node_name": map_node, "source": map_source})
    mapping["layer_name"] = layers.set_index("index")["name"].reindex(mapping["layer_index"]).to_numpy()

    nodes = _node_table(onnx, mapping, warnings)
    op_of = dict(zip(nodes["name"], nodes["op_type"], strict=True))
    layers["kind"] = _kinds(layers, is_myelin, op_of)
    _statuses(nodes, mapping, layers)
    mapping["in_onnx"] = mapping["node_name"].isin(set(onnx.nodes["name"])) if onnx is not None else False
    return FusionResult(layers=layers, onnx_nodes=nodes, mapping=mapping[
        ["layer_index", "layer_name", "node_name", "source", "in_onnx"]], warnings=_dedupe(warnings))


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _node_table(onnx: OnnxGraph | None, mapping: pd.DataFrame, warnings: list[str]) -> pd.DataFrame:
    if onnx is not None:
        nodes = onnx.nodes[["index", "name", "op_type", "domain"]].copy()
        nodes["op_type_source"] = "onnx"
        nodes["in_onnx"] = True
        known = set(nodes["name"])
        missing = [n for n in dict.fromkeys(mapping["node_name"]) if n not in known]
        if missing:
            referenced = mapping["node_name"].nunique()
            warnings.append(
                f"{len(missing)} of {referenced} ONNX node names the engine references are not in {onnx.source} "
                f"(a different model version?): " + ", ".join(repr(n) for n in missing[:3])
                + (" ..." if len(missing) > 3 else "")
            )
            extra = pd.DataFrame(
                {
                    "index": np.arange(len(nodes), len(nodes) + len(missing)),
                    "name": missing,
                    "op_type": [nm.op_type_from_name(n, KNOWN_OPS) for n in missing],
                    "domain": "",
                    "op_type_source": "name",
                    "in_onnx": False,
                }
            )
            nodes = pd.concat([nodes, extra], ignore_index=True)
    else:
        names = list(dict.fromkeys(mapping["node_name"]))
        nodes = pd.DataFrame(
            {
                "index": np.arange(len(names)),
                "name": names,
                "op_type": [nm.op_type_from_name(n, KNOWN_OPS) for n in names],
                "domain": "",
                "in_onnx": False,
            }
        )
        nodes["op_type_source"] = np.where(nodes["op_type"].notna(), "name", None)
    nodes["node_class"] = [node_class(op if isinstance(op, str) else None) for op in nodes["op_type"]]
    return nodes


def _kinds(layers: pd.DataFrame, is_myelin: list[bool], op_of: dict[str, object]) -> list[str]:
    kinds = []
    for name, ltype, origin, nodes, myel in zip(
        layers["name"], layers["type"], layers["origin"], layers["onnx_nodes"], is_myelin, strict=True
    ):
        ltype = ltype if isinstance(ltype, str) else ""
        origin = origin if isinstance(origin, str) else None
        all_qdq = bool(nodes) and all(op_of.get(n) in QDQ_OPS for n in nodes)
        if origin == "QDQ" or (all_qdq and ltype in ("Reformat", "NoOp", "")):
            kinds.append("qdq")
        elif origin == "REFORMAT" or nm.reformat_target(name) is not None:
            kinds.append("reformat")
        elif ltype in NOOP_TYPES:
            kinds.append("noop")
        elif myel:
            kinds.append("myelin")
        elif len(nodes) >= 2:
            kinds.append("fused")
        elif len(nodes) == 1:
            kinds.append("single")
        else:
            kinds.append("other")
    return kinds


def _statuses(nodes: pd.DataFrame, mapping: pd.DataFrame, layers: pd.DataFrame) -> None:
    """Fill status / reason / fused / layer list per node (vectorised over the mapping)."""
    lk = layers.set_index("index")
    m = mapping[["layer_index", "node_name"]].copy()
    m["kind"] = lk["kind"].reindex(m["layer_index"]).to_numpy()
    m["n"] = lk["n_onnx_nodes"].reindex(m["layer_index"]).to_numpy()
    m["is_myelin"] = m["kind"].eq("myelin")
    # A node is fused when it shares a running layer (one kernel launch) with another ONNX node. That holds
    # for 8.x's opaque Myelin layers and for 10+'s expanded ones alike.
    m["is_fused"] = (m["n"] >= 2) & ~m["kind"].eq("noop")
    m["is_live"] = ~m["kind"].eq("noop")
    g = m.groupby("node_name", sort=False)
    agg = pd.DataFrame(
        {
            "any_myelin": g["is_myelin"].any(),
            "any_fused": g["is_fused"].any(),
            "any_live": g["is_live"].any(),
            "layer_indices": g["layer_index"].agg(list),
        }
    )
    a = agg.reindex(nodes["name"])
    present = a["layer_indices"].notna().to_numpy()
    any_myelin = a["any_myelin"].eq(True).to_numpy()
    any_fused = a["any_fused"].eq(True).to_numpy()
    any_live = a["any_live"].eq(True).to_numpy()
    status = np.select(
        [~present, ~any_live, any_myelin, any_fused], ["absent", "absent", "myelin", "fused"], default="alone"
    )
    reason = np.select(
        [~present, ~any_live], ["folded or eliminated (in no engine layer)", "eliminated (only in no-op layers)"],
        default="",
    )
    nodes["status"] = status
    nodes["reason"] = reason
    nodes["fused"] = any_fused & any_live
    nodes["layer_indices"] = [x if isinstance(x, list) else [] for x in a["layer_indices"]]
    nodes["n_layers"] = [len(x) for x in nodes["layer_indices"]]
