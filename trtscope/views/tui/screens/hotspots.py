"""Hotspots: layers and ONNX op types ranked by time with inline bars, unfused hotspots, reformat cost.

Every table is the whole ranking (virtualised), shown a dozen rows high; Tab moves between them, Enter on a
layer opens its detail, Enter on an op type shows its nodes in the Fusion screen.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from trtscope.presentation.formatting import ms, pct
from trtscope.presentation.labels import ATTRIBUTION_NOTE, reformat_label
from trtscope.views.tui.cells import bar_cell, int_cell, ms_cell, pct_cell
from trtscope.views.tui.data import UNFUSED, kind_labels
from trtscope.views.tui.screens.base import BaseScreen, fit_height, section
from trtscope.views.tui.screens.overview import OP_TIME_COLUMNS, op_time_frame
from trtscope.views.tui.widgets import Column, FrameTable

ROWS = 12  # rows each ranking shows before it scrolls


LAYER_COLUMNS = [
    Column("rank", "#", fmt=int_cell, right=True, descending_first=False, core=True),
    Column("name", "layer", flex=True, min_width=16, max_width=100),
    Column("mean_ms", "mean ms", fmt=ms_cell, right=True, core=True),
    Column("share", "share", fmt=pct_cell, right=True, core=True),
    Column("share", "", fmt=bar_cell, sortable=False, style="frame-table--bar", core=True),
    Column("kind_label", "kind", max_width=26, sort_key="kind"),
    Column("cum_share", "cumulative", fmt=pct_cell, right=True, descending_first=False),
]
UNFUSED_COLUMNS = [
    Column("marker", "", width=1, sortable=False),
    Column("name", "layer", flex=True, min_width=16, max_width=80),
    Column("onnx_node", "ONNX node", max_width=40),
    Column("op_type", "op type", max_width=20),
    Column("type", "layer type", max_width=20),
    Column("mean_ms", "mean ms", fmt=ms_cell, right=True),
    Column("share", "share", fmt=pct_cell, right=True),
]
REFORMAT_COLUMNS = [
    Column("label", "reformat: tensor → layer", flex=True, min_width=16, max_width=100),
    Column("type", "type", max_width=12),
    Column("mean_ms", "mean ms", fmt=ms_cell, right=True),
    Column("share", "share", fmt=pct_cell, right=True),
    Column("share", "", fmt=bar_cell, sortable=False, style="frame-table--bar"),
]


class HotspotsScreen(BaseScreen):
    MODE = "hotspots"

    def body(self) -> Iterable[Widget]:
        a = self.analysis
        s = a.summary
        ref = s.reformat
        with VerticalScroll(id="hotspots"):
            if a.has_profile:
                yield Static(f"Sum of layer times {ms(s.total_ms)} ms over {len(a.hotspots):,} timed layers; "
                             f"reformat cost {ms(ref.total_ms)} ms = {pct(ref.share)} "
                             f"({ref.count:,} reformat layers, {ref.elided_count:,} elided)",
                             id="hotspots-headline", markup=False)
                yield section("Layers by time")
                yield FrameTable(LAYER_COLUMNS, self._layers_frame(), flag="unfused", export_name="hotspot-layers",
                                 id="hot-layers", classes="section-table")
                yield section(f"ONNX op types by time, derived: {ATTRIBUTION_NOTE[s.op_type_attribution]}")
                yield FrameTable(OP_TIME_COLUMNS, op_time_frame(a), export_name="hotspot-op-types", id="hot-ops",
                                 classes="section-table")
            else:
                yield Static("No per-layer times in this input (give a profile: trtexec --exportProfile or "
                             "--dumpProfile, or capture with trtscope profile); what follows has no times.",
                             id="hotspots-headline", markup=False)
            unfused = a.unfused_hotspots.assign(marker=UNFUSED)
            if len(unfused):
                yield section(f"{UNFUSED} Unfused hotspots: layers of an unfused ONNX compute node ({len(unfused):,})")
            elif s.coverage.compute.running:
                yield section("Unfused hotspots: none — every compute node that runs in a layer is fused")
            if len(unfused):
                yield FrameTable(UNFUSED_COLUMNS, unfused, export_name="unfused-hotspots", id="hot-unfused",
                                 classes="section-table")
            reformat = self._reformat_frame()
            if a.has_layers:
                yield section(f"Reformat layers ({ref.count:,}: {ref.copying_count:,} copying, "
                              f"{ref.elided_count:,} elided)" + (f"; {ms(ref.total_ms)} ms = {pct(ref.share)}"
                                                                 if ref.total_ms is not None else ""))
            if len(reformat):
                yield FrameTable(REFORMAT_COLUMNS, reformat, export_name="reformat-layers", id="hot-reformat",
                                 classes="section-table")

    def _layers_frame(self) -> pd.DataFrame:
        hot = self.analysis.hotspots
        unfused = hot["index"].isin(self.analysis.unfused_hotspots["index"]).to_numpy(dtype=bool)
        return hot.assign(unfused=unfused, kind_label=kind_labels(hot["kind"], unfused, hot["in_myelin"]))

    def _reformat_frame(self) -> pd.DataFrame:
        ref = self.analysis.reformat_layers
        return ref.assign(label=[reformat_label(r) for r in ref.itertuples(index=False)])

    def on_mount(self) -> None:
        tables = list(self.query(FrameTable))
        for t in tables:
            fit_height(t, ROWS)
        if tables:
            tables[0].focus()

    async def on_frame_table_selected(self, event: FrameTable.Selected) -> None:
        frame = event.table.frame
        if event.table.id == "hot-ops":
            kind = frame["layer_kind"].iloc[event.position]
            if isinstance(kind, str):  # time of layers with no ONNX node ("[reformat layers]")
                self.notify(f"these layers have no ONNX node; see the Layers screen (kind:{kind})", markup=False)
                return
            op = frame["op_type"].iloc[event.position]
            if isinstance(op, str):
                await self.tui.show_op_type(op)
            return
        if "index" in frame.columns:
            self.tui.open_layer(int(np.asarray(frame["index"])[event.position]))
