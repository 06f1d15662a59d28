"""Display labels of a comparison's vocabulary, shared by the console view, the TUI and the JSON-free
exports (the JSON document keeps the plain values)."""

from __future__ import annotations

from trtscope.model.diff import ChangeKind, GroupChange

CHANGE_LABELS = {
    ChangeKind.NEWLY_UNFUSED.value: "✗ newly unfused",
    ChangeKind.FUSION.value: "fusion changed",
    ChangeKind.PRECISION_FALLBACK.value: "precision fallback",
    ChangeKind.PRECISION.value: "precision",
    ChangeKind.NEW_REFORMAT.value: "new reformat",
    ChangeKind.VANISHED_REFORMAT.value: "reformat gone",
    ChangeKind.INSERTED.value: "inserted layers",
    ChangeKind.ONLY_A.value: "only in A",
    ChangeKind.ONLY_B.value: "only in B",
    ChangeKind.TIME.value: "time",
}

GROUP_LABELS = {
    GroupChange.NEW.value: "new", GroupChange.VANISHED.value: "vanished", GroupChange.MORE.value: "more",
    GroupChange.FEWER.value: "fewer", GroupChange.SAME.value: "same",
}

#: Change kinds a reader should notice (styled as warnings).
REGRESSIONS = frozenset({ChangeKind.NEWLY_UNFUSED.value, ChangeKind.PRECISION_FALLBACK.value,
                         ChangeKind.NEW_REFORMAT.value})


def signed_ms(v: float | None, digits: int = 4) -> str:
    """A time delta with its sign (``+0.0123``), or an em dash."""
    if v is None or v != v:
        return "—"
    return f"{v:+.{digits}f}"


def signed_pct(v: float | None, digits: int = 1) -> str:
    """A relative change (0.05 -> ``+5.0%``), or an em dash."""
    if v is None or v != v:
        return "—"
    return f"{100 * v:+.{digits}f}%"


def signed_points(v: float | None, digits: int = 1) -> str:
    """A change of a 0..1 share in percentage points (0.02 -> ``+2.0 pts``), or an em dash."""
    if v is None or v != v:
        return "—"
    return f"{100 * v:+.{digits}f} pts"
