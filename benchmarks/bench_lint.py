"""Wall time of ``trtscope lint --json`` beside ``trtscope report --json`` on the same input, same run.

Target (issue 12): lint on the bundled example and the real artifact sets runs within the report benchmark's
budget (<= 2 s per command on a 2-core machine, docs/benchmarks.md). Each command runs in a fresh process,
alternating, median of --repeat runs; the ratio lint / report is the figure that holds across machines.
``--large`` adds the 20,000-layer / 100,000-node input of bench_report.py (its ONNX graph's edges are what
lint reads beyond report).

    python benchmarks/bench_lint.py [--repeat 3] [--large] [--blocks 4000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_report import measure

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "fixtures"
SETS = [REPO / "fixtures" / "rtx-h100-resnet18", REPO / "fixtures" / "rtx-h100-transformer",
        *(SHARED / s for s in ("trex/a100-resnet18-qat", "trex/mobilenet-qat", "trex/a100-resnet18-fp16",
                               "trex/a100-resnet18-fp32", "trex/rtx3090-tf-resnet50-fp16", "trt10-h100-mnist"))]
BUDGET_S = 2.0


def _median(cmd: list[str], repeat: int) -> float:
    return statistics.median(measure(cmd)["wall_s"] for _ in range(repeat))


def bench(path: Path, repeat: int) -> tuple[float, float]:
    rep, lin = [], []
    for _ in range(repeat):  # alternate, so drift affects both alike
        rep.append(measure([sys.executable, "-m", "trtscope", "report", str(path), "--json"])["wall_s"])
        lin.append(measure([sys.executable, "-m", "trtscope", "lint", str(path), "--json"])["wall_s"])
    return statistics.median(rep), statistics.median(lin)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--large", action="store_true", help="also the 20,000-layer input of bench_report.py")
    ap.add_argument("--blocks", type=int, default=4000)
    ap.add_argument("--keep", type=Path)
    args = ap.parse_args()
    inputs = [p for p in SETS if p.exists()]
    tmp = None
    if args.large:
        from large_input import prepared_input

        d, tmp, _ = prepared_input(args.keep, args.blocks, "trtscope-bench-lint-")
        inputs.append(d)
    import os

    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (absolute times scale with it; "
          "the ratio is the stable figure)")
    print(f"{'input':48} {'report s':>9} {'lint s':>8} {'lint/report':>12}  budget {BUDGET_S:.0f} s")
    worst = 0.0
    for p in inputs:
        r, l_ = bench(p, args.repeat)
        worst = max(worst, l_)
        name = str(p.relative_to(REPO.parent)) if p.is_relative_to(REPO.parent) else str(p)
        print(f"{name[-48:]:48} {r:9.2f} {l_:8.2f} {l_ / r:12.2f}  {'met' if l_ <= BUDGET_S else 'NOT MET'}")
    print(f"slowest lint: {worst:.2f} s")
    if tmp is not None:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
