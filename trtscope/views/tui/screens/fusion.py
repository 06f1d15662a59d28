"""Fusion: ONNX nodes grouped under the engine layer each went into (a grouped, virtualised table).

Unfused compute nodes are marked ✗ (and coloured); ``/`` searches node names and op types (``op:Conv`` for an
exact op type; a matching layer name brings its whole group), ``u`` keeps unfused nodes only, ``o`` orders
groups by layer time, Enter opens the layer a node went into (Escape comes back here).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

import numpy as np
import pandas as pd
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import Static

from trtscope.presentation.formatting import pct
from trtscope.views.tui import data
from trtscope.views.tui.cells import ms_cell, pct_cell
from trtscope.views.tui.screens.search import SearchScreen
from trtscope.views.tui.widgets import Column, FrameTable, SearchBox

COLUMNS = [
    Column("label", "engine layer / ONNX node", flex=True, min_width=20, max_width=120),
    Column("what", "op type / kind", max_width=22),
    Column("status", "status", max_width=24),
    Column("ms", "ms (layer / derived)", fmt=ms_cell, right=True),
    Column("share", "share", fmt=pct_cell, right=True),
]

#: The grouped table exported as data: one row per layer header and per node, no tree glyphs.
EXPORT_COLUMNS = ["row_kind", "layer_index", "layer_name", "node_name", "op_type", "kind", "status", "ms", "share",
                  "unfused"]


class FusionScreen(SearchScreen):
    MODE = "fusion"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "toggle_unfused", "Unfused only", show=True),
        Binding("o", "toggle_order", "Order", show=True),
    ]
    unfused_only = False
    by_time = False
    frame: pd.DataFrame | None = None
    _hay: pd.Series | None = None

    def body(self) -> Iterable[Widget]:
        yield SearchBox("ONNX node name or op type…  op:Conv  (a layer name shows its whole group)")
        yield Static(id="status", markup=False)
        yield FrameTable(COLUMNS, flag="unfused", group="is_layer", export_name="fusion", sortable=False,
                         export_columns=EXPORT_COLUMNS, id="main-table", empty_text="no ONNX node matches")

    def on_mount(self) -> None:
        self.ensure_loaded()
        self.table.focus()

    def ensure_loaded(self) -> pd.DataFrame:
        if self.frame is None:
            f = data.fusion_frame(self.analysis)
            f["is_layer"] = f["row_kind"].eq("layer")
            self.frame = f
            self._hay = None
            self.table.set_frame(f)
        return self.frame

    def apply_filter(self) -> None:
        f = self.ensure_loaded()
        hay = None
        if self.query_text.strip():
            if self._hay is None:
                self._hay = data.fusion_haystack(f)
            hay = self._hay
        self.table.filter(data.fusion_mask(f, hay, self.query_text, self.unfused_only))

    def action_toggle_unfused(self) -> None:
        self.unfused_only = not self.unfused_only
        self.apply_filter()

    def action_toggle_order(self) -> None:
        self.by_time = not self.by_time
        f = self.ensure_loaded()
        self.table.set_order(data.fusion_order(f, self.by_time), "slowest layers first" if self.by_time else None)

    def search_for(self, query: str) -> None:
        """Show the nodes matching ``query`` (used by the op-type tables' Enter)."""
        self.ensure_loaded()
        box = self.search_box
        box.display = True
        with box.prevent(box.Changed):
            box.value = query
        self.run_search(query)
        self.table.focus()

    def select_node(self, node: str, layer_index: int | None = None) -> bool:
        """Put the cursor on ``node`` (under ``layer_index`` when given), clearing filters that hide it."""
        f = self.ensure_loaded()
        hit = f["row_kind"].eq("node") & f["node_name"].eq(node)
        if layer_index is not None and (hit & f["layer_index"].eq(layer_index)).any():
            hit &= f["layer_index"].eq(layer_index)
        positions = np.flatnonzero(hit.to_numpy())
        if not len(positions):
            return False
        if not self.table.move_cursor_to(int(positions[0])):
            self.unfused_only = False
            self.search_box.close()
            self.query_text = ""
            self.apply_filter()
            self.table.move_cursor_to(int(positions[0]))
        self.table.focus()
        return True

    def on_frame_table_changed(self, event: FrameTable.Changed) -> None:
        cov = self.analysis.summary.coverage
        approx = "" if cov.exact else "~"
        parts = [f"coverage {approx}{pct(cov.fusion_coverage)}: {cov.compute.fused:,} of "
                 f"{cov.compute.running:,} compute nodes fused, {data.UNFUSED} {cov.compute.unfused:,} unfused"]
        t = event.table
        if t.row_count != t.total_count:
            what = [f"matching {self.query_text.strip()!r}"] if self.query_text.strip() else []
            if self.unfused_only:
                what.append("unfused only")
            parts.append(f"showing {t.row_count:,} of {t.total_count:,} rows ({' and '.join(what)})")
        if self.by_time:
            parts.append("slowest layers first")
        self.query_one("#status", Static).update(" · ".join(parts))

    def on_frame_table_selected(self, event: FrameTable.Selected) -> None:
        f = self.ensure_loaded()
        row = f.iloc[event.position]
        layer = int(row["layer_index"])
        if layer < 0:
            self.notify("these ONNX nodes ran in no engine layer (absorbed by a Myelin region, or folded)",
                        markup=False)
            return
        node = row["node_name"] if row["row_kind"] == "node" else None
        self.tui.open_layer(layer, node=node)
