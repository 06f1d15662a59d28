"""The headline figures of one analysis, typed: what every view shows and ``report --json`` prints.

The analysis fills these once; the console report, the JSON document, the TUI and the exports read them and
never recount. Every breakdown shown as parts of a whole is a field here whose parts sum to the whole
(``StatusCounts.total``; ``layer_kinds`` sums to ``layer_count``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class StatusCounts:
    """Nodes per status (NodeStatus); the four partition the nodes counted."""

    fused: int = 0
    unfused: int = 0
    absorbed: int = 0
    folded: int = 0

    @property
    def total(self) -> int:
        return self.fused + self.unfused + self.absorbed + self.folded

    @property
    def running(self) -> int:
        """Nodes that run in some layer (the coverage denominator, for compute nodes)."""
        return self.fused + self.unfused


@dataclass(frozen=True)
class CoverageSummary:
    onnx_node_count: int
    status_counts: StatusCounts  # over every node
    class_counts: dict[str, int]  # NodeClass -> nodes; sums to onnx_node_count
    compute: StatusCounts  # over compute nodes; sums to class_counts["compute"]
    fusion_coverage: float | None  # compute fused / (fused + unfused); None with no running compute node
    exact: bool  # False: op types inferred from names (no ONNX model) and only engine-named nodes counted


@dataclass(frozen=True)
class ReformatCost:
    count: int  # reformat layers (copying + elided)
    copying_count: int
    elided_count: int  # NoOp-typed: TensorRT elided the copy
    total_ms: float | None  # sum of their mean times; None without a profile
    share: float | None  # of the sum of layer times


@dataclass(frozen=True)
class TimeStats:
    mean_ms: float
    median_ms: float
    p90_ms: float
    p99_ms: float
    min_ms: float
    max_ms: float


@dataclass(frozen=True)
class EndToEnd:
    iterations: int
    latency: TimeStats | None
    compute: TimeStats | None
    layer_sum_ms: float | None = None
    layer_sum_vs_compute: float | None = None  # layer sum / median GPU compute (or latency) time


@dataclass(frozen=True)
class KernelSummary:
    """Kernel launches (whole-graph launches traced at graph level are counted apart: they have no kernels)."""

    count: int  # kernel launches in the input
    gpu_ms: float  # their summed GPU time
    in_nvtx_range: int  # inside an NVTX range on the launching thread (or its graph node's capture)
    on_layer: int  # inside a range that names a layer (the capture's or this analysis' layer names)
    on_known_layer: int  # ... and that layer is in the layer information (its ONNX nodes are known)
    layers: int  # distinct layer names the kernels were attributed to
    from_graphs: int  # replayed from CUDA graphs (traced at node level)
    graph_unattributed: int  # ... of which no capture-time node provenance was recorded
    graph_level_launches: int  # whole-graph launches traced at graph level
    graph_level_gpu_ms: float


@dataclass(frozen=True)
class Summary:
    layer_count: int
    layer_detail: str  # detailed | oneline | legacy_log | names
    layer_kinds: dict[str, int]  # LayerKind -> layers; sums to layer_count
    fused_layer_count: int  # layers of kind fused
    myelin_layer_count: int
    myelin_region_count: int
    reformat: ReformatCost
    total_ms: float | None  # sum of per-layer mean times; None without a profile
    profile_iterations: int | None
    has_onnx: bool
    coverage: CoverageSummary
    op_type_attribution: str  # Attribution used for per-node / per-op-type time
    end_to_end: EndToEnd | None
    kernels: KernelSummary | None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def reformat_layer_count(self) -> int:
        return self.reformat.count

    @property
    def onnx_node_count(self) -> int | None:
        return self.coverage.onnx_node_count if self.has_onnx else None

    @property
    def fusion_coverage(self) -> float | None:
        """Exact coverage (an ONNX model was given); see ``fusion_coverage_estimate`` otherwise."""
        return self.coverage.fusion_coverage if self.coverage.exact else None

    @property
    def fusion_coverage_estimate(self) -> float | None:
        return self.coverage.fusion_coverage if not self.coverage.exact else None

    @property
    def has_profile(self) -> bool:
        return self.total_ms is not None


def as_dict(obj: Any) -> Any:
    """A summary dataclass as plain dicts (properties not included), for JSON."""
    return dataclasses.asdict(obj)
