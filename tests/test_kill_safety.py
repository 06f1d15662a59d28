"""Kill tests: ``trtscope export --force`` and ``trtscope nsys import --force`` killed at random moments leave the
previous output or the complete new one — never a partial file — and no temporary survives the next run.

Each trial forks a CLI run from a pre-imported parent (tests/kill_zygote.py) and sends SIGKILL, SIGINT or
SIGTERM after a random delay within the run's own duration (half of them in its last 40 %, where the writing
happens). The "old" output differs from the "new" one (other tables / other inputs), and is put back before
every trial, so each trial shows which of the two it left. SIGKILL cannot be caught: its temporaries (named
after the killed process) may remain until the next run, which removes them; SIGINT / SIGTERM leave none.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.conftest import REPO, shared_fixture

TRIALS = 20
NSYS_REPORT = ("nsys", "cs336-a100-2p7b-torchcompile-cudagraph-nsys2024.6.2", "result_2_7B_compile_ro.sqlite")
LAYERS = ("trex", "a100-resnet18-fp16", "resnet.onnx.engine.graph.json")


class Zygote:
    def __init__(self, warm_up: list[list[str]]) -> None:
        env = {**os.environ, "NO_COLOR": "1"}
        self.proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "kill_zygote.py")], cwd=REPO, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"warm_up": warm_up}) + "\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == "{}", "the kill harness did not start"

    def run(self, argv: list[str], delay: float = 0.0, signum: int | None = None) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"argv": argv, "delay": delay, "signal": signum}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the kill harness died"
        return dict(json.loads(line))

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@contextlib.contextmanager
def zygote(warm_up: list[list[str]]) -> Iterator[Zygote]:
    z = Zygote(warm_up)
    try:
        yield z
    finally:
        z.close()


def tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def plan(seconds: float, seed: int) -> list[tuple[float, int]]:
    """(delay, signal) for every trial: 14 SIGKILL, 3 SIGINT, 3 SIGTERM; half the delays late in the run."""
    rng = random.Random(seed)
    sigs = [signal.SIGKILL] * 14 + [signal.SIGINT] * 3 + [signal.SIGTERM] * 3
    rng.shuffle(sigs)
    delays = [rng.uniform(0, seconds) if i % 2 else rng.uniform(0.6 * seconds, 1.05 * seconds) for i in range(TRIALS)]
    return list(zip(delays, [int(s) for s in sigs], strict=True))


def kill_trials(z: Zygote, out: Path, argv: list[str], old: Path, new_state: Any, state: Callable[[Path], Any],
                seconds: float, seed: int) -> list[str]:
    """Run the trials; check after each that ``out`` is old or new and what temporaries are left."""
    old_state = state(old)
    assert old_state != new_state
    killed: set[int] = set()
    outcomes = []
    for delay, sig in plan(seconds, seed):
        if not out.exists() or state(out) != old_state:
            shutil.rmtree(out, ignore_errors=True)
            shutil.copytree(old, out)
        r = z.run(argv, delay, sig)
        now = state(out) if out.exists() else None
        assert now is not None, f"target missing after signal {sig} at {delay:.3f}s ({r})"
        which = "old" if now == old_state else "new" if now == new_state else "MIXED"
        assert which != "MIXED", f"partial output after signal {sig} at {delay:.3f}s ({r})"
        if r["signal"] == signal.SIGKILL:
            killed.add(r["pid"])
        assert r["exit"] in (None, 0, 130), r  # 130: Ctrl-C / SIGTERM handled, 0: finished before the signal
        for name in os.listdir(out.parent):
            if name == out.name:
                continue
            pid = int(name.split(".trtscope-")[1].split("-")[0]) if ".trtscope-" in name else None
            assert pid in killed, f"stray {name} after signal {sig} ({r}); only a SIGKILLed run may leave one"
        outcomes.append(f"{signal.Signals(sig).name}@{delay:.3f}s->{which}")
    # a normal run: replaces the target and removes what the SIGKILLed runs left
    r = z.run(argv)
    assert r["exit"] == 0, r
    assert os.listdir(out.parent) == [out.name]
    assert state(out) == new_state
    return outcomes


def test_export_killed_at_random_points(tmp_path: Path) -> None:
    ref_new, ref_old = tmp_path / "new", tmp_path / "old"
    with zygote([["export", "--example", "--format", "csv", "-o", str(tmp_path / "warm")]]) as z:
        first = z.run(["export", "--example", "--format", "csv", "-o", str(ref_new)])
        assert first["exit"] == 0
        assert z.run(["export", "--example", "--format", "csv", "--table", "layers", "-o", str(ref_old)])["exit"] == 0
        assert "summary.json" in tree(ref_new) and len(tree(ref_new)) > 3
        out = tmp_path / "target" / "tables"
        out.parent.mkdir()
        argv = ["export", "--example", "--format", "csv", "-o", str(out), "--force"]
        kill_trials(z, out, argv, ref_old, tree(ref_new), tree, first["seconds"], seed=15)


def bundle_state(path: Path) -> tuple[str, dict[str, Any], dict[str, bytes]]:
    """A bundle as (status, manifest without its timestamps and command line, every other file's bytes)."""
    from trtscope.bundle.manifest import read_manifest

    m = dict(read_manifest(path))
    for k in ("started_at", "ended_at", "created_by"):
        m.pop(k, None)
    files = {k: v for k, v in tree(path).items() if k != "manifest.json"}
    return str(m["status"]), m, files


def test_nsys_import_killed_at_random_points(tmp_path: Path) -> None:
    report = shared_fixture(*NSYS_REPORT)
    layers = shared_fixture(*LAYERS)
    ref_new, ref_old = tmp_path / "new", tmp_path / "old"
    with zygote([["nsys", "import", str(report), "-o", str(tmp_path / "warm"), "--json"]]) as z:
        first = z.run(["nsys", "import", str(report), "-o", str(ref_new), "--json"])
        assert first["exit"] == 0
        old = z.run(["nsys", "import", str(report), "--layers", str(layers), "-o", str(ref_old), "--json"])
        assert old["exit"] == 0
        new = bundle_state(ref_new)
        assert new[0] == "complete" and "tables/kernels.parquet" in new[2]
        out = tmp_path / "target" / "run.trtscope"
        out.parent.mkdir()
        argv = ["nsys", "import", str(report), "-o", str(out), "--force", "--json"]
        kill_trials(z, out, argv, ref_old, new, bundle_state, first["seconds"], seed=9)
