"""CLOCK_MONOTONIC -> CLOCK_MONOTONIC_RAW pairing (for Nsight's ClockMonotonicRaw time base).

With stand-in clocks of known offset and rate the map must give them back exactly; with the real clocks the
recorded raw readings must lie between raw readings the test takes itself around the capture.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from tests.test_capture_profile_run import Clock, FakeBackend, FakeRunner, _capture, _model
from trtscope.capture.clocks import RawAlignment, RawClockRecorder, RawPair, raw_clock
from trtscope.capture.profile_run import CaptureRequest


class Pair:
    """A run clock and a raw clock that runs 20 ppm faster, 5 s ahead; each reading advances both by 1 us."""

    def __init__(self) -> None:
        self.mono = 1_000_000_000

    def read_mono(self) -> int:
        self.mono += 1_000
        return self.mono

    def read_raw(self) -> int:
        self.mono += 1_000
        return 5_000_000_000 + self.mono + (self.mono - 1_000_000_000) * 20 // 1_000_000


def test_offset_and_drift_are_recovered() -> None:
    p = Pair()
    rec = RawClockRecorder(raw=p.read_raw, mono=p.read_mono)
    rec.start()
    p.mono += 10_000_000_000  # 10 s pass
    d = rec.stop()
    # the start pairing: raw read 1 us before and 1 us after the run clock -> midpoint at the run reading
    m0 = d["start"]["monotonic_ns"]
    assert d["start"]["half_width_ns"] == 1_000
    assert d["offset_ns"] == 5_000_000_000 + (m0 - 1_000_000_000) * 20 // 1_000_000
    assert d["drift_ppm"] == pytest.approx(20.0, abs=0.01)
    al = RawAlignment(RawPair(**_pair(d["start"])), RawPair(**_pair(d["stop"])))
    t = np.array([m0, m0 + 5_000_000_000, d["stop"]["monotonic_ns"]], dtype=np.int64)
    expected = 5_000_000_000 + t + (t - 1_000_000_000) * 20 // 1_000_000
    np.testing.assert_allclose(al.to_raw(t), expected, atol=2)
    assert "to_monotonic_raw" in d and d["clock"] == "CLOCK_MONOTONIC_RAW"


def _pair(d: dict[str, int]) -> dict[str, int]:
    return {"monotonic_ns": d["monotonic_ns"], "raw_ns": d["monotonic_raw_ns"], "half_width_ns": d["half_width_ns"]}


def test_epoch_sized_values_stay_exact() -> None:
    al = RawAlignment(RawPair(10**18, 10**18 + 7, 0), RawPair(10**18 + 10**9, 10**18 + 10**9 + 7, 0))
    assert int(al.to_raw([10**18 + 1])[0]) == 10**18 + 8


def test_no_raw_clock_is_said() -> None:
    rec = RawClockRecorder(mono=time.monotonic_ns)
    rec._raw = None  # a platform without CLOCK_MONOTONIC_RAW
    rec.start()
    assert rec.stop()["available"] is False


@pytest.mark.skipif(raw_clock() is None, reason="no CLOCK_MONOTONIC_RAW on this platform")
def test_capture_manifest_records_the_raw_clock(tmp_path: Path) -> None:
    raw = raw_clock()
    assert raw is not None
    clock = Clock()
    before = raw()
    req = CaptureRequest(_model(tmp_path), warmup=1, iterations=2)
    out = _capture(tmp_path, req, FakeBackend(FakeRunner(clock)), clock)
    after = raw()
    m = json.loads((out / "manifest.json").read_text())
    d = m["clock_alignment"]["monotonic_raw"]
    assert before <= d["start"]["monotonic_raw_ns"] <= d["stop"]["monotonic_raw_ns"] <= after
    assert d["start"]["monotonic_ns"] == 1_000_000_000  # the capture's own (fake) run clock at its start
    assert d["stop"]["monotonic_ns"] == clock.now
