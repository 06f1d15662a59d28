"""Capture orchestration (trtscope.capture.profile_run) end to end with a TEST DOUBLE backend.

The fake backend below is not TensorRT and says so (``is_test_double``); the bundles it produces are marked
as test-double output. Expected numbers follow from the fake's deterministic timings, computed by hand here.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from trtscope.bundle.writer import BundleWriter
from trtscope.capture.backend import (
    BuildOptions,
    BuildResult,
    LaunchTiming,
    LogRecord,
    RuntimeUnavailableError,
    TensorInfo,
)
from trtscope.capture.nvtx_ranges import NvtxRanges
from trtscope.capture.profile_run import CaptureRequest, layer_names, run_capture
from trtscope.model.tables import ITERATION_COLUMNS, LAYER_SAMPLE_COLUMNS, PROFILE_COLUMNS

LAYERS = ["conv1 + relu1", "pool", "fc", "pool"]  # a repeated name, as real engines can have
LAYER_MS = [0.5, 0.25, 0.125, 0.0625]


class Clock:
    """Fake monotonic clock in ns; advanced explicitly by the fake runner."""

    def __init__(self) -> None:
        self.now = 1_000_000_000

    def __call__(self) -> int:
        return self.now


class FakeRunner:
    """TEST DOUBLE of an engine runner: launch k takes 1 ms + (k % 4) * 0.25 ms of "GPU time"."""

    def __init__(self, clock: Clock, *, interrupt_at: int | None = None) -> None:
        self.clock = clock
        self.notes = ["test double"]
        self.launches = 0
        self.profiled = 0
        self.closed = False
        self.interrupt_at = interrupt_at
        self.graph_flags: list[bool] = []

    def layer_information(self) -> str:
        return json.dumps(
            {"Layers": [{"Name": n, "LayerType": "test-double"} for n in LAYERS], "Bindings": ["input", "output"]}
        )

    def tensors(self) -> list[TensorInfo]:
        return [TensorInfo("input", True, (1, 3, 8, 8), "FLOAT"), TensorInfo("output", False, (1, 10), "FLOAT")]

    def num_aux_streams(self) -> int:
        return 0

    def _timing(self, gpu_ms: float) -> LaunchTiming:
        start = self.clock.now
        self.clock.now += 20_000  # 20 us to enqueue
        enq = self.clock.now
        self.clock.now = start + int(gpu_ms * 1e6) + 50_000  # done 50 us after the GPU work
        return LaunchTiming(start, enq, self.clock.now, gpu_ms)

    def launch(self, *, cuda_graph: bool) -> LaunchTiming:
        if self.interrupt_at is not None and self.launches == self.interrupt_at:
            raise KeyboardInterrupt
        self.graph_flags.append(cuda_graph)
        t = self._timing(1.0 + (self.launches % 4) * 0.25)
        self.launches += 1
        return t

    def profile_launch(self, *, cuda_graph: bool) -> tuple[LaunchTiming, list[tuple[str, float]]]:
        scale = 1 + self.profiled  # iteration p reports each layer at (p+1) x its base time
        self.profiled += 1
        calls = [(n, ms * scale) for n, ms in zip(LAYERS, LAYER_MS, strict=True)]
        return self._timing(sum(ms for _, ms in calls) * 1.1), calls

    def close(self) -> None:
        self.closed = True


class FakeBackend:
    """TEST DOUBLE of a TensorRT backend."""

    name = "fake-trt"
    version = "0.0-test"
    is_test_double = True

    def __init__(self, runner: FakeRunner, *, refuse: bool = False) -> None:
        self.runner = runner
        self.refuse = refuse
        self.log: list[LogRecord] = []
        self.built_with: BuildOptions | None = None
        self.opened_plan: bytes | None = None

    def build(self, onnx_path: Path, options: BuildOptions) -> BuildResult:
        self.built_with = options
        self.log.append(LogRecord(0.0, "VERBOSE", "Layers:\nName: conv1 + relu1, LayerType: test-double"))
        return BuildResult(b"fake plan", list(self.log), 0.5)

    def open(self, plan: bytes, shapes: dict[str, tuple[int, ...]]) -> FakeRunner:
        self.opened_plan = plan
        if self.refuse:
            self.log.append(LogRecord(0.0, "ERROR", "engine cannot run on this GPU"))
            raise RuntimeUnavailableError("fake-trt cannot run this engine on this GPU")
        return self.runner


def _model(tmp_path: Path, name: str = "model.onnx") -> Path:
    p = tmp_path / name
    p.write_bytes(b"not really onnx: the fake backend never reads it")
    return p


def _capture(tmp_path: Path, req: CaptureRequest, backend: FakeBackend, clock: Clock, **kw: Any) -> Path:
    out = tmp_path / "out.trtscope"
    with BundleWriter(out, command=["trtscope", "profile", "test"]) as w:
        run_capture(backend, req, w, ranges=NvtxRanges(emit=False, clock=clock), clock=clock, **kw)
    return out


def test_full_capture_writes_trtexec_forms(tmp_path: Path) -> None:
    clock = Clock()
    runner = FakeRunner(clock)
    backend = FakeBackend(runner)
    req = CaptureRequest(_model(tmp_path), warmup=3, iterations=8, profile_iterations=4, cuda_graph=True)
    out = _capture(tmp_path, req, backend, clock)
    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "complete"
    assert m["backend"] == {"name": "fake-trt", "version": "0.0-test", "test_double": True}
    assert any("TEST DOUBLE" in n for n in m["notes"])
    assert runner.launches == 3 + 8 and runner.closed and all(runner.graph_flags)

    it = pd.read_parquet(out / "tables" / "iterations.parquet")
    assert list(it.columns) == list(ITERATION_COLUMNS)
    gpu = [1.0 + (k % 4) * 0.25 for k in range(3, 11)]  # timed launches are 3..10
    assert it["compute_ms"].tolist() == pytest.approx(gpu)
    assert it["latency_ms"].tolist() == pytest.approx([g + 0.05 for g in gpu])
    assert it["enqueue_ms"].tolist() == pytest.approx([0.02] * 8)
    assert m["run"]["latency_ms"]["median"] == pytest.approx(statistics.median(g + 0.05 for g in gpu))

    times = json.loads((out / "raw" / "times.json").read_text())
    assert len(times) == 8 and set(times[0]) >= {"startEnqMs", "endEnqMs", "computeMs", "latencyMs", "h2dMs"}
    assert [t["computeMs"] for t in times] == pytest.approx(gpu)

    prof = json.loads((out / "raw" / "profile.json").read_text())
    assert prof[0] == {"count": 4}
    # layer k totals: base * (1+2+3+4); "pool" appears twice per launch, kept as two rows
    expected = [(n, ms * 10) for n, ms in zip(LAYERS, LAYER_MS, strict=True)]
    assert [(r["name"], r["timeMs"]) for r in prof[1:]] == [(n, pytest.approx(t)) for n, t in expected]
    assert [r["averageMs"] for r in prof[1:]] == pytest.approx([t / 4 for _, t in expected])
    assert [r["medianMs"] for r in prof[1:]] == pytest.approx([ms * 2.5 for ms in LAYER_MS])
    assert sum(r["percentage"] for r in prof[1:]) == pytest.approx(100.0)

    lt = pd.read_parquet(out / "tables" / "layer_times.parquet")
    assert list(lt.columns) == list(PROFILE_COLUMNS)
    assert lt["occurrence"].tolist() == [0, 0, 0, 1]
    ls = pd.read_parquet(out / "tables" / "layer_samples.parquet")
    assert list(ls.columns) == list(LAYER_SAMPLE_COLUMNS) and len(ls) == 4 * len(LAYERS)
    assert json.loads((out / "raw" / "layers.json").read_text())["Layers"][0]["Name"] == "conv1 + relu1"
    assert "Layers:" in (out / "raw" / "build.log").read_text()

    # profiling perturbation: profiled GPU time of launch p is 1.1 x sum of layers x (p+1)
    base = sum(LAYER_MS)
    prof_median = statistics.median(1.1 * base * (p + 1) for p in range(4))
    clean_median = statistics.median(gpu)
    assert m["run"]["profiling"]["overhead_pct"] == pytest.approx((prof_median / clean_median - 1) * 100)


def test_ranges_mark_each_phase(tmp_path: Path) -> None:
    clock = Clock()
    out = _capture(
        tmp_path,
        CaptureRequest(_model(tmp_path), warmup=2, iterations=3, profile_iterations=2),
        FakeBackend(FakeRunner(clock)),
        clock,
    )
    r = pd.read_parquet(out / "tables" / "nvtx_ranges.parquet")
    names = r["name"].tolist()
    for phase in ("build", "deserialize", "warmup", "timing", "profile"):
        assert phase in names
    assert [n for n in names if n.startswith("iteration ")] == ["iteration 0", "iteration 1", "iteration 2"]
    timing = r[r["name"] == "timing"].iloc[0]
    inner = r[r["name"].str.startswith("iteration ")]
    assert (inner["parent_id"] == timing["range_id"]).all() and (inner["depth"] == timing["depth"] + 1).all()


def test_duration_mode_stops_on_time(tmp_path: Path) -> None:
    clock = Clock()
    runner = FakeRunner(clock)
    req = CaptureRequest(_model(tmp_path), warmup=0, iterations=None, duration_s=0.01, profile_iterations=0)
    out = _capture(tmp_path, req, FakeBackend(runner), clock)
    it = pd.read_parquet(out / "tables" / "iterations.parquet")
    # launches of 1.05..1.80 ms until 10 ms have passed: cumulative sums cross 10 ms after the 8th
    lat = [1.0 + (k % 4) * 0.25 + 0.05 for k in range(20)]
    n = next(i + 1 for i in range(20) if sum(lat[: i + 1]) >= 10.0)
    assert len(it) == n
    assert not (out / "tables" / "layer_times.parquet").exists()


def test_ctrl_c_leaves_interrupted_bundle(tmp_path: Path) -> None:
    clock = Clock()
    runner = FakeRunner(clock, interrupt_at=2 + 5)  # 2 warm-ups, then the 6th timed launch is interrupted
    req = CaptureRequest(_model(tmp_path), warmup=2, iterations=50, profile_iterations=5)
    with pytest.raises(KeyboardInterrupt):
        _capture(tmp_path, req, FakeBackend(runner), clock)
    out = tmp_path / "out.trtscope"
    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "interrupted"
    assert len(pd.read_parquet(out / "tables" / "iterations.parquet")) == 5
    assert m["run"]["iterations"] == 5
    assert "nvtx_ranges" in m["tables"] and runner.closed
    assert "layer_times" not in m["tables"]  # the profiling run never started


def test_runtime_refusal_keeps_build_log(tmp_path: Path) -> None:
    clock = Clock()
    backend = FakeBackend(FakeRunner(clock), refuse=True)
    with pytest.raises(RuntimeUnavailableError):
        _capture(tmp_path, CaptureRequest(_model(tmp_path)), backend, clock)
    out = tmp_path / "out.trtscope"
    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "failed"
    log = (out / "raw" / "build.log").read_text()
    assert "Layers:" in log and "engine cannot run on this GPU" in log  # build and runtime messages
    assert "iterations" not in m["tables"]


def test_engine_input_is_not_built(tmp_path: Path) -> None:
    clock = Clock()
    backend = FakeBackend(FakeRunner(clock))
    engine = tmp_path / "model.engine"
    engine.write_bytes(b"serialized plan bytes")
    _capture(tmp_path, CaptureRequest(engine, warmup=0, iterations=2, profile_iterations=1), backend, clock)
    assert backend.built_with is None and backend.opened_plan == b"serialized plan bytes"


class FakeTracer:
    """TEST DOUBLE of the kernel tracer: remembers when it was started, returns fixed tables."""

    def __init__(self, runner: FakeRunner) -> None:
        self.runner = runner
        self.started_after: int | None = None
        self.stopped = False

    def start(self) -> None:
        self.started_after = self.runner.launches

    def stop(self) -> None:
        self.stopped = True

    def tables(self, layer_names: Any = None, own_ranges: pd.DataFrame | None = None) -> Any:
        from types import SimpleNamespace

        assert own_ranges is not None
        k = pd.DataFrame({"start_ns": [1], "end_ns": [2], "name": ["k"], "layer_name": [layer_names[0]]})
        return SimpleNamespace(
            kernels=k,
            api_calls=pd.DataFrame({"correlation_id": [1]}),
            nvtx_ranges=own_ranges,
            alignment={"offset_ns": 0},
            notes=["fake tracer"],
        )


def test_kernel_trace_is_a_separate_phase(tmp_path: Path) -> None:
    clock = Clock()
    runner = FakeRunner(clock)
    tracer = FakeTracer(runner)
    req = CaptureRequest(_model(tmp_path), warmup=2, iterations=4, profile_iterations=1, kernel_iterations=3)
    out = _capture(tmp_path, req, FakeBackend(runner), clock, tracer=tracer)
    assert tracer.started_after == 2 + 4 and tracer.stopped  # after warm-up and the timed run
    assert runner.launches == 2 + 4 + 3
    assert len(pd.read_parquet(out / "tables" / "iterations.parquet")) == 4  # traced launches are not timed
    k = pd.read_parquet(out / "tables" / "kernels.parquet")
    assert k["layer_name"].tolist() == ["conv1 + relu1"]  # layer names came from the inspector JSON
    r = pd.read_parquet(out / "tables" / "nvtx_ranges.parquet")
    assert [n for n in r["name"] if n.startswith("traced iteration")] == [f"traced iteration {i}" for i in range(3)]


def test_nvml_samples_are_written(tmp_path: Path) -> None:
    from tests.test_capture_nvml import FakeNvml
    from trtscope.capture.nvml_sampler import NvmlSampler

    clock = Clock()
    sampler = NvmlSampler(1000, nvml=FakeNvml())
    out = _capture(
        tmp_path,
        CaptureRequest(_model(tmp_path), warmup=0, iterations=2, profile_iterations=0),
        FakeBackend(FakeRunner(clock)),
        clock,
        sampler=sampler,
    )
    m = json.loads((out / "manifest.json").read_text())
    assert m["environment"]["gpu"] == "Fake GPU"
    assert m["tables"]["nvml"]["rows"] >= 1


def test_layer_names_from_both_verbosities() -> None:
    assert layer_names('{"Layers": ["a", "b"], "Bindings": []}') == ["a", "b"]
    assert layer_names('{"Layers": [{"Name": "x\\u001fy"}]}') == ["x\x1fy"]
    assert layer_names("not json") == []


def test_bundle_round_trip_through_reader(tmp_path: Path) -> None:
    reader = pytest.importorskip("trtscope.bundle.reader")
    clock = Clock()
    out = _capture(
        tmp_path,
        CaptureRequest(_model(tmp_path), warmup=1, iterations=6, profile_iterations=3),
        FakeBackend(FakeRunner(clock)),
        clock,
    )
    art = reader.read_bundle(out)
    assert len(art.iterations) == 6
    assert art.profile is not None and sorted(art.profile.times["name"]) == sorted(LAYERS)
    assert art.profile.count == 3


def test_nvml_failure_does_not_stop_the_capture(tmp_path: Path) -> None:
    from tests.test_capture_nvml import FakeNvml
    from trtscope.capture.nvml_sampler import NvmlSampler

    clock = Clock()
    sampler = NvmlSampler(10, nvml=FakeNvml(init_fails=True))
    out = _capture(
        tmp_path,
        CaptureRequest(_model(tmp_path), warmup=0, iterations=2, profile_iterations=0),
        FakeBackend(FakeRunner(clock)),
        clock,
        sampler=sampler,
    )
    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "complete" and "nvml" not in m["tables"]
    assert any(n.startswith("no NVML samples: NVML is not available") for n in m["notes"])
