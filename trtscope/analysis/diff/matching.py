"""Pairing the ONNX nodes of two engines' models: by name where the models share names, else by structure.

Steps, each on the nodes still unpaired:

1. **Names.** When at least half of the smaller side's nodes have a same-named node of the same op type on the
   other side, the models share names and those pairs are taken as they are (``exact``). Below that, names are
   not trusted at all: an exporter that renumbers nodes (``Conv_9`` -> ``Conv_12`` after Q/DQ insertion) makes
   equal names a coincidence.
2. **Neighbours.** Around every pair, a node that is the only unpaired one of its op type next to the pair on
   both sides is paired with its counterpart (graph neighbours, also through shape, constant and Q/DQ nodes,
   when both sides have an ONNX graph; nodes sharing an engine layer otherwise). Repeated after every step.
3. **Alignment.** The paired nodes that keep both sides' order are anchors; between two anchors, the unpaired
   nodes of each op type are aligned in order (a longest common subsequence) on finer keys first: op type +
   shapes + surroundings, op type + shapes, op type + surroundings, then op type alone. Aligning per op type
   means nodes present on one side only (Q/DQ nodes of a QAT model, an inserted op) never shift the pairing of
   the compute nodes around them.

Order is the ONNX graph's when both sides have one, else the engine's layer order; shapes are the engine
layers' tensor dimensions (when the layer information has them); surroundings are the op types of the nearest
compute nodes in the graph, or of the other compute nodes in the node's layer without a graph.
"""

from __future__ import annotations

import difflib
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np

from trtscope.analysis.diff.sides import Side
from trtscope.model.diff import MatchBasis
from trtscope.model.vocabulary import NodeClass, NodeStatus

#: Share of the smaller side's nodes that must pair by name for names to be trusted.
NAMES_SHARED = 0.5
_LEVELS = (MatchBasis.SHAPE_CONTEXT, MatchBasis.SHAPE, MatchBasis.CONTEXT, MatchBasis.ORDER)


@dataclass
class Matching:
    """``pair_a[i]``: the B row paired with A row i (-1: none); ``pair_b`` the inverse. ``basis`` and
    ``confidence`` per A row (None / NaN when unpaired); reasons per unpaired row of each side."""

    pair_a: np.ndarray
    pair_b: np.ndarray
    basis: list[MatchBasis | None]
    confidence: np.ndarray
    names_shared: bool
    reason_a: list[str]
    reason_b: list[str]


def match_nodes(a: Side, b: Side) -> Matching:
    pa = np.full(len(a), -1, dtype=np.int64)
    pb = np.full(len(b), -1, dtype=np.int64)
    basis: list[MatchBasis | None] = [None] * len(a)

    def pair(i: int, j: int, why: MatchBasis) -> None:
        pa[i], pb[j], basis[i] = j, i, why

    by_name = _name_pairs(a, b)
    shared = bool(len(a) and len(b)) and len(by_name) >= NAMES_SHARED * min(len(a), len(b))
    if shared:
        for i, j in by_name:
            pair(i, j, MatchBasis.NAME)
    if (pa < 0).any() and (pb < 0).any():  # something left to pair on both sides: structure is needed
        # propagation starts from the pairs next to an unpaired node (not from every pair)
        seeds = {x for u in np.flatnonzero(pa < 0).tolist() for x in a.neighbours(u) if pa[x] >= 0}
        _propagate(a, b, pa, pb, pair, sorted(seeds))
        for level in _LEVELS:
            if not ((pa < 0).any() and (pb < 0).any()):
                break
            new = _align(a, b, pa, pb, level, pair)
            _propagate(a, b, pa, pb, pair, new)
    conf = _confidence(a, b, pa, pb, basis)
    return Matching(pair_a=pa, pair_b=pb, basis=basis, confidence=conf, names_shared=shared,
                    reason_a=_reasons(a, b, pa), reason_b=_reasons(b, a, pb))


def _compatible(x: str | None, y: str | None) -> bool:
    return x == y or x is None or y is None


def _name_pairs(a: Side, b: Side) -> list[tuple[int, int]]:
    where = {n: j for j, n in enumerate(b.names)}
    out = []
    for i, n in enumerate(a.names):
        j = where.get(n)
        if j is not None and _compatible(a.ops[i], b.ops[j]):
            out.append((i, j))
    return out


def _propagate(a: Side, b: Side, pa: np.ndarray, pb: np.ndarray, pair: Callable[[int, int, MatchBasis], None],
               queue: list[int]) -> None:
    """Pair the only unpaired node of an op type next to a pair with the only one next to its counterpart."""
    while queue:
        i = queue.pop()
        j = int(pa[i])
        na = [x for x in a.neighbours(i) if pa[x] < 0]
        nb = [y for y in b.neighbours(j) if pb[y] < 0]
        if not na or not nb:
            continue
        ca = Counter(a.ops[x] for x in na)
        cb = Counter(b.ops[y] for y in nb)
        for x in na:
            op = a.ops[x]
            if op is None or ca[op] != 1 or cb.get(op) != 1:
                continue
            y = next(y for y in nb if b.ops[y] == op)
            if pa[x] < 0 and pb[y] < 0:
                pair(x, y, MatchBasis.NEIGHBOUR)
                queue.append(x)


def _anchors(a: Side, b: Side, pa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ranks (A, B) of the pairs that keep both orders: the longest increasing run of B ranks in A order."""
    rows = np.flatnonzero(pa >= 0)
    if not len(rows):
        return np.zeros(0), np.zeros(0)
    ra = a.rank[rows]
    rb = b.rank[pa[rows]]
    ok = np.isfinite(ra) & np.isfinite(rb)
    ra, rb = ra[ok], rb[ok]
    order = np.argsort(ra, kind="stable")
    ra, rb = ra[order], rb[order]
    keep = _lis(rb.tolist())
    return ra[keep], rb[keep]


def _lis(seq: list[float]) -> list[int]:
    """Indices of a longest strictly increasing subsequence (patience sorting, O(n log n))."""
    tails: list[float] = []
    tail_at: list[int] = []
    prev = [-1] * len(seq)
    for k, v in enumerate(seq):
        p = bisect_left(tails, v)
        if p == len(tails):
            tails.append(v)
            tail_at.append(k)
        else:
            tails[p] = v
            tail_at[p] = k
        prev[k] = tail_at[p - 1] if p else -1
    out: list[int] = []
    k = tail_at[-1] if tail_at else -1
    while k >= 0:
        out.append(k)
        k = prev[k]
    return out[::-1]


def _key(s: Side, row: int, level: MatchBasis) -> Hashable | None:
    """The alignment key of a node at one level; None: the node cannot take part (shape unknown)."""
    if level is MatchBasis.SHAPE_CONTEXT:
        return None if s.shape[row] is None else (s.shape[row], s.context[row])
    if level is MatchBasis.SHAPE:
        return s.shape[row]
    if level is MatchBasis.CONTEXT:
        return s.context[row]
    return 0


def _groups(s: Side, free: np.ndarray, anchor_ranks: np.ndarray) -> dict[tuple[int, str | None], list[int]]:
    """Unpaired, ordered rows by (gap between anchors, op type), each list in order."""
    rows = free[np.isfinite(s.rank[free])]
    rows = rows[np.argsort(s.rank[rows], kind="stable")]
    gaps = np.searchsorted(anchor_ranks, s.rank[rows]).tolist()
    out: dict[tuple[int, str | None], list[int]] = {}
    for g, r in zip(gaps, rows.tolist(), strict=True):
        out.setdefault((g, s.ops[r]), []).append(r)
    return out


def _align(a: Side, b: Side, pa: np.ndarray, pb: np.ndarray, level: MatchBasis,
           pair: Callable[[int, int, MatchBasis], None]) -> list[int]:
    free_a, free_b = np.flatnonzero(pa < 0), np.flatnonzero(pb < 0)
    if not len(free_a) or not len(free_b):
        return []
    anchors_a, anchors_b = _anchors(a, b, pa)
    ga, gb = _groups(a, free_a, anchors_a), _groups(b, free_b, anchors_b)
    new: list[int] = []
    for key, rows_a in ga.items():
        rows_b = gb.get(key)
        if not rows_b:
            continue
        xa = [(r, _key(a, r, level)) for r in rows_a]
        xb = [(r, _key(b, r, level)) for r in rows_b]
        xa = [x for x in xa if x[1] is not None]
        xb = [x for x in xb if x[1] is not None]
        for i, j in _lcs_pairs([k for _, k in xa], [k for _, k in xb]):
            pair(xa[i][0], xb[j][0], level)
            new.append(xa[i][0])
    return new


def _lcs_pairs(ka: list[Hashable], kb: list[Hashable]) -> list[tuple[int, int]]:
    """Positions paired by a longest common subsequence of two key lists (common ends first: cheap when the
    lists are nearly equal, as two engines of one model are)."""
    n = min(len(ka), len(kb))
    head = 0
    while head < n and ka[head] == kb[head]:
        head += 1
    tail = 0
    while tail < n - head and ka[len(ka) - 1 - tail] == kb[len(kb) - 1 - tail]:
        tail += 1
    out = [(k, k) for k in range(head)]
    mid_a, mid_b = ka[head:len(ka) - tail], kb[head:len(kb) - tail]
    if mid_a and mid_b:
        sm = difflib.SequenceMatcher(None, mid_a, mid_b, autojunk=False)
        for blk in sm.get_matching_blocks():
            out.extend((head + blk.a + k, head + blk.b + k) for k in range(blk.size))
    out.extend((len(ka) - tail + k, len(kb) - tail + k) for k in range(tail))
    return out


def _confidence(a: Side, b: Side, pa: np.ndarray, pb: np.ndarray, basis: list[MatchBasis | None]) -> np.ndarray:
    """1 for name pairs; structural pairs: 0.5 (op type and order agree) + 0.5 x the mean of the checks that
    can be made: shapes equal, surroundings equal, and the pair's matched neighbours correspond (graph or
    layer neighbours; without any, whether the previous and next pairs in order keep both orders)."""
    conf = np.full(len(a), np.nan)
    local = _local_order(a, b, pa)
    for i in np.flatnonzero(pa >= 0).tolist():
        if basis[i] is MatchBasis.NAME:
            conf[i] = 1.0
            continue
        j = int(pa[i])
        checks: list[float] = []
        if a.shape[i] is not None and b.shape[j] is not None:
            checks.append(float(a.shape[i] == b.shape[j]))
        checks.append(float(a.context[i] == b.context[j]))
        near = [x for x in a.neighbours(i) if pa[x] >= 0]
        if near:
            nb = set(b.neighbours(j))
            checks.append(sum(1 for x in near if int(pa[x]) in nb) / len(near))
        elif i in local:
            checks.append(local[i])
        conf[i] = 0.5 + 0.5 * (sum(checks) / len(checks))
    return conf


def _local_order(a: Side, b: Side, pa: np.ndarray) -> dict[int, float]:
    """Per paired A row: the share of its previous / next pair (in A's order) that lies on the same side of
    it in B's order."""
    rows = np.flatnonzero(pa >= 0)
    rows = rows[np.isfinite(a.rank[rows]) & np.isfinite(b.rank[pa[rows]])]
    if len(rows) < 2:
        return {}
    rows = rows[np.argsort(a.rank[rows], kind="stable")]
    rb = b.rank[pa[rows]]
    up = rb[1:] > rb[:-1]  # pair k and k+1 keep order
    prev_ok = np.concatenate([[np.nan], up.astype(float)])
    next_ok = np.concatenate([up.astype(float), [np.nan]])
    score = np.nanmean(np.vstack([prev_ok, next_ok]), axis=0)
    return dict(zip(rows.tolist(), score.tolist(), strict=True))


def _reasons(x: Side, y: Side, px: np.ndarray) -> list[str]:
    """Why each unpaired node of side ``x`` has no counterpart on side ``y`` ("" for paired nodes)."""
    ops_y = Counter(y.ops)
    free_y = Counter(y.ops[r] for r in np.flatnonzero(_paired(y, px) < 0).tolist())
    out = [""] * len(x)
    for i in np.flatnonzero(px < 0).tolist():
        op = x.ops[i]
        what = op or "unknown-op"
        if not y.has_graph:
            status = x.statuses[i]
            if status in (NodeStatus.FOLDED.value, NodeStatus.ABSORBED.value):
                out[i] = (f"{status} in {x.letter}; {y.letter} has no ONNX model, so only the nodes its layers name "
                          f"are known")
            elif x.classes[i] == NodeClass.QDQ.value and ops_y.get(op, 0) == 0:
                out[i] = f"Q/DQ node: {y.letter}'s layers name no {what} node (not quantized there)"
            else:
                out[i] = (f"no unpaired {what} node of {y.letter} fits here; {y.letter} has no ONNX model, so "
                          f"nodes its layers do not name are unknown")
        elif ops_y.get(op, 0) == 0:
            if x.classes[i] == NodeClass.QDQ.value:
                out[i] = f"Q/DQ node: {y.letter} has no {what} node (not quantized there)"
            else:
                out[i] = f"{y.letter} has no {what} node"
        elif free_y.get(op, 0) == 0:
            out[i] = f"every {what} node of {y.letter} is paired with another node"
        else:
            out[i] = (f"the unpaired {what} nodes of {y.letter} lie elsewhere in the graph (between other matched "
                      f"nodes)")
    return out


def _paired(y: Side, px: np.ndarray) -> np.ndarray:
    """y's pairing array, rebuilt from x's (so reasons need only one array per side)."""
    py = np.full(len(y), -1, dtype=np.int64)
    rows = np.flatnonzero(px >= 0)
    py[px[rows]] = rows
    return py
