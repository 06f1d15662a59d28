"""Kernels (capture bundles and nsys imports): every kernel with its launches, total / mean / share of GPU
time, NVTX range, engine layer and ONNX nodes, from the analysis' rollups (``kernel_rollup``: kernel × layer ×
NVTX range; ``kernel_totals``: one row per kernel name). ``g`` cycles the grouping (launch groups, by kernel
across layers, by layer in engine order), ``/`` searches (kernel, layer, range, ONNX node; ``layer:`` and
``range:`` exactly), ``s`` sorts. Enter opens the kernel's layer (or, without layer information, shows its
node in Fusion); a kernel that ran for several layers shows its launch groups. Names are shortened
(``vectorized_elementwise_kernel<…GeluCUDAKernelImpl…>``); the full name is on the line under the table.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

import numpy as np
import pandas as pd
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widget import Widget

from trtscope.presentation.formatting import is_missing
from trtscope.views.tui import data
from trtscope.views.tui.cells import plural
from trtscope.views.tui.columns import KERNEL_ROLLUP_COLUMNS, KERNEL_TOTAL_COLUMNS
from trtscope.views.tui.messages import Jump, JumpTo, OpenLayer
from trtscope.views.tui.names import kernel_label
from trtscope.views.tui.screens.search import SearchScreen, StatusBar
from trtscope.views.tui.widgets import FrameTable, SearchBox

GROUPINGS = tuple(data.KERNEL_GROUPINGS)


class KernelsScreen(SearchScreen):
    MODE = "kernels"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("g", "next_grouping", "Group by…", show=True),
    ]
    FLAGS: ClassVar[tuple[str, ...]] = ("grouping", "only_kernel")
    grouping: reactive[str] = reactive("launch", init=False)
    #: one kernel's launch groups (Enter on a kernel that ran for several layers); "" for all
    only_kernel: reactive[str] = reactive("", init=False)
    frames: dict[str, pd.DataFrame]
    _hays: dict[str, pd.Series]

    def body(self) -> Iterable[Widget]:
        yield SearchBox("kernel, layer, NVTX range or ONNX node…  layer:fc1  range:fc1")
        yield StatusBar(id="status", markup=False)
        yield FrameTable(KERNEL_ROLLUP_COLUMNS, export_name="kernels", id="main-table",
                         roles={"name": "kernel", "kernel": "kernel", "node": "onnx_nodes"},
                         empty_text="no kernel matches")

    def on_mount(self) -> None:
        a = self.analysis
        self.frames = {"launch": data.kernel_rollup_frame(a)}
        self._hays = {}
        self.show_grouping()
        self.table.focus()

    def frame_of(self, grouping: str) -> pd.DataFrame:
        if grouping not in self.frames:
            self.frames[grouping] = (data.kernel_totals_frame(self.analysis) if grouping == "kernel"
                                     else self.frames["launch"])
        return self.frames[grouping]

    def show_grouping(self) -> None:
        g = self.grouping
        t = self.table
        t.columns = list(KERNEL_TOTAL_COLUMNS if g == "kernel" else KERNEL_ROLLUP_COLUMNS)
        t.export_name = "kernels" if g == "launch" else f"kernels-by-{g}"
        t.set_frame(self.frame_of(g))
        if g == "layer":  # engine order, each layer's kernels by time: a sort, no regrouping
            f = self.frame_of(g)
            order = np.lexsort((-f["total_ms"].to_numpy(dtype=float), f["layer_label"].astype(str).to_numpy(),
                                f["engine_order"].to_numpy(dtype=float)))
            t.set_order(order, "layer (engine order)")
        self.apply_filter()

    def watch_grouping(self) -> None:
        self.show_grouping()

    def action_next_grouping(self) -> None:
        self.grouping = GROUPINGS[(GROUPINGS.index(self.grouping) + 1) % len(GROUPINGS)]
        self.notify(f"grouped by {data.KERNEL_GROUPINGS[self.grouping]}", markup=False, timeout=2)

    def apply_filter(self) -> None:
        f = self.frame_of(self.grouping)
        mask = None
        if self.query_text.strip():
            key = "kernel" if self.grouping == "kernel" else "launch"
            if key not in self._hays:
                self._hays[key] = data.kernels_haystack(f)
            fields = {k: f[v] for k, v in data.KERNEL_FIELDS.items() if v in f.columns}
            mask = data.search_mask(self.query_text, self._hays[key], fields)
        if self.only_kernel and self.grouping != "kernel":
            one = f["kernel"].eq(self.only_kernel).fillna(False).to_numpy(dtype=bool)
            mask = one if mask is None else mask & one
        self.table.filter(mask)
        self.refresh_status()

    def watch_only_kernel(self) -> None:
        self.apply_filter()

    def action_clear_search(self) -> None:
        self.only_kernel = ""
        super().action_clear_search()

    def filter_chips(self) -> list[str]:
        chips = [f"grouped by {data.KERNEL_GROUPINGS[self.grouping]}", *super().filter_chips()]
        if self.only_kernel and self.grouping != "kernel":
            chips.append(f"kernel {kernel_label(self.only_kernel)}")
        return chips

    def status_facts(self, table: FrameTable) -> list[str]:
        ks = self.analysis.summary.kernels
        if ks is None:
            return []
        return [f"{plural(ks.count, 'launch', 'launches')}, {ks.gpu_ms:,.3f} ms GPU, "
                f"{ks.on_layer:,} on a layer"]

    def apply_jump(self, jump: Jump) -> str:
        said = ""
        if jump.kernel is not None:
            self.only_kernel = jump.kernel
            self.grouping = "launch"
            self.set_query("")
            self.table.focus()
            return f"every launch group of {kernel_label(jump.kernel)} (Escape shows every kernel)"
        if jump.query is not None:
            if self.grouping == "kernel":
                self.grouping = "launch"
                said = "grouped by kernel × layer × NVTX range to show them"
            self.set_query(jump.query)
        self.table.focus()
        return said

    def on_frame_table_selected(self, event: FrameTable.Selected) -> None:
        f = self.frame_of(self.grouping)
        row = f.iloc[event.position]
        if self.grouping == "kernel":
            layers = list(row["layer_names"])
            if not layers:
                self.notify("this kernel ran in no NVTX range that names a layer", markup=False)
                return
            self.only_kernel = str(row["kernel"])
            self.grouping = "launch"
            self.notify(f"{kernel_label(str(row['kernel']))}: its launch groups ({plural(len(layers), 'layer')}; "
                        "Escape shows every kernel)", markup=False)
            return
        index = row["layer_index"]
        if not is_missing(index):
            self.post_message(OpenLayer(int(index)))
            return
        nodes = row["onnx_nodes"] if isinstance(row["onnx_nodes"], (list, tuple, np.ndarray)) else []
        if len(nodes) and "fusion" in self.host.available_modes:
            self.post_message(JumpTo("fusion", Jump(node=str(nodes[0]))))
            return
        what = f"its NVTX range {row['nvtx_range']!r}" if isinstance(row["nvtx_range"], str) and row["nvtx_range"] \
            else "it ran outside any NVTX range"
        self.notify(f"no engine layer to open: {what} names no layer of the layer information", markup=False)

