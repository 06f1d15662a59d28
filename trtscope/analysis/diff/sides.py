"""What the matcher and the comparison need to know about each ONNX node of one side, gathered once.

Every list is indexed like the side's ``onnx_nodes`` rows. The node order (``rank``) is the ONNX graph's
(topological) when both sides have a graph, else the engine's layer order (the order in which layers first
name the node): both orders are shared by two engines of one model, which is what structural matching leans on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trtscope.analysis.session import Analysis
from trtscope.model.vocabulary import LayerKind, NodeClass

#: Layer kinds that run their nodes' work (as analysis/fusion.py decides statuses).
RUNNING_KINDS = frozenset({LayerKind.FUSED.value, LayerKind.SINGLE.value, LayerKind.QDQ.value})
#: Cap on contracted neighbours kept per node (a shape node feeding hundreds of consumers says little).
_MAX_NEIGHBOURS = 16


@dataclass
class Side:
    label: str
    letter: str  # "A" or "B": how reasons name the side (the views show which label each letter stands for)
    an: Analysis
    names: list[str]
    ops: list[str | None]
    classes: list[str]
    statuses: list[str]
    rank: np.ndarray  # float; inf: not placed (not in any running layer, in engine order)
    layer_index: np.ndarray  # int64 main layer per node, -1 none
    shape: list[str | None]  # "in dims->out dims" of the main layer, None unknown
    context: list[str]  # surroundings: compute neighbours' op types (graph) or the layer's compute op types
    neighbours: list[list[int]]  # rows adjacent in the graph (direct and through non-compute nodes) or co-layer
    fused_with: list[list[int]]  # other compute nodes in the node's running layers
    graph_order: bool

    def __len__(self) -> int:
        return len(self.names)

    @property
    def has_graph(self) -> bool:
        return self.an.artifacts.onnx is not None


def graph_usable(a: Analysis) -> bool:
    """The side has an ONNX graph whose edges can be read."""
    g = a.artifacts.onnx
    if g is None:
        return False
    try:
        g.edges  # noqa: B018 - reading them is the test (lazily loaded)
    except (ValueError, OSError):
        return False
    return True


def build_side(label: str, letter: str, a: Analysis, graph_order: bool) -> Side:
    nodes = a.onnx_nodes
    n = len(nodes)
    names = nodes["name"].tolist()
    ops = [o if isinstance(o, str) else None for o in nodes["op_type"].tolist()]
    classes = nodes["node_class"].tolist()
    compute = np.asarray([c == NodeClass.COMPUTE.value for c in classes], dtype=bool)

    m = a.mapping
    kind_of = a.layers["kind"].to_numpy(dtype=object)
    m_layer = m["layer_index"].to_numpy(dtype=np.int64)
    m_node = m["node_index"].to_numpy(dtype=np.int64)
    running = np.isin(kind_of[m_layer], list(RUNNING_KINDS)) if len(m) else np.zeros(0, dtype=bool)
    anchor = m["anchor"].to_numpy(dtype=bool)

    # main layer: the layer the node anchors, else its first running layer, else its first layer
    layer_index = np.full(n, -1, dtype=np.int64)
    for mask in (np.ones(len(m), dtype=bool), running, anchor):  # later masks win
        sel = np.flatnonzero(mask)
        if len(sel):
            nodes_sel, first = np.unique(m_node[sel][::-1], return_index=True)  # last of reversed = first
            layer_index[nodes_sel] = m_layer[sel][::-1][first]

    if graph_order:
        rank = nodes["index"].to_numpy(dtype=np.float64).copy()
    else:
        rank = np.full(n, np.inf)
        sel = np.flatnonzero(running)
        if len(sel):
            uniq, first = np.unique(m_node[sel], return_index=True)
            rank[uniq] = sel[first].astype(np.float64)

    shape = _shapes(a, layer_index)
    fused_with, co_layer = _layer_company(m_layer[running], m_node[running], compute, kind_of, n)
    if graph_order:
        direct, up, down = _graph_neighbours(a, compute, n)
        context = [f"{_ops_text(up[i], ops)}|{_ops_text(down[i], ops)}" for i in range(n)]
        neighbours = [list(dict.fromkeys([*direct[i], *up[i], *down[i], *co_layer[i]])) for i in range(n)]
    else:
        comp_ops: dict[int, str] = {}
        for li, members in _layer_members(m_layer[running], m_node[running]).items():
            comp_ops[li] = "+".join(sorted({ops[j] or "?" for j in members if compute[j]}))
        context = [comp_ops.get(int(li), "") for li in layer_index]
        neighbours = co_layer
    return Side(label=label, letter=letter, an=a, names=names, ops=ops, classes=classes,
                statuses=nodes["status"].tolist(), rank=rank, layer_index=layer_index, shape=shape,
                context=context, neighbours=neighbours, fused_with=fused_with, graph_order=graph_order)


def _shapes(a: Analysis, layer_index: np.ndarray) -> list[str | None]:
    """"first input dims->first output dims" of each node's main layer (None without tensor detail)."""
    t = a.tensors
    if t is None or t.empty:
        return [None] * len(layer_index)
    first = t[t["position"] == 0]
    ins = dict(zip(first.loc[first["direction"] == "input", "layer_index"].tolist(),
                   first.loc[first["direction"] == "input", "dimensions"].tolist(), strict=True))
    outs = dict(zip(first.loc[first["direction"] == "output", "layer_index"].tolist(),
                    first.loc[first["direction"] == "output", "dimensions"].tolist(), strict=True))
    by_layer: dict[int, str | None] = {}
    result: list[str | None] = []
    for li in layer_index.tolist():
        if li not in by_layer:
            i, o = ins.get(li) or "", outs.get(li) or ""
            by_layer[li] = f"{i}->{o}" if (i or o) and li >= 0 else None
        result.append(by_layer[li])
    return result


def _layer_members(layers: np.ndarray, nodes: np.ndarray) -> dict[int, list[int]]:
    members: dict[int, list[int]] = {}
    for li, j in zip(layers.tolist(), nodes.tolist(), strict=True):
        members.setdefault(li, []).append(j)
    return members


def _layer_company(layers: np.ndarray, nodes: np.ndarray, compute: np.ndarray, kind_of: np.ndarray,
                   n: int) -> tuple[list[list[int]], list[list[int]]]:
    """(other compute nodes in each node's fused layers, every other node in its running layers)."""
    fused_with: list[list[int]] = [[] for _ in range(n)]
    co_layer: list[list[int]] = [[] for _ in range(n)]
    for li, members in _layer_members(layers, nodes).items():
        if len(members) < 2:
            continue
        is_fused = kind_of[li] == LayerKind.FUSED.value
        comp = [j for j in members if compute[j]] if is_fused else []
        for j in members:
            co_layer[j].extend(k for k in members if k != j)
            if is_fused:
                fused_with[j].extend(k for k in comp if k != j)
    return [list(dict.fromkeys(x)) for x in fused_with], [list(dict.fromkeys(x)) for x in co_layer]


def _graph_neighbours(a: Analysis, compute: np.ndarray,
                      n: int) -> tuple[list[list[int]], list[list[int]], list[list[int]]]:
    """(direct predecessors + successors, compute predecessors, compute successors) per node row, the latter
    two reached through non-compute (shape, constant, Q/DQ) nodes, from the ONNX edges. Rows past the graph
    (names only the engine knows) get none."""
    g = a.artifacts.onnx
    assert g is not None
    e = g.edges
    n_graph = len(g.nodes)
    producer: dict[str, int] = {}
    outs = e[e["direction"] == "output"]
    for t, i in zip(outs["tensor"].tolist(), outs["node_index"].tolist(), strict=True):
        producer[t] = i
    preds: list[list[int]] = [[] for _ in range(n)]
    succs: list[list[int]] = [[] for _ in range(n)]
    ins = e[e["direction"] == "input"]
    for t, i in zip(ins["tensor"].tolist(), ins["node_index"].tolist(), strict=True):
        p = producer.get(t)
        if p is not None and p != i:
            preds[i].append(p)
            succs[p].append(i)
    up: list[list[int]] = [[] for _ in range(n)]  # compute predecessors through non-compute nodes
    for i in range(n_graph):  # graph order is topological in valid ONNX; a back edge just stays uncontracted
        acc: list[int] = []
        for p in preds[i]:
            acc.extend([p] if compute[p] or p >= i else up[p])
        up[i] = list(dict.fromkeys(acc))[:_MAX_NEIGHBOURS]
    down: list[list[int]] = [[] for _ in range(n)]
    for i in range(n_graph - 1, -1, -1):
        acc = []
        for s in succs[i]:
            acc.extend([s] if compute[s] or s <= i else down[s])
        down[i] = list(dict.fromkeys(acc))[:_MAX_NEIGHBOURS]
    direct = [list(dict.fromkeys([*preds[i], *succs[i]])) for i in range(n)]
    return direct, up, down


def _ops_text(rows: list[int], ops: list[str | None]) -> str:
    return "+".join(sorted(ops[j] or "?" for j in rows))
