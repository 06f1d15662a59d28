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


def _node_rows(nodes: pd.DataFrame) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    cols = ["node_a", "node_b", "op_type", "node_class", "presence", "status_a", "status_b", "precision_a",
            "precision_b", "ms_a", "ms_b", "delta_ms", "newly_unfused", "precision_fallback", "fusion_changed",
            "precision_changed"]
    for (na, nb, op, cls, pres, sa, sb, pra, prb, msa, msb, d, unf, fb, fc, pc) in zip(
            *(nodes[c].tolist() for c in cols), strict=True):
        if pres == Presence.MATCHED.value:
            if unf:
                kind, va, vb = ChangeKind.NEWLY_UNFUSED, sa, sb
            elif fb:
                kind, va, vb = ChangeKind.PRECISION_FALLBACK, pra, prb
            elif fc:
                kind, va, vb = ChangeKind.FUSION, sa, sb
            elif pc:
                kind, va, vb = ChangeKind.PRECISION, pra, prb
            elif d == d and d != 0:
                kind, va, vb = ChangeKind.TIME, "", ""
            else:
                continue
            subject, subject_b = na, (nb if nb != na else None)
        else:
            if cls != NodeClass.COMPUTE.value:  # Q/DQ, shape, constant: their layers are compared as groups
                continue
            only_a = pres == Presence.ONLY_A.value
            kind = ChangeKind.ONLY_A if only_a else ChangeKind.ONLY_B
            va, vb = (sa, "") if only_a else ("", sb)
            subject, subject_b = (na, None) if only_a else (nb, None)
        out.append((kind.value, subject, subject_b, op, _text(va), _text(vb), msa, msb, d))
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
