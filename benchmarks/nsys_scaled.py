"""A real Nsight Systems export made larger: its kernel, CUDA API and NVTX rows replicated ``factor`` times.

Copy ``src`` (an ``nsys export --type sqlite`` file) to ``dst``, then append ``factor - 1`` copies of every row
of CUPTI_ACTIVITY_KIND_KERNEL, CUPTI_ACTIVITY_KIND_RUNTIME and NVTX_EVENTS, each copy shifted in time past the
previous one and with correlation ids shifted past the largest, so every copied kernel keeps its own launch
and range. Strings, metadata, schema and every other table stay as nsys wrote them.

    python benchmarks/nsys_scaled.py SRC.sqlite DST.sqlite [--factor 20]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
from pathlib import Path

TABLES = ("CUPTI_ACTIVITY_KIND_KERNEL", "CUPTI_ACTIVITY_KIND_RUNTIME", "NVTX_EVENTS")


def scaled_export(src: Path, dst: Path, factor: int) -> dict[str, int]:
    """Write the scaled copy; returns the row count of each replicated table."""
    shutil.copyfile(src, dst)
    dst.chmod(0o644)
    conn = sqlite3.connect(dst)
    try:
        present = [t for t in TABLES if conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?", (t,)).fetchone()[0]]
        lo, hi, corr = 0, 0, 0
        for t in present:
            cols = {r[1] for r in conn.execute(f'PRAGMA table_info("{t}")')}
            a, b = conn.execute(f'SELECT min(start), max(coalesce("end", start)) FROM "{t}"').fetchone()
            lo, hi = min(lo or a, a), max(hi, b)
            if "correlationId" in cols:
                corr = max(corr, conn.execute(f'SELECT max(correlationId) FROM "{t}"').fetchone()[0] or 0)
        span, corr_span = hi - lo + 1, corr + 1
        for t in present:
            cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{t}")')]
            last = conn.execute(f'SELECT max(rowid) FROM "{t}"').fetchone()[0] or 0  # the original rows: <= last
            for k in range(1, factor):
                def shifted(c: str, k: int = k) -> str:
                    if c in ("start", "end"):
                        return f'"{c}" + {k * span}'
                    if c == "correlationId":
                        return f'"{c}" + {k * corr_span}'
                    return f'"{c}"'
                conn.execute(f'INSERT INTO "{t}" ({", ".join(chr(34) + c + chr(34) for c in cols)}) '
                             f'SELECT {", ".join(shifted(c) for c in cols)} FROM "{t}" WHERE rowid <= ?', (last,))
        conn.commit()
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in present}
    finally:
        conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    ap.add_argument("--factor", type=int, default=20)
    args = ap.parse_args()
    print(scaled_export(args.src, args.dst, args.factor))


if __name__ == "__main__":
    main()
