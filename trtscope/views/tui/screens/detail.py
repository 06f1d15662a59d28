"""Layer detail: one engine layer's tensors (shape, format, precision), tactic, ONNX nodes, time (the
per-iteration distribution when the profile kept samples), its kernels and the NVML samples taken while they
ran, and every other key TensorRT wrote. Pushed over the screen it was opened from; Escape goes back, Enter on
an ONNX node shows that node in the Fusion screen."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from trtscope.analysis import timeline
from trtscope.presentation.formatting import bar, ms, pct, printable
from trtscope.presentation.labels import DERIVED_MS, kind_label
from trtscope.views.tui import data
from trtscope.views.tui.cells import int_cell, is_missing, ms_cell, num_cell, plural, us_cell
from trtscope.views.tui.screens.base import BaseScreen, fit_height, section
from trtscope.views.tui.widgets import Column, FrameTable, KeyValues
from trtscope.views.tui.widgets.kv import Row

TENSOR_COLUMNS = [
    Column("direction", "", max_width=8),
    Column("name", "tensor", flex=True, min_width=12, max_width=80),
    Column("dimensions", "shape", max_width=24),
    Column("format", "format", max_width=60),
    Column("dtype", "precision", max_width=10),
]
NODE_COLUMNS = [
    Column("name", "ONNX node", flex=True, min_width=12, max_width=80),
    Column("op_type", "op type", max_width=20),
    Column("status", "status", max_width=24),
    Column("ms", DERIVED_MS, fmt=ms_cell, right=True),
    Column("n_layers", "in layers", fmt=int_cell, right=True),
]
KERNEL_COLUMNS = [
    Column("name", "kernel", flex=True, min_width=12, max_width=100),
    Column("duration_us", "µs", fmt=us_cell, right=True),
    Column("grid", "grid", max_width=16),
    Column("block", "block", max_width=14),
    Column("stream_id", "stream", fmt=int_cell, right=True),
]
NVML_COLUMNS = [
    Column("t_s", "t (s)", fmt=lambda v: "" if is_missing(v) else f"{float(v):.3f}", right=True,
           descending_first=False),
    Column("timestamp_ns", "timestamp ns", fmt=int_cell, right=True),
    Column("gpu_index", "GPU", fmt=int_cell, right=True),
    *[Column(key, f"{label.split()[0]} {unit}", fmt=num_cell, right=True) for key, label, unit in data.NVML_METRICS],
]
#: Raw keys shown in the header already (everything else is listed under "TensorRT keys").
SHOWN_KEYS = {"Name", "LayerType", "Inputs", "Outputs", "TacticName", "TacticValue", "Metadata", "ParameterType",
              "StreamId", "Origin", "Constants"}


def _value(v: Any) -> str:
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(", ", ": "))
    return str(v)


class LayerDetailScreen(BaseScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=True),
        Binding("backspace", "back", "Back", show=False),
    ]

    def __init__(self, index: int, node: str | None = None, mode: str = "") -> None:
        super().__init__()
        self.index = index
        self.node = node
        self.opened_from = mode

    def nav_mode(self) -> str:
        return self.opened_from  # the navigation bar keeps showing where the user came from

    def crumb(self) -> str:
        return f"layer #{self.index}"

    def body(self) -> Iterable[Widget]:
        a = self.analysis
        layer = data.layer_row(a, self.index)
        self.record = layer
        with VerticalScroll(id="detail"):
            yield KeyValues(self._header_rows(), id="layer-header")
            yield section("Time")
            yield Static(self._time_text(), id="layer-time")
            samples = timeline.layer_samples(a.artifacts.profile, layer)
            if samples is not None and len(samples) > 1:
                yield Sparkline(samples.tolist(), id="layer-samples", summary_function=max)
            tensors = data.layer_tensor_frame(a, self.index)
            yield section("Inputs and outputs")
            if len(tensors):
                yield FrameTable(TENSOR_COLUMNS, tensors, export_name=f"layer-{self.index}-tensors", id="tensors",
                                 classes="section-table")
            else:
                yield Static("(not in this layer information: names-only input)", classes="muted", markup=False)
            nodes = data.layer_nodes(a, self.index)
            yield section(f"ONNX nodes ({len(nodes)}; Enter shows a node in the Fusion screen)")
            if len(nodes):
                yield FrameTable(NODE_COLUMNS, nodes, flag="unfused", export_name=f"layer-{self.index}-nodes",
                                 id="nodes", classes="section-table")
            else:
                yield Static("(none: " + kind_label(layer["kind"], bool(layer["in_myelin"])) + ")",
                             classes="muted", markup=False)
            yield from self._capture_widgets()
            extra = {k: v for k, v in a.layer_details(self.index).items() if k not in SHOWN_KEYS}
            if extra:
                yield section("Other TensorRT keys")
                yield KeyValues([(k, Text(printable(_value(v)))) for k, v in extra.items()], id="layer-keys")

    def _header_rows(self) -> list[Row]:
        L = self.record
        raw = self.analysis.layer_details(self.index)
        kind = kind_label(L["kind"], bool(L["in_myelin"]))
        if bool(data.unfused_layer_mask(self.analysis)[self.analysis.layers["index"].eq(self.index).to_numpy()]
                .any()):
            kind += f"  {data.UNFUSED} runs an unfused compute node ({L['anchor_node']})"
        rows: list[Row] = [("Layer", Text(f"#{self.index} {printable(L['name'])}", style="bold")), ("Kind", kind)]
        ltype = str(L["type"] or "")
        if not is_missing(L.get("parameter_type")) and L.get("parameter_type"):
            ltype += f" ({L['parameter_type']})"
        rows.append(("Type", ltype or "—"))
        rows.append(("Precision", str(L["precision"]) if not is_missing(L["precision"]) else "—"))
        tactic = "" if is_missing(L["tactic"]) else str(L["tactic"])
        value = "" if is_missing(L["tactic_value"]) else str(L["tactic_value"])
        rows.append(("Tactic", Text(printable(tactic + (f"  ({value})" if value else "")) or "—")))
        if not is_missing(L.get("stream_id")):
            rows.append(("Stream", str(L["stream_id"])))
        if not is_missing(L.get("origin")) and L.get("origin"):
            rows.append(("Origin", str(L["origin"])))
        if not is_missing(L.get("myelin_region")) and L.get("myelin_region"):
            rows.append(("Myelin region", str(L["myelin_region"])))
        if not is_missing(L.get("reformat_target")) and L.get("reformat_target"):
            rows.append(("Reformat for", Text(printable(L["reformat_target"]))))
        meta = raw.get("Metadata", L.get("metadata"))
        if meta and not is_missing(meta):
            rows.append(("Metadata", Text(printable(meta))))
        same = int(self.analysis.layers["name"].eq(L["name"]).sum())
        if same > 1:
            rows.append(("Note", f"{same} layers share this name (matched to profile and kernels in order)"))
        return rows

    def _time_text(self) -> Text:
        L = self.record
        if is_missing(L["mean_ms"]):
            return Text("no per-layer time (no profile in this input)")
        t = Text(f"mean {ms(L['mean_ms'])} ms, median {ms(L['median_ms'])} ms, "
                 f"{pct(L['share'])} of the sum of layer times")
        per_run = L.get("kernel_ms_per_run")
        if not is_missing(per_run):
            t.append(f"\nkernels: {ms(per_run)} ms of GPU time per execution "
                     f"({plural(int(L['kernel_count']), 'launch', 'launches')} captured)")
        samples = timeline.layer_samples(self.analysis.artifacts.profile, L)
        if samples is None or not len(samples):
            prof = self.analysis.artifacts.profile
            count = f" over {plural(prof.count, 'iteration')}" if prof is not None and prof.count else ""
            t.append(f"\nno per-iteration samples (the profile holds means{count}); "
                     "trtscope profile records them")
            return t
        d = timeline.distribution(samples)
        t.append(f"\nper iteration ({int(d['count'])} samples): min {ms(d['min'])}, p50 {ms(d['p50'])}, "
                 f"p90 {ms(d['p90'])}, p99 {ms(d['p99'])}, max {ms(d['max'])}, std {ms(d['std'])} ms")
        hist = timeline.histogram(samples)
        peak = max(c for _, _, c in hist) or 1
        for lo, hi, c in hist:
            t.append(f"\n  {ms(lo)}–{ms(hi)} ms {c:>6}  ")
            t.append(bar(c / peak, 24), style="bold")
        return t

    def _capture_widgets(self) -> Iterable[Widget]:
        a = self.analysis
        if a.kernels.empty:
            return
        kernels = data.layer_kernels(a, self.index, self.record["name"])
        total = float(np.nansum(kernels["duration_us"])) if len(kernels) else 0.0
        yield section(f"Kernels ({plural(len(kernels), 'launch', 'launches')}, {total:,.1f} µs in all)"
                      if len(kernels) else
                      "Kernels: none of the captured kernels is attributed to this layer")
        if len(kernels):
            yield FrameTable(KERNEL_COLUMNS, kernels, export_name=f"layer-{self.index}-kernels", id="kernels",
                             classes="section-table")
        if a.nvml.empty or kernels.empty:
            return
        win = timeline.nvml_during(a.nvml, kernels)
        if win.samples.empty:
            yield Static("NVML: no sample within one sampling period of this layer's kernels", markup=False,
                         id="layer-nvml")
            return
        how = ("taken while its kernels ran" if win.how == "inside"
               else "nearest to its kernels (none fell inside one; within one sampling period)")
        lines = [f"NVML: {plural(len(win.samples), 'sample')} {how}"]
        for key, label, unit in data.NVML_METRICS:
            st = timeline.metric_stats(win.samples[key]) if key in win.samples else None
            if st:
                lines.append(f"  {label}: mean {st['mean']:.1f} {unit} (min {st['min']:.1f}, max {st['max']:.1f})")
        yield Static("\n".join(lines), markup=False, id="layer-nvml")
        t0 = pd.to_numeric(a.nvml["timestamp_ns"], errors="coerce").min()  # the Timeline's time zero
        samples = win.samples.assign(t_s=(pd.to_numeric(win.samples["timestamp_ns"], errors="coerce") - t0) / 1e9)
        yield FrameTable(NVML_COLUMNS, samples, export_name=f"layer-{self.index}-nvml", id="layer-nvml-table",
                         classes="section-table")

    def on_mount(self) -> None:
        tables = list(self.query(FrameTable))
        for t in tables:
            fit_height(t, 10)
        if self.node is not None:
            nodes = self.query_one("#nodes", FrameTable)
            hit = np.flatnonzero(nodes.frame["name"].eq(self.node).to_numpy())
            if len(hit):
                nodes.move_cursor_to(int(hit[0]))
            nodes.focus()
        elif tables:
            tables[0].focus()
        else:
            self.query_one("#detail").focus()

    async def on_frame_table_selected(self, event: FrameTable.Selected) -> None:
        if event.table.id == "nodes":
            node = str(event.table.frame["name"].iloc[event.position])
            await self.tui.show_node(node, self.index)

    def action_back(self) -> None:
        self.app.pop_screen()
