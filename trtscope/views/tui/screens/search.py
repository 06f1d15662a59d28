"""A screen with one big table and a search box (Layers, Fusion): ``/`` opens the box, typing filters,
Enter returns to the table, Escape clears the search."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import Input

from trtscope.views.tui.screens.base import BaseScreen
from trtscope.views.tui.widgets import FrameTable, SearchBox

#: Filtering waits this long after the last keystroke (it is vectorised, but 100,000 rows still take ~50 ms).
DEBOUNCE_S = 0.12


class SearchScreen(BaseScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", show=True),
        Binding("escape", "clear_search", "Clear search", show=False),
    ]
    query_text = ""
    _timer: Timer | None = None

    @property
    def table(self) -> FrameTable:
        return self.query_one("#main-table", FrameTable)

    @property
    def search_box(self) -> SearchBox:
        return self.query_one(SearchBox)

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
        """Apply ``query`` now (the debounce calls this; tests may call it directly)."""
        if query != self.query_text:
            self.query_text = query
            self.apply_filter()

    def apply_filter(self) -> None:
        raise NotImplementedError
