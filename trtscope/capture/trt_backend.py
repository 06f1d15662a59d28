"""The one module that imports ``tensorrt`` or ``tensorrt_rtx``.

It implements :class:`~trtscope.capture.backend.EngineBackend`: build an engine from ONNX at
``ProfilingVerbosity.DETAILED`` with a logger that keeps every message (the verbose build log ends with the
one-line ``Layers:`` listing), open a serialized engine, read the inspector JSON with the execution context
attached (concrete shapes), time clean launches and run a separate IProfiler pass.

Every TensorRT name used here was checked against TensorRT's bindings source (NVIDIA/TensorRT
``python/src/infer/pyCore.cpp``, ``pyGraph.cpp``, ``parsers/pyOnnx.cpp`` at 11.1 and 10.16) and against the
``tensorrt_rtx`` 1.7 bindings; ``scripts/device/check_trt_stubs.sh`` type-checks this file against
tensorrt-stubs. The module object is bound to the global ``trt`` at run time (:func:`_bind`) so that mypy
sees ``trt`` as the stubs' ``tensorrt`` module while the process can use either implementation.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from trtscope.capture.backend import (
    PRECISIONS,
    BuildOptions,
    BuildResult,
    LaunchTiming,
    LogRecord,
    RuntimeUnavailableError,
    TensorInfo,
)
from trtscope.errors import InputError, MissingDependencyError, TrtscopeError

if TYPE_CHECKING:
    import tensorrt as trt
else:
    trt = None  # bound by _bind() to the real module in use

#: Importable names, in the order tried when the user does not choose.
MODULES = ("tensorrt", "tensorrt_rtx")
INSTALL_HOW = (
    "pip install tensorrt (TensorRT 10/11 from NVIDIA's index: pip install --extra-index-url "
    "https://pypi.nvidia.com tensorrt) / or TensorRT-RTX: pip install tensorrt-rtx"
)

#: Bytes per element by ``DataType`` name (4-bit types rounded up per element; buffers are over-sized).
_ITEMSIZE = {
    "FLOAT": 4,
    "HALF": 2,
    "BF16": 2,
    "INT8": 1,
    "UINT8": 1,
    "BOOL": 1,
    "FP8": 1,
    "E8M0": 1,
    "INT32": 4,
    "INT64": 8,
    "INT4": 1,
    "FP4": 1,
}


# --- finding the module ---
@dataclass(frozen=True)
class ModuleStatus:
    """What ``import <name>`` gives on this machine (for ``trtscope doctor`` and error messages)."""

    name: str
    real: bool  # a usable TensorRT (has Builder and Runtime)
    version: str | None
    location: str | None
    problem: str | None  # why it is not usable, one line


def is_real_tensorrt(mod: object) -> bool:
    """tensorrt-stubs (and PyPI's placeholder) make ``import tensorrt`` succeed as an empty namespace
    package; only a real build has the classes."""
    return hasattr(mod, "Builder") and hasattr(mod, "Runtime")


def probe_module(name: str) -> ModuleStatus:
    """Import ``name`` and say whether it is a real TensorRT, never raising."""
    try:
        mod = importlib.import_module(name)
    except ModuleNotFoundError as err:
        problem = "not installed" if err.name == name else f"broken install: {err}"
        return ModuleStatus(name, False, None, None, problem)
    except Exception as err:  # a real wheel whose shared libraries fail to load raises OSError/ImportError
        return ModuleStatus(name, False, None, None, f"import failed: {type(err).__name__}: {err}")
    location = getattr(mod, "__file__", None) or ", ".join(getattr(mod, "__path__", []) or [])
    if not is_real_tensorrt(mod):
        return ModuleStatus(
            name,
            False,
            None,
            location or None,
            "imports as an empty namespace package (tensorrt-stubs or a placeholder wheel), not a real TensorRT",
        )
    return ModuleStatus(name, True, str(getattr(mod, "__version__", "unknown")), location or None, None)


def import_tensorrt(prefer: str | None = None) -> ModuleType:
    """The real TensorRT module (``prefer`` names one of :data:`MODULES`), or MissingDependencyError."""
    names = (prefer,) if prefer else MODULES
    if prefer and prefer not in MODULES:
        raise TrtscopeError(f"unknown TensorRT module {prefer!r} (expected one of {', '.join(MODULES)})")
    statuses = [probe_module(n) for n in names]
    for st in statuses:
        if st.real:
            return importlib.import_module(st.name)
    found = "; ".join(f"{st.name}: {st.problem}" for st in statuses)
    raise MissingDependencyError("TensorRT", f"{INSTALL_HOW} ({found})")


def _bind(mod: ModuleType) -> None:
    global trt
    trt = mod


def _dims(d: Any) -> tuple[int, ...]:
    """A ``trt.Dims`` (sequence protocol: ``len`` and indexing) as a tuple of ints."""
    return tuple(int(d[i]) for i in range(len(d)))


def _major(version: str) -> int:
    try:
        return int(version.split(".")[0])
    except ValueError:
        return 0


# --- the logger and the profiler ---
def _make_logger(sink: list[LogRecord], echo: Callable[[LogRecord], None] | None) -> trt.ILogger:
    """An ILogger that keeps every message, VERBOSE included (TensorRT filters nothing itself)."""

    class KeepAllLogger(trt.ILogger):
        def __init__(self) -> None:
            trt.ILogger.__init__(self)

        def log(self, severity: trt.ILogger.Severity, msg: str) -> None:
            rec = LogRecord(time.time(), str(getattr(severity, "name", severity)), str(msg))
            sink.append(rec)
            if echo is not None:
                echo(rec)

    return KeepAllLogger()


class _LayerTimes:
    """Collects IProfiler callbacks; the trt.IProfiler subclass is made in :func:`_make_profiler`."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float]] = []

    def take(self) -> list[tuple[str, float]]:
        rows, self.rows = self.rows, []
        return rows


def _make_profiler(store: _LayerTimes) -> trt.IProfiler:
    class Profiler(trt.IProfiler):
        def __init__(self) -> None:
            trt.IProfiler.__init__(self)  # mandatory explicit base init

        def report_layer_time(self, layer_name: str, ms: float) -> None:
            store.rows.append((str(layer_name), float(ms)))

    return Profiler()


# --- the backend ---
class TensorRTBackend:
    """Builds and opens engines with the installed TensorRT (10.x, 11.x) or TensorRT-RTX."""

    is_test_double = False

    def __init__(self, module: str | None = None, *, echo: Callable[[LogRecord], None] | None = None) -> None:
        mod = import_tensorrt(module)
        _bind(mod)
        self.name: str = mod.__name__
        self.version: str = str(getattr(mod, "__version__", "unknown"))
        self.is_rtx = self.name == "tensorrt_rtx"
        self.log: list[LogRecord] = []
        self._logger = _make_logger(self.log, echo)
        self._runtime: Any = None

    # -- capabilities ---
    def strongly_typed_only(self) -> bool:
        """11.x and TensorRT-RTX have no weak-typing precision flags (the ONNX types decide)."""
        return not hasattr(trt.BuilderFlag, "FP16")

    def _errors_since(self, start: int) -> str:
        errs = [r.message for r in self.log[start:] if r.severity in ("ERROR", "INTERNAL_ERROR")]
        return " | ".join(" ".join(e.split()) for e in errs[-3:]) or "no error message was logged"

    # -- build ---
    def build(self, onnx_path: Path, options: BuildOptions) -> BuildResult:
        start = len(self.log)
        notes: list[str] = []
        builder = trt.Builder(self._logger)
        network = builder.create_network(self._network_flags(options, notes))
        parser = trt.OnnxParser(network, self._logger)
        if not parser.parse_from_file(str(onnx_path)):
            errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
            raise InputError(onnx_path, "TensorRT's ONNX parser failed: " + "; ".join(errors[:5]))
        config = builder.create_builder_config()
        config.profiling_verbosity = trt.ProfilingVerbosity.DETAILED
        if options.workspace_mib:
            config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(options.workspace_mib) << 20)
        if options.optimization_level is not None:
            config.builder_optimization_level = int(options.optimization_level)
        for p in options.precisions:
            config.set_flag(self._precision_flag(p, options))
        self._add_profile(builder, network, config, options, onnx_path)
        t0 = time.perf_counter()
        plan = builder.build_serialized_network(network, config)
        seconds = time.perf_counter() - t0
        if plan is None:
            raise TrtscopeError(f"{self.name} {self.version} could not build the engine: {self._errors_since(start)}")
        return BuildResult(bytes(memoryview(plan)), list(self.log[start:]), seconds, notes)

    def _network_flags(self, options: BuildOptions, notes: list[str]) -> int:
        flags = 0
        kinds = trt.NetworkDefinitionCreationFlag
        if _major(self.version) < 10 and not self.is_rtx and hasattr(kinds, "EXPLICIT_BATCH"):
            flags |= 1 << int(kinds.EXPLICIT_BATCH)  # 8.x: implicit batch is the (deprecated) default
        if options.strongly_typed:
            if self.strongly_typed_only():
                notes.append(f"{self.name} {self.version} is strongly typed only; --strongly-typed changes nothing")
            else:
                flags |= 1 << int(kinds.STRONGLY_TYPED)
        return flags

    def _precision_flag(self, name: str, options: BuildOptions) -> trt.BuilderFlag:
        if name not in PRECISIONS:
            raise TrtscopeError(f"unknown precision {name!r} (expected one of {', '.join(PRECISIONS)})")
        flag = getattr(trt.BuilderFlag, name.upper(), None)
        if flag is None:
            raise TrtscopeError(
                f"--{name}: {self.name} {self.version} is strongly typed only "
                f"(no BuilderFlag.{name.upper()}); "
                "the ONNX model's tensor types decide the precision: convert the model instead"
            )
        if options.strongly_typed:
            raise TrtscopeError(f"--{name} cannot be combined with --strongly-typed (the model's types decide)")
        return flag

    def _add_profile(
        self,
        builder: trt.Builder,
        network: trt.INetworkDefinition,
        config: trt.IBuilderConfig,
        options: BuildOptions,
        onnx_path: Path,
    ) -> None:
        inputs = {}
        for i in range(network.num_inputs):
            t = network.get_input(i)
            inputs[t.name] = _dims(t.shape)
        unknown = sorted(set(options.shapes) - set(inputs))
        if unknown:
            raise InputError(
                onnx_path,
                f"--shapes names {', '.join(unknown)} but the network's inputs are {', '.join(inputs) or '(none)'}",
            )
        dynamic = {n: d for n, d in inputs.items() if any(x < 0 for x in d)}
        missing = [n for n in dynamic if n not in options.shapes]
        if missing:
            hints = ",".join(f"{n}:" + "x".join("1" if x < 0 else str(x) for x in dynamic[n]) for n in missing)
            raise InputError(
                onnx_path,
                f"input(s) {', '.join(missing)} have dynamic dimensions; pass e.g. --shapes {hints}",
            )
        for n, spec in options.shapes.items():
            if n not in dynamic and spec.opt != inputs[n]:
                raise InputError(onnx_path, f"--shapes {n}: the input is static {list(inputs[n])}")
        if not dynamic:
            return
        profile = builder.create_optimization_profile()
        for n in dynamic:
            s = options.shapes[n]
            profile.set_shape(n, trt.Dims(list(s.min)), trt.Dims(list(s.opt)), trt.Dims(list(s.max)))
        config.add_optimization_profile(profile)

    # -- run ---
    def open(self, plan: bytes, shapes: dict[str, tuple[int, ...]]) -> TrtRunner:
        start = len(self.log)
        if self._runtime is None:
            self._runtime = trt.Runtime(self._logger)
        engine = self._runtime.deserialize_cuda_engine(plan)
        if engine is None:
            raise RuntimeUnavailableError(
                f"{self.name} {self.version} cannot run this engine on this GPU: {self._errors_since(start)}"
            )
        return TrtRunner(engine, shapes)


class TrtRunner:
    """An engine, one execution context, I/O buffers (random inputs) and a non-default stream."""

    def __init__(self, engine: trt.ICudaEngine, shapes: dict[str, tuple[int, ...]]) -> None:
        from trtscope.capture.cuda_rt import CudaRuntime

        self.cuda = CudaRuntime()
        self.engine = engine
        self.notes: list[str] = []
        ctx = engine.create_execution_context()
        if ctx is None:
            raise RuntimeUnavailableError("TensorRT could not create an execution context (see the TensorRT log)")
        self.ctx: trt.IExecutionContext = ctx
        self.stream = self.cuda.stream_create()
        self._h = int(self.stream)
        self._buffers: list[int] = []
        self._ev = (self.cuda.event_create(), self.cuda.event_create())
        self._graphs: dict[bool, Any] = {}  # profiled? -> (graph, exec)
        self._profiler_store: _LayerTimes | None = None
        self._set_shapes(shapes)
        self._bind_buffers()

    # -- setup ---
    def _io_names(self) -> list[str]:
        return [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]

    def _is_input(self, name: str) -> bool:
        return bool(self.engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT)

    def _set_shapes(self, shapes: dict[str, tuple[int, ...]]) -> None:
        names = self._io_names()
        unknown = sorted(set(shapes) - {n for n in names if self._is_input(n)})
        if unknown:
            raise TrtscopeError(f"--shapes names {', '.join(unknown)}, which the engine has no input called")
        for n in names:
            if not self._is_input(n):
                continue
            dims = _dims(self.engine.get_tensor_shape(n))
            if n in shapes:
                want = shapes[n]
            elif any(d < 0 for d in dims):
                want = _dims(self.engine.get_tensor_profile_shape(n, 0)[1])
                self.notes.append(f"input {n}: no --shapes given, used the profile's opt shape {list(want)}")
            else:
                continue
            if not self.ctx.set_input_shape(n, trt.Dims(list(want))):
                raise TrtscopeError(f"TensorRT refused shape {list(want)} for input {n}")

    def _nbytes(self, name: str) -> int:
        dims = [max(d, 0) for d in _dims(self.ctx.get_tensor_shape(name))]
        vdim = (
            int(self.engine.get_tensor_vectorized_dim(name))
            if hasattr(self.engine, "get_tensor_vectorized_dim")
            else -1
        )
        if 0 <= vdim < len(dims):
            comps = int(self.engine.get_tensor_components_per_element(name))
            dims[vdim] = -(-dims[vdim] // comps) * comps
        n = 1
        for d in dims:
            n *= d
        return n * _ITEMSIZE.get(self.engine.get_tensor_dtype(name).name, 8)

    def _bind_buffers(self) -> None:
        import numpy as np

        rng = np.random.default_rng(0)
        for n in self._io_names():
            shape = _dims(self.ctx.get_tensor_shape(n))
            if any(d < 0 for d in shape):
                raise TrtscopeError(f"tensor {n} has a data-dependent shape {list(shape)}; not supported yet")
            nbytes = self._nbytes(n)
            ptr = self.cuda.malloc(nbytes)
            self._buffers.append(ptr)
            dtype = self.engine.get_tensor_dtype(n).name
            if self._is_input(n) and dtype in ("FLOAT", "HALF", "BF16"):
                x = rng.uniform(-1.0, 1.0, size=nbytes // _ITEMSIZE[dtype]).astype(np.float32)
                host = (
                    x
                    if dtype == "FLOAT"
                    else (x.astype(np.float16) if dtype == "HALF" else (x.view(np.uint32) >> 16).astype(np.uint16))
                )
                self.cuda.memcpy_htod(ptr, np.ascontiguousarray(host))
            else:
                self.cuda.memset(ptr, 0, nbytes)  # integer inputs: zeros are valid indices
            if not self.ctx.set_tensor_address(n, ptr):
                raise TrtscopeError(f"TensorRT refused the device address of tensor {n}")

    # -- EngineRunner ---
    def layer_information(self) -> str:
        insp = self.engine.create_engine_inspector()
        insp.execution_context = self.ctx  # concrete shapes and formats
        return str(insp.get_engine_information(trt.LayerInformationFormat.JSON))

    def tensors(self) -> list[TensorInfo]:
        return [
            TensorInfo(
                n,
                self._is_input(n),
                _dims(self.ctx.get_tensor_shape(n)),
                str(self.engine.get_tensor_dtype(n).name),
            )
            for n in self._io_names()
        ]

    def num_aux_streams(self) -> int:
        return int(getattr(self.engine, "num_aux_streams", 0))

    def _enqueue(self) -> None:
        if not self.ctx.execute_async_v3(self._h):
            raise TrtscopeError("execute_async_v3 failed (see the TensorRT log)")

    def _graph(self, profiled: bool) -> Any:
        """Capture one enqueue into a CUDA graph (after one plain enqueue, which TensorRT needs first)."""
        if profiled not in self._graphs:
            self._enqueue()
            self.cuda.stream_sync(self.stream)
            self.cuda.capture_begin(self.stream)
            try:
                self._enqueue()
            finally:
                graph = self.cuda.capture_end(self.stream)
            self._graphs[profiled] = graph
        return self._graphs[profiled][1]

    def _timed(self, cuda_graph: bool, profiled: bool) -> LaunchTiming:
        gexec = self._graph(profiled) if cuda_graph else None
        t0 = time.monotonic_ns()
        self.cuda.event_record(self._ev[0], self.stream)
        if gexec is not None:
            self.cuda.graph_launch(gexec, self.stream)
        else:
            self._enqueue()
        self.cuda.event_record(self._ev[1], self.stream)
        t1 = time.monotonic_ns()
        self.cuda.stream_sync(self.stream)
        t2 = time.monotonic_ns()
        return LaunchTiming(t0, t1, t2, self.cuda.event_elapsed_ms(*self._ev))

    def launch(self, *, cuda_graph: bool) -> LaunchTiming:
        if self._profiler_store is not None:
            raise TrtscopeError("internal: clean timing after the profiler was attached")
        return self._timed(cuda_graph, profiled=False)

    def profile_launch(self, *, cuda_graph: bool) -> tuple[LaunchTiming, list[tuple[str, float]]]:
        if self._profiler_store is None:
            self._profiler_store = _LayerTimes()
            self.ctx.profiler = _make_profiler(self._profiler_store)
            # asynchronous pattern: enqueue records events only; report_to_profiler() computes the times
            self.ctx.enqueue_emits_profile = False
        timing = self._timed(cuda_graph, profiled=True)
        if not self.ctx.report_to_profiler():
            raise TrtscopeError("report_to_profiler() returned False (no per-layer times for this launch)")
        return timing, self._profiler_store.take()

    def close(self) -> None:
        for graph, gexec in self._graphs.values():
            self.cuda.graph_destroy(graph, gexec)
        self._graphs.clear()
        for ev in self._ev:
            self.cuda.event_destroy(ev)
        for ptr in self._buffers:
            self.cuda.free(ptr)
        self._buffers.clear()
        del self.ctx
        self.cuda.stream_destroy(self.stream)
