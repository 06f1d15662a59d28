"""Overview: the headline figures (layers, ONNX nodes, fusion coverage, time, reformat cost, GPU, TensorRT),
warnings, time by op type and coverage by op type. The first screen; it reads only precomputed tables, so
it paints at once even for a 20,000-layer engine."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from trtscope.analysis.fusion import KIND_LABELS
from trtscope.analysis.session import Analysis
from trtscope.views.formatting import ms, pct, printable
from trtscope.views.tui.cells import bar_cell, count_cell, int_cell, ms_cell, pct_cell
from trtscope.views.tui.data import UNFUSED
from trtscope.views.tui.screens.base import BaseScreen, fit_height, section
from trtscope.views.tui.widgets import Column, FrameTable, KeyValues
from trtscope.views.tui.widgets.kv import Row

OP_TIME_COLUMNS = [
    Column("op_type", "op type", flex=True, min_width=12, max_width=40),
    Column("nodes", "nodes", fmt=int_cell, right=True),
    Column("ms", "ms", fmt=ms_cell, right=True),
    Column("share", "share", fmt=pct_cell, right=True),
    Column("share", "", fmt=bar_cell, sortable=False, style="frame-table--bar"),
    Column("unfused_ms", "unfused ms", fmt=lambda v: ms(v) if v else "", right=True),
]
COVERAGE_COLUMNS = [
    Column("op_type", "op type", flex=True, min_width=12, max_width=40),
    Column("node_class", "class", max_width=10),
    Column("nodes", "nodes", fmt=int_cell, right=True),
    Column("fused", "fused", fmt=count_cell, right=True),
    Column("myelin", "Myelin", fmt=count_cell, right=True),
    Column("unfused_text", "unfused", right=True, sort_key="unfused"),
    Column("absent", "folded", fmt=count_cell, right=True),
    Column("coverage", "coverage", fmt=pct_cell, right=True),
    Column("coverage", "", fmt=bar_cell, sortable=False, style="frame-table--bar"),
]


def _kinds(s: dict[str, Any]) -> str:
    kinds = sorted(s["layer_kinds"].items(), key=lambda kv: -kv[1])
    return ", ".join(f"{n:,} {KIND_LABELS.get(k, k)}" for k, n in kinds)


def headline(a: Analysis, source: str) -> list[Row]:
    """The figures at the top of the Overview, as (label, value) rows."""
    s, meta = a.summary, a.summary.get("metadata", {})
    cov = s["coverage"]
    rows: list[Row] = []
    if source:
        rows.append(("Input", Text(printable(source))))
    for key, label in (("gpu", "GPU"), ("tensorrt_version", "TensorRT"), ("precision", "Precision")):
        if meta.get(key):
            rows.append((label, Text(printable(meta[key]))))
    rows.append(("Engine layers", f"{s['layer_count']:,} ({_kinds(s)})"))
    if s["has_onnx"]:
        rows.append(("ONNX nodes", f"{s['onnx_node_count']:,} ({cov['compute_node_count']:,} compute, "
                     f"{cov['status_counts']['absent']:,} folded/eliminated)"))
        rows.append(("Fusion coverage", Text(
            f"{pct(s['fusion_coverage'])}: {cov['fused_compute_node_count']:,} of "
            f"{cov['running_compute_node_count']:,} running compute nodes fused; "
            f"{UNFUSED} {cov['unfused_compute_node_count']:,} unfused", style="bold")))
    else:
        rows.append(("ONNX nodes", f"{cov['onnx_node_count']:,} named in the engine (no ONNX model given)"))
        est = s["fusion_coverage_estimate"]
        rows.append(("Fusion coverage", Text(
            f"~{pct(est)} estimated over {cov['running_compute_node_count']:,} compute nodes named in the engine; "
            f"{UNFUSED} {cov['unfused_compute_node_count']:,} unfused (pass --onnx for exact figures)"
            if est is not None else "unknown (no ONNX nodes could be identified)", style="bold")))
    if s["total_ms"] is not None:
        n = s["profile_iterations"]
        it = f" over {n} profiled iteration{'s' if n != 1 else ''}" if n else ""
        rows.append(("Total layer time", f"{ms(s['total_ms'])} ms per inference (sum of layer means{it})"))
    else:
        rows.append(("Total layer time", "— (no per-layer profile: trtexec --exportProfile, --dumpProfile, "
                     "or trtscope profile)"))
    e2e = s.get("end_to_end") or {}
    stats = e2e.get("compute") or e2e.get("latency")
    if stats:
        rows.append(("End-to-end", f"median {ms(stats['median_ms'])} ms, p99 {ms(stats['p99_ms'])} ms "
                     f"(GPU compute, {e2e['iterations']:,} iterations)"))
    ref = s["reformat"]
    ref_text = f"{ref['count']:,} reformat layers ({ref['copying_count']:,} copying, {ref['elided_count']:,} elided)"
    if ref["total_ms"] is not None:
        ref_text += f": {ms(ref['total_ms'])} ms = {pct(ref['share'])} of layer time"
    rows.append(("Reformat cost", ref_text))
    if len(a.kernels) or len(a.nvml):
        rows.append(("Capture", f"{len(a.kernels):,} kernels, {len(a.nvml):,} NVML samples"))
    if a.warnings:
        rows.append(("Warnings", f"{len(a.warnings)} (below)"))
    return rows


def coverage_frame(a: Analysis) -> pd.DataFrame:
    df = a.coverage_by_op.copy()
    # alone and Myelin-alone compute nodes both count as unfused (coverage is decided per Myelin layer)
    nodes = a.onnx_nodes
    lone = nodes["node_class"].eq("compute") & nodes["status"].ne("absent") & ~nodes["fused"].astype(bool)
    per_op = nodes.loc[lone, "op_type"].fillna("(unknown)").value_counts()
    df["unfused"] = df["op_type"].map(per_op).fillna(0).astype(int)
    df["unfused_text"] = [f"{UNFUSED} {n}" if n else "" for n in df["unfused"]]
    return df


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
                yield section("Time by ONNX op type (a fused layer's time split evenly among its nodes)")
                yield FrameTable(OP_TIME_COLUMNS, a.op_hotspots, export_name="op-types", id="op-time",
                                 classes="section-table")
            else:
                yield section("Time by ONNX op type: no per-layer times in this input")
            yield section(f"Fusion coverage by op type ({UNFUSED} = compute nodes that run unfused)")
            yield FrameTable(COVERAGE_COLUMNS, coverage_frame(a), flag="unfused", export_name="coverage-by-op",
                             id="coverage", classes="section-table")

    def on_mount(self) -> None:
        for t in self.query(FrameTable):
            fit_height(t, 12)
        self.query_one("#overview").focus()

    async def on_frame_table_selected(self, event: FrameTable.Selected) -> None:
        op = str(event.table.frame["op_type"].iloc[event.position])
        if op.startswith("["):  # time of layers with no ONNX node ("[reformat layers]")
            self.notify("these layers have no ONNX node: see the Layers screen", markup=False)
            return
        await self.tui.show_op_type(op)
