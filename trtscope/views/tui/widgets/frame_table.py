"""FrameTable: a virtualised, sortable, filterable table over a pandas DataFrame.

Textual's DataTable builds and measures every row up front (seconds at 20,000 rows), so the big tables use this
Line API widget instead: it keeps the frame as-is, sorts and filters through numpy position arrays, and formats
only the rows on screen. Cells are plain text (never markup): TensorRT names contain square brackets and
control bytes, which ``printable`` makes visible.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from trtscope.views.tui.cells import text_cell

Formatter = Callable[[Any], str]
GAP = 2  # spaces between columns


@dataclass(frozen=True)
class Column:
    """How one frame column is shown. ``width`` 0 = measured from the data (up to ``max_width``); ``flex``
    columns take the room left by the others (never less than ``min_width``)."""

    key: str
    label: str
    fmt: Formatter = text_cell
    width: int = 0
    max_width: int = 40
    min_width: int = 8
    right: bool = False
    flex: bool = False
    sort_key: str | None = None
    sortable: bool = True
    descending_first: bool | None = None  # default: numbers (right-aligned) sort largest first
    style: str = ""  # a component class for this column's cells, e.g. "frame-table--bar"
    core: bool = False  # sized to stay on screen beside the flex column (when any column is core)


def fit(text: str, width: int, right: bool = False) -> str:
    """Pad or cut ``text`` to exactly ``width`` cells (cut text ends with an ellipsis)."""
    if len(text) > width:
        return text[: max(0, width - 1)] + "…" if width > 0 else ""
    return text.rjust(width) if right else text.ljust(width)


def _sort_positions(values: pd.Series, descending: bool) -> np.ndarray:
    """Stable order of positions by ``values``, missing values last in both directions."""
    if not (pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype)):
        values = values.astype(object).where(values.notna(), None)
        numeric = pd.to_numeric(values, errors="coerce")
        values = numeric if numeric.notna().sum() == values.notna().sum() else values.map(
            lambda v: None if v is None else str(v).lower())
    s = pd.Series(values.to_numpy(), index=np.arange(len(values)))
    return s.sort_values(ascending=not descending, kind="stable", na_position="last").index.to_numpy()


class FrameTable(ScrollView, can_focus=True):
    """Rows of a DataFrame: only the visible ones are formatted; sorting and filtering are numpy arrays."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Open", show=True),
        Binding("s", "sort_next", "Sort", show=True),
        Binding("r", "sort_reverse", "Reverse", show=False),
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First row", show=False),
        Binding("end", "last", "Last row", show=False),
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "frame-table--header",
        "frame-table--cursor",
        "frame-table--flag",
        "frame-table--group",
        "frame-table--bar",
        "frame-table--empty",
    }

    class Selected(Message):
        """Enter (or a double click) on a row; ``position`` is the row's position in the frame."""

        def __init__(self, table: FrameTable, position: int) -> None:
            super().__init__()
            self.table = table
            self.position = position

        @property
        def control(self) -> FrameTable:
            return self.table

    class Changed(Message):
        """The cursor moved, or the rows shown changed (filter, sort, new frame)."""

        def __init__(self, table: FrameTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> FrameTable:
            return self.table

    def __init__(
        self,
        columns: Sequence[Column],
        frame: pd.DataFrame | None = None,
        *,
        flag: str | None = None,
        group: str | None = None,
        export_name: str = "table",
        export_columns: Sequence[str] | None = None,
        empty_text: str = "(no rows)",
        sortable: bool = True,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = list(columns)
        self.flag = flag
        self.group = group
        self.export_name = export_name
        self.export_columns = list(export_columns) if export_columns else None
        self.empty_text = empty_text
        self.sortable = sortable
        self.frame = pd.DataFrame(columns=[c.key for c in self.columns])
        self._values: dict[str, np.ndarray] = {}
        self._flags: np.ndarray | None = None
        self._groups: np.ndarray | None = None
        self._order = np.zeros(0, dtype=np.int64)
        self._mask: np.ndarray | None = None
        self._view = np.zeros(0, dtype=np.int64)
        self._natural: list[int] = []
        self._widths: list[int] = []
        self.cursor_row = 0
        self.sort_column: str | None = None
        self.sort_descending = False
        if frame is not None:
            self.set_frame(frame)

    # -- data ----------------------------------------------------------------------------------------------
    def set_frame(self, frame: pd.DataFrame) -> None:
        """Show ``frame`` (kept as-is; rows in frame order, no filter)."""
        self.frame = frame.reset_index(drop=True)
        keys = {c.key for c in self.columns} | {k for k in (self.flag, self.group) if k}
        self._values = {k: self.frame[k].to_numpy(dtype=object) for k in keys if k in self.frame.columns}
        self._flags = self.frame[self.flag].fillna(False).to_numpy(dtype=bool) if self.flag in self.frame else None
        self._groups = (self.frame[self.group].fillna(False).to_numpy(dtype=bool)
                        if self.group in self.frame else None)
        self._order = np.arange(len(self.frame))
        self._mask = None
        self.sort_column, self.sort_descending = None, False
        self._natural = [self._measure(c) for c in self.columns]
        self._rebuild_view(keep_cursor=False)

    def _measure(self, col: Column) -> int:
        if col.width:
            return col.width
        best = len(col.label) + 2  # room for the sort arrow
        if col.key in self.frame.columns and len(self.frame):
            s = self.frame[col.key]
            if col.fmt is text_cell and not pd.api.types.is_numeric_dtype(s.dtype):
                lengths = s.astype(object).where(s.notna(), "").astype(str).str.len()
                best = max(best, int(lengths.max()))
            else:  # formatted values: the extremes and the first rows are representative enough
                sample = pd.concat([s.head(200), s.dropna().sort_values().iloc[[0, -1]]]) if s.notna().any() \
                    else s.head(200)
                best = max(best, *(len(col.fmt(v)) for v in sample.tolist()))
        return min(best, max(col.max_width, len(col.label)))

    def filter(self, mask: np.ndarray | None) -> None:
        """Show only the rows where ``mask`` (one bool per frame row) is true; None shows every row."""
        self._mask = mask
        self._rebuild_view(keep_cursor=True)

    def sort(self, key: str | None, descending: bool = False) -> None:
        """Order rows by frame column ``key`` (stable, missing last); None restores the frame order. The cursor
        goes to the top: after "sort by time" the user looks at the first row."""
        if key is None:
            self._order = np.arange(len(self.frame))
        else:
            self._order = _sort_positions(self.frame[key], descending)
        self.sort_column, self.sort_descending = key, descending
        self._rebuild_view(keep_cursor=False)

    def set_order(self, positions: np.ndarray, label: str | None = None) -> None:
        """An order computed elsewhere (e.g. groups kept together); ``label`` names it in the header."""
        self._order = np.asarray(positions, dtype=np.int64)
        self.sort_column, self.sort_descending = label, False
        self._rebuild_view(keep_cursor=True)

    def _rebuild_view(self, keep_cursor: bool) -> None:
        current = self.cursor_position if keep_cursor else None
        self._view = self._order if self._mask is None else self._order[self._mask[self._order]]
        self.cursor_row = 0
        if current is not None:
            hit = np.flatnonzero(self._view == current)
            if len(hit):
                self.cursor_row = int(hit[0])
        self._layout()
        if self.is_mounted:
            if keep_cursor:
                self._scroll_cursor_visible()
            else:
                self.scroll_to(y=0, animate=False)
        self.refresh()
        self.post_message(self.Changed(self))

    # -- queries (what the screens, the export and the tests read) ------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._view)

    @property
    def total_count(self) -> int:
        return len(self.frame)

    @property
    def cursor_position(self) -> int | None:
        """The frame position of the row under the cursor (None when no row is shown)."""
        return int(self._view[self.cursor_row]) if 0 <= self.cursor_row < len(self._view) else None

    def cursor_record(self) -> pd.Series | None:
        pos = self.cursor_position
        return None if pos is None else self.frame.iloc[pos]

    def view_frame(self) -> pd.DataFrame:
        """The rows shown, in the order shown, with every frame column (raw values)."""
        return self.frame.iloc[self._view].reset_index(drop=True)

    def export_frame(self) -> pd.DataFrame:
        """The rows shown, in order, for CSV export: raw values (full names, full precision) of the columns
        shown, headed by their labels, or of ``export_columns`` when the table names them."""
        view = self.view_frame()
        if self.export_columns:
            return view[[c for c in self.export_columns if c in view.columns]]
        labels: dict[str, str] = {}
        for c in self.columns:  # a key shown twice (a number and its bar) is exported once
            if c.key in view.columns and c.key not in labels:
                labels[c.key] = c.label or c.key
        return view[list(labels)].rename(columns=labels)

    def cells(self, row: int) -> list[str]:
        """The formatted cells of view row ``row``, untruncated."""
        pos = int(self._view[row])
        return [c.fmt(self._values[c.key][pos]) if c.key in self._values else "" for c in self.columns]

    def column_texts(self, key: str) -> list[str]:
        """The formatted cells of one column for every row shown, in order."""
        i = [c.key for c in self.columns].index(key)
        return [self.cells(r)[i] for r in range(self.row_count)]

    def visible_rows(self) -> list[list[str]]:
        """The formatted cells of the rows currently on screen."""
        first = int(self.scroll_offset.y)
        last = min(self.row_count, first + max(0, self.scrollable_content_region.height - 1))
        return [self.cells(r) for r in range(first, last)]

    def move_cursor_to(self, position: int) -> bool:
        """Put the cursor on frame row ``position`` if it is shown; True when it is."""
        hit = np.flatnonzero(self._view == position)
        if not len(hit):
            return False
        self._set_cursor(int(hit[0]))
        return True

    # -- layout and rendering ------------------------------------------------------------------------------
    def _layout(self) -> None:
        """Column widths for the current size. Flex columns take the room the others leave: all of them when
        everything then fits with a flex column of a readable width (40 cells, or its natural width if less);
        otherwise only the ``core`` columns are kept beside it and the rest scroll sideways."""
        avail = max(self.scrollable_content_region.width, 20)
        flex = [i for i, c in enumerate(self.columns) if c.flex]
        others = [(c, w) for c, w in zip(self.columns, self._natural, strict=True) if not c.flex]
        room_all = avail - sum(w for _, w in others) - GAP * len(others)
        readable = min((min(self._natural[i], 40) for i in flex), default=0)
        if room_all >= readable or not any(c.core for c, _ in others):
            room = room_all
        else:
            core = [w for c, w in others if c.core]
            room = avail - sum(core) - GAP * len(core)
        widths = list(self._natural)
        for i in flex:
            widths[i] = max(self.columns[i].min_width, min(self._natural[i], room // max(1, len(flex))))
        self._widths = widths
        total = sum(widths) + GAP * max(0, len(widths) - 1)
        self.virtual_size = Size(total, len(self._view) + 1)

    def on_resize(self, event: events.Resize) -> None:
        self._layout()
        self.refresh()

    def _style(self, component: str) -> Style:
        return self.get_component_rich_style(component, partial=True)

    def _line(self, texts: Sequence[str], base: Style, col_styles: bool) -> list[Segment]:
        segs: list[Segment] = []
        for i, (col, w, text) in enumerate(zip(self.columns, self._widths, texts, strict=True)):
            if i:
                segs.append(Segment(" " * GAP, base))
            style = base + self._style(col.style) if (col_styles and col.style) else base
            segs.append(Segment(fit(text, w, col.right), style))
        return segs

    def _header_texts(self) -> list[str]:
        out = []
        for c in self.columns:
            arrow = (" ▼" if self.sort_descending else " ▲") if self.sort_column in (c.key, c.sort_key) and \
                self.sort_column is not None else ""
            out.append(c.label + arrow)
        return out

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_x, scroll_y = self.scroll_offset
        base = self.rich_style
        if y == 0:
            header = self.rich_style + self._style("frame-table--header")
            segs = self._line(self._header_texts(), header, False)
            return Strip(segs).crop(scroll_x, scroll_x + width).adjust_cell_length(width, header)
        row = scroll_y + y - 1
        if row >= len(self._view):
            if row == 0 and len(self._view) == 0:
                style = base + self._style("frame-table--empty")
                return Strip([Segment(fit(self.empty_text, width), style)])
            return Strip.blank(width, base)
        pos = int(self._view[row])
        style = base
        if self._groups is not None and self._groups[pos]:
            style = style + self._style("frame-table--group")
        if self._flags is not None and self._flags[pos]:
            style = style + self._style("frame-table--flag")
        cursor = row == self.cursor_row and self.has_focus  # an unfocused table shows no cursor
        if cursor:
            style = style + self._style("frame-table--cursor")
        segs = self._line(self.cells(row), style, not cursor)
        return Strip(segs).crop(scroll_x, scroll_x + width).adjust_cell_length(width, style)

    # -- cursor and keys -----------------------------------------------------------------------------------
    @property
    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_cursor_visible(self) -> None:
        top = int(self.scroll_offset.y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + self._page:
            self.scroll_to(y=self.cursor_row - self._page + 1, animate=False)

    def _set_cursor(self, row: int) -> None:
        row = max(0, min(row, len(self._view) - 1))
        if row != self.cursor_row:
            self.cursor_row = row
            self.post_message(self.Changed(self))
        self._scroll_cursor_visible()
        self.refresh()

    def action_cursor(self, delta: int) -> None:
        self._set_cursor(self.cursor_row + delta)

    def action_page(self, delta: int) -> None:
        self._set_cursor(self.cursor_row + delta * self._page)

    def action_first(self) -> None:
        self._set_cursor(0)

    def action_last(self) -> None:
        self._set_cursor(len(self._view) - 1)

    def action_select(self) -> None:
        pos = self.cursor_position
        if pos is not None:
            self.post_message(self.Selected(self, pos))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide the sort keys (footer, help) on tables that keep their own order."""
        return self.sortable or action not in ("sort_next", "sort_reverse")

    def _sortable(self) -> list[Column]:
        return [c for c in self.columns if c.sortable and (c.sort_key or c.key) in self.frame.columns]

    def _sort_by_column(self, col: Column, toggle: bool) -> None:
        key = col.sort_key or col.key
        first = col.descending_first if col.descending_first is not None else col.right
        descending = (not self.sort_descending) if (toggle and self.sort_column == key) else first
        self.sort(key, descending)

    def action_sort_next(self) -> None:
        """Sort by the next column (wrapping back to the original order)."""
        cols = self._sortable()
        if not self.sortable or not cols:
            self.notify("this table keeps its order", markup=False)
            return
        keys = [c.sort_key or c.key for c in cols]
        at = keys.index(self.sort_column) + 1 if self.sort_column in keys else 0
        if at >= len(cols):
            self.sort(None)
        else:
            self._sort_by_column(cols[at], toggle=False)

    def action_sort_reverse(self) -> None:
        if self.sortable and self.sort_column is not None and self.sort_column in self.frame.columns:
            self.sort(self.sort_column, not self.sort_descending)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            x = offset.x + int(self.scroll_offset.x)
            left = 0
            for col, w in zip(self.columns, self._widths, strict=True):
                if left <= x < left + w + GAP:
                    if self.sortable and col in self._sortable():
                        self._sort_by_column(col, toggle=True)
                    return
                left += w + GAP
            return
        row = int(self.scroll_offset.y) + offset.y - 1
        if 0 <= row < len(self._view):
            self._set_cursor(row)
            if event.chain >= 2:
                self.action_select()
