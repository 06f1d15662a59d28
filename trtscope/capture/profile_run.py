"""One capture, start to finish: build or load, warm up, time clean launches, profile per layer, write.

The order matters for honest numbers: latencies come from a run with NO profiler and NO kernel tracer
attached; the CUPTI-traced iterations (``--kernels``) and the IProfiler run are separate phases afterwards,
and what profiling costs is stored (``run.profiling``). CUPTI tracing is kept out of the timed run because it
can cost far more than profiling: per-node tracing slowed a 30-kernel CUDA graph replay ~40x on an H100.
Everything recorded is written in a ``finally`` block, so Ctrl-C leaves a bundle whose tables hold what was
measured (the BundleWriter marks it ``interrupted``). The backend is any :class:`EngineBackend`; a test
double is labelled as such in the manifest and its output is never presented as TensorRT's.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from trtscope._version import __version__
from trtscope.atomic import atomic_write
from trtscope.bundle.writer import BundleWriter
from trtscope.capture import stats
from trtscope.capture.backend import BuildOptions, EngineBackend, EngineRunner, LaunchTiming, format_log
from trtscope.capture.clocks import RawClockRecorder
from trtscope.capture.nvtx_ranges import NvtxRanges
from trtscope.errors import MissingDependencyError
from trtscope.parsers.files import read_input


@dataclass
class CaptureRequest:
    """What ``trtscope profile`` was asked to do (already validated by the CLI)."""

    model: Path
    build: BuildOptions = field(default_factory=BuildOptions)
    run_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    warmup: int = 10
    iterations: int | None = 100
    duration_s: float | None = None
    profile_iterations: int = 20
    kernel_iterations: int = 10
    cuda_graph: bool = False
    nvml_hz: float = 20.0
    kernels: bool = False
    save_engine: Path | None = None

    @property
    def is_onnx(self) -> bool:
        return self.model.suffix.lower() == ".onnx"


class Progress(Protocol):
    def phase(self, name: str, total: int | None = None) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class NullProgress:
    def phase(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


class Sampler(Protocol):
    facts: dict[str, Any]

    def start(self) -> None: ...

    def stop(self) -> pd.DataFrame: ...


class Tracer(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...

    def tables(self, layer_names: Any = None, own_ranges: pd.DataFrame | None = None) -> Any: ...


@dataclass
class _State:
    timings: list[LaunchTiming] = field(default_factory=list)
    timing_wall_ns: int | None = None
    profiled: list[LaunchTiming] = field(default_factory=list)
    layer_calls: list[list[tuple[str, float]]] = field(default_factory=list)
    layer_names: list[str] = field(default_factory=list)
    written: set[str] = field(default_factory=set)
    traced: bool = False
    raw_clock: RawClockRecorder | None = None  # CLOCK_MONOTONIC -> CLOCK_MONOTONIC_RAW (for Nsight)


def layer_names(layer_json: str) -> list[str]:
    """Engine layer names from inspector JSON (DETAILED objects or LAYER_NAMES_ONLY strings)."""
    try:
        doc = json.loads(layer_json, strict=False)
    except ValueError:
        return []
    layers = doc.get("Layers", []) if isinstance(doc, dict) else doc if isinstance(doc, list) else []
    return [str(x.get("Name")) if isinstance(x, dict) else str(x) for x in layers]


def run_capture(
    backend: EngineBackend,
    req: CaptureRequest,
    writer: BundleWriter,
    *,
    progress: Progress | None = None,
    ranges: NvtxRanges | None = None,
    sampler: Sampler | None = None,
    tracer: Tracer | None = None,
    environment: dict[str, Any] | None = None,
    clock: Callable[[], int] = time.monotonic_ns,
) -> dict[str, Any]:
    """Run the capture into ``writer``; returns the manifest's ``run`` section."""
    progress = progress or NullProgress()
    ranges = ranges or NvtxRanges()
    raw_clock = RawClockRecorder(mono=clock)
    raw_clock.start()
    state = _State(raw_clock=raw_clock)
    env = {
        "trtscope_version": __version__,
        "python": platform.python_version(),
        "tensorrt_module": backend.name,
        "tensorrt_version": backend.version,
        **(environment or {}),
    }
    writer.update(
        environment=env,
        backend={
            "name": backend.name,
            "version": backend.version,
            "test_double": bool(backend.is_test_double),
        },
    )
    if backend.is_test_double:
        writer.note(f"made by a TEST DOUBLE backend ({backend.name}): not TensorRT output; never use as data")
    run: dict[str, Any] = {
        "model": str(req.model),
        "model_kind": "onnx" if req.is_onnx else "engine",
        "build_options": _options_dict(req.build) if req.is_onnx else None,
        "run_shapes": {k: list(v) for k, v in req.run_shapes.items()},
        "warmup": req.warmup,
        "iterations_requested": req.iterations,
        "duration_requested_s": req.duration_s,
        "profile_iterations": req.profile_iterations,
        "cuda_graph": req.cuda_graph,
        "nvml_hz": req.nvml_hz if sampler is not None else None,
        "kernels": tracer is not None,
        "kernel_iterations": req.kernel_iterations if tracer is not None else None,
        "timing": "one inference at a time: enqueue, then wait for the stream; no host<->device copies",
    }
    writer.update(run=run)
    runner: EngineRunner | None = None
    started: list[Any] = []
    try:
        if sampler is not None:
            try:
                sampler.start()
                started.append(sampler)
                writer.update(environment=dict(sampler.facts))
            except MissingDependencyError as err:  # no NVML here: capture without samples, and say so
                writer.note(f"no NVML samples: {err}")
        plan = _build_or_read(backend, req, writer, ranges, progress, state)
        progress.phase("opening the engine")
        with ranges.range("deserialize"):
            runner = backend.open(plan, req.run_shapes)
        layer_json = runner.layer_information()
        writer.write_raw("layers", "layers.json", layer_json)
        state.layer_names = layer_names(layer_json)
        writer.update(
            run={
                "tensors": [
                    {"name": t.name, "input": t.is_input, "shape": list(t.shape), "dtype": t.dtype}
                    for t in runner.tensors()
                ],
                "aux_streams": runner.num_aux_streams(),
                "runner_notes": list(runner.notes),
            }
        )
        _warmup(runner, req, ranges, progress)
        _timed(runner, req, ranges, progress, state, clock)
        _write_timing(writer, state)
        if tracer is not None and req.kernel_iterations > 0:
            _traced(runner, req, ranges, progress, state, tracer)
        if req.profile_iterations > 0:
            _profile(runner, req, ranges, progress, state)
            _write_profile(writer, state)
    finally:
        _finish(writer, req, state, started, sampler, tracer, ranges, backend, runner)
    return dict(writer.manifest["run"])


def _options_dict(o: BuildOptions) -> dict[str, Any]:
    return {
        "shapes": {k: {"min": list(s.min), "opt": list(s.opt), "max": list(s.max)} for k, s in o.shapes.items()},
        "precisions": list(o.precisions),
        "strongly_typed": o.strongly_typed,
        "workspace_mib": o.workspace_mib,
        "optimization_level": o.optimization_level,
        "profiling_verbosity": "DETAILED",
    }


def _build_or_read(
    backend: EngineBackend,
    req: CaptureRequest,
    writer: BundleWriter,
    ranges: NvtxRanges,
    progress: Progress,
    state: _State,
) -> bytes:
    if not req.is_onnx:
        progress.phase("reading the engine")
        return read_input(req.model)
    progress.phase("building the engine (TensorRT)")
    with ranges.range("build"):
        try:
            result = backend.build(req.model, req.build)
        finally:
            writer.write_raw("build_log", "build.log", format_log(backend.log))
    writer.update(
        run={
            "build_seconds": round(result.seconds, 3),
            "plan_bytes": len(result.plan),
            "build_notes": result.notes,
        }
    )
    if req.save_engine is not None:
        atomic_write(req.save_engine, result.plan)
        writer.update(run={"engine_saved_to": str(req.save_engine)})
    return result.plan


def _warmup(runner: EngineRunner, req: CaptureRequest, ranges: NvtxRanges, progress: Progress) -> None:
    progress.phase("warming up", req.warmup)
    with ranges.range("warmup"):
        for _ in range(req.warmup):
            runner.launch(cuda_graph=req.cuda_graph)
            progress.advance()


def _timed(
    runner: EngineRunner,
    req: CaptureRequest,
    ranges: NvtxRanges,
    progress: Progress,
    state: _State,
    clock: Callable[[], int],
) -> None:
    total = req.iterations if req.duration_s is None else None
    progress.phase("timing (no profiler attached)", total)
    t0 = clock()
    deadline = None if req.duration_s is None else t0 + int(req.duration_s * 1e9)
    try:
        with ranges.range("timing"):
            i = 0
            while (deadline is None and i < (req.iterations or 0)) or (deadline is not None and clock() < deadline):
                tok = ranges.start(f"iteration {i}")
                try:
                    state.timings.append(runner.launch(cuda_graph=req.cuda_graph))
                finally:
                    ranges.end(tok)
                i += 1
                progress.advance()
    finally:
        state.timing_wall_ns = clock() - t0


def _traced(
    runner: EngineRunner, req: CaptureRequest, ranges: NvtxRanges, progress: Progress, state: _State, tracer: Tracer
) -> None:
    """Separate CUPTI-traced iterations: kernels, their launches and (with NVTX injection) TensorRT's ranges."""
    progress.phase("kernel trace (CUPTI)", req.kernel_iterations)
    tracer.start()
    state.traced = True
    try:
        with ranges.range("kernel trace"):
            for i in range(req.kernel_iterations):
                with ranges.range(f"traced iteration {i}"):
                    runner.launch(cuda_graph=req.cuda_graph)
                progress.advance()
    finally:
        tracer.stop()


def _profile(runner: EngineRunner, req: CaptureRequest, ranges: NvtxRanges, progress: Progress, state: _State) -> None:
    progress.phase("per-layer profiling (IProfiler)", req.profile_iterations)
    with ranges.range("profile"):
        for i in range(req.profile_iterations):
            tok = ranges.start(f"profile iteration {i}")
            try:
                timing, calls = runner.profile_launch(cuda_graph=req.cuda_graph)
            finally:
                ranges.end(tok)
            state.profiled.append(timing)
            state.layer_calls.append(calls)
            progress.advance()


def _write_timing(writer: BundleWriter, state: _State) -> None:
    if not state.timings or "iterations" in state.written:
        return
    writer.write_table("iterations", stats.iterations_table(state.timings))
    writer.write_raw("times", "times.json", json.dumps(stats.export_times(state.timings), indent=1))
    lat = stats.latency_summary([(t.end_ns - t.enqueue_start_ns) / 1e6 for t in state.timings])
    gpu = stats.latency_summary([t.gpu_ms for t in state.timings if t.gpu_ms is not None])
    wall = state.timing_wall_ns or 0
    writer.update(
        run={
            "iterations": len(state.timings),
            "latency_ms": lat,
            "gpu_compute_ms": gpu,
            "throughput_per_s": len(state.timings) / (wall / 1e9) if wall > 0 else None,
        }
    )
    state.written.add("iterations")


def _write_profile(writer: BundleWriter, state: _State) -> None:
    if not state.layer_calls or "profile" in state.written:
        return
    samples = stats.layer_samples_table(state.layer_calls)
    times = stats.layer_times_table(samples)
    writer.write_table("layer_samples", samples)
    writer.write_table("layer_times", times)
    writer.write_raw(
        "profile",
        "profile.json",
        json.dumps(stats.export_profile(times, len(state.layer_calls)), indent=1, ensure_ascii=False),
    )
    per_launch = [sum(ms for _, ms in calls) for calls in state.layer_calls]
    layer_sum = stats.latency_summary(per_launch).get("median")
    writer.update(
        run={
            "profiling": stats.profiling_perturbation(
                [t.gpu_ms for t in state.timings], [t.gpu_ms for t in state.profiled], layer_sum
            )
        }
    )
    state.written.add("profile")


def _finish(
    writer: BundleWriter,
    req: CaptureRequest,
    state: _State,
    started: list[Any],
    sampler: Sampler | None,
    tracer: Tracer | None,
    ranges: NvtxRanges,
    backend: EngineBackend,
    runner: EngineRunner | None,
) -> None:
    """Stop the background recorders and write whatever was recorded (also after Ctrl-C or an error)."""
    _write_timing(writer, state)
    _write_profile(writer, state)
    if runner is not None:
        runner.close()
    if req.is_onnx or backend.log:
        writer.write_raw("build_log", "build.log", format_log(backend.log))  # + runtime messages
    own_ranges = ranges.table()
    if tracer is not None and state.traced:
        t = tracer.tables(state.layer_names or None, own_ranges=own_ranges)
        writer.write_table("kernels", t.kernels)
        writer.write_table("api_calls", t.api_calls)
        writer.write_table("nvtx_ranges", t.nvtx_ranges)
        writer.update(clock_alignment={"cupti": t.alignment})
        for n in t.notes:
            writer.note(n)
    else:
        writer.write_table("nvtx_ranges", own_ranges)
    if sampler is not None and sampler in started:
        writer.write_table("nvml", sampler.stop())
    if state.raw_clock is not None:
        writer.update(clock_alignment={"monotonic_raw": state.raw_clock.stop()})
    writer.update(run={"pid": os.getpid()})
