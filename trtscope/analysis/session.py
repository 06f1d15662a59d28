"""The Analysis: everything trtscope computed for one engine, as pandas tables plus a summary.

This is what ``trtscope.load()`` returns and what every view and exporter reads. It holds no file handles and
does no I/O, so it can be built in a test from hand-made Artifacts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from trtscope.analysis import coverage as cov
from trtscope.analysis import hotspots as hs
from trtscope.analysis.fusion import analyze_fusion
from trtscope.analysis.kernels import attribute_kernels, per_layer_kernel_time
from trtscope.model.artifacts import Artifacts


@dataclass
class Analysis:
    """Tables (DataFrames) and figures for one engine. See docs/data-model.md for every column."""

    artifacts: Artifacts
    #: one row per engine layer in engine order: kind, onnx_nodes, mean_ms, median_ms, share, ...
    layers: pd.DataFrame
    #: one row per ONNX node: op_type, node_class, status (fused/myelin/alone/absent), fused, attributed_ms
    onnx_nodes: pd.DataFrame
    #: layer <-> ONNX node pairs, with how each was found
    mapping: pd.DataFrame
    #: timed layers ranked by mean time
    hotspots: pd.DataFrame
    op_hotspots: pd.DataFrame
    unfused_hotspots: pd.DataFrame
    coverage_by_op: pd.DataFrame
    summary: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    #: kernels with layer_name / layer_index / onnx_nodes (empty without a capture or nsys import)
    kernels: pd.DataFrame = field(default_factory=pd.DataFrame)

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
    def nvtx_ranges(self) -> pd.DataFrame:
        return self.artifacts.nvtx_ranges

    @property
    def has_profile(self) -> bool:
        return self.summary["total_ms"] is not None

    @property
    def has_onnx(self) -> bool:
        return self.artifacts.onnx is not None

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


def analyze(art: Artifacts) -> Analysis:
    fusion = analyze_fusion(art.layer_info, art.profile, art.onnx)
    layers, nodes, mapping = fusion.layers, fusion.onnx_nodes, fusion.mapping
    total = hs.add_shares(layers)
    kernels = attribute_kernels(art.kernels, art.nvtx_ranges, layers, art.graph_nodes)
    if len(kernels):
        per_layer = per_layer_kernel_time(kernels, layers)
        for c in per_layer.columns:
            layers[c] = per_layer[c].to_numpy()
    hs.attribute_to_nodes(nodes, mapping, layers)
    cover = cov.coverage_summary(nodes)
    reformat = hs.reformat_cost(layers, total)
    kind_counts = layers["kind"].value_counts()
    info = art.layer_info
    summary: dict[str, Any] = {
        "layer_count": len(layers),
        "layer_detail": info.detail if info is not None else "names",
        "reformat_layer_count": reformat["count"],
        "fused_layer_count": int((layers["n_onnx_nodes"] >= 2).sum()),
        "layer_kinds": {k: int(v) for k, v in kind_counts.items()},
        "myelin_region_count": int(layers.loc[layers["kind"].eq("myelin"), "myelin_region"].nunique()),
        "total_ms": total,
        "profile_iterations": art.profile.count if art.profile is not None else None,
        "reformat": reformat,
        "has_onnx": art.onnx is not None,
        "onnx_node_count": cover["onnx_node_count"] if art.onnx is not None else None,
        "fusion_coverage": cover["fusion_coverage"] if art.onnx is not None else None,
        # Without an ONNX model the same figure is estimated over the nodes the layer names and metadata
        # reveal (folded nodes are invisible then, but they are outside the denominator anyway).
        "fusion_coverage_estimate": cover["fusion_coverage"] if art.onnx is None else None,
        "coverage": cover,
        "end_to_end": hs.end_to_end(art.iterations, total),
        "kernels": _kernel_summary(kernels),
        "metadata": {k: v for k, v in art.metadata.items() if k != "trtexec_performance_summary"},
    }
    warnings = list(dict.fromkeys([*art.warnings, *fusion.warnings]))
    return Analysis(
        artifacts=art,
        layers=layers,
        onnx_nodes=nodes,
        mapping=mapping,
        hotspots=hs.layer_hotspots(layers),
        op_hotspots=hs.op_type_hotspots(nodes, layers, total),
        unfused_hotspots=hs.unfused_hotspots(layers, nodes, mapping),
        coverage_by_op=cov.coverage_by_op(nodes),
        summary=summary,
        warnings=warnings,
        kernels=kernels,
    )


def _kernel_summary(kernels: pd.DataFrame) -> dict[str, Any] | None:
    if kernels.empty:
        return None
    dur = (kernels["end_ns"].astype("float64") - kernels["start_ns"].astype("float64")).sum() / 1e6
    return {
        "count": len(kernels),
        "gpu_ms": float(dur),
        "in_nvtx_range": int(kernels["nvtx_range_id"].notna().sum()) if "nvtx_range_id" in kernels else 0,
        # inside a range that names a layer (from the capture's or this analysis' layer names)
        "on_layer": int(kernels["layer_name"].notna().sum()) if "layer_name" in kernels else 0,
        # ... and that layer is in the layer information (so its ONNX nodes are known)
        "on_known_layer": int(kernels["layer_index"].notna().sum()),
    }
