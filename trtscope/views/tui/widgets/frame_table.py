"""FrameTable: a virtualised, sortable, filterable table over a pandas DataFrame.

Textual's DataTable builds and measures every row up front (seconds at 20,000 rows), so the big tables use this
Line API widget instead: it keeps the frame as-is, sorts and filters through numpy position arrays, and formats
only the rows on screen. Cells are plain text (never markup): TensorRT names contain square brackets and
control bytes, which ``printable`` makes visible.

Readable at 80 columns: ``frozen`` columns (``#``, the name) stay put while the others scroll sideways a column
at a time; long names are shortened the way that keeps them distinguishable (``shorten``: ONNX paths lose their
leading segments, other names their middle); columns with no value in any row are not shown (no profile, no
time columns); a sort column that is off screen is named at the right end of the header.
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

from trtscope.views.tui.cells import is_missing, text_cell
from trtscope.views.tui.names import middle, shorten_name

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
    frozen: bool = False  # stays at the left when the table scrolls sideways (the leading columns only)
    shorten: str = "end"  # how a long cell is cut: "end", "middle", "name" (names.shorten_name)
    hide_empty: bool = True  # not shown when no row has a value (NaN, None, "" and [] count as none)
    export_key: str | None = None  # the frame column exported for it (a label's full name), default ``key``


def fit_cell(text: str, width: int, right: bool = False, how: str = "end") -> str:
    """``text`` in exactly ``width`` cells, shortened the column's way."""
    if len(text) > width:
        if how == "name":
            text = shorten_name(text, width)
        elif how == "middle":
            text = middle(text, width)
    return fit(text, width, right)


def has_values(s: pd.Series) -> bool:
    """Any row holds a value (not missing, not an empty string or list); stops at the first one."""
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        return bool(s.notna().any())
    for x in s.to_numpy(dtype=object):
        if isinstance(x, (list, tuple, np.ndarray)):
            if len(x):
                return True
        elif not is_missing(x) and x != "":
            return True
    return False


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
    """Rows of a DataFrame: only the visible ones are formatted; sorting and filtering are numpy arrays.

    ``roles`` names the frame columns holding a row's full ``name`` (the screens' status line), its ONNX
    ``node`` (a name or a list) and its ``kernel``: what the copy commands copy (:meth:`cursor_role`)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Open", show=True),
        Binding("s", "pick_sort", "Sort by…", show=True),
        Binding("r", "sort_reverse", "Reverse sort", show=False),
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First row", show=False),
        Binding("end", "last", "Last row", show=False),
        Binding("left", "column(-1)", "Scroll a column left", show=False),
        Binding("right", "column(1)", "Scroll a column right", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "frame-table--header",
        "frame-table--cursor",
        "frame-table--flag",
        "frame-table--group",
        "frame-table--bar",
        "frame-table--empty",
        "frame-table--cue",
    }

    class _TableMessage(Message):
        def __init__(self, table: FrameTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> FrameTable:
            return self.table

    class Selected(_TableMessage):
        """Enter (or a double click) on a row; ``position`` is the row's position in the frame."""

        def __init__(self, table: FrameTable, position: int) -> None:
            super().__init__(table)
            self.position = position

    class Changed(_TableMessage):
        """The cursor moved, or the rows shown changed (filter, sort, new frame)."""

    class SortRequested(_TableMessage):
        """``s``: the screen shows the column picker (it knows which orders mean something there)."""

    def __init__(
        self,
        columns: Sequence[Column],
        frame: pd.DataFrame | None = None,
        *,
        flag: str | None = None,
        group: str | None = None,
        roles: dict[str, str] | None = None,
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
        self.roles = dict(roles or {})
        self.title_key = self.roles.get("name")
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
        self.shown: list[Column] = list(self.columns)
        self._natural: list[int] = []
        self._widths: list[int] = []
        self._frozen_width = 0
        self._n_frozen = 0
        self.hidden_empty: list[str] = []
        self.page_height: Any = None  # its height on the page while maximised (screens/base.py)
        self.cursor_row = 0
        self.sort_column: str | None = None
        self.sort_descending = False
        if frame is not None:
            self.set_frame(frame)

    # -- data ----------------------------------------------------------------------------------------------
    def set_frame(self, frame: pd.DataFrame) -> None:
        """Show ``frame`` (kept as-is; rows in frame order, no filter)."""
        self.frame = frame.reset_index(drop=True)
        keys = {c.key for c in self.columns} | {k for k in (self.flag, self.group, *self.roles.values()) if k}
        self._values = {k: self.frame[k].to_numpy(dtype=object) for k in keys if k in self.frame.columns}
        self._flags = self.frame[self.flag].fillna(False).to_numpy(dtype=bool) if self.flag in self.frame else None
        self._groups = (self.frame[self.group].fillna(False).to_numpy(dtype=bool)
                        if self.group in self.frame else None)
        self._order = np.arange(len(self.frame))
        self._mask = None
        self.sort_column, self.sort_descending = None, False
        empty: dict[str, bool] = {}
        for c in self.columns:
            if c.key not in empty:
                empty[c.key] = c.key not in self.frame.columns or not has_values(self.frame[c.key])
        self.shown = [c for c in self.columns if not (c.hide_empty and empty[c.key] and len(self.frame))]
        self.hidden_empty = [c.label or c.key for c in self.columns if c not in self.shown and c.label]
        self._natural = [self._measure(c) for c in self.shown]
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
                    and not isinstance(s.dropna().iloc[0], (list, tuple, np.ndarray)) else s.head(200)
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

    def set_order(self, positions: np.ndarray, label: str | None = None, descending: bool = False) -> None:
        """An order computed elsewhere (e.g. groups kept together); ``label`` names it in the header."""
        self._order = np.asarray(positions, dtype=np.int64)
        self.sort_column, self.sort_descending = label, descending
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

    def cursor_role(self, role: str) -> str | None:
        """The row under the cursor's ``role`` value as text (lists joined with newlines), None without one."""
        pos = self.cursor_position
        key = self.roles.get(role)
        if pos is None or key not in self._values:
            return None
        v = self._values[key][pos]
        if isinstance(v, (list, tuple, np.ndarray)):
            return "\n".join(map(str, v)) or None
        return None if is_missing(v) or v == "" else str(v)

    def cursor_title(self) -> str | None:
        """The full name of the row under the cursor, None without one."""
        return self.cursor_role("name")

    def sort_label(self) -> str | None:
        """The header label of the sort column, or the order's own label; None when unsorted."""
        if self.sort_column is None:
            return None
        return next((c.label for c in self.columns if self.sort_column in (c.key, c.sort_key) and c.label),
                    self.sort_column)

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
        for c in self.shown:  # a key shown twice (a number and its bar) is exported once
            key = c.export_key if c.export_key and c.export_key in view.columns else c.key
            if key in view.columns and key not in labels:
                labels[key] = c.label or c.key
        return view[list(labels)].rename(columns=labels)

    def cells(self, row: int) -> list[str]:
        """The formatted cells of view row ``row`` for every declared column (hidden ones too), untruncated."""
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
        flex = [i for i, c in enumerate(self.shown) if c.flex]
        others = [(c, w) for c, w in zip(self.shown, self._natural, strict=True) if not c.flex]
        room_all = avail - sum(w for _, w in others) - GAP * len(others)
        readable = min((min(self._natural[i], 40) for i in flex), default=0)
        if room_all >= readable or not any(c.core for c, _ in others):
            room = room_all
        else:  # the frozen columns stay on screen too
            core = [w for c, w in others if c.core or c.frozen]
            room = avail - sum(core) - GAP * len(core)
        widths = list(self._natural)
        for i in flex:
            widths[i] = max(self.shown[i].min_width, min(self._natural[i], room // max(1, len(flex))))
        self._widths = widths
        n_frozen = 0
        for c in self.shown:  # only leading columns can be frozen, and never all of them
            if not c.frozen:
                break
            n_frozen += 1
        self._n_frozen = n_frozen if n_frozen < len(widths) else 0
        self._frozen_width = sum(widths[:self._n_frozen]) + GAP * max(0, self._n_frozen - 1)
        total = sum(widths) + GAP * max(0, len(widths) - 1)
        self.virtual_size = Size(total, len(self._view) + 1)

    def on_resize(self, event: events.Resize) -> None:
        self._layout()
        self.refresh()

    def _style(self, component: str) -> Style:
        return self.get_component_rich_style(component, partial=True)

    def _segments(self, cols: Sequence[tuple[Column, int, str]], base: Style, col_styles: bool,
                  lead_gap: bool) -> list[Segment]:
        segs: list[Segment] = []
        for i, (col, w, text) in enumerate(cols):
            if i or lead_gap:
                segs.append(Segment(" " * GAP, base))
            style = base + self._style(col.style) if (col_styles and col.style) else base
            segs.append(Segment(fit_cell(text, w, col.right, col.shorten), style))
        return segs

    def _strip(self, texts: Sequence[str], base: Style, col_styles: bool) -> Strip:
        """One line: the frozen columns, then the others scrolled by ``scroll_x``, exactly the widget's width."""
        width = self.scrollable_content_region.width
        scroll_x = int(self.scroll_offset.x)
        cols = list(zip(self.shown, self._widths, texts, strict=True))
        n = self._n_frozen
        if not n:
            return Strip(self._segments(cols, base, col_styles, False)).crop(scroll_x, scroll_x + width) \
                .adjust_cell_length(width, base)
        frozen = Strip(self._segments(cols[:n], base, col_styles, False))
        rest = Strip(self._segments(cols[n:], base, col_styles, True))
        room = max(0, width - self._frozen_width)
        moving = rest.crop(scroll_x, scroll_x + room)
        return Strip.join([frozen, moving]).adjust_cell_length(width, base)

    def _texts_shown(self, row: int) -> list[str]:
        pos = int(self._view[row])
        return [c.fmt(self._values[c.key][pos]) if c.key in self._values else "" for c in self.shown]

    def _header_texts(self) -> list[str]:
        out = []
        for c in self.shown:
            arrow = (" ▼" if self.sort_descending else " ▲") if self.sort_column in (c.key, c.sort_key) and \
                self.sort_column is not None else ""
            out.append(c.label + arrow)
        return out

    def _screen_lefts(self) -> list[int]:
        """Where each shown column starts on screen now (frozen ones fixed, the others moved by scroll_x)."""
        scroll_x = int(self.scroll_offset.x)
        lefts, x = [], 0
        for i, w in enumerate(self._widths):
            if i < self._n_frozen:
                lefts.append(x)
            else:
                lefts.append(x - scroll_x)
            x += w + GAP
        return lefts

    def sort_visible(self) -> bool:
        """The sort column's header is on screen (False also when the order is not a column's)."""
        if self.sort_column is None:
            return True
        width = self.scrollable_content_region.width
        for i, (c, w, left) in enumerate(zip(self.shown, self._widths, self._screen_lefts(), strict=True)):
            if self.sort_column in (c.key, c.sort_key):
                if i < self._n_frozen:
                    return True
                edge = self._frozen_width + GAP if self._n_frozen else 0
                return left >= edge and left + w <= width
        return False

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_y = int(self.scroll_offset.y)
        base = self.rich_style
        if y == 0:
            header = self.rich_style + self._style("frame-table--header")
            strip = self._strip(self._header_texts(), header, False)
            label = self.sort_label()
            if label is not None and not self.sort_visible():  # a cue for a sort column off screen
                cue = f" ▸ sorted by {label} {'▼' if self.sort_descending else '▲'} "
                if len(cue) < width:
                    strip = Strip.join([strip.crop(0, width - len(cue)),
                                        Strip([Segment(cue, header + self._style("frame-table--cue"))])])
            return strip
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
        return self._strip(self._texts_shown(row), style, not cursor)

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

    def column_stops(self) -> list[int]:
        """Horizontal scroll offsets that put each scrolling column at the left edge of the moving part."""
        stops, x = [0], 0
        for w in self._widths[self._n_frozen:]:
            x += w + GAP
            stops.append(x)
        limit = max(0, int(self.max_scroll_x))
        return sorted({min(s, limit) for s in stops})

    def action_column(self, delta: int) -> None:
        """Scroll sideways by one column (not one cell), so a column is never left cut at the edge."""
        stops = self.column_stops()
        x = int(self.scroll_offset.x)
        if delta > 0:
            nxt = next((s for s in stops if s > x), x)
        else:
            nxt = next((s for s in reversed(stops) if s < x), 0)
        self.scroll_to(x=nxt, animate=False)
        self.refresh()

    def action_select(self) -> None:
        pos = self.cursor_position
        if pos is not None:
            self.post_message(self.Selected(self, pos))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide the sort keys (footer, help) on tables that keep their own order."""
        return self.sortable or action not in ("pick_sort", "sort_reverse")

    def sortable_columns(self) -> list[Column]:
        """The columns a sort can use, each once (a number and its bar share a key)."""
        out, seen = [], set()
        for c in self.shown:
            key = c.sort_key or c.key
            if c.sortable and key in self.frame.columns and key not in seen:
                seen.add(key)
                out.append(c)
        return out

    def sort_by_column(self, col: Column, toggle: bool = False) -> None:
        """Sort by ``col``: numbers largest first, text A→Z (``toggle``: reverse when already sorted by it)."""
        key = col.sort_key or col.key
        first = col.descending_first if col.descending_first is not None else col.right
        descending = (not self.sort_descending) if (toggle and self.sort_column == key) else first
        self.sort(key, descending)

    def action_pick_sort(self) -> None:
        if not self.sortable:
            self.notify("this table keeps its order", markup=False)
            return
        self.post_message(self.SortRequested(self))

    def action_sort_reverse(self) -> None:
        if self.sortable and self.sort_column is not None and self.sort_column in self.frame.columns:
            self.sort(self.sort_column, not self.sort_descending)

    def on_focus(self) -> None:
        self.refresh()
        self.post_message(self.Changed(self))  # the status line follows the focused table

    def on_blur(self) -> None:
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            col = self.column_at(offset.x)
            if col is not None and self.sortable and col in self.sortable_columns():
                self.sort_by_column(col, toggle=True)
            return
        row = int(self.scroll_offset.y) + offset.y - 1
        if 0 <= row < len(self._view):
            self._set_cursor(row)
            if event.chain >= 2:
                self.action_select()

    def column_at(self, x: int) -> Column | None:
        """The column drawn at screen column ``x`` (frozen columns first, then the scrolled ones)."""
        cols = list(zip(self.shown, self._widths, self._screen_lefts(), strict=True))
        if self._n_frozen and x < self._frozen_width + GAP:
            cols = cols[: self._n_frozen]
        elif self._n_frozen:
            cols = cols[self._n_frozen:]
        for col, w, left in cols:
            if left <= x < left + w + GAP:
                return col
        return None
