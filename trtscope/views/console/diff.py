"""The console view of ``trtscope diff``: headline figures side by side, then the changes that matter most,
then the details (fusion, precision, op types, inserted layers, nodes only on one side) and the gate.

Reads only a Diff (and the gate's verdict); every figure and every ranking comes from the library. Names are
rendered as ``Text`` (never markup): TensorRT layer names contain square brackets and control bytes.
"""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from trtscope.analysis.diff import Diff
from trtscope.analysis.diff.gate import FailOn, Violation
from trtscope.model.diff import GroupChange, Presence
from trtscope.model.vocabulary import NodeClass
from trtscope.presentation.diff_labels import CHANGE_LABELS, GROUP_LABELS, REGRESSIONS, signed_ms, signed_points
from trtscope.presentation.formatting import is_missing, middle_truncate, ms, node_list, printable
from trtscope.presentation.labels import op_row_label
from trtscope.views.diff_headline import diff_headline_rows

_STYLES = {"": "", "bold": "bold", "warn": "yellow"}


def _name(v: object, width: int = 36) -> Text:
    if v is None or (isinstance(v, float) and v != v):
        return Text("—", style="dim")
    return Text(middle_truncate(printable(v), width), no_wrap=True, overflow="ellipsis")


def _pair(a: object, b: object, width: int) -> Text:
    """``a → b`` for a matched pair whose names differ, else the one name."""
    if isinstance(a, str) and isinstance(b, str) and a != b:
        w = max(8, (width - 3) // 2)
        return Text(f"{middle_truncate(printable(a), w)} → {middle_truncate(printable(b), w)}", no_wrap=True)
    return _name(a if isinstance(a, str) else b, width)


def _headline(d: Diff) -> Panel:
    t = Table(box=None, padding=(0, 1), show_header=True, header_style="bold")
    t.add_column("")
    t.add_column(Text(printable(d.label_a)), overflow="fold")
    t.add_column(Text(printable(d.label_b)), overflow="fold")
    t.add_column("change", overflow="fold")
    for label, va, vb, change, emph in diff_headline_rows(d):
        t.add_row(Text(label, style="bold"), va, vb, Text(change, style=_STYLES[emph]))
    return Panel(t, title=Text(f"trtscope diff: A = {printable(d.label_a)}, B = {printable(d.label_b)}"),
                 title_align="left")


def _top_changes(d: Diff, top: int, width: int) -> Table | None:
    ch = d.changes
    if ch.empty:
        return None
    shown = ch.head(top)
    t = Table(title=f"Top changes (B - A; {min(top, len(ch))} of {len(ch)}: regressions first, then by time)",
              title_justify="left")
    t.add_column("#", justify="right")
    t.add_column("change", no_wrap=True)
    t.add_column("node (A → B)", no_wrap=True)
    t.add_column("op type", no_wrap=True)
    t.add_column("A")
    t.add_column("B")
    t.add_column("Δ ms", justify="right")
    name_w = max(20, width - 70)
    for r in shown.itertuples(index=False):
        style = "yellow" if r.kind in REGRESSIONS else ""
        t.add_row(str(r.rank), Text(CHANGE_LABELS.get(r.kind, r.kind), style=style),
                  _pair(r.subject, r.subject_b, name_w), _name(r.op_type, 18), r.a, r.b, signed_ms(r.delta_ms))
    return t


def _fusion(d: Diff, top: int, width: int) -> Table | None:
    n = d.nodes
    sel = n[n["fusion_changed"]]
    if sel.empty:
        return None
    sel = sel.iloc[(~sel["newly_unfused"]).argsort(kind="stable")].head(top)
    t = Table(title=f"Fusion changes ({len(sel)} of {d.summary.fusion_changes}; newly unfused first)",
              title_justify="left")
    t.add_column("node (A → B)", no_wrap=True)
    t.add_column("op type", no_wrap=True)
    t.add_column("A: status, fused with")
    t.add_column("B: status, fused with")
    t.add_column("Δ ms", justify="right")
    w = max(20, width // 3)
    for r in sel.itertuples(index=False):
        style = "yellow" if r.newly_unfused else ""
        t.add_row(_pair(r.node_a, r.node_b, w), _name(r.op_type, 18),
                  f"{r.status_a} {node_list(r.fused_with_a)}".strip(),
                  Text(f"{r.status_b} {node_list(r.fused_with_b)}".strip(), style=style), signed_ms(r.delta_ms))
    return t


def _precision(d: Diff, top: int, width: int) -> Table | None:
    n = d.nodes
    sel = n[n["precision_changed"]]
    if sel.empty:
        return None
    sel = sel.iloc[(~sel["precision_fallback"]).argsort(kind="stable")].head(top)
    t = Table(title=f"Precision changes ({len(sel)} of {d.summary.precision_changes}; fallbacks to a wider type "
              "first)", title_justify="left")
    t.add_column("node (A → B)", no_wrap=True)
    t.add_column("op type", no_wrap=True)
    t.add_column("A")
    t.add_column("B")
    t.add_column("Δ ms", justify="right")
    for r in sel.itertuples(index=False):
        style = "yellow" if r.precision_fallback else ""
        t.add_row(_pair(r.node_a, r.node_b, max(20, width // 2)), _name(r.op_type, 18), str(r.precision_a),
                  Text(str(r.precision_b), style=style), signed_ms(r.delta_ms))
    return t


def _op_types(d: Diff, top: int) -> Table | None:
    o = d.op_types
    if o.empty or (o["ms_a"].isna().all() and o["ms_b"].isna().all()):
        return None
    t = Table(title="Time by ONNX op type (derived: a fused layer's time goes to its anchor op), by |Δ ms|",
              title_justify="left")
    for c in ("op type", "nodes A", "nodes B", "ms A", "ms B", "Δ ms", "Δ share"):
        t.add_column(c, justify="left" if c == "op type" else "right", no_wrap=True)
    for r in o.head(top).itertuples(index=False):
        t.add_row(_name(op_row_label(r.op_type, r.layer_kind), 24), f"{r.nodes_a:,}", f"{r.nodes_b:,}", ms(r.ms_a),
                  ms(r.ms_b), signed_ms(r.delta_ms), signed_points(r.delta_share))
    return t


def _inserted(d: Diff, top: int, width: int) -> Table | None:
    g = d.inserted
    sel = g[g["change"] != GroupChange.SAME.value]
    if sel.empty:
        return None
    sel = sel.iloc[(-sel["delta_ms"].abs().fillna(0)).argsort(kind="stable")].head(top)
    t = Table(title="Layers without ONNX work of their own (reformat, Q/DQ, no-op): count by where they sit",
              title_justify="left")
    for c in ("kind", "serves (A → B)", "side", "A", "B", "change", "Δ ms"):
        t.add_column(c, justify="right" if c in ("A", "B", "Δ ms") else "left", no_wrap=True)
    for r in sel.itertuples(index=False):
        # tensor is a nullable integer (<NA> has no truth value): the TUI's test, one missing value for both
        side = "" if is_missing(r.direction) else f"{r.direction}" + ("" if is_missing(r.tensor)
                                                                      else f" {int(r.tensor)}")
        t.add_row(str(r.kind), _pair(r.serves, r.serves_b, max(20, width // 3)), side, f"{r.layers_a}",
                  f"{r.layers_b}", GROUP_LABELS.get(r.change, r.change), signed_ms(r.delta_ms))
    return t


def _only(d: Diff, top: int, width: int) -> Table | None:
    n = d.nodes
    sel = n[(n["presence"] != Presence.MATCHED.value) & (n["node_class"] == NodeClass.COMPUTE.value)]
    if sel.empty:
        return None
    m = d.summary.match
    t = Table(title=f"Compute nodes on one side only ({m.compute_only_a:,} only in A, {m.compute_only_b:,} only in "
              f"B; every node is in --json)", title_justify="left")
    t.add_column("side")
    t.add_column("node", no_wrap=True)
    t.add_column("op type", no_wrap=True)
    t.add_column("status")
    t.add_column("why", overflow="fold")
    for r in sel.head(top).itertuples(index=False):
        only_a = r.presence == Presence.ONLY_A.value
        t.add_row("A" if only_a else "B", _name(r.node_a if only_a else r.node_b, max(16, width // 4)),
                  _name(r.op_type, 18), str(r.status_a if only_a else r.status_b), r.reason)
    return t


def _gate(conditions: list[FailOn], violations: list[Violation]) -> Text:
    if not violations:
        return Text(f"Gate passed: none of {', '.join(c.text for c in conditions)} holds", style="green")
    out = Text(f"Gate failed: {len(violations)} of {len(conditions)} conditions hold\n", style="bold red")
    for v in violations:
        out.append(f"  ✗ {v.text}: {v.message}\n", style="red")
    return out


def render_diff(d: Diff, console: Console, top: int = 10, conditions: list[FailOn] | None = None,
                violations: list[Violation] | None = None) -> None:
    width = console.width
    console.print(_headline(d))
    if d.summary.no_change:
        console.print(Text("No change: the same nodes, fused the same way, in the same precision, with the same "
                           "layers" + (" (only times differ)." if len(d.changes) else "."), style="green"))
    for section in (_top_changes(d, top, width), _fusion(d, top, width), _precision(d, top, width),
                    _op_types(d, top), _inserted(d, top, width), _only(d, top, width)):
        if section is not None:
            console.print(section)
    for w in d.warnings:
        console.print(Text(f"note: {printable(w)}", style="dim"))
    if conditions:
        console.print(_gate(conditions, violations or []))
