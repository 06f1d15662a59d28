"""Wall time, CPU time and peak memory of ``trtscope report --json`` on large inputs, beside two baselines.

Targets (issue 14), on a 2-core machine: 20,000 layers (+ a 100,000-node ONNX model) <= 1.3 s and >= 3x faster
than NVIDIA's TensorRT-11 analysis script on the same layers and profile; 50,000 layers <= 2 s and <= 500 MB.
Inputs come from ``benchmarks/large_input.py`` (``--blocks 4000`` -> 20,000 layers, 10,000 -> 50,000).

Measured in the same run, alternating (baseline, trtscope, NVIDIA's script, again), each in a fresh process,
median of ``--repeat``: wall time, CPU time (user + sys of the process and its workers) and peak RSS.

  baseline   a Python process that imports pandas and ``json.load``s the same layer, profile and times files:
             the floor any tool reading these artifacts with pandas pays
  trt11      NVIDIA's TensorRT 11 analyzer (``analyze_trt_perf.py`` of TensorRT's trt-perf-analysis skill,
             Python standard library only) on the same layers and profile, when its path is given with
             ``--trt-script`` or ``TRTSCOPE_TRT_ANALYSIS_SCRIPT``. It reads a layer list as the JSON root (not
             ``{"Layers": [...]}``) and no ONNX model, so it is given a copy of the layer list.

    python benchmarks/bench_report.py [--sizes 4000,10000 | --blocks 4000] [--repeat 3] [--keep DIR] [--trt-script PATH]

``--keep DIR`` writes (and reuses) each input in ``DIR/blocksN``; with ``--blocks N`` (one size) in ``DIR`` itself.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from large_input import prepared_input

TRT_SCRIPT_ENV = "TRTSCOPE_TRT_ANALYSIS_SCRIPT"

_MEASURE = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - t
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall_s": wall, "cpu_s": u.ru_utime + u.ru_stime, "peak_rss_bytes": u.ru_maxrss * 1024,
                  "rc": r.returncode, "stderr": r.stderr.decode()[-500:]}))
"""


def measure(cmd: list[str]) -> dict[str, float]:
    """Wall, CPU and peak RSS of ``cmd`` run in a fresh process (by a fresh measuring process)."""
    out = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], capture_output=True, text=True, check=True)
    res: dict[str, float] = json.loads(out.stdout)
    if res["rc"] != 0:
        raise SystemExit(f"command failed ({res['rc']}): {' '.join(cmd)}\n{res['stderr']}")
    return res


def trt_inputs(d: Path, work: Path) -> list[Path]:
    """The layers (as a list at the JSON root, as NVIDIA's analyzer reads them) and profile, in ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    layers, profile = work / "layers_bench.json", work / "profile_bench.json"
    if not layers.exists():
        layers.write_text(json.dumps(json.loads((d / "engine.layers.json").read_text())["Layers"]))
        shutil.copyfile(d / "engine.profile.json", profile)
    return [layers, profile]


def run_size(blocks: int, args: argparse.Namespace, script: Path | None, work: Path) -> dict[str, Any]:
    keep = (args.keep if args.blocks else args.keep / f"blocks{blocks}") if args.keep else None
    d, tmp, sizes = prepared_input(keep, blocks, "trtscope-bench-")
    commands = {
        "baseline": [sys.executable, "-c", "import json, sys, pandas\n"
                     f"for f in ('engine.layers.json','engine.profile.json','engine.times.json'): "
                     f"json.load(open({str(d)!r} + '/' + f))"],
        "trtscope": [sys.executable, "-m", "trtscope", "report", str(d), "--json"],
    }
    if script is not None:
        layers, profile = trt_inputs(d, work / f"trt{blocks}")
        commands["trt11"] = [sys.executable, str(script), "--data", str(layers), str(profile), "--output",
                             str(work / "trt11-out.json")]
    runs: dict[str, list[dict[str, float]]] = {k: [] for k in commands}
    for _ in range(args.repeat):  # alternate, so drift on a shared machine affects all alike
        for k, cmd in commands.items():
            runs[k].append(measure(cmd))
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)
    out: dict[str, Any] = {"sizes": sizes}
    for k, v in runs.items():
        out[k] = {
            "wall_s": statistics.median(x["wall_s"] for x in v),
            "cpu_s": statistics.median(x["cpu_s"] for x in v),
            "peak_mib": max(x["peak_rss_bytes"] for x in v) / 2**20,
            "walls": [round(x["wall_s"], 2) for x in v],
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="4000,10000", help="blocks per input (4000 -> 20,000 layers)")
    ap.add_argument("--blocks", type=int, help="one input of this many blocks (instead of --sizes)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="write the inputs under this directory (and reuse them)")
    ap.add_argument("--trt-script", type=Path, default=os.environ.get(TRT_SCRIPT_ENV) or None,
                    help=f"NVIDIA's analyze_trt_perf.py (or set {TRT_SCRIPT_ENV})")
    args = ap.parse_args()
    script = args.trt_script if args.trt_script and args.trt_script.exists() else None
    work = Path(tempfile.mkdtemp(prefix="trtscope-bench-trt-"))
    try:
        sizes = [args.blocks] if args.blocks else [int(b) for b in args.sizes.split(",")]
        results = {b: run_size(b, args, script, work) for b in sizes}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; median of {args.repeat} alternating runs, "
          "each a fresh process; CPU = user + sys (workers included)")
    if script is None:
        print(f"NVIDIA's TensorRT-11 analysis script: not given (--trt-script or {TRT_SCRIPT_ENV}); baseline only")
    for r in results.values():
        sizes = r["sizes"]
        print(f"\n{sizes['layers']:,} engine layers, {sizes['onnx_nodes']:,} ONNX nodes:")
        for k in ("baseline", "trtscope", "trt11"):
            if k in r:
                m = r[k]
                print(f"  {k:<9} wall {m['wall_s']:6.2f} s  CPU {m['cpu_s']:6.2f} s  peak {m['peak_mib']:6.0f} MiB  "
                      f"(walls: {', '.join(map(str, m['walls']))})")
        t, b = r["trtscope"], r["baseline"]
        print(f"  trtscope / baseline: wall {t['wall_s'] / b['wall_s']:.2f}x, CPU {t['cpu_s'] / b['cpu_s']:.2f}x")
        if "trt11" in r:
            n = r["trt11"]
            print(f"  trt11 / trtscope (how many times faster trtscope is): wall {n['wall_s'] / t['wall_s']:.2f}x, "
                  f"CPU {n['cpu_s'] / t['cpu_s']:.2f}x")
        layers = sizes["layers"]
        if layers == 20_000:
            ok = t["wall_s"] <= 1.3 and ("trt11" not in r or r["trt11"]["wall_s"] / t["wall_s"] >= 3)
            print(f"  target: <= 1.3 s and >= 3x faster than the TensorRT-11 script -> {'MET' if ok else 'NOT MET'}")
        elif layers == 50_000:
            ok = t["wall_s"] <= 2 and t["peak_mib"] * 2**20 <= 500e6
            print(f"  target: <= 2 s and <= 500 MB -> {'MET' if ok else 'NOT MET'}")


if __name__ == "__main__":
    main()
