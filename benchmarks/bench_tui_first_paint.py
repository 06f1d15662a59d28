"""Time to first paint of ``trtscope tui`` on a 20,000-layer / 100,000-node input, in a real pseudo-terminal.

Target (issue 14): first paint <= 1.5 s end to end on 2 cores. ``trtscope tui`` makes the cheap checks (paths
exist, sizes), paints a loading Overview at once and reads large inputs (as this one) and runs the analysis in
a worker thread behind it (small inputs are read before the UI starts); the loading Overview then shows what
the inputs hold, and the full Overview replaces it when the analysis is ready. Each run spawns the
real command (``trtscope tui DIR``, through ``trtscope.cli.main``) in a pty; the child notes the wall-clock
time at which its inputs are read, the parent the times at which the loading Overview and then the full one
reach the terminal, and the child's CPU time (user + sys, from ``wait4``). So in one process, paired:

  baseline  spawn -> inputs read and checked (interpreter start, imports, reading the artifacts; now behind
            the first frame, so paint / baseline is below 1)
  paint     spawn -> first frame (the loading Overview: "Engine layers" on the terminal)
  full      spawn -> the full Overview ("Fusion coverage" on the terminal: the analysis is done)

and the ratios paint / baseline and full / baseline. Then, in-process and headless, the time each other
screen takes the first time it is shown (Layers builds a 20,000-row table, Fusion a 120,000-row grouped one)
and what a search and a sort take.

    python benchmarks/bench_tui_first_paint.py [--blocks 4000] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pty
import re
import select
import shutil
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from large_input import bench_arguments, prepared_input

ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Za-z0-9]|\x1b[=>]")
PAINTED = b"Engine layers"  # a headline row of the (loading) Overview: on screen means the first frame is painted
COMPLETE = b"Fusion coverage"  # a row only the full Overview has: the analysis is done and shown
TARGET_S = 1.5


CHILD = r"""
import json, sys, time
import trtscope.cli.tui as cli_tui

_read = cli_tui.artifacts_from_args


def timed(args, **kwargs):
    art = _read(args, **kwargs)
    with open(sys.argv[2], "w") as fh:
        json.dump({"loaded_at": time.time()}, fh)
    return art


cli_tui.artifacts_from_args = timed
from trtscope.cli.main import main

sys.exit(main(["tui", sys.argv[1]]))
"""


def _visible(seen: bytes, marker: bytes) -> bool:
    return marker in ANSI.sub(b"", seen[-200_000:])


def first_paint(d: Path, size: tuple[int, int] = (120, 40), timeout: float = 120.0) -> dict[str, float]:
    """Seconds from spawn to: inputs read (``loaded``), first frame (``painted``), full Overview (``full``);
    and the child's CPU seconds (``cpu``), of one ``trtscope tui DIR`` in a pty."""
    handle, name = tempfile.mkstemp(prefix="trtscope-bench-", suffix=".json")
    os.close(handle)
    side = Path(name)
    spawned = time.time()
    pid, fd = pty.fork()
    if pid == 0:  # child: the TUI on the pty
        os.environ["TERM"] = "xterm-256color"
        os.execv(sys.executable, [sys.executable, "-c", CHILD, str(d), str(side)])
    import fcntl
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    seen = b""
    painted = full = None
    cpu = float("nan")
    try:
        while time.time() - spawned < timeout:
            r, _, _ = select.select([fd], [], [], 0.01)
            if not r:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            now = time.time()
            if painted is None and _visible(seen, PAINTED):
                painted = now
            if painted is not None and _visible(seen, COMPLETE):
                full = now
                break
        if painted is None or full is None:
            tail = ANSI.sub(b"", seen)[-800:].decode(errors="replace")
            raise SystemExit(f"the TUI did not paint within {timeout} s; its terminal showed:\n{tail}")
        os.write(fd, b"q")
        deadline = time.time() + 20
        while time.time() < deadline:
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                with contextlib.suppress(OSError):
                    os.read(fd, 65536)
            done, _status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                cpu = usage.ru_utime + usage.ru_stime
                pid = 0
                break
    finally:
        if pid:
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        os.close(fd)
    loaded = json.loads(side.read_text())["loaded_at"]
    side.unlink()
    return {"loaded": loaded - spawned, "painted": painted - spawned, "full": full - spawned, "cpu": cpu}


def in_process(d: Path) -> dict[str, float]:
    """First show of each screen, a search and a sort, headless, with the Analysis already loaded."""
    import trtscope
    from trtscope.views.tui.app import TrtscopeApp

    a = trtscope.load(d)
    out: dict[str, float] = {}

    async def run() -> None:
        t = time.perf_counter()
        app = TrtscopeApp(a, source=str(d))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            out["overview (headless app start + first layout)"] = time.perf_counter() - t
            for key, name in (("2", "layers"), ("3", "fusion"), ("4", "hotspots")):
                t = time.perf_counter()
                await pilot.press(key)
                await pilot.pause()
                out[f"{name} screen, first show"] = time.perf_counter() - t
            await pilot.press("2")
            await pilot.pause()
            screen = app.screen
            t = time.perf_counter()
            screen.run_search("layers.12")  # type: ignore[attr-defined]
            await pilot.pause()
            out["layers: search 20,000 rows"] = time.perf_counter() - t
            screen.run_search("")  # type: ignore[attr-defined]
            t = time.perf_counter()
            screen.query_one("#main-table").sort("mean_ms", True)  # type: ignore[attr-defined]
            await pilot.pause()
            out["layers: sort 20,000 rows by time"] = time.perf_counter() - t
            await pilot.press("3")
            await pilot.pause()
            t = time.perf_counter()
            app.screen.run_search("op:gelu")  # type: ignore[attr-defined]
            await pilot.pause()
            out["fusion: search 120,000 rows"] = time.perf_counter() - t

    asyncio.run(run())
    return out


def main() -> None:
    args = bench_arguments(__doc__)
    d, tmp, sizes = prepared_input(args.keep, args.blocks, "trtscope-bench-tui-")
    runs = [first_paint(d) for _ in range(args.repeat)]

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    def listed(key: str) -> str:
        return ", ".join(f"{r[key]:.2f}" for r in runs)

    b, p, f = med("loaded"), med("painted"), med("full")
    print(f"input: {sizes['layers']} engine layers, {sizes['onnx_nodes']} ONNX nodes ({d}); {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}; median of {args.repeat} runs of `trtscope tui` in a pty")
    print(f"baseline: spawn -> inputs read and checked    {b:.2f} s  (runs: {listed('loaded')})")
    print(f"paint:    spawn -> first frame (Overview)     {p:.2f} s  (runs: {listed('painted')})")
    print(f"full:     spawn -> full Overview (analysed)   {f:.2f} s  (runs: {listed('full')})")
    print(f"CPU time of the tui process (user+sys, until q): {med('cpu'):.2f} s  (runs: {listed('cpu')})")
    print(f"ratios to baseline: paint {p / b:.2f}x, full {f / b:.2f}x")
    print(f"target: first paint <= {TARGET_S} s end to end on 2 cores -> {'MET' if p <= TARGET_S else 'NOT MET'}")
    print("in-process, headless (Analysis already loaded):")
    for k, v in in_process(d).items():
        print(f"  {k:<46} {v:.2f} s")
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
