"""Key/value panels (the Overview headline, the layer detail header): a two-column grid whose values wrap
under themselves. Values are Text, never markup (TensorRT names contain square brackets)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from trtscope.presentation.formatting import printable

Row = tuple[str, "str | Text"]


def headline_panel_rows(source: str, rows: Iterable[tuple[str, str, str]], warnings: str = "") -> list[Row]:
    """A headline panel's rows: the input (when named), the headline rows (label, text, emphasis; bold where
    emphasised) and, when given, a line about the warnings."""
    out: list[Row] = [("Input", Text(printable(source)))] if source else []
    out += [(label, Text(text, style="bold") if emph else text) for label, text, emph in rows]
    if warnings:
        out.append(("Warnings", warnings))
    return out


def kv_table(rows: Sequence[Row]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for k, v in rows:
        grid.add_row(Text(k), v if isinstance(v, Text) else Text(str(v)))
    return grid


class KeyValues(Static):
    """A Static showing :func:`kv_table`; ``rows`` stay readable for tests."""

    def __init__(self, rows: Sequence[Row], *, id: str | None = None, classes: str | None = None) -> None:
        self.rows = list(rows)
        super().__init__(kv_table(self.rows), id=id, classes=classes)

    def set_rows(self, rows: Sequence[Row]) -> None:
        self.rows = list(rows)
        self.update(kv_table(self.rows))
