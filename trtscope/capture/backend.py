"""The interface between capture orchestration and a TensorRT implementation.

``trt_backend`` implements it with the real ``tensorrt`` / ``tensorrt_rtx`` module; tests implement it with
a fake that is declared as one (``is_test_double = True``), and the orchestration refuses to label such a
run as TensorRT output. Keeping the protocol this small is what lets option handling, timing statistics,
profiler aggregation and bundle writing be tested on a machine without a GPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from trtscope.errors import TrtscopeError

#: Weak-typing precision switches (``BuilderFlag`` names, lower case). Which exist depends on the TensorRT
#: version: 10.x has them, 11.x and TensorRT-RTX are strongly typed only (the ONNX model's types decide).
PRECISIONS = ("fp16", "bf16", "int8", "fp8")


class RuntimeUnavailableError(TrtscopeError):
    """The engine was built (or read) but cannot run here, e.g. TensorRT-RTX refusing the GPU's compute
    capability. What was captured until then (the build log) stays in the bundle."""


@dataclass(frozen=True)
class ShapeSpec:
    """min/opt/max dimensions of one network input (all three equal for a ``--shapes`` entry)."""

    min: tuple[int, ...]
    opt: tuple[int, ...]
    max: tuple[int, ...]

    @classmethod
    def fixed(cls, dims: Sequence[int]) -> ShapeSpec:
        d = tuple(int(x) for x in dims)
        return cls(d, d, d)


@dataclass
class BuildOptions:
    """How to build an engine from ONNX. ``precisions`` holds names from :data:`PRECISIONS`."""

    shapes: dict[str, ShapeSpec] = field(default_factory=dict)
    precisions: tuple[str, ...] = ()
    strongly_typed: bool = False
    workspace_mib: int | None = None
    optimization_level: int | None = None


@dataclass(frozen=True)
class LogRecord:
    """One TensorRT logger message, kept whole (multi-line messages such as ``Layers:`` included)."""

    wall_time: float  # time.time() when received, for the trtexec-style line prefix
    severity: str  # "INTERNAL_ERROR" | "ERROR" | "WARNING" | "INFO" | "VERBOSE"
    message: str


_SEVERITY_LETTER = {"INTERNAL_ERROR": "F", "ERROR": "E", "WARNING": "W", "INFO": "I", "VERBOSE": "V"}


def format_log(records: Sequence[LogRecord]) -> str:
    """Render logger messages the way trtexec writes them (``[MM/DD/YYYY-HH:MM:SS] [V] [TRT] msg``), so every
    reader of trtexec logs (the ``Layers:`` listing, ``ForeignNode ... metadata:`` lines) reads ours too."""
    import time as _time

    out = []
    for r in records:
        stamp = _time.strftime("%m/%d/%Y-%H:%M:%S", _time.localtime(r.wall_time))
        out.append(f"[{stamp}] [{_SEVERITY_LETTER.get(r.severity, '?')}] [TRT] {r.message}")
    return "\n".join(out) + ("\n" if out else "")


@dataclass
class BuildResult:
    plan: bytes
    log: list[LogRecord]
    seconds: float
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TensorInfo:
    name: str
    is_input: bool
    shape: tuple[int, ...]
    dtype: str


@dataclass(frozen=True)
class LaunchTiming:
    """One inference, timed from the host (``time.monotonic_ns``) and by CUDA events on its stream."""

    enqueue_start_ns: int  # before execute_async_v3 / graph launch
    enqueue_end_ns: int  # after it returned
    end_ns: int  # after the stream synchronised
    gpu_ms: float | None  # CUDA-event time between the launch's start and end events


class EngineRunner(Protocol):
    """An engine with an execution context, its I/O bound to device buffers, on a non-default stream."""

    notes: list[str]  # what the runner decided on the user's behalf (e.g. shapes taken from the profile)

    def layer_information(self) -> str:
        """Inspector JSON (``LayerInformationFormat.JSON``) with this context attached: concrete shapes."""
        ...

    def tensors(self) -> list[TensorInfo]: ...

    def num_aux_streams(self) -> int: ...

    def launch(self, *, cuda_graph: bool) -> LaunchTiming:
        """Run one inference (no profiler attached) and wait for it."""
        ...

    def profile_launch(self, *, cuda_graph: bool) -> tuple[LaunchTiming, list[tuple[str, float]]]:
        """Run one inference with an IProfiler attached (asynchronous pattern) and return its per-layer
        callbacks ``(layer_name, ms)`` in the order TensorRT reported them."""
        ...

    def close(self) -> None: ...


class EngineBackend(Protocol):
    """A TensorRT implementation: builds plans from ONNX and opens plans for running."""

    name: str  # "tensorrt" | "tensorrt_rtx" | a test double's name
    version: str
    is_test_double: bool
    log: list[LogRecord]  # every logger message so far (build and runtime)

    def build(self, onnx_path: Path, options: BuildOptions) -> BuildResult: ...

    def open(self, plan: bytes, shapes: dict[str, tuple[int, ...]]) -> EngineRunner:
        """Deserialize ``plan`` and prepare a runner; raises :class:`RuntimeUnavailableError` when the
        runtime refuses the engine on this GPU."""
        ...


def parse_shapes(text: str) -> dict[str, tuple[int, ...]]:
    """``--shapes`` in trtexec's form: ``name:1x3x224x224[,name2:4x128]`` (names may contain ``:``; the last
    ``:`` separates the dimensions)."""
    out: dict[str, tuple[int, ...]] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, dims = part.rpartition(":")
        try:
            shape = tuple(int(d) for d in dims.lower().split("x"))
        except ValueError:
            shape = ()
        if not sep or not name or not shape or any(d <= 0 for d in shape):
            raise TrtscopeError(f"--shapes: cannot read {part!r} (expected name:1x3x224x224, dimensions > 0)")
        out[name] = shape
    return out
