"""trtscope's own NVTX ranges: emitted through the nvtx package when present, always recorded host-side."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from trtscope.capture.nvtx_ranges import DOMAIN, NvtxRanges
from trtscope.model.tables import NVTX_RANGE_COLUMNS


class Tick:
    def __init__(self) -> None:
        self.t = 0

    def __call__(self) -> int:
        self.t += 100
        return self.t


class FakeNvtx:
    """Test double of the nvtx package: records start/end calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def start_range(self, message: str, domain: str) -> int:
        self.calls.append(("start", (message, domain)))
        return len(self.calls)

    def end_range(self, handle: int) -> None:
        self.calls.append(("end", handle))


def test_ranges_nest_and_record_the_run_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeNvtx()
    monkeypatch.setitem(sys.modules, "nvtx", fake)
    r = NvtxRanges(clock=Tick())
    assert r.emitting
    with r.range("timing"):
        tok = r.start("iteration 0")
        r.end(tok)
        r.end(tok)  # ending twice changes nothing
        with r.range("iteration 1"):
            pass
    t = r.table()
    assert list(t.columns) == list(NVTX_RANGE_COLUMNS)
    assert t["name"].tolist() == ["timing", "iteration 0", "iteration 1"]
    assert t["start_ns"].tolist() == [100, 200, 400] and t["end_ns"].tolist() == [600, 300, 500]
    assert t["depth"].tolist() == [0, 1, 1] and t["parent_id"].tolist()[1:] == [0, 0]
    assert set(t["domain"]) == {DOMAIN}
    assert [c[0] for c in fake.calls] == ["start", "start", "end", "start", "end", "end"]
    assert fake.calls[0] == ("start", ("timing", "trtscope"))


def test_without_nvtx_ranges_are_still_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nvtx", None)
    r = NvtxRanges(clock=Tick())
    assert not r.emitting
    with r.range("build"):
        pass
    assert r.table()["name"].tolist() == ["build"]


def test_open_range_has_no_end() -> None:
    r = NvtxRanges(emit=False, clock=Tick())
    r.start("warmup")
    t = r.table()
    assert t["end_ns"].isna().all() and len(t) == 1
