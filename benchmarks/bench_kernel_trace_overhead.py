"""Overhead of trtscope's CUPTI kernel tracer (``--kernels``) on a GPU workload's throughput.

Usage (a machine with an NVIDIA GPU, PyTorch and cupti-python at the driver's CUDA version):
    PYTHONPATH=. python3 benchmarks/bench_kernel_trace_overhead.py [--reps 6] [--seconds 0.5]
Plain and traced repetitions alternate (ABBA) in one process; only the workload is timed (tracer start,
flush and record post-processing are not, and are reported separately). Records: kernels + runtime and
driver API calls + NVTX markers (this workload emits no NVTX ranges). docs/capture.md records the figures.

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
    args = ap.parse_args()
    import torch

    from trtscope.capture.cupti_trace import KernelTracer

    print(f"CUPTI kernel-trace overhead on {torch.cuda.get_device_name(0)} (api_calls={args.api_calls})")

    def on() -> Any:
        t = KernelTracer(api_calls=args.api_calls)
        t.start()
        return t

    def off(t: Any) -> tuple[int, int, float]:
        t.stop()
        t0 = time.perf_counter()
        tables = t.tables()
        return len(tables.kernels), len(tables.api_calls), time.perf_counter() - t0

    wanted = args.workloads.split(",")
    for name, run in workloads(torch).items():
        if name not in wanted:
            continue
        run(3)
        n = calibrate(run, args.seconds)
        plain, inst, res = ab(run, n, args.reps, on, off)
        report(name, n, plain, inst)
        kernels = [k for k, _, _ in res]
        apis = [a for _, a, _ in res]
        post = [p for _, _, p in res]
        print(
            f"    per rep: kernels {min(kernels)}-{max(kernels)}, API records {min(apis)}-{max(apis)} "
            f"({n} iterations); post-processing (tables) {min(post):.2f}-{max(post):.2f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
