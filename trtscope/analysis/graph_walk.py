"""Name lookups and reachability over the ONNX graph, built once per analysis.

Edges are read lazily (decoding every tensor name of a 100,000-node graph costs as much as the rest of the
graph together), so a mapping that needs no walk never pays for them. Walks use the node index as a
topological bound: valid ONNX graphs list nodes in topological order, so a path from node ``a`` to ``b``
only visits indices between them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

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
