"""Overhead of trtscope's CUPTI kernel tracer (``--kernels``) on a GPU workload's throughput.

Usage (a machine with an NVIDIA GPU, PyTorch and cupti-python at the driver's CUDA version):
    PYTHONPATH=. python3 benchmarks/bench_kernel_trace_overhead.py [--reps 6] [--seconds 0.5] [--decode raw]
Plain and traced repetitions alternate (ABBA) in one process; only the workload is timed (tracer start,
flush and record post-processing are not, and are reported separately). Records: kernels + runtime and
driver API calls + NVTX markers (this workload emits no NVTX ranges). Printed per workload: the traced /
untraced ratio (median of paired ratios against the plain repetitions of the same run; issue 14's target for
graph_sync: <= 2) and the record processing rate: records / (time in CUPTI's buffer callback + tables())
(target >= 1,000,000/s), with the decoding alone beside it. docs/capture.md records the figures.

Workloads: ``compute`` = back-to-back 4096^3 bf16 matmuls (GPU-bound); ``graph_sync`` = launch a 30-kernel CUDA
graph and wait, as trtscope's timing loop does with execute_async_v3; ``launch`` = tiny element-wise
kernels (launch-bound: the host thread is the bottleneck, the worst case for anything competing for the CPU
or the GIL).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpu_harness import ab, calibrate, report, workloads


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=0.5, help="length of one repetition")
    ap.add_argument(
        "--api-calls",
        choices=("launches", "all"),
        default="launches",
        help="which runtime/driver API calls to record (KernelTracer(api_calls=...))",
    )
    ap.add_argument("--workloads", default="compute,graph_sync,launch", help="comma-separated subset")
    ap.add_argument(
        "--decode",
        choices=("raw", "objects", "auto"),
        default="auto",
        help="KernelTracer(decode=...): raw buffers + numpy, or cupti-python's record objects (the old path)",
    )
    args = ap.parse_args()
    import torch

    from trtscope.capture.cupti_trace import KernelTracer

    probe = KernelTracer(api_calls=args.api_calls, decode=args.decode)
    print(
        f"CUPTI kernel-trace overhead on {torch.cuda.get_device_name(0)} (api_calls={args.api_calls}, "
        f"decode={probe.decode})"
    )

    def on() -> Any:
        t = KernelTracer(api_calls=args.api_calls, decode=args.decode)
        t.start()
        return t

    def off(t: Any) -> tuple[int, int, float, dict[str, Any]]:
        t.stop()
        t0 = time.perf_counter()
        tables = t.tables()
        return len(tables.kernels), len(tables.api_calls), time.perf_counter() - t0, dict(t.stats)

    wanted = args.workloads.split(",")
    for name, run in workloads(torch).items():
        if name not in wanted:
            continue
        run(3)
        n = calibrate(run, args.seconds)
        plain, inst, res = ab(run, n, args.reps, on, off)
        report(name, n, plain, inst)
        kernels = [r[0] for r in res]
        apis = [r[1] for r in res]
        post = [r[2] for r in res]
        stats = [r[3] for r in res]
        records = sum(s["records"] for s in stats)
        callback = sum(s["callback_s"] for s in stats)
        decode = sum(s["decode_s"] for s in stats)
        total = callback + sum(post)
        print(
            f"    per rep: kernels {min(kernels)}-{max(kernels)}, API records {min(apis)}-{max(apis)} "
            f"({n} iterations); post-processing (tables) {min(post):.2f}-{max(post):.2f} s; "
            f"dropped {sum(s['dropped'] for s in stats)}"
        )
        if records and total > 0:
            print(
                f"    records processed: {records} in {callback:.3f} s of buffer callbacks + {sum(post):.3f} s of "
                f"tables() = {records / total:,.0f} records/s (decoding alone: "
                f"{records / max(callback + decode, 1e-9):,.0f} records/s)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
