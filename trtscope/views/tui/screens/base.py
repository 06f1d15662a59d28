"""What every screen shares: the navigation bar on top, the line naming the row under the cursor in full, the
footer of keys, the sort picker, maximising and resizing tables, and the small protocol the App uses without
knowing a screen's internals (:meth:`BaseScreen.apply_jump`, :meth:`snapshot`/:meth:`restore`,
:meth:`current_row`, :meth:`export_target`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from trtscope.analysis.session import Analysis
from trtscope.presentation.formatting import printable
from trtscope.views.tui.host import Host
from trtscope.views.tui.messages import Jump
from trtscope.views.tui.screens.sort import SortChoice, SortPicker
from trtscope.views.tui.widgets import FrameTable, NavBar
from trtscope.views.tui.widgets.nav import SCREENS, Screens


@dataclass(frozen=True)
class RowRef:
    """The row under the cursor, in full: what the status line shows and the copy commands copy."""

    name: str | None = None
    node: str | None = None
    kernel: str | None = None

    def get(self, role: str) -> str | None:
        return cast("str | None", getattr(self, role, None))


class RowLine(Static):
    """The full name of the row under the cursor (wrapped, never cut), under the table."""

    DEFAULT_CSS = "RowLine { height: auto; max-height: 4; padding: 0 1; color: $text-muted; }"

    def show(self, row: RowRef | None) -> None:
        if row is None or not (row.name or row.node or row.kernel):
            self.update("")
            self.display = False
            return
        text = Text()
        if row.name:
            text.append("▶ ", style="bold")
            text.append(printable(row.name))
        for label, value in (("ONNX", row.node), ("kernel", row.kernel)):
            if value and value != row.name:
                text.append(f"   {label}: ", style="bold")
                text.append(printable(value.replace("\n", ", ")))
        self.update(text)
        self.display = True


class BaseScreen(Screen[None]):
    """A full screen of the app; subclasses yield their content from :meth:`body`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "toggle_maximize", "Maximize / restore table", show=False),
        Binding("plus,equals_sign", "resize(4)", "Taller table", show=False),
        Binding("minus", "resize(-4)", "Shorter table", show=False),
    ]
    #: the navigation entry this screen highlights
    MODE: ClassVar[str] = ""
    #: the app's top-level screens, as the navigation bar lists them
    NAV: ClassVar[Screens] = SCREENS

    @property
    def host(self) -> Host:
        return cast(Host, self.app)

    @property
    def analysis(self) -> Analysis:
        return self.host.analysis

    def nav_mode(self) -> str:
        return self.MODE

    def crumb(self) -> str:
        return ""

    def compose(self) -> ComposeResult:
        yield NavBar(self.nav_mode(), self.host.available_modes, self.crumb(), self.NAV)
        yield from self.body()
        yield RowLine(id="row-line", markup=False)
        yield Footer()

    def body(self) -> Iterable[Widget]:
        return ()

    # -- the protocol the App uses ---------------------------------------------------------------------------
    def export_target(self) -> FrameTable | None:
        """The table ``e`` exports: the focused one, else the screen's first."""
        if isinstance(self.focused, FrameTable):
            return self.focused
        tables = list(self.query(FrameTable))
        return tables[0] if tables else None

    def current_row(self) -> RowRef | None:
        """The row under the cursor of the focused table (else the screen's first table)."""
        table = self.export_target()
        if table is None or table.cursor_position is None:
            return None
        return RowRef(table.cursor_role("name"), table.cursor_role("node"), table.cursor_role("kernel"))

    def apply_jump(self, jump: Jump) -> str:
        """Land on ``jump`` (a node, op type, search...); returns what had to change to show it ("" if nothing).
        Screens that can be jumped to override this."""
        return ""

    def snapshot(self) -> Any:
        """What :meth:`restore` needs to bring this screen back as it is now (for the back key)."""
        return None

    def restore(self, state: Any) -> None:
        return None

    # -- the row line ----------------------------------------------------------------------------------------
    @on(FrameTable.Changed)
    def _row_changed(self, event: FrameTable.Changed) -> None:
        if event.table.has_focus or self.focused is None or not isinstance(self.focused, FrameTable):
            self.refresh_row_line()

    def refresh_row_line(self) -> None:
        lines = self.query(RowLine)
        if lines:
            lines.first().show(self.current_row())

    # -- sorting ---------------------------------------------------------------------------------------------
    def sort_choices(self, table: FrameTable) -> list[SortChoice]:
        """What the sort picker offers for ``table``: each sortable column, then the original order."""
        out = [SortChoice(c.sort_key or c.key, c.label or c.key,
                          c.descending_first if c.descending_first is not None else c.right)
               for c in table.sortable_columns()]
        return [*out, SortChoice(None, "original order", False)]

    def apply_sort(self, table: FrameTable, choice: SortChoice, descending: bool) -> None:
        table.sort(choice.key, descending)

    @on(FrameTable.SortRequested)
    def _pick_sort(self, event: FrameTable.SortRequested) -> None:
        table = event.table
        choices = self.sort_choices(table)

        def chosen(result: tuple[SortChoice, bool] | None) -> None:
            if result is not None:
                self.apply_sort(table, *result)
                table.focus()

        self.app.push_screen(SortPicker(choices, table.sort_column, table.sort_descending), chosen)

    # -- maximise and resize tables --------------------------------------------------------------------------
    def action_toggle_maximize(self) -> None:
        """Textual's maximize, with the table's page height put aside meanwhile (it would keep it)."""
        table = self.maximized
        if isinstance(table, FrameTable):
            self.minimize()
            if table.page_height is not None:
                table.styles.height = table.page_height
        elif table is not None:
            self.minimize()
        elif isinstance(self.focused, FrameTable):
            table = self.focused
            table.page_height = table.styles.height
            table.styles.height = "100%"
            self.maximize(table, container=False)

    def action_resize(self, delta: int) -> None:
        table = self.focused
        if not isinstance(table, FrameTable) or not table.has_class("section-table"):
            self.notify("only the tables stacked on a page can be resized (m maximises any table)", markup=False)
            return
        height = table.outer_size.height or table.size.height
        table.styles.height = max(3, min(height + delta, table.row_count + 1 if delta > 0 else height + delta))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "resize":
            return bool(self.query(".section-table"))
        return True


def section(title: str, id: str | None = None) -> Static:
    """A bold section title (our own text: never data, so no markup concerns)."""
    return Static(title, classes="section-title", id=id, markup=False)


def fit_height(table: FrameTable, cap: int) -> None:
    """Size a table stacked in a scrolling page to its rows (plus header), at most ``cap`` rows."""
    table.styles.height = min(max(table.row_count, 1), cap) + 1


def focus_first_table(screen: Screen[None], cap: int, page: str) -> None:
    """Size the tables stacked on a scrolling page (``#page``) to their rows (at most ``cap``) and focus the
    first one without scrolling it into view (Enter works at once; the figures above it stay in view); the
    page itself when it has no table."""
    tables = list(screen.query(FrameTable))
    for t in tables:
        fit_height(t, cap)
    if tables:
        tables[0].focus(scroll_visible=False)
    else:
        screen.query_one(f"#{page}").focus()
