"""Column contracts of every table the analysis hands to views and exporters (``trtscope.load()``'s tables).

Declared once, here: the analysis puts its tables' columns in this order, tests check every table of every
real input against it, and ``docs/data-model.md`` is generated from it (``python scripts/gen_data_model.py``),
so the documentation cannot drift from the code. Columns marked *derived* are computed by a stated rule from
measured values (e.g. a node's share of its layer's time), never measured themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from trtscope.model.tables import (
    ITERATION_COLUMNS,
    KERNEL_COLUMNS,
    LAYER_COLUMNS,
    NVML_SAMPLE_COLUMNS,
    NVTX_RANGE_COLUMNS,
)

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Col:
    name: str
    dtype: str  # int | float | bool | str | Int64 (nullable int) | list[str] | list[int] | category
    doc: str
    derived: bool = False
    optional: bool = False  # present only when the input has what it needs (e.g. kernels)


@dataclass(frozen=True)
class TableSpec:
    name: str
    doc: str
    columns: tuple[Col, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if not c.optional]


def _raw(names: tuple[str, ...], docs: dict[str, tuple[str, str]]) -> tuple[Col, ...]:
    return tuple(Col(n, *docs.get(n, ("str", "as the source wrote it"))) for n in names)


_LAYER_RAW = {
    "index": ("int", "position in engine order (0-based); names can repeat, the index never does"),
    "name": ("str", "exactly as TensorRT wrote it (control bytes included)"),
    "type": ("str", "LayerType (\"CaskConvolution\", \"kgen\", \"Reformat\", ...); \"\" when unknown"),
    "parameter_type": ("str", "ParameterType, or None"),
    "origin": ("str", "Origin (\"REFORMAT\", \"QDQ\"), or None"),
    "tactic": ("str", "TacticName, or None"),
    "tactic_value": ("str", "TacticValue, or None"),
    "stream_id": ("Int64", "StreamId, or None"),
    "metadata": ("str", "the raw Metadata string (ONNX node names), or None"),
    "precision": ("str", "output data type(s), e.g. \"Half\" or \"Int8+Float\"; None when unknown"),
}

LAYERS = TableSpec("layers", "One row per engine layer, in engine order.", (
    *_raw(LAYER_COLUMNS, _LAYER_RAW),
    Col("in_layer_info", "bool", "listed in the layer information (False: known only from the profile)"),
    Col("occurrence", "int", "k-th layer of this name (0-based), for joining with profiles"),
    Col("count", "float", "profiled iterations (profile)"),
    Col("total_ms", "float", "total time over the profiled iterations (profile)"),
    Col("mean_ms", "float", "mean time per inference (profile averageMs); NaN without a profile"),
    Col("median_ms", "float", "median time per inference (profile), NaN where the source had none"),
    Col("percentage", "float", "percentage as the profile reported it (0..100)"),
    Col("profiled", "bool", "the profile has an entry for this layer"),
    Col("onnx_nodes", "list[str]", "ONNX nodes the layer came from, in the layer's order"),
    Col("n_onnx_nodes", "int", "len(onnx_nodes)"),
    Col("mapping_source", "str", "how onnx_nodes were found: metadata, log_metadata, foreign_range, foreign_ends, "
        "myelin_name, name, inserted"),
    Col("in_myelin", "bool", "a Myelin layer (8.x ForeignNode / Myelin, 10+ _myl names, kgen)"),
    Col("myelin_region", "str", "the Myelin region it belongs to (e.g. \"myl0\"), or None"),
    Col("reformat_direction", "str", "reformat layers: \"input\" or \"output\" (from TensorRT's name); else None"),
    Col("reformat_tensor", "Int64", "reformat layers: the tensor position it converts"),
    Col("reformat_target", "str", "reformat layers: the layer it serves"),
    Col("kind", "str", "LayerKind: qdq, reformat, noop, fused, single, other (decided in that order)"),
    Col("anchor_node", "str", "the ONNX node the layer's time is attributed to (the heavy compute op it was built "
        "around); None for layers that run no ONNX work (reformat, no-op, no source)"),
    Col("anchor_op", "str", "op type of anchor_node"),
    Col("share", "float", "mean_ms / sum of every layer's mean_ms (0..1)"),
    Col("kernel_count", "float", "captured kernel launches of this layer (all executions)", optional=True),
    Col("kernel_ms", "float", "their summed GPU time", optional=True),
    Col("kernel_ms_per_run", "float", "GPU time per execution (kernel_ms / executions)", optional=True),
))

ONNX_NODES = TableSpec("onnx_nodes", "One row per ONNX node (the graph's, then names the engine references that "
                       "the graph lacks; without a graph only those).", (
    Col("index", "int", "position in the graph's node list"),
    Col("name", "str", "node name"),
    Col("op_type", "str", "op type; guessed from the name without an ONNX model (None when no guess)"),
    Col("domain", "str", "op domain (\"\" = ai.onnx)"),
    Col("op_type_source", "str", "\"onnx\" (from the model) or \"name\" (guessed), or None"),
    Col("in_onnx", "bool", "in the ONNX graph (False: only the engine names it)"),
    Col("node_class", "str", "NodeClass: compute, shape, constant, qdq"),
    Col("status", "str", "NodeStatus: fused, unfused, absorbed, folded (exactly one per node)"),
    Col("reason", "str", "why absorbed or folded; \"\" otherwise"),
    Col("in_myelin", "bool", "runs in a Myelin layer, or absorbed into a Myelin region"),
    Col("layer_indices", "list[int]", "engine layers the node is in"),
    Col("n_layers", "int", "len(layer_indices)"),
    Col("derived_ms", "float", "the node's part of layer time under the attribution rule (anchor or split); sums "
        "over nodes to the time of the layers that run ONNX work", derived=True),
    Col("layers_ms", "float", "whole time of every layer the node is in (not additive over nodes)", derived=True),
))

MAPPING = TableSpec("mapping", "Layer <-> ONNX node pairs (many-to-many).", (
    Col("layer_index", "int", "layers.index"),
    Col("layer_name", "str", "layers.name"),
    Col("node_name", "str", "onnx_nodes.name"),
    Col("node_index", "int", "onnx_nodes.index"),
    Col("source", "str", "layers.mapping_source of the pair's layer"),
    Col("in_onnx", "bool", "the node is in the ONNX graph"),
    Col("anchor", "bool", "this node is the layer's anchor (gets the layer's time under anchor attribution)"),
))

HOTSPOTS = TableSpec("hotspots", "Timed layers ranked by mean time.", (
    Col("rank", "int", "1 = slowest"),
    Col("index", "int", "layers.index"),
    Col("name", "str", "layers.name"),
    Col("kind", "str", "layers.kind"),
    Col("in_myelin", "bool", "layers.in_myelin"),
    Col("type", "str", "layers.type"),
    Col("onnx_nodes", "list[str]", "layers.onnx_nodes"),
    Col("mean_ms", "float", "layers.mean_ms"),
    Col("median_ms", "float", "layers.median_ms"),
    Col("share", "float", "layers.share"),
    Col("cum_share", "float", "running sum of share down the ranking"),
))

OP_HOTSPOTS = TableSpec("op_hotspots", "Derived time per ONNX op type (op_type set) and per kind of layer that "
                        "runs no ONNX work (layer_kind set, e.g. reformat); rows sum to the sum of layer times.", (
    Col("op_type", "str", "op type (None on layer-kind rows, and for nodes of unknown op type)"),
    Col("layer_kind", "str", "LayerKind of layers that run no ONNX work (None on op-type rows)"),
    Col("nodes", "int", "running nodes of this op type (0 on layer-kind rows)"),
    Col("layers", "int", "timed layers whose time this row received (anchor: layers anchored on the op type; "
        "split: layers holding a node of it; layer-kind rows: layers of the kind)"),
    Col("ms", "float", "derived time (attribution rule: summary op_type_attribution)", derived=True),
    Col("share", "float", "ms / sum of layer times", derived=True),
    Col("unfused_ms", "float", "part of ms spent in unfused compute nodes; under anchor attribution exactly the "
        "time of this op type's rows of unfused_hotspots", derived=True),
))

UNFUSED_HOTSPOTS = TableSpec("unfused_hotspots", "Layers whose anchor is an unfused compute node, by time.", (
    Col("index", "int", "layers.index"),
    Col("name", "str", "layers.name"),
    Col("onnx_node", "str", "the unfused compute node (the layer's anchor)"),
    Col("op_type", "str", "its op type"),
    Col("type", "str", "layers.type"),
    Col("kind", "str", "layers.kind"),
    Col("in_myelin", "bool", "layers.in_myelin"),
    Col("mean_ms", "float", "layers.mean_ms"),
    Col("median_ms", "float", "layers.median_ms"),
    Col("share", "float", "layers.share"),
))

COVERAGE_BY_OP = TableSpec("coverage_by_op", "Node statuses per op type; fused + unfused + absorbed + folded = "
                           "nodes on every row.", (
    Col("op_type", "str", "op type (None: unknown)"),
    Col("node_class", "str", "NodeClass of the op type"),
    Col("nodes", "int", "nodes of this op type"),
    Col("fused", "int", "nodes with status fused"),
    Col("unfused", "int", "nodes with status unfused"),
    Col("absorbed", "int", "nodes with status absorbed"),
    Col("folded", "int", "nodes with status folded"),
    Col("in_myelin", "int", "nodes inside Myelin (any status)"),
    Col("coverage", "float", "fused / (fused + unfused) for compute op types; NaN otherwise"),
))

REFORMAT_LAYERS = TableSpec("reformat_layers", "Reformat layers, most expensive first.", (
    Col("index", "int", "layers.index"),
    Col("name", "str", "layers.name"),
    Col("type", "str", "layers.type"),
    Col("elided", "bool", "NoOp-typed: TensorRT elided the copy"),
    Col("direction", "str", "\"input\" / \"output\" (from the name), or None"),
    Col("tensor", "Int64", "the tensor position it converts"),
    Col("target", "str", "the layer it serves"),
    Col("mean_ms", "float", "layers.mean_ms"),
    Col("share", "float", "layers.share"),
))

KERNELS = TableSpec("kernels", "Captured / imported kernels with their NVTX range, engine layer and ONNX nodes.", (
    *(Col(c, "", "as captured or imported (model/tables.py KERNEL_COLUMNS)") for c in KERNEL_COLUMNS),
    Col("nvtx_domain", "str", "domain of nvtx_range", optional=True),
    Col("range_basis", "category", "which host interval placed the kernel: launch, graph_capture, "
        "graph_unresolved, graph_level, no_launch_record", optional=True),
    Col("graph_level", "bool", "a whole CUDA-graph launch traced at graph level (no kernel detail)",
        optional=True),
    Col("layer_index", "Int64", "layers.index of layer_name (first layer of that name)"),
    Col("onnx_nodes", "list[str]", "that layer's ONNX nodes"),
))

KERNEL_ROLLUP = TableSpec("kernel_rollup", "Kernel launches grouped by (kernel, layer, innermost NVTX range), by "
                          "GPU time; graph-level launches left out.", (
    Col("kernel", "str", "kernel name"),
    Col("layer_index", "Int64", "layers.index, when the kernel's layer is in the layer information"),
    Col("layer_name", "str", "the layer the kernel's range names"),
    Col("nvtx_range", "str", "innermost NVTX range text"),
    Col("onnx_nodes", "list[str]", "the layer's ONNX nodes"),
    Col("launches", "int", "kernel launches in the group"),
    Col("total_ms", "float", "their summed GPU time"),
    Col("mean_us", "float", "total_ms / launches, in µs"),
    Col("share", "float", "total_ms / every kernel's GPU time"),
))

KERNEL_TOTALS = TableSpec("kernel_totals", "Kernel launches grouped by kernel name alone (across layers and NVTX "
                          "ranges), by GPU time; graph-level launches left out.", (
    Col("kernel", "str", "kernel name"),
    Col("launches", "int", "launches of this kernel"),
    Col("total_ms", "float", "their summed GPU time"),
    Col("mean_us", "float", "total_ms / launches, in µs"),
    Col("share", "float", "total_ms / every kernel's GPU time"),
    Col("n_layers", "int", "distinct engine layers (layer names) it ran for"),
    Col("layer_names", "list[str]", "those layers, by the kernel's GPU time in each, largest first"),
))

NVTX_RANGES = TableSpec("nvtx_ranges", "NVTX ranges, with what the analysis found them to be.", (
    *(Col(c, "", "as captured or imported (model/tables.py NVTX_RANGE_COLUMNS)") for c in NVTX_RANGE_COLUMNS),
    Col("range_kind", "str", "RangeKind: trtscope (own ranges), tensorrt_layer (names an engine layer), nvtx"),
    Col("layer_index", "Int64", "layers.index of the layer the range names"),
))

ITERATIONS = TableSpec("iterations", "Per-iteration times (trtexec --exportTimes or a capture's timing run).",
                       tuple(Col(c, "float", "see model/tables.py ITERATION_COLUMNS") for c in ITERATION_COLUMNS))
NVML = TableSpec("nvml", "NVML samples of a capture.",
                 tuple(Col(c, "", "see model/tables.py NVML_SAMPLE_COLUMNS") for c in NVML_SAMPLE_COLUMNS))

LINT_FINDINGS = TableSpec("lint_findings", "`trtscope lint`: one row per finding, worst first (severity, then time). "
                          "Not part of the Analysis: built on demand by `trtscope.analysis.lint.lint()`.", (
    Col("finding", "int", "position in this table (0 = worst); the key of lint_targets"),
    Col("rule", "str", "rule id, e.g. \"Q002\" (docs/lint/<rule>.md)"),
    Col("rule_name", "str", "the rule's slug, e.g. \"int8-output-in-float\""),
    Col("severity", "str", "Severity: error, warning, info"),
    Col("title", "str", "one line saying what was found"),
    Col("layers", "list[int]", "layers.index of the layers concerned, most relevant first"),
    Col("onnx_nodes", "list[str]", "the ONNX nodes to change (or that the layers run), most relevant first"),
    Col("ms", "float", "sum of the concerned layers' mean_ms (NaN without a profile)", derived=True),
    Col("share", "float", "ms / sum of layer times", derived=True),
    Col("evidence", "list[str]", "the facts behind the finding, one line each (structured in `lint --json`)"),
    Col("why", "str", "why it matters"),
    Col("advice", "str", "what to change in the ONNX model or the build"),
    Col("docs", "str", "the rule's documentation page"),
))

LINT_TARGETS = TableSpec("lint_targets", "`trtscope.analysis.lint.findings_for(analysis)`: one row per finding and "
                         "each layer or ONNX node it concerns, worst first, so a view selects the findings of one "
                         "layer (`layer_index == i`) or node (`node == name`) without grouping.", (
    Col("finding", "int", "lint_findings.finding"),
    Col("rule", "str", "rule id"),
    Col("severity", "str", "Severity: error, warning, info"),
    Col("title", "str", "the finding's one-line title"),
    Col("layer_index", "Int64", "layers.index (NA on node rows)"),
    Col("node", "str", "onnx_nodes.name (None on layer rows)"),
    Col("ms", "float", "the finding's ms (not additive over rows)", derived=True),
))

#: Every output table, in the order exports write them.
TABLES: tuple[TableSpec, ...] = (LAYERS, ONNX_NODES, MAPPING, HOTSPOTS, OP_HOTSPOTS, UNFUSED_HOTSPOTS,
                                 COVERAGE_BY_OP, REFORMAT_LAYERS, KERNEL_ROLLUP, KERNEL_TOTALS, ITERATIONS, NVML,
                                 KERNELS, NVTX_RANGES)
BY_NAME = {t.name: t for t in TABLES}


def conform(df: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """``df`` with the spec's columns in the spec's order (optional ones where present); a required column that
    is missing or a column the spec does not declare is a bug, reported as such."""
    missing = [c for c in spec.required if c not in df.columns]
    extra = [c for c in df.columns if c not in spec.names]
    if missing or extra:
        raise AssertionError(f"table {spec.name}: missing {missing}, undeclared {extra}")
    return df[[c for c in spec.names if c in df.columns]]


def markdown() -> str:
    """docs/data-model.md: every table and column, generated from the declarations above."""
    out = ["# trtscope's tables (generated)", "",
           "Generated from `trtscope/model/outputs.py` by `python scripts/gen_data_model.py`; a test fails when "
           "this file is stale. These are the tables of `trtscope.load()`'s Analysis, of `trtscope export` (CSV, "
           "Parquet, JSON) and of the bundle readers. *Derived* columns are computed by a stated rule from "
           "measured values, never measured themselves; *optional* ones exist only when the input has what they "
           "need.", ""]
    for t in (*TABLES, LINT_FINDINGS, LINT_TARGETS):
        out += spec_markdown(t)
    return "\n".join(out)


def spec_markdown(t: TableSpec, prefix: str = "") -> list[str]:
    """One table's section: its doc and a row per column."""
    out = [f"## `{prefix}{t.name}`", "", t.doc, "", "| column | type | meaning |", "|---|---|---|"]
    for c in t.columns:
        tags = [x for x, on in (("derived", c.derived), ("optional", c.optional)) if on]
        note = f" *({', '.join(tags)})*" if tags else ""
        out.append(f"| `{c.name}` | {c.dtype or '—'} | {c.doc.replace('|', '/')}{note} |")
    out.append("")
    return out
