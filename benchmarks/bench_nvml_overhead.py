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
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpu_harness import ab, calibrate, report, workloads


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
