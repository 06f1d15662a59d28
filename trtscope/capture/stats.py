"""Timing statistics and per-layer aggregation of a capture (pure functions, no GPU).

The raw forms follow trtexec (``--exportTimes``, ``--exportProfile``) so every reader of trtexec artifacts
reads a trtscope bundle's raw files too. Iteration times stay on the run clock (CLOCK_MONOTONIC, in ms).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from trtscope.capture.backend import LaunchTiming
from trtscope.model.tables import ITERATION_COLUMNS, LAYER_SAMPLE_COLUMNS, PROFILE_COLUMNS, frame

PERCENTILES = (50, 90, 95, 99)


def latency_summary(values_ms: Sequence[float]) -> dict[str, Any]:
    """min/max/mean/median/std and percentiles (numpy's linear interpolation), in ms."""
    a = np.asarray([v for v in values_ms if v is not None], dtype=float)
    if a.size == 0:
        return {"count": 0}
    out: dict[str, Any] = {
        "count": int(a.size),
        "min": float(a.min()),
        "max": float(a.max()),
        "mean": float(a.mean()),
        "median": float(np.median(a)),
        "std": float(a.std(ddof=0)),
    }
    for p in PERCENTILES:
        out[f"p{p}"] = float(np.percentile(a, p))
    return out


def iterations_table(timings: Sequence[LaunchTiming]) -> pd.DataFrame:
    """ITERATION_COLUMNS: latency = host time from enqueue to stream completion, compute = CUDA events."""
    rows = [
        (
            i,
            t.enqueue_start_ns / 1e6,
            (t.end_ns - t.enqueue_start_ns) / 1e6,
            t.gpu_ms,
            None,  # no host<->device transfers are timed (as trtexec --noDataTransfers)
            None,
            (t.enqueue_end_ns - t.enqueue_start_ns) / 1e6,
        )
        for i, t in enumerate(timings)
    ]
    return frame(rows, ITERATION_COLUMNS)


def export_times(timings: Sequence[LaunchTiming]) -> list[dict[str, float]]:
    """trtexec ``--exportTimes`` records (ms on the run clock; zero-length transfers)."""
    out = []
    for t in timings:
        start = t.enqueue_start_ns / 1e6
        compute = float(t.gpu_ms) if t.gpu_ms is not None else (t.end_ns - t.enqueue_start_ns) / 1e6
        end_compute = start + compute
        out.append(
            {
                "startEnqMs": start,
                "endEnqMs": t.enqueue_end_ns / 1e6,
                "startH2dMs": start,
                "endH2dMs": start,
                "startComputeMs": start,
                "endComputeMs": end_compute,
                "startD2hMs": end_compute,
                "endD2hMs": end_compute,
                "h2dMs": 0.0,
                "computeMs": compute,
                "d2hMs": 0.0,
                "latencyMs": (t.end_ns - t.enqueue_start_ns) / 1e6,
            }
        )
    return out


def layer_samples_table(launches: Sequence[Sequence[tuple[str, float]]]) -> pd.DataFrame:
    """LAYER_SAMPLE_COLUMNS from each profiled launch's IProfiler callbacks; ``occurrence`` numbers repeats of
    a name within one launch (layer names can repeat)."""
    rows = []
    for it, calls in enumerate(launches):
        seen: dict[str, int] = {}
        for name, ms in calls:
            k = seen.get(name, 0)
            seen[name] = k + 1
            rows.append((it, name, k, float(ms)))
    return frame(rows, LAYER_SAMPLE_COLUMNS)


def layer_times_table(samples: pd.DataFrame) -> pd.DataFrame:
    """PROFILE_COLUMNS per (name, occurrence), in first-reported order; percentage of the sum of totals."""
    if len(samples) == 0:
        return frame([], PROFILE_COLUMNS)
    g = samples.groupby(["name", "occurrence"], sort=False)["ms"]
    t = pd.DataFrame({"count": g.size(), "total_ms": g.sum(), "median_ms": g.median()}).reset_index()
    t["mean_ms"] = t["total_ms"] / t["count"]
    total = float(t["total_ms"].sum())
    t["percentage"] = t["total_ms"] / total * 100.0 if total > 0 else 0.0
    t["count"] = t["count"].astype("int64")
    t["occurrence"] = t["occurrence"].astype("int64")
    return t[list(PROFILE_COLUMNS)]


def export_profile(layer_times: pd.DataFrame, count: int) -> list[dict[str, Any]]:
    """trtexec ``--exportProfile``: ``[{"count": N}, {name, timeMs, averageMs, medianMs, percentage}...]``"""
    doc: list[dict[str, Any]] = [{"count": int(count)}]
    cols = ("name", "total_ms", "mean_ms", "median_ms", "percentage")
    for name, total, mean, median, pct in zip(*(layer_times[c].tolist() for c in cols), strict=True):
        doc.append(
            {
                "name": name,
                "timeMs": float(total),
                "averageMs": float(mean),
                "medianMs": float(median),
                "percentage": float(pct),
            }
        )
    return doc


def profiling_perturbation(
    clean_gpu_ms: Sequence[float | None], profiled_gpu_ms: Sequence[float | None], layer_sum_ms: float | None
) -> dict[str, Any]:
    """How much attaching the profiler changed the GPU time of one inference (medians), and how the sum of
    per-layer times compares with the clean latency (overlap on aux streams makes it larger)."""
    clean = latency_summary([v for v in clean_gpu_ms if v is not None])
    prof = latency_summary([v for v in profiled_gpu_ms if v is not None])
    out: dict[str, Any] = {"clean_median_ms": clean.get("median"), "profiled_median_ms": prof.get("median")}
    if clean.get("median") and prof.get("median") is not None:
        out["overhead_pct"] = (prof["median"] / clean["median"] - 1.0) * 100.0
    if clean.get("median") and layer_sum_ms is not None:
        out["layer_sum_over_clean_pct"] = (layer_sum_ms / clean["median"] - 1.0) * 100.0
    return out
