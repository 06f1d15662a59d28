"""Column contracts of the pandas tables that flow between trtscope's stages.

Parsers produce these tables, the analysis enriches them, views and exporters read them. Keeping the column
names in one place is what lets a parser of a new format (or a capture bundle) plug in without the views
knowing where the data came from. Times are milliseconds (``*_ms``) for TensorRT-level figures and
nanoseconds (``*_ns``) for timeline events, as each source reports them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

# --- engine layers (IEngineInspector / trtexec layer information) ------------------------------------------
#: One row per engine layer, in engine order. ``index`` is the position in that order; names may repeat.
LAYER_COLUMNS: tuple[str, ...] = (
    "index",  # int, engine order
    "name",  # str, exactly as TensorRT wrote it (control bytes included)
    "type",  # LayerType ("CaskConvolution", "kgen", "Reformat", ...); "" when unknown
    "parameter_type",  # ParameterType ("Convolution", ...) or None
    "origin",  # Origin ("REFORMAT", "QDQ") or None
    "tactic",  # TacticName or None
    "tactic_value",  # TacticValue or None
    "stream_id",  # int or None
    "metadata",  # raw Metadata string or None
    "precision",  # output data type(s) of the layer, e.g. "Half" or "Int8+Float"; None when unknown
)

#: One row per tensor of a layer (inputs, outputs and, in TensorRT 10+, constants).
TENSOR_COLUMNS: tuple[str, ...] = (
    "layer_index",
    "direction",  # "input" | "output" | "constant"
    "position",  # order within its direction
    "name",
    "dimensions",  # "1x3x224x224" (-1 = unresolved dynamic dim); "" when unknown
    "format",  # format/layout text as TensorRT wrote it
    "dtype",  # data type ("Float", "Half", "Int8", ...) or None
    "location",  # "Device" / "Host" or None
    "strides",  # "150528x50176x224x1" or None
)

# --- per-layer timing --------------------------------------------------------------------------------------
#: One row per profiled layer (trtexec --exportProfile, IProfiler summary, --dumpProfile table).
PROFILE_COLUMNS: tuple[str, ...] = (
    "name",
    "occurrence",  # k-th appearance of this name (0-based): names can repeat
    "count",  # iterations profiled
    "total_ms",
    "mean_ms",
    "median_ms",  # None where the source had no median
    "percentage",  # as the source reported it (0..100), or None
)

#: Per-iteration, per-layer samples when a capture recorded them (IProfiler callbacks).
LAYER_SAMPLE_COLUMNS: tuple[str, ...] = ("iteration", "name", "occurrence", "ms")

#: One row per timed inference (trtexec --exportTimes or trtscope's own timing run).
ITERATION_COLUMNS: tuple[str, ...] = (
    "iteration",
    "start_ms",  # start of the iteration on the run's clock (ms)
    "latency_ms",  # end-to-end (H2D + compute + D2H where measured)
    "compute_ms",  # GPU compute only
    "h2d_ms",
    "d2h_ms",
    "enqueue_ms",  # host time spent enqueueing
)

# --- ONNX ---------------------------------------------------------------------------------------------------
ONNX_NODE_COLUMNS: tuple[str, ...] = (
    "index",  # position in the graph's node list (topological in valid models)
    "name",
    "op_type",
    "domain",
)

#: The ONNX graph's edges, long format: one row per (node, input or output tensor).
ONNX_EDGE_COLUMNS: tuple[str, ...] = (
    "node_index",
    "direction",  # "input" | "output"
    "position",
    "tensor",
)

# --- timelines (capture bundles, Nsight Systems imports) ---------------------------------------------------
KERNEL_COLUMNS: tuple[str, ...] = (
    "start_ns",
    "end_ns",
    "name",
    "device_id",
    "stream_id",
    "correlation_id",
    "grid_x",
    "grid_y",
    "grid_z",
    "block_x",
    "block_y",
    "block_z",
    "graph_node_id",  # 0 / None when not launched from a CUDA graph
    "pid",
    "tid",  # launching host thread (from the runtime/driver API record)
    "api_start_ns",  # host interval of the launching API call
    "api_end_ns",
    "nvtx_range_id",  # innermost enclosing NVTX range on the launching thread (None: outside any)
    "nvtx_range",  # its text
    "layer_name",  # engine layer the kernel belongs to, when the range names one
)

NVTX_RANGE_COLUMNS: tuple[str, ...] = (
    "range_id",
    "name",
    "domain",
    "start_ns",
    "end_ns",
    "pid",
    "tid",
    "depth",  # 0 = outermost on its thread
    "parent_id",
)

#: One row per CUDA runtime/driver API call (the launches kernels are joined to; a bundle's ``api_calls``).
API_CALL_COLUMNS: tuple[str, ...] = (
    "correlation_id",
    "name",  # e.g. cudaLaunchKernel_v7000, cuLaunchKernelEx, cudaGraphLaunch_v10000
    "kind",  # "runtime" | "driver"
    "cbid",  # CUPTI callback id (None from nsys)
    "pid",
    "tid",
    "start_ns",
    "end_ns",
    "return_value",
)

#: CUDA graph node creation (nsys CUDA_GRAPH_NODE_EVENTS): the capture-time host interval of each node, which
#: is how kernels replayed from a graph are traced back to the NVTX range they were captured in.
GRAPH_NODE_COLUMNS: tuple[str, ...] = (
    "graph_node_id",
    "original_graph_node_id",  # the node this one was cloned from (instantiation), or None
    "pid",
    "tid",  # host thread that created (captured) the node
    "start_ns",
    "end_ns",
    "name",  # API that created it, e.g. cudaLaunchKernel during stream capture
)

NVML_SAMPLE_COLUMNS: tuple[str, ...] = (
    "timestamp_ns",  # on the capture's reference clock
    "gpu_index",
    "gpu_util_pct",
    "mem_util_pct",
    "sm_clock_mhz",
    "mem_clock_mhz",
    "power_w",
    "temperature_c",
    "memory_used_mib",
    "throttle_reasons",  # NVML clocks-event-reason bitmask (int)
)


def object_strings(df: pd.DataFrame) -> pd.DataFrame:
    """Store text columns as Python objects, in pandas 2 and 3 alike.

    pandas 3 infers Arrow-backed strings, whose element-wise access from Python (the name matching this
    tool does per layer and per node) is several times slower; the tables here favour that access.
    """
    for c in df.columns:
        col = df[c]
        if col.dtype != object and pd.api.types.is_string_dtype(col.dtype):
            df[c] = col.astype(object).where(col.notna(), None)  # missing text is None, not NaN
    return df


def empty_frame(columns: Sequence[str]) -> pd.DataFrame:
    """A zero-row table with the given columns (object dtype), so consumers never special-case None."""
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


def frame(rows: Iterable[Sequence[object]], columns: Sequence[str]) -> pd.DataFrame:
    """Build a table from row tuples in ``columns`` order; an empty input gives :func:`empty_frame`."""
    data = [tuple(r) for r in rows]
    if not data:
        return empty_frame(columns)
    return object_strings(pd.DataFrame.from_records(data, columns=list(columns)))


def ensure_columns(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Add any missing contract columns (as None) and put the contract's columns first."""
    for c in columns:
        if c not in df.columns:
            df[c] = None
    extra = [c for c in df.columns if c not in columns]
    return df[list(columns) + extra]
