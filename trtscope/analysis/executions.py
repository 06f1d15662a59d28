"""Layer executions: the kernels of one invocation of one layer, as one interval on the GPU timeline.

A capture (or an nsys import) knows which layer each kernel ran for; an *execution* is a run of consecutive
kernels on one stream that belong to the same layer and the same enclosing NVTX range instance (one
enqueue of that layer). Exports draw one range per execution and Nsight Compute targets them by count
(``kernels`` per execution), so the grouping is done once, here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Columns of :func:`layer_executions`.
EXECUTION_COLUMNS = (
    "layer_index", "layer_name", "device_id", "stream_id", "nvtx_range_id", "start_ns", "end_ns", "kernels",
    "first_kernel", "ordinal",
)


def _int_col(df: pd.DataFrame, name: str, fill: int) -> np.ndarray:
    if name not in df.columns:
        return np.full(len(df), fill, dtype=np.int64)
    v = pd.to_numeric(df[name], errors="coerce")
    return v.fillna(fill).to_numpy(dtype=np.int64)


def layer_executions(kernels: pd.DataFrame) -> pd.DataFrame:
    """One row per layer execution, in time order.

    Columns: ``layer_index`` (Int64; NA where the kernel table names a layer the layer information lacks),
    ``layer_name``, ``device_id`` / ``stream_id`` (-1 unknown), ``nvtx_range_id`` (Int64), ``start_ns`` /
    ``end_ns`` (first kernel start, last kernel end), ``kernels`` (count), ``first_kernel`` (row position of
    its first kernel in ``kernels``), ``ordinal`` (0-based count of earlier executions of the same layer).
    Kernels without a layer belong to no execution.
    """
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in EXECUTION_COLUMNS})
    n = len(kernels)
    if n == 0 or "layer_name" not in kernels.columns:
        return empty
    start = pd.to_numeric(kernels["start_ns"], errors="coerce")
    names = kernels["layer_name"].astype(object)
    idx = (pd.to_numeric(kernels["layer_index"], errors="coerce") if "layer_index" in kernels.columns
           else pd.Series(np.nan, index=kernels.index))
    named = (names.notna() | idx.notna()).to_numpy() & start.notna().to_numpy()
    rows = np.nonzero(named)[0]
    if not len(rows):
        return empty
    s = start.to_numpy(dtype="float64")[rows].astype(np.int64)
    e = pd.to_numeric(kernels["end_ns"], errors="coerce").to_numpy(dtype="float64")[rows]
    e = np.where(np.isfinite(e), e, s).astype(np.int64)
    e = np.maximum(e, s)
    # layer key: the attributed index where there is one (exact when names repeat), else the name
    key_idx = idx.to_numpy(dtype="float64")[rows]
    codes, _ = pd.factorize(names.iloc[rows].where(np.isnan(key_idx)), use_na_sentinel=True)
    key = np.where(np.isnan(key_idx), -2 - codes.astype(np.int64), np.nan_to_num(key_idx).astype(np.int64))
    dev = _int_col(kernels, "device_id", -1)[rows]
    strm = _int_col(kernels, "stream_id", -1)[rows]
    rid = _int_col(kernels, "nvtx_range_id", -1)[rows]
    order = np.lexsort((s, strm, dev))
    brk = np.ones(len(rows), dtype=bool)
    o = order
    brk[1:] = (dev[o][1:] != dev[o][:-1]) | (strm[o][1:] != strm[o][:-1]) | (key[o][1:] != key[o][:-1]) | (
        rid[o][1:] != rid[o][:-1])
    first = np.nonzero(brk)[0]
    lead = rows[o[first]]
    out = pd.DataFrame({
        "layer_index": pd.array([None if np.isnan(x) else int(x) for x in key_idx[o[first]]], dtype="Int64"),
        "layer_name": names.iloc[lead].to_numpy(dtype=object),
        "device_id": dev[o][first],
        "stream_id": strm[o][first],
        "nvtx_range_id": pd.array([None if r < 0 else int(r) for r in rid[o][first]], dtype="Int64"),
        "start_ns": np.minimum.reduceat(s[o], first),
        "end_ns": np.maximum.reduceat(e[o], first),
        "kernels": np.diff(np.append(first, len(rows))),
        "first_kernel": lead,
        "_key": key[o][first],
    })
    out = out.sort_values(["start_ns", "device_id", "stream_id"], kind="stable").reset_index(drop=True)
    out["ordinal"] = out.groupby("_key", sort=False).cumcount().to_numpy(dtype=np.int64)
    return out.drop(columns="_key")[list(EXECUTION_COLUMNS)]


__all__ = ["EXECUTION_COLUMNS", "layer_executions"]
