"""Per-iteration times: ``trtexec --exportTimes`` JSON (one object per timed iteration, all in ms)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trtscope.errors import InputError
from trtscope.model.tables import ITERATION_COLUMNS


def looks_like_times(doc: Any) -> bool:
    if not isinstance(doc, list) or not doc or not isinstance(doc[0], dict):
        return False
    keys = set(doc[0])
    return "latencyMs" in keys or ("computeMs" in keys and "startComputeMs" in keys)


def times_from_json(doc: Any, source: str | Path) -> pd.DataFrame:
    """ITERATION_COLUMNS table; vectorised because long runs export hundreds of thousands of iterations."""
    if not isinstance(doc, list) or not doc:
        raise InputError(source, "not trtexec times (expected a non-empty JSON list of iterations)")
    try:
        raw = pd.DataFrame.from_records(doc)
    except (TypeError, ValueError) as err:
        raise InputError(source, f"not trtexec times ({err})") from err
    if not any(k in raw.columns for k in ("latencyMs", "computeMs")):
        raise InputError(source, "not trtexec times (no latencyMs or computeMs in the records)")

    def col(name: str) -> pd.Series:
        if name in raw.columns:
            return pd.to_numeric(raw[name], errors="coerce")
        return pd.Series(np.nan, index=raw.index)

    start = col("startH2dMs").fillna(col("startComputeMs"))
    latency = col("latencyMs")
    compute = col("computeMs")
    out = pd.DataFrame(
        {
            "iteration": np.arange(len(raw)),
            "start_ms": start,
            "latency_ms": latency.fillna(compute),
            "compute_ms": compute,
            "h2d_ms": col("h2dMs"),
            "d2h_ms": col("d2hMs"),
            "enqueue_ms": col("endEnqMs") - col("startEnqMs"),
        }
    )
    return out[list(ITERATION_COLUMNS)]
