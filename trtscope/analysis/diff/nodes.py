"""The per-node comparison table (``diff.nodes``): every node of either side, paired or not, side by side."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trtscope.analysis.diff.frames import tidy
from trtscope.analysis.diff.matching import Matching
from trtscope.analysis.diff.sides import Side
from trtscope.model import diff_outputs as dout
from trtscope.model.diff import MatchBasis, MatchKind, Presence, precision_rank
from trtscope.model.vocabulary import NodeClass, NodeStatus


def _side_values(s: Side, rows: np.ndarray) -> dict[str, list[object]]:
    """Per-row values of side ``s`` for node rows ``rows`` (-1: no node on this side -> None / NaN)."""
    nodes, layers = s.an.onnx_nodes, s.an.layers
    has = rows >= 0
    safe = np.where(has, rows, 0)
    li = s.layer_index[safe]
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
    n_m, n_a = len(matched), len(only_a)

    va, vb = _side_values(a, rows_a), _side_values(b, rows_b)
    df = pd.DataFrame({
        "node_a": [a.names[r] if r >= 0 else None for r in rows_a.tolist()],
        "node_b": [b.names[r] if r >= 0 else None for r in rows_b.tolist()],
        "op_type": [a.ops[r] if r >= 0 else b.ops[q] for r, q in zip(rows_a.tolist(), rows_b.tolist(), strict=True)],
        "node_class": [a.classes[r] if r >= 0 else b.classes[q]
                       for r, q in zip(rows_a.tolist(), rows_b.tolist(), strict=True)],
        "presence": [Presence.MATCHED.value] * n_m + [Presence.ONLY_A.value] * n_a
        + [Presence.ONLY_B.value] * len(only_b),
    })
    basis = [m.basis[r] for r in matched.tolist()]
    df["match"] = [(MatchKind.EXACT if x is MatchBasis.NAME else MatchKind.STRUCTURAL).value for x in basis] \
        + [None] * (n_a + len(only_b))
    df["basis"] = [x.value if x is not None else None for x in basis] + [None] * (n_a + len(only_b))
    df["confidence"] = np.concatenate([m.confidence[matched], np.full(n_a + len(only_b), np.nan)])
    df["reason"] = [""] * n_m + [m.reason_a[r] for r in only_a.tolist()] + [m.reason_b[r] for r in only_b.tolist()]
    for key in ("status", "layer", "layer_index", "precision", "ms", "layer_ms"):
        df[f"{key}_a"] = va[key]
        df[f"{key}_b"] = vb[key]
    for c in ("layer_index_a", "layer_index_b"):
        df[c] = pd.array(df[c].tolist(), dtype="Int64")
    ms_a = df["ms_a"].to_numpy(dtype=np.float64)
    ms_b = df["ms_b"].to_numpy(dtype=np.float64)
    df["delta_ms"] = np.concatenate([ms_b[:n_m] - ms_a[:n_m], -ms_a[n_m:n_m + n_a], ms_b[n_m + n_a:]])
    df["fused_with_a"] = va["fused_with"]
    df["fused_with_b"] = vb["fused_with"]
    _flags(df, a, b, m, rows_a, rows_b, n_m)
    return tidy(df, dout.DIFF_NODES)


def _flags(df: pd.DataFrame, a: Side, b: Side, m: Matching, rows_a: np.ndarray, rows_b: np.ndarray,
           n_m: int) -> None:
    n = len(df)
    is_matched = np.zeros(n, dtype=bool)
    is_matched[:n_m] = True
    compute = (df["node_class"] == NodeClass.COMPUTE.value).to_numpy()
    st_a, st_b = df["status_a"].to_numpy(dtype=object), df["status_b"].to_numpy(dtype=object)
    status_changed = is_matched & (st_a != st_b)
    fused_changed = np.zeros(n, dtype=bool)
    pa, pb = m.pair_a, m.pair_b
    for k in range(n_m):
        if not compute[k]:
            continue
        i, j = int(rows_a[k]), int(rows_b[k])
        with_a = {int(pa[x]) for x in a.fused_with[i] if pa[x] >= 0}
        with_b = {y for y in b.fused_with[j] if pb[y] >= 0}
        fused_changed[k] = with_a != with_b
    df["status_changed"] = status_changed
    df["fusion_changed"] = is_matched & compute & (status_changed | fused_changed)
    df["newly_unfused"] = is_matched & compute & (st_b == NodeStatus.UNFUSED.value) & (st_a != NodeStatus.UNFUSED.value)
    ra = np.asarray([precision_rank(p) for p in df["precision_a"].tolist()], dtype=object)
    rb = np.asarray([precision_rank(p) for p in df["precision_b"].tolist()], dtype=object)
    known = np.asarray([x is not None and y is not None for x, y in zip(ra, rb, strict=True)], dtype=bool)
    pr_a, pr_b = df["precision_a"].to_numpy(dtype=object), df["precision_b"].to_numpy(dtype=object)
    changed = is_matched & known & (pr_a != pr_b)
    df["precision_changed"] = changed
    wider = np.asarray([bool(k) and x > y for k, x, y in zip(changed, rb, ra, strict=True)], dtype=bool)
    df["precision_fallback"] = changed & wider
