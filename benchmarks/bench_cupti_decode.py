"""Benchmark: CUPTI activity records processed per second by the raw decoding path (no GPU needed).

Builds CUPTI buffers the way a CUDA-graph replay traced at node level fills them: ``CUpti_ActivityKernel10``
records (30 kernel names, one graph node each) and runtime + driver ``CUpti_ActivityAPI`` records (one
``cudaGraphLaunch`` + ``cuGraphLaunch`` pair per 30 kernels), in 8 MB buffers laid out two ways: kernels and
API calls in separate buffers, and interleaved (each launch's two API records, then its 30 kernels, as the
per-thread buffers of a real H200 run came). Times the
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


def build(n_kernels: int, interleaved: bool) -> tuple[list[bytes], list[Any]]:
    """(buffers, C strings kept alive)."""
    names = [ctypes.create_string_buffer(f"void kernel_{i}<float, 128>(Params)".encode()) for i in range(NODES)]
    launches = n_kernels // NODES
    n_kernels = launches * NODES
    klay, alay = cr.KERNEL_LAYOUT, cr.API_LAYOUT
    i = np.arange(n_kernels, dtype=np.int64)
    kern = np.zeros((n_kernels, klay.size), dtype=np.uint8)
    j = np.arange(2 * launches, dtype=np.int64)
    api = np.zeros((2 * launches, alay.size), dtype=np.uint8)

    def put(rec: np.ndarray, lay: cr.Layout, name: str, values: Any) -> None:
        at, code = lay.fields[name]
        dt = np.dtype(code)
        v = np.broadcast_to(np.asarray(values).astype(dt), (len(rec),))
        rec[:, at : at + dt.itemsize] = np.ascontiguousarray(v).view(np.uint8).reshape(len(rec), dt.itemsize)

    put(kern, klay, "kind", int(cr.Kind.CONCURRENT_KERNEL))
    put(kern, klay, "start", 1_795_275_226_593_901_859 + i * 3_000)
    put(kern, klay, "end", 1_795_275_226_593_901_859 + i * 3_000 + 2_500)
    put(kern, klay, "correlation_id", 1_000 + i // NODES)
    put(kern, klay, "graph_node_id", 1 + i % NODES)
    put(kern, klay, "grid_x", 1024)
    put(kern, klay, "block_x", 256)
    put(kern, klay, "name", np.array([ctypes.addressof(names[k]) for k in range(NODES)], dtype=np.uint64)[i % NODES])
    put(api, alay, "kind", np.where(j % 2 == 0, int(cr.Kind.RUNTIME), int(cr.Kind.DRIVER)))
    put(api, alay, "cbid", np.where(j % 2 == 0, 311, 514))
    put(api, alay, "start", 1_795_275_226_593_901_000 + j * 1_000)
    put(api, alay, "end", 1_795_275_226_593_901_000 + j * 1_000 + 400)
    put(api, alay, "correlation_id", 1_000 + j // 2)
    put(api, alay, "thread_id", 4242)
    if interleaved:
        launch = np.concatenate([api.reshape(launches, -1), kern.reshape(launches, -1)], axis=1)
        per_buf = BUFFER_BYTES // launch.shape[1]
        return [launch[s : s + per_buf].tobytes() for s in range(0, launches, per_buf)], names
    per_k, per_a = BUFFER_BYTES // klay.size, BUFFER_BYTES // alay.size
    buffers = [kern[s : s + per_k].tobytes() for s in range(0, n_kernels, per_k)]
    buffers += [api[s : s + per_a].tobytes() for s in range(0, len(api), per_a)]
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
    n_obj = min(args.kernels, 200_000)
    obj = statistics.median(object_path(n_obj) for _ in range(args.repeat))
    base = n_obj / obj
    print(f"baseline, the object path's per-record field copy alone: {base:,.0f} records/s ({n_obj:,} records)")
    for interleaved in (False, True):
        buffers, keep = build(args.kernels, interleaved)
        mb = sum(len(b) for b in buffers) / 2**20
        layout = "interleaved (API calls, then the launch's kernels)" if interleaved else "kernels and API apart"
        runs = [raw_path(buffers) for _ in range(args.repeat)]
        cb = statistics.median(r[0] for r in runs)
        dec = statistics.median(r[1] for r in runs)
        n = runs[0][2]
        rate = n / (cb + dec)
        print(f"{layout}: {n:,} records in {len(buffers)} buffers ({mb:.0f} MB)")
        print(
            f"  callback {cb:.3f} s ({n / cb:,.0f} records/s), decode {dec:.3f} s; total {rate:,.0f} records/s "
            f"(target >= {TARGET:,}: {'met' if rate >= TARGET else 'NOT met'}); {rate / base:.1f}x the baseline"
        )
    del keep
    return 0


if __name__ == "__main__":
    sys.exit(main())
