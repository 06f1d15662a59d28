"""Name lookups and reachability over the ONNX graph, built once per analysis.

Edges are read lazily (decoding every tensor name of a 100,000-node graph costs as much as the rest of the
graph together), so a mapping that needs no walk never pays for them. Walks use the node index as a
topological bound: valid ONNX graphs list nodes in topological order, so a path from node ``a`` to ``b``
only visits indices between them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

from trtscope.model.artifacts import OnnxGraph


class GraphWalk:
    """Node name -> index, producers and consumers of tensors, and paths between nodes."""

    def __init__(self, g: OnnxGraph) -> None:
        self.g = g
        names = g.nodes["name"].tolist()
        self.index = dict(zip(names, range(len(names)), strict=True))
        self.names = names
        self.op_types = g.nodes["op_type"].tolist()
        self._producer: dict[str, int] | None = None
        self._consumers: dict[str, list[int]] = {}
        self._outs: dict[int, list[str]] = {}
        self._ins: dict[int, list[str]] = {}
        # name pieces that look like ONNX nodes, found / not found in this graph (a wrong-model check)
        self.matched = 0
        self.unmatched = 0

    def _edges(self) -> dict[str, int]:
        e = self.g.edges
        producer: dict[str, int] = {}
        consumers: dict[str, list[int]] = {}
        outs_mask = (e["direction"] == "output").to_numpy()
        tensors, nodes = e["tensor"].tolist(), e["node_index"].tolist()
        for t, i, is_out in zip(tensors, nodes, outs_mask.tolist(), strict=True):
            if is_out:
                producer[t] = i
                self._outs.setdefault(i, []).append(t)
            else:
                consumers.setdefault(t, []).append(i)
                self._ins.setdefault(i, []).append(t)
        self._producer, self._consumers = producer, consumers
        return producer

    @property
    def producer(self) -> dict[str, int]:
        return self._producer if self._producer is not None else self._edges()

    @property
    def consumers(self) -> dict[str, list[int]]:
        if self._producer is None:
            self._edges()
        return self._consumers

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

    def _down(self, starts: Iterable[int], bound: int) -> set[int]:
        """Descendants of ``starts`` (themselves included) with index <= ``bound``."""
        consumers, outs = self.consumers, self._outs
        seen = set(starts)
        queue = deque(seen)
        while queue:
            i = queue.popleft()
            for t in outs.get(i, ()):
                for j in consumers.get(t, ()):
                    if j <= bound and j not in seen:
                        seen.add(j)
                        queue.append(j)
        return seen

    def _up(self, starts: Iterable[int], bound: int, within: set[int] | None = None) -> set[int]:
        """Ancestors of ``starts`` (themselves included) with index >= ``bound`` (and in ``within``)."""
        producer, ins = self.producer, self._ins
        seen = set(starts)
        queue = deque(seen)
        while queue:
            i = queue.popleft()
            for t in ins.get(i, ()):
                p = producer.get(t)
                if p is not None and p >= bound and p not in seen and (within is None or p in within):
                    seen.add(p)
                    queue.append(p)
        return seen

    def between(self, first: int, last: int) -> list[int]:
        """Nodes on paths from ``first`` to ``last`` (descendants of first that are ancestors of last)."""
        if first > last:
            first, last = last, first
        down = self._down([first], last)
        if last not in down:
            return []
        return sorted(self._up([last], first, within=down))


class Adjacency:
    """Node -> successor / predecessor nodes of the whole graph as CSR arrays, built vectorised from the edge
    table (tensor names factorised once): for analyses that look at many nodes' neighbourhoods (lint's pattern
    matchers), where :class:`GraphWalk`'s per-name dictionaries would cost seconds on 100,000 nodes."""

    def __init__(self, g: OnnxGraph) -> None:
        import numpy as np
        import pandas as pd

        self.names: list[str] = g.nodes["name"].tolist()
        self.op_types: list[str] = g.nodes["op_type"].tolist()
        n = len(self.names)
        e = g.edges
        codes, uniques = pd.factorize(e["tensor"], use_na_sentinel=True)
        node = e["node_index"].to_numpy(dtype=np.int64)
        is_out = (e["direction"] == "output").to_numpy()
        producer = np.full(len(uniques), -1, dtype=np.int64)
        producer[codes[is_out]] = node[is_out]
        ins = ~is_out & (codes >= 0)
        in_node, in_code = node[ins], codes[ins]
        # constant inputs: initializers, or outputs of Constant nodes
        is_init = pd.Index(uniques).isin(list(g.initializers)) if len(g.initializers) else np.zeros(len(uniques), bool)
        const_node = np.asarray([op == "Constant" for op in self.op_types], dtype=bool)
        prod_of_in = producer[in_code]
        const_in = is_init[in_code] | ((prod_of_in >= 0) & const_node[np.maximum(prod_of_in, 0)])
        self.has_const_input = np.bincount(in_node[const_in], minlength=n) > 0
        keep = prod_of_in >= 0
        src, dst = prod_of_in[keep], in_node[keep]
        pairs = np.unique(np.stack([src, dst], axis=1), axis=0) if len(src) else np.zeros((0, 2), dtype=np.int64)
        self._tensors = uniques
        out_rows = is_out & (codes >= 0)
        self._out_ptr, self._out = self._csr(node[out_rows], codes[out_rows], n)
        self._succ_ptr, self._succ = self._csr(pairs[:, 0], pairs[:, 1], n)
        self._pred_ptr, self._pred = self._csr(pairs[:, 1], pairs[:, 0], n)

    @staticmethod
    def _csr(key: Any, val: Any, n: int) -> tuple[Any, Any]:
        import numpy as np

        order = np.lexsort((val, key))
        ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(key, minlength=n), out=ptr[1:])
        return ptr, val[order]

    def outputs_of(self, i: int) -> list[str]:
        """Names of the tensors node ``i`` writes."""
        return [str(self._tensors[c]) for c in self._out[self._out_ptr[i]:self._out_ptr[i + 1]].tolist()]

    def successors(self, i: int) -> list[int]:
        """Nodes that read a tensor node ``i`` writes, in graph order."""
        return self._succ[self._succ_ptr[i]:self._succ_ptr[i + 1]].tolist()

    def predecessors(self, i: int) -> list[int]:
        """Nodes that write a tensor node ``i`` reads, in graph order."""
        return self._pred[self._pred_ptr[i]:self._pred_ptr[i + 1]].tolist()

    def between(self, first: int, last: int) -> list[int]:
        """Nodes on paths from ``first`` to ``last`` (index-bounded, as graphs are topologically ordered)."""
        if first > last:
            first, last = last, first
        down = self._reach([first], self.successors, lambda j: j <= last)
        if last not in down:
            return []
        return sorted(self._reach([last], self.predecessors, lambda j: j >= first and j in down))

    @staticmethod
    def _reach(starts: list[int], step: Any, ok: Any) -> set[int]:
        seen = set(starts)
        queue = deque(starts)
        while queue:
            for j in step(queue.popleft()):
                if j not in seen and ok(j):
                    seen.add(j)
                    queue.append(j)
        return seen
