"""Time to first paint of ``trtscope tui`` on a 20,000-layer / 100,000-node input, in a real pseudo-terminal.

Target (issue 3): the UI's own cost, from the Analysis in hand to the Overview painted, <= 1.5 s on 2 cores.
Each run spawns the real command (``trtscope tui DIR``, through ``trtscope.cli.main``) in a pty; the child notes
the wall-clock time at which its Analysis is loaded, the parent the time at which the Overview's text reaches
the terminal. So in one process, paired (on a shared machine, two separate processes drift apart too much):

  baseline  spawn -> Analysis loaded (interpreter start, imports, ``trtscope.load``): loading the Analysis alone
  tui       spawn -> Overview painted
  UI cost   Analysis loaded -> Overview painted (Textual import, app start, first layout and paint)

and the ratio tui / baseline. Then, in-process and headless, the time each other screen takes the first time it
is shown (Layers builds a 20,000-row table, Fusion a 120,000-row grouped one) and what a search and a sort take.

    python benchmarks/bench_tui_first_paint.py [--blocks 4000] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import asyncio
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
MARKER = b"Engine layers"  # a headline row of the Overview: on screen means the first frame is painted
TARGET_S = 1.5


CHILD = r"""
import json, sys, time
import trtscope.cli.tui as cli_tui

_load = cli_tui.load_from_args


def timed(args):
    a = _load(args)
    with open(sys.argv[2], "w") as fh:
        json.dump({"loaded_at": time.time()}, fh)
    return a


cli_tui.load_from_args = timed
from trtscope.cli.main import main

sys.exit(main(["tui", sys.argv[1]]))
"""


def first_paint(d: Path, size: tuple[int, int] = (120, 40), timeout: float = 120.0) -> tuple[float, float]:
    """(spawn -> Analysis loaded, spawn -> Overview on the terminal) of one ``trtscope tui DIR`` in a pty."""
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
    painted = None
    try:
        while time.time() - spawned < timeout:
            r, _, _ = select.select([fd], [], [], 0.02)
            if not r:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if MARKER in ANSI.sub(b"", seen[-200_000:]):
                painted = time.time()
                break
        if painted is None:
            tail = ANSI.sub(b"", seen)[-800:].decode(errors="replace")
            raise SystemExit(f"the TUI did not paint within {timeout} s; its terminal showed:\n{tail}")
        os.write(fd, b"q")
        deadline = time.time() + 20
        while time.time() < deadline:
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                try:
                    if not os.read(fd, 65536):
                        break
                except OSError:
                    break
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
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
    return loaded - spawned, painted - spawned


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
    loads, paints = [r[0] for r in runs], [r[1] for r in runs]
    own = [p - b for b, p in runs]
    b, t, u = statistics.median(loads), statistics.median(paints), statistics.median(own)
    print(f"input: {sizes['layers']} engine layers, {sizes['onnx_nodes']} ONNX nodes ({d}); {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}; median of {args.repeat} runs of `trtscope tui` in a pty")
    print(f"baseline: spawn -> Analysis loaded        {b:.2f} s  (runs: {', '.join(f'{x:.2f}' for x in loads)})")
    print(f"tui:      spawn -> Overview painted       {t:.2f} s  (runs: {', '.join(f'{x:.2f}' for x in paints)})")
    print(f"UI's own: Analysis -> Overview painted    {u:.2f} s  (runs: {', '.join(f'{x:.2f}' for x in own)})")
    print(f"ratio tui / baseline: {t / b:.2f}x")
    print(f"target: UI's own cost <= {TARGET_S} s on 2 cores -> {'MET' if u <= TARGET_S else 'NOT MET'}")
    print("in-process, headless (Analysis already loaded):")
    for k, v in in_process(d).items():
        print(f"  {k:<46} {v:.2f} s")
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
