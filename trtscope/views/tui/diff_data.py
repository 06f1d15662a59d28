"""The diff view's view-model: the Diff's tables with display columns added (pure pandas, no Textual), so the
tests check them without a terminal. Nothing is recounted: every figure, flag and ranking is the library's
(``trtscope.analysis.diff``); this module only joins labels on and picks rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from trtscope.analysis.diff import Diff
from trtscope.analysis.diff.gate import FailOn, Violation
from trtscope.model.diff import ChangeKind, GroupChange, Presence
from trtscope.model.vocabulary import LayerKind
from trtscope.presentation.diff_labels import CHANGE_LABELS, GROUP_LABELS, REGRESSIONS
from trtscope.presentation.formatting import is_missing, ms, printable
from trtscope.presentation.labels import (
    CLASS_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    UNFUSED_MARK,
    kind_label,
    op_row_label,
)

#: Marks a regression the gate can check besides its colour (NO_COLOR, light theme).
REGRESSION_MARK = "⚠"
#: Change kinds of layer groups (``diff.inserted``); the others are about one node.
GROUP_KINDS = frozenset({ChangeKind.NEW_REFORMAT.value, ChangeKind.VANISHED_REFORMAT.value,
                         ChangeKind.INSERTED.value})
PRESENCE_LABELS = {Presence.MATCHED.value: "matched", Presence.ONLY_A.value: "only in A",
                   Presence.ONLY_B.value: "only in B"}
#: The Nodes screen's presence filter, in the order ``p`` cycles through it (None: every node).
PRESENCE_CYCLE: tuple[str | None, ...] = (None, Presence.MATCHED.value, Presence.ONLY_A.value,
                                          Presence.ONLY_B.value)
MISSING = "—"


def _objects(s: pd.Series) -> np.ndarray:
    return s.to_numpy(dtype=object)


def change_label(kind: Any) -> str:
    """The change as a reader sees it; regressions carry a symbol (``✗ newly unfused``, ``⚠ new reformat``)."""
    label = CHANGE_LABELS.get(kind, str(kind))
    if kind in REGRESSIONS and not label.startswith(UNFUSED_MARK):
        return f"{REGRESSION_MARK} {label}"
    return label


def pair_label(a: Any, b: Any) -> str:
    """``a → b`` when a matched pair's names differ, else the one name (``—`` for none). Raw text: the table
    cells and the row line make names printable when they draw them."""
    a = None if is_missing(a) or a == "" else str(a)
    b = None if is_missing(b) or b == "" else str(b)
    if a is not None and b is not None and a != b:
        return f"{a} → {b}"
    return a if a is not None else b if b is not None else MISSING


def _texts(s: pd.Series, labels: dict[str, str] | None = None) -> pd.Series:
    """Values as text, ``—`` for a missing or empty one, through ``labels`` when given."""
    t = s.astype(object).where(s.notna(), MISSING).astype(str)
    t = t.where(t != "", MISSING)
    return t.map(lambda v: labels.get(v, v)) if labels else t


def transitions(a: pd.Series, b: pd.Series, labels: dict[str, str] | None = None) -> np.ndarray:
    """Per row ``fused → unfused``; one value when both sides agree; ``—`` for a side without one."""
    ta, tb = _texts(a, labels).to_numpy(dtype=object), _texts(b, labels).to_numpy(dtype=object)
    return np.where(ta == tb, ta, ta + " → " + tb)


def pair_labels(a: pd.Series, b: pd.Series) -> np.ndarray:
    """:func:`pair_label` of every row (vectorised: 200,000 nodes of two 20,000-layer engines)."""
    ta, tb = _texts(a).to_numpy(dtype=object), _texts(b).to_numpy(dtype=object)
    one = np.where(ta == MISSING, tb, ta)
    return np.where((ta != MISSING) & (tb != MISSING) & (ta != tb), ta + " → " + tb, one)


# --- overview ---------------------------------------------------------------------------------------------------
def changes_frame(d: Diff) -> pd.DataFrame:
    """``d.changes`` with its display columns: ``label`` (the change, regressions marked), ``pair`` (subject →
    subject_b), ``regression`` (flagged rows), ``name`` (the full subject, for the row line and copy)."""
    c = d.changes
    kinds = _objects(c["kind"])
    pairs = pair_labels(c["subject"], c["subject_b"])
    return c.assign(
        label=[change_label(k) for k in kinds],
        pair=pairs,
        name=pairs,
        regression=[k in REGRESSIONS for k in kinds],
    )


def gate_lines(conditions: list[FailOn], violations: list[Violation], error: str | None) -> list[tuple[str, str]]:
    """The gate's verdict as (text, emphasis) lines: emphasis "ok", "fail" or "error"; none without conditions.
    Every line says it in words (passed / ✗), never by colour alone."""
    if not conditions:
        return []
    given = ", ".join(c.text for c in conditions)
    if error is not None:
        return [(f"Gate: cannot be evaluated: {error}", "error")]
    if not violations:
        return [(f"Gate passed: none of {given} holds (trtscope diff would exit 0)", "ok")]
    out = [(f"Gate failed: {len(violations)} of {len(conditions)} conditions hold (trtscope diff would exit 1)",
            "fail")]
    out += [(f"  {UNFUSED_MARK} {v.text}: {v.message}", "fail") for v in violations]
    return out


# --- nodes --------------------------------------------------------------------------------------------------
def node_change_kinds(d: Diff) -> np.ndarray:
    """Each ``d.nodes`` row's most important change (a ChangeKind value, "" for none), as ``d.changes`` ranks
    it: the change list names a node by A's name (B's for a node only in B)."""
    c = d.changes[~d.changes["kind"].isin(GROUP_KINDS)]
    only_b = c["kind"].eq(ChangeKind.ONLY_B.value)
    by_a = pd.Series(_objects(c.loc[~only_b, "kind"]), index=_objects(c.loc[~only_b, "subject"]), dtype=object)
    by_b = pd.Series(_objects(c.loc[only_b, "kind"]), index=_objects(c.loc[only_b, "subject"]), dtype=object)
    n = d.nodes
    ka, kb = (n[col].map(by).astype(object) for col, by in (("node_a", by_a), ("node_b", by_b)))
    ka, kb = (k.where(k.notna(), "").to_numpy(dtype=object) for k in (ka, kb))
    return np.where(n["presence"].eq(Presence.ONLY_B.value).to_numpy(), kb, ka)


def nodes_frame(d: Diff) -> pd.DataFrame:
    """``d.nodes`` (every node of either side) with display columns: ``pair`` (node_a → node_b), ``name`` (the
    full pair, for the row line and copy), ``match_label`` (exact / structural / only in A / only in B),
    ``status_text`` and ``prec_text`` (A → B), ``change`` (the change list's kind) and its ``change_label``,
    ``regression`` (newly unfused or precision fallback: flagged rows) and ``changed`` (status, fusion set,
    precision or presence differs: the "changed only" filter; a time change alone is not one)."""
    n = d.nodes
    kinds = node_change_kinds(d)
    pres = n["presence"]
    match = n["match"].astype(object).where(n["match"].notna(), None)
    match_label = [m if isinstance(m, str) and m else PRESENCE_LABELS.get(p, p)
                   for m, p in zip(_objects(match), _objects(pres), strict=True)]
    changed = (n["status_changed"] | n["fusion_changed"] | n["precision_changed"]
               | pres.ne(Presence.MATCHED.value)).to_numpy(dtype=bool)
    pairs = pair_labels(n["node_a"], n["node_b"])
    return n.assign(
        pair=pairs,
        name=pairs,
        match_label=match_label,
        status_text=transitions(n["status_a"], n["status_b"], STATUS_LABELS),
        prec_text=transitions(n["precision_a"], n["precision_b"]),
        change=kinds,
        change_label=[change_label(k) if k else "" for k in kinds],
        regression=(n["newly_unfused"] | n["precision_fallback"]).to_numpy(dtype=bool),
        changed=changed,
        class_label=[CLASS_LABELS.get(c, c) for c in _objects(n["node_class"])],
    )


def presence_mask(frame: pd.DataFrame, presence: str | None) -> np.ndarray | None:
    return None if presence is None else frame["presence"].eq(presence).to_numpy(dtype=bool)


def _layer(an: Any, index: Any) -> pd.Series | None:
    if is_missing(index):
        return None
    rows = an.layers[an.layers["index"].eq(int(index))]
    return None if rows.empty else rows.iloc[0]


def _fused_with(v: Any) -> str:
    if isinstance(v, (list, tuple, np.ndarray)):
        return ", ".join(printable(x) for x in v) if len(v) else "no other compute node"
    return MISSING


#: the rows of the pair detail, in order
PAIR_ROWS = ("ONNX node", "status", "fused with", "derived ms", "layer", "layer kind", "precision", "tactic",
             "layer mean ms", "in layers (ms)")


def pair_rows(d: Diff, row: pd.Series) -> list[tuple[str, str, str]]:
    """The pair detail, side by side: (what, A's value, B's value). Both layers (name, kind, precision, tactic,
    time) come from each side's own ``layers`` table; a side without the node says so."""
    sides = []
    for an, s in ((d.a, "_a"), (d.b, "_b")):
        lay = _layer(an, row[f"layer_index{s}"])
        if is_missing(row[f"node{s}"]):  # the node is on the other side only: nothing to show here
            sides.append(dict.fromkeys(PAIR_ROWS, MISSING))
            continue
        sides.append({
            "ONNX node": _text(row[f"node{s}"]),
            "status": STATUS_LABELS.get(row[f"status{s}"], _text(row[f"status{s}"])),
            "fused with": _fused_with(row[f"fused_with{s}"]),
            "derived ms": ms(row[f"ms{s}"]),
            "layer": _text(row[f"layer{s}"]) + ("" if lay is None else f"  (#{int(lay['index'])})"),
            "layer kind": MISSING if lay is None else kind_label(lay["kind"], bool(lay["in_myelin"])),
            "precision": _text(row[f"precision{s}"]),
            "tactic": MISSING if lay is None else _tactic(lay),
            "layer mean ms": MISSING if lay is None else ms(lay["mean_ms"]),
            "in layers (ms)": ms(row[f"layer_ms{s}"]),
        })
    return [(what, sides[0][what], sides[1][what]) for what in PAIR_ROWS]


def _tactic(layer: pd.Series) -> str:
    name, value = _text(layer.get("tactic")), _text(layer.get("tactic_value"))
    if name == MISSING:
        return value
    return name if value == MISSING else f"{name} ({value})"


def _text(v: Any) -> str:
    return MISSING if is_missing(v) or v == "" else printable(v)


def pair_facts(row: pd.Series) -> list[tuple[str, str]]:
    """What the pair detail says above the two sides: op type, class, how it was matched, the change."""
    out = [("op type", _text(row["op_type"])), ("class", CLASS_LABELS.get(row["node_class"], _text(row["node_class"])))]
    if row["presence"] == Presence.MATCHED.value:
        conf = row["confidence"]
        out.append(("matched", f"{row['match']} (basis {row['basis']}, confidence "
                               f"{'—' if is_missing(conf) else f'{float(conf):.2f}'})"))
    else:
        side = "A" if row["presence"] == Presence.ONLY_A.value else "B"
        out.append((f"only in {side}", _text(row["reason"])))
    if row.get("change_label"):
        out.append(("change", str(row["change_label"])))
    return out


# --- op types, inserted layers, layer kinds -------------------------------------------------------------------
def op_types_frame(d: Diff) -> pd.DataFrame:
    """``d.op_types`` with a ``label`` (``[reformat layers]`` for layer kinds running no ONNX work)."""
    o = d.op_types
    return o.assign(label=[op_row_label(op, k) for op, k in zip(_objects(o["op_type"]), _objects(o["layer_kind"]),
                                                                 strict=True)])


def inserted_frame(d: Diff) -> pd.DataFrame:
    """``d.inserted`` with ``pair`` (the served node, A → B), ``where`` (``input 0``), ``kind_text``,
    ``change_label``, ``changed`` (not ``same``) and ``regression`` (reformats B adds that copy data: what the
    gate's ``new-reformat`` counts), ``name`` (the served node in full)."""
    g = d.inserted
    tensors = _objects(g["tensor"])
    where = [("" if is_missing(dr) else str(dr)) + ("" if is_missing(t) else f" {int(t)}")
             for dr, t in zip(_objects(g["direction"]), tensors, strict=True)]
    grew = g["change"].isin([GroupChange.NEW.value, GroupChange.MORE.value])
    regression = (grew & g["kind"].eq(LayerKind.REFORMAT.value) & (g["copying_b"] > g["copying_a"]))
    labels = [GROUP_LABELS.get(c, c) for c in _objects(g["change"])]
    pairs = pair_labels(g["serves"], g["serves_b"])
    return g.assign(
        pair=pairs, name=pairs, where=where, kind_text=[KIND_LABELS.get(k, k) for k in _objects(g["kind"])],
        change_label=[f"{REGRESSION_MARK} {lab}" if r else lab for lab, r in zip(labels, regression, strict=True)],
        changed=g["change"].ne(GroupChange.SAME.value).to_numpy(dtype=bool),
        regression=regression.to_numpy(dtype=bool),
    )


def inserted_rows(row: pd.Series) -> tuple[list[str], list[str]]:
    """The layers of one group on each side (full names)."""
    def names(v: Any) -> list[str]:
        return [printable(x) for x in v] if isinstance(v, (list, tuple, np.ndarray)) else []

    return names(row["layer_names_a"]), names(row["layer_names_b"])


MYELIN_ROW = "myelin"


def layer_kinds_frame(d: Diff) -> pd.DataFrame:
    """``d.layer_kinds`` with a ``label`` (the Myelin row says what it counts)."""
    k = d.layer_kinds
    return k.assign(label=["inside Myelin regions (any kind)" if x == MYELIN_ROW else KIND_LABELS.get(x, x)
                           for x in _objects(k["kind"])])
