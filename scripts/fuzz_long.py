"""The long fuzz run: thousands of mutated inputs through every reader, with figures per reader.

Each input is read in a worker process (forked, memory-limited with RLIMIT_AS) so that a hang is seen and
killed (per-input timeout) and memory is bounded. Inputs are derived from the real fixtures and the
project's fixtures by tests/fuzzing.py; every failure is written with its reproducer (target, seed index,
mutations, rng seed) to ``--out``. Figures per reader: inputs, rejected cleanly (InputError), rejected at a
reader's exception boundary (ReaderFailure: clean for the user, a check the reader lacks), accepted,
accepted-but-contradictory, tracebacks, analysis crashes, bundle-reader crashes, hangs; and the peak RSS
of the worker processes.

    python scripts/fuzz_long.py [--inputs 10000] [--workers 2] [--timeout 60] [--mem-mb 4096] [--seed 1]
                                [--targets layer_info_json,onnx,...] [--out fuzz-failures]

Exit code 1 when a reader produced a traceback, a hang or a contradictory result (analysis and bundle
crashes are reported, not counted: they belong to other modules).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import random
import resource
import signal
import sys
import time
from collections import Counter
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests import fuzzing  # noqa: E402

KINDS = ("rejected", "boundary", "accepted", "contradictory", "traceback", "analysis_crash", "bundle_crash",
         "hang")
FAILING = ("contradictory", "traceback", "hang")


def _worker(conn: Connection, mem_mb: int) -> None:  # pragma: no cover - runs in the child
    if mem_mb:
        limit = mem_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import warnings

    warnings.simplefilter("ignore")
    seed_lists: dict[str, list[fuzzing.Seed]] = {}
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        target, seed_index, muts, rng_seed = task
        if target not in seed_lists:
            seed_lists[target] = fuzzing.seeds(target, long=True)
        try:
            out = fuzzing.run_one(target, seed_index, tuple(muts), rng_seed, seed_lists[target])
            result = {"kind": out.kind, "detail": out.detail}
        except MemoryError:
            result = {"kind": "traceback", "detail": "MemoryError in the harness"}
        except Exception as err:  # the harness itself failed on this input: report, do not die
            result = {"kind": "traceback", "detail": f"harness: {type(err).__name__}: {err}"}
        result["rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        conn.send(result)


class Worker:
    def __init__(self, ctx: Any, mem_mb: int) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child, mem_mb), daemon=True)
        self.proc.start()
        child.close()
        self.task: tuple[Any, ...] | None = None
        self.deadline = 0.0

    def send(self, task: tuple[Any, ...], timeout: float) -> None:
        self.task = task
        self.deadline = time.monotonic() + timeout
        self.conn.send(task)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, TypeError):
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.join(5)
        self.conn.close()


def plan(n: int, targets: list[str], seed: int) -> list[tuple[str, int, tuple[str, ...], int]]:
    """``n`` tasks spread evenly over the targets, mutations and seeds drawn from one RNG."""
    rng = random.Random(seed)
    counts = {t: len(fuzzing.seeds(t, long=True)) for t in targets}
    usable = [t for t in targets if counts[t]]
    tasks = []
    for i in range(n):
        t = usable[i % len(usable)]
        muts = list(fuzzing.MUTATIONS[t])
        m = tuple(rng.choice(muts) for _ in range(rng.choices((1, 2, 3), (5, 3, 1))[0]))
        tasks.append((t, rng.randrange(counts[t]), m, rng.randrange(2**31)))
    return tasks


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=max(1, min(4, (os.cpu_count() or 2))))
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per input before it counts as a hang")
    ap.add_argument("--mem-mb", type=int, default=4096, help="address-space limit per worker (0: none)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--targets", default=",".join(fuzzing.TARGETS))
    ap.add_argument("--out", type=Path, default=Path("fuzz-failures"))
    ap.add_argument("--progress", action="store_true", help="progress on stderr even when it is not a terminal")
    args = ap.parse_args()
    targets = [t for t in args.targets.split(",") if t]
    tasks = plan(args.inputs, targets, args.seed)
    ctx = mp.get_context("fork")
    workers = [Worker(ctx, args.mem_mb) for _ in range(args.workers)]
    counts: dict[str, Counter[str]] = {t: Counter() for t in targets}
    failures: list[dict[str, Any]] = []
    peak_kb = 0
    start = time.monotonic()
    pending = list(reversed(tasks))
    done = 0
    tty = sys.stderr.isatty() or args.progress
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / "failures.jsonl"
    log.write_text("")

    def record(task: tuple[Any, ...], result: dict[str, Any]) -> None:
        nonlocal done
        counts[task[0]][result["kind"]] += 1
        done += 1
        if result["kind"] not in ("rejected", "accepted"):
            failures.append({"target": task[0], "seed": task[1], "mutations": list(task[2]), "rng_seed": task[3],
                             **{k: v for k, v in result.items() if k != "rss_kb"}})
            with open(log, "a", encoding="utf-8") as fh:  # written as they come: a long run can be watched
                fh.write(json.dumps(failures[-1], ensure_ascii=True) + "\n")
        if tty and done % 50 == 0:
            bad = sum(1 for f in failures if f["kind"] in FAILING)
            print(f"\r{done}/{len(tasks)} inputs, {bad} failing, {time.monotonic() - start:.0f} s", end="",
                  file=sys.stderr, flush=True)

    for w in workers:
        if pending:
            w.send(pending.pop(), args.timeout)
    while any(w.task is not None for w in workers):
        busy = [w for w in workers if w.task is not None]
        ready = wait([w.conn for w in busy], timeout=1.0)
        now = time.monotonic()
        for i, w in enumerate(workers):
            if w.task is None:
                continue
            if w.conn in ready:
                task, w.task = w.task, None
                try:
                    result = w.conn.recv()
                except (EOFError, OSError):  # the worker died (killed by the OS for memory?)
                    result = {"kind": "traceback", "detail": "worker process died", "rss_kb": 0}
                    w.kill()
                    workers[i] = w = Worker(ctx, args.mem_mb)
                peak_kb = max(peak_kb, result.get("rss_kb", 0))
                record(task, result)
            elif now > w.deadline:
                task = w.task
                w.kill()
                workers[i] = w = Worker(ctx, args.mem_mb)
                record(task, {"kind": "hang", "detail": f"no answer within {args.timeout:.0f} s"})
            if w.task is None and pending:
                w.send(pending.pop(), args.timeout)
    for w in workers:
        with contextlib.suppress(OSError):
            w.conn.send(None)
        w.proc.join(5)
    if tty:
        print(file=sys.stderr)
    wall = time.monotonic() - start

    header = f"{'reader':<16}" + "".join(f"{k:>15}" for k in ("inputs", *KINDS))
    print(header)
    total: Counter[str] = Counter()
    for t in targets:
        c = counts[t]
        total.update(c)
        print(f"{t:<16}" + f"{sum(c.values()):>15}" + "".join(f"{c[k]:>15}" for k in KINDS))
    print(f"{'all':<16}" + f"{sum(total.values()):>15}" + "".join(f"{total[k]:>15}" for k in KINDS))
    print(f"wall {wall:.0f} s with {args.workers} workers; per-input timeout {args.timeout:.0f} s; address-space "
          f"limit {args.mem_mb} MiB per worker; peak RSS of a worker {peak_kb / 1024:.0f} MiB")
    if failures:
        kinds = Counter((f["kind"], f["detail"][:150]) for f in failures if f["kind"] != "boundary")
        for (kind, detail), n in kinds.most_common(25):
            print(f"  {n:5d} {kind}: {detail}")
        print(f"every failure with its reproducer: {log} (tests.fuzzing.make_input(target, seed, mutations, "
              "rng_seed, workdir) rebuilds the input)")
    return 1 if any(total[k] for k in FAILING) else 0


if __name__ == "__main__":
    sys.exit(main())
