"""Layers: every engine layer in one virtualised table; sort with ``s``/``r`` or a header click, filter with
``/`` (substring over name, type, kind, tactic, ONNX nodes; ``kind:``, ``type:``, ``prec:`` match exactly),
``u`` for unfused layers only, Enter for the layer detail."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

import numpy as np
import pandas as pd
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import Static

from trtscope.views.tui import data
from trtscope.views.tui.cells import int_cell, ms_cell, nodes_cell, pct_cell
from trtscope.views.tui.screens.search import SearchScreen
from trtscope.views.tui.widgets import Column, FrameTable, SearchBox

COLUMNS = [
    Column("index", "#", fmt=int_cell, right=True, descending_first=False, core=True),
    Column("name", "layer", flex=True, min_width=16, max_width=120),
    Column("kind_label", "kind", max_width=26, sort_key="kind", core=True),
    Column("mean_ms", "mean ms", fmt=ms_cell, right=True, core=True),
    Column("share", "share", fmt=pct_cell, right=True, core=True),
    Column("median_ms", "median ms", fmt=ms_cell, right=True),
    Column("onnx_nodes", "ONNX nodes", fmt=nodes_cell, width=36, sort_key="n_onnx_nodes"),
    Column("type", "type", max_width=24),
    Column("precision", "precision", max_width=14),
    Column("tactic", "tactic", max_width=70),
]
#: Shown when a capture attributed kernels to layers.
KERNEL_COLUMNS = [
    Column("kernel_ms_per_run", "kernel ms/run", fmt=ms_cell, right=True),
    Column("kernel_count", "kernels", fmt=int_cell, right=True),
]


class LayersScreen(SearchScreen):
    MODE = "layers"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "toggle_unfused", "Unfused only", show=True),
    ]
    unfused_only = False

    def body(self) -> Iterable[Widget]:
        yield SearchBox("layer name, type, tactic, ONNX node…  kind:fused  type:Reformat  prec:Half")
        yield Static(id="status", markup=False)
        columns = list(COLUMNS)
        if "kernel_ms_per_run" in self.analysis.layers and self.analysis.layers["kernel_ms_per_run"].notna().any():
            columns[6:6] = KERNEL_COLUMNS  # after the profile's figures
        yield FrameTable(columns, flag="unfused", export_name="layers", id="main-table",
                         empty_text="no layer matches")

    def on_mount(self) -> None:
        self.frame = data.layers_frame(self.analysis)
        self._hay: pd.Series | None = None
        self.table.set_frame(self.frame)
        self.table.focus()

    @property
    def hay(self) -> pd.Series:
        if self._hay is None:  # built on the first search, not on first paint
            self._hay = data.layers_haystack(self.frame)
        return self._hay

    def apply_filter(self) -> None:
        mask = None
        if self.query_text.strip():
            fields = {k: self.frame[v] for k, v in data.LAYER_FIELDS.items()}
            mask = data.search_mask(self.query_text, self.hay, fields)
        if self.unfused_only:
            unfused = self.frame["unfused"].to_numpy(dtype=bool)
            mask = unfused if mask is None else mask & unfused
        self.table.filter(mask)

    def action_toggle_unfused(self) -> None:
        self.unfused_only = not self.unfused_only
        self.apply_filter()

    def on_frame_table_changed(self, event: FrameTable.Changed) -> None:
        t = event.table
        parts = [f"{t.total_count:,} layers"]
        if t.row_count != t.total_count:
            what = []
            if self.query_text.strip():
                what.append(f"matching {self.query_text.strip()!r}")
            if self.unfused_only:
                what.append(f"{data.UNFUSED} unfused only")
            parts.append(f"showing {t.row_count:,} " + " and ".join(what))
        if t.sort_column:
            label = next((c.label for c in t.columns if t.sort_column in (c.key, c.sort_key)), t.sort_column)
            parts.append(f"sorted by {label} {'▼' if t.sort_descending else '▲'}")
        if t.row_count:
            parts.append(f"row {t.cursor_row + 1:,}/{t.row_count:,}")
        self.query_one("#status", Static).update(" · ".join(parts))

    def on_frame_table_selected(self, event: FrameTable.Selected) -> None:
        index = int(np.asarray(self.frame["index"])[event.position])
        self.tui.open_layer(index)
