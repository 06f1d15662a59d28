"""Where does kernel tracing of CUDA-graph replays spend its time? One variant per child process (GPU machine).

Each variant traces benchmarks/gpu_harness.py's ``graph_sync`` workload (launch a 30-kernel CUDA graph, wait)
in alternating plain / traced repetitions and prints the traced / untraced ratio and the records seen:

  objects-noop      cupti-python's buffer callbacks, records discarded: CUPTI + cupti-python's record objects
  objects           KernelTracer(decode="objects"): the previous tracer (objects + per-field copies)
  raw-noop          trtscope's ctypes buffer callbacks, buffers copied and discarded: CUPTI alone (+ memcpy)
  raw               KernelTracer(decode="raw"): the new tracer
  raw-kernels-only  raw, with only CONCURRENT_KERNEL enabled (no runtime/driver/marker records)
  raw-graph-after   raw, the CUDA graph captured and instantiated while tracing is on
  raw-devbuf        raw, CUPTI_ACTIVITY_ATTR_DEVICE_BUFFER_SIZE = 32 MB set before CUDA starts
  verify            raw; every delivered buffer also walked with libcupti's cuptiActivityGetNextRecord and
                    a sample of records read through cupti-python's ``from_ptr`` objects: must agree

Usage (device, repository root): PYTHONPATH=. python3 scripts/device/cupti_cost_probe.py [--variants a,b]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
VARIANTS = (
    "verify",
    "raw",
    "raw-noop",
    "raw-kernels-only",
    "raw-graph-after",
    "raw-devbuf",
    "objects-noop",
    "objects",
)


def child(variant: str, seconds: float, reps: int) -> int:
    from trtscope.capture.cupti_buffers import load_libcupti
    from trtscope.capture.cupti_trace import KernelTracer, import_cupti

    cu = import_cupti()
    if variant == "raw-devbuf":  # before CUDA starts: applies to the context's buffers
        lib = load_libcupti(cu)
        value, size = ctypes.c_size_t(32 << 20), ctypes.c_size_t(8)
        rc = lib.cuptiActivitySetAttribute(0, ctypes.byref(size), ctypes.byref(value))
        print(f"  set DEVICE_BUFFER_SIZE=32MB: rc={rc}")
    import torch
    from gpu_harness import ab, calibrate

    decode = "objects" if variant.startswith("objects") else "raw"
    seen = {"records": 0, "bytes": 0}
    checks: list[str] = []

    class Tracer(KernelTracer):
        def consume(self, activities: Any) -> None:
            if variant == "objects-noop":
                seen["records"] += len(activities)
            else:
                super().consume(activities)

        def deliver(self, raw: bytes, dropped: int) -> None:
            seen["bytes"] += len(raw)
            if variant == "verify" and len(checks) < 3:  # the first buffers: libcupti's iterator is slow
                try:
                    checks.append(verify_buffer(cu, self, raw))
                except Exception as err:  # report, and still decode the buffer
                    checks.append(f"verify failed: {type(err).__name__}: {err}")
            if variant != "raw-noop":
                super().deliver(raw, dropped)

        def start(self) -> None:
            super().start()
            if variant == "raw-kernels-only":
                for k in (cu.ActivityKind.RUNTIME, cu.ActivityKind.DRIVER, cu.ActivityKind.MARKER):
                    cu.activity_disable(k)

    mid = torch.zeros(1 << 20, device="cuda")
    side = torch.cuda.Stream()
    with torch.cuda.stream(side):
        mid.mul_(1.0)
    torch.cuda.synchronize()
    graph = [make_graph(torch, mid)]

    def run(n: int) -> None:
        g = graph[0]
        for _ in range(n):
            g.replay()
            torch.cuda.synchronize()

    def on() -> Any:
        t = Tracer(decode=decode)
        t.start()
        if variant == "raw-graph-after":
            graph[0] = make_graph(torch, mid)
        return t

    def off(t: Any) -> tuple[int, float]:
        t.stop()
        if variant == "raw-graph-after":
            graph[0] = make_graph(torch, mid)  # the plain repetition's graph, made untraced
        t0 = time.perf_counter()
        n = len(t.tables().kernels) if variant not in ("objects-noop", "raw-noop") else 0
        return n, time.perf_counter() - t0

    run(3)
    n = calibrate(run, seconds)
    plain, inst, res = ab(run, n, reps, on, off)
    ratios = sorted(i / p for i, p in zip(inst, plain, strict=True))
    kernels = [k for k, _ in res]
    mid_ratio = statistics.median(ratios)
    print(
        f"RESULT {variant}: ratio {mid_ratio:.3f}x [{ratios[0]:.2f}..{ratios[-1]:.2f}] over {reps} pairs; "
        f"plain {min(plain) * 1e3:.1f} ms for {n} replays ({30 * n} kernels); traced {min(inst) * 1e3:.1f} ms; "
        f"kernels per traced rep {kernels}; records (noop) {seen['records']}; buffer bytes {seen['bytes']}; "
        f"tables {max(p for _, p in res):.3f} s"
    )
    if variant == "verify":
        print("  verify:", "; ".join(sorted(set(checks)))[:2000])
        from trtscope.capture.cupti_records import DEFAULT_LAYOUTS, layouts_from_cupti

        lay = layouts_from_cupti(cu)
        for kind in (10, 5, 12):
            same = lay.by_kind[kind] == DEFAULT_LAYOUTS.by_kind[kind]
            print(f"  layout kind {kind}: cupti-python dtype == CUPTI 13.0 header: {same}")
            if not same:
                print("    dtype:", lay.by_kind[kind], "\n    header:", DEFAULT_LAYOUTS.by_kind[kind])
        for name in ("activity_kernel10_dtype", "activity_api_dtype", "activity_marker2_dtype"):
            dt = getattr(cu, name, None)
            if dt is not None:
                fields = {f: v[1] for f, v in dt.fields.items()}
                print(f"  {name}: itemsize {dt.itemsize}; {fields}")
    return 0


def make_graph(torch: Any, mid: Any) -> Any:
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        for _ in range(30):
            mid.mul_(1.0001)
    torch.cuda.synchronize()
    return g


def verify_buffer(cu: Any, tracer: Any, raw: bytes) -> str:
    """Record offsets by libcupti's own iterator against trtscope's walk; fields against cupti-python."""
    from trtscope.capture.cupti_records import read_chunk

    lib = tracer._buffers.lib
    lib.cuptiActivityGetNextRecord.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_void_p)]
    lib.cuptiActivityGetNextRecord.restype = ctypes.c_int
    copy = ctypes.create_string_buffer(raw, len(raw))
    base = ctypes.addressof(copy)
    rec = ctypes.c_void_p(None)
    theirs: list[tuple[int, int]] = []
    while lib.cuptiActivityGetNextRecord(base, len(raw), ctypes.byref(rec)) == 0:
        off = rec.value - base
        theirs.append((off, int.from_bytes(raw[off : off + 4], "little")))
    chunk = read_chunk(raw, tracer._layouts, lambda p: None)
    groups = tracer._layouts.groups()
    ours = sorted(
        (s + groups[g][0].size * i, int.from_bytes(raw[s + groups[g][0].size * i :][:4], "little"))
        for g, runs in chunk.walk.runs.items()
        for s, c in runs
        for i in range(c)
    )
    fields_ok = "n/a"
    kern = [o for o, k in theirs if k == 10][:50]
    if kern and hasattr(cu, "ActivityKernel10"):
        from trtscope.capture.cupti_records import KERNEL_LAYOUT

        bad = 0
        for o in kern:
            obj = cu.ActivityKernel10.from_ptr(base + o, True)
            for f in ("start", "end", "correlation_id", "graph_node_id", "grid_x", "block_x", "stream_id"):
                at, code = KERNEL_LAYOUT.fields[f]
                size = 8 if code.endswith("8") else 4
                mine = int.from_bytes(raw[o + at : o + at + size], "little", signed=code.startswith("<i"))
                bad += int(mine != int(getattr(obj, f)))
        fields_ok = f"{len(kern)} kernel records x 7 fields, {bad} mismatches vs cupti-python from_ptr"
    pattern = sorted((s, groups[g][0].size, c) for g, runs in chunk.walk.runs.items() for s, c in runs)[:6]
    return (
        f"GetNextRecord {len(theirs)} records, walk {len(ours)}, identical offsets+kinds {ours == theirs}, "
        f"walk end {chunk.walk.end}/{len(raw)}; {fields_ok}; first runs (byte, record size, count) {pattern}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--variant", help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=float, default=0.15, help="plain repetition length")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    if args.variant:
        return child(args.variant, args.seconds, args.reps)
    for v in args.variants.split(","):
        t0 = time.time()
        reps = args.reps if not v.startswith("objects") else 2
        cmd = [sys.executable, __file__, "--variant", v, "--seconds", str(args.seconds), "--reps", str(reps)]
        r = subprocess.run(cmd, env=os.environ, capture_output=True, text=True, timeout=240)
        lines = [x for x in (r.stdout + r.stderr).splitlines() if x.strip()]
        keep = [x for x in lines if x.lstrip().startswith(("RESULT", "verify", "layout", "activity_", "set "))]
        print(f"== {v} (rc {r.returncode}, {time.time() - t0:.0f} s)")
        for x in keep if r.returncode == 0 and keep else lines[-14:]:
            print("  " + x[:1500])
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
