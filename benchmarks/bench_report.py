"""Wall time and peak memory of ``trtscope report --json`` on a 20,000-layer / 100,000-node input.

Target (issue 2): <= 2 s and <= 1 GB on a 2-core machine. Printed beside a baseline measured in the same run:
a Python process that only imports pandas and ``json.load``s the same layer, profile and times files (the
floor any tool reading these artifacts pays), so the ratio is comparable across machines.

    python benchmarks/bench_report.py [--blocks 4000] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from large_input import bench_arguments, prepared_input

_MEASURE = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"wall_s": wall, "peak_rss_bytes": rss, "rc": r.returncode, "stderr": r.stderr.decode()[-500:]}))
"""


def measure(cmd: list[str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], capture_output=True, text=True, check=True)
    res = json.loads(out.stdout)
    if res["rc"] != 0:
        raise SystemExit(f"command failed ({res['rc']}): {' '.join(cmd)}\n{res['stderr']}")
    return res


def main() -> None:
    args = bench_arguments(__doc__)
    d, tmp, sizes = prepared_input(args.keep, args.blocks, "trtscope-bench-")
    baseline_cmd = [
        sys.executable,
        "-c",
        "import json, sys, pandas\n"
        f"for f in ('engine.layers.json','engine.profile.json','engine.times.json'): "
        f"json.load(open({str(d)!r} + '/' + f))",
    ]
    report_cmd = [sys.executable, "-m", "trtscope", "report", str(d), "--json"]
    base, rep = [], []
    for _ in range(args.repeat):  # alternate, so drift affects both alike
        base.append(measure(baseline_cmd))
        rep.append(measure(report_cmd))
    b_wall = statistics.median(x["wall_s"] for x in base)
    r_wall = statistics.median(x["wall_s"] for x in rep)
    r_rss = max(x["peak_rss_bytes"] for x in rep)
    b_rss = max(x["peak_rss_bytes"] for x in base)
    print(f"input: {sizes['layers']} engine layers, {sizes['onnx_nodes']} ONNX nodes ({d})")
    print(f"baseline (import pandas + json.load the artifacts): {b_wall:.2f} s, peak {b_rss / 2**20:.0f} MiB")
    print(f"trtscope report --json:                             {r_wall:.2f} s, peak {r_rss / 2**20:.0f} MiB")
    print(f"ratio to baseline: time {r_wall / b_wall:.2f}x, memory {r_rss / b_rss:.2f}x")
    print(
        f"target: <= 2 s and <= 1024 MiB on 2 cores -> {'MET' if r_wall <= 2 and r_rss <= 2**30 else 'NOT MET'}"
    )
    if tmp is not None:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
