"""Helpers for the TUI tests (and the screenshot script): run the app headlessly, read back what it painted.

``screen_text`` reads the SVG that ``App.export_screenshot()`` produces (a public API) back into lines of
text, so tests assert on what a user sees, not on internal state.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pandas as pd

from trtscope.analysis.session import Analysis, analyze
from trtscope.model.artifacts import Artifacts, LayerInfo, LayerProfile, OnnxGraph
from trtscope.model.tables import (
    KERNEL_COLUMNS,
    LAYER_COLUMNS,
    LAYER_SAMPLE_COLUMNS,
    NVML_SAMPLE_COLUMNS,
    ONNX_EDGE_COLUMNS,
    ONNX_NODE_COLUMNS,
    PROFILE_COLUMNS,
    frame,
)

_TEXT = re.compile(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', re.S)
CHAR_WIDTH = 12.2  # rich's export_svg: 0.61 x font size 20


def screen_text(app: Any) -> list[str]:
    """The app's current screen as lines of plain text (what a terminal would show)."""
    svg = app.export_screenshot()
    rows: dict[float, dict[int, str]] = {}
    for x, y, body in _TEXT.findall(svg):
        text = html.unescape(body).replace("\xa0", " ").replace("\n", "")
        if text:
            rows.setdefault(float(y), {})[round(float(x) / CHAR_WIDTH)] = text
    lines = []
    for y in sorted(rows):
        line = ""
        for col in sorted(rows[y]):
            line = line.ljust(col) + rows[y][col]
        lines.append(line.rstrip())
    return lines


def shown(app: Any) -> str:
    return "\n".join(screen_text(app))


def raw_column(table: Any, key: str = "name") -> list[str]:
    """The full values of one frame column for the rows a table shows, in order (names before shortening)."""
    return [str(v) for v in table.view_frame()[key].tolist()]


def row_line(app: Any) -> str:
    """The line under the table naming the row under the cursor in full (read from its widget: a toast may
    cover the screen's right edge)."""
    return str(app.screen.query_one("#row-line").render())


def run_app(app: Any, script: Callable[[Any], Awaitable[None]], size: tuple[int, int] = (120, 40),
            notifications: bool = False) -> None:
    """Run ``script(pilot)`` against ``app`` headlessly (pytest-asyncio is not a dependency)."""

    async def main() -> None:
        async with app.run_test(size=size, notifications=notifications) as pilot:
            await pilot.pause()
            await script(pilot)

    asyncio.run(main())


async def settle(pilot: Any, times: int = 2) -> None:
    """Let pending messages (mounts, debounced searches) run."""
    for _ in range(times):
        await pilot.pause()


async def until(pilot: Any, done: Callable[[], Any], what: str = "the app", tries: int = 1000) -> None:
    """Wait (up to ~20 s) until ``done()`` holds: for work the app does in a worker thread."""
    for _ in range(tries):
        if done():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"{what} did not get there")


async def type_search(pilot: Any, text: str) -> None:
    """``/``, the text key by key, Enter: filter the current screen's table as a user does (~0.1 s a key)."""
    await pilot.press("slash")
    await pilot.press(*list(text))
    await pilot.press("enter")
    await settle(pilot)


async def search(pilot: Any, text: str) -> None:
    """``/``, the text pasted into the box, Enter: the same path as typing, without a pause per key."""
    await pilot.press("slash")
    pilot.app.screen.search_box.value = text
    await pilot.press("enter")
    await settle(pilot)


# --- a hand-made capture: every value is chosen here, so tests know them without running trtscope ------------
NAMES = ["Conv_0 + Relu_1", "MaxPool_2", "Weird [bold]name[/bold]\x1e\x1fX", "Reformatting CopyNode for Output"]
MEAN_MS = [0.5, 0.25, 0.125, 0.0625]
KERNEL_NS = [(1_000_000, 1_400_000), (2_000_000, 2_200_000), (3_000_000, 3_050_000), (3_100_000, 3_110_000)]


def capture_analysis(n_samples: int = 5) -> Analysis:
    """Four layers (fused, single, a name full of brackets and control bytes, a reformat), an ONNX graph of
    five nodes (one folded), a profile with per-iteration samples, one kernel per layer, NVML samples."""
    layers = frame(
        [
            (0, NAMES[0], "CaskConvolution", "Convolution", None, "sm80_conv", "0x1", 0, None, "Half"),
            (1, NAMES[1], "CudaPooling", "Pooling", None, "pool_tactic", "0x2", 0, None, "Half"),
            (2, NAMES[2], "CaskConvolution", "Convolution", None, "weird_tactic", "0x3", 0,
             "[ONNX Layer: Gemm_3]", "Half"),
            (3, NAMES[3], "Reformat", "Reformat", "REFORMAT", None, "0x0", 0, None, "Float"),
        ],
        LAYER_COLUMNS,
    )
    raw = [
        {"Name": n, "LayerType": t, "Inputs": [{"Name": f"in{i}", "Dimensions": [1, 8, 4, 4],
                                                 "Format/Datatype": "Channel major FP16 format"}],
         "Outputs": [{"Name": f"out{i}", "Dimensions": [1, 8, 2, 2], "Format/Datatype": "Row major linear FP32"}],
         "TacticName": tac, "Kernel": [3, 3]}
        for i, (n, t, tac) in enumerate(zip(NAMES, ["CaskConvolution", "CudaPooling", "CaskConvolution",
                                                    "Reformat"], ["sm80_conv", "pool_tactic", "weird_tactic", ""],
                                            strict=True))
    ]
    info = LayerInfo(layers=layers, bindings=["input", "output"], detail="detailed", source="test", raw=raw)
    times = frame([(n, 0, n_samples, m * n_samples, m, m, None) for n, m in zip(NAMES, MEAN_MS, strict=True)],
                  PROFILE_COLUMNS)
    samples = frame([(it, n, 0, m * (1 + 0.1 * it)) for it in range(n_samples)
                     for n, m in zip(NAMES, MEAN_MS, strict=True)], LAYER_SAMPLE_COLUMNS)
    profile = LayerProfile(times=times, count=n_samples, source="test", samples=samples)
    nodes = frame([(0, "Conv_0", "Conv", ""), (1, "Relu_1", "Relu", ""), (2, "MaxPool_2", "MaxPool", ""),
                   (3, "Gemm_3", "Gemm", ""), (4, "Shape_4", "Shape", "")], ONNX_NODE_COLUMNS)
    edges = frame([(0, "input", 0, "x"), (0, "output", 0, "c0"), (1, "input", 0, "c0"), (1, "output", 0, "r1"),
                   (2, "input", 0, "r1"), (2, "output", 0, "m2"), (3, "input", 0, "m2"), (3, "output", 0, "g3"),
                   (4, "input", 0, "x"), (4, "output", 0, "s4")], ONNX_EDGE_COLUMNS)
    onnx = OnnxGraph(nodes=nodes, edge_table=edges, initializers=frozenset(), inputs=["x"], outputs=["g3"],
                     source="test.onnx")
    kernels = frame(
        [(s, e, f"kernel_{i}", 0, 7, i, 4, 1, 1, 128, 1, 1, None, 1, 1, s - 500, s - 100, i, NAMES[i], NAMES[i])
         for i, (s, e) in enumerate(KERNEL_NS)],
        KERNEL_COLUMNS,
    )
    nvml = frame(
        [(t, 0, util, 50, clock, 1500, power, 60, 1000 + t // 1_000_000, 0)
         for t, util, clock, power in [(500_000, 10, 1000, 100.0), (1_200_000, 90, 1980, 300.0),
                                       (2_100_000, 80, 1900, 280.0), (4_000_000, 20, 1200, 120.0)]],
        NVML_SAMPLE_COLUMNS,
    )
    art = Artifacts(layer_info=info, profile=profile, onnx=onnx, kernels=kernels, nvml=nvml,
                    metadata={"gpu": "Test GPU", "tensorrt_version": "10.99"})
    return analyze(art)


def test_capture_analysis_is_what_the_tests_assume() -> None:
    """The hand-made input keeps its promises (four layers, samples, kernels, NVML) once analysed."""
    a = capture_analysis()
    assert a.layers["name"].tolist() == NAMES
    assert a.layers["mean_ms"].tolist() == MEAN_MS
    assert len(a.kernels) == 4 and len(a.nvml) == 4
    assert a.artifacts.profile is not None and a.artifacts.profile.samples is not None
    assert isinstance(a.artifacts.profile.samples, pd.DataFrame) and len(a.artifacts.profile.samples) == 20


# --- the real capture bundle (PyTorch on an H100: kernels + NVML, no TensorRT layer information) --------------
CAPTURE_BUNDLE = Path(__file__).resolve().parents[1] / "fixtures" / "h100-torch-capture.trtscope"


def bundle_analysis(path: Path = CAPTURE_BUNDLE) -> Analysis:
    """The bundle's real kernels and NVML samples, with a names-only layer list taken from its manifest
    (``run.layers``, the NVTX range names its kernels are attributed to). trtscope.load() refuses a bundle
    without layer information or a profile, so the tests build the Artifacts themselves."""
    from trtscope.bundle.reader import read_bundle

    art = read_bundle(path)
    names = json.loads((path / "manifest.json").read_text())["run"]["layers"]
    rows = [(i, n, "", None, None, None, None, None, None, None) for i, n in enumerate(names)]
    art.layer_info = LayerInfo(layers=frame(rows, LAYER_COLUMNS), bindings=[], detail="names", source=str(path))
    return analyze(art)
