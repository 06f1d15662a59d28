"""Numbers read from artifacts, checked before anything adds them up.

A time that is negative, not finite, absurdly large or not a number at all (a string, a list, ``true``, a
400-digit integer) is never taken as it is: the readers drop it (the record then has no time) and say so in a
warning naming the file and the records, or refuse the file where the value is the file's whole point. The
rules per field are listed in docs/inputs.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from trtscope.errors import InputError

#: A per-layer or per-iteration time above this (ms; about 11.6 days) is not a measurement.
MAX_MS = 1e9
#: Start timestamps (ms on a run's clock) beyond this are not timestamps.
MAX_TIMESTAMP_MS = 1e13
#: Profiled iteration counts above this are not counts (trtexec's run would have taken centuries).
MAX_COUNT = 10**12
#: a kernel lasting longer than this (about 11.6 days) is not a measurement
MAX_KERNEL_NS = 10**15
_BAD = -math.inf  # marks an invalid value inside a float array (negative infinity is invalid anyway)
_FAST_TYPES = frozenset({int, float, type(None)})


def _one(v: object) -> float:
    """A JSON / text value -> float; None -> NaN (absent); anything that is not a number -> ``_BAD``."""
    if isinstance(v, bool):
        return _BAD
    if isinstance(v, float):
        return _BAD if math.isnan(v) else v
    if isinstance(v, int):
        return float(v) if abs(v) < 10**18 else _BAD
    if v is None:
        return math.nan
    if isinstance(v, str) and len(v) <= 64:
        try:
            f = float(v)
        except ValueError:
            return _BAD
        return _BAD if math.isnan(f) else f
    return _BAD  # lists, dicts, long strings


def numbers(values: Sequence[object]) -> np.ndarray:
    """float64 array: NaN where a value is absent (None), -inf where it is not a usable number."""
    if set(map(type, values)) <= _FAST_TYPES:
        try:
            arr = np.array(values, dtype=np.float64)
        except (OverflowError, ValueError, TypeError):
            pass
        else:
            nan = np.isnan(arr)
            if nan.any():  # NaN written in the file is invalid; NaN from None is an absent value
                arr[nan & (np.asarray(values, dtype=object) != None)] = _BAD  # noqa: E711 - elementwise
            return arr
    return np.fromiter((_one(v) for v in values), dtype=np.float64, count=len(values))


def checked(
    values: Sequence[object] | np.ndarray, *, lo: float = 0.0, hi: float = MAX_MS
) -> tuple[np.ndarray, np.ndarray]:
    """(values with every invalid one replaced by NaN, mask of the invalid ones). Valid: lo <= v <= hi and
    finite; absent values (None / NaN from a missing key) are NaN and not invalid."""
    arr = values if isinstance(values, np.ndarray) else numbers(values)
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(arr) & ~((arr >= lo) & (arr <= hi))
    if bad.any():
        arr = arr.copy()
        arr[bad] = np.nan
    return arr, bad


def listing(labels: Sequence[object], mask: np.ndarray, *, show: int = 3) -> str:
    """``"3 records ('a', 'b', 'c')"``-style text naming the masked records, for a warning."""
    idx = np.flatnonzero(mask)
    names = ", ".join(repr(str(labels[i])[:80]) for i in idx[:show])
    more = " …" if len(idx) > show else ""
    return f"{len(idx)} record{'s' if len(idx) != 1 else ''} ({names}{more})"


def positive_count(value: object) -> int:
    """An iteration count: a positive integer (an integral float is accepted); ValueError says why not."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit() and len(value) <= 20:
        value = int(value)
    if not isinstance(value, int):
        raise ValueError(f"{str(value)[:40]!r} is not an integer")
    if value <= 0:
        raise ValueError(f"{value} is not a positive count")
    if value > MAX_COUNT:
        raise ValueError(f"{str(value)[:40]} is not a plausible count")
    return value


def valid_kernel_intervals(kernels: pd.DataFrame, p: str | Path, warnings: list[str]) -> pd.DataFrame:
    """Kernels without a start or end, ending before they start or lasting absurdly long are not measurements:
    dropped, with a warning (never added into GPU time)."""
    start = kernels["start_ns"].astype("float64").to_numpy(na_value=np.nan)
    end = kernels["end_ns"].astype("float64").to_numpy(na_value=np.nan)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(start) & np.isfinite(end) & (end >= start) & (end - start <= MAX_KERNEL_NS)
    if ok.all():
        return kernels
    warnings.append(f"{p}: {int((~ok).sum())} kernel records have no start or end, end before they start or last "
                    "longer than 11 days; they are left out")
    kept = kernels[ok].reset_index(drop=True)
    if kept.empty:
        raise InputError(p, "no kernel record with a valid start and end time")
    return kept
