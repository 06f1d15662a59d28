"""What an app of top-level screens needs whatever it browses: the screen keys and the navigation bar's
screens (``NAV``), the back key along a jump history, jumps and detail pages asked for by messages, copy,
help, theme and export. The diff view (``diff_app.DiffApp``) is built on it. The keys every app answers alike
(copy, help, theme) come from ``keys_app.KeysApp``, which ``TrtscopeApp`` (app.py) derives from too; the
single-engine app keeps its own navigation because it draws its first frame before the screens (and pandas)
are imported.

Screens never call the App: they post messages (``messages.py``) that the handlers below act on, and the App
hands a jump to the target screen through the protocol every screen has (``BaseScreen.apply_jump``,
``snapshot``/``restore``, ``current_row``, ``export_target``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from textual import on
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from trtscope.views.tui.commands import TrtscopeCommands
from trtscope.views.tui.keys_app import KeysApp
from trtscope.views.tui.messages import GoBack, JumpTo, OpenDetail
from trtscope.views.tui.screens.base import BaseScreen
from trtscope.views.tui.screens.export import ExportChoice, ExportScreen
from trtscope.views.tui.widgets.nav import Screens

HISTORY = 100  # jumps remembered for the back key
R = TypeVar("R")


@dataclass(frozen=True)
class Place:
    """Where the back key returns to: a mode, how many screens deep, the base screen's state, and how to
    re-open the detail that was on top (if a jump closed it meanwhile)."""

    mode: str
    depth: int
    state: Any
    reopen: Callable[[], Screen[Any]] | None = None

    def same(self, other: Place) -> bool:
        return (self.mode, self.depth, self.state) == (other.mode, other.depth, other.state)


def screen_bindings(nav: Screens) -> list[BindingType]:
    return [Binding(key, f"show('{mode}')", f"Go to {label}", show=False) for key, mode, label in nav]


class BrowsingApp(KeysApp[R]):
    """Top-level screens as Textual modes (each keeps its filters, sort and cursor), details pushed on top."""

    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | {TrtscopeCommands}
    #: (key, mode, label) of the top-level screens
    NAV: ClassVar[Screens] = ()
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", show=True),
        Binding("backspace", "back", "Back", show=True),
        Binding("y", "copy('name')", "Copy name", show=False),
        Binding("c", "copy_menu", "Copy…", show=False),
        Binding("e", "export", "Export", show=True),
        Binding("t", "toggle_theme", "Dark/light theme", show=False),
        Binding("q", "quit", "Quit", show=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.available_modes: set[str] = set()
        self.history: list[Place] = []
        self.last_export: str | None = None
        self.last_copy: str | None = None

    def missing(self, mode: str) -> str:
        """Why ``mode`` has nothing to show ("" when it has)."""
        return ""

    def export_choices(self, frame: Any, what: str) -> list[ExportChoice]:
        """What ``e`` offers, given the table in view (``frame``: its rows shown, or None)."""
        raise NotImplementedError

    # -- where we are, and the back key ----------------------------------------------------------------------
    def _base(self) -> BaseScreen | None:
        stack = self.screen_stack
        return stack[0] if stack and isinstance(stack[0], BaseScreen) else None

    def here(self) -> Place:
        base = self._base()
        top = self.screen_stack[-1] if self.screen_stack else None
        reopen = getattr(top, "reopen", None) if len(self.screen_stack) > 1 else None
        return Place(self.current_mode, len(self.screen_stack), base.snapshot() if base else None, reopen)

    def remember(self) -> None:
        self.history = [*self.history, self.here()][-HISTORY:]

    async def to_mode(self, mode: str, depth: int = 1) -> None:
        if self.current_mode != mode:
            await self.switch_mode(mode)
        while len(self.screen_stack) > max(1, depth):
            self.pop_screen()

    async def action_back(self) -> None:
        """Back to where the last jump (screen key, Enter, a jump between screens) was made from."""
        now = self.here()
        while self.history:
            place = self.history.pop()
            if place.same(now):
                continue
            await self.to_mode(place.mode, place.depth)
            base = self._base()
            if base is not None and place.state is not None:
                base.restore(place.state)
            if place.reopen is not None and len(self.screen_stack) < place.depth:
                self.push_screen(place.reopen())
            return
        if len(self.screen_stack) > 1:  # nothing remembered: at least close a detail
            self.pop_screen()
            return
        self.notify("nothing to go back to", markup=False, timeout=2)

    @on(GoBack)
    async def _go_back(self, message: GoBack) -> None:
        await self.action_back()

    # -- navigation ------------------------------------------------------------------------------------------
    def label(self, mode: str) -> str:
        return next((label for _, m, label in self.NAV if m == mode), mode)

    async def action_show(self, mode: str) -> None:
        if mode not in self.available_modes:
            self.notify(f"{self.label(mode)}: {self.missing(mode)}", markup=False)
            return
        if mode == self.current_mode and len(self.screen_stack) == 1:
            return
        self.remember()
        await self.to_mode(mode)

    @on(OpenDetail)
    def _open_detail(self, message: OpenDetail) -> None:
        self.remember()
        self.push_screen(message.screen)

    @on(JumpTo)
    async def _jump(self, message: JumpTo) -> None:
        """Another top-level screen, landing where the message says; filters the target screen had to clear
        to show it are named in a notification."""
        if message.mode not in self.available_modes:
            self.notify(f"cannot show that: {self.missing(message.mode)}", markup=False)
            return
        self.remember()
        await self.to_mode(message.mode)
        base = self._base()
        said = base.apply_jump(message.jump) if base is not None else ""
        if said:
            why = f"{message.jump.why}: " if message.jump.why else ""
            self.notify(why + said, markup=False)

    # -- keys that work everywhere: copy, help and theme come from KeysApp ----------------------------------
    def action_export(self) -> None:
        screen = self.screen
        table = screen.export_target() if isinstance(screen, BaseScreen) else None
        frame = table.export_frame() if table is not None else None
        options = self.export_choices(frame, table.export_name if table is not None else "")
        if not options:
            self.notify("nothing to export here", markup=False)
            return

        def done(said: str | None) -> None:
            if said is not None:
                self.last_export = said
                self.notify(said, markup=False)

        self.push_screen(ExportScreen(options), done)
