"""The Textual app: one mode per top-level screen (each keeps its own state: filters, sort, cursor), the layer
detail pushed on top, and what works everywhere: screen keys, the back key along the jump history, copy, export,
help, the command palette, theme, quit.

Screens never call the App: they post messages (``messages.py``) that the handlers below act on, and the App
hands a jump to the target screen through the small protocol every screen has (``BaseScreen.apply_jump``,
``snapshot``/``restore``, ``current_row``, ``export_target``)."""

from __future__ import annotations

import getpass
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import App
from textual.binding import Binding, BindingType

from trtscope.analysis.session import Analysis
from trtscope.atomic import atomic_write
from trtscope.errors import TrtscopeError
from trtscope.views.tui.commands import TrtscopeCommands
from trtscope.views.tui.messages import GoBack, JumpTo, OpenLayer
from trtscope.views.tui.screens.base import BaseScreen
from trtscope.views.tui.screens.copy import ROLES, CopyScreen
from trtscope.views.tui.screens.detail import LayerDetailScreen
from trtscope.views.tui.screens.export import ExportScreen, choices
from trtscope.views.tui.screens.fusion import FusionScreen
from trtscope.views.tui.screens.help import HelpScreen
from trtscope.views.tui.screens.hotspots import HotspotsScreen
from trtscope.views.tui.screens.kernels import KernelsScreen
from trtscope.views.tui.screens.layers import LayersScreen
from trtscope.views.tui.screens.overview import OverviewScreen
from trtscope.views.tui.screens.timeline import TimelineScreen
from trtscope.views.tui.widgets.nav import SCREENS

HISTORY = 100  # jumps remembered for the back key


@dataclass(frozen=True)
class Location:
    """A place the back key returns to: a mode, how many screens deep, and the base screen's state."""

    mode: str
    depth: int
    state: Any
    layer: int | None = None  # the layer detail on top, re-opened if a jump closed it meanwhile


def clipboard_file() -> Path:
    """Where a copy is also written, for terminals that ignore OSC 52 (one file per user, replaced each time)."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name (containers): still one file
        user = "user"
    return Path(tempfile.gettempdir()) / f"trtscope-clipboard-{user}.txt"


class TrtscopeApp(App[None]):
    """Browse one Analysis. ``source`` names the input in the Overview."""

    CSS_PATH = "app.tcss"
    TITLE = "trtscope"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | {TrtscopeCommands}
    MODES: ClassVar[dict[str, type[BaseScreen]]] = {  # type: ignore[assignment]
        "overview": OverviewScreen,
        "layers": LayersScreen,
        "fusion": FusionScreen,
        "hotspots": HotspotsScreen,
        "kernels": KernelsScreen,
        "timeline": TimelineScreen,
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        *[Binding(key, f"show('{mode}')", f"Go to {label}", show=False) for key, mode, label in SCREENS],
        Binding("question_mark", "help", "Help", show=True),
        Binding("backspace", "back", "Back", show=True),
        Binding("y", "copy('name')", "Copy name", show=False),
        Binding("c", "copy_menu", "Copy…", show=False),
        Binding("e", "export", "Export", show=True),
        Binding("t", "toggle_theme", "Dark/light theme", show=False),
        Binding("q", "quit", "Quit", show=True),
    ]

    def __init__(self, analysis: Analysis, source: str = "", start: str = "overview") -> None:
        super().__init__()
        self.analysis = analysis
        self.source = source
        self.start = start
        self.available_modes = {m for _, m, _ in SCREENS if not self.missing(m)}
        self.history: list[Location] = []
        self.last_export: str | None = None
        self.last_copy: str | None = None

    def missing(self, mode: str) -> str:
        """Why ``mode`` has nothing to show for this input ("" when it has)."""
        a = self.analysis
        no_layers = "no engine layers (give the layer information: --layers, or a profile)"
        if mode in ("layers", "hotspots") and not a.has_layers:
            return no_layers
        if mode == "fusion":
            if not a.has_layers:
                return no_layers
            if a.onnx_nodes.empty:
                return "no ONNX nodes (the layer information names none; give --onnx)"
        if mode == "kernels" and not a.has_kernels:
            return "no kernels (they come from a capture bundle or an Nsight Systems import)"
        if mode == "timeline" and a.nvml.empty:
            return "no NVML samples (the Timeline needs a capture bundle: trtscope profile)"
        return ""

    def on_mount(self) -> None:
        self.switch_mode(self.start if self.start in self.available_modes else "overview")

    # -- where we are, and the back key ----------------------------------------------------------------------
    def _base(self) -> BaseScreen | None:
        stack = self.screen_stack
        return stack[0] if stack and isinstance(stack[0], BaseScreen) else None

    def here(self) -> Location:
        base = self._base()
        top = self.screen_stack[-1] if self.screen_stack else None
        layer = top.index if isinstance(top, LayerDetailScreen) else None
        return Location(self.current_mode, len(self.screen_stack), base.snapshot() if base else None, layer)

    def remember(self) -> None:
        self.history = [*self.history, self.here()][-HISTORY:]

    async def _to_mode(self, mode: str, depth: int = 1) -> None:
        if self.current_mode != mode:
            await self.switch_mode(mode)
        while len(self.screen_stack) > max(1, depth):
            self.pop_screen()

    async def action_back(self) -> None:
        """Back to where the last jump (screen key, Enter, a jump between screens) was made from."""
        now = self.here()
        while self.history:
            loc = self.history.pop()
            if loc == now:
                continue
            await self._to_mode(loc.mode, loc.depth)
            base = self._base()
            if base is not None and loc.state is not None:
                base.restore(loc.state)
            if loc.layer is not None and len(self.screen_stack) < loc.depth:
                self.push_screen(LayerDetailScreen(loc.layer, mode=loc.mode))
            return
        if len(self.screen_stack) > 1:  # nothing remembered: at least close a detail
            self.pop_screen()
            return
        self.notify("nothing to go back to", markup=False, timeout=2)

    @on(GoBack)
    async def _go_back(self, message: GoBack) -> None:
        await self.action_back()

    # -- navigation ------------------------------------------------------------------------------------------
    async def action_show(self, mode: str) -> None:
        if mode not in self.available_modes:
            self.notify(f"{dict((m, label) for _, m, label in SCREENS)[mode]}: {self.missing(mode)}", markup=False)
            return
        if mode == self.current_mode:
            return
        self.remember()
        await self.switch_mode(mode)

    @on(OpenLayer)
    def _open_layer(self, message: OpenLayer) -> None:
        """The detail of a layer, over the screen it was opened from."""
        self.remember()
        self.push_screen(LayerDetailScreen(message.index, node=message.node, mode=self.current_mode))

    @on(JumpTo)
    async def _jump(self, message: JumpTo) -> None:
        """Another top-level screen, landing where the message says; filters the target screen had to clear
        to show it are named in a notification."""
        if message.mode not in self.available_modes:
            self.notify(f"cannot show that: {self.missing(message.mode)}", markup=False)
            return
        self.remember()
        await self._to_mode(message.mode)
        base = self._base()
        said = base.apply_jump(message.jump) if base is not None else ""
        if said:
            why = f"{message.jump.why}: " if message.jump.why else ""
            self.notify(why + said, markup=False)

    # -- copy ------------------------------------------------------------------------------------------------
    def _row_values(self) -> dict[str, str]:
        screen = self.screen
        row = screen.current_row() if isinstance(screen, BaseScreen) else None
        if row is None:
            return {}
        return {role: v for role in ROLES if (v := row.get(role))}

    def action_copy(self, role: str) -> None:
        values = self._row_values()
        if role not in values:
            self.notify(f"nothing to copy: no {ROLES[role]} on this row", markup=False)
            return
        self.copy_text(values[role], ROLES[role])

    def action_copy_menu(self) -> None:
        values = self._row_values()
        if not values:
            self.notify("nothing to copy here: put the cursor on a row of a table", markup=False)
            return

        def chosen(role: str | None) -> None:
            if role is not None:
                self.copy_text(values[role], ROLES[role])

        self.push_screen(CopyScreen(values), chosen)

    def copy_text(self, text: str, what: str) -> None:
        """OSC 52 (Textual's copy_to_clipboard), and the same text in a file for terminals without OSC 52."""
        self.copy_to_clipboard(text)
        self.last_copy = text
        where = clipboard_file()
        try:
            atomic_write(where, text + "\n")
            also = f"; also in {where}"
        except (TrtscopeError, OSError):
            also = ""
        shown = text if len(text) <= 60 else text[:59] + "…"
        self.notify(f"copied {what}: {shown} (OSC 52{also})", markup=False)

    # -- keys that work everywhere -------------------------------------------------------------------------
    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        self.push_screen(HelpScreen(self.screen))

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def action_export(self) -> None:
        screen = self.screen
        table = screen.export_target() if isinstance(screen, BaseScreen) else None
        frame = table.export_frame() if table is not None else None
        options = choices(self.analysis, frame, table.export_name if table is not None else "", Path.cwd())

        def done(said: str | None) -> None:
            if said is not None:
                self.last_export = said
                self.notify(said, markup=False)

        self.push_screen(ExportScreen(options), done)
