"""Per-iteration times: ``trtexec --exportTimes`` JSON (one object per timed iteration, all in ms).

Durations (latency, compute, H2D, D2H, enqueue) must be finite and non-negative; an iteration's bad value is
left out (NaN) with a warning naming the file and the iterations. Start timestamps must be finite. A file in
which no iteration has a usable latency or compute time is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trtscope.errors import InputError
from trtscope.model.tables import ITERATION_COLUMNS
from trtscope.parsers.values import MAX_TIMESTAMP_MS, checked, listing, numbers

#: More iterations than this is not a trtexec run (a million iterations export to about 250 MB).
MAX_ITERATIONS = 20_000_000


def looks_like_times(doc: Any) -> bool:
    if not isinstance(doc, list) or not doc or not isinstance(doc[0], dict):
        return False
    keys = set(doc[0])
    return "latencyMs" in keys or ("computeMs" in keys and "startComputeMs" in keys)


def times_from_json(doc: Any, source: str | Path, warnings: list[str] | None = None) -> pd.DataFrame:
    """ITERATION_COLUMNS table; vectorised because long runs export hundreds of thousands of iterations."""
    if not isinstance(doc, list) or not doc:
        raise InputError(source, "not trtexec times (expected a non-empty JSON list of iterations)")
    if len(doc) > MAX_ITERATIONS:
        raise InputError(source, f"{len(doc):,} iterations, more than the {MAX_ITERATIONS:,} trtscope accepts")
    bad_rec = next((i for i, rec in enumerate(doc) if not isinstance(rec, dict)), None)
    if bad_rec is not None:
        raise InputError(source, f"iteration {bad_rec} is a {type(doc[bad_rec]).__name__}, not an object")
    if not any("latencyMs" in rec or "computeMs" in rec for rec in doc[:100]):
        raise InputError(source, "not trtexec times (no latencyMs or computeMs in the records)")

    def col(name: str) -> np.ndarray:
        return numbers([rec.get(name) for rec in doc])

    bad_any = np.zeros(len(doc), dtype=bool)

    def duration(values: np.ndarray) -> np.ndarray:
        out, bad = checked(values)
        bad_any[:] |= bad
        return out

    def stamp(name: str) -> np.ndarray:
        out, bad = checked(col(name), lo=-MAX_TIMESTAMP_MS, hi=MAX_TIMESTAMP_MS)
        bad_any[:] |= bad
        return out

    latency, bad_latency = checked(col("latencyMs"))
    bad_any |= bad_latency
    compute = duration(col("computeMs"))
    start = stamp("startH2dMs")
    start = np.where(np.isnan(start), stamp("startComputeMs"), start)
    enqueue = duration(stamp("endEnqMs") - stamp("startEnqMs"))
    out = pd.DataFrame(
        {
            "iteration": np.arange(len(doc)),
            "start_ms": start,
            # older trtexec has no latencyMs: compute time stands in (not for an invalid latency)
            "latency_ms": np.where(np.isnan(latency) & ~bad_latency, compute, latency),
            "compute_ms": compute,
            "h2d_ms": duration(col("h2dMs")),
            "d2h_ms": duration(col("d2hMs")),
            "enqueue_ms": enqueue,
        }
    )
    if out["latency_ms"].isna().all():
        raise InputError(source, "no iteration has a usable latencyMs or computeMs (negative, not finite or absent)")
    if bad_any.any() and warnings is not None:
        labels = [f"#{i}" for i in range(len(doc))]
        warnings.append(f"{source}: {listing(labels, bad_any).replace('record', 'iteration')} with negative, "
                        "non-finite or absurd values; those values are left out")
    return out[list(ITERATION_COLUMNS)]
