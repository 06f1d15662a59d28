"""Overview: the headline figures (layers, ONNX nodes, fusion coverage, time, reformat cost, kernels, GPU,
TensorRT), warnings, time by op type and coverage by op type; for a capture without layer information, its
kernels by NVTX range instead. The first screen; it reads only precomputed tables, so it paints at once even
for a 20,000-layer engine. Its first table has the focus: Enter on an op type shows its nodes in Fusion, on
``[reformat layers]`` (layers with no ONNX node) the Layers screen filtered to those layers."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from trtscope.analysis.kernels import time_by
from trtscope.analysis.session import Analysis
from trtscope.model.vocabulary import NodeClass
from trtscope.presentation.formatting import printable
from trtscope.presentation.labels import ATTRIBUTION_NOTE, CLASS_LABELS, op_row_label
from trtscope.views.headline import headline_rows
from trtscope.views.tui.columns import COVERAGE_COLUMNS, OP_TIME_COLUMNS, RANGE_TIME_COLUMNS
from trtscope.views.tui.data import UNFUSED
from trtscope.views.tui.messages import Jump, JumpTo
from trtscope.views.tui.screens.base import BaseScreen, focus_first_table, section
from trtscope.views.tui.widgets import FrameTable, KeyValues
from trtscope.views.tui.widgets.kv import Row, headline_panel_rows


def headline(a: Analysis, source: str) -> list[Row]:
    """The figures at the top of the Overview: the console report's headline rows (views/headline.py)."""
    return headline_panel_rows(source, headline_rows(a), f"{len(a.warnings):,} (below)" if a.warnings else "")


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


def op_row_jump(frame: pd.DataFrame, position: int) -> JumpTo | None:
    """Where Enter on an op-type row goes: its nodes in Fusion, or (a kind of layer with no ONNX node, e.g.
    ``[reformat layers]``) the Layers screen filtered to that kind."""
    kind = frame["layer_kind"].iloc[position] if "layer_kind" in frame.columns else None
    if isinstance(kind, str) and kind:
        label = op_row_label(None, kind)
        return JumpTo("layers", Jump(query=f"kind:{kind}", why=f"Enter on {label}"))
    op = frame["op_type"].iloc[position]
    return JumpTo("fusion", Jump(op_type=op)) if isinstance(op, str) else None


class OverviewScreen(BaseScreen):
    MODE = "overview"

    def body(self) -> Iterable[Widget]:
        a = self.analysis
        with VerticalScroll(id="overview"):
            yield KeyValues(headline(a, self.host.source), id="headline")
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
            missing = [self.host.missing(m) for m in ("layers", "fusion", "kernels") if self.host.missing(m)]
            if missing:
                yield Static("Not in this input: " + "; ".join(dict.fromkeys(missing)), id="missing", markup=False)
            if a.has_profile and not a.op_hotspots.empty:
                yield section(f"Time by ONNX op type, derived: {ATTRIBUTION_NOTE[a.summary.op_type_attribution]}")
                yield FrameTable(OP_TIME_COLUMNS, op_time_frame(a), export_name="op-types", id="op-time",
                                 classes="section-table", roles={"name": "label"})
            elif a.has_layers:
                yield section("Time by ONNX op type: no per-layer times in this input")
            if len(a.coverage_by_op):
                yield section(f"Fusion coverage by op type ({UNFUSED} = compute nodes that run unfused)")
                yield FrameTable(COVERAGE_COLUMNS, coverage_frame(a), flag="unfused", export_name="coverage-by-op",
                                 id="coverage", classes="section-table", roles={"name": "label"})
            if not a.has_layers and a.has_kernels:
                ranges = time_by(a.kernels, "nvtx_range", n=len(a.kernels))
                yield section(f"Kernels by NVTX range ({len(ranges):,} ranges; 5 lists every kernel)")
                yield FrameTable(RANGE_TIME_COLUMNS, ranges, export_name="kernels-by-range", id="ranges",
                                 classes="section-table", roles={"name": "name"})

    def on_mount(self) -> None:
        focus_first_table(self, 12, "overview")

    def on_frame_table_selected(self, event: FrameTable.Selected) -> None:
        if event.table.id == "ranges":
            name = str(event.table.frame["name"].iloc[event.position])
            self.post_message(JumpTo("kernels", Jump(query=f"range:{name}" if " " not in name else name)))
            return
        jump = op_row_jump(event.table.frame, event.position)
        if jump is not None:
            self.post_message(jump)
