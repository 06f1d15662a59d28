"""The per-node comparison table (``diff.nodes``): every node of either side, paired or not, side by side."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from trtscope.analysis.diff.frames import build
from trtscope.analysis.diff.matching import Matching
from trtscope.analysis.diff.sides import Side, unique_ints
from trtscope.model import diff_outputs as dout
from trtscope.model.diff import MatchBasis, MatchKind, Presence, precision_rank
from trtscope.model.vocabulary import NodeClass, NodeStatus


def _side_values(s: Side, rows: np.ndarray) -> dict[str, list[object]]:
    """Per-row values of side ``s`` for node rows ``rows`` (-1: no node on this side -> None / NaN)."""
    nodes, layers = s.an.onnx_nodes, s.an.layers
    has = rows >= 0
    safe = np.where(has, rows, 0)
    # a side with no nodes (no layer information) has no row to index: every row here is -1 then
    li = s.layer_index[safe] if len(s.layer_index) else np.full(len(rows), -1, dtype=np.int64)
    has_layer = has & (li >= 0)
    li_safe = np.where(has_layer, li, 0)
    lname = layers["name"].to_numpy(dtype=object)
    lprec = layers["precision"].to_numpy(dtype=object)
    status = nodes["status"].to_numpy(dtype=object)
    ms = nodes["derived_ms"].to_numpy(dtype=np.float64)
    lms = nodes["layers_ms"].to_numpy(dtype=np.float64)
    names = s.names

    def pick(arr: np.ndarray, mask: np.ndarray, idx: np.ndarray) -> list[object]:
        return [arr[k] if m else None for k, m in zip(idx.tolist(), mask.tolist(), strict=True)] if len(arr) \
            else [None] * len(idx)

    return {
        "status": pick(status, has, safe),
        "layer": pick(lname, has_layer, li_safe),
        "layer_index": [int(v) if m else None for v, m in zip(li.tolist(), has_layer.tolist(), strict=True)],
        "precision": pick(lprec, has_layer, li_safe),
        "ms": np.where(has, ms[safe] if len(ms) else np.nan, np.nan).tolist(),
        "layer_ms": np.where(has, lms[safe] if len(lms) else np.nan, np.nan).tolist(),
        "fused_with": [[names[k] for k in s.fused_with[r]] if r >= 0 else [] for r in rows.tolist()],
    }


def node_table(a: Side, b: Side, m: Matching) -> pd.DataFrame:
    """DIFF_NODES columns (docs/diff.md): matched pairs in A's order, then only-in-A, then only-in-B."""
    pa, pb = m.pair_a, m.pair_b
    order_a = np.lexsort((np.arange(len(a)), a.rank))
    matched = order_a[pa[order_a] >= 0]
    only_a = order_a[pa[order_a] < 0]
    order_b = np.lexsort((np.arange(len(b)), b.rank))
    only_b = order_b[pb[order_b] < 0]
    rows_a = np.concatenate([matched, only_a, np.full(len(only_b), -1)]).astype(np.int64)
    rows_b = np.concatenate([pa[matched], np.full(len(only_a), -1), only_b]).astype(np.int64)
    n_m, n_a, n_b = len(matched), len(only_a), len(only_b)
    ra, rb = rows_a.tolist(), rows_b.tolist()

    cols: dict[str, Any] = {
        "node_a": [a.names[r] if r >= 0 else None for r in ra],
        "node_b": [b.names[r] if r >= 0 else None for r in rb],
        "op_type": [a.ops[r] if r >= 0 else b.ops[q] for r, q in zip(ra, rb, strict=True)],
        "node_class": [a.classes[r] if r >= 0 else b.classes[q] for r, q in zip(ra, rb, strict=True)],
        "presence": [Presence.MATCHED.value] * n_m + [Presence.ONLY_A.value] * n_a + [Presence.ONLY_B.value] * n_b,
    }
    basis = [m.basis[r] for r in matched.tolist()]
    cols["match"] = [(MatchKind.EXACT if x is MatchBasis.NAME else MatchKind.STRUCTURAL).value for x in basis] \
        + [None] * (n_a + n_b)
    cols["basis"] = [x.value if x is not None else None for x in basis] + [None] * (n_a + n_b)
    cols["confidence"] = np.concatenate([m.confidence[matched], np.full(n_a + n_b, np.nan)])
    cols["reason"] = [""] * n_m + [m.reason_a[r] for r in only_a.tolist()] + [m.reason_b[r] for r in only_b.tolist()]
    for sfx, values in (("a", _side_values(a, rows_a)), ("b", _side_values(b, rows_b))):
        for key, v in values.items():
            cols[f"{key}_{sfx}"] = v
    ms_a = np.asarray(cols["ms_a"], dtype=np.float64)
    ms_b = np.asarray(cols["ms_b"], dtype=np.float64)
    cols["delta_ms"] = np.concatenate([ms_b[:n_m] - ms_a[:n_m], -ms_a[n_m:n_m + n_a], ms_b[n_m + n_a:]])
    cols.update(_flags(cols, a, b, m, ra, rb, n_m))
    return build(dout.DIFF_NODES, cols)


def _sorted_in(x: np.ndarray, sorted_y: np.ndarray) -> np.ndarray:
    """Which elements of ``x`` occur in the sorted array ``sorted_y``."""
    if not len(sorted_y):
        return np.zeros(len(x), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_y, x), len(sorted_y) - 1)
    found: np.ndarray = sorted_y[pos] == x
    return found


def _flags(cols: dict[str, Any], a: Side, b: Side, m: Matching, ra: list[int], rb: list[int],
           n_m: int) -> dict[str, np.ndarray]:
    n = len(ra)
    is_matched = np.zeros(n, dtype=bool)
    is_matched[:n_m] = True
    compute = np.asarray([c == NodeClass.COMPUTE.value for c in cols["node_class"]], dtype=bool)
    st_a = np.asarray(cols["status_a"], dtype=object)
    st_b = np.asarray(cols["status_b"], dtype=object)
    status_changed = is_matched & (st_a != st_b)
    # fused-with sets compared through the pairing, over nodes paired on both sides: as (B row, B row) keys
    pa, pb = m.pair_a, m.pair_b
    nb = max(len(b), 1)
    ai, ax = a.fused_pairs
    keep = (pa[ai] >= 0) & (pa[ax] >= 0)
    ka = pa[ai[keep]] * nb + pa[ax[keep]]
    bj, by = b.fused_pairs
    keep = (pb[bj] >= 0) & (pb[by] >= 0)
    kb = bj[keep] * nb + by[keep]
    ka, kb = unique_ints(ka), unique_ints(kb)
    only_one = np.concatenate([ka[~_sorted_in(ka, kb)], kb[~_sorted_in(kb, ka)]])  # in one set, not the other
    differ = np.zeros(len(b), dtype=bool)
    differ[only_one // nb] = True
    fused_changed = np.zeros(n, dtype=bool)
    fused_changed[:n_m] = differ[np.asarray(rb[:n_m], dtype=np.int64)]
    unfused = NodeStatus.UNFUSED.value
    changed = np.zeros(n, dtype=bool)
    wider = np.zeros(n, dtype=bool)
    rank: dict[object, int | None] = {}
    for k, (x, y) in enumerate(zip(cols["precision_a"][:n_m], cols["precision_b"][:n_m], strict=True)):
        if x == y:
            continue
        rx = rank[x] if x in rank else rank.setdefault(x, precision_rank(x))
        ry = rank[y] if y in rank else rank.setdefault(y, precision_rank(y))
        if rx is not None and ry is not None:
            changed[k] = True
            wider[k] = ry > rx
    return {
        "status_changed": status_changed,
        "fusion_changed": is_matched & compute & (status_changed | fused_changed),
        "newly_unfused": is_matched & compute & (st_b == unfused) & (st_a != unfused),
        "precision_changed": changed,
        "precision_fallback": wider,
    }
