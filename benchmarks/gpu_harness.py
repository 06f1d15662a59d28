"""The GPU workloads and the alternating (ABBA) harness shared by the capture-overhead benchmarks.

``compute`` = back-to-back 4096^3 bf16 matmuls (GPU-bound); ``graph_sync`` = launch a 30-kernel CUDA graph and
wait, as trtscope's timing loop does with execute_async_v3; ``launch`` = tiny element-wise kernels
(launch-bound: the host thread is the bottleneck, the worst case for anything competing for the CPU or the GIL).
Plain and instrumented repetitions alternate in one process; the overhead is the median of the paired ratios.
"""

from __future__ import annotations

import statistics
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
        f"= ratio {statistics.median(ratios):.3f}x "
        f"[pairs {(ratios[0] - 1) * 100:+.1f}% .. {(ratios[-1] - 1) * 100:+.1f}%; plain spread "
        f"{(max(plain) / min(plain) - 1) * 100:.1f}%]"
    )
    return overhead
