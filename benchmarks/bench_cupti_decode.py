"""Benchmark: CUPTI activity records processed per second by the raw decoding path (no GPU needed).

Builds CUPTI buffers the way a CUDA-graph replay traced at node level fills them: 8 MB buffers of
``CUpti_ActivityKernel10`` records (30 kernel names, one graph node each) and buffers of runtime + driver
``CUpti_ActivityAPI`` records (one ``cudaGraphLaunch`` + ``cuGraphLaunch`` pair per 30 kernels). Times the
work done in CUPTI's buffer callback (copy, record walk, string pointers -> text) and the decoding after the
run (fields -> tables). Baseline in the same run: the per-record attribute copy of the cupti-python object
path (``KernelTracer.consume``) over equivalent Python objects — a lower bound of that path's cost, since
cupti-python also builds those objects. Target: >= 1,000,000 records/s (issue 14).

    python benchmarks/bench_cupti_decode.py [--kernels 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import ctypes
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trtscope.capture import cupti_records as cr

BUFFER_BYTES = 8 << 20
NODES = 30
TARGET = 1_000_000


def build(n_kernels: int) -> tuple[list[bytes], list[Any]]:
    """(buffers, C strings kept alive): kernel buffers, then API buffers."""
    names = [ctypes.create_string_buffer(f"void kernel_{i}<float, 128>(Params)".encode()) for i in range(NODES)]
    lay = cr.KERNEL_LAYOUT
    per_buf = BUFFER_BYTES // lay.size
    i = np.arange(n_kernels, dtype=np.int64)
    rec = np.zeros((n_kernels, lay.size), dtype=np.uint8)

    def put(name: str, values: np.ndarray) -> None:
        at, code = lay.fields[name]
        dt = np.dtype(code)
        rec[:, at : at + dt.itemsize] = values.astype(dt).view(np.uint8).reshape(n_kernels, dt.itemsize)

    rec[:, 0:4] = np.full(n_kernels, int(cr.Kind.CONCURRENT_KERNEL), dtype="<u4").view(np.uint8).reshape(-1, 4)
    put("start", 1_795_275_226_593_901_859 + i * 3_000)
    put("end", 1_795_275_226_593_901_859 + i * 3_000 + 2_500)
    put("correlation_id", 1_000 + i // NODES)
    put("graph_node_id", 1 + i % NODES)
    put("grid_x", np.full(n_kernels, 1024))
    put("block_x", np.full(n_kernels, 256))
    put("name", np.array([ctypes.addressof(names[k]) for k in range(NODES)], dtype=np.uint64)[i % NODES])
    buffers = [rec[s : s + per_buf].tobytes() for s in range(0, n_kernels, per_buf)]
    launches = n_kernels // NODES
    api = np.zeros((2 * launches, cr.API_LAYOUT.size), dtype=np.uint8)
    j = np.arange(2 * launches, dtype=np.int64)
    for name, values, code in (
        ("kind", np.where(j % 2 == 0, int(cr.Kind.RUNTIME), int(cr.Kind.DRIVER)), "<u4"),
        ("cbid", np.where(j % 2 == 0, 311, 514), "<u4"),
        ("start", 1_795_275_226_593_901_000 + j * 1_000, "<u8"),
        ("end", 1_795_275_226_593_901_000 + j * 1_000 + 400, "<u8"),
        ("correlation_id", 1_000 + j // 2, "<u4"),
        ("thread_id", np.full(len(j), 4242), "<u4"),
    ):
        at = 0 if name == "kind" else cr.API_LAYOUT.fields[name][0]
        dt = np.dtype(code)
        api[:, at : at + dt.itemsize] = values.astype(dt).view(np.uint8).reshape(len(j), dt.itemsize)
    per_api = BUFFER_BYTES // cr.API_LAYOUT.size
    buffers += [api[s : s + per_api].tobytes() for s in range(0, len(api), per_api)]
    return buffers, names


def raw_path(buffers: list[bytes]) -> tuple[float, float, int]:
    """(callback seconds, decode seconds, records)."""
    t0 = time.perf_counter()
    chunks = [cr.read_chunk(bytes(b), cr.DEFAULT_LAYOUTS, _cstr) for b in buffers]
    t1 = time.perf_counter()
    k = cr.kernel_records(chunks)
    a = cr.api_records(chunks)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, len(k) + len(a)


def _cstr(ptr: int) -> str | None:
    return ctypes.string_at(ptr).decode("utf-8", errors="replace") if ptr else None


def object_path(n: int) -> float:
    """Seconds for the cupti-python path's per-record field copy over ``n`` ready-made objects."""
    from trtscope.capture.cupti_trace import KernelTracer

    kind = SimpleNamespace(CONCURRENT_KERNEL=10, KERNEL=3, RUNTIME=5, DRIVER=4, MARKER=12)
    tracer = KernelTracer.__new__(KernelTracer)
    tracer.__init__  # noqa: B018  (the instance is set up by hand: no CUPTI module here)
    tracer._kernel_kinds, tracer._api_kinds, tracer._marker_kind = {10, 3}, {5: "runtime", 4: "driver"}, 12
    tracer.kernels, tracer.api, tracer.markers = [], [], []
    tracer.stats = {"records": 0, "buffers": 0, "dropped": 0, "callback_s": 0.0, "decode_s": 0.0}
    import threading

    tracer._lock = threading.Lock()
    objs = [
        SimpleNamespace(
            kind=kind.CONCURRENT_KERNEL,
            start=i,
            end=i + 1,
            name="k",
            device_id=0,
            stream_id=7,
            correlation_id=i // NODES,
            grid_x=1024,
            grid_y=1,
            grid_z=1,
            block_x=256,
            block_y=1,
            block_z=1,
            graph_node_id=1 + i % NODES,
        )
        for i in range(n)
    ]
    t0 = time.perf_counter()
    tracer.consume(objs)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernels", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    buffers, keep = build(args.kernels)
    mb = sum(len(b) for b in buffers) / 2**20
    print(f"{args.kernels:,} kernel records + {2 * (args.kernels // NODES):,} API records in {len(buffers)} buffers")
    print(f"({mb:.0f} MB)")
    runs = [raw_path(buffers) for _ in range(args.repeat)]
    cb = statistics.median(r[0] for r in runs)
    dec = statistics.median(r[1] for r in runs)
    n = runs[0][2]
    n_obj = min(args.kernels, 200_000)
    obj = statistics.median(object_path(n_obj) for _ in range(args.repeat))
    rate = n / (cb + dec)
    base = n_obj / obj
    print(f"raw path: callback {cb:.3f} s ({n / cb:,.0f} records/s), decode {dec:.3f} s; ")
    print(f"  total {n / (cb + dec):,.0f} records/s (target >= {TARGET:,}: {'met' if rate >= TARGET else 'NOT met'})")
    print(
        f"baseline, object path's field copy alone: {base:,.0f} records/s ({n_obj:,} records); ratio {rate / base:.1f}x"
    )
    del keep
    return 0


if __name__ == "__main__":
    sys.exit(main())
