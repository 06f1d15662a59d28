"""The ranked change list (``diff.changes``): what a reader (console, TUI) should see first.

One row per node or layer group that changed, with its most important change. Regressions a CI gate can check
come first (a node newly unfused, a precision fallback, new reformat layers that copy data), then everything
else; within each tier the largest time change first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trtscope.analysis.diff.frames import build
from trtscope.model import diff_outputs as dout
from trtscope.model.diff import ChangeKind, GroupChange, Presence
from trtscope.model.vocabulary import LayerKind, NodeClass

#: Change kinds that are regressions the gate can trip on: ranked first.
_FIRST = frozenset({ChangeKind.NEWLY_UNFUSED.value, ChangeKind.PRECISION_FALLBACK.value,
                    ChangeKind.NEW_REFORMAT.value})


def _text(v: object) -> str:
    return "" if v is None or (isinstance(v, float) and v != v) else str(v)


_MATCHED, _ONLY_A = Presence.MATCHED.value, Presence.ONLY_A.value
_COMPUTE = NodeClass.COMPUTE.value


def _node_rows(nodes: pd.DataFrame) -> list[tuple[object, ...]]:
    """One row per changed node, with its most important change (vectorised choice, then only those rows)."""
    pres = nodes["presence"].to_numpy(dtype=object)
    matched = pres == _MATCHED
    only_a = pres == _ONLY_A
    compute = nodes["node_class"].to_numpy(dtype=object) == _COMPUTE
    d = nodes["delta_ms"].to_numpy(dtype=np.float64)
    flags = {c: nodes[c].to_numpy(dtype=bool) for c in ("newly_unfused", "precision_fallback", "fusion_changed",
                                                         "precision_changed")}
    kinds = [ChangeKind.NEWLY_UNFUSED, ChangeKind.PRECISION_FALLBACK, ChangeKind.FUSION, ChangeKind.PRECISION,
             ChangeKind.TIME, ChangeKind.ONLY_A, ChangeKind.ONLY_B]
    conds = [matched & flags["newly_unfused"], matched & flags["precision_fallback"],
             matched & flags["fusion_changed"], matched & flags["precision_changed"],
             matched & ~np.isnan(d) & (d != 0), ~matched & compute & only_a, ~matched & compute & ~only_a]
    choice = np.select(conds, list(range(len(kinds))), default=-1)
    rows = np.flatnonzero(choice >= 0)
    take = {c: nodes[c].to_numpy(dtype=object)[rows].tolist() for c in (
        "node_a", "node_b", "op_type", "status_a", "status_b", "precision_a", "precision_b", "ms_a", "ms_b")}
    out: list[tuple[object, ...]] = []
    for k, (c, na, nb, op, sa, sb, pra, prb, msa, msb) in enumerate(zip(
            choice[rows].tolist(), take["node_a"], take["node_b"], take["op_type"], take["status_a"], take["status_b"],
            take["precision_a"], take["precision_b"], take["ms_a"], take["ms_b"], strict=True)):
        kind = kinds[c]
        if kind in (ChangeKind.NEWLY_UNFUSED, ChangeKind.FUSION):
            va, vb = sa, sb
        elif kind in (ChangeKind.PRECISION_FALLBACK, ChangeKind.PRECISION):
            va, vb = pra, prb
        elif kind is ChangeKind.ONLY_A:
            va, vb = sa, ""
        elif kind is ChangeKind.ONLY_B:
            va, vb = "", sb
        else:
            va, vb = "", ""
        if kind is ChangeKind.ONLY_B:
            subject, subject_b = nb, None
        else:
            subject, subject_b = na, (nb if nb != na else None)
        out.append((kind.value, subject, subject_b, op, _text(va), _text(vb), msa, msb, float(d[rows[k]])))
    return out


def _group_rows(groups: pd.DataFrame) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    cols = ["kind", "serves", "serves_b", "layers_a", "layers_b", "copying_a", "copying_b", "ms_a", "ms_b",
            "delta_ms", "change"]
    for kind, serves, serves_b, la, lb, ca, cb, msa, msb, d, change in zip(
            *(groups[c].tolist() for c in cols), strict=True):
        if change == GroupChange.SAME.value:
            continue
        grew = change in (GroupChange.NEW.value, GroupChange.MORE.value)
        if kind == LayerKind.REFORMAT.value:
            # elided (NoOp) reformats cost nothing: a group that only gains those is not a regression
            ck = ChangeKind.NEW_REFORMAT if grew and cb > ca else ChangeKind.INSERTED if grew \
                else ChangeKind.VANISHED_REFORMAT
        else:
            ck = ChangeKind.INSERTED
        out.append((ck.value, _text(serves) or f"[{kind}]", serves_b if serves_b != serves else None, kind,
                    str(la), str(lb), msa, msb, d))
    return out


def change_table(nodes: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """DIFF_CHANGES: see the module docstring for the order."""
    rows = _node_rows(nodes) + _group_rows(groups)
    names = ["kind", "subject", "subject_b", "op_type", "a", "b", "ms_a", "ms_b", "delta_ms"]
    delta = np.asarray([r[8] for r in rows], dtype=np.float64)
    tier = np.asarray([r[0] not in _FIRST for r in rows], dtype=np.int64)
    order = np.lexsort((-np.nan_to_num(np.abs(delta)), tier)).tolist()
    cols: dict[str, list[object]] = {n: [rows[i][k] for i in order] for k, n in enumerate(names)}
    return build(dout.DIFF_CHANGES, {"rank": list(range(1, len(rows) + 1)), **cols})
