"""Overview: the headline figures (layers, ONNX nodes, fusion coverage, time, reformat cost, GPU, TensorRT),
warnings, time by op type and coverage by op type. The first screen; it reads only precomputed tables, so
it paints at once even for a 20,000-layer engine."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from trtscope.analysis.session import Analysis
from trtscope.model.vocabulary import NodeClass
from trtscope.presentation.formatting import ms, printable
from trtscope.presentation.labels import ATTRIBUTION_NOTE, CLASS_LABELS, DERIVED_MS, op_row_label
from trtscope.views.headline import headline_rows
from trtscope.views.tui.cells import bar_cell, count_cell, int_cell, ms_cell, pct_cell
from trtscope.views.tui.data import UNFUSED
from trtscope.views.tui.screens.base import BaseScreen, fit_height, section
from trtscope.views.tui.widgets import Column, FrameTable, KeyValues
from trtscope.views.tui.widgets.kv import Row

OP_TIME_COLUMNS = [
    Column("label", "op type", flex=True, min_width=12, max_width=40, sort_key="label"),
    Column("layers", "layers", fmt=int_cell, right=True),
    Column("ms", DERIVED_MS, fmt=ms_cell, right=True),
    Column("share", "share", fmt=pct_cell, right=True),
    Column("share", "", fmt=bar_cell, sortable=False, style="frame-table--bar"),
    Column("unfused_ms", f"{UNFUSED} unfused ms", fmt=lambda v: ms(v) if v else "", right=True),
]
COVERAGE_COLUMNS = [
    Column("label", "op type", flex=True, min_width=12, max_width=40, sort_key="label"),
    Column("class_label", "class", max_width=10),
    Column("nodes", "nodes", fmt=int_cell, right=True),
    Column("fused", "fused", fmt=count_cell, right=True),
    Column("unfused_text", "unfused", right=True, sort_key="unfused"),
    Column("absorbed", "absorbed", fmt=count_cell, right=True),
    Column("folded", "folded", fmt=count_cell, right=True),
    Column("in_myelin", "Myelin", fmt=count_cell, right=True),
    Column("coverage", "coverage", fmt=pct_cell, right=True),
    Column("coverage", "", fmt=bar_cell, sortable=False, style="frame-table--bar"),
]


def headline(a: Analysis, source: str) -> list[Row]:
    """The figures at the top of the Overview: the console report's headline rows (views/headline.py)."""
    rows: list[Row] = [("Input", Text(printable(source)))] if source else []
    for label, text, emph in headline_rows(a):
        rows.append((label, Text(text, style="bold") if emph else text))
    if a.warnings:
        rows.append(("Warnings", f"{len(a.warnings)} (below)"))
    return rows


def op_time_frame(a: Analysis) -> pd.DataFrame:
    """``op_hotspots`` with a display label per row (``[reformat layers]`` for layers without ONNX nodes)."""
    df = a.op_hotspots
    return df.assign(label=[op_row_label(o, k) for o, k in zip(df["op_type"].tolist(), df["layer_kind"].tolist(),
                                                                   strict=True)])


def coverage_frame(a: Analysis) -> pd.DataFrame:
    """``coverage_by_op`` with display labels and the unfused marker (the counts are the analysis')."""
    df = a.coverage_by_op
    unfused = df["unfused"].where(df["node_class"].eq(NodeClass.COMPUTE.value), 0)
    return df.assign(
        label=[op_row_label(o, None) for o in df["op_type"].tolist()],
        class_label=[CLASS_LABELS.get(c, c) for c in df["node_class"].tolist()],
        unfused_text=[f"{UNFUSED} {n:,}" if f else f"{n:,}" for n, f in zip(df["unfused"].tolist(),
                                                                             (unfused > 0).tolist(), strict=True)],
    )


class OverviewScreen(BaseScreen):
    MODE = "overview"

    def body(self) -> Iterable[Widget]:
        a = self.analysis
        with VerticalScroll(id="overview"):
            yield KeyValues(headline(a, self.tui.source), id="headline")
            if a.warnings or a.artifacts.metadata.get("notes"):
                text = Text()
                for w in a.warnings:
                    text.append("warning: ", style="bold")
                    text.append(printable(w) + "\n")
                for n in a.artifacts.metadata.get("notes") or []:
                    text.append("note: ", style="bold")
                    text.append(printable(n) + "\n")
                text.rstrip()
                yield Static(text, id="warnings")
            if a.has_profile and not a.op_hotspots.empty:
                yield section(f"Time by ONNX op type, derived: {ATTRIBUTION_NOTE[a.summary.op_type_attribution]}")
                yield FrameTable(OP_TIME_COLUMNS, op_time_frame(a), export_name="op-types", id="op-time",
                                 classes="section-table")
            elif a.has_layers:
                yield section("Time by ONNX op type: no per-layer times in this input")
            if len(a.coverage_by_op):
                yield section(f"Fusion coverage by op type ({UNFUSED} = compute nodes that run unfused)")
                yield FrameTable(COVERAGE_COLUMNS, coverage_frame(a), flag="unfused", export_name="coverage-by-op",
                                 id="coverage", classes="section-table")

    def on_mount(self) -> None:
        for t in self.query(FrameTable):
            fit_height(t, 12)
        self.query_one("#overview").focus()

    async def on_frame_table_selected(self, event: FrameTable.Selected) -> None:
        frame = event.table.frame
        if "layer_kind" in frame.columns and isinstance(frame["layer_kind"].iloc[event.position], str):
            self.notify("these layers have no ONNX node: see the Layers screen", markup=False)
            return
        op = frame["op_type"].iloc[event.position]
        if isinstance(op, str):
            await self.tui.show_op_type(op)
