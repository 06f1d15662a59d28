"""The Analysis: everything trtscope computed for one engine, as pandas tables plus a typed summary.

This is what ``trtscope.load()`` returns and what every view and exporter reads. It owns every figure: views
and exporters select and format, they never group, count or classify. It holds no file handles and does no
I/O, so it can be built in a test from hand-made Artifacts. Column contracts: docs/data-model.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from trtscope.analysis import coverage as cov
from trtscope.analysis import hotspots as hs
from trtscope.analysis.fusion import analyze_fusion
from trtscope.analysis.kernels import (
    attribute_kernels,
    classify_ranges,
    kernel_rollup,
    kernel_summary,
    kernel_totals,
    per_layer_kernel_time,
)
from trtscope.model import outputs as out
from trtscope.model.artifacts import Artifacts
from trtscope.model.outputs import conform
from trtscope.model.summary import Summary
from trtscope.model.tables import empty_frame
from trtscope.model.vocabulary import Attribution, LayerKind, NodeStatus


@dataclass
class Analysis:
    """Tables (DataFrames) and figures for one engine. See docs/data-model.md for every column."""

    artifacts: Artifacts
    #: one row per engine layer in engine order: kind, in_myelin, onnx_nodes, anchor_node, mean_ms, share, ...
    layers: pd.DataFrame
    #: one row per ONNX node: op_type, node_class, status (fused/unfused/absorbed/folded), derived_ms
    onnx_nodes: pd.DataFrame
    #: layer <-> ONNX node pairs, with how each was found and which one is the layer's anchor
    mapping: pd.DataFrame
    #: timed layers ranked by mean time
    hotspots: pd.DataFrame
    #: derived time per op type (and per kind of layer without ONNX nodes)
    op_hotspots: pd.DataFrame
    #: layers whose anchor is an unfused compute node, by time
    unfused_hotspots: pd.DataFrame
    coverage_by_op: pd.DataFrame
    #: reformat layers with direction, tensor and target, by time
    reformat_layers: pd.DataFrame
    summary: Summary
    warnings: list[str] = field(default_factory=list)
    #: kernels with layer_name / layer_index / onnx_nodes (empty without a capture or nsys import)
    kernels: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: kernels grouped by (kernel, layer, NVTX range), by GPU time
    kernel_rollup: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: kernels grouped by name alone (across layers and ranges), by GPU time
    kernel_totals: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: NVTX ranges with range_kind and the layer each names
    nvtx_ranges: pd.DataFrame = field(default_factory=pd.DataFrame)

    # -- conveniences for views --------------------------------------------------------------------------------
    @property
    def tensors(self) -> pd.DataFrame:
        info = self.artifacts.layer_info
        return info.tensors if info is not None else pd.DataFrame()

    @property
    def iterations(self) -> pd.DataFrame | None:
        return self.artifacts.iterations

    @property
    def nvml(self) -> pd.DataFrame:
        return self.artifacts.nvml

    @property
    def has_profile(self) -> bool:
        return self.summary.total_ms is not None

    @property
    def has_onnx(self) -> bool:
        return self.artifacts.onnx is not None

    @property
    def has_layers(self) -> bool:
        return self.summary.layer_count > 0

    @property
    def has_kernels(self) -> bool:
        return self.summary.kernels is not None

    @property
    def attribution(self) -> Attribution:
        return Attribution(self.summary.op_type_attribution)

    def unfused_nodes(self) -> pd.DataFrame:
        return cov.unfused_compute_nodes(self.onnx_nodes)

    def layer_details(self, index: int) -> dict[str, Any]:
        """Every key TensorRT wrote for one layer (empty for names-only inputs)."""
        info = self.artifacts.layer_info
        if info is None or not info.raw or index >= len(info.raw):
            return {}
        return dict(info.raw[index])

    def layer_tensors(self, index: int) -> pd.DataFrame:
        t = self.tensors
        return t[t["layer_index"] == index] if len(t) else t

    def layers_of_node(self, node_name: str) -> pd.DataFrame:
        idx = self.mapping.loc[self.mapping["node_name"] == node_name, "layer_index"]
        return self.layers[self.layers["index"].isin(idx)]


@dataclass(frozen=True)
class InputFacts:
    """What is known as soon as the inputs are read, before the analysis runs (the TUI shows these while it
    analyses): counts of what was read, not results. None where the input has no such part."""

    layer_count: int | None
    layer_detail: str | None
    profiled_layers: int | None
    onnx_node_count: int | None
    iterations: int | None
    kernel_count: int
    metadata: dict[str, Any]
    warning_count: int


def input_facts(art: Artifacts) -> InputFacts:
    info = art.layer_info
    return InputFacts(
        layer_count=len(info.layers) if info is not None else None,
        layer_detail=info.detail if info is not None else None,
        profiled_layers=len(art.profile.times) if art.profile is not None else None,
        onnx_node_count=len(art.onnx.nodes) if art.onnx is not None else None,
        iterations=len(art.iterations) if art.iterations is not None else None,
        kernel_count=len(art.kernels),
        metadata={k: v for k, v in art.metadata.items() if k != "trtexec_performance_summary"},
        warning_count=len(art.warnings),
    )


def analyze(art: Artifacts, attribution: Attribution | str = Attribution.ANCHOR) -> Analysis:
    """Every table and figure for one engine's artifacts. ``attribution`` decides how layer time is derived
    per ONNX node and op type (see analysis/hotspots.py)."""
    rule = Attribution(attribution)
    fusion = analyze_fusion(art.layer_info, art.profile, art.onnx)
    layers, nodes, mapping = fusion.layers, fusion.onnx_nodes, fusion.mapping
    total = hs.add_shares(layers)
    kernels = attribute_kernels(art.kernels, art.nvtx_ranges, layers, art.graph_nodes)
    if len(kernels):
        per_layer = per_layer_kernel_time(kernels, layers)
        for c in per_layer.columns:
            layers[c] = per_layer[c].to_numpy()
    hs.attribute_to_nodes(nodes, mapping, layers, rule)
    kinds = layers["kind"].value_counts()
    info = art.layer_info
    myelin = layers["in_myelin"].to_numpy(dtype=bool)
    summary = Summary(
        layer_count=len(layers),
        layer_detail=info.detail if info is not None else "names",
        layer_kinds={k.value: int(kinds.get(k.value, 0)) for k in LayerKind if kinds.get(k.value, 0)},
        fused_layer_count=int(kinds.get(LayerKind.FUSED.value, 0)),
        myelin_layer_count=int(myelin.sum()),
        myelin_region_count=int(layers.loc[myelin, "myelin_region"].nunique()),
        reformat=hs.reformat_cost(layers, total),
        total_ms=total,
        profile_iterations=art.profile.count if art.profile is not None else None,
        has_onnx=art.onnx is not None,
        # Without an ONNX model the coverage is estimated over the nodes the layer names and metadata reveal
        # (folded nodes are invisible then, but they are outside the denominator anyway).
        coverage=cov.coverage_summary(nodes, exact=art.onnx is not None),
        op_type_attribution=rule.value,
        end_to_end=hs.end_to_end(art.iterations, total),
        kernels=kernel_summary(kernels),
        metadata={k: v for k, v in art.metadata.items() if k != "trtexec_performance_summary"},
    )
    warnings = list(dict.fromkeys([*art.warnings, *fusion.warnings]))
    rollup = kernel_rollup(kernels)
    return Analysis(
        artifacts=art,
        layers=conform(layers, out.LAYERS),
        onnx_nodes=conform(nodes, out.ONNX_NODES),
        mapping=conform(mapping, out.MAPPING),
        hotspots=hs.layer_hotspots(layers),
        op_hotspots=hs.op_type_hotspots(nodes, layers, mapping, total, rule),
        unfused_hotspots=hs.unfused_hotspots(layers, nodes),
        coverage_by_op=cov.coverage_by_op(nodes),
        reformat_layers=hs.reformat_layers(layers),
        summary=summary,
        warnings=warnings,
        kernels=_conform_kernels(kernels),
        kernel_rollup=rollup,
        kernel_totals=kernel_totals(rollup),
        nvtx_ranges=classify_ranges(art.nvtx_ranges, layers),
    )


def _conform_kernels(kernels: pd.DataFrame) -> pd.DataFrame:
    """Kernels in the declared column order; columns a source adds beyond the contract (an nsys import's
    extras) are kept after it, since they are the input's own data."""
    if kernels.empty:
        return empty_frame(out.KERNELS.required)
    declared = [c for c in out.KERNELS.names if c in kernels.columns]
    return kernels[declared + [c for c in kernels.columns if c not in declared]]


__all__ = ["Analysis", "Attribution", "InputFacts", "NodeStatus", "analyze", "input_facts"]
