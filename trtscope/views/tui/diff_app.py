"""The diff view (``trtscope tui A B``): two loaded analyses compared in a Textual app of its own, so the
single-engine app (app.py) stays as it is.

The comparison (``trtscope.analysis.diff.diff``, seconds on 20,000-layer inputs) runs in a daemon thread after
the first paint, behind a loading screen; the inputs were loaded and checked before the UI started (a bad
input is the CLI's one-line error). ``a`` / ``b`` open one side in the single-engine screens: the diff app
ends, :class:`SideApp` (the single-engine app, ``q`` returning) runs on that side, then the diff app comes back
with the same comparison (not recomputed) on the screen and rows it was left on (:func:`browse`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, LoadingIndicator, Static

from trtscope.analysis.diff import Diff
from trtscope.analysis.diff.gate import FailOn, GateError, Violation, evaluate
from trtscope.analysis.session import Analysis
from trtscope.atomic import atomic_write, check_writable
from trtscope.presentation.formatting import printable
from trtscope.views.tui.app import TrtscopeApp
from trtscope.views.tui.browsing import BrowsingApp, screen_bindings
from trtscope.views.tui.data import free_path
from trtscope.views.tui.screens.base import BaseScreen
from trtscope.views.tui.screens.detail import LayerDetailScreen
from trtscope.views.tui.screens.diff import DIFF_SCREENS
from trtscope.views.tui.screens.diff.base import DiffScreen
from trtscope.views.tui.screens.diff.nodes import NodesScreen
from trtscope.views.tui.screens.diff.overview import DiffOverviewScreen
from trtscope.views.tui.screens.diff.tables import InsertedScreen, LayerKindsScreen, OpTypesScreen
from trtscope.views.tui.screens.export import ExportChoice, table_choice


@dataclass(frozen=True)
class SideRequest:
    """What the diff app ends with when ``a`` / ``b`` is pressed: the side to open (at ``layer``'s detail, the
    layer of the row under the cursor on that side, when there is one) and where to come back to."""

    side: str  # "a" or "b"
    layer: int | None
    mode: str
    state: Any


class LoadingScreen(Screen[None]):
    """Shown while the comparison runs (the inputs are loaded already; this is matching and comparing)."""

    def __init__(self, text: Text) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="diff-loading"):
            yield Static(self.text, id="diff-loading-text")
            yield LoadingIndicator()
        yield Footer()


def _side_text(label: str, a: Analysis) -> str:
    s = a.summary
    return f"{printable(label)} ({s.layer_count:,} layers, {len(a.onnx_nodes):,} ONNX nodes)"


class DiffApp(BrowsingApp["SideRequest | None"]):
    """Compare analysis ``a`` (the baseline) with ``b``; ``diff`` when the comparison is already computed."""

    TITLE = "trtscope diff"
    NAV = DIFF_SCREENS
    MODES: ClassVar[dict[str, type[BaseScreen]]] = {  # type: ignore[assignment]
        "overview": DiffOverviewScreen,
        "nodes": NodesScreen,
        "op-types": OpTypesScreen,
        "inserted": InsertedScreen,
        "kinds": LayerKindsScreen,
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        *screen_bindings(DIFF_SCREENS),
        Binding("a", "open_side('a')", "Open side A", show=True),
        Binding("b", "open_side('b')", "Open side B", show=True),
    ]

    def __init__(self, a: Analysis, b: Analysis, label_a: str = "A", label_b: str = "B",
                 sources: tuple[str, str] = ("", ""), conditions: list[FailOn] | None = None,
                 diff: Diff | None = None, start: str = "overview", state: Any = None,
                 compare: Callable[[Analysis, Analysis, str, str], Diff] | None = None) -> None:
        super().__init__()
        self.a, self.b = a, b
        self.label_a, self.label_b = label_a, label_b
        self.sources = sources
        self.conditions = list(conditions or [])
        self.violations: list[Violation] = []
        self.gate_error: str | None = None
        self.start, self.start_state = start, state
        self.compare = compare
        self.error: BaseException | None = None  # what the comparison raised; the CLI reports it after the UI
        self._diff = diff

    @property
    def diff(self) -> Diff:
        if self._diff is None:
            raise RuntimeError("the comparison is still running")
        return self._diff

    @property
    def ready(self) -> bool:
        return self._diff is not None

    def missing(self, mode: str) -> str:
        return "" if self.ready else "still comparing the two inputs…"

    # -- the comparison, in a worker after the first paint ----------------------------------------------------
    async def on_mount(self) -> None:
        if self._diff is not None:
            await self._show()
            return
        text = Text("Comparing\n", style="bold")
        text.append(f"  A = {_side_text(self.label_a, self.a)}\n  B = {_side_text(self.label_b, self.b)}\n",
                    style="")
        text.append("pairing the ONNX nodes of the two models, then comparing them node by node…", style="dim")
        self.push_screen(LoadingScreen(text))
        # A daemon thread rather than a Textual worker (as the single-engine app's analysis): Textual waits for
        # its thread workers when the app exits, so `q` while comparing would wait for the comparison.
        threading.Thread(target=self._compare, name="trtscope-diff", daemon=True).start()

    def _compare(self) -> None:  # in the comparison thread
        try:
            if self.compare is not None:
                d = self.compare(self.a, self.b, self.label_a, self.label_b)
            else:
                from trtscope.analysis.diff import diff

                d = diff(self.a, self.b, self.label_a, self.label_b)
        except BaseException as err:  # reported by the CLI after the UI has closed (one line, exit 2 or 3)
            self.error = err
            self._tell(self.exit)
            return
        self._tell(self._compared, d)

    def _tell(self, callback: Callable[..., None], *args: Any) -> None:
        """Run ``callback`` on the app's thread, unless the user quit while the comparison ran."""
        if not self.is_running:  # (gone: a call now would leave its coroutine unawaited)
            return
        with contextlib.suppress(RuntimeError):  # "App is not running": it ended just now
            self.call_from_thread(callback, *args)

    def _compared(self, d: Diff) -> None:
        self._diff = d
        self.call_later(self._show)

    async def _show(self) -> None:
        try:
            self.violations = evaluate(self.diff.summary, self.conditions)
        except GateError as err:  # e.g. time-increase without profiles: said in the Overview, not passed
            self.gate_error = str(err)
        self.available_modes = {m for _, m, _ in DIFF_SCREENS}
        await self.switch_mode(self.start if self.start in self.available_modes else "overview")
        base = self._base()
        if base is not None and self.start_state is not None:
            base.restore(self.start_state)

    async def action_show(self, mode: str) -> None:
        if not self.ready:
            self.notify("still comparing the two inputs…", markup=False)
            return
        await super().action_show(mode)

    # -- a / b: one side in the single-engine screens ---------------------------------------------------------
    def action_open_side(self, side: str) -> None:
        if not self.ready:
            self.notify("still comparing the two inputs…", markup=False)
            return
        top = self.screen
        layer = top.side_layer(side) if isinstance(top, DiffScreen) else None
        base = self._base()
        self.exit(SideRequest(side, layer, self.current_mode, base.snapshot() if base is not None else None))

    # -- export: the table in view, or the whole comparison as `trtscope diff --json` writes it ----------------
    def export_choices(self, frame: Any, what: str) -> list[ExportChoice]:
        out = [table_choice(frame, what, Path.cwd())] if frame is not None and self.ready else []
        if self.ready:
            d, conditions, violations = self.diff, self.conditions, self.violations

            def write_json(path: Path, force: bool) -> str:
                from trtscope.exporters.diff_json import diff_json

                check_writable(path, force=force)
                atomic_write(path, diff_json(d, conditions, violations, top=len(d.changes)) + "\n")
                return f"wrote the comparison (trtscope-diff/1, every change) to {path}"

            out.append(ExportChoice("diff-json", "the whole comparison: trtscope diff --json (every change)",
                                    free_path(Path.cwd(), "trtscope-diff", ".json"), write_json))
        return out


class SideApp(TrtscopeApp):
    """The single-engine app on one side of a comparison; ``q`` goes back to the diff (``layer``: open that
    layer's detail first)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "quit", "Back to the diff", show=True)]

    def __init__(self, analysis: Analysis, source: str, layer: int | None = None) -> None:
        super().__init__(analysis, source=source, start="overview" if layer is None else "layers")
        self.layer = layer

    def on_mount(self) -> None:
        super().on_mount()
        if self.layer is not None and self.current_mode == "layers":
            self.push_screen(LayerDetailScreen(self.layer, mode="layers"))


def side_source(side: str, label: str, source: str) -> str:
    """How a side names its input in the single-engine Overview."""
    return f"side {side.upper()} of the comparison: {label}" + (f" ({source})" if source and source != label else "")


def browse(a: Analysis, b: Analysis, label_a: str, label_b: str, sources: tuple[str, str] = ("", ""),
           conditions: list[FailOn] | None = None,
           run: Callable[[Any], Any] | None = None) -> None:
    """Run the diff view until the user quits, with side trips into the single-engine app (``a`` / ``b``).
    ``run(app)`` runs one app and returns its result (tests drive the apps headlessly through it). An error
    the comparison raised is raised here, after the UI has closed."""
    run_app = run or (lambda app: app.run())
    d: Diff | None = None
    start, state = "overview", None
    while True:
        app = DiffApp(a, b, label_a, label_b, sources, conditions, diff=d, start=start, state=state)
        request = run_app(app)
        if app.error is not None:
            raise app.error
        if not isinstance(request, SideRequest) or not app.ready:
            return
        d, start, state = app.diff, request.mode, request.state
        an, label, source = (a, label_a, sources[0]) if request.side == "a" else (b, label_b, sources[1])
        run_app(SideApp(an, side_source(request.side, label, source), request.layer))
