"""Overhead of trtscope's NVML sampler on a GPU workload's throughput (target: <= 1% at 100 Hz).

Usage (a machine with an NVIDIA GPU and PyTorch; repository root):
    PYTHONPATH=. python3 benchmarks/bench_nvml_overhead.py [--hz 100] [--reps 8] [--seconds 1.0]
Plain and sampled repetitions alternate (ABBA) in one process; only the workload is timed (sampler start and
stop are not). The overhead is the median of the paired ratios (sampled / adjacent plain). Both sampler modes
are measured: a helper process (what trtscope profile uses) and a thread of the measured process.
docs/capture.md records the figures measured on an H100.

Workloads: ``compute`` = back-to-back 4096^3 bf16 matmuls (GPU-bound); ``graph_sync`` = launch a 30-kernel CUDA
graph and wait, as trtscope's timing loop does with execute_async_v3; ``launch`` = tiny element-wise
kernels (launch-bound: the host thread is the bottleneck, the worst case for anything competing for the CPU
or the GIL).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any


def workloads(torch: Any) -> dict[str, Callable[[int], None]]:
    a = torch.randn(4096, 4096, device="cuda", dtype=torch.bfloat16)
    small = torch.zeros(1024, device="cuda")

    def compute(n: int) -> None:
        for _ in range(n):
            a @ a
        torch.cuda.synchronize()

    def launch(n: int) -> None:
        for _ in range(n):
            small.add_(1.0)
        torch.cuda.synchronize()

    # trtscope's own timing loop: one launch call that enqueues a whole inference (here a CUDA graph of 30
    # kernels, as TensorRT's execute_async_v3 or a graph launch does), then wait for it
    mid = torch.zeros(1 << 20, device="cuda")
    side = torch.cuda.Stream()
    with torch.cuda.stream(side):
        mid.mul_(1.0)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for _ in range(30):
            mid.mul_(1.0001)

    def graph_sync(n: int) -> None:
        for _ in range(n):
            graph.replay()
            torch.cuda.synchronize()

    return {"compute": compute, "graph_sync": graph_sync, "launch": launch}


def calibrate(run: Callable[[int], None], seconds: float) -> int:
    """Iterations that take about ``seconds``."""
    n = 10
    while True:
        t0 = time.perf_counter()
        run(n)
        dt = time.perf_counter() - t0
        if dt > 0.2:
            return max(1, int(n * seconds / dt))
        n *= 4


def ab(
    run: Callable[[int], None], n: int, reps: int, on: Callable[[], Any], off: Callable[[Any], Any]
) -> tuple[list[float], list[float], list[Any]]:
    """Alternate plain and instrumented repetitions (ABBA order) and time only ``run(n)``.

    ``on()`` starts the instrument and returns a handle, ``off(handle)`` stops it (both untimed)."""
    plain, inst, results = [], [], []
    for r in range(reps):
        order = (False, True) if r % 2 == 0 else (True, False)
        for instrumented in order:
            handle = on() if instrumented else None
            t0 = time.perf_counter()
            run(n)
            dt = time.perf_counter() - t0
            if instrumented:
                results.append(off(handle))
                inst.append(dt)
            else:
                plain.append(dt)
    return plain, inst, results


def report(name: str, n: int, plain: list[float], inst: list[float]) -> float:
    """Overhead = median over repetitions of (instrumented / adjacent plain) - 1: pairs taken back to back
    cancel slow drifts (clocks, other tenants) that a ratio of overall medians would keep."""
    ratios = sorted(i / p for i, p in zip(inst, plain, strict=True))
    overhead = (statistics.median(ratios) - 1.0) * 100.0
    mp, mi = statistics.median(plain), statistics.median(inst)
    print(
        f"  {name}: {n} iterations per rep, {len(plain)} pairs; median plain {mp * 1e3:.1f} ms, "
        f"instrumented {mi * 1e3:.1f} ms; overhead (median of paired ratios) {overhead:+.2f}% "
        f"[pairs {(ratios[0] - 1) * 100:+.1f}% .. {(ratios[-1] - 1) * 100:+.1f}%; plain spread "
        f"{(max(plain) / min(plain) - 1) * 100:.1f}%]"
    )
    return overhead


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hz", type=float, default=100.0)
    ap.add_argument("--reps", type=int, default=12)
    ap.add_argument("--seconds", type=float, default=0.6, help="length of one repetition")
    ap.add_argument(
        "--mode",
        choices=("process", "thread", "both"),
        default="both",
        help="sampler in a helper process (trtscope profile's default) or a thread of this process",
    )
    args = ap.parse_args()
    import torch

    from trtscope.capture.nvml_sampler import NvmlSampler, ProcessNvmlSampler

    work = workloads(torch)
    sizes = {}
    for name, run in work.items():
        run(3)
        sizes[name] = calibrate(run, args.seconds)
    for mode in ("process", "thread") if args.mode == "both" else (args.mode,):
        cls = ProcessNvmlSampler if mode == "process" else NvmlSampler
        print(f"NVML sampler ({mode}) overhead at {args.hz:g} Hz on {torch.cuda.get_device_name(0)}")

        def on(cls: Any = cls) -> Any:
            s = cls(args.hz)
            s.start()
            return s

        def off(s: Any) -> int:
            return len(s.stop())

        worst = 0.0
        for name, run in work.items():
            plain, inst, counts = ab(run, sizes[name], args.reps, on, off)
            worst = max(worst, report(name, sizes[name], plain, inst))
            rates = [c / t for c, t in zip(counts, inst, strict=True)]
            print(f"    samples per rep {min(counts)}-{max(counts)} (~{sum(rates) / len(rates):.0f} Hz achieved)")
        print(
            f"  {mode}: worst overhead {worst:+.2f}% (target <= 1%): {'OK' if worst <= 1.0 else 'ABOVE TARGET'} "
            "(launch: a Python loop holding the GIL, the worst case; trtscope's own loop is graph_sync-like)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
