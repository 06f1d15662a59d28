"""Kernels -> engine layers -> ONNX nodes; per-layer kernel time; kernel rollups; NVTX range -> layer.

Capture bundles and nsys imports carry kernels already attributed to NVTX ranges (and, when the layer names
were known, to layers); a raw nsys export loaded directly is attributed here. Each kernel then gets its layer's
index and ONNX nodes, each layer its kernel count and GPU time per execution, and each NVTX range its kind and
the layer it names — computed once here, so the report, the TUI and the trace exporter agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trtscope.analysis.kernel_ranges import (
    TRTSCOPE_DOMAIN,
    LayerMatcher,
    assign_layers,
    attribution_counts,
    map_kernels,
)
from trtscope.model.outputs import KERNEL_ROLLUP, KERNEL_TOTALS
from trtscope.model.summary import KernelSummary
from trtscope.model.vocabulary import RangeKind


def attribute_kernels(
    kernels: pd.DataFrame, ranges: pd.DataFrame, layers: pd.DataFrame, graph_nodes: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Kernels with ``layer_name``, ``layer_index`` and ``onnx_nodes`` (a new frame; empty in, empty out).

    A layer name that repeats in the engine is resolved to its first layer of that name.
    """
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


def _durations_ms(k: pd.DataFrame) -> np.ndarray:
    return (pd.to_numeric(k["end_ns"], errors="coerce").to_numpy(dtype="float64")
            - pd.to_numeric(k["start_ns"], errors="coerce").to_numpy(dtype="float64")) / 1e6


def _kernel_rows(kernels: pd.DataFrame) -> pd.DataFrame:
    """Rows that are kernels (whole-graph launches traced at graph level are not)."""
    if "graph_level" not in kernels:
        return kernels
    return kernels[~kernels["graph_level"].fillna(False).astype(bool).to_numpy()]


def per_layer_kernel_time(kernels: pd.DataFrame, layers: pd.DataFrame) -> pd.DataFrame:
    """``kernel_count``, ``kernel_ms`` (all executions) and ``kernel_ms_per_run`` per layer index.

    A layer's executions are its distinct enclosing NVTX range instances, so a capture of N iterations gives
    the GPU time of one execution, comparable with the profile's mean.
    """
    cols = ["kernel_count", "kernel_ms", "kernel_ms_per_run"]
    if kernels.empty or "layer_index" not in kernels or kernels["layer_index"].isna().all():
        return pd.DataFrame(np.nan, index=layers["index"], columns=cols)
    k = _kernel_rows(kernels)
    k = k[k["layer_index"].notna()]
    frame = pd.DataFrame({
        "layer_index": k["layer_index"].astype("int64").to_numpy(),
        "ms": _durations_ms(k),
        "run": k["nvtx_range_id"].to_numpy() if "nvtx_range_id" in k else np.zeros(len(k)),
    })
    g = frame.groupby("layer_index")
    out = pd.DataFrame({"kernel_count": g.size(), "kernel_ms": g["ms"].sum(), "runs": g["run"].nunique()})
    out["kernel_ms_per_run"] = out["kernel_ms"] / out["runs"].clip(lower=1)
    return out[cols].reindex(layers["index"])


def kernel_summary(kernels: pd.DataFrame) -> KernelSummary | None:
    """The kernel counts every view shows (None without kernels)."""
    if kernels.empty:
        return None
    c = attribution_counts(kernels)
    k = _kernel_rows(kernels)
    known = int(k["layer_index"].notna().sum()) if "layer_index" in k else 0
    return KernelSummary(
        count=c["kernels"],
        gpu_ms=c["kernel_gpu_ns"] / 1e6,
        in_nvtx_range=c["kernels_in_range"],
        on_layer=c["kernels_on_layer"],
        on_known_layer=known,
        layers=int(k["layer_name"].nunique()) if "layer_name" in k else 0,
        from_graphs=c["kernels_from_graphs"],
        graph_unattributed=c["kernels_graph_unattributed"],
        graph_level_launches=c["graph_level_launches"],
        graph_level_gpu_ms=c["graph_level_gpu_ns"] / 1e6,
    )


KERNEL_ROLLUP_COLUMNS = tuple(KERNEL_ROLLUP.names)


def kernel_rollup(kernels: pd.DataFrame) -> pd.DataFrame:
    """Kernel launches grouped by (kernel name, engine layer, innermost NVTX range), by total GPU time.

    ``share`` is of all kernels' GPU time; ``onnx_nodes`` are the layer's. Graph-level launches are left out
    (they are counted in the kernel summary).
    """
    cols = list(KERNEL_ROLLUP_COLUMNS)
    k = _kernel_rows(kernels)
    if k.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})

    def text(col: str) -> pd.Series:
        s = k[col].astype(object) if col in k else pd.Series([None] * len(k), index=k.index, dtype=object)
        return s.where(s.notna(), "\x00")  # missing values group together; restored to None below

    frame = pd.DataFrame({
        "kernel": text("name").to_numpy(), "layer_name": text("layer_name").to_numpy(),
        "nvtx_range": text("nvtx_range").to_numpy(),
        "layer_index": k["layer_index"].fillna(-1).astype("int64").to_numpy() if "layer_index" in k
        else np.full(len(k), -1), "ms": _durations_ms(k),
    })
    g = frame.groupby(["kernel", "layer_index", "layer_name", "nvtx_range"], sort=False)["ms"]
    out = g.agg(["size", "sum"]).reset_index().rename(columns={"size": "launches", "sum": "total_ms"})
    out["mean_us"] = 1000.0 * out["total_ms"] / out["launches"]
    total = float(np.nansum(frame["ms"].to_numpy()))
    out["share"] = out["total_ms"] / total if total > 0 else np.nan
    for c in ("kernel", "layer_name", "nvtx_range"):
        out[c] = out[c].astype(object).where(out[c].ne("\x00"), None)
    nodes: dict[int, list[str]] = {}
    if "onnx_nodes" in k and "layer_index" in k:
        li = k["layer_index"]
        for i, n in zip(li[li.notna()].astype("int64").tolist(), k.loc[li.notna(), "onnx_nodes"].tolist(),
                        strict=True):
            nodes.setdefault(i, list(n) if isinstance(n, (list, tuple, np.ndarray)) else [])
    out["onnx_nodes"] = pd.Series([nodes.get(i, []) for i in out["layer_index"].tolist()], dtype=object)
    out["layer_index"] = out["layer_index"].astype("Int64").where(out["layer_index"] >= 0, pd.NA)
    out = out.sort_values(["total_ms", "launches"], ascending=[False, False], kind="stable").reset_index(drop=True)
    return out[cols]


def kernel_totals(rollup: pd.DataFrame) -> pd.DataFrame:
    """``kernel_rollup`` grouped by kernel name alone: ``kernel``, ``launches``, ``total_ms``, ``mean_us``,
    ``share``, ``n_layers`` and ``layer_names`` (by the kernel's time in each layer, largest first), by total GPU
    time. Why: one kernel (a GEMM, an elementwise kernel) serves many layers; its whole cost is one question."""
    cols = list(KERNEL_TOTALS.names)
    if rollup.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})
    r = rollup.assign(_k=rollup["kernel"].astype(object).where(rollup["kernel"].notna(), "\x00"))
    g = r.groupby("_k", sort=False)
    out = pd.DataFrame({"launches": g["launches"].sum(), "total_ms": g["total_ms"].sum(), "share": g["share"].sum()})
    names: dict[str, list[str]] = {}
    for k, layer in zip(r["_k"].tolist(), r["layer_name"].tolist(), strict=True):  # rollup is by time already
        seen = names.setdefault(k, [])
        if isinstance(layer, str) and layer and layer not in seen:
            seen.append(layer)
    out["layer_names"] = pd.Series([names.get(k, []) for k in out.index], index=out.index, dtype=object)
    out["n_layers"] = [len(v) for v in out["layer_names"].tolist()]
    out["mean_us"] = 1000.0 * out["total_ms"] / out["launches"]
    out = out.reset_index().rename(columns={"_k": "kernel"})
    out["kernel"] = out["kernel"].astype(object).where(out["kernel"].ne("\x00"), None)
    out = out.sort_values(["total_ms", "launches"], ascending=[False, False], kind="stable").reset_index(drop=True)
    return out[cols]


def time_by(kernels: pd.DataFrame, column: str, n: int = 10) -> pd.DataFrame:
    """GPU time per value of ``column`` (e.g. nvtx_range, layer_name) over kernel rows, largest first:
    ``name``, ``kernels``, ``gpu_ms`` (top ``n``)."""
    k = _kernel_rows(kernels)
    if column not in k or k.empty:
        return pd.DataFrame({"name": pd.Series([], dtype=object), "kernels": pd.Series([], dtype="int64"),
                             "gpu_ms": pd.Series([], dtype="float64")})
    k = k[k[column].notna()]
    g = pd.Series(_durations_ms(k), index=k.index).groupby(k[column].astype(object)).agg(["sum", "count"])
    g = g.sort_values("sum", ascending=False, kind="stable").head(n)
    return pd.DataFrame({"name": [str(x) for x in g.index], "kernels": g["count"].astype("int64").to_numpy(),
                         "gpu_ms": g["sum"].to_numpy(dtype="float64")})


#: Columns the analysis adds to the NVTX range table.
NVTX_ANALYSIS_COLUMNS = ("range_kind", "layer_index")


def classify_ranges(ranges: pd.DataFrame, layers: pd.DataFrame) -> pd.DataFrame:
    """The NVTX ranges with ``range_kind`` (RangeKind: trtscope's own, a TensorRT layer range, other) and
    ``layer_index`` (the engine layer the range names, first of that name; NA otherwise). A new frame."""
    out = ranges.copy(deep=False)
    n = len(out)
    names = out["name"].astype(object) if "name" in out else pd.Series([None] * n, dtype=object)
    domain = out["domain"].astype(object) if "domain" in out else pd.Series([None] * n, dtype=object)
    own = domain.eq(TRTSCOPE_DOMAIN).to_numpy(dtype=bool)
    pos = np.full(n, -1, dtype=np.int64)
    if n and len(layers):
        matcher = LayerMatcher(layers["name"].astype(object).tolist())
        candidates = pd.unique(names[~own & names.notna().to_numpy()])
        matched = names.map(matcher.map_texts(candidates))
        first: dict[str, int] = {}
        for i, nm in zip(layers["index"].tolist(), layers["name"].tolist(), strict=True):
            first.setdefault(nm, i)
        pos = np.array(matched.map(first).fillna(-1).astype("int64").to_numpy(), dtype=np.int64)
        pos[own] = -1
    kind = np.where(own, RangeKind.TRTSCOPE.value, np.where(pos >= 0, RangeKind.LAYER.value, RangeKind.OTHER.value))
    out["range_kind"] = pd.Series(kind, index=out.index, dtype=object)
    out["layer_index"] = pd.array(np.where(pos >= 0, pos, 0), dtype="Int64")
    out.loc[pos < 0, "layer_index"] = pd.NA
    return out
