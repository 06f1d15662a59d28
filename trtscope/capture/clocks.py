"""What converts a bundle's clock (CLOCK_MONOTONIC ns) to CLOCK_MONOTONIC_RAW, the time base Nsight Systems
uses for imported annotations (NVTXT ``ClockMonotonicRaw``).

The two clocks differ by an offset (NTP/adjtime slewing since boot changes CLOCK_MONOTONIC's rate, never the
raw clock's) that grows at the current slew rate, so a capture records paired readings at its start and
stop: ``clock_gettime(CLOCK_MONOTONIC_RAW)`` taken just before and just after ``time.monotonic_ns()`` (the
tightest of a few tries), giving the offset at start and the drift over the run. ``raw(t) = t + offset_ns +
(t - start.monotonic_ns) * (d_raw - d_mono) / d_mono`` with ``d_*`` = stop - start of each clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from trtscope.model.clocks import two_point_map

METHOD = (
    "paired readings: clock_gettime(CLOCK_MONOTONIC_RAW) just before and just after time.monotonic_ns() "
    "(tightest of 5), at capture start and stop"
)
FORMULA = (
    "raw_ns = t + offset_ns + (t - start.monotonic_ns) * ((stop.monotonic_raw_ns - start.monotonic_raw_ns) "
    "- (stop.monotonic_ns - start.monotonic_ns)) / (stop.monotonic_ns - start.monotonic_ns)"
)


def bracket(outer: Callable[[], int], inner: Callable[[], int], tries: int = 5) -> tuple[int, int, int]:
    """``(inner reading, midpoint of the outer readings around it, half their gap)``, the tightest of ``tries``:
    one clock read between two readings of another pairs the two clocks to within the half gap."""
    best: tuple[int, int, int] | None = None
    for _ in range(tries):
        a = outer()
        x = inner()
        b = outer()
        if best is None or (b - a + 1) // 2 < best[2]:
            best = (int(x), (a + b) // 2, (b - a + 1) // 2)
    assert best is not None
    return best


def raw_clock() -> Callable[[], int] | None:
    """``CLOCK_MONOTONIC_RAW`` in ns where this platform has it (Linux, macOS), else None."""
    clock_id = getattr(time, "CLOCK_MONOTONIC_RAW", None)
    if clock_id is None:
        return None
    return lambda: time.clock_gettime_ns(clock_id)


@dataclass(frozen=True)
class RawPair:
    """One reading of the run clock and the raw clock around it (``raw_ns`` = midpoint of the two)."""

    monotonic_ns: int
    raw_ns: int
    half_width_ns: int

    @classmethod
    def read(cls, raw: Callable[[], int], mono: Callable[[], int], tries: int = 5) -> RawPair:
        return cls(*bracket(raw, mono, tries))

    def as_dict(self) -> dict[str, int]:
        return {"monotonic_ns": self.monotonic_ns, "monotonic_raw_ns": self.raw_ns, "half_width_ns": self.half_width_ns}


@dataclass(frozen=True)
class RawAlignment:
    """The linear map CLOCK_MONOTONIC -> CLOCK_MONOTONIC_RAW through the start and stop pairs."""

    start: RawPair
    stop: RawPair

    def to_raw(self, t: Any) -> np.ndarray:
        """Run-clock ns -> raw-clock ns, in int64 (no float rounding)."""
        a, b = self.start, self.stop
        return two_point_map(t, a.monotonic_ns, a.raw_ns, b.monotonic_ns, b.raw_ns)

    def as_dict(self) -> dict[str, Any]:
        dm = self.stop.monotonic_ns - self.start.monotonic_ns
        dr = self.stop.raw_ns - self.start.raw_ns
        return {
            "method": METHOD,
            "clock": "CLOCK_MONOTONIC_RAW",
            "start": self.start.as_dict(),
            "stop": self.stop.as_dict(),
            "offset_ns": self.start.raw_ns - self.start.monotonic_ns,
            "drift_ppm": round((dr - dm) / dm * 1e6, 3) if dm > 0 else None,
            "uncertainty_ns": max(self.start.half_width_ns, self.stop.half_width_ns),
            "to_monotonic_raw": FORMULA,
        }


class RawClockRecorder:
    """``start()`` at the beginning of a capture, ``stop()`` at its end -> the manifest's
    ``clock_alignment.monotonic_raw`` (or why it is missing)."""

    def __init__(self, *, raw: Callable[[], int] | None = None, mono: Callable[[], int] = time.monotonic_ns) -> None:
        self._raw = raw if raw is not None else raw_clock()
        self._mono = mono
        self._start: RawPair | None = None

    def start(self) -> None:
        if self._raw is not None:
            self._start = RawPair.read(self._raw, self._mono)

    def stop(self) -> dict[str, Any]:
        if self._raw is None:
            return {"clock": "CLOCK_MONOTONIC_RAW", "available": False, "why": "this platform has no such clock"}
        if self._start is None:
            raise RuntimeError("internal: the raw-clock recorder was not started")
        return RawAlignment(self._start, RawPair.read(self._raw, self._mono)).as_dict()
