"""Layer detail: one engine layer's tensors (shape, format, precision), tactic, ONNX nodes, time (the
per-iteration distribution when the profile kept samples), its kernels (by GPU time, then every launch) and the
NVML samples taken while they ran, and every other key TensorRT wrote. Pushed over the screen it was opened
from; Escape or Backspace goes back, Enter on an ONNX node shows that node in the Fusion screen.

The page is a list of sections (:data:`SECTIONS`, one ``section_<name>`` method each): a new kind of per-layer
information (e.g. lint findings) is one more name there and one method.
"""

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
from trtscope.presentation.formatting import bar, ms, printable
from trtscope.presentation.labels import kind_label
from trtscope.views.tui import data
from trtscope.views.tui.cells import is_missing, plural, share_cell
from trtscope.views.tui.columns import (
    DETAIL_KERNEL_COLUMNS,
    LAUNCH_COLUMNS,
    NODE_COLUMNS,
    NVML_COLUMNS,
    TENSOR_COLUMNS,
)
from trtscope.views.tui.messages import GoBack, Jump, JumpTo
from trtscope.views.tui.screens.base import BaseScreen, fit_height, section
from trtscope.views.tui.widgets import FrameTable, KeyValues
from trtscope.views.tui.widgets.kv import Row

#: The sections of the page, in order (``section_<name>`` yields each one's widgets).
SECTIONS: tuple[str, ...] = ("header", "time", "findings", "tensors", "nodes", "kernels", "keys")

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
        self.record = data.layer_row(self.analysis, self.index)
        with VerticalScroll(id="detail"):
            for name in SECTIONS:
                yield from getattr(self, f"section_{name}")()

    def section_header(self) -> Iterable[Widget]:
        yield KeyValues(self._header_rows(), id="layer-header")

    def section_time(self) -> Iterable[Widget]:
        yield section("Time")
        yield Static(self._time_text(), id="layer-time")
        samples = timeline.layer_samples(self.analysis.artifacts.profile, self.record)
        if samples is not None and len(samples) > 1:
            yield Sparkline(samples.tolist(), id="layer-samples", summary_function=max)

    def section_findings(self) -> Iterable[Widget]:
        """`trtscope lint`'s findings on this layer (the rules run once, in a worker, when first needed)."""
        ready = data.lint_ready(self.analysis)
        found = f" ({len(data.layer_findings(self.analysis, self.index)):,})" if ready else ""
        yield section(f"Lint findings{found}", id="findings-title")
        yield Static(self._findings_text() if ready else "running the lint rules…", id="layer-findings",
                     markup=False)

    def _findings_text(self) -> Text:
        found = data.layer_findings(self.analysis, self.index)
        if not found:
            return Text("none: no lint rule found anything to change on this layer", style="dim")
        text = Text()
        for f in found:
            text.append(f"{f.severity.value.upper()} {f.rule} ", style="bold")
            text.append(printable(f.title) + "\n")
            for e in f.evidence[:6]:
                text.append(f"    · {printable(e.text)}\n")
            if len(f.evidence) > 6:
                text.append(f"    · … {len(f.evidence) - 6} more (trtscope lint --json)\n")
            text.append("    fix: ", style="bold")
            text.append(printable(f.advice) + "\n")
        text.rstrip()
        return text

    def _run_lint(self) -> None:
        data.lint_result(self.analysis)
        self.app.call_from_thread(self._show_findings)

    def _show_findings(self) -> None:
        found = data.layer_findings(self.analysis, self.index)
        self.query_one("#findings-title", Static).update(f"Lint findings ({len(found):,})")
        self.query_one("#layer-findings", Static).update(self._findings_text())

    def section_tensors(self) -> Iterable[Widget]:
        tensors = data.layer_tensor_frame(self.analysis, self.index)
        yield section("Inputs and outputs")
        if len(tensors):
            yield FrameTable(TENSOR_COLUMNS, tensors, export_name=f"layer-{self.index}-tensors", id="tensors",
                             classes="section-table", roles={"name": "name"})
        else:
            yield Static("(not in this layer information: names-only input)", classes="muted", markup=False)

    def section_nodes(self) -> Iterable[Widget]:
        nodes = data.layer_nodes(self.analysis, self.index)
        yield section(f"ONNX nodes ({len(nodes):,}; Enter shows a node in the Fusion screen)")
        if len(nodes):
            yield FrameTable(NODE_COLUMNS, nodes, flag="unfused", export_name=f"layer-{self.index}-nodes",
                             id="nodes", classes="section-table", roles={"name": "name", "node": "name"})
        else:
            yield Static("(none: " + kind_label(self.record["kind"], bool(self.record["in_myelin"])) + ")",
                         classes="muted", markup=False)

    def section_kernels(self) -> Iterable[Widget]:
        yield from self._capture_widgets()

    def section_keys(self) -> Iterable[Widget]:
        extra = {k: v for k, v in self.analysis.layer_details(self.index).items() if k not in SHOWN_KEYS}
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
                 f"{share_cell(L['share'])} of the sum of layer times")
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
        if not len(kernels):
            yield section("Kernels: none of the captured kernels is attributed to this layer")
            return
        rollup = data.layer_kernel_rollup(a, self.index)
        yield section(f"Kernels ({plural(len(rollup), 'kernel')}, {plural(len(kernels), 'launch', 'launches')}, "
                      f"{total:,.1f} µs in all)")
        if len(rollup):
            yield FrameTable(DETAIL_KERNEL_COLUMNS, rollup, export_name=f"layer-{self.index}-kernel-rollup",
                             id="layer-kernels", classes="section-table",
                             roles={"name": "kernel", "kernel": "kernel", "node": "onnx_nodes"})
        yield section("Launches")
        yield FrameTable(LAUNCH_COLUMNS, kernels, export_name=f"layer-{self.index}-kernels", id="kernels",
                         classes="section-table", roles={"name": "name", "kernel": "name"})
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
                         classes="section-table", sortable=True)

    def on_mount(self) -> None:
        if not data.lint_ready(self.analysis):
            self.run_worker(self._run_lint, thread=True, exclusive=True, group="lint")
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

    def on_frame_table_selected(self, event: FrameTable.Selected) -> None:
        if event.table.id == "nodes":
            node = str(event.table.frame["name"].iloc[event.position])
            self.post_message(JumpTo("fusion", Jump(node=node, layer_index=self.index)))
        elif event.table.id == "layer-kernels":
            kernel = str(event.table.frame["kernel"].iloc[event.position])
            self.post_message(JumpTo("kernels", Jump(kernel=kernel)))

    def action_back(self) -> None:
        self.post_message(GoBack())
