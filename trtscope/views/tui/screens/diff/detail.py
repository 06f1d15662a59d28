"""The diff view's detail pages, pushed over the screen they were opened from (Escape or Backspace goes back):
a node pair (both layers side by side: name, kind, precision, tactic, time; the two fused-with lists; how the
pair was matched, or why a node has no counterpart) and a group of inserted layers (its layers on each side)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import pandas as pd
from rich.table import Table
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from trtscope.presentation.formatting import printable
from trtscope.views.tui import diff_data
from trtscope.views.tui.cells import is_missing
from trtscope.views.tui.messages import GoBack
from trtscope.views.tui.screens.base import RowRef, section
from trtscope.views.tui.screens.diff.base import DiffScreen
from trtscope.views.tui.widgets import KeyValues
from trtscope.views.tui.widgets.kv import Row


def side_by_side(rows: list[tuple[str, str, str]], label_a: str, label_b: str) -> Table:
    """(what, A, B) rows as a table whose cells wrap; a row whose sides differ is marked ``≠`` (not only by
    its style)."""
    t = Table(box=None, padding=(0, 1), show_header=True, header_style="bold")
    t.add_column("", no_wrap=True, style="bold")
    t.add_column("", no_wrap=True, width=1)
    t.add_column(Text(f"A: {printable(label_a)}"), overflow="fold", ratio=1)
    t.add_column(Text(f"B: {printable(label_b)}"), overflow="fold", ratio=1)
    for what, a, b in rows:
        differs = a != b
        t.add_row(what, "≠" if differs else "", Text(a), Text(b, style="bold" if differs else ""))
    return t


class DiffDetailScreen(DiffScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=True),
        Binding("backspace", "back", "Back", show=False),
    ]

    def __init__(self, row: pd.Series, opened_from: str) -> None:
        super().__init__()
        self.row = row
        self.opened_from = opened_from

    def nav_mode(self) -> str:
        return self.opened_from

    def reopen(self) -> Screen[Any]:
        """The same page again (the back key re-opens it when a jump closed it)."""
        return type(self)(self.row, self.opened_from)

    def action_back(self) -> None:
        self.post_message(GoBack())

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()


class PairScreen(DiffDetailScreen):
    """One row of ``diff.nodes``: a matched pair, or a node on one side only."""

    def __init__(self, row: pd.Series, opened_from: str = "nodes") -> None:
        super().__init__(row, opened_from)

    def crumb(self) -> str:
        return printable(diff_data.pair_label(self.row["node_a"], self.row["node_b"]))

    def body(self) -> Iterable[Widget]:
        d = self.diff
        with VerticalScroll(id="diff-detail"):
            yield KeyValues([("node (A → B)", Text(self.crumb())), *diff_data.pair_facts(self.row)],
                            id="pair-facts")
            yield section("Side by side")
            yield Static(side_by_side(diff_data.pair_rows(d, self.row), d.label_a, d.label_b), id="pair-sides")

    def current_row(self) -> RowRef | None:
        return RowRef(self.crumb())

    def side_layer(self, side: str) -> int | None:
        v = self.row[f"layer_index_{side}"]
        return None if is_missing(v) else int(v)


class GroupScreen(DiffDetailScreen):
    """One row of ``diff.inserted``: layers without ONNX work of their own, where they sit, on each side."""

    def __init__(self, row: pd.Series, opened_from: str = "inserted") -> None:
        super().__init__(row, opened_from)

    def crumb(self) -> str:
        return printable(f"{self.row['kind_text']} at {self.row['pair']}")

    def body(self) -> Iterable[Widget]:
        r = self.row
        a, b = diff_data.inserted_rows(r)
        facts: list[Row] = [("layers of kind", str(r["kind_text"])), ("serves (A → B)", Text(printable(r["pair"]))),
                 ("side", str(r["where"]) or "—"), ("change", str(r["change_label"])),
                 ("layers", f"A {int(r['layers_a']):,} ({int(r['copying_a']):,} copying), B {int(r['layers_b']):,} "
                            f"({int(r['copying_b']):,} copying)")]
        with VerticalScroll(id="diff-detail"):
            yield KeyValues(facts, id="group-facts")
            for title, names, key in ((f"A: {self.diff.label_a}", a, "group-a"),
                                      (f"B: {self.diff.label_b}", b, "group-b")):
                yield section(f"{title} ({len(names):,} layers)")
                yield Static(Text("\n".join(names) or "none"), id=key, classes="muted")

    def current_row(self) -> RowRef | None:
        return RowRef(str(self.row["name"]))
