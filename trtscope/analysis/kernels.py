"""Kernels -> engine layers -> ONNX nodes, and per-layer kernel time.

Capture bundles and nsys imports carry kernels already attributed to NVTX ranges (and, when the layer names
were known, to layers); a raw nsys export loaded directly is attributed here. Each kernel then gets its layer's
index and ONNX nodes, and each layer its kernel count and GPU time per execution.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trtscope.analysis.kernel_ranges import assign_layers, map_kernels


def attribute_kernels(
    kernels: pd.DataFrame, ranges: pd.DataFrame, layers: pd.DataFrame, graph_nodes: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Kernels with ``layer_name``, ``layer_index`` and ``onnx_nodes`` (a new frame; empty in, empty out)."""
    if kernels.empty:
        return kernels
    names = layers["name"].tolist()
    k = kernels
    has_ranges = "nvtx_range_id" in k and k["nvtx_range_id"].notna().any()
    has_layers = "layer_name" in k and k["layer_name"].notna().any()
    if not has_ranges and len(ranges):
        k = map_kernels(k, ranges, graph_nodes=graph_nodes, layer_names=names)
    elif has_ranges and not has_layers and names:
        k = assign_layers(k, names, ranges if len(ranges) else None)
    else:
        k = k.copy(deep=False)
    first_index: dict[str, int] = {}
    for i, n in zip(layers["index"].tolist(), names, strict=True):
        first_index.setdefault(n, i)
    if "layer_name" not in k:
        k["layer_name"] = None
    idx = k["layer_name"].map(first_index)
    k["layer_index"] = idx.astype("Int64")
    nodes_by_index = dict(zip(layers["index"].tolist(), layers["onnx_nodes"].tolist(), strict=True))
    empty: list[str] = []
    k["onnx_nodes"] = pd.Series(
        [nodes_by_index.get(i, empty) if i is not None else empty for i in idx.where(idx.notna(), None).tolist()],
        index=k.index, dtype=object,
    )
    return k


def per_layer_kernel_time(kernels: pd.DataFrame, layers: pd.DataFrame) -> pd.DataFrame:
    """``kernel_count``, ``kernel_ms`` (all executions) and ``kernel_ms_per_run`` per layer index.

    A layer's executions are its distinct enclosing NVTX range instances, so a capture of N iterations gives
    the GPU time of one execution, comparable with the profile's mean.
    """
    cols = ["kernel_count", "kernel_ms", "kernel_ms_per_run"]
    if kernels.empty or "layer_index" not in kernels or kernels["layer_index"].isna().all():
        return pd.DataFrame(np.nan, index=layers["index"], columns=cols)
    k = kernels[kernels["layer_index"].notna()]
    dur_ms = (k["end_ns"].astype("float64") - k["start_ns"].astype("float64")) / 1e6
    frame = pd.DataFrame({
        "layer_index": k["layer_index"].astype("int64").to_numpy(),
        "ms": dur_ms.to_numpy(),
        "run": k["nvtx_range_id"].to_numpy() if "nvtx_range_id" in k else np.zeros(len(k)),
    })
    g = frame.groupby("layer_index")
    out = pd.DataFrame({"kernel_count": g.size(), "kernel_ms": g["ms"].sum(), "runs": g["run"].nunique()})
    out["kernel_ms_per_run"] = out["kernel_ms"] / out["runs"].clip(lower=1)
    return out[cols].reindex(layers["index"])
