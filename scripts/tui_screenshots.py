"""Write the TUI screenshots in docs/img/tui-*.svg from real artifacts (run headlessly; no terminal needed).

    python scripts/tui_screenshots.py [--out docs/img] [--shared ../shared/fixtures]

Sources: TREx a100-resnet18-fp16 (TensorRT 8, profile + times) for Overview, Layers, Hotspots and the layer
detail; the bundled TensorRT-RTX example (fixtures/rtx-h100-resnet18, with its ONNX model) for Fusion (also at
80 columns); the H100 capture bundle (fixtures/h100-torch-capture.trtscope: real kernels and NVML samples) for
Kernels and the Timeline; the project's own convblock pair (fused vs split, with the gate) and the TREx FP32 vs
QAT pair for the diff view. A source that is absent is skipped with a message. Files are written atomically and
replaced (they are generated).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import trtscope  # noqa: E402
from trtscope.analysis.session import Analysis  # noqa: E402
from trtscope.atomic import atomic_write  # noqa: E402
from trtscope.views.tui.app import TrtscopeApp  # noqa: E402

Script = Callable[[Any], Awaitable[None]]


async def _settle(pilot: Any) -> None:
    for _ in range(3):
        await pilot.pause()


def keys(*presses: str) -> Script:
    async def run(pilot: Any) -> None:
        for k in presses:
            await pilot.press(k)
            await _settle(pilot)

    return run


def calls(*steps: Any) -> Script:
    """Key names (str) and callables taking the app, in order."""
    async def run(pilot: Any) -> None:
        for step in steps:
            if isinstance(step, str):
                await pilot.press(step)
            else:
                step(pilot.app)
            await _settle(pilot)

    return run


def shoot(analysis: Analysis, source: str, script: Script, out: Path, size: tuple[int, int] = (110, 34),
          theme: str | None = None) -> None:
    shoot_app(TrtscopeApp(analysis, source=source), script, out, size, theme)


def shoot_app(app: Any, script: Script, out: Path, size: tuple[int, int] = (110, 34),
              theme: str | None = None) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            if theme:
                app.theme = theme
            await _settle(pilot)
            while not getattr(app, "ready", True):  # the diff view compares in a worker first
                await pilot.pause(0.05)
            await _settle(pilot)
            await script(pilot)
            await pilot.pause(0.2)
            atomic_write(out, app.export_screenshot(title=f"trtscope tui — {out.stem}"))

    asyncio.run(main())
    print(f"wrote {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "fixtures")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    trex = args.shared / "trex" / "a100-resnet18-fp16"
    if trex.is_dir():
        a = trtscope.load(trex)
        src = "shared/fixtures/trex/a100-resnet18-fp16"
        shoot(a, src, keys(), args.out / "tui-overview.svg")
        shoot(a, src, calls("2", lambda app: app.screen.query_one("#main-table").sort("mean_ms", True)),
              args.out / "tui-layers.svg")
        shoot(a, src, keys("4"), args.out / "tui-hotspots.svg")
        shoot(a, src, keys("4", "enter"), args.out / "tui-detail.svg")
        shoot(a, src, keys("3", "u"), args.out / "tui-fusion-unfused-80x24-light.svg", size=(80, 24),
              theme="textual-light")
    else:
        print(f"skipped the TensorRT 8 screenshots: {trex} is absent", file=sys.stderr)

    example = trtscope.load(example=True)
    shoot(example, "bundled example (ResNet-18, TensorRT-RTX, H100)", keys("3"), args.out / "tui-fusion.svg")
    shoot(example, "bundled example", calls("3", lambda app: app.screen.run_search("layer2"), "down", "down"),
          args.out / "tui-fusion-80x24.svg", size=(80, 24))
    shoot(example, "bundled example", keys("2", "question_mark"), args.out / "tui-help.svg")

    from trtscope.analysis.diff.gate import parse_fail_on
    from trtscope.views.tui.diff_app import DiffApp

    fused, split = REPO / "fixtures" / "rtx-h200-convblock-fused", REPO / "fixtures" / "rtx-h200-convblock-split"
    shoot_app(DiffApp(trtscope.load(fused), trtscope.load(split), "convblock-fused", "convblock-split",
                      ("fixtures/rtx-h200-convblock-fused", "fixtures/rtx-h200-convblock-split"),
                      parse_fail_on("new-unfused")), keys(), args.out / "tui-diff-overview.svg", size=(110, 36))
    fp32, qat = args.shared / "trex" / "a100-resnet18-fp32", args.shared / "trex" / "a100-resnet18-qat"
    if fp32.is_dir() and qat.is_dir():
        pair = DiffApp(trtscope.load(fp32), trtscope.load(qat), "fp32", "qat")
        shoot_app(pair, calls("2", lambda app: app.screen.run_search("op:Conv"), "p"),
                  args.out / "tui-diff-nodes-80x24.svg", size=(80, 24))
        pair = DiffApp(trtscope.load(fp32), trtscope.load(qat), "fp32", "qat")
        shoot_app(pair, keys("2", "down", "down", "enter"), args.out / "tui-diff-pair.svg", size=(110, 30))
    else:
        print(f"skipped the TensorRT 8 diff screenshots: {fp32} or {qat} is absent", file=sys.stderr)

    bundle = REPO / "fixtures" / "h100-torch-capture.trtscope"
    if (bundle / "manifest.json").exists():
        from tests.test_tui_kit import bundle_analysis

        cap = bundle_analysis(bundle)
        name = "fixtures/h100-torch-capture.trtscope"
        shoot(cap, name, keys("5", "down", "down"), args.out / "tui-kernels.svg")
        shoot(trtscope.load(bundle), name, keys("5", "g"), args.out / "tui-kernels-80x24.svg", size=(80, 24))

        def cursor_on_kernels(app: Any) -> None:  # the cursor where the traced iterations ran
            screen = app.screen
            k = screen.analysis.kernels
            t = float(k["start_ns"].min()) + 1e6
            w0, w1 = screen.window
            screen.cursor = int((t - w0) / (w1 - w0) * screen.points)
            screen.draw()

        shoot(cap, name, calls("6", cursor_on_kernels), args.out / "tui-timeline.svg", size=(110, 40))
    else:
        print(f"skipped the Kernels and Timeline screenshots: {bundle} is absent", file=sys.stderr)


if __name__ == "__main__":
    main()
