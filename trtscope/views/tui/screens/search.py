"""A screen with one big table and a search box (Layers, Fusion, Kernels): ``/`` opens the box, typing filters,
Enter returns to the table, Escape clears the search.

Filters are reactive attributes (``query_text``, ``unfused_only``; subclasses add their own), so every change,
from a key, a jump or the back key, re-filters the table and redraws the status line, whose chips name every
active filter and the sort order (the line wraps rather than cutting a chip off).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Input, Static

from trtscope.views.tui.screens.base import BaseScreen
from trtscope.views.tui.widgets import FrameTable, SearchBox

#: Filtering waits this long after the last keystroke (it is vectorised, but 100,000 rows still take ~50 ms).
DEBOUNCE_S = 0.12
NBSP = "\u00a0"  # inside a chip, so the line wraps between chips only


class StatusBar(Static):
    """Counts, then the active filters and the order as chips (``[/ conv ]`` ``[✗ unfused only]``)."""

    DEFAULT_CSS = "StatusBar { height: auto; padding: 0 1; }"

    def show(self, facts: list[str], chips: list[str]) -> None:
        text = Text(" · ".join(facts))
        for chip in chips:
            text.append("  ")
            text.append(f"[{chip}]".replace(" ", NBSP), style="reverse")
        self.update(text)
        self.chips = list(chips)


@dataclass(frozen=True)
class SearchState:
    """What the back key restores: filters, order and the row under the cursor."""

    query: str
    flags: tuple[tuple[str, Any], ...]
    sort: tuple[str | None, bool]
    position: int | None


class SearchScreen(BaseScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", show=True),
        Binding("escape", "clear_search", "Clear search", show=False),
    ]
    query_text: reactive[str] = reactive("", init=False)
    unfused_only: reactive[bool] = reactive(False, init=False)
    #: reactive filters besides the query that a snapshot keeps (subclasses extend)
    FLAGS: ClassVar[tuple[str, ...]] = ("unfused_only",)
    _timer: Timer | None = None

    @property
    def table(self) -> FrameTable:
        return self.query_one("#main-table", FrameTable)

    @property
    def search_box(self) -> SearchBox:
        return self.query_one(SearchBox)

    # -- the search box --------------------------------------------------------------------------------------
    def action_search(self) -> None:
        self.search_box.open()

    def action_clear_search(self) -> None:
        box = self.search_box
        if box.display or box.value:
            box.close()
            self.run_search("")
        self.table.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if not isinstance(event.input, SearchBox):
            return
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        value = event.value
        self._timer = self.set_timer(DEBOUNCE_S, lambda: self.run_search(value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if not isinstance(event.input, SearchBox):
            return
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        self.run_search(event.value)
        if not event.value:
            self.search_box.close()
        self.table.focus()

    def run_search(self, query: str) -> None:
        """Apply ``query`` now (the debounce calls this; jumps and tests may call it directly)."""
        self.query_text = query

    def set_query(self, query: str) -> None:
        """Put ``query`` in the search box (shown when not empty) and filter by it."""
        box = self.search_box
        box.display = bool(query)
        with box.prevent(Input.Changed):
            box.value = query
        self.query_text = query

    # -- reactive filters ------------------------------------------------------------------------------------
    def watch_query_text(self) -> None:
        self.apply_filter()

    def watch_unfused_only(self) -> None:
        self.apply_filter()

    def apply_filter(self) -> None:
        raise NotImplementedError

    def action_toggle_unfused(self) -> None:
        self.unfused_only = not self.unfused_only

    def filter_chips(self) -> list[str]:
        """The chips of the active filters (the sort chip is added by :meth:`refresh_status`)."""
        chips = []
        if self.query_text.strip():
            chips.append(f"/ {self.query_text.strip()}")
        if self.unfused_only:
            chips.append("✗ unfused only")
        return chips

    def status_facts(self, table: FrameTable) -> list[str]:
        return []

    def refresh_status(self) -> None:
        t = self.table
        chips = self.filter_chips()
        label = t.sort_label()
        if label is not None:
            chips.append(f"sorted by {label} {'▼' if t.sort_descending else '▲'}")
        facts = self.status_facts(t)
        if t.row_count != t.total_count:
            facts.append(f"showing {t.row_count:,} of {t.total_count:,}")
        if t.row_count:
            facts.append(f"row {t.cursor_row + 1:,}/{t.row_count:,}")
        self.query_one("#status", StatusBar).show(facts, chips)

    def on_frame_table_changed(self, event: FrameTable.Changed) -> None:
        if event.table.id == "main-table":
            self.refresh_status()

    # -- back key --------------------------------------------------------------------------------------------
    def snapshot(self) -> SearchState:
        t = self.table
        return SearchState(self.query_text, tuple((f, getattr(self, f)) for f in self.FLAGS),
                           (t.sort_column, t.sort_descending), t.cursor_position)

    def restore(self, state: Any) -> None:
        if not isinstance(state, SearchState):
            return
        for f, v in state.flags:
            setattr(self, f, v)
        self.set_query(state.query)
        self.restore_sort(*state.sort)
        if state.position is not None:
            self.table.move_cursor_to(state.position)
        self.table.focus()

    def restore_sort(self, key: str | None, descending: bool) -> None:
        t = self.table
        if (key, descending) != (t.sort_column, t.sort_descending):
            t.sort(key if key in t.frame.columns else None, descending)
