"""CUPTI buffers taken raw through libcupti's C API and decoded with numpy (no GPU needed).

Buffers are built here byte by byte in the layouts of CUPTI 13.0's ``cupti_activity.h``
(``CUpti_ActivityKernel10`` 216 bytes, ``CUpti_ActivityAPI`` 40, ``CUpti_ActivityMarker2`` 56; offsets
written out below from the header, independently of the module's tables), with string fields pointing at real
C strings. A stand-in for libcupti (a declared test double) calls trtscope's real ctypes callbacks with real
memory. Expected values come from how the records were built; the raw path must give exactly the tables the
cupti-python object path gives for the same records.
"""

from __future__ import annotations

import ctypes
import struct
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.test_capture_cupti import OFFSET, FakeCupti, StepClock, api, kernel, marker
from tests.test_capture_cupti import traced_records as records
from trtscope.capture import cupti_records as cr
from trtscope.capture.cupti_trace import KernelTracer

_KEEP: list[Any] = []  # C strings the synthetic records point at


def c_string(text: str | None) -> int:
    if text is None:
        return 0
    buf = ctypes.create_string_buffer(text.encode())
    _KEEP.append(buf)
    return ctypes.addressof(buf)


def kernel_bytes(k: Any, kind: int = 10) -> bytes:
    """CUpti_ActivityKernel10, fields at the header's offsets."""
    b = bytearray(216)
    struct.pack_into("<I", b, 0, kind)
    struct.pack_into("<QQ", b, 16, k.start, k.end)
    struct.pack_into("<I", b, 40, k.device_id)
    struct.pack_into("<I", b, 48, k.stream_id)
    struct.pack_into("<iiiiii", b, 52, k.grid_x, k.grid_y, k.grid_z, k.block_x, k.block_y, k.block_z)
    struct.pack_into("<I", b, 92, k.correlation_id)
    struct.pack_into("<Q", b, 104, c_string(k.name))
    struct.pack_into("<Q", b, 144, k.graph_node_id)
    return bytes(b)


def api_bytes(a: Any) -> bytes:
    """CUpti_ActivityAPI: kind, cbid, start, end, processId, threadId, correlationId, returnValue."""
    return struct.pack(
        "<IIQQIIII", int(a.kind), a.cbid, a.start, a.end, a.process_id, a.thread_id, a.correlation_id, a.return_value
    )


def marker_bytes(m: Any) -> bytes:
    """CUpti_ActivityMarker2: kind, flags, timestamp, id, objectKind, objectId (pt), pad, name, domain."""
    b = bytearray(56)
    struct.pack_into("<IIQII", b, 0, int(m.kind), m.flags_, m.timestamp, m.id, 0)
    struct.pack_into("<II", b, 24, m.object_id.pt.process_id, m.object_id.pt.thread_id)
    struct.pack_into("<QQ", b, 40, c_string(m.name), c_string(m.domain))
    return bytes(b)


def to_bytes(rec: Any) -> bytes:
    kind = int(rec.kind)
    if kind == 10:
        return kernel_bytes(rec)
    if kind in (4, 5):
        return api_bytes(rec)
    return marker_bytes(rec)


class FakeLibcupti:
    """Test double of libcupti's buffer API: on flush, asks for buffers through the registered request
    callback, fills them with the queued payloads and completes them, as CUPTI does."""

    def __init__(self) -> None:
        self.callbacks: tuple[Any, Any] | None = None
        self.payloads: list[bytes] = []
        self.dropped = 0

    def cuptiActivityRegisterCallbacks(self, request: Any, complete: Any) -> int:
        self.callbacks = (request, complete)
        return 0

    def cuptiActivityFlushAll(self, flag: int) -> int:
        assert self.callbacks is not None
        request, complete = self.callbacks
        for payload in self.payloads:
            buf, size, most = ctypes.c_void_p(), ctypes.c_size_t(), ctypes.c_size_t()
            request(ctypes.byref(buf), ctypes.byref(size), ctypes.byref(most))
            assert buf.value and size.value >= len(payload)
            ctypes.memmove(buf.value, payload, len(payload))
            complete(None, 0, buf.value, size.value, len(payload))
        self.payloads = []
        return 0

    def cuptiActivityGetNumDroppedRecords(self, ctx: Any, stream: int, dropped: Any) -> int:
        dropped._obj.value = self.dropped
        return 0


def run(decode: str, recs: list[Any], buffers: list[list[Any]] | None = None) -> KernelTracer:
    clock = StepClock(start=1_000)
    fake = FakeCupti(clock)
    lib = FakeLibcupti()
    tr = KernelTracer(cupti=fake, clock=clock, decode=decode, libcupti=lib if decode == "raw" else None)
    tr.start()
    clock.last = 1_000_000
    if decode == "raw":
        lib.payloads = [b"".join(to_bytes(r) for r in part) for part in (buffers or [recs])]
    else:
        fake.queued = recs
    tr.stop()
    return tr


def test_raw_path_gives_the_object_path_tables() -> None:
    recs = records()
    # split across three buffers, as CUPTI delivers them (markers, API calls, kernels mixed)
    raw = run("raw", recs, [recs[:7], recs[7:12], recs[12:]])
    obj = run("objects", recs)
    assert raw.decode == "raw" and obj.decode == "objects"
    a, b = raw.tables(layer_names=["fc1", "relu"]), obj.tables(layer_names=["fc1", "relu"])
    pd.testing.assert_frame_equal(a.kernels, b.kernels)
    pd.testing.assert_frame_equal(a.api_calls, b.api_calls)
    pd.testing.assert_frame_equal(a.nvtx_ranges, b.nvtx_ranges)
    assert a.alignment == b.alignment and a.notes == b.notes
    assert raw.stats["records"] == len(recs) and raw.stats["buffers"] == 3
    k = a.kernels.set_index("correlation_id")
    assert k.loc[1, "name"] == "gemm" and k.loc[1, "start_ns"] == 10_000 and k.loc[1, "layer_name"] == "fc1"
    assert k.loc[5, "graph_node_id"] == 77


def record_starts(w: cr.Walk, buf: bytes) -> dict[int, list[int]]:
    """Byte offset of every record the walk found, by kind (the kind read back from the buffer's bytes)."""
    out: dict[int, list[int]] = {}
    groups = cr.DEFAULT_LAYOUTS.groups()
    for g, runs in w.runs.items():
        size = groups[g][0].size
        for start, count in runs:
            for i in range(count):
                pos = start + size * i
                out.setdefault(struct.unpack_from("<I", buf, pos)[0], []).append(pos)
    return {k: sorted(v) for k, v in out.items()}


def test_walk_finds_every_record_across_long_and_short_runs() -> None:
    # 1,000 kernels (longer than the first look-ahead windows), API calls and markers alternating one by one,
    # then 70 kernels: the expected offsets are summed here from the record sizes
    ks = [kernel(i, 10 * i, 10 * i + 5, f"k{i % 3}") for i in range(1000)]
    mixed = [x for i in range(20) for x in (api(2000 + i, i, i + 1), marker(i, 2, i, "r", "d"))]
    tail = [kernel(3000 + i, i, i + 1, "t") for i in range(70)]
    recs = ks + mixed + tail
    buf = b"".join(to_bytes(r) for r in recs)
    sizes = {10: 216, 5: 40, 4: 40, 12: 56}
    expected: dict[int, list[int]] = {}
    pos = 0
    for r in recs:
        expected.setdefault(int(r.kind), []).append(pos)
        pos += sizes[int(r.kind)]
    w = cr.walk(buf, cr.DEFAULT_LAYOUTS)
    assert w.end == len(buf) and w.stopped_at_kind is None
    assert record_starts(w, buf) == expected
    chunk = cr.read_chunk(buf, cr.DEFAULT_LAYOUTS, lambda p: ctypes.string_at(p).decode())
    kr = cr.kernel_records([chunk])
    assert len(kr) == 1070
    assert list(kr["correlation_id"][:3]) == [0, 1, 2] and kr["correlation_id"].iloc[-1] == 3069
    assert list(kr["name"][:4]) == ["k0", "k1", "k2", "k0"] and kr["name"].iloc[-1] == "t"
    np.testing.assert_array_equal(kr["end"] - kr["start"], [5] * 1000 + [1] * 70)
    assert len(cr.api_records([chunk])) == 20 and list(cr.marker_records([chunk])["name"]) == ["r"] * 20
    assert list(cr.api_records([chunk])["correlation_id"]) == list(range(2000, 2020))


def test_a_kernel_field_value_equal_to_a_kind_does_not_confuse_the_walk() -> None:
    # grid_x = 10 (CONCURRENT_KERNEL's kind value) in records that follow an API record
    ks = [SimpleNamespace(**{**vars(kernel(i, 0, 1)), "grid_x": 10}) for i in range(20)]
    recs = [api(1, 0, 1), *ks, api(2, 0, 1)]
    buf = b"".join(to_bytes(r) for r in recs)
    w = cr.walk(buf, cr.DEFAULT_LAYOUTS)
    assert record_starts(w, buf) == {10: [40 + 216 * i for i in range(20)], 5: [0, 40 + 216 * 20]}


def test_unknown_kind_stops_and_is_reported() -> None:
    recs = records()
    good = b"".join(to_bytes(r) for r in recs[11:13])
    unknown = struct.pack("<I", 99) + bytes(36)
    tr2_clock = StepClock(start=1_000)
    fake, lib = FakeCupti(tr2_clock), FakeLibcupti()
    tr = KernelTracer(cupti=fake, clock=tr2_clock, libcupti=lib)
    tr.start()
    tr2_clock.last = 1_000_000
    lib.payloads = [good + unknown + good]
    tr.stop()
    t = tr.tables()
    assert len(t.kernels) == 2  # the two before the unknown record
    assert any("not fully read" in n and "kind 99" in n for n in t.notes)


def test_dropped_records_are_noted() -> None:
    clock = StepClock(start=1_000)
    fake, lib = FakeCupti(clock), FakeLibcupti()
    tr = KernelTracer(cupti=fake, clock=clock, libcupti=lib)
    tr.start()
    clock.last = 1_000_000
    lib.dropped = 17
    lib.payloads = [to_bytes(kernel(1, 0, 1))]
    tr.stop()
    assert any("dropped 17" in n for n in tr.tables().notes)


def test_layouts_follow_cupti_python_dtypes() -> None:
    # a CUPTI whose kernel record is longer and has its fields elsewhere: the dtype decides
    kdt = np.dtype(
        {
            "names": ["kind", "start", "end", "device_id", "stream_id", "correlation_id", "name", "graph_node_id"]
            + [f"{a}_{d}" for a in ("grid", "block") for d in "xyz"],
            "formats": ["<u4", "<u8", "<u8", "<u4", "<u4", "<u4", "<u8", "<u8"] + ["<i4"] * 6,
            "offsets": [0, 8, 16, 24, 28, 32, 40, 48, 56, 60, 64, 68, 72, 76],
            "itemsize": 240,
        }
    )
    fake_cu = SimpleNamespace(activity_kernel9_dtype=np.dtype([("kind", "<u4")]), activity_kernel11_dtype=kdt)
    lay = cr.layouts_from_cupti(fake_cu)
    k = lay.by_kind[cr.Kind.CONCURRENT_KERNEL]
    assert k.size == 240 and k.fields["start"] == (8, "<u8") and k.fields["grid_y"] == (60, "<i4")
    assert lay.by_kind[cr.Kind.RUNTIME] == cr.API_LAYOUT  # no API dtype: the header's layout
    rec = np.zeros(2, dtype=kdt)
    rec["kind"], rec["start"], rec["end"], rec["correlation_id"] = 10, [5, 7], [6, 9], [1, 2]
    rec["name"] = c_string("gemm")
    chunk = cr.read_chunk(rec.tobytes(), lay, lambda p: ctypes.string_at(p).decode())
    kr = cr.kernel_records([chunk], lay)
    assert list(kr["start"]) == [5, 7] and list(kr["correlation_id"]) == [1, 2] and list(kr["name"]) == ["gemm"] * 2


def test_encode_is_the_inverse_of_decoding() -> None:
    values = {"start": OFFSET + 5, "end": OFFSET + 9, "correlation_id": 3, "graph_node_id": 2**40, "grid_x": 7}
    buf = cr.encode(cr.Kind.CONCURRENT_KERNEL, values)
    assert buf == kernel_bytes(
        SimpleNamespace(
            start=OFFSET + 5,
            end=OFFSET + 9,
            device_id=0,
            stream_id=0,
            grid_x=7,
            grid_y=0,
            grid_z=0,
            block_x=0,
            block_y=0,
            block_z=0,
            correlation_id=3,
            name=None,
            graph_node_id=2**40,
        )
    )


def test_raw_decoding_needs_libcupti() -> None:
    from trtscope.errors import TrtscopeError

    with pytest.raises(TrtscopeError, match="libcupti"):
        KernelTracer(cupti=FakeCupti(StepClock()), decode="raw")
    assert KernelTracer(cupti=FakeCupti(StepClock())).decode == "objects"  # auto, nothing to load
