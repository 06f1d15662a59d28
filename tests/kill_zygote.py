"""A pre-imported parent that forks ``trtscope`` CLI runs and kills them at a given moment (kill tests).

Forking from a process that has already imported trtscope, pandas and pyarrow makes each trial cost the command's
own work (a tenth of a second) instead of an interpreter start, so many random kill points fit in a few
seconds. Protocol: one JSON request per stdin line ``{"argv": [...], "delay": s, "signal": n or null}``; one
JSON answer per stdout line ``{"pid", "exit", "signal", "seconds"}``. The first line names commands to run once in
the parent first (``{"warm_up": [argv, ...]}``), so that every child starts with warm caches.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import sys
import time

import pandas  # noqa: F401  (pre-imported for the children)
import pyarrow.csv
import pyarrow.parquet  # noqa: F401

import trtscope.analysis.session
import trtscope.cli.export
import trtscope.cli.nsys
import trtscope.cli.report
import trtscope.exporters.tables
import trtscope.loader
import trtscope.parsers.nsys_sqlite  # noqa: F401
from trtscope.cli.main import entry, main


def trial(argv: list[str], delay: float, signum: int | None) -> dict[str, object]:
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: one CLI run, output discarded
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        sys.argv = ["trtscope", *argv]
        try:
            entry()  # as the console script runs: os._exit after a read-only success, else sys.exit
            rc = 0
        except SystemExit as done:
            rc = done.code if isinstance(done.code, int) else 1
        except BaseException:
            rc = 99
        atexit._run_exitfuncs()  # what interpreter shutdown would do after sys.exit
        os._exit(rc)
    if signum is not None:
        time.sleep(delay)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
    _, status = os.waitpid(pid, 0)
    return {
        "pid": pid,
        "exit": os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "seconds": time.perf_counter() - t0,
    }


def warm_up(argvs: list[list[str]]) -> None:
    """Run each command once here (output discarded), so the children start with warm caches."""
    saved = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        for argv in argvs:
            main(argv)
    finally:
        sys.stdout.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)


def serve() -> None:
    first = json.loads(sys.stdin.readline())
    warm_up(first.get("warm_up", []))
    sys.stdout.write("{}\n")
    sys.stdout.flush()
    for line in sys.stdin:
        req = json.loads(line)
        sys.stdout.write(json.dumps(trial(req["argv"], req.get("delay", 0.0), req.get("signal"))) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
