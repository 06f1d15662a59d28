"""The Textual app: one mode per top-level screen (each keeps its own state: filters, sort, cursor), the layer
detail pushed on top, and what works everywhere: screen keys, the back key along the jump history, copy, export,
help, the command palette, theme, quit.

Screens never call the App: they post messages (``messages.py``) that the handlers below act on, and the App
hands a jump to the target screen through the small protocol every screen has (``BaseScreen.apply_jump``,
``snapshot``/``restore``, ``current_row``, ``export_target``).

Given a :class:`PendingAnalysis` (inputs already read and checked), the App paints a loading Overview first and
analyses in a worker thread, then opens the real screens: on a 20,000-layer engine the first frame comes
before the analysis, not after it."""

from __future__ import annotations

import contextlib
import gc
import getpass
import importlib
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message

from trtscope.gcpause import collector_paused
from trtscope.views.tui.commands import TrtscopeCommands
from trtscope.views.tui.keys_app import KeysApp
from trtscope.views.tui.messages import GoBack, JumpTo, OpenLayer
from trtscope.views.tui.screens.loading import LoadingScreen
from trtscope.views.tui.widgets.nav import SCREENS

if TYPE_CHECKING:
    from textual.screen import Screen

    from trtscope.analysis.session import Analysis, InputFacts
    from trtscope.model.artifacts import Artifacts
    from trtscope.views.tui.screens.base import BaseScreen

# The analysis (pandas) and the screens' base (tables) are imported on first use, not with this module: the
# loading Overview of large inputs is drawn before pandas is imported (it is then imported behind it).


def analyze(art: Artifacts, attribution: str) -> Analysis:
    """The analysis the worker runs (:func:`trtscope.analysis.session.analyze`)."""
    from trtscope.analysis.session import analyze as run

    return run(art, attribution=attribution)


def input_facts(art: Artifacts) -> InputFacts:
    from trtscope.analysis.session import input_facts as facts

    return facts(art)


def _base_screen() -> type[BaseScreen]:
    from trtscope.views.tui.screens.base import BaseScreen

    return BaseScreen

#: mode -> (module under views/tui/screens, class): imported when first shown (or, behind the loading screen,
#: while the analysis runs), so the first frame does not wait for every screen's code.
MODE_SCREENS: dict[str, tuple[str, str]] = {
    "overview": ("overview", "OverviewScreen"),
    "layers": ("layers", "LayersScreen"),
    "fusion": ("fusion", "FusionScreen"),
    "hotspots": ("hotspots", "HotspotsScreen"),
    "kernels": ("kernels", "KernelsScreen"),
    "timeline": ("timeline", "TimelineScreen"),
    "lint": ("lint", "LintScreen"),
}
#: the other screens the App opens itself (detail, copy, export, help)
_MORE_SCREENS = ("detail", "copy", "export", "help")


def _screen_module(name: str) -> Any:
    return importlib.import_module(f"trtscope.views.tui.screens.{name}")


def _mode_screen(mode: str) -> Callable[[], Screen]:
    def make() -> Screen:
        module, cls = MODE_SCREENS[mode]
        screen: Screen = getattr(_screen_module(module), cls)()
        return screen

    return make


def import_screens() -> None:
    """Import every screen's module now (a worker does this behind the loading screen)."""
    for name in (*(m for m, _ in MODE_SCREENS.values()), *_MORE_SCREENS):
        _screen_module(name)

HISTORY = 100  # jumps remembered for the back key


@dataclass(frozen=True)
class Location:
    """A place the back key returns to: a mode, how many screens deep, and the base screen's state."""

    mode: str
    depth: int
    state: Any
    layer: int | None = None  # the layer detail on top, re-opened if a jump closed it meanwhile


@dataclass(frozen=True)
class PendingAnalysis:
    """Inputs not yet analysed: ``artifacts`` read and checked (so a bad one was reported before the UI
    started), or, for inputs too large to keep the first frame waiting, ``read`` (which reads and checks them;
    it runs behind the loading Overview, and an error it raises ends the UI like an analysis error)."""

    artifacts: Artifacts | None
    attribution: str = "anchor"
    read: Callable[[], Artifacts] | None = None

    @property
    def facts(self) -> InputFacts | None:
        """What the inputs hold; None while they are still to be read."""
        return input_facts(self.artifacts) if self.artifacts is not None else None


class InputsRead(Message):
    """The worker has read the inputs: the loading Overview now shows what they hold."""

    def __init__(self, facts: InputFacts) -> None:
        super().__init__()
        self.facts = facts


class AnalysisReady(Message):
    """The worker's analysis (or the error it raised), handed to the App's thread."""

    def __init__(self, analysis: Analysis | None, error: BaseException | None = None) -> None:
        super().__init__()
        self.analysis = analysis
        self.error = error


def clipboard_file() -> Path:
    """Where a copy is also written, for terminals that ignore OSC 52 (one file per user, replaced each time)."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name (containers): still one file
        user = "user"
    return Path(tempfile.gettempdir()) / f"trtscope-clipboard-{user}.txt"


class TrtscopeApp(KeysApp[None]):
    """Browse one Analysis. ``source`` names the input in the Overview."""

    CSS_PATH = "app.tcss"
    TITLE = "trtscope"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | {TrtscopeCommands}
    MODES: ClassVar[dict[str, str | Callable[[], Screen]]] = {m: _mode_screen(m) for m in MODE_SCREENS}
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

    def __init__(self, analysis: Analysis | PendingAnalysis, source: str = "", start: str = "overview") -> None:
        super().__init__()
        self.source = source
        self.start = start
        self.pending = analysis if isinstance(analysis, PendingAnalysis) else None
        #: what the analysis worker raised (the caller reports it once the terminal is restored)
        self.failure: BaseException | None = None
        self.available_modes: set[str] = set()
        if not isinstance(analysis, PendingAnalysis):
            self._take(analysis)
        self.history: list[Location] = []
        self.last_export: str | None = None
        self.last_copy: str | None = None

    def _take(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self.pending = None
        self.available_modes = {m for _, m, _ in SCREENS if not self.missing(m)}

    def missing(self, mode: str) -> str:
        """Why ``mode`` has nothing to show for this input ("" when it has)."""
        if self.pending is not None:
            return "still analysing the input (this screen opens when the analysis is done)"
        a = self.analysis
        no_layers = "no engine layers (give the layer information: --layers, or a profile)"
        if mode in ("layers", "hotspots", "lint") and not a.has_layers:
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
        if self.pending is None:
            self.switch_mode(self.start if self.start in self.available_modes else "overview")
            return
        self.push_screen(LoadingScreen(self.pending.facts, self.source))
        self.call_after_refresh(self._start_analysis)

    def _start_analysis(self) -> None:
        # A daemon thread rather than a Textual worker: Textual waits for its thread workers when the app exits,
        # so `q` on the loading screen would wait for the reading and the analysis; a daemon thread is dropped
        # with the process (its messages to an app that has exited are not delivered).
        threading.Thread(target=self._analyse, name="trtscope-analysis", daemon=True).start()

    def _analyse(self) -> None:  # in the analysis thread
        pending = self.pending
        assert pending is not None
        try:
            with collector_paused():
                art = pending.artifacts
                if art is None:
                    assert pending.read is not None
                    art = pending.read()
                    self._tell(InputsRead(input_facts(art)))
                a = analyze(art, attribution=pending.attribution)
                import_screens()  # (behind the loading screen: the switch to the Overview is then instant)
                if self.is_running:  # (after `q` the process is ending: nothing to keep)
                    # the inputs and the analysis live as long as the UI: out of the collector's sight, so its
                    # collections while the UI runs stay small
                    gc.freeze()
        except BaseException as err:  # reported by the caller after the UI has given the terminal back
            self._tell(AnalysisReady(None, err))
            return
        self._tell(AnalysisReady(a))

    def _tell(self, message: Message) -> None:
        """Post from the analysis thread; after `q` the app may be gone, and its loop with it."""
        with contextlib.suppress(RuntimeError):  # "Event loop is closed": the user quit meanwhile
            self.post_message(message)

    @on(InputsRead)
    def _inputs_read(self, message: InputsRead) -> None:
        screen = self.screen
        if isinstance(screen, LoadingScreen):
            screen.show_facts(message.facts)

    @on(AnalysisReady)
    def _analysis_ready(self, message: AnalysisReady) -> None:
        if message.analysis is None:
            self.failure = message.error
            self.exit()
            return
        self._take(message.analysis)
        self.switch_mode(self.start if self.start in self.available_modes else "overview")

    # -- where we are, and the back key ----------------------------------------------------------------------
    def _base(self) -> BaseScreen | None:
        stack = self.screen_stack
        return stack[0] if stack and isinstance(stack[0], _base_screen()) else None

    def here(self) -> Location:
        base = self._base()
        top = self.screen_stack[-1] if self.screen_stack else None
        from trtscope.views.tui.screens.detail import LayerDetailScreen

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
                from trtscope.views.tui.screens.detail import LayerDetailScreen

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
        from trtscope.views.tui.screens.detail import LayerDetailScreen

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

    # -- keys that work everywhere: copy, help and theme come from KeysApp ----------------------------------
    def action_export(self) -> None:
        if self.pending is not None:
            self.notify("nothing to export yet: the analysis is still running", markup=False)
            return
        from trtscope.views.tui.screens.export import ExportScreen, choices

        screen = self.screen
        table = screen.export_target() if isinstance(screen, _base_screen()) else None
        frame = table.export_frame() if table is not None else None
        options = choices(self.analysis, frame, table.export_name if table is not None else "", Path.cwd())

        def done(said: str | None) -> None:
            if said is not None:
                self.last_export = said
                self.notify(said, markup=False)

        self.push_screen(ExportScreen(options), done)
