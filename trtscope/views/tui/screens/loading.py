"""The first screen while the analysis runs: what the inputs hold (read and checked before the UI started) and
that the figures are being computed. The App replaces it with the Overview when the analysis is ready; the
screen keys meanwhile say so instead of switching."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from trtscope.views.headline import ANALYSING, READING, loading_rows, reading_rows
from trtscope.views.tui.widgets.kv import KeyValues, Row, headline_panel_rows
from trtscope.views.tui.widgets.nav import NavBar

if TYPE_CHECKING:
    from trtscope.analysis.session import InputFacts


def loading_headline(facts: InputFacts | None, source: str) -> list[Row]:
    """The loading Overview's rows: what the inputs hold, or (``facts`` None) that they are being read."""
    if facts is None:
        return headline_panel_rows(source, reading_rows())
    return headline_panel_rows(source, loading_rows(facts),
                               f"{facts.warning_count:,} (shown with the results)" if facts.warning_count else "")


class LoadingScreen(Screen[None]):
    def __init__(self, facts: InputFacts | None, source: str) -> None:
        super().__init__()
        self.facts = facts
        self.source = source

    def compose(self) -> ComposeResult:
        yield NavBar("overview", set())
        with VerticalScroll(id="overview"):
            yield KeyValues(loading_headline(self.facts, self.source), id="headline")
            yield Static(READING if self.facts is None else ANALYSING, id="loading", markup=False)
        yield Footer()

    def show_facts(self, facts: InputFacts) -> None:
        """The inputs have been read (behind this screen): show what they hold."""
        self.facts = facts
        self.query_one("#headline", KeyValues).set_rows(loading_headline(facts, self.source))
        self.query_one("#loading", Static).update(ANALYSING)
