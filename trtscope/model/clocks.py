"""Mapping one clock onto another through two paired readings (a capture's start and stop)."""

from __future__ import annotations

from typing import Any

import numpy as np


def two_point_map(t: Any, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """Clock x -> clock y through the pairs (x0, y0), (x1, y1): offset plus linear drift.

    The offset stays in int64 (ns near 2**63 keep every digit); the drift term is ``d * (dy - dx) / dx``, computed
    in float64 because the integer product overflows int64 for runs of about an hour at 1 ppm drift — its value is
    small (µs), so float64's relative error costs far less than a nanosecond.
    """
    d = np.asarray(t, dtype=np.int64) - np.int64(x0)
    dx, dy = x1 - x0, y1 - y0
    if dx <= 0:
        return np.int64(y0) + d
    drift = np.rint(d.astype(np.float64) * ((dy - dx) / dx)).astype(np.int64)
    return np.int64(y0) + d + drift
