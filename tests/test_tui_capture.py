"""The TUI on a capture (per-iteration samples, kernels, NVML) built in the test (tests/test_tui_kit.py), so
every expected figure is one chosen there: the layer detail's distribution, kernels and NVML samples, the
Timeline, names full of brackets and control bytes, NO_COLOR, themes, help, and an 80x24 terminal."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from textual.widgets import Static

from tests.test_tui_kit import (
    CAPTURE_BUNDLE,
    KERNEL_NS,
    NAMES,
    bundle_analysis,
    capture_analysis,
    raw_column,
    run_app,
    search,
    settle,
    shown,
)
from trtscope.views.tui.app import TrtscopeApp
from trtscope.views.tui.screens.detail import LayerDetailScreen
from trtscope.views.tui.screens.help import HelpScreen, bindings_of
from trtscope.views.tui.widgets import FrameTable, KeyValues
from trtscope.views.tui.widgets.track import Track


@pytest.fixture(scope="module")
def cap():  # type: ignore[no-untyped-def]
    return capture_analysis()


def test_detail_distribution_kernels_and_nvml(cap) -> None:  # type: ignore[no-untyped-def]
    app = TrtscopeApp(cap)

    async def script(pilot: Any) -> None:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("enter")  # layer 0
        await settle(pilot)
        assert isinstance(app.screen, LayerDetailScreen)
        text = shown(app)
        # samples 0.5 * (1 + 0.1 i), i = 0..4
        assert "per iteration (5 samples): min 0.5000, p50 0.6000" in text and "max 0.7000" in text
        kernels = app.screen.query_one("#kernels", FrameTable)
        assert kernels.column_texts("name") == ["kernel_0"]
        rollup = app.screen.query_one("#layer-kernels", FrameTable)  # the layer's kernels by GPU time
        assert rollup.column_texts("kernel") == ["kernel_0"] and rollup.column_texts("launches") == ["1"]
        assert "Kernels (1 kernel, 1 launch," in text
        assert "kernels: 0.4000 ms of GPU time per execution (1 launch captured)" in text
        assert kernels.column_texts("duration_us") == [f"{(KERNEL_NS[0][1] - KERNEL_NS[0][0]) / 1000:.1f}"]
        nvml = str(app.screen.query_one("#layer-nvml", Static).render())  # further down the page
        assert "NVML: 1 sample taken while its kernels ran" in nvml
        assert "GPU utilization: mean 90.0 %" in nvml  # the sample at 1.2 ms, inside kernel_0
        keys = app.screen.query_one("#layer-keys", KeyValues).rows  # further down the page
        assert [(k, str(v)) for k, v in keys] == [("Kernel", "[3, 3]")]  # other TensorRT keys, verbatim
        await pilot.press("escape")  # back, along the jump history
        await settle(pilot)
        assert app.current_mode == "layers" and len(app.screen_stack) == 1
        await pilot.press("end", "enter")  # the reformat layer: its kernel has a sample nearby only
        await settle(pilot)
        nvml = str(app.screen.query_one("#layer-nvml", Static).render())
        assert "nearest to its kernels" in nvml and "GPU utilization: mean 20.0 %" in nvml

    run_app(app, script)


def test_timeline_tracks_scale_and_time_cursor(cap) -> None:  # type: ignore[no-untyped-def]
    app = TrtscopeApp(cap)

    async def script(pilot: Any) -> None:
        assert "6 Timeline" in shown(app)
        await pilot.press("6")
        await settle(pilot)
        text = shown(app)
        assert "[6 Timeline]" in text
        # samples at 0.5, 1.2, 2.1 and 4.0 ms: 3.5 ms from first to last, plus one median period (0.9 ms)
        assert "GPU 0: 4 NVML samples over 4.4 ms" in text
        assert "GPU utilization (%): min 10.0 · mean 50.0 · max 90.0  (scale min–max of the window)" in text
        assert "SM clock (MHz): min 1000.0 · mean 1520.0 · max 1980.0" in text
        assert "Kernels running (share of time)" in text
        screen = app.screen
        util = screen.query_one("#track-gpu_util_pct", Track)
        n = len(util.text)
        assert n > 20 and set(util.text) <= set(" ▁▂▃▄▅▆▇█")
        assert util.text[0] == "▁" and "█" in util.text  # relative: 10 % is the floor, 90 % the top
        await pilot.press("a")  # absolute: 0-100 %, so 10 % is not the floor any more and 90 % not full
        await settle(pilot)
        assert "(scale 0–100)" in shown(app) and "█" not in util.text
        assert "SM clock (MHz): min 1000.0 · mean 1520.0 · max 1980.0  (scale 0–1,980 (capture max))" in shown(app)
        # the cursor: move it into the first kernel (1.0-1.4 ms after a 0.5 ms start: 0.5-0.9 ms in)
        t0 = 500_000
        span = 4_400_000
        cell = int((KERNEL_NS[0][0] + 200_000 - t0) / span * n)
        await pilot.press(*["right"] * cell)
        await settle(pilot)
        text = shown(app)
        assert "kernels running: 1 kernel" in text and "kernel_0" in text
        lo, hi = t0 + cell * span / n, t0 + (cell + 1) * span / n
        inside = (min(hi, KERNEL_NS[0][1]) - max(lo, KERNEL_NS[0][0])) / 1e3
        assert f"longest {inside:,.1f} µs here): kernel_0" in text
        assert "GPU 90.0 %" in text  # the sample at 1.2 ms: the last one at or before the cursor
        samples = screen.query_one("#samples", FrameTable)
        assert samples.column_texts("gpu_util_pct") == ["10.0", "90.0", "80.0", "20.0"]
        await pilot.press("z")  # zoom in around the cursor: half the span
        await settle(pilot)
        assert "kernel_0" in shown(app)

    run_app(app, script)


def test_no_color_still_marks_unfused_and_current_screen(cap, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NO_COLOR", "1")
    app = TrtscopeApp(cap)

    async def script(pilot: Any) -> None:
        assert app.no_color
        assert "[1 Overview]" in shown(app)
        await pilot.press("3")
        await settle(pilot)
        lines = shown(app).splitlines()
        assert any("MaxPool_2" in ln and "✗ unfused" in ln for ln in lines)
        assert any("Conv_0" in ln and "fused" in ln and "✗" not in ln for ln in lines)

    run_app(app, script)


async def palette(pilot: Any, text: str) -> None:
    """Ctrl+P, ``text`` put in the palette's input (as typed, without a pause per key), the first hit run."""
    from textual.command import CommandInput

    await pilot.press("ctrl+p")
    await settle(pilot)
    pilot.app.screen.query_one(CommandInput).value = text
    await pilot.pause(0.3)  # the palette searches its providers in a worker
    await settle(pilot)
    await pilot.press("down", "enter")
    await settle(pilot)


def test_theme_help_palette_and_copy(cap, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import trtscope.views.tui.app as tui_app

    clip = tmp_path / "clip.txt"
    monkeypatch.setattr(tui_app, "clipboard_file", lambda: clip)
    app = TrtscopeApp(cap)

    async def script(pilot: Any) -> None:
        dark = app.current_theme.dark
        await pilot.press("t")
        await settle(pilot)
        assert app.current_theme.dark is not dark
        assert "[1 Overview]" in shown(app)
        await pilot.press("t")
        assert app.current_theme.dark is dark
        for key in ("2", "3"):
            await pilot.press(key)
            await settle(pilot)
            under = app.screen
            await pilot.press("question_mark")
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
            keys = dict(k for _, rows in app.screen.sections() for k in rows)
            for b in [*bindings_of(type(app)), *bindings_of(type(under), ours=True), *bindings_of(FrameTable)]:
                for k in b.key.split(","):
                    assert app.get_key_display(type(b)(k, b.action)) in " ".join(keys), b
            text = shown(app)
            assert "Export" in text and "Unfused only" in text and "Search" in text and "Ctrl+P" in text
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is under
        # copy: the name of the row under the cursor (OSC 52 and the fallback file), then its ONNX node
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert app.clipboard == NAMES[0] and clip.read_text() == NAMES[0] + "\n"
        await pilot.press("c")
        await settle(pilot)
        assert "ONNX node: Conv_0" in shown(app)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.clipboard == "Conv_0\nRelu_1"  # the layer's nodes, one a line
        # the command palette lists every action of the screen (from its bindings) and runs one
        await palette(pilot, "unfused only")
        await settle(pilot)
        assert app.screen.unfused_only and "[✗ unfused only]" in shown(app).replace("\xa0", " ")
        await palette(pilot, "go to kernels")
        await settle(pilot)
        assert app.current_mode == "kernels"

    run_app(app, script)


def test_every_screen_fits_80x24(cap) -> None:  # type: ignore[no-untyped-def]
    app = TrtscopeApp(cap)

    async def script(pilot: Any) -> None:
        for key, label in (("1", "Overview"), ("2", "Layers"), ("3", "Fusion"), ("4", "Hotspots"),
                           ("5", "Kernels"), ("6", "Timeline")):
            await pilot.press(key)
            await settle(pilot)
            lines = shown(app).splitlines()
            assert len(lines) <= 24 and all(len(ln) <= 80 for ln in lines)
            assert f"[{key} {label}]" in lines[0]
            assert "Quit" in lines[-1] or "palette" in lines[-1]  # the footer of keys is on screen
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one("#main-table", FrameTable)
        # names readable at 80 columns; the reformat layer reads as its target, not TensorRT's long name
        assert [r[1] for r in table.visible_rows()][:2] == [NAMES[0], NAMES[1]]
        assert table.column_texts("label")[3] == NAMES[3]  # no "Reformatting ... to X" pattern: name kept
        lines = shown(app).splitlines()
        assert "▶ " + NAMES[0] in "\n".join(lines)  # the row under the cursor, in full, below the table
        await pilot.press("right", "right", "right")  # scroll sideways a column at a time: # and name stay
        await settle(pilot)
        row = next(ln for ln in shown(app).splitlines() if NAMES[1] in ln)
        assert row.split()[0] == "1" and NAMES[1] in row

    run_app(app, script, size=(80, 24))


# --- the real capture bundle recorded on an H100 (kernels + NVML; PyTorch, not TensorRT) ---------------------
@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    if not (CAPTURE_BUNDLE / "manifest.json").exists():
        pytest.skip(f"capture bundle {CAPTURE_BUNDLE} is absent")
    nvml = pd.read_parquet(CAPTURE_BUNDLE / "tables" / "nvml.parquet")
    kernels = pd.read_parquet(CAPTURE_BUNDLE / "tables" / "kernels.parquet")
    return {"nvml": nvml, "kernels": kernels, "analysis": bundle_analysis()}


def test_real_capture_timeline_and_layer_kernels(bundle) -> None:  # type: ignore[no-untyped-def]
    app = TrtscopeApp(bundle["analysis"])
    nvml, kernels = bundle["nvml"], bundle["kernels"]
    first = str(kernels["layer_name"].dropna().iloc[0])
    mine = kernels[kernels["layer_name"].eq(first)]
    total_us = float((mine["end_ns"] - mine["start_ns"]).sum()) / 1000

    async def script(pilot: Any) -> None:
        await pilot.press("6")
        await settle(pilot)
        text = shown(app)
        util = nvml["gpu_util_pct"]
        assert f"GPU 0: {len(nvml)} NVML samples" in text
        assert f"GPU utilization (%): min {util.min():.1f} · mean {util.mean():.1f} · max {util.max():.1f}" in text
        power = nvml["power_w"]
        assert f"Power (W): min {power.min():.1f} · mean {power.mean():.1f} · max {power.max():.1f}" in text
        assert app.screen.query_one("#samples", FrameTable).row_count == len(nvml)
        await pilot.press("2")
        await settle(pilot)
        await search(pilot, first)
        await pilot.press("enter")
        await settle(pilot)
        text = shown(app)
        n_names = mine["name"].nunique()
        assert f"Kernels ({n_names} kernel{'s' * (n_names != 1)}, {len(mine)} launches, {total_us:,.1f} µs in all)" \
            in text
        table = app.screen.query_one("#kernels", FrameTable)
        assert raw_column(table) == mine.sort_values("start_ns")["name"].astype(str).tolist()
        assert "NVML:" in text  # samples during (or, at 50 Hz, nearest to) microsecond kernels

    run_app(app, script)


def test_mouse_header_click_sorts_and_double_click_opens(cap) -> None:  # type: ignore[no-untyped-def]
    app = TrtscopeApp(cap)

    async def script(pilot: Any) -> None:
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one("#main-table", FrameTable)
        header = next(ln for ln in shown(app).splitlines() if "mean ms" in ln)  # the table's header line
        x = header.index("mean ms")
        await pilot.click("#main-table", offset=(x, 0))
        await settle(pilot)
        assert table.sort_column == "mean_ms" and table.sort_descending
        assert raw_column(table)[0] == NAMES[0]  # 0.5 ms, the largest chosen mean
        await pilot.click("#main-table", offset=(x, 0))  # again: reversed
        await settle(pilot)
        assert not table.sort_descending and raw_column(table)[0] == NAMES[3]
        await pilot.click("#main-table", offset=(5, 2), times=2)  # second row, double click
        await settle(pilot)
        assert isinstance(app.screen, LayerDetailScreen) and app.screen.index == 2
        # a name full of brackets and control bytes: shown literally (not markup), control bytes made visible
        assert "#2 Weird [bold]name[/bold]␞␟X" in shown(app)
        await pilot.press("escape")
        await settle(pilot)
        assert "Weird [bold]name[/bold]␞␟X" in shown(app)

    run_app(app, script)
