"""The Textual app: one mode per top-level screen (each keeps its own state: filters, sort, cursor), the layer
detail pushed on top, and the keys that work everywhere (screens, help, export, theme, quit)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from trtscope.analysis.session import Analysis
from trtscope.views.tui.data import free_path
from trtscope.views.tui.screens.base import BaseScreen
from trtscope.views.tui.screens.detail import LayerDetailScreen
from trtscope.views.tui.screens.export import ExportScreen
from trtscope.views.tui.screens.fusion import FusionScreen
from trtscope.views.tui.screens.help import HelpScreen
from trtscope.views.tui.screens.hotspots import HotspotsScreen
from trtscope.views.tui.screens.layers import LayersScreen
from trtscope.views.tui.screens.overview import OverviewScreen
from trtscope.views.tui.screens.timeline import TimelineScreen
from trtscope.views.tui.widgets.nav import SCREENS


class TrtscopeApp(App[None]):
    """Browse one Analysis. ``source`` names the input in the Overview."""

    CSS_PATH = "app.tcss"
    TITLE = "trtscope"
    ENABLE_COMMAND_PALETTE = False
    MODES: ClassVar[dict[str, type[BaseScreen]]] = {  # type: ignore[assignment]
        "overview": OverviewScreen,
        "layers": LayersScreen,
        "fusion": FusionScreen,
        "hotspots": HotspotsScreen,
        "timeline": TimelineScreen,
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        *[Binding(key, f"show('{mode}')", label, show=False) for key, mode, label in SCREENS],
        Binding("question_mark", "help", "Help", show=True),
        Binding("e", "export", "Export CSV", show=True),
        Binding("t", "toggle_theme", "Dark/light theme", show=False),
        Binding("q", "quit", "Quit", show=True),
    ]

    def __init__(self, analysis: Analysis, source: str = "", start: str = "overview") -> None:
        super().__init__()
        self.analysis = analysis
        self.source = source
        self.start = start
        self.available_modes = {m for _, m, _ in SCREENS if m != "timeline" or not analysis.nvml.empty}
        self.last_export: Path | None = None

    def on_mount(self) -> None:
        self.switch_mode(self.start if self.start in self.available_modes else "overview")

    # -- navigation ----------------------------------------------------------------------------------------
    async def action_show(self, mode: str) -> None:
        if mode not in self.available_modes:
            self.notify("no NVML samples in this input: the timeline needs a capture bundle (trtscope profile)",
                        markup=False)
            return
        await self.switch_mode(mode)

    def open_layer(self, index: int, node: str | None = None) -> None:
        """Push the detail of layer ``index`` (Escape returns to where it was opened)."""
        self.push_screen(LayerDetailScreen(index, node=node, mode=self.current_mode))

    def _fusion(self) -> FusionScreen:
        screen = self.get_screen_stack("fusion")[0]
        assert isinstance(screen, FusionScreen)
        return screen

    async def _to_fusion(self) -> FusionScreen:
        """The Fusion screen, made current: back down its own stack when a detail was opened from it."""
        if self.current_mode == "fusion":
            while len(self.screen_stack) > 1:
                self.pop_screen()
        else:
            await self.switch_mode("fusion")
        return self._fusion()

    async def show_node(self, node: str, layer_index: int | None = None) -> None:
        """Go to the Fusion screen with ``node`` (under ``layer_index``) under the cursor."""
        (await self._to_fusion()).select_node(node, layer_index)

    async def show_op_type(self, op_type: str) -> None:
        """Go to the Fusion screen filtered to one ONNX op type."""
        query = f"op:{op_type}" if " " not in op_type else op_type
        (await self._to_fusion()).search_for(query)

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
        if table is None:
            self.notify("nothing to export on this screen", markup=False)
            return
        frame = table.export_frame()
        stem = f"trtscope-{table.export_name}"

        def done(path: Path | None) -> None:
            if path is not None:
                self.last_export = path
                self.notify(f"wrote {len(frame):,} rows to {path}", markup=False)

        self.push_screen(ExportScreen(frame, table.export_name, free_path(Path.cwd(), stem)), done)
