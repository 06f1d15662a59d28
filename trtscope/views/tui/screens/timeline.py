"""Timeline: what the GPU did during a capture, from its NVML samples: utilization, SM clock, power, memory,
temperature over time (and the share of time kernels were running, when kernels were traced), then every
sample in a table.

Each metric is a one-line track, one cell per time bucket. ``a`` switches the scale: relative (each track
from its minimum to its maximum in the window: shape) or absolute (from zero to 100 % for percentages, else
to the largest sample of the capture: a 300 MiB change on an 80 GB GPU stays a ripple). ←/→ move the time
cursor (Shift: ten cells); the line under the tracks gives each metric's value there and the kernels running
at that moment. ``z`` / ``Z`` zoom in / out around the cursor, ``g`` cycles GPUs when several were sampled.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from trtscope.analysis import timeline
from trtscope.presentation.formatting import printable
from trtscope.views.tui import data
from trtscope.views.tui.cells import plural, seconds
from trtscope.views.tui.columns import NVML_COLUMNS
from trtscope.views.tui.names import kernel_label
from trtscope.views.tui.screens.base import BaseScreen, fit_height, section
from trtscope.views.tui.widgets import FrameTable
from trtscope.views.tui.widgets.axis import TimeAxis
from trtscope.views.tui.widgets.track import Track

#: Metrics whose absolute scale tops at 100 (percentages); the others top at their capture-wide maximum.
PERCENT = {"gpu_util_pct", "mem_util_pct"}


class Tracks(VerticalScroll, can_focus=True):
    """The tracks; ←/→ move the time cursor instead of scrolling sideways."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "screen.move_cursor(-1)", "Time cursor left", show=False),
        Binding("right", "screen.move_cursor(1)", "Time cursor right", show=False),
        Binding("shift+left", "screen.move_cursor(-10)", "Time cursor 10 left", show=False),
        Binding("shift+right", "screen.move_cursor(10)", "Time cursor 10 right", show=False),
    ]


class TimelineScreen(BaseScreen):
    MODE = "timeline"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "toggle_scale", "Absolute / relative scale", show=True),
        Binding("z", "zoom(0.5)", "Zoom in", show=True),
        Binding("Z", "zoom(2)", "Zoom out", show=False),
        Binding("g", "next_gpu", "Next GPU", show=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.gpus: list[Any] = []
        self.gpu: Any = None
        self.absolute = False
        self.cursor = 0
        self.window: tuple[float, float] = (0.0, 0.0)
        self.full: tuple[float, float] = (0.0, 0.0)
        self.series: dict[str, np.ndarray] = {}

    def body(self) -> Iterable[Widget]:
        nvml = self.analysis.nvml
        self.gpus = timeline.gpu_indices(nvml)
        self.gpu = self.gpus[0] if self.gpus else None
        with Tracks(id="timeline"):
            if nvml.empty:
                yield Static("No NVML samples in this input. Capture a bundle with `trtscope profile` to see GPU "
                             "utilization, clocks, power and memory over time.", markup=False, id="timeline-title")
                return
            yield Static(id="timeline-title", markup=False)
            for key, _, _ in data.NVML_METRICS:
                if key in nvml.columns and nvml[key].notna().any():
                    yield Static(id=f"label-{key}", classes="metric-label", markup=False)
                    yield Track(id=f"track-{key}", classes="metric")
            if not self.analysis.kernels.empty:
                yield Static(id="label-kernels", classes="metric-label", markup=False)
                yield Track(id="track-kernels", classes="metric")
            yield TimeAxis(id="time-axis")
            yield Static(id="cursor-readout", markup=False)
            yield section("NVML samples")
            yield FrameTable(NVML_COLUMNS, export_name="nvml-samples", id="samples", classes="section-table",
                             roles={})

    def on_mount(self) -> None:
        if self.gpus:
            self.show_gpu()
        self.query_one("#timeline").focus()

    def on_resize(self, event: events.Resize) -> None:
        if self.gpus:
            self.call_after_refresh(self.draw)

    # -- actions ---------------------------------------------------------------------------------------------
    def action_next_gpu(self) -> None:
        if len(self.gpus) > 1:
            self.gpu = self.gpus[(self.gpus.index(self.gpu) + 1) % len(self.gpus)]
            self.show_gpu()

    def action_toggle_scale(self) -> None:
        self.absolute = not self.absolute
        self.draw()

    def action_move_cursor(self, delta: int) -> None:
        self.cursor = max(0, min(self.points - 1, self.cursor + delta))
        self.draw()

    def action_zoom(self, factor: float) -> None:
        w0, w1 = self.window
        f0, f1 = self.full
        if w1 <= w0:
            return
        at = w0 + (w1 - w0) * (self.cursor + 0.5) / max(1, self.points)
        half = (w1 - w0) * factor / 2
        half = min(half, (f1 - f0) / 2)
        half = max(half, 1_000.0)  # a microsecond at most zoomed in
        lo = min(max(f0, at - half), f1 - 2 * half)
        self.window = (lo, lo + 2 * half)
        self.cursor = int((at - self.window[0]) / (2 * half) * self.points)
        self.draw()

    # -- drawing ---------------------------------------------------------------------------------------------
    def samples(self) -> pd.DataFrame:
        nvml = self.analysis.nvml
        return nvml[nvml["gpu_index"].eq(self.gpu)].sort_values("timestamp_ns", kind="stable")

    @property
    def points(self) -> int:
        tracks = self.query(Track)
        width = tracks.first().size.width if tracks else 0
        return max(width, 10)

    def show_gpu(self) -> None:
        samples = self.samples()
        ts = pd.to_numeric(samples["timestamp_ns"], errors="coerce").dropna().to_numpy(dtype=float)
        period = float(np.median(np.diff(ts))) if len(ts) > 1 else 1.0
        self.full = (float(ts[0]), float(ts[-1]) + period) if len(ts) else (0.0, 0.0)
        self.window = self.full
        self.cursor = 0
        span = (self.full[1] - self.full[0]) / 1e9
        others = f" (g: next of {len(self.gpus)} GPUs)" if len(self.gpus) > 1 else ""
        self.query_one("#timeline-title", Static).update(
            f"GPU {self.gpu}: {plural(len(samples), 'NVML sample')} over {seconds(span)} "
            f"(every ~{seconds(period / 1e9)}){others} · a scale · ←/→ cursor · z/Z zoom")
        table = self.query_one("#samples", FrameTable)
        t0 = ts[0] if len(ts) else 0.0
        table.set_frame(samples.assign(t_s=(pd.to_numeric(samples["timestamp_ns"], errors="coerce") - t0) / 1e9))
        fit_height(table, 10)
        self.draw()

    def scale(self, key: str, window_values: np.ndarray, samples: pd.DataFrame) -> tuple[float, float, str]:
        """(lo, hi, how it reads) of one metric's track."""
        if self.absolute:
            if key in PERCENT:
                return 0.0, 100.0, "scale 0–100"
            top = float(pd.to_numeric(samples[key], errors="coerce").max())
            return 0.0, top, f"scale 0–{top:,.0f} (capture max)"
        ok = window_values[~np.isnan(window_values)]
        lo, hi = (float(ok.min()), float(ok.max())) if len(ok) else (0.0, 1.0)
        return lo, hi, "scale min–max of the window"

    def draw(self) -> None:
        if not self.gpus or not self.is_mounted:
            return
        n = self.points
        self.cursor = min(self.cursor, n - 1)
        samples = self.samples()
        nvml = self.analysis.nvml
        w0, w1 = self.window
        for key, label, unit in data.NVML_METRICS:
            if not self.query(f"#track-{key}"):
                continue
            series, _ = timeline.nvml_series(nvml, self.gpu, key, n, window=self.window)
            self.series[key] = series
            lo, hi, how = self.scale(key, series, samples)
            st = timeline.metric_stats(samples[key])
            text = f"{label} ({unit})"
            if st:
                text += f": min {st['min']:.1f} · mean {st['mean']:.1f} · max {st['max']:.1f}  ({how})"
            self.query_one(f"#label-{key}", Static).update(text)
            self.query_one(f"#track-{key}", Track).show(series, lo, hi, self.cursor)
        if self.query("#track-kernels"):
            busy = timeline.kernel_busy(self.analysis.kernels, w0, w1, n)
            self.series["kernels"] = busy
            self.query_one("#label-kernels", Static).update(
                f"Kernels running (share of time): mean {100 * busy.mean():.2g}%  (traced kernels, all streams; "
                "scale 0–100 %)" if len(busy) else "Kernels running: none in the sampled span")
            self.query_one("#track-kernels", Track).show(busy, 0.0, 1.0, self.cursor)
        axis = self.query_one("#time-axis", TimeAxis)
        axis.set_span((w1 - w0) / 1e9, start_s=(w0 - self.full[0]) / 1e9)
        self.query_one("#cursor-readout", Static).update(self.readout())

    def cursor_time(self) -> tuple[float, float]:
        """The cursor's bucket [start, end) in ns."""
        w0, w1 = self.window
        dt = (w1 - w0) / max(1, self.points)
        return w0 + self.cursor * dt, w0 + (self.cursor + 1) * dt

    def readout(self) -> Text:
        """Each metric's value in the cursor's bucket, and the kernels running then."""
        t0, t1 = self.cursor_time()
        text = Text()
        text.append(f"cursor {seconds((t0 - self.full[0]) / 1e9)}–{seconds((t1 - self.full[0]) / 1e9)}: ",
                    style="bold")
        parts = []
        for key, label, unit in data.NVML_METRICS:
            s = self.series.get(key)
            if s is not None and len(s) > self.cursor and not np.isnan(s[self.cursor]):
                parts.append(f"{label.split()[0]} {s[self.cursor]:,.1f} {unit}")
        text.append(" · ".join(parts))
        if not self.analysis.kernels.empty:
            running = data.kernels_between(self.analysis.kernels, t0, t1)
            text.append("\nkernels running: ", style="bold")
            if running.empty:
                text.append("none")
            else:
                busy = self.series.get("kernels")
                share = f", busy {100 * busy[self.cursor]:.0f}% of it" if busy is not None and len(busy) else ""
                names = list(dict.fromkeys(running["name"].astype(str).tolist()))  # longest-running first
                top = ", ".join(printable(kernel_label(n)) for n in names[:3])
                more = f" +{len(names) - 3:,} more" if len(names) > 3 else ""
                longest = float(running["overlap_us"].iloc[0])
                text.append(f"{plural(len(running), 'kernel')}{share} ({plural(len(names), 'name')}; longest "
                            f"{longest:,.1f} µs here): {top}{more}")
        return text
