"""Fusion: ONNX nodes grouped under the engine layer each went into (a grouped, virtualised table).

Unfused compute nodes are marked ✗ (and coloured); ``/`` searches node names and op types (``op:Conv`` for an
exact op type; a matching layer name brings its whole group), ``u`` keeps unfused nodes only. Rows stay grouped,
so sorting (``s``) orders the groups by one of their layer's figures: time, name, or number of ONNX nodes
(``o`` toggles slowest layers first). Enter opens the layer a node went into (Backspace comes back here).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

import numpy as np
import pandas as pd
from textual.binding import Binding, BindingType
from textual.widget import Widget

from trtscope.presentation.formatting import pct
from trtscope.views.tui import data
from trtscope.views.tui.columns import FUSION_COLUMNS, FUSION_EXPORT_COLUMNS
from trtscope.views.tui.messages import Jump, OpenLayer
from trtscope.views.tui.screens.search import SearchScreen, StatusBar
from trtscope.views.tui.screens.sort import SortChoice
from trtscope.views.tui.widgets import FrameTable, SearchBox

ENGINE_ORDER = "engine order"


class FusionScreen(SearchScreen):
    MODE = "fusion"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "toggle_unfused", "Unfused only", show=True),
        Binding("o", "toggle_order", "Slowest layers first", show=True),
    ]
    frame: pd.DataFrame | None = None
    _hay: pd.Series | None = None

    def body(self) -> Iterable[Widget]:
        yield SearchBox("ONNX node name or op type…  op:Conv  (a layer name shows its whole group)")
        yield StatusBar(id="status", markup=False)
        yield FrameTable(FUSION_COLUMNS, flag="unfused", group="is_layer", export_name="fusion",
                         export_columns=FUSION_EXPORT_COLUMNS, id="main-table", empty_text="no ONNX node matches",
                         roles={"name": "full_name", "node": "node_name"})

    def on_mount(self) -> None:
        self.ensure_loaded()
        self.table.focus()

    def ensure_loaded(self) -> pd.DataFrame:
        if self.frame is None:
            f = data.fusion_frame(self.analysis)
            f["is_layer"] = f["row_kind"].eq("layer")
            f["full_name"] = f["node_name"].where(f["row_kind"].eq("node"), f["layer_name"])
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
        self.refresh_status()

    # -- order: groups stay whole ----------------------------------------------------------------------------
    def sort_choices(self, table: FrameTable) -> list[SortChoice]:
        return [*(SortChoice(k, label, first) for k, (label, _, first) in data.FUSION_ORDERS.items()),
                SortChoice(None, ENGINE_ORDER, False)]

    def apply_sort(self, table: FrameTable, choice: SortChoice, descending: bool) -> None:
        f = self.ensure_loaded()
        if choice.key is None:
            table.set_order(data.fusion_order(f, None), None)
            return
        label = data.FUSION_ORDERS[choice.key][0]
        table.set_order(data.fusion_order(f, choice.key, descending), label, descending)

    def action_toggle_order(self) -> None:
        by_time = self.table.sort_column == data.FUSION_ORDERS["time"][0] and self.table.sort_descending
        if by_time:
            self.apply_sort(self.table, SortChoice(None, ENGINE_ORDER, False), False)
        else:
            self.apply_sort(self.table, SortChoice("time", "layer time", True), True)

    def restore_sort(self, key: str | None, descending: bool) -> None:
        labels = {label: k for k, (label, _, _) in data.FUSION_ORDERS.items()}
        choice = SortChoice(labels.get(key or ""), key or ENGINE_ORDER, descending)
        self.apply_sort(self.table, choice, descending)

    # -- jumps -----------------------------------------------------------------------------------------------
    def apply_jump(self, jump: Jump) -> str:
        """A node (under a layer) to put the cursor on, or an op type to show; filters that would hide it
        are cleared or overridden, and the returned text says so."""
        self.ensure_loaded()
        if jump.op_type is not None:
            said = ""
            if self.unfused_only:
                self.unfused_only = False
                said = f"cleared the 'unfused only' filter to show every {jump.op_type} node"
            self.set_query(f"op:{jump.op_type}" if " " not in jump.op_type else jump.op_type)
            self.table.focus()
            return said
        if jump.node is not None:
            return self.select_node(jump.node, jump.layer_index)
        if jump.query is not None:
            self.set_query(jump.query)
        return ""

    def select_node(self, node: str, layer_index: int | None = None) -> str:
        """Put the cursor on ``node`` (under ``layer_index`` when given), clearing filters that hide it."""
        f = self.ensure_loaded()
        hit = f["row_kind"].eq("node") & f["node_name"].eq(node)
        if layer_index is not None and (hit & f["layer_index"].eq(layer_index)).any():
            hit &= f["layer_index"].eq(layer_index)
        positions = np.flatnonzero(hit.to_numpy())
        said = ""
        if not len(positions):
            return f"{node} is not in the Fusion table"
        if not self.table.move_cursor_to(int(positions[0])):
            said = "cleared the filters that hid the node"
            self.unfused_only = False
            self.set_query("")
            self.table.move_cursor_to(int(positions[0]))
        self.table.focus()
        return said

    def status_facts(self, table: FrameTable) -> list[str]:
        cov = self.analysis.summary.coverage
        approx = "" if cov.exact else "~"
        return [f"coverage {approx}{pct(cov.fusion_coverage)}: {cov.compute.fused:,} of {cov.compute.running:,} "
                f"compute nodes fused, {data.UNFUSED} {cov.compute.unfused:,} unfused"]

    def on_frame_table_selected(self, event: FrameTable.Selected) -> None:
        f = self.ensure_loaded()
        row = f.iloc[event.position]
        layer = int(row["layer_index"])
        if layer < 0:
            self.notify("these ONNX nodes ran in no engine layer (absorbed by a Myelin region, or folded)",
                        markup=False)
            return
        node = row["node_name"] if row["row_kind"] == "node" else None
        self.post_message(OpenLayer(layer, node=node))
