"""trtscope.atomic and the output rules: a process killed at EVERY step of a directory swap leaves (after the next
write's recovery) the old or the new output; signals during a write remove the temporary; links are never
written through; a refused write touches nothing; what --force replaces is only trtscope's own output.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, own_fixture
from trtscope.atomic import TAG, atomic_write, clean_leftovers, leftovers
from trtscope.bundle.writer import BundleWriter
from trtscope.cli.main import main
from trtscope.errors import OutputError

CAPTURE = str(own_fixture("h100-torch-capture.trtscope"))


def tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def run_python(code: str, *args: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


# --- a kill at every step -------------------------------------------------------------------------------------
EVERY_STEP = r"""
import json, os, shutil, sys
from pathlib import Path
import trtscope.atomic as atomic

root, fallback = Path(sys.argv[1]), sys.argv[2] == "fallback"
OLD = {"a.txt": b"old-a", "c.txt": b"old-c"}
NEW = {"a.txt": b"new-a" * 1000, "b.txt": b"new-b"}

def tree(p):
    return {str(f.relative_to(p)): f.read_bytes() for f in sorted(p.rglob("*")) if f.is_file()} if p.exists() else None

def write_new(out, kill_at):
    # the child: every file-system change counts as a step; at step kill_at the process dies on the spot
    steps = [0]
    def step(fn):
        def wrapped(*a, **k):
            steps[0] += 1
            if steps[0] == kill_at:
                os._exit(9)
            return fn(*a, **k)
        return wrapped
    if fallback:
        atomic._exchange = lambda a, b: False
    else:
        atomic._exchange = step(atomic._exchange)
    for name in ("rename", "replace", "unlink", "rmdir", "mkdir", "fchmod", "chmod", "fsync"):
        setattr(os, name, step(getattr(os, name)))
    atomic.tempfile.mkstemp = step(atomic.tempfile.mkstemp)
    atomic.tempfile.mkdtemp = step(atomic.tempfile.mkdtemp)
    atomic.write_dir_atomically(out, {n: (lambda b: lambda fh: fh.write(b))(b) for n, b in NEW.items()})
    os._exit(0)

results = []
k = 1
while True:
    case = root / f"k{k}"
    out = case / "out"
    out.mkdir(parents=True)
    for n, b in OLD.items():
        (out / n).write_bytes(b)
    pid = os.fork()
    if pid == 0:
        write_new(out, k)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    before = tree(out)
    left = sorted(p.name for p in atomic.leftovers(out))
    atomic.clean_leftovers(out)  # what the next write does first
    after = tree(out)
    state = lambda t: "old" if t == OLD else "new" if t == NEW else "missing" if t is None else "MIXED"
    results.append({"k": k, "exit": code, "before": state(before), "after": state(after), "left": left,
                    "left_after": sorted(os.listdir(case))})
    if code == 0:
        break
    k += 1
print(json.dumps({"results": results}))
"""


@pytest.mark.parametrize("mode", ["exchange", "fallback"])
def test_directory_swap_killed_at_every_step(tmp_path: Path, mode: str) -> None:
    if mode == "exchange" and not sys.platform.startswith("linux"):
        pytest.skip("renameat2(RENAME_EXCHANGE) is Linux-only")
    results = run_python(EVERY_STEP, str(tmp_path), mode)["results"]
    assert len(results) > 8  # every file write, the swap and the removal of the old directory are steps
    assert results[-1]["exit"] == 0 and results[-1]["after"] == "new"
    for r in results:
        assert r["after"] in ("old", "new"), r
        assert r["left_after"] == ["out"], r  # nothing left once the next write has recovered
        if mode == "exchange":
            assert r["before"] in ("old", "new"), r  # atomic: never missing, even before recovery
    if mode == "fallback":
        cut = [r for r in results if r["before"] == "missing"]
        assert cut and all(r["after"] == "old" for r in cut), results  # the backup was put back


def test_leftovers_of_a_dead_writer_only_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(dead.stdout)
    out = tmp_path / "o.json"
    stray_file = tmp_path / f".o.json{TAG}{dead_pid}-abc123.tmp"
    stray_file.write_text("half")
    stray_dir = tmp_path / f".o.json{TAG}{dead_pid}-def456.tmp"
    (stray_dir / "sub").mkdir(parents=True)
    (stray_dir / "sub" / "x").write_text("x")
    live = tmp_path / f".o.json{TAG}{os.getppid()}-aaa.tmp"  # a writer that is still running
    live.write_text("busy")
    unrelated = tmp_path / ".o.json.notes"
    unrelated.write_text("mine")
    assert set(leftovers(out)) == {stray_file, stray_dir}
    atomic_write(out, "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["o.json", live.name, unrelated.name])


def test_backup_is_put_back_when_the_target_is_missing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    backup = tmp_path / f".out{TAG}999999999-abc.old"  # no such process
    backup.mkdir()
    (backup / "summary.json").write_text("previous")
    clean_leftovers(out)
    assert (out / "summary.json").read_text() == "previous" and not backup.exists()


SIGNAL_DURING_WRITE = r"""
import json, os, signal, sys, time
from pathlib import Path
from trtscope.atomic import Terminated, atomic_open, critical, interrupt_handlers, write_dir_atomically
target, sig = Path(sys.argv[1]), getattr(signal, sys.argv[2])
target.write_bytes(b"old")
caught, deferred = None, None
try:
    with atomic_open(target) as fh:
        fh.write(b"partial")
        os.kill(os.getpid(), sig)
        time.sleep(5)
except KeyboardInterrupt as err:
    caught = type(err).__name__
# a signal inside a critical section waits for its end
order = []
try:
    with interrupt_handlers():
        with critical():
            os.kill(os.getpid(), sig)
            time.sleep(0.2)
            order.append("after kill, still inside")
        order.append("not reached")
except KeyboardInterrupt:
    order.append("raised at the end")
# a directory export interrupted halfway leaves no staging directory
d = target.parent / "exp"
def slow(fh):
    fh.write(b"x")
    os.kill(os.getpid(), sig)
    time.sleep(5)
try:
    write_dir_atomically(d, {"a.csv": lambda fh: fh.write(b"a"), "b.csv": slow})
except KeyboardInterrupt:
    pass
print(json.dumps({"caught": caught, "order": order, "content": target.read_text(),
                  "handler_restored": signal.getsignal(sig) in (signal.SIG_DFL, signal.default_int_handler),
                  "files": sorted(os.listdir(target.parent))}))
"""


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT", "SIGHUP"])
def test_signal_during_a_write_removes_the_temporary(tmp_path: Path, sig: str) -> None:
    r = run_python(SIGNAL_DURING_WRITE, str(tmp_path / "t.json"), sig)
    assert r["caught"] == ("KeyboardInterrupt" if sig == "SIGINT" else "Terminated")
    assert r["content"] == "old"
    assert r["files"] == ["t.json"]  # no temporary file, no staging directory
    assert r["order"] == ["after kill, still inside", "raised at the end"]
    assert r["handler_restored"]


def test_temporaries_are_private_until_complete(tmp_path: Path) -> None:
    from trtscope.atomic import atomic_open

    with atomic_open(tmp_path / "f.csv") as fh:
        fh.write(b"half")
        (tmp,) = [p for p in tmp_path.iterdir() if p.name != "f.csv"]
        assert tmp.name.startswith(f".f.csv{TAG}{os.getpid()}-") and tmp.stat().st_mode & 0o077 == 0
    assert (tmp_path / "f.csv").stat().st_mode & 0o044 == 0o044 and not tmp.exists()


# --- links and refusals ---------------------------------------------------------------------------------------
def _err_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


@pytest.mark.parametrize("force", [False, True])
def test_a_link_at_the_output_is_never_written_through(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        force: bool) -> None:
    victim_dir = tmp_path / "victim"
    victim_dir.mkdir()
    (victim_dir / "summary.json").write_text(json.dumps({"schema": "trtscope-export/1"}))  # even one like ours
    victim_file = tmp_path / "victim.json"
    victim_file.write_text('{"schema":"trtscope-export/1"}')
    before = tree(victim_dir), victim_file.read_bytes()
    extra = ["--force"] if force else []
    for fmt, target in (("csv", victim_dir), ("json", victim_file), ("chrome-trace", victim_file)):
        link = tmp_path / f"link-{fmt}"
        link.symlink_to(target)
        assert main(["export", CAPTURE, "--format", fmt, "-o", str(link), *extra]) == 2
        assert "symbolic link" in _err_line(capsys)
        assert link.is_symlink()
    link = tmp_path / "link-bundle"
    link.symlink_to(victim_dir)
    assert main(["nsys", "import", str(tmp_path / "none.sqlite"), "-o", str(link), *extra]) == 2
    assert "symbolic link" in _err_line(capsys)
    assert (tree(victim_dir), victim_file.read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir() if not p.is_symlink()) == ["victim", "victim.json"]


def test_force_replaces_only_our_own_single_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    foreign = {
        "notes.json": b'{"schema": "mine"}',
        "trace.json": b'{"traceEvents":[\n{"name":"x"}\n],"otherData":{"generator":"other tool"}}\n',
        "trace.json.gz": gzip.compress(b'{"traceEvents":[],"otherData":{"generator":"other"}}'),
        "model.onnx.json": b"\x08\x07\x12\x04",
    }
    for name, data in foreign.items():
        (tmp_path / name).write_bytes(data)
        fmt = "chrome-trace" if "trace" in name else "json"
        assert main(["export", CAPTURE, "--format", fmt, "-o", str(tmp_path / name), "--force"]) == 2
        assert "not a previous trtscope export" in _err_line(capsys)
        assert (tmp_path / name).read_bytes() == data
    # our own exports are replaced, whichever of our formats they hold
    for name, fmt in (("ours.json", "chrome-trace"), ("ours.json.gz", "chrome-trace"), ("doc.json", "json")):
        p = tmp_path / name
        assert main(["export", CAPTURE, "--format", fmt, "-o", str(p)]) == 0
        other = "json" if fmt == "chrome-trace" else "chrome-trace"
        assert main(["export", CAPTURE, "--format", other, "-o", str(p), "--force"]) == 0
        assert main(["export", CAPTURE, "--format", fmt, "-o", str(p), "--force"]) == 0
    capsys.readouterr()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
@pytest.mark.parametrize("fmt", ["json", "chrome-trace", "nvtxt", "csv"])
def test_force_refuses_a_fifo_in_plain_words(tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    assert main(["export", CAPTURE, "--format", fmt, "-o", str(fifo), "--force"]) == 2
    line = _err_line(capsys)
    assert line.startswith(f"trtscope: error: {fifo}: ") and "that is not a" not in line
    assert "FIFO" in line or "not a directory" in line
    assert fifo.is_fifo()


def test_force_never_deletes_a_file_put_inside_an_export_or_bundle(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "tables"
    assert main(["export", CAPTURE, "--format", "csv", "-o", str(out)]) == 0
    (out / "my-notes.txt").write_text("keep")
    before = tree(out)
    assert main(["export", CAPTURE, "--format", "csv", "-o", str(out), "--force"]) == 2
    assert "refusing to overwrite" in _err_line(capsys)
    assert tree(out) == before
    bundle = tmp_path / "b.trtscope"
    with BundleWriter(bundle, staged=True) as w:
        w.note("first")
    (bundle / "analysis.ipynb").write_text("keep")
    with pytest.raises(OutputError, match="not a trtscope bundle"):
        BundleWriter(bundle, force=True, staged=True)
    assert (bundle / "analysis.ipynb").read_text() == "keep"


def test_staged_bundle_failure_keeps_the_previous_bundle(tmp_path: Path) -> None:
    path = tmp_path / "run.trtscope"
    with BundleWriter(path, kind="nsys-import", staged=True) as w:
        w.write_raw("layers", "layers.json", b"{}")
    before = tree(path)
    with pytest.raises(RuntimeError), BundleWriter(path, kind="nsys-import", force=True, staged=True) as w:
        w.write_raw("layers", "other.json", b"[]")
        raise RuntimeError("import failed")
    assert tree(path) == before
    assert sorted(os.listdir(tmp_path)) == ["run.trtscope"]
    with BundleWriter(path, kind="nsys-import", force=True, staged=True) as w:
        w.write_raw("layers", "other.json", b"[]")
    assert sorted(tree(path)) == ["manifest.json", "raw/other.json"]  # replaced whole: nothing stale
