"""Timeline: what the GPU did during a capture, from its NVML samples: utilization, SM clock, power, memory,
temperature over time as sparklines (and the share of time kernels were running, when kernels were traced),
then every sample in a table. ``g`` cycles through GPUs when several were sampled."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from trtscope.analysis import timeline
from trtscope.views.tui import data
from trtscope.views.tui.cells import plural, seconds
from trtscope.views.tui.screens.base import BaseScreen, fit_height, section
from trtscope.views.tui.screens.detail import NVML_COLUMNS
from trtscope.views.tui.widgets import FrameTable
from trtscope.views.tui.widgets.axis import TimeAxis

POINTS = 400  # time buckets per sparkline (the widget shrinks them further to its width)


def _mean(values: Sequence[float]) -> float:
    return float(sum(values) / len(values)) if values else 0.0


class TimelineScreen(BaseScreen):
    MODE = "timeline"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("g", "next_gpu", "Next GPU", show=True)]

    def __init__(self) -> None:
        super().__init__()
        self.gpus: list[Any] = []
        self.gpu: Any = None

    def body(self) -> Iterable[Widget]:
        nvml = self.analysis.nvml
        self.gpus = timeline.gpu_indices(nvml)
        self.gpu = self.gpus[0] if self.gpus else None
        with VerticalScroll(id="timeline"):
            if nvml.empty:
                yield Static("No NVML samples in this input. Capture a bundle with `trtscope profile` to see GPU "
                             "utilization, clocks, power and memory over time.", markup=False, id="timeline-title")
                return
            yield Static(id="timeline-title", markup=False)
            for key, _, _ in data.NVML_METRICS:
                if key in nvml.columns and nvml[key].notna().any():
                    yield Static(id=f"label-{key}", classes="metric-label", markup=False)
                    yield Sparkline([], id=f"spark-{key}", classes="metric", summary_function=_mean)
            if not self.analysis.kernels.empty:
                yield Static(id="label-kernels", classes="metric-label", markup=False)
                yield Sparkline([], id="spark-kernels", classes="metric", summary_function=_mean)
            yield TimeAxis(id="time-axis")
            yield section("NVML samples")
            yield FrameTable(NVML_COLUMNS, export_name="nvml-samples", id="samples", classes="section-table")

    def on_mount(self) -> None:
        if self.gpus:
            self.show_gpu()
        self.query_one("#timeline").focus()

    def action_next_gpu(self) -> None:
        if len(self.gpus) > 1:
            self.gpu = self.gpus[(self.gpus.index(self.gpu) + 1) % len(self.gpus)]
            self.show_gpu()

    def show_gpu(self) -> None:
        nvml = self.analysis.nvml
        samples = nvml[nvml["gpu_index"].eq(self.gpu)].sort_values("timestamp_ns", kind="stable")
        ts = pd.to_numeric(samples["timestamp_ns"], errors="coerce").dropna().to_numpy(dtype=float)
        span = float(ts[-1] - ts[0]) / 1e9 if len(ts) else 0.0
        period = float(np.median(np.diff(ts))) / 1e6 if len(ts) > 1 else 0.0
        others = f" (g: next of {len(self.gpus)} GPUs)" if len(self.gpus) > 1 else ""
        self.query_one("#timeline-title", Static).update(
            f"GPU {self.gpu}: {plural(len(samples), 'NVML sample')} over {seconds(span)} "
            f"(every ~{seconds(period / 1e3)}){others}")
        for key, label, unit in data.NVML_METRICS:
            if not self.query(f"#spark-{key}"):
                continue
            series, _ = timeline.nvml_series(nvml, self.gpu, key, POINTS)
            st = timeline.metric_stats(samples[key])
            text = f"{label} ({unit})"
            if st:
                text += f": min {st['min']:.1f} · mean {st['mean']:.1f} · max {st['max']:.1f}  (scaled min→max)"
            self.query_one(f"#label-{key}", Static).update(text)
            self.query_one(f"#spark-{key}", Sparkline).data = series.tolist()
        if self.query("#spark-kernels") and len(ts):
            busy = timeline.kernel_busy(self.analysis.kernels, ts[0], ts[-1], POINTS)
            self.query_one("#label-kernels", Static).update(
                f"Kernels running (share of time): mean {100 * busy.mean():.2g}%  (traced kernels, all streams)"
                if len(busy) else "Kernels running: none in the sampled span")
            self.query_one("#spark-kernels", Sparkline).data = busy.tolist()
        self.query_one("#time-axis", TimeAxis).set_span(span)
        table = self.query_one("#samples", FrameTable)
        t0 = ts[0] if len(ts) else 0.0
        table.set_frame(samples.assign(t_s=(pd.to_numeric(samples["timestamp_ns"], errors="coerce") - t0) / 1e9))
        fit_height(table, 10)
