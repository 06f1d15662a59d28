"""The CUPTI kernel tracer's record handling, clock alignment and kernel -> range -> layer mapping.

CUPTI itself needs a GPU; here a small stand-in module (a declared test double) delivers hand-made activity
records through the same callbacks cupti-python uses, with a known offset between its clock and the run
clock. Expected values follow from how the records were built.
"""

from __future__ import annotations

import enum
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from trtscope.capture.cupti_trace import ClockAlignment, ClockPair, KernelTracer
from trtscope.errors import TrtscopeError

OFFSET = 1_000_000_000  # the fake CUPTI clock runs this far ahead of the run clock


class Kind(enum.IntEnum):
    KERNEL = 3
    DRIVER = 4
    RUNTIME = 5
    CONCURRENT_KERNEL = 10
    MARKER = 12


class FakeCupti:
    """Test double of ``cupti.cupti``: records queued by the test are delivered on flush."""

    ActivityKind = Kind
    ActivityThreadIdType = SimpleNamespace(SYSTEM=2)
    CallbackDomain = SimpleNamespace(RUNTIME_API=3, DRIVER_API=1)

    def __init__(self, run_clock: Any) -> None:
        self.run_clock = run_clock
        self.enabled: list[int] = []
        self.queued: list[Any] = []
        self.callbacks: tuple[Any, Any] | None = None
        self.thread_id_type: int | None = None

    def set_thread_id_type(self, t: int) -> None:
        self.thread_id_type = t

    def activity_register_callbacks(self, requested: Any, completed: Any) -> None:
        self.callbacks = (requested, completed)

    def activity_enable(self, k: int) -> None:
        self.enabled.append(int(k))

    def activity_disable(self, k: int) -> None:
        self.enabled.remove(int(k))

    def activity_flush_all(self, flag: int) -> None:
        assert self.callbacks is not None
        size, _ = self.callbacks[0]()
        assert size > 0
        self.callbacks[1](self.queued)
        self.queued = []

    def get_timestamp(self) -> int:
        return self.run_clock.last + 5 + OFFSET

    def get_callback_name(self, domain: int, cbid: int) -> str:
        return {(3, 211): "cudaLaunchKernel", (1, 307): "cuLaunchKernel"}.get((domain, cbid), f"cb{cbid}")


class StepClock:
    """Deterministic run clock: +10 ns per reading."""

    def __init__(self, start: int = 0) -> None:
        self.last = start

    def __call__(self) -> int:
        self.last += 10
        return self.last


def kernel(corr: int, start: int, end: int, name: str = "k", graph_node: int = 0) -> Any:
    return SimpleNamespace(
        kind=Kind.CONCURRENT_KERNEL,
        start=start + OFFSET,
        end=end + OFFSET,
        name=name,
        device_id=0,
        stream_id=7,
        correlation_id=corr,
        grid_x=4,
        grid_y=1,
        grid_z=1,
        block_x=128,
        block_y=1,
        block_z=1,
        graph_node_id=graph_node,
    )


def api(corr: int, start: int, end: int, tid: int = 100, kind: Kind = Kind.RUNTIME, cbid: int = 211) -> Any:
    return SimpleNamespace(
        kind=kind,
        correlation_id=corr,
        cbid=cbid,
        start=start + OFFSET,
        end=end + OFFSET,
        process_id=42,
        thread_id=tid,
        return_value=0,
    )


def marker(mid: int, flags: int, ts: int, name: str | None = None, domain: str | None = None, tid: int = 100) -> Any:
    return SimpleNamespace(
        kind=Kind.MARKER,
        id=mid,
        flags_=flags,
        name=name,
        domain=domain,
        timestamp=ts + OFFSET,
        object_id=SimpleNamespace(pt=SimpleNamespace(process_id=42, thread_id=tid)),
    )


def traced_records() -> list[Any]:
    """Three NVTX ranges on thread 100, launches on threads 100 and 200, kernels (one orphan, one replayed)."""
    return [
        marker(1, 2, 1_000, "iteration 0", "trtscope"),
        marker(1, 4, 5_000),
        marker(2, 2, 1_100, "fc1", "workload"),
        marker(2, 4, 2_000),
        marker(3, 2, 2_100, "relu", "workload"),
        marker(3, 4, 3_000),
        api(1, 1_200, 1_300),
        api(1, 1_210, 1_290, kind=Kind.DRIVER, cbid=307),  # runtime wraps driver
        api(2, 2_200, 2_300),
        api(3, 4_000, 4_100),
        api(4, 1_200, 1_300, tid=200),  # another thread: no range there
        kernel(1, 10_000, 11_000, "gemm"),
        kernel(2, 11_000, 11_500, "relu_kernel"),
        kernel(3, 12_000, 12_100),
        kernel(4, 12_200, 12_300),
        kernel(99, 13_000, 13_100, "orphan"),
        kernel(5, 14_000, 14_100, "replayed", graph_node=77),
    ]


@pytest.fixture
def traced() -> tuple[KernelTracer, FakeCupti]:
    clock = StepClock(start=1_000)
    fake = FakeCupti(clock)
    tr = KernelTracer(cupti=fake, clock=clock)
    tr.start()
    clock.last = 1_000_000  # time passes: the stop pairing is taken here
    fake.queued = traced_records()
    tr.stop()
    return tr, fake


def test_start_enables_kinds_and_system_thread_ids() -> None:
    clock = StepClock()
    fake = FakeCupti(clock)
    tr = KernelTracer(cupti=fake, clock=clock)
    tr.start()
    assert sorted(fake.enabled) == sorted(
        int(k) for k in (Kind.CONCURRENT_KERNEL, Kind.RUNTIME, Kind.DRIVER, Kind.MARKER)
    )
    assert fake.thread_id_type == 2
    tr.stop()
    assert fake.enabled == []


def test_clock_alignment_recovers_offset(traced: tuple[KernelTracer, FakeCupti]) -> None:
    tr, _ = traced
    al = tr.alignment()
    assert al.as_dict()["offset_ns"] == -OFFSET
    assert al.as_dict()["drift_ppm"] == 0
    np.testing.assert_array_equal(al.to_run([OFFSET + 123, OFFSET + 10_000]), [123, 10_000])


def test_alignment_corrects_drift() -> None:
    # the run clock advances 1000 ns more than CUPTI's over 1e9 ns: 1 ppm
    al = ClockAlignment(ClockPair(5_000, 100, 0), ClockPair(5_000 + 1_000_000_000, 100 + 1_000_001_000, 0))
    assert al.to_run([5_000 + 500_000_000])[0] == 100 + 500_000_500
    assert al.as_dict()["drift_ppm"] == pytest.approx(1.0)


def test_epoch_sized_timestamps_keep_nanoseconds() -> None:
    base = 1_795_275_226_593_901_859  # a real cupti.get_timestamp() reading (beyond float64's 2**53)
    al = ClockAlignment(ClockPair(base, 7, 0), ClockPair(base + 10**9, 7 + 10**9, 0))
    assert int(al.to_run([base + 1])[0]) == 8


def test_kernels_map_to_innermost_range_and_layer(traced: tuple[KernelTracer, FakeCupti]) -> None:
    tr, _ = traced
    t = tr.tables(layer_names=["fc1", "relu"])
    k = t.kernels.set_index("correlation_id")
    assert k.loc[1, "start_ns"] == 10_000 and k.loc[1, "end_ns"] == 11_000
    # the runtime record (widest interval on the thread) is the launching call
    assert k.loc[1, "api_start_ns"] == 1_200 and k.loc[1, "api_end_ns"] == 1_300
    assert k.loc[1, "tid"] == 100 and k.loc[1, "pid"] == 42
    assert (k.loc[1, "nvtx_range"], k.loc[1, "layer_name"]) == ("fc1", "fc1")
    assert (k.loc[2, "nvtx_range"], k.loc[2, "layer_name"]) == ("relu", "relu")
    assert k.loc[3, "nvtx_range"] == "iteration 0" and pd.isna(k.loc[3, "layer_name"])
    assert pd.isna(k.loc[4, "nvtx_range"])  # thread 200 had no range
    assert pd.isna(k.loc[99, "api_start_ns"]) and pd.isna(k.loc[99, "nvtx_range"])
    assert k.loc[5, "range_basis"] == "graph_unresolved"
    assert (k.loc[1, "grid_x"], k.loc[1, "block_x"], k.loc[1, "stream_id"]) == (4, 128, 7)
    assert any("CUDA graph" in n for n in t.notes)


def test_ranges_and_api_tables(traced: tuple[KernelTracer, FakeCupti]) -> None:
    tr, _ = traced
    t = tr.tables()
    r = t.nvtx_ranges.set_index("name")
    assert list(t.nvtx_ranges["name"]) == ["iteration 0", "fc1", "relu"]
    assert (r.loc["fc1", "start_ns"], r.loc["fc1", "end_ns"], r.loc["fc1", "depth"]) == (1_100, 2_000, 1)
    assert r.loc["fc1", "parent_id"] == 1 and r.loc["iteration 0", "depth"] == 0
    assert r.loc["iteration 0", "domain"] == "trtscope"
    a = t.api_calls
    assert len(a) == 5
    assert set(a.loc[a["kind"] == "driver", "name"]) == {"cuLaunchKernel"}
    assert set(a.loc[(a["kind"] == "runtime") & (a["cbid"] == 211), "name"]) == {"cudaLaunchKernel"}
    assert a["start_ns"].is_monotonic_increasing


def test_own_ranges_used_without_markers() -> None:
    clock = StepClock(1_000)
    fake = FakeCupti(clock)
    tr = KernelTracer(cupti=fake, clock=clock)
    tr.start()
    clock.last = 1_000_000
    fake.queued = [api(1, 1_200, 1_300), kernel(1, 10_000, 11_000)]
    tr.stop()
    own = pd.DataFrame(
        {
            "range_id": [0],
            "name": ["iteration 0"],
            "domain": ["trtscope"],
            "start_ns": [1_000],
            "end_ns": [2_000],
            "pid": [42],
            "tid": [100],
            "depth": [0],
            "parent_id": [None],
        }
    )
    t = tr.tables(own_ranges=own)
    assert t.kernels.loc[0, "nvtx_range"] == "iteration 0"
    assert any("NVTX_INJECTION64_PATH" in n for n in t.notes)


def test_no_kernels_is_reported() -> None:
    clock = StepClock()
    fake = FakeCupti(clock)
    tr = KernelTracer(cupti=fake, clock=clock)
    tr.start()
    tr.stop()
    t = tr.tables()
    assert len(t.kernels) == 0 and any("no kernels" in n for n in t.notes)


def test_tables_before_start_is_an_error() -> None:
    tr = KernelTracer(cupti=FakeCupti(StepClock()), clock=StepClock())
    with pytest.raises(TrtscopeError):
        tr.tables()


def test_missing_cupti_is_a_missing_dependency(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from trtscope.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "cupti", None)
    with pytest.raises(MissingDependencyError, match=r"cupti-python"):
        KernelTracer()


class FilteringCupti(FakeCupti):
    """FakeCupti with per-API activity control and a small callback-name table."""

    NAMES: ClassVar[dict[tuple[int, int], str]] = {
        (3, 211): "cudaLaunchKernel_v7000",
        (3, 1): "cudaDeviceGetAttribute",
        (3, 300): "cudaGraphLaunch",
        (1, 652): "cuLaunchKernelEx",
        (1, 2): "cuGetProcAddress_v2",
        (1, 5): "cuCtxGetDevice",
    }

    def __init__(self, run_clock: Any) -> None:
        super().__init__(run_clock)
        self.api_state: dict[tuple[str, int], int] = {}

    def get_callback_name(self, domain: int, cbid: int) -> str:
        if (domain, cbid) not in self.NAMES:
            raise RuntimeError("CUPTI_ERROR_INVALID_PARAMETER")
        return self.NAMES[domain, cbid]

    def activity_enable_runtime_api(self, cbid: int, enable: int) -> None:
        self.api_state["runtime", cbid] = enable

    def activity_enable_driver_api(self, cbid: int, enable: int) -> None:
        self.api_state["driver", cbid] = enable


def test_only_launch_apis_are_recorded_by_default() -> None:
    clock = StepClock()
    fake = FilteringCupti(clock)
    tr = KernelTracer(cupti=fake, clock=clock)
    tr.start()
    # every non-launch API switched off; launches (and graph launches) untouched
    assert fake.api_state == {("runtime", 1): 0, ("driver", 2): 0, ("driver", 5): 0}
    tr.stop()
    assert set(fake.api_state.values()) == {1}  # restored


def test_all_apis_on_request() -> None:
    clock = StepClock()
    fake = FilteringCupti(clock)
    tr = KernelTracer(cupti=fake, clock=clock, api_calls="all")
    tr.start()
    tr.stop()
    assert fake.api_state == {}
    with pytest.raises(ValueError):
        KernelTracer(cupti=fake, clock=clock, api_calls="some")
