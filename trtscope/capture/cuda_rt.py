"""The few CUDA runtime calls a TensorRT timing run needs, through NVIDIA's ``cuda-python`` bindings.

TensorRT's Python API takes raw device pointers and stream handles but allocates nothing for the user;
TensorRT's own samples use ``cuda.bindings.runtime`` for that, and so do we (imported lazily). Every call
returns ``(error, *values)`` in cuda-python; :meth:`CudaRuntime._ok` turns a failure into one readable
exception.
"""

from __future__ import annotations

from typing import Any

from trtscope.errors import MissingDependencyError, TrtscopeError

_HOW = "pip install cuda-python (NVIDIA's CUDA Python bindings; TensorRT's own samples use them)"


class CudaError(TrtscopeError):
    """A CUDA runtime call failed."""


def import_cudart() -> Any:
    """The ``cuda.bindings.runtime`` module (cuda-python >= 12.6), or the older ``cuda.cudart``."""
    try:
        from cuda.bindings import runtime

        return runtime
    except ImportError:
        pass
    try:
        from cuda import cudart

        return cudart
    except ImportError as err:
        raise MissingDependencyError("cuda-python (module cuda.bindings)", _HOW) from err


class CudaRuntime:
    """Thin, checked wrappers; handles stay cuda-python objects, pointers are ints."""

    def __init__(self, cudart: Any | None = None) -> None:
        self.rt = cudart if cudart is not None else import_cudart()

    def _ok(self, result: Any, what: str) -> Any:
        err, *values = result if isinstance(result, tuple) else (result,)
        if int(err) != 0:
            try:
                name = self.rt.cudaGetErrorName(err)[1]
                name = name.decode() if isinstance(name, bytes) else str(name)
            except Exception:
                name = str(err)
            raise CudaError(f"CUDA {what} failed: {name}")
        if not values:
            return None
        return values[0] if len(values) == 1 else tuple(values)

    # -- versions ---
    def driver_version(self) -> int:
        return int(self._ok(self.rt.cudaDriverGetVersion(), "cudaDriverGetVersion"))

    def runtime_version(self) -> int:
        return int(self._ok(self.rt.cudaRuntimeGetVersion(), "cudaRuntimeGetVersion"))

    # -- memory ---
    def malloc(self, nbytes: int) -> int:
        return int(self._ok(self.rt.cudaMalloc(max(int(nbytes), 1)), "cudaMalloc"))

    def free(self, ptr: int) -> None:
        self._ok(self.rt.cudaFree(ptr), "cudaFree")

    def memcpy_htod(self, dst: int, host: Any) -> None:
        """Copy a contiguous numpy array to device memory (synchronously)."""
        kind = self.rt.cudaMemcpyKind.cudaMemcpyHostToDevice
        self._ok(self.rt.cudaMemcpy(dst, host.ctypes.data, host.nbytes, kind), "cudaMemcpy")

    def memset(self, dst: int, value: int, nbytes: int) -> None:
        self._ok(self.rt.cudaMemset(dst, value, nbytes), "cudaMemset")

    # -- streams and events ---
    def stream_create(self) -> Any:
        """A non-blocking stream: TensorRT warns that the default stream costs extra synchronisation."""
        return self._ok(self.rt.cudaStreamCreateWithFlags(self.rt.cudaStreamNonBlocking), "cudaStreamCreate")

    def stream_sync(self, stream: Any) -> None:
        self._ok(self.rt.cudaStreamSynchronize(stream), "cudaStreamSynchronize")

    def stream_destroy(self, stream: Any) -> None:
        self._ok(self.rt.cudaStreamDestroy(stream), "cudaStreamDestroy")

    def event_create(self) -> Any:
        return self._ok(self.rt.cudaEventCreate(), "cudaEventCreate")

    def event_record(self, event: Any, stream: Any) -> None:
        self._ok(self.rt.cudaEventRecord(event, stream), "cudaEventRecord")

    def event_elapsed_ms(self, start: Any, end: Any) -> float:
        return float(self._ok(self.rt.cudaEventElapsedTime(start, end), "cudaEventElapsedTime"))

    def event_destroy(self, event: Any) -> None:
        self._ok(self.rt.cudaEventDestroy(event), "cudaEventDestroy")

    # -- CUDA graphs ---
    def capture_begin(self, stream: Any) -> None:
        mode = self.rt.cudaStreamCaptureMode.cudaStreamCaptureModeThreadLocal
        self._ok(self.rt.cudaStreamBeginCapture(stream, mode), "cudaStreamBeginCapture")

    def capture_end(self, stream: Any) -> Any:
        """End a capture and instantiate it: returns ``(graph, graph_exec)``."""
        graph = self._ok(self.rt.cudaStreamEndCapture(stream), "cudaStreamEndCapture")
        graph_exec = self._ok(self.rt.cudaGraphInstantiate(graph, 0), "cudaGraphInstantiate")
        return graph, graph_exec

    def graph_launch(self, graph_exec: Any, stream: Any) -> None:
        self._ok(self.rt.cudaGraphLaunch(graph_exec, stream), "cudaGraphLaunch")

    def graph_destroy(self, graph: Any, graph_exec: Any) -> None:
        self._ok(self.rt.cudaGraphExecDestroy(graph_exec), "cudaGraphExecDestroy")
        self._ok(self.rt.cudaGraphDestroy(graph), "cudaGraphDestroy")


def handle(obj: Any) -> int:
    """The integer value of a cuda-python handle (what TensorRT's ``execute_async_v3`` takes)."""
    return int(obj)  # cuda-python handles convert with int(); getPtr() would be the handle's own address
