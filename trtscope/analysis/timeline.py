"""Statistics over a capture's timelines: NVML samples during a layer's kernels, metric series and summary
statistics, kernel busy fraction, a layer's per-iteration time distribution.

Vectorised (``searchsorted``, ``bincount``): a capture holds millions of kernels and samples. The views (TUI
Timeline, layer detail) only format what these return.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from trtscope.model.artifacts import LayerProfile


def layer_samples(prof: LayerProfile | None, layer: pd.Series) -> np.ndarray | None:
    """Per-iteration times (ms, iteration order) of one layer, when the profile kept them."""
    s = prof.samples if prof is not None else None
    if s is None or s.empty:
        return None
    sel = s[s["name"].eq(layer["name"]) & s["occurrence"].eq(layer.get("occurrence", 0))]
    if sel.empty:
        return None
    return pd.to_numeric(sel.sort_values("iteration", kind="stable")["ms"], errors="coerce").dropna().to_numpy()


def distribution(values: np.ndarray) -> dict[str, float]:
    q = np.percentile(values, [50, 90, 99])
    return {
        "count": float(len(values)), "mean": float(values.mean()), "std": float(values.std()),
        "min": float(values.min()), "p50": float(q[0]), "p90": float(q[1]), "p99": float(q[2]),
        "max": float(values.max()),
    }


def histogram(values: np.ndarray, bins: int = 8) -> list[tuple[float, float, int]]:
    """(low, high, count) per bin of equal width over the samples' range."""
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        return [(lo, hi, len(values))]
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    return [(float(edges[i]), float(edges[i + 1]), int(counts[i])) for i in range(len(counts))]


@dataclass
class NvmlWindow:
    """NVML samples taken while a layer's kernels ran; ``how`` says how they were matched."""

    samples: pd.DataFrame
    how: str  # "inside" (timestamp within a kernel) | "nearest" (closest sample, within one period) | ""


def _sorted_nvml(nvml: pd.DataFrame, gpus: set[Any] | None) -> pd.DataFrame:
    s = nvml
    if gpus and s["gpu_index"].nunique() > 1:
        s = s[s["gpu_index"].isin(gpus)]
    s = s[pd.to_numeric(s["timestamp_ns"], errors="coerce").notna()]
    return s.sort_values("timestamp_ns", kind="stable").reset_index(drop=True)


def nvml_during(nvml: pd.DataFrame, kernels: pd.DataFrame) -> NvmlWindow:
    """NVML samples whose timestamp falls inside one of ``kernels`` (vectorised with ``searchsorted``).

    Kernels last microseconds and NVML samples come every few milliseconds, so often none falls inside;
    then the sample nearest each kernel (at most one sampling period away) is taken, and ``how`` says so.
    Several GPUs: only the kernels' devices (CUDA device id taken as NVML index).
    """
    empty = NvmlWindow(nvml.iloc[0:0], "")
    if nvml.empty or kernels.empty:
        return empty
    gpus = set(kernels["device_id"].dropna().tolist()) if "device_id" in kernels else None
    s = _sorted_nvml(nvml, gpus)
    if s.empty:
        return empty
    ts = s["timestamp_ns"].astype("int64").to_numpy()
    k = kernels[pd.to_numeric(kernels["start_ns"], errors="coerce").notna()
                & pd.to_numeric(kernels["end_ns"], errors="coerce").notna()]
    starts = k["start_ns"].astype("int64").to_numpy()
    ends = k["end_ns"].astype("int64").to_numpy()
    lo = np.searchsorted(ts, starts, side="left")
    hi = np.searchsorted(ts, ends, side="right")
    counts = np.maximum(hi - lo, 0)
    if counts.sum():
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        idx = np.unique(np.repeat(lo, counts) + offsets)
        return NvmlWindow(s.iloc[idx].reset_index(drop=True), "inside")
    if len(ts) < 2:
        return empty
    period = float(np.median(np.diff(ts)))
    mids = (starts + (ends - starts) // 2).astype("int64")
    pos = np.clip(np.searchsorted(ts, mids), 1, len(ts) - 1)
    before, after = ts[pos - 1], ts[pos]
    nearest = np.where(mids - before <= after - mids, pos - 1, pos)
    ok = np.abs(ts[nearest] - mids) <= period
    idx = np.unique(nearest[ok])
    if not len(idx):
        return empty
    return NvmlWindow(s.iloc[idx].reset_index(drop=True), "nearest")


def metric_stats(values: pd.Series) -> dict[str, float] | None:
    v = pd.to_numeric(values, errors="coerce").dropna()
    if v.empty:
        return None
    return {"min": float(v.min()), "mean": float(v.mean()), "max": float(v.max()), "count": float(len(v))}


def gpu_indices(nvml: pd.DataFrame) -> list[Any]:
    return sorted(nvml["gpu_index"].dropna().unique().tolist()) if not nvml.empty else []


def nvml_series(nvml: pd.DataFrame, gpu: Any, metric: str, points: int = 512,
                window: tuple[float, float] | None = None) -> tuple[np.ndarray, float]:
    """One GPU's metric over time, averaged into at most ``points`` equal time buckets (empty buckets carry
    the previous value), and the span covered in seconds. ``window`` (ns): exactly ``points`` buckets over
    [start, end) instead of over the samples' own span (so tracks of several sources line up); a bucket
    without a sample there carries the value of the last sample before it."""
    s = nvml[nvml["gpu_index"].eq(gpu)] if gpu is not None else nvml
    t = pd.to_numeric(s["timestamp_ns"], errors="coerce").to_numpy(dtype=float)
    v = pd.to_numeric(s[metric], errors="coerce").to_numpy(dtype=float)
    ok = ~(np.isnan(t) | np.isnan(v))
    t, v = t[ok], v[ok]
    if not len(t):
        return np.zeros(0), 0.0
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    if window is not None:
        return _window_series(t, v, window, points), float(window[1] - window[0]) / 1e9
    span = float(t[-1] - t[0]) / 1e9
    n = min(points, len(v))
    if n == len(v):
        return v, span
    edges = np.linspace(t[0], t[-1], n + 1)
    b = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, n - 1)
    sums = np.bincount(b, weights=v, minlength=n)
    cnt = np.bincount(b, minlength=n)
    out = pd.Series(np.where(cnt > 0, sums / np.maximum(cnt, 1), np.nan)).ffill().bfill().to_numpy()
    return out, span


def _window_series(t: np.ndarray, v: np.ndarray, window: tuple[float, float], points: int) -> np.ndarray:
    """Mean of the samples in each of ``points`` buckets over ``window``; empty buckets take the last sample
    at or before their start (NaN before the first sample)."""
    t0, t1 = window
    if points <= 0 or t1 <= t0:
        return np.zeros(0)
    edges = np.linspace(t0, t1, points + 1)
    inside = (t >= t0) & (t < t1)
    b = np.clip(np.searchsorted(edges, t[inside], side="right") - 1, 0, points - 1)
    sums = np.bincount(b, weights=v[inside], minlength=points)
    cnt = np.bincount(b, minlength=points)
    before = np.searchsorted(t, edges[:-1], side="right") - 1  # last sample at or before each bucket start
    carried = np.where(before >= 0, v[np.maximum(before, 0)], np.nan)
    return np.where(cnt > 0, sums / np.maximum(cnt, 1), carried)


def kernel_busy(kernels: pd.DataFrame, t0_ns: float, t1_ns: float, points: int) -> np.ndarray:
    """Fraction of each of ``points`` equal time buckets covered by kernels (overlaps add up, capped at 1).

    Kernel time before x is C(x) = sum(e_i for e_i < x) + x*(#(s_i < x) - #(e_i < x)) - sum(s_i for s_i < x);
    with sorted starts and ends and their prefix sums that is two ``searchsorted`` calls, no loop.
    """
    if kernels.empty or t1_ns <= t0_ns or points <= 0:
        return np.zeros(0)
    s = pd.to_numeric(kernels["start_ns"], errors="coerce").to_numpy(dtype=float)
    e = pd.to_numeric(kernels["end_ns"], errors="coerce").to_numpy(dtype=float)
    ok = ~(np.isnan(s) | np.isnan(e))
    s, e = np.sort(s[ok] - t0_ns), np.sort(e[ok] - t0_ns)
    cs, ce = np.concatenate([[0.0], np.cumsum(s)]), np.concatenate([[0.0], np.cumsum(e)])
    x = np.linspace(0.0, t1_ns - t0_ns, points + 1)
    na, nb = np.searchsorted(s, x, side="left"), np.searchsorted(e, x, side="left")
    covered = ce[nb] + x * (na - nb) - cs[na]
    return np.clip(np.diff(covered) / (x[1] - x[0]), 0.0, 1.0)
