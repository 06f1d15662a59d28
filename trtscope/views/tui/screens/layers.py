"""Layers: every engine layer in one virtualised table. ``s`` picks the sort column (or click a header),
``/`` filters (substring over name, type, kind, tactic, ONNX nodes; ``kind:``, ``type:``, ``prec:`` match
exactly), ``u`` keeps unfused layers only, Enter opens the layer detail. Reformat layers read
``input 0 → Conv_5``; the status line under the table gives the full name of the row under the cursor."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

import numpy as np
import pandas as pd
from textual.binding import Binding, BindingType
from textual.widget import Widget

from trtscope.views.tui import data
from trtscope.views.tui.columns import LAYER_COLUMNS
from trtscope.views.tui.messages import Jump, OpenLayer
from trtscope.views.tui.screens.search import SearchScreen, StatusBar
from trtscope.views.tui.widgets import FrameTable, SearchBox


class LayersScreen(SearchScreen):
    MODE = "layers"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "toggle_unfused", "Unfused only", show=True),
    ]
    frame: pd.DataFrame
    _hay: pd.Series | None = None

    def body(self) -> Iterable[Widget]:
        yield SearchBox("layer name, type, tactic, ONNX node…  kind:fused  type:Reformat  prec:Half")
        yield StatusBar(id="status", markup=False)
        yield FrameTable(LAYER_COLUMNS, flag="unfused", export_name="layers", id="main-table",
                         roles={"name": "name", "node": "onnx_nodes"}, empty_text="no layer matches")

    def on_mount(self) -> None:
        self.frame = data.layers_frame(self.analysis)
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
        self.refresh_status()

    def status_facts(self, table: FrameTable) -> list[str]:
        facts = [f"{table.total_count:,} layers"]
        if not self.analysis.has_profile:
            facts.append("no per-layer profile: no time columns")
        return facts

    def apply_jump(self, jump: Jump) -> str:
        """A search (``kind:reformat`` from the Overview) or a layer to put the cursor on; clears the filters
        that would hide it, and says so."""
        said = []
        if jump.query is not None:
            if self.unfused_only:
                self.unfused_only = False
                said.append("cleared the 'unfused only' filter")
            self.set_query(jump.query)
        if jump.layer_index is not None:
            hit = np.flatnonzero(self.frame["index"].to_numpy() == jump.layer_index)
            if len(hit) and not self.table.move_cursor_to(int(hit[0])):
                if self.query_text or self.unfused_only:
                    said.append("cleared the filters that hid the layer")
                self.unfused_only = False
                self.set_query("")
                self.table.move_cursor_to(int(hit[0]))
        self.table.focus()
        return "; ".join(said)

    def on_frame_table_selected(self, event: FrameTable.Selected) -> None:
        index = int(np.asarray(self.frame["index"])[event.position])
        self.post_message(OpenLayer(index))
