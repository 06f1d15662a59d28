"""What the matcher and the comparison need to know about each ONNX node of one side.

Rows are the side's ``onnx_nodes`` rows. The node order (``rank``) is the ONNX graph's (topological) when both
sides have a graph, else the engine's layer order (the order in which layers first name the node): both orders
are shared by two engines of one model, which is what structural matching leans on.

What only structural matching needs (shapes, surroundings, graph neighbours) is computed on first use: two
engines of one model that share node names never pay for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise

import numpy as np
import pandas as pd

from trtscope.analysis.session import Analysis
from trtscope.model.vocabulary import LayerKind, NodeClass

#: Layer kinds that run their nodes' work (as analysis/fusion.py decides statuses).
RUNNING_KINDS = frozenset({LayerKind.FUSED.value, LayerKind.SINGLE.value, LayerKind.QDQ.value})
#: Rounds of contraction through non-compute nodes (chains of shape / Q/DQ nodes are short).
_MAX_HOPS = 16


@dataclass(frozen=True)
class Csr:
    """Rows of int lists in compressed form: row i is ``indices[indptr[i]:indptr[i + 1]]``."""

    indptr: np.ndarray
    indices: np.ndarray

    @classmethod
    def from_pairs(cls, rows: np.ndarray, values: np.ndarray, n: int) -> Csr:
        order = np.argsort(rows, kind="stable")
        counts = np.bincount(rows, minlength=n) if len(rows) else np.zeros(n, dtype=np.int64)
        return cls(np.concatenate([[0], np.cumsum(counts)]).astype(np.int64), values[order].astype(np.int64))

    def row(self, i: int) -> list[int]:
        rows: list[int] = self.indices[self.indptr[i]:self.indptr[i + 1]].tolist()
        return rows

    def lists(self) -> list[list[int]]:
        """Every row as a Python list (one conversion for all rows)."""
        flat = self.indices.tolist()
        bounds = self.indptr.tolist()
        return [flat[s:e] for s, e in pairwise(bounds)]


def _group_pairs(groups: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every ordered pair (r, q), r != q, of rows sharing a group (vectorised; groups need not be sorted)."""
    if not len(rows):
        return rows, rows
    order = np.argsort(groups, kind="stable")
    g, r = groups[order], rows[order]
    starts = np.flatnonzero(np.concatenate([[True], g[1:] != g[:-1]]))
    sizes = np.diff(np.concatenate([starts, [len(g)]]))
    size_of = np.repeat(sizes, sizes)  # per element: its group's size
    start_of = np.repeat(starts, sizes)
    left = np.repeat(r, size_of)
    offsets = np.arange(int(size_of.sum())) - np.repeat(np.cumsum(size_of) - size_of, size_of)
    right = r[np.repeat(start_of, size_of) + offsets]
    keep = left != right
    return left[keep], right[keep]


def unique_ints(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an int array (a sort: faster here than numpy's hashing unique)."""
    if not len(x):
        return x
    xs = np.sort(x, kind="stable")
    return xs[np.concatenate([[True], xs[1:] != xs[:-1]])]


def first_occurrences(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values, position of each one's first occurrence) of an int array."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    first = np.concatenate([[True], xs[1:] != xs[:-1]]) if len(xs) else np.zeros(0, dtype=bool)
    return xs[first], order[first]


def _unique_pairs(left: np.ndarray, right: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    if not len(left):
        return left, right
    key = unique_ints(left.astype(np.int64) * n + right)
    return key // n, key % n


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


class Side:
    """One side's nodes: names, op types, classes, statuses, order, main layer; structure on demand."""

    def __init__(self, label: str, letter: str, an: Analysis, graph_order: bool) -> None:
        self.label = label
        self.letter = letter  # "A" / "B": how reasons name the side (views show which label each stands for)
        self.an = an
        self.graph_order = graph_order
        nodes = an.onnx_nodes
        self.n = n = len(nodes)
        self.names: list[str] = nodes["name"].tolist()
        self.ops: list[str | None] = [o if isinstance(o, str) else None for o in nodes["op_type"].tolist()]
        self.classes: list[str] = nodes["node_class"].tolist()
        self.statuses: list[str] = nodes["status"].tolist()
        self.compute = np.asarray([c == NodeClass.COMPUTE.value for c in self.classes], dtype=bool)

        m = an.mapping
        self.kind_of = an.layers["kind"].to_numpy(dtype=object)
        m_layer = m["layer_index"].to_numpy(dtype=np.int64)
        m_node = m["node_index"].to_numpy(dtype=np.int64)
        runs = np.asarray([k in RUNNING_KINDS for k in self.kind_of.tolist()], dtype=bool)
        running = runs[m_layer] if len(m) else np.zeros(0, dtype=bool)
        # mapping rows of running layers, in layer order (then the layer's own node order)
        self.run_layer, self.run_node = m_layer[running], m_node[running]

        # main layer: the layer the node anchors, else its first running layer, else its first layer
        self.layer_index = np.full(n, -1, dtype=np.int64)
        for mask in (np.ones(len(m), dtype=bool), running, m["anchor"].to_numpy(dtype=bool)):  # later masks win
            sel = np.flatnonzero(mask)
            if len(sel):
                uniq, first = first_occurrences(m_node[sel])
                self.layer_index[uniq] = m_layer[sel][first]
        if graph_order:
            self.rank = nodes["index"].to_numpy(dtype=np.float64).copy()
        else:
            self.rank = np.full(n, np.inf)
            if len(self.run_node):
                uniq, first = first_occurrences(self.run_node)
                self.rank[uniq] = first.astype(np.float64)

    def __len__(self) -> int:
        return self.n

    @property
    def has_graph(self) -> bool:
        return self.an.artifacts.onnx is not None

    # -- layers ----------------------------------------------------------------------------------------------
    @cached_property
    def _members(self) -> Csr:
        """Running layer -> its node rows."""
        return Csr.from_pairs(self.run_layer, self.run_node, len(self.kind_of))

    @cached_property
    def fused_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(node, other compute node) for every two compute nodes sharing a fused layer."""
        fused = self.kind_of[self.run_layer] == LayerKind.FUSED.value if len(self.run_layer) else \
            np.zeros(0, dtype=bool)
        sel = fused & self.compute[self.run_node]
        return _unique_pairs(*_group_pairs(self.run_layer[sel], self.run_node[sel]), self.n)

    @cached_property
    def fused_with(self) -> list[list[int]]:
        """Other compute nodes in each node's fused layers."""
        return Csr.from_pairs(*self.fused_pairs, self.n).lists()

    @cached_property
    def _co_layer(self) -> tuple[np.ndarray, np.ndarray]:
        return _group_pairs(self.run_layer, self.run_node)

    # -- what structural matching needs ------------------------------------------------------------------
    @cached_property
    def shape(self) -> list[str | None]:
        """"first input dims->first output dims" of each node's main layer (None without tensor detail)."""
        t = self.an.tensors
        if t is None or t.empty:
            return [None] * self.n
        first = t[t["position"] == 0]
        is_in = (first["direction"] == "input").to_numpy()
        ins = dict(zip(first["layer_index"].to_numpy()[is_in].tolist(),
                       first["dimensions"].to_numpy(dtype=object)[is_in].tolist(), strict=True))
        is_out = (first["direction"] == "output").to_numpy()
        outs = dict(zip(first["layer_index"].to_numpy()[is_out].tolist(),
                        first["dimensions"].to_numpy(dtype=object)[is_out].tolist(), strict=True))
        by_layer: dict[int, str | None] = {-1: None}
        result: list[str | None] = []
        for li in self.layer_index.tolist():
            if li not in by_layer:
                i, o = ins.get(li) or "", outs.get(li) or ""
                by_layer[li] = f"{i}->{o}" if (i or o) else None
            result.append(by_layer[li])
        return result

    @cached_property
    def context(self) -> list[str]:
        """Surroundings: op types of the nearest compute nodes before | after (graph), else of the compute
        nodes in the node's main layer."""
        ops = self.ops
        if self.graph_order:
            (up_s, up_d), (down_s, down_d) = self._contracted
            up = Csr.from_pairs(up_d, up_s, self.n).lists()
            down = Csr.from_pairs(down_s, down_d, self.n).lists()
            return [f"{_ops_text(u, ops)}|{_ops_text(d, ops)}" for u, d in zip(up, down, strict=True)]
        comp_ops: dict[int, str] = {-1: ""}
        members = self._members
        for li in unique_ints(self.run_layer).tolist():
            comp_ops[li] = "+".join(sorted({ops[j] or "?" for j in members.row(li) if self.compute[j]}))
        return [comp_ops.get(li, "") for li in self.layer_index.tolist()]

    def neighbours(self, i: int) -> list[int]:
        """Nodes next to node i: the other nodes of its layers, and when ordered by graph its graph
        neighbours (direct, and compute ones through non-compute nodes)."""
        return self._neighbours[i]

    @cached_property
    def _neighbours(self) -> list[list[int]]:
        left, right = [self._co_layer[0]], [self._co_layer[1]]
        if self.graph_order:
            src, dst = self._edges
            (up_s, up_d), (down_s, down_d) = self._contracted
            left += [dst, src, up_d, down_s]
            right += [src, dst, up_s, down_d]
        a, b = _unique_pairs(np.concatenate(left), np.concatenate(right), self.n)
        keep = a != b
        return Csr.from_pairs(a[keep], b[keep], self.n).lists()

    @cached_property
    def _edges(self) -> tuple[np.ndarray, np.ndarray]:
        """(producer row, consumer row) of every graph edge between two nodes."""
        g = self.an.artifacts.onnx
        assert g is not None
        e = g.edges
        outs = e[e["direction"] == "output"]
        producer = pd.Series(outs["node_index"].to_numpy(dtype=np.int64), index=outs["tensor"].to_numpy(dtype=object))
        producer = producer[~producer.index.duplicated(keep="last")]
        ins = e[e["direction"] == "input"]
        src = ins["tensor"].map(producer).to_numpy(dtype=np.float64)
        dst = ins["node_index"].to_numpy(dtype=np.int64)
        ok = ~np.isnan(src)
        src_i = src[ok].astype(np.int64)
        dst = dst[ok]
        keep = src_i != dst
        return src_i[keep], dst[keep]

    @cached_property
    def _contracted(self) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """Edges (compute predecessor, node) and (node, compute successor), through non-compute nodes."""
        src, dst = self._edges
        up = _contract(src, dst, self.compute, self.n)
        down_dst, down_src = _contract(dst, src, self.compute, self.n)
        return up, (down_src, down_dst)


def _contract(src: np.ndarray, dst: np.ndarray, compute: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Edges (c, d) where c is a compute node and a path c -> ... -> d runs only through non-compute nodes
    (vectorised: each round replaces a non-compute source by its own sources)."""
    into = Csr.from_pairs(dst, src, n)  # node -> its sources
    done_s: list[np.ndarray] = []
    done_d: list[np.ndarray] = []
    s, d = src, dst
    for _ in range(_MAX_HOPS):
        c = compute[s]
        done_s.append(s[c])
        done_d.append(d[c])
        s, d = s[~c], d[~c]
        if not len(s):
            break
        counts = into.indptr[s + 1] - into.indptr[s]
        starts = np.repeat(into.indptr[s], counts)
        offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        s, d = into.indices[starts + offsets], np.repeat(d, counts)
    out_s = np.concatenate(done_s) if done_s else np.zeros(0, dtype=np.int64)
    out_d = np.concatenate(done_d) if done_d else np.zeros(0, dtype=np.int64)
    key = unique_ints(out_s * n + out_d) if len(out_s) else np.zeros(0, dtype=np.int64)
    return key // n, key % n


def _ops_text(rows: list[int], ops: list[str | None]) -> str:
    return "+".join(sorted(ops[j] or "?" for j in rows))


def build_side(label: str, letter: str, a: Analysis, graph_order: bool) -> Side:
    return Side(label, letter, a, graph_order)
