"""Every table's columns, in one module: the screens that show the same table (layers in Layers and Hotspots,
op types in Overview and Hotspots, kernels in Kernels and the layer detail) show it the same way.

Order rule (readable at 80 columns): ``#`` and the name first and frozen, then the figures (numbers before
long text), then long text (ONNX nodes, type, tactic) that may scroll off to the right. Columns with no value in
any row are hidden by the table itself (no profile: no time columns). To add a per-layer figure (e.g. lint
findings), add its column to :data:`LAYER_COLUMNS` and the value to ``data.layers_frame``.
"""

from __future__ import annotations

from typing import Any

from trtscope.presentation.formatting import ms
from trtscope.presentation.labels import DERIVED_MS
from trtscope.views.tui import data
from trtscope.views.tui.cells import (
    bar_cell,
    conf_cell,
    count_cell,
    delta_int_cell,
    delta_ms_cell,
    int_cell,
    is_missing,
    kernel_cell,
    ms_cell,
    nodes_cell,
    num_cell,
    pct_cell,
    points_cell,
    share_cell,
    us_cell,
)
from trtscope.views.tui.data import UNFUSED
from trtscope.views.tui.widgets.frame_table import Column, Formatter


def _rank(key: str = "index") -> Column:
    return Column(key, "#", fmt=int_cell, right=True, descending_first=False, core=True, frozen=True,
                  hide_empty=False)


def _layer_name(key: str = "label", label: str = "layer", sort_key: str | None = None) -> Column:
    """The layer as shown (reformat layers as ``input 0 → Conv_5``); exports write its full ``name``."""
    return Column(key, label, flex=True, min_width=16, max_width=120, frozen=True, shorten="name",
                  sort_key=sort_key, hide_empty=False, export_key="name")


# --- layers -----------------------------------------------------------------------------------------------------
LAYER_COLUMNS = [
    _rank(),
    _layer_name(),
    Column("mean_ms", "mean ms", fmt=ms_cell, right=True, core=True),
    Column("share", "share", fmt=share_cell, right=True, core=True),
    Column("median_ms", "median ms", fmt=ms_cell, right=True),
    Column("kernel_ms_per_run", "kernel ms/run", fmt=ms_cell, right=True),
    Column("kernel_count", "kernels", fmt=int_cell, right=True),
    Column("kind_label", "kind", max_width=26, sort_key="kind", core=True),
    Column("n_onnx_nodes", "nodes", fmt=int_cell, right=True),
    Column("onnx_nodes", "ONNX nodes", fmt=nodes_cell, width=36, sort_key="n_onnx_nodes"),
    Column("type", "type", max_width=24),
    Column("precision", "precision", max_width=14),
    Column("tactic", "tactic", max_width=70),
]

HOT_LAYER_COLUMNS = [
    _rank("rank"),
    _layer_name(),
    Column("mean_ms", "mean ms", fmt=ms_cell, right=True, core=True),
    Column("share", "share", fmt=share_cell, right=True, core=True),
    Column("share", "", fmt=bar_cell, sortable=False, style="frame-table--bar", core=True),
    Column("cum_share", "cumulative", fmt=pct_cell, right=True, descending_first=False),
    Column("kind_label", "kind", max_width=26, sort_key="kind"),
]
UNFUSED_COLUMNS = [
    Column("marker", "", width=1, sortable=False, frozen=True),
    _layer_name("name"),
    Column("mean_ms", "mean ms", fmt=ms_cell, right=True, core=True),
    Column("share", "share", fmt=share_cell, right=True, core=True),
    Column("op_type", "op type", max_width=20),
    Column("onnx_node", "ONNX node", max_width=60, shorten="name"),
    Column("type", "layer type", max_width=20),
]
REFORMAT_COLUMNS = [
    _layer_name("label", "reformat: tensor → layer"),
    Column("mean_ms", "mean ms", fmt=ms_cell, right=True, core=True),
    Column("share", "share", fmt=share_cell, right=True, core=True),
    Column("share", "", fmt=bar_cell, sortable=False, style="frame-table--bar"),
    Column("type", "type", max_width=12),
]

# --- op types -----------------------------------------------------------------------------------------------------
OP_TIME_COLUMNS = [
    Column("label", "op type", flex=True, min_width=12, max_width=40, sort_key="label", frozen=True),
    Column("ms", DERIVED_MS, fmt=ms_cell, right=True, core=True),
    Column("share", "share", fmt=share_cell, right=True, core=True),
    Column("share", "", fmt=bar_cell, sortable=False, style="frame-table--bar"),
    Column("layers", "layers", fmt=int_cell, right=True),
    Column("unfused_ms", f"{UNFUSED} unfused ms", fmt=lambda v: ms(v) if v and not is_missing(v) else "",
           right=True),
]
COVERAGE_COLUMNS = [
    Column("label", "op type", flex=True, min_width=12, max_width=40, sort_key="label", frozen=True),
    Column("coverage", "coverage", fmt=pct_cell, right=True, core=True),
    Column("nodes", "nodes", fmt=int_cell, right=True, core=True),
    Column("fused", "fused", fmt=count_cell, right=True),
    Column("unfused_text", "unfused", right=True, sort_key="unfused"),
    Column("absorbed", "absorbed", fmt=count_cell, right=True),
    Column("folded", "folded", fmt=count_cell, right=True),
    Column("in_myelin", "Myelin", fmt=count_cell, right=True),
    Column("class_label", "class", max_width=10),
    Column("coverage", "", fmt=bar_cell, sortable=False, style="frame-table--bar"),
]

# --- fusion -------------------------------------------------------------------------------------------------------
FUSION_COLUMNS = [
    Column("layer_no", "#", fmt=int_cell, right=True, frozen=True, sortable=False, hide_empty=False),
    Column("tree", "", width=2, sortable=False, frozen=True, hide_empty=False),
    Column("label", "engine layer / ONNX node", flex=True, min_width=20, max_width=120, frozen=True,
           shorten="name", hide_empty=False),
    Column("status", "status", max_width=24, core=True),
    Column("ms", "ms (layer/derived)", fmt=ms_cell, right=True, core=True),
    Column("share", "share", fmt=share_cell, right=True),
    Column("what", "op type / kind", max_width=22),
]
#: The grouped table exported as data: one row per layer header and per node, no tree glyphs.
FUSION_EXPORT_COLUMNS = ["row_kind", "layer_index", "layer_name", "node_name", "op_type", "kind", "status", "ms",
                         "share", "unfused"]

# --- kernels ------------------------------------------------------------------------------------------------------
def _kernel_head() -> list[Column]:
    """The kernel and its GPU time: what stays on screen at 80 columns beside the layer it served."""
    return [
        Column("kernel", "kernel", fmt=kernel_cell, flex=True, min_width=16, max_width=70, frozen=True,
               shorten="middle", hide_empty=False),
        Column("total_ms", "total ms", fmt=ms_cell, right=True, core=True),
        Column("share", "share", fmt=share_cell, right=True, core=True),
    ]


KERNEL_ROLLUP_COLUMNS = [  # answers "which layer / node is this kernel?" at 80 columns
    *_kernel_head(),
    Column("layer_label", "layer", max_width=32, shorten="name", core=True),
    Column("launches", "launches", fmt=int_cell, right=True),
    Column("mean_us", "mean µs", fmt=us_cell, right=True),
    Column("nvtx_range", "NVTX range", max_width=40, shorten="middle"),
    Column("onnx_nodes", "ONNX nodes", fmt=nodes_cell, width=36, sort_key="onnx_nodes"),
]
KERNEL_TOTAL_COLUMNS = [
    *_kernel_head(),
    Column("layers_text", "in layers", max_width=32, sort_key="n_layers", core=True),
    Column("launches", "launches", fmt=int_cell, right=True),
    Column("mean_us", "mean µs", fmt=us_cell, right=True),
    Column("n_layers", "layers", fmt=int_cell, right=True),
]
#: Ranges of a capture without layer information (the Overview's "kernels by NVTX range").
RANGE_TIME_COLUMNS = [
    Column("name", "NVTX range", flex=True, min_width=16, max_width=80, frozen=True, shorten="middle"),
    Column("kernels", "kernels", fmt=int_cell, right=True, core=True),
    Column("gpu_ms", "GPU ms", fmt=ms_cell, right=True, core=True),
]

# --- layer detail -------------------------------------------------------------------------------------------------
TENSOR_COLUMNS = [
    Column("direction", "", max_width=8),
    Column("name", "tensor", flex=True, min_width=12, max_width=80, shorten="name"),
    Column("dimensions", "shape", max_width=24),
    Column("dtype", "precision", max_width=10),
    Column("format", "format", max_width=60),
]
NODE_COLUMNS = [
    Column("name", "ONNX node", flex=True, min_width=12, max_width=80, shorten="name", frozen=True),
    Column("ms", DERIVED_MS, fmt=ms_cell, right=True),
    Column("status", "status", max_width=24),
    Column("op_type", "op type", max_width=20),
    Column("n_layers", "in layers", fmt=int_cell, right=True),
]
DETAIL_KERNEL_COLUMNS = [
    Column("kernel", "kernel", fmt=kernel_cell, flex=True, min_width=16, max_width=70, frozen=True,
           shorten="middle"),
    Column("launches", "launches", fmt=int_cell, right=True),
    Column("total_ms", "total ms", fmt=ms_cell, right=True),
    Column("mean_us", "mean µs", fmt=us_cell, right=True),
    Column("share", "share of all", fmt=share_cell, right=True),
    Column("nvtx_range", "NVTX range", max_width=40, shorten="middle"),
]
LAUNCH_COLUMNS = [
    Column("name", "kernel", fmt=kernel_cell, flex=True, min_width=12, max_width=70, shorten="middle"),
    Column("duration_us", "µs", fmt=us_cell, right=True),
    Column("grid", "grid", max_width=16),
    Column("block", "block", max_width=14),
    Column("stream_id", "stream", fmt=int_cell, right=True),
]
NVML_COLUMNS = [
    Column("t_s", "t (s)", fmt=lambda v: "" if is_missing(v) else f"{float(v):.3f}", right=True,
           descending_first=False),
    Column("gpu_index", "GPU", fmt=int_cell, right=True),
    *[Column(key, f"{label.split()[0]} {unit}", fmt=num_cell, right=True) for key, label, unit in data.NVML_METRICS],
    Column("timestamp_ns", "timestamp ns", fmt=int_cell, right=True),
]


# --- lint findings (worst first: the finding number is the severity-then-time order) ------------------------
LINT_COLUMNS = [
    Column("finding", "#", fmt=int_cell, right=True, descending_first=False, core=True, frozen=True,
           hide_empty=False),
    Column("severity", "severity", max_width=8, core=True, hide_empty=False, sort_key="finding"),
    Column("rule", "rule", max_width=6, core=True, hide_empty=False),
    Column("ms", "ms", fmt=ms_cell, right=True, core=True),
    Column("share", "share", fmt=share_cell, right=True, core=True),
    Column("title", "finding", flex=True, min_width=20, max_width=140, hide_empty=False),
    Column("n_layers", "layers", fmt=int_cell, right=True),
    Column("layer_name", "first layer", max_width=48, shorten="name"),
    Column("nodes_text", "ONNX nodes", max_width=40, shorten="name", export_key="onnx_nodes"),
]


# --- the diff view (trtscope tui A B): B - A, the A column before the B column ----------------------------------
def _sides(key: str, label: str, fmt: Formatter, **kw: Any) -> list[Column]:
    """A figure of both sides: ``<key>_a`` then ``<key>_b``, labelled ``<label> A`` / ``<label> B``."""
    return [Column(f"{key}_{s}", f"{label} {s.upper()}".strip(), fmt=fmt, right=True, **kw) for s in ("a", "b")]


def _pair(label: str = "node (A → B)") -> Column:
    """A node or group on both sides: ``a → b`` when the names differ; exports write both names apart."""
    return Column("pair", label, flex=True, min_width=16, max_width=90, frozen=True, shorten="name",
                  hide_empty=False)


DIFF_CHANGE_COLUMNS = [
    _rank("rank"),
    Column("label", "change", max_width=20, frozen=True, core=True, hide_empty=False, sort_key="kind"),
    _pair(),
    Column("op_type", "op / kind", max_width=18, core=True),
    Column("a", "A", max_width=12, core=True),
    Column("b", "B", max_width=12, core=True),
    Column("delta_ms", "Δ ms", fmt=delta_ms_cell, right=True, core=True),
    *_sides("ms", "ms", ms_cell),
]
#: the change list exported as data (both names apart, raw values)
DIFF_CHANGE_EXPORT = ["rank", "kind", "subject", "subject_b", "op_type", "a", "b", "ms_a", "ms_b", "delta_ms"]

DIFF_NODE_COLUMNS = [
    _pair(),
    Column("op_type", "op", max_width=18, core=True),
    Column("change_label", "change", max_width=20, core=True, sort_key="change"),
    Column("status_text", "status A → B", max_width=22, core=True),
    Column("prec_text", "precision A → B", max_width=16),
    *_sides("ms", "ms", ms_cell),
    Column("delta_ms", "Δ ms", fmt=delta_ms_cell, right=True),
    Column("match_label", "match", max_width=11),
    Column("basis", "basis", max_width=16),
    Column("confidence", "conf", fmt=conf_cell, right=True),
    Column("class_label", "class", max_width=8),
]
DIFF_NODE_EXPORT = ["node_a", "node_b", "op_type", "node_class", "presence", "match", "basis", "confidence",
                    "reason", "change", "status_a", "status_b", "precision_a", "precision_b", "ms_a", "ms_b",
                    "delta_ms", "layer_a", "layer_b", "fused_with_a", "fused_with_b"]

DIFF_OP_COLUMNS = [
    Column("label", "op type", flex=True, min_width=12, max_width=40, sort_key="label", frozen=True,
           hide_empty=False),
    *_sides("ms", "ms", ms_cell, core=True),
    Column("delta_ms", "Δ ms", fmt=delta_ms_cell, right=True, core=True),
    Column("delta_share", "Δ share", fmt=points_cell, right=True, core=True),
    *_sides("nodes", "nodes", int_cell),
    *_sides("share", "share", share_cell),
    *_sides("unfused", UNFUSED, count_cell),
    *_sides("coverage", "coverage", pct_cell),
    *_sides("layers", "layers", int_cell),
]
DIFF_OP_EXPORT = ["op_type", "layer_kind", "nodes_a", "nodes_b", "layers_a", "layers_b", "ms_a", "ms_b", "delta_ms",
                  "share_a", "share_b", "delta_share", "fused_a", "fused_b", "unfused_a", "unfused_b", "coverage_a",
                  "coverage_b"]

DIFF_INSERTED_COLUMNS = [
    Column("kind_text", "kind", max_width=20, frozen=True, core=True, hide_empty=False, sort_key="kind"),
    _pair("serves (A → B)"),
    Column("where", "side", max_width=10, core=True, sort_key="direction"),
    *_sides("layers", "", int_cell, core=True),
    Column("change_label", "change", max_width=12, core=True, sort_key="change"),
    Column("delta_ms", "Δ ms", fmt=delta_ms_cell, right=True),
    *_sides("copying", "copying", int_cell),
    *_sides("ms", "ms", ms_cell),
]
DIFF_INSERTED_EXPORT = ["kind", "serves", "serves_b", "direction", "tensor", "layers_a", "layers_b", "copying_a",
                        "copying_b", "ms_a", "ms_b", "delta_ms", "change", "layer_names_a", "layer_names_b"]

DIFF_KIND_COLUMNS = [
    Column("label", "layer kind", flex=True, min_width=12, max_width=40, frozen=True, hide_empty=False),
    *_sides("layers", "layers", int_cell, core=True),
    Column("delta", "Δ", fmt=delta_int_cell, right=True, core=True),
    *_sides("ms", "ms", ms_cell),
    Column("delta_ms", "Δ ms", fmt=delta_ms_cell, right=True),
]
DIFF_KIND_EXPORT = ["kind", "layers_a", "layers_b", "delta", "ms_a", "ms_b", "delta_ms"]
