"""Kernels per second of ``trtscope nsys import`` on real Nsight Systems exports, and on the largest one scaled up.

Target (issue 14): >= 500,000 kernels a second. For each export, in one process and alternating (so drift on a
shared machine affects both alike), median of ``--repeat`` runs:

  baseline  fetching every row of its CUPTI_ACTIVITY_KIND_KERNEL table with Python's sqlite3 (``SELECT *`` +
            ``fetchall``): the floor of any reader that goes through sqlite3
  read+map  ``read_report`` + ``map_kernels`` (kernels, CUDA API calls, NVTX ranges and graph nodes as
            tables, every kernel attributed to its range)
  import    ``import_nsys``: the same plus writing the bundle (four Parquet tables, manifest)

with wall and CPU time (user + sys of this process). The real exports are small (at most 17,032 kernels), so
fixed costs dominate there; ``--factor`` builds a copy of the export with the most kernels whose kernel, API
and NVTX rows are replicated that many times (``benchmarks/nsys_scaled.py``), where the per-kernel rate shows.

    python benchmarks/bench_nsys_import.py [EXPORT.sqlite ...] [--factor 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nsys_scaled import scaled_export

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "nsys"
TARGET = 500_000


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) seconds of one call."""
    c, t = _cpu(), time.perf_counter()
    fn()
    return time.perf_counter() - t, _cpu() - c


def kernel_rows(path: Path) -> int:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL").fetchone()[0])
    finally:
        conn.close()


def fetch_kernels(path: Path) -> None:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        conn.execute("SELECT * FROM CUPTI_ACTIVITY_KIND_KERNEL").fetchall()
    finally:
        conn.close()


def measure(path: Path, repeat: int, work: Path) -> dict[str, float]:
    from trtscope.analysis.kernel_ranges import map_kernels
    from trtscope.importers.nsys import import_nsys
    from trtscope.parsers.nsys_sqlite import read_report

    def read_map() -> None:
        r = read_report(path)
        map_kernels(r.kernels, r.nvtx_ranges, graph_nodes=r.graph_nodes)

    def do_import() -> None:
        out = work / "bundle.trtscope"
        import_nsys(path, out, force=True)

    runs: dict[str, list[tuple[float, float]]] = {"baseline": [], "read+map": [], "import": []}
    for _ in range(repeat):
        runs["baseline"].append(timed(lambda: fetch_kernels(path)))
        runs["read+map"].append(timed(read_map))
        runs["import"].append(timed(do_import))
    out: dict[str, float] = {"kernels": float(kernel_rows(path))}
    for k, v in runs.items():
        out[f"{k}_wall"] = statistics.median(w for w, _ in v)
        out[f"{k}_cpu"] = statistics.median(c for _, c in v)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("exports", nargs="*", type=Path, help="nsys SQLite exports (default: ../shared/fixtures/nsys)")
    ap.add_argument("--factor", type=int, default=20, help="replicate the largest export this many times (0: no)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    exports = args.exports or sorted(FIXTURES.glob("*/*.sqlite"))
    if not exports:
        raise SystemExit(f"no exports given and none in {FIXTURES}")
    work = Path(tempfile.mkdtemp(prefix="trtscope-bench-nsys-"))
    try:
        # warm up: lazy imports (pyarrow.parquet...) are paid once, not by the first export measured
        measure(exports[0], 1, work)
        rows = [(p.parent.name or p.name, measure(p, args.repeat, work)) for p in exports]
        if args.factor > 1:
            big = max(exports, key=kernel_rows)
            scaled = work / "scaled.sqlite"
            scaled_export(big, scaled, args.factor)
            rows.append((f"{big.parent.name} x{args.factor}", measure(scaled, args.repeat, work)))
        print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; median of {args.repeat} runs; "
              "wall s / CPU s; rate = kernels / wall")
        print(f"{'export':<52} {'kernels':>8} {'baseline':>13} {'read+map':>13} {'import':>13} "
              f"{'read+map/s':>11} {'import/s':>10} {'import/base':>11}")
        for name, m in rows:
            n = m["kernels"]
            print(f"{name[:52]:<52} {int(n):>8,} "
                  + " ".join(f"{m[k + '_wall']:6.3f}/{m[k + '_cpu']:6.3f}" for k in ("baseline", "read+map", "import"))
                  + f" {n / m['read+map_wall']:>11,.0f} {n / m['import_wall']:>10,.0f}"
                  + f" {m['import_wall'] / m['baseline_wall']:>10.1f}x")
        name, m = rows[-1]
        rate = m["kernels"] / m["import_wall"]
        print(f"target: >= {TARGET:,} kernels/s ({name}): {rate:,.0f} -> {'MET' if rate >= TARGET else 'NOT MET'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
