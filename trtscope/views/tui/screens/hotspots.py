"""Hotspots: layers and ONNX op types ranked by time with inline bars, unfused hotspots, reformat cost.

Every table is the whole ranking (virtualised). The panels share the screen's height (a bigger terminal shows
more rows), ``m`` maximises the focused one and restores it, ``+`` / ``-`` make it taller or shorter; Tab moves
between them. Enter on a layer opens its detail, on an op type its nodes in the Fusion screen.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from textual import events
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from trtscope.presentation.formatting import ms, pct
from trtscope.presentation.labels import ATTRIBUTION_NOTE, reformat_label
from trtscope.views.tui import data
from trtscope.views.tui.columns import HOT_LAYER_COLUMNS, OP_TIME_COLUMNS, REFORMAT_COLUMNS, UNFUSED_COLUMNS
from trtscope.views.tui.data import UNFUSED, kind_labels
from trtscope.views.tui.messages import OpenLayer
from trtscope.views.tui.screens.base import BaseScreen, section
from trtscope.views.tui.screens.overview import op_row_jump, op_time_frame
from trtscope.views.tui.widgets import FrameTable

MIN_ROWS = 5  # a panel never shows fewer rows than this (the page scrolls instead)


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
                             f"({ref.count:,} reformat layers, {ref.elided_count:,} elided) · m maximise · +/- resize",
                             id="hotspots-headline", markup=False)
                yield section("Layers by time")
                yield FrameTable(HOT_LAYER_COLUMNS, self._layers_frame(), flag="unfused", export_name="hotspot-layers",
                                 id="hot-layers", classes="section-table", roles={"name": "name", "node": "onnx_nodes"})
                yield section(f"ONNX op types by time, derived: {ATTRIBUTION_NOTE[s.op_type_attribution]}")
                yield FrameTable(OP_TIME_COLUMNS, op_time_frame(a), export_name="hotspot-op-types", id="hot-ops",
                                 classes="section-table", roles={"name": "label"})
            else:
                yield Static("No per-layer times in this input (give a profile: trtexec --exportProfile or "
                             "--dumpProfile, or capture with trtscope profile); what follows has no times.",
                             id="hotspots-headline", markup=False)
            unfused = a.unfused_hotspots.assign(marker=UNFUSED)
            if len(unfused):
                yield section(f"{UNFUSED} Unfused hotspots: layers of an unfused ONNX compute node ({len(unfused):,})")
                yield FrameTable(UNFUSED_COLUMNS, unfused, export_name="unfused-hotspots", id="hot-unfused",
                                 classes="section-table", roles={"name": "name", "node": "onnx_node"})
            elif s.coverage.compute.running:
                yield section("Unfused hotspots: none — every compute node that runs in a layer is fused")
            reformat = self._reformat_frame()
            if len(reformat):
                yield section(f"Reformat layers ({ref.count:,}: {ref.copying_count:,} copying, "
                              f"{ref.elided_count:,} elided)" + (f"; {ms(ref.total_ms)} ms = {pct(ref.share)}"
                                                                 if ref.total_ms is not None else ""))
                yield FrameTable(REFORMAT_COLUMNS, reformat, export_name="reformat-layers", id="hot-reformat",
                                 classes="section-table", roles={"name": "name"})
            elif a.has_layers:
                yield section("Reformat layers: none")

    def _layers_frame(self) -> pd.DataFrame:
        hot = self.analysis.hotspots
        unfused = hot["index"].isin(self.analysis.unfused_hotspots["index"]).to_numpy(dtype=bool)
        labels = pd.Series(data.layer_labels(self.analysis), index=self.analysis.layers["index"].to_numpy())
        return hot.assign(unfused=unfused, kind_label=kind_labels(hot["kind"], unfused, hot["in_myelin"]),
                          label=labels.reindex(hot["index"].to_numpy()).to_numpy(dtype=object))

    def _reformat_frame(self) -> pd.DataFrame:
        ref = self.analysis.reformat_layers
        return ref.assign(label=[reformat_label(r) for r in ref.itertuples(index=False)])

    def on_mount(self) -> None:
        self.share_height()
        tables = list(self.query(FrameTable))
        if tables:
            tables[0].focus()

    def on_resize(self, event: events.Resize) -> None:
        self.share_height()

    def share_height(self) -> None:
        """Split the page's height between the panels, water-filling: a panel whose rows fit its share gets
        just those, the others share what is left (never fewer than MIN_ROWS rows; the page scrolls then)."""
        tables = list(self.query(FrameTable))
        if not tables:
            return
        page = self.query_one("#hotspots")
        fixed = sum(w.outer_size.height + w.styles.margin.top + w.styles.margin.bottom for w in page.children
                    if not isinstance(w, FrameTable))
        room = max(0, (page.size.height or self.size.height - 3) - fixed)
        for t, h in zip(tables, share_rows([t.row_count + 1 for t in tables], room, MIN_ROWS + 1), strict=True):
            t.styles.height = h

    def on_frame_table_selected(self, event: FrameTable.Selected) -> None:
        frame = event.table.frame
        if event.table.id == "hot-ops":
            jump = op_row_jump(frame, event.position)
            if jump is not None:
                self.post_message(jump)
            return
        if "index" in frame.columns:
            self.post_message(OpenLayer(int(np.asarray(frame["index"])[event.position])))


def share_rows(wanted: list[int], room: int, least: int) -> list[int]:
    """Heights for panels that want ``wanted`` lines in ``room`` lines: those wanting less than an equal share
    get what they want, repeatedly; the rest split what is left (at least ``least`` each, or what they want)."""
    heights = [0] * len(wanted)
    open_ = list(range(len(wanted)))
    left = room
    while open_:
        share = left // len(open_)
        fits = [i for i in open_ if wanted[i] <= share]
        if not fits:
            for i in open_:
                heights[i] = min(wanted[i], max(least, share))
            break
        for i in fits:
            heights[i] = wanted[i]
            left -= wanted[i]
        open_ = [i for i in open_ if i not in fits]
    return heights
