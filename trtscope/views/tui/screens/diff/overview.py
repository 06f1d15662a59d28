"""The diff view's Overview: the gate's verdict when ``--fail-on`` conditions were given, the headline figures
side by side (figure | A | B | change, the rows the console view shows: ``views/diff_headline.py``), the
library's notes, then the ranked change list (regressions first, marked ``✗`` / ``⚠``, then by |Δ ms|). Enter
on a change shows its node in Nodes, or its group in Inserted."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from trtscope.model.diff import ChangeKind
from trtscope.presentation.formatting import printable
from trtscope.views.diff_headline import diff_headline_rows
from trtscope.views.tui import diff_data
from trtscope.views.tui.cells import is_missing
from trtscope.views.tui.columns import DIFF_CHANGE_COLUMNS, DIFF_CHANGE_EXPORT
from trtscope.views.tui.messages import Jump, JumpTo
from trtscope.views.tui.screens.base import focus_first_table, section
from trtscope.views.tui.screens.diff.base import DiffScreen
from trtscope.views.tui.widgets import FrameTable

#: emphasis of a headline row -> style and the symbol that says it without colour
_EMPHASIS = {"": ("", ""), "bold": ("bold", ""), "warn": ("bold yellow", diff_data.REGRESSION_MARK + " ")}
ONLY_B = ChangeKind.ONLY_B.value
_GATE = {"ok": "bold green", "fail": "bold red", "error": "bold yellow"}


class DiffOverviewScreen(DiffScreen):
    MODE = "overview"

    def headline(self) -> Table:
        d = self.diff
        t = Table(box=None, padding=(0, 1), show_header=True, header_style="bold", expand=False)
        t.add_column("", no_wrap=True, style="bold")
        t.add_column(Text(f"A: {printable(d.label_a)}"), overflow="fold", ratio=2)
        t.add_column(Text(f"B: {printable(d.label_b)}"), overflow="fold", ratio=2)
        t.add_column("change (B − A)", overflow="fold", ratio=3)
        for label, va, vb, change, emph in diff_headline_rows(d):
            style, mark = _EMPHASIS.get(emph, ("", ""))
            t.add_row(label, Text(va), Text(vb), Text(mark + change, style=style))
        return t

    def body(self) -> Iterable[Widget]:
        d = self.diff
        host = self.dhost
        with VerticalScroll(id="diff-overview"):
            inputs = Text()
            for side, label, source in (("A", d.label_a, host.sources[0]), ("B", d.label_b, host.sources[1])):
                inputs.append(f"{side} = ", style="bold")
                inputs.append(printable(label))
                if source and source != label:
                    inputs.append(f"  ({printable(source)})", style="dim")
                inputs.append("\n")
            inputs.append("A is the baseline, B the candidate: every change is B − A; a/b opens a side",
                          style="dim")
            yield Static(inputs, id="diff-inputs")
            gate = diff_data.gate_lines(host.conditions, host.violations, host.gate_error)
            if gate:
                text = Text()
                for line, emph in gate:
                    text.append(line + "\n", style=_GATE[emph])
                text.rstrip()
                yield Static(text, id="diff-gate")
            yield Static(self.headline(), id="diff-headline")
            if d.summary.no_change:
                yield Static("No change: the same nodes, fused the same way, in the same precision, with the same "
                             "layers" + (" (only times differ)." if len(d.changes) else "."), id="diff-nochange",
                             markup=False)
            if d.warnings:
                notes = Text()
                for w in d.warnings:
                    notes.append("note: ", style="bold")
                    notes.append(printable(w) + "\n")
                notes.rstrip()
                yield Static(notes, id="warnings")
            if len(d.changes):
                yield section(f"Changes ({len(d.changes):,}: regressions first, marked {diff_data.REGRESSION_MARK} "
                              "or ✗, then by |Δ ms|; Enter shows one)")
                yield FrameTable(DIFF_CHANGE_COLUMNS, diff_data.changes_frame(d), flag="regression",
                                 export_name="diff-changes", export_columns=DIFF_CHANGE_EXPORT, id="changes",
                                 classes="section-table", roles={"name": "name"})

    def on_mount(self) -> None:
        focus_first_table(self, 12, "diff-overview")

    def _change_row(self, position: int) -> tuple[str, str, str]:
        """(kind, subject, op type or layer kind) of a row of the change list."""
        c = self.query_one("#changes", FrameTable).frame
        return str(c["kind"].iloc[position]), str(c["subject"].iloc[position]), str(c["op_type"].iloc[position])

    def on_frame_table_selected(self, event: FrameTable.Selected) -> None:
        kind, subject, op = self._change_row(event.position)
        if kind in diff_data.GROUP_KINDS:
            self.post_message(JumpTo("inserted", Jump(node=subject, op_type=op)))
        else:
            self.post_message(JumpTo("nodes", Jump(node=subject, side="b" if kind == ONLY_B else "a")))

    def side_layer(self, side: str) -> int | None:
        table = self.query(FrameTable)
        if not table or table.first().cursor_position is None:
            return None
        pos = table.first().cursor_position
        assert pos is not None
        kind, subject, _ = self._change_row(pos)
        if kind in diff_data.GROUP_KINDS:
            return None
        nodes = self.diff.nodes
        col = "node_b" if kind == ONLY_B else "node_a"
        rows = nodes[nodes[col].eq(subject)]
        if rows.empty:
            return None
        v = rows[f"layer_index_{side}"].iloc[0]
        return None if is_missing(v) else int(v)
