"""The NVML sampler against a small stand-in ``pynvml`` (a declared test double) that counts its calls."""

from __future__ import annotations

import sys
import time
from types import SimpleNamespace
from typing import Any

import pytest

from trtscope.capture.nvml_sampler import NvmlSampler, device_facts
from trtscope.errors import MissingDependencyError
from trtscope.model.tables import NVML_SAMPLE_COLUMNS


class NVMLError(Exception):
    pass


class NVMLError_NotSupported(NVMLError):
    pass


class FakeNvml:
    """Test double of pynvml: fixed readings, call counts, optional unsupported temperature."""

    NVMLError = NVMLError
    NVMLError_NotSupported = NVMLError_NotSupported
    NVML_CLOCK_SM, NVML_CLOCK_MEM, NVML_TEMPERATURE_GPU = 1, 2, 0

    def __init__(self, *, temperature_supported: bool = True, init_fails: bool = False) -> None:
        self.calls: dict[str, int] = {}
        self.temperature_supported = temperature_supported
        self.init_fails = init_fails
        self.shutdowns = 0

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    def nvmlInit(self) -> None:
        if self.init_fails:
            raise NVMLError("Driver Not Loaded")
        self._count("init")

    def nvmlShutdown(self) -> None:
        self.shutdowns += 1

    def nvmlDeviceGetHandleByIndex(self, i: int) -> str:
        return f"gpu{i}"

    def nvmlDeviceGetName(self, h: str) -> bytes:
        return b"Fake GPU"

    def nvmlSystemGetDriverVersion(self) -> str:
        return "580.159.04"

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        return 13000

    def nvmlDeviceGetMemoryInfo(self, h: str) -> Any:
        self._count("memory")
        return SimpleNamespace(total=80 << 30, used=3 << 30, free=77 << 30)

    def nvmlDeviceGetCudaComputeCapability(self, h: str) -> tuple[int, int]:
        return (9, 0)

    def nvmlDeviceGetUUID(self, h: str) -> str:
        return "GPU-fake"

    def nvmlDeviceGetUtilizationRates(self, h: str) -> Any:
        self._count("util")
        return SimpleNamespace(gpu=87, memory=41)

    def nvmlDeviceGetClockInfo(self, h: str, which: int) -> int:
        self._count(f"clock{which}")
        return 1980 if which == self.NVML_CLOCK_SM else 2619

    def nvmlDeviceGetPowerUsage(self, h: str) -> int:
        self._count("power")
        return 412_345  # mW

    def nvmlDeviceGetTemperature(self, h: str, sensor: int) -> int:
        self._count("temperature")
        if not self.temperature_supported:
            raise NVMLError_NotSupported("Not Supported")
        return 55

    def nvmlDeviceGetCurrentClocksEventReasons(self, h: str) -> int:
        self._count("reasons")
        return 0x1 | 0x4


def test_device_facts() -> None:
    facts = device_facts(FakeNvml(), 0)
    assert facts["gpu"] == "Fake GPU"
    assert facts["cuda_driver_version"] == "13.0"
    assert facts["compute_capability"] == "9.0"
    assert facts["memory_total_mib"] == 80 * 1024


def test_sample_once_converts_units() -> None:
    s = NvmlSampler(10, nvml=FakeNvml(), clock=lambda: 123)
    s.start()
    s.stop()
    row = dict(zip(NVML_SAMPLE_COLUMNS, s.sample_once(), strict=True))
    assert row == {
        "timestamp_ns": 123,
        "gpu_index": 0,
        "gpu_util_pct": 87,
        "mem_util_pct": 41,
        "sm_clock_mhz": 1980,
        "mem_clock_mhz": 2619,
        "power_w": pytest.approx(412.345),
        "temperature_c": 55,
        "memory_used_mib": pytest.approx(3 * 1024),
        "throttle_reasons": 5,
    }


def test_background_rate_and_clock() -> None:
    fake = FakeNvml()
    s = NvmlSampler(200, nvml=fake)
    before = time.monotonic_ns()
    s.start()
    time.sleep(0.3)
    df = s.stop()
    after = time.monotonic_ns()
    assert list(df.columns) == list(NVML_SAMPLE_COLUMNS)
    # 200 Hz for ~0.3 s: about 60 samples; allow scheduling slack but not a burst or a stall
    assert 20 <= len(df) <= 70
    ts = df["timestamp_ns"].to_numpy()
    assert (ts[1:] > ts[:-1]).all() and before <= ts[0] and ts[-1] <= after  # run clock: time.monotonic_ns
    gaps = (ts[1:] - ts[:-1]) / 1e6
    assert 3.0 < float(sorted(gaps)[len(gaps) // 2]) < 8.0  # median spacing near 5 ms
    assert fake.calls["util"] == len(df) and fake.calls["power"] == len(df)
    assert fake.shutdowns == 1


def test_unsupported_field_is_asked_once() -> None:
    fake = FakeNvml(temperature_supported=False)
    s = NvmlSampler(1000, nvml=fake)
    s.start()
    time.sleep(0.05)
    df = s.stop()
    assert len(df) >= 3
    assert df["temperature_c"].isna().all()
    assert fake.calls["temperature"] == 1
    assert df["power_w"].notna().all()


def test_init_failure_is_missing_dependency() -> None:
    s = NvmlSampler(10, nvml=FakeNvml(init_fails=True))
    with pytest.raises(MissingDependencyError, match="nvmlInit failed"):
        s.start()


def test_missing_pynvml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)
    with pytest.raises(MissingDependencyError, match="nvidia-ml-py"):
        NvmlSampler(10)


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        NvmlSampler(0, nvml=FakeNvml())


FAKE_PYNVML_MODULE = '''
"""Test double of pynvml for the helper-process sampler (written by tests/test_capture_nvml.py)."""
from types import SimpleNamespace
class NVMLError(Exception): pass
class NVMLError_NotSupported(NVMLError): pass
NVML_CLOCK_SM, NVML_CLOCK_MEM, NVML_TEMPERATURE_GPU = 1, 2, 0
def nvmlInit(): pass
def nvmlShutdown(): pass
def nvmlDeviceGetHandleByIndex(i): return i
def nvmlDeviceGetName(h): return "Fake GPU (helper)"
def nvmlSystemGetDriverVersion(): return "580.159.04"
def nvmlSystemGetCudaDriverVersion(): return 13000
def nvmlDeviceGetMemoryInfo(h): return SimpleNamespace(total=80 << 30, used=5 << 30)
def nvmlDeviceGetUtilizationRates(h): return SimpleNamespace(gpu=12, memory=3)
def nvmlDeviceGetClockInfo(h, which): return 1755
def nvmlDeviceGetPowerUsage(h): return 100_000
def nvmlDeviceGetTemperature(h, sensor): return 40
def nvmlDeviceGetCurrentClocksEventReasons(h): return 1
'''


def test_helper_process_sampler(tmp_path: Any) -> None:
    import os

    from trtscope.capture.nvml_sampler import ProcessNvmlSampler

    (tmp_path / "pynvml.py").write_text(FAKE_PYNVML_MODULE)
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    s = ProcessNvmlSampler(100, env=env)
    before = time.monotonic_ns()
    s.start()
    assert s.facts["gpu"] == "Fake GPU (helper)"
    time.sleep(0.3)
    df = s.stop()
    after = time.monotonic_ns()
    assert list(df.columns) == list(NVML_SAMPLE_COLUMNS)
    assert 10 <= len(df) <= 40
    ts = df["timestamp_ns"].to_numpy()
    # CLOCK_MONOTONIC is system-wide: the helper's stamps fall inside the parent's interval
    assert before <= ts[0] and ts[-1] <= after and (ts[1:] > ts[:-1]).all()
    assert set(df["power_w"]) == {100.0} and set(df["gpu_util_pct"]) == {12}


def test_helper_process_reports_failure(tmp_path: Any) -> None:
    import os

    from trtscope.capture.nvml_sampler import ProcessNvmlSampler

    (tmp_path / "pynvml.py").write_text(
        FAKE_PYNVML_MODULE.replace("def nvmlInit(): pass", "def nvmlInit(): raise NVMLError('no driver')")
    )
    s = ProcessNvmlSampler(100, env=dict(os.environ, PYTHONPATH=str(tmp_path)))
    with pytest.raises(MissingDependencyError, match="no driver"):
        s.start()
