"""The parsed, source-independent form of everything trtscope reads.

Parsers (``trtscope.parsers``), the capture bundle reader and the Nsight Systems importer all produce these
objects; the analysis consumes only these. None of them knows which file format it came from beyond the
``source`` path kept for messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from trtscope.model.tables import (
    KERNEL_COLUMNS,
    NVML_SAMPLE_COLUMNS,
    NVTX_RANGE_COLUMNS,
    empty_frame,
)
from trtscope.model.tensors import tensors_from_entries

#: How much detail a layer listing carries; "names" means names only (LAYER_NAMES_ONLY or profile-only).
LayerDetail = str  # "detailed" | "oneline" | "legacy_log" | "names"


@dataclass
class LayerInfo:
    """Engine layers as TensorRT described them."""

    layers: pd.DataFrame  # LAYER_COLUMNS
    bindings: list[str]
    detail: LayerDetail
    source: str
    #: Raw per-layer dicts (every key TensorRT wrote, unknown ones included); empty for names-only input.
    raw: list[dict[str, Any]] = field(default_factory=list)
    #: ``{ForeignNode[...]}`` name -> ONNX node names, from a verbose build log's "ForeignNode ... metadata:"
    foreign_nodes: dict[str, list[str]] = field(default_factory=dict)
    #: Layers dropped while reading (other optimization profiles), for the report's notes.
    dropped_profiles: int = 0
    _tensors: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def tensors(self) -> pd.DataFrame:
        """TENSOR_COLUMNS for every layer; built on first use from ``raw``."""
        if self._tensors is None:
            self._tensors = tensors_from_entries(self.raw)
        return self._tensors


@dataclass
class LayerProfile:
    """Per-layer times (trtexec --exportProfile, IProfiler, --dumpProfile)."""

    times: pd.DataFrame  # PROFILE_COLUMNS
    count: int | None
    source: str
    samples: pd.DataFrame | None = None  # LAYER_SAMPLE_COLUMNS, when per-iteration values exist


@dataclass
class OnnxGraph:
    """The ONNX model's node graph (no weights)."""

    nodes: pd.DataFrame  # ONNX_NODE_COLUMNS
    initializers: frozenset[str]
    inputs: list[str]
    outputs: list[str]
    source: str
    producer: str = ""
    opset: int | None = None
    #: the edges, or how to read them: most analyses never need them, and decoding every tensor name of a
    #: 100,000-node graph costs as much as the rest of the graph together
    edge_table: pd.DataFrame | None = None
    edge_loader: Callable[[], pd.DataFrame] | None = field(default=None, repr=False)
    #: what the reader normalised (duplicate node names), for the report's warnings
    warnings: list[str] = field(default_factory=list)

    @property
    def edges(self) -> pd.DataFrame:
        """ONNX_EDGE_COLUMNS: one row per (node, input or output tensor)."""
        if self.edge_table is None:
            if self.edge_loader is None:
                raise ValueError("this ONNX graph was read without its edges")
            self.edge_table = self.edge_loader()
        return self.edge_table


@dataclass
class SourceFile:
    """One input file and what trtscope recognised in it."""

    path: str
    kind: str  # layer_info | profile | times | onnx | log | bundle | nsys | build_metadata | profile_metadata
    detail: str = ""


@dataclass
class Artifacts:
    """Everything loaded for one engine, before analysis."""

    layer_info: LayerInfo | None = None
    profile: LayerProfile | None = None
    iterations: pd.DataFrame | None = None  # ITERATION_COLUMNS
    iterations_source: str | None = None
    onnx: OnnxGraph | None = None
    kernels: pd.DataFrame = field(default_factory=lambda: empty_frame(KERNEL_COLUMNS))
    nvtx_ranges: pd.DataFrame = field(default_factory=lambda: empty_frame(NVTX_RANGE_COLUMNS))
    nvml: pd.DataFrame = field(default_factory=lambda: empty_frame(NVML_SAMPLE_COLUMNS))
    #: CUDA graph node creation records (capture-time host interval per node), for kernels of graph replays
    graph_nodes: pd.DataFrame | None = None
    #: Free-form facts about the run: tensorrt_version, gpu, precision, trtexec command line, notes...
    metadata: dict[str, Any] = field(default_factory=dict)
    sources: list[SourceFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
