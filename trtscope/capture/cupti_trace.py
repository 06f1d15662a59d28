"""CUDA kernel tracing through CUPTI's activity API (``cupti-python``, imported lazily).

Records kernels (CONCURRENT_KERNEL), the runtime and driver API calls that launched them, and NVTX markers
(which arrive only when the process started with NVTX_INJECTION64_PATH naming libcupti, see
:mod:`trtscope.capture.nvtx_injection`). CUPTI's buffers are taken through libcupti's C API, copied once
and decoded with numpy after the run (:mod:`~trtscope.capture.cupti_buffers`,
:mod:`~trtscope.capture.cupti_records`); cupti-python's own callback (one Python object per record) is the
fallback. At :meth:`KernelTracer.stop` every CUPTI timestamp is mapped onto the
run clock (``time.monotonic_ns``) with paired readings of ``cupti.get_timestamp()`` and the run clock taken
at start and stop (offset and drift), and kernels are attributed with
:func:`trtscope.analysis.kernel_ranges.map_kernels`: kernel -> launching API call (correlation id) ->
innermost NVTX range on the launching thread -> engine layer.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from trtscope.capture.clocks import bracket, two_point_map
from trtscope.capture.cupti_buffers import ActivityBuffers, buffers_for, cstr, load_libcupti
from trtscope.capture.cupti_records import (
    DEFAULT_LAYOUTS,
    KERNEL_FIELDS,
    MARKER_FIELDS,
    Chunk,
    api_records,
    kernel_records,
    layouts_from_cupti,
    marker_records,
    read_chunk,
)
from trtscope.capture.nvtx_ranges import DOMAIN as TRTSCOPE_DOMAIN
from trtscope.errors import MissingDependencyError, TrtscopeError
from trtscope.model.tables import API_CALL_COLUMNS, KERNEL_COLUMNS, NVTX_RANGE_COLUMNS, ensure_columns

HOW = (
    "pip install cupti-python==<the driver's CUDA major.minor>.* (e.g. cupti-python==13.0.* for a CUDA 13.0 "
    "driver: a CUPTI newer than the driver records nothing)"
)


MARKER_START, MARKER_END = 1 << 1, 1 << 2  # CUPTI_ACTIVITY_FLAG_MARKER_* (the Python enum lacks END)

API_RECORD_COLUMNS = ("correlation_id", "kind", "cbid", "start", "end", "process_id", "thread_id", "return_value")
#: API calls that launch GPU work: the ones kernel attribution needs (``api_calls="launches"``)
LAUNCH_PREFIXES = {"runtime": ("cudaLaunch", "cudaGraphLaunch"), "driver": ("cuLaunch", "cuGraphLaunch")}
_MAX_CBID = 2048
_ACTIVE: KernelTracer | None = None  # CUPTI has one set of activity callbacks per process
_CALLBACKS: object = None  # what CUPTI's buffer callbacks point at now (the cupti module, or ActivityBuffers)


def import_cupti() -> Any:
    try:
        from cupti import cupti

        return cupti
    except ImportError as err:
        raise MissingDependencyError("CUPTI (cupti-python)", HOW) from err


@dataclass(frozen=True)
class ClockPair:
    """A CUPTI timestamp and the run clock read around it (``run_ns`` is the midpoint)."""

    cupti_ns: int
    run_ns: int
    half_width_ns: int

    @classmethod
    def read(cls, cupti_clock: Callable[[], int], run_clock: Callable[[], int]) -> ClockPair:
        """The tightest of a few readings of the run clock around a CUPTI timestamp."""
        return cls(*bracket(run_clock, cupti_clock))


@dataclass(frozen=True)
class ClockAlignment:
    """Linear map from CUPTI's clock to the run clock through two paired readings."""

    first: ClockPair
    last: ClockPair

    def to_run(self, ts: Any) -> np.ndarray:
        """Map CUPTI ns to run-clock ns in int64 (no float: epoch-sized ns exceed float64 precision)."""
        a, b = self.first, self.last
        return two_point_map(ts, a.cupti_ns, a.run_ns, b.cupti_ns, b.run_ns)

    def as_dict(self) -> dict[str, Any]:
        dc = self.last.cupti_ns - self.first.cupti_ns
        dm = self.last.run_ns - self.first.run_ns
        return {
            "method": "paired readings of cupti.get_timestamp() and time.monotonic_ns() at start and stop",
            "offset_ns": self.first.run_ns - self.first.cupti_ns,
            "drift_ppm": round((dm - dc) / dc * 1e6, 3) if dc > 0 else None,
            "uncertainty_ns": max(self.first.half_width_ns, self.last.half_width_ns),
        }


@dataclass
class TraceTables:
    kernels: pd.DataFrame  # KERNEL_COLUMNS (+ range_basis)
    api_calls: pd.DataFrame  # API_CALL_COLUMNS
    nvtx_ranges: pd.DataFrame  # NVTX_RANGE_COLUMNS
    alignment: dict[str, Any]
    notes: list[str]


class KernelTracer:
    """``start()`` / ``stop()`` CUPTI activity recording; :meth:`tables` gives aligned, attributed tables."""

    def __init__(
        self,
        *,
        cupti: Any = None,
        clock: Callable[[], int] = time.monotonic_ns,
        buffer_bytes: int = 8 << 20,
        api_calls: str = "launches",
        decode: str = "auto",
        libcupti: Any = None,
    ) -> None:
        """``api_calls="launches"`` records only the runtime/driver calls that launch work (what kernel
        attribution needs; PyTorch makes ~15 other runtime calls per kernel); ``"all"`` records every call.

        ``decode="raw"`` takes CUPTI's buffers through libcupti's C API and decodes them with numpy
        (:mod:`trtscope.capture.cupti_buffers`, :mod:`trtscope.capture.cupti_records`); ``"objects"`` uses
        cupti-python's buffer callback (one Python object per record: microseconds each, under the GIL);
        ``"auto"`` is raw when the libcupti that cupti-python loaded is found (or ``libcupti`` is given)."""
        if api_calls not in ("launches", "all"):
            raise ValueError("api_calls must be 'launches' or 'all'")
        if decode not in ("auto", "raw", "objects"):
            raise ValueError("decode must be 'auto', 'raw' or 'objects'")
        self.api_calls = api_calls
        self._switched_off: dict[str, list[int]] = {}
        injected = cupti is not None
        self.cupti = cupti if injected else import_cupti()
        self._clock = clock
        self._buffer_bytes = int(buffer_bytes)
        self._lock = threading.Lock()
        self.kernels: list[tuple[Any, ...]] = []
        self.api: list[tuple[Any, ...]] = []
        self.markers: list[tuple[Any, ...]] = []
        self.chunks: list[Chunk] = []
        self.stats = {"records": 0, "buffers": 0, "dropped": 0, "callback_s": 0.0, "decode_s": 0.0}
        self._first: ClockPair | None = None
        self._last: ClockPair | None = None
        self._kinds: list[Any] = []
        self._notes: list[str] = []
        cu = self.cupti
        self._kernel_kinds = {int(cu.ActivityKind.CONCURRENT_KERNEL), int(cu.ActivityKind.KERNEL)}
        self._api_kinds = {int(cu.ActivityKind.RUNTIME): "runtime", int(cu.ActivityKind.DRIVER): "driver"}
        self._marker_kind = int(cu.ActivityKind.MARKER)
        self._buffers: ActivityBuffers | None = None
        self._layouts = DEFAULT_LAYOUTS
        if decode != "objects":
            lib = libcupti if libcupti is not None else None if injected else load_libcupti(cu)
            if lib is not None:
                self._buffers = buffers_for(lib)
                self._layouts = layouts_from_cupti(cu)
            elif decode == "raw":
                raise TrtscopeError("CUPTI: the libcupti that cupti-python loaded was not found (raw decoding)")
        self.decode = "raw" if self._buffers is not None else "objects"

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> None:
        global _ACTIVE, _CALLBACKS
        cu = self.cupti
        try:
            cu.set_thread_id_type(cu.ActivityThreadIdType.SYSTEM)  # tids = gettid(), as threading reports
            if self._buffers is not None:
                self._buffers.buffer_bytes = self._buffer_bytes
                self._buffers.sink = self
                if _CALLBACKS is not self._buffers:
                    self._buffers.register()
                    _CALLBACKS = self._buffers
            elif _CALLBACKS is not cu:
                cu.activity_register_callbacks(_buffer_requested, _buffer_completed)
                _CALLBACKS = cu
            _ACTIVE = self
            self._kinds = [
                cu.ActivityKind.CONCURRENT_KERNEL,
                cu.ActivityKind.RUNTIME,
                cu.ActivityKind.DRIVER,
                cu.ActivityKind.MARKER,
            ]
            for k in self._kinds:
                cu.activity_enable(k)
            if self.api_calls == "launches":
                self._switched_off = _switch_off_non_launch_apis(cu)
        except Exception as err:
            _ACTIVE = None
            if self._buffers is not None:
                self._buffers.sink = None
            raise TrtscopeError(f"CUPTI failed to start ({type(err).__name__}: {err}); {HOW}") from err
        self._first = ClockPair.read(cu.get_timestamp, self._clock)

    def stop(self) -> None:
        global _ACTIVE
        cu = self.cupti
        self._last = ClockPair.read(cu.get_timestamp, self._clock)
        try:
            if self._buffers is not None:
                self._buffers.flush()  # forced flush: deliver every buffer, complete or not
            else:
                cu.activity_flush_all(1)
        finally:
            for k in self._kinds:
                with contextlib.suppress(Exception):  # keep going: the records are already here
                    cu.activity_disable(k)
            _set_apis(cu, self._switched_off, 1)  # leave CUPTI as we found it
            self._switched_off = {}
            _ACTIVE = None
            if self._buffers is not None:
                self._buffers.sink = None
                self._notes.extend(f"CUPTI {e}" for e in self._buffers.errors)
                self._buffers.errors.clear()

    # -- records ---
    def deliver(self, raw: bytes, dropped: int) -> None:
        """Take one completed CUPTI buffer (raw decoding; called on CUPTI's thread): walk it now and resolve
        its string pointers while CUPTI's strings are alive; the fields are decoded in :meth:`tables`."""
        t0 = time.perf_counter()
        chunk = read_chunk(raw, self._layouts, cstr)
        with self._lock:
            self.chunks.append(chunk)
            self.stats["buffers"] += 1
            self.stats["records"] += chunk.records
            self.stats["dropped"] += int(dropped)
            self.stats["callback_s"] += time.perf_counter() - t0
        if chunk.walk.end < len(raw):
            self._notes.append(
                f"CUPTI buffer not fully read: a record of kind {chunk.walk.stopped_at_kind} at byte "
                f"{chunk.walk.end} of {len(raw)} (unknown kind or size); the records after it are missing"
            )

    def consume(self, activities: Iterable[Any]) -> None:
        """Copy the fields of a delivered buffer's records (cupti-python's buffer callback, ``objects``)."""
        t0 = time.perf_counter()
        kernels, api, markers = [], [], []
        for a in activities:
            kind = int(a.kind)
            if kind in self._kernel_kinds:
                kernels.append(tuple(getattr(a, f) for f in KERNEL_FIELDS))
            elif kind in self._api_kinds:
                api.append(
                    (
                        int(a.correlation_id),
                        self._api_kinds[kind],
                        int(a.cbid),
                        int(a.start),
                        int(a.end),
                        int(a.process_id),
                        int(a.thread_id),
                        int(a.return_value),
                    )
                )
            elif kind == self._marker_kind:
                pt = a.object_id.pt
                markers.append(
                    (
                        int(a.id),
                        int(a.flags_),
                        a.name or None,
                        a.domain or None,
                        int(a.timestamp),
                        int(pt.process_id),
                        int(pt.thread_id),
                    )
                )
        with self._lock:
            self.kernels.extend(kernels)
            self.api.extend(api)
            self.markers.extend(markers)
            self.stats["buffers"] += 1
            self.stats["records"] += len(kernels) + len(api) + len(markers)
            self.stats["callback_s"] += time.perf_counter() - t0

    def alignment(self) -> ClockAlignment:
        if self._first is None or self._last is None:
            raise TrtscopeError("internal: the kernel tracer was not started and stopped")
        return ClockAlignment(self._first, self._last)

    def records(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """The recorded kernels, API calls and markers on CUPTI's clock, whichever way they were decoded.
        Columns: KERNEL_FIELDS; correlation_id, kind, cbid, start, end, process_id, thread_id, return_value;
        id, flags, name, domain, timestamp, process_id, thread_id."""
        if self.decode == "raw":
            return (
                kernel_records(self.chunks, self._layouts),
                api_records(self.chunks, self._layouts),
                marker_records(self.chunks, self._layouts),
            )
        return (
            pd.DataFrame.from_records(self.kernels, columns=list(KERNEL_FIELDS)),
            pd.DataFrame.from_records(self.api, columns=list(API_RECORD_COLUMNS)),
            pd.DataFrame.from_records(self.markers, columns=list(MARKER_FIELDS)),
        )

    def tables(self, layer_names: Iterable[str] | None = None, own_ranges: pd.DataFrame | None = None) -> TraceTables:
        """Aligned tables. ``own_ranges`` (trtscope's host-recorded ranges, on the run clock and covering the
        whole capture) replace CUPTI's copies of the ``trtscope`` domain; the other domains' ranges from CUPTI
        (TensorRT's per-layer ones) are added to them, renumbered."""
        al = self.alignment()
        t0 = time.perf_counter()
        kernel_rec, api_rec, marker_rec = self.records()
        self.stats["decode_s"] = time.perf_counter() - t0
        notes: list[str] = list(self._notes)
        if self.stats["dropped"]:
            notes.append(f"CUPTI dropped {self.stats['dropped']} activity records (buffers full)")
        api = self._api_table(api_rec, al)
        ranges = _range_table(marker_rec, al)
        if own_ranges is not None:
            if len(ranges) == 0:
                notes.append(
                    "no NVTX markers reached CUPTI (NVTX_INJECTION64_PATH was not set at start): kernels "
                    "are matched against trtscope's own ranges only, not TensorRT's per-layer ranges"
                )
            ranges = merge_ranges(own_ranges, ranges[ranges["domain"].fillna("") != TRTSCOPE_DOMAIN])
        kernels = _kernel_table(kernel_rec, al, api)
        if len(kernels) == 0:
            notes.append(
                "CUPTI recorded no kernels (nothing ran on the GPU while tracing, or a cupti-python newer "
                "than the driver's CUDA: that records nothing)"
            )
        from trtscope.analysis.kernel_ranges import assign_layers, assign_ranges

        kernels = assign_ranges(kernels, ranges)
        if layer_names:
            kernels = assign_layers(kernels, list(layer_names), ranges)
        graph = kernels["graph_node_id"].fillna(0) != 0
        if bool(graph.any()):
            notes.append(
                f"{int(graph.sum())} kernels came from CUDA graph replays: no per-kernel NVTX range "
                "(ranges are recorded at capture, not replay)"
            )
        return TraceTables(ensure_columns(kernels, KERNEL_COLUMNS), api, ranges, al.as_dict(), notes)

    def _api_table(self, rec: pd.DataFrame, al: ClockAlignment) -> pd.DataFrame:
        df = rec.rename(columns={"start": "start_ns", "end": "end_ns", "process_id": "pid", "thread_id": "tid"})
        for c in ("correlation_id", "cbid", "start_ns", "end_ns", "pid", "tid", "return_value"):
            df[c] = df[c].astype("int64")
        if len(df):
            df["start_ns"] = al.to_run(df["start_ns"].to_numpy())
            df["end_ns"] = al.to_run(df["end_ns"].to_numpy())
        # one CUPTI name lookup per distinct (API, callback id), spread back with one take
        key = df["cbid"].to_numpy(dtype=np.int64) * 2 + (df["kind"].to_numpy(dtype=object) == "driver")
        uniq, inv = np.unique(key, return_inverse=True)
        names = [self._callback_name("driver" if u % 2 else "runtime", int(u // 2)) for u in uniq]
        df["name"] = pd.array(names, dtype="str").take(inv.astype(np.int64).ravel())
        return df[list(API_CALL_COLUMNS)].sort_values("start_ns", kind="stable").reset_index(drop=True)

    def _callback_name(self, api: str, cbid: int) -> str:
        cu = self.cupti
        dom = cu.CallbackDomain.RUNTIME_API if api == "runtime" else cu.CallbackDomain.DRIVER_API
        try:
            name = cu.get_callback_name(dom, int(cbid))
            return name.decode() if isinstance(name, bytes) else str(name)
        except Exception:
            return f"{api} cbid {cbid}"


def _range_table(m: pd.DataFrame, al: ClockAlignment) -> pd.DataFrame:
    """NVTX ranges from marker records (start records carry the text; end records share the id)."""
    flags = m["flags"].astype("int64")
    starts = m[(flags & MARKER_START) != 0]
    ends = m[(flags & MARKER_END) != 0][["id", "timestamp"]].drop_duplicates("id")
    r = starts.merge(ends.rename(columns={"timestamp": "end_ts"}), on="id", how="left")
    out = pd.DataFrame(
        {
            "range_id": pd.array(r["id"].to_numpy(dtype=np.int64), dtype="Int64"),
            "name": r["name"].astype(object),
            "domain": r["domain"].astype(object),
            "start_ns": pd.array(al.to_run(r["timestamp"].to_numpy(dtype=np.int64)), dtype="Int64"),
            "end_ns": pd.array(np.zeros(len(r), dtype=np.int64), dtype="Int64"),
            "pid": pd.array(r["process_id"].to_numpy(dtype=np.int64), dtype="Int64"),
            "tid": pd.array(r["thread_id"].to_numpy(dtype=np.int64), dtype="Int64"),
        }
    )
    closed = r["end_ts"].notna().to_numpy()
    end = al.to_run(r["end_ts"].fillna(0).to_numpy(dtype=np.int64))
    out["end_ns"] = pd.array(np.where(closed, end, 0), dtype="Int64")
    out.loc[~closed, "end_ns"] = pd.NA
    from trtscope.model.intervals import nest_ranges

    out = ensure_columns(out, NVTX_RANGE_COLUMNS)
    out = nest_ranges(out.sort_values("start_ns", kind="stable").reset_index(drop=True))
    return ensure_columns(out, NVTX_RANGE_COLUMNS)


def _kernel_table(rec: pd.DataFrame, al: ClockAlignment, api: pd.DataFrame) -> pd.DataFrame:
    k = rec.rename(columns={"start": "start_ns", "end": "end_ns"})
    for c in ("start_ns", "end_ns"):
        k[c] = al.to_run(k[c].to_numpy(dtype=np.int64)) if len(k) else k[c].astype("int64")
    # the launching call: runtime and driver records may share the correlation id; the runtime call
    # encloses the driver call on the same thread, so take the widest interval
    launch = api.groupby("correlation_id").agg(
        api_start_ns=("start_ns", "min"),
        api_end_ns=("end_ns", "max"),
        pid=("pid", "first"),
        tid=("tid", "first"),
    )
    # joined by position (sorted correlation ids): integer columns stay int64 with a mask, never float/object
    ids = launch.index.to_numpy(dtype=np.int64)
    corr = _int64(k["correlation_id"])
    pos = np.minimum(np.searchsorted(ids, corr.to_numpy(dtype=np.int64, na_value=-1)), max(len(ids) - 1, 0))
    found = np.zeros(len(k), dtype=bool) if len(ids) == 0 else (ids[pos] == corr.to_numpy(np.int64, na_value=-1))
    for c in ("api_start_ns", "api_end_ns", "pid", "tid"):
        values = launch[c].to_numpy(dtype=np.int64)[pos] if len(ids) else np.zeros(len(k), dtype=np.int64)
        k[c] = pd.arrays.IntegerArray(np.where(found, values, 0), ~found)
    for c in ("graph_node_id", "correlation_id", "device_id", "stream_id"):
        k[c] = _int64(k[c])
    return ensure_columns(k.sort_values("start_ns", kind="stable").reset_index(drop=True), KERNEL_COLUMNS)


def _int64(col: pd.Series) -> Any:
    """A column as a nullable Int64 array: directly from integers, through objects only when it has gaps."""
    if pd.api.types.is_integer_dtype(col.dtype) and not isinstance(col.dtype, pd.CategoricalDtype):
        values = col.to_numpy(dtype=np.int64, na_value=0)
        return pd.arrays.IntegerArray(values, col.isna().to_numpy())
    return pd.array(col.to_numpy(dtype=object), dtype="Int64")


def merge_ranges(*tables: pd.DataFrame) -> pd.DataFrame:
    """One NVTX range table from several (same clock): new ``range_id`` = position, nesting recomputed."""
    from trtscope.model.intervals import nest_ranges

    parts = [ensure_columns(t.copy(), NVTX_RANGE_COLUMNS)[list(NVTX_RANGE_COLUMNS)] for t in tables if len(t)]
    if not parts:
        return ensure_columns(pd.DataFrame(columns=list(NVTX_RANGE_COLUMNS)), NVTX_RANGE_COLUMNS)
    out = pd.concat(parts, ignore_index=True).sort_values("start_ns", kind="stable").reset_index(drop=True)
    for c in ("start_ns", "end_ns", "pid", "tid"):
        out[c] = pd.array(out[c].to_numpy(dtype=object), dtype="Int64")
    out["range_id"] = pd.array(range(len(out)), dtype="Int64")
    out["parent_id"] = None
    return ensure_columns(nest_ranges(out), NVTX_RANGE_COLUMNS)


# --- API filtering ---
def _callback_names(cu: Any, domain: Any) -> dict[int, str]:
    names: dict[int, str] = {}
    for cbid in range(1, _MAX_CBID):
        try:
            name = cu.get_callback_name(domain, cbid)
        except Exception:  # not a valid callback id in this CUPTI
            continue
        names[cbid] = name.decode() if isinstance(name, bytes) else str(name)
    return names


def _set_apis(cu: Any, cbids: dict[str, list[int]], enable: int) -> None:
    for api, ids in cbids.items():
        fn = cu.activity_enable_runtime_api if api == "runtime" else cu.activity_enable_driver_api
        for cbid in ids:
            with contextlib.suppress(Exception):
                fn(cbid, enable)


def _switch_off_non_launch_apis(cu: Any) -> dict[str, list[int]]:
    """Turn off activity records for every runtime/driver API that launches nothing. Safe whichever way
    CUPTI combines per-API control with the enabled kinds: at worst the calls are no-ops and all records
    arrive, as without filtering."""
    if not hasattr(cu, "activity_enable_runtime_api"):
        return {}
    off: dict[str, list[int]] = {}
    for api, dom in (("runtime", cu.CallbackDomain.RUNTIME_API), ("driver", cu.CallbackDomain.DRIVER_API)):
        names = _callback_names(cu, dom)
        off[api] = [c for c, n in names.items() if not n.startswith(LAUNCH_PREFIXES[api])]
    _set_apis(cu, off, 0)
    return off


# --- CUPTI callbacks (module level: CUPTI holds one pair per process) ---
def _buffer_requested() -> tuple[int, int]:
    size = _ACTIVE._buffer_bytes if _ACTIVE is not None else 8 << 20
    return size, 0  # 0: as many records as fit


def _buffer_completed(activities: Any) -> None:
    tracer = _ACTIVE
    if tracer is not None:
        tracer.consume(activities)
