"""The first screen while the analysis runs: what the inputs hold (read and checked before the UI started) and
that the figures are being computed. The App replaces it with the Overview when the analysis is ready; the
screen keys meanwhile say so instead of switching."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from trtscope.analysis.session import InputFacts
from trtscope.views.headline import loading_rows
from trtscope.views.tui.widgets import KeyValues, NavBar
from trtscope.views.tui.widgets.kv import Row, headline_panel_rows


def loading_headline(facts: InputFacts, source: str) -> list[Row]:
    return headline_panel_rows(source, loading_rows(facts),
                               f"{facts.warning_count:,} (shown with the results)" if facts.warning_count else "")


class LoadingScreen(Screen[None]):
    def __init__(self, facts: InputFacts, source: str) -> None:
        super().__init__()
        self.facts = facts
        self.source = source

    def compose(self) -> ComposeResult:
        yield NavBar("overview", set())
        with VerticalScroll(id="overview"):
            yield KeyValues(loading_headline(self.facts, self.source), id="headline")
            yield Static("analysing…", id="loading", markup=False)
        yield Footer()
