"""What every screen shares: the navigation bar on top, the footer of keys, access to the Analysis, and
which table ``e`` exports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from trtscope.views.tui.widgets import FrameTable, NavBar

if TYPE_CHECKING:
    from trtscope.analysis.session import Analysis
    from trtscope.views.tui.app import TrtscopeApp


class BaseScreen(Screen[None]):
    """A full screen of the app; subclasses yield their content from :meth:`body`."""

    #: the navigation entry this screen highlights
    MODE: ClassVar[str] = ""

    @property
    def tui(self) -> TrtscopeApp:
        return cast("TrtscopeApp", self.app)

    @property
    def analysis(self) -> Analysis:
        return self.tui.analysis

    def nav_mode(self) -> str:
        return self.MODE

    def crumb(self) -> str:
        return ""

    def compose(self) -> ComposeResult:
        yield NavBar(self.nav_mode(), self.tui.available_modes, self.crumb())
        yield from self.body()
        yield Footer()

    def body(self) -> Iterable[Widget]:
        return ()

    def export_target(self) -> FrameTable | None:
        """The table ``e`` exports: the focused one, else the screen's first."""
        if isinstance(self.focused, FrameTable):
            return self.focused
        tables = list(self.query(FrameTable))
        return tables[0] if tables else None


def section(title: str, id: str | None = None) -> Static:
    """A bold section title (our own text: never data, so no markup concerns)."""
    return Static(title, classes="section-title", id=id, markup=False)


def fit_height(table: FrameTable, cap: int) -> None:
    """Size a table stacked in a scrolling page to its rows (plus header), at most ``cap`` rows."""
    table.styles.height = min(max(table.row_count, 1), cap) + 1
