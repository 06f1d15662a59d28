"""CUPTI's activity buffers through libcupti's C API (ctypes): one copy per buffer, no object per record.

cupti-python's buffer callback hands Python a list with one wrapper object per activity record; with CUDA
graph replays traced at node level that is one object (and a dozen attribute reads) per graph node, all
under the GIL. Here trtscope registers its own C-callable buffer callbacks with
``cuptiActivityRegisterCallbacks`` in the libcupti that cupti-python loaded (found in ``/proc/self/maps``):
buffers come from a small reusable pool, a completed buffer is copied in one ``memcpy`` and handed to the
active sink (:class:`trtscope.capture.cupti_trace.KernelTracer`), which walks it with numpy
(:mod:`trtscope.capture.cupti_records`). CUPTI keeps one pair of callbacks per process, so one
:class:`ActivityBuffers` per library lives for the whole process.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any, Protocol

from trtscope.errors import TrtscopeError

REQUEST = ctypes.CFUNCTYPE(
    None, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_size_t)
)
COMPLETE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t)
SPARE_BUFFERS = 8  # completed buffers kept for reuse (CUPTI asks again as soon as one fills)
_LIBS: dict[str, Any] = {}  # libcupti path -> its ctypes handle (one per process)


class Sink(Protocol):
    def deliver(self, raw: bytes, dropped: int) -> None: ...


def bind(lib: Any) -> Any:
    """Declare the prototypes of the few libcupti functions used here (a ctypes CDLL, or a test double)."""
    if isinstance(lib, ctypes.CDLL):
        lib.cuptiActivityRegisterCallbacks.argtypes = [REQUEST, COMPLETE]
        lib.cuptiActivityRegisterCallbacks.restype = ctypes.c_int
        lib.cuptiActivityFlushAll.argtypes = [ctypes.c_uint32]
        lib.cuptiActivityFlushAll.restype = ctypes.c_int
        lib.cuptiActivityGetNumDroppedRecords.argtypes = [
            ctypes.c_void_p,
            ctypes.c_uint32,
            ctypes.POINTER(ctypes.c_size_t),
        ]
        lib.cuptiActivityGetNumDroppedRecords.restype = ctypes.c_int
    return lib


def load_libcupti(cu: Any) -> Any | None:
    """The libcupti that the cupti-python module ``cu`` uses, opened with ctypes; None if not found."""
    from trtscope.capture.nvtx_injection import mapped_libcupti

    try:
        cu.get_timestamp()  # cupti-python loads libcupti lazily
    except Exception:
        return None
    path = mapped_libcupti()
    if path is None:
        return None
    if path not in _LIBS:
        try:
            _LIBS[path] = bind(ctypes.CDLL(path))  # the loaded copy: dlopen of a mapped path returns its handle
        except (OSError, AttributeError):
            return None
    return _LIBS[path]


def cstr(ptr: int) -> str | None:
    """The NUL-terminated string at ``ptr`` (CUPTI-owned), decoded leniently."""
    return ctypes.string_at(ptr).decode("utf-8", errors="replace") or None if ptr else None


class ActivityBuffers:
    """The process's CUPTI buffer callbacks for one library: a buffer pool and a current :class:`Sink`."""

    def __init__(self, lib: Any) -> None:
        self.lib = lib
        self.sink: Sink | None = None
        self.buffer_bytes = 8 << 20
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._spare: list[Any] = []
        self._lent: dict[int, Any] = {}
        # the C-callable thunks must outlive every use CUPTI makes of them: kept on this object, which is
        # kept for the life of the process in _BY_LIB
        self._request = REQUEST(self._on_request)
        self._complete = COMPLETE(self._on_complete)

    def register(self) -> None:
        """Point CUPTI's buffer callbacks here (replacing whatever was registered before)."""
        rc = int(self.lib.cuptiActivityRegisterCallbacks(self._request, self._complete))
        if rc != 0:
            raise TrtscopeError(f"cuptiActivityRegisterCallbacks failed (CUPTI error {rc})")

    def flush(self) -> None:
        """Deliver every buffer, complete or not (``CUPTI_ACTIVITY_FLAG_FLUSH_FORCED``); ctypes releases the
        GIL during the call, so CUPTI's own thread can deliver buffers meanwhile."""
        self.lib.cuptiActivityFlushAll(1)

    def _on_request(self, pbuf: Any, psize: Any, pmax: Any) -> None:
        try:
            size = int(self.buffer_bytes)
            with self._lock:
                buf = None
                while self._spare and buf is None:
                    cand = self._spare.pop()
                    buf = cand if ctypes.sizeof(cand) == size else None
                if buf is None:
                    buf = (ctypes.c_uint8 * size)()
                self._lent[ctypes.addressof(buf)] = buf
            pbuf[0] = ctypes.addressof(buf)
            psize[0] = size
            pmax[0] = 0  # as many records as fit
        except Exception as err:  # CUPTI drops records rather than crash: say so later
            self.errors.append(f"buffer request: {type(err).__name__}: {err}")
            pbuf[0] = None
            psize[0] = 0
            pmax[0] = 0

    def _on_complete(self, ctx: Any, stream: int, buf: Any, size: int, valid: int) -> None:
        try:
            raw = ctypes.string_at(buf, valid) if buf and valid else b""
            dropped = ctypes.c_size_t(0)
            if self.lib.cuptiActivityGetNumDroppedRecords(ctx, stream, ctypes.byref(dropped)) != 0:
                dropped.value = 0
            with self._lock:
                arr = self._lent.pop(int(buf or 0), None)
                if arr is not None and len(self._spare) < SPARE_BUFFERS:
                    self._spare.append(arr)
            sink = self.sink
            if sink is not None and (raw or dropped.value):
                sink.deliver(raw, int(dropped.value))
        except Exception as err:
            self.errors.append(f"buffer completion: {type(err).__name__}: {err}")


_BY_LIB: dict[int, ActivityBuffers] = {}


def buffers_for(lib: Any) -> ActivityBuffers:
    """The one :class:`ActivityBuffers` of ``lib`` (created and kept on first use)."""
    key = id(lib)
    if key not in _BY_LIB:
        _BY_LIB[key] = ActivityBuffers(lib)
    return _BY_LIB[key]
