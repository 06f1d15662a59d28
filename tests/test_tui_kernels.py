"""The Kernels screen and the kernel side of the TUI, on real captures: the H100 capture bundle
(fixtures/h100-torch-capture.trtscope: 272 CUPTI kernels in NVTX ranges, NVML samples, no TensorRT layer
information), loaded as ``trtscope tui BUNDLE`` loads it and with its layer names, and an Nsight Systems import
(../shared/fixtures/nsys, demangled C++ kernel names). Expected values come from the bundle's raw Parquet
tables, grouped here with pandas, or from the SQLite export through the importer."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import trtscope
from tests.conftest import shared_fixture
from tests.test_tui_kit import CAPTURE_BUNDLE, bundle_analysis, raw_column, row_line, run_app, search, settle, shown
from trtscope.views.tui.app import TrtscopeApp
from trtscope.views.tui.screens.detail import LayerDetailScreen
from trtscope.views.tui.widgets import FrameTable


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    if not (CAPTURE_BUNDLE / "manifest.json").exists():
        pytest.skip(f"capture bundle {CAPTURE_BUNDLE} is absent")
    k = pd.read_parquet(CAPTURE_BUNDLE / "tables" / "kernels.parquet")
    return k.assign(ms=(k["end_ns"] - k["start_ns"]) / 1e6, range=k["nvtx_range"].fillna(""),
                    layer=k["layer_name"].fillna(""))


def test_capture_without_layers_says_what_is_missing_and_lists_kernels(raw) -> None:  # type: ignore[no-untyped-def]
    """``trtscope tui BUNDLE``: no layer information. The Overview says so and lists kernels by NVTX range;
    screens that need layers are not offered; the Kernels screen lists every launch group, at 80x24."""
    app = TrtscopeApp(trtscope.load(CAPTURE_BUNDLE), source=str(CAPTURE_BUNDLE))
    by_range = raw[raw["range"].ne("")].groupby("range")["ms"].agg(["count", "sum"]).sort_values(
        "sum", ascending=False)
    groups = raw.groupby(["name", "layer", "range"])["ms"].agg(["count", "sum"])

    async def script(pilot: Any) -> None:
        text = shown(app)
        nav = text.splitlines()[0]
        assert "5 Kernels" in nav and "6 Timeline" in nav
        assert "2 Layers" not in nav and "3 Fusion" not in nav and "4 Hotspots" not in nav
        assert "Engine layers  none" in text and "Not in this input: no engine layers" in text
        for wrong in ("every compute node", "Engine layers 0", "Fusion coverage by op type", "Time by ONNX op"):
            assert wrong not in text  # no verdict, no empty table about what is not there
        ranges = app.screen.query_one("#ranges", FrameTable)
        assert ranges.has_focus and raw_column(ranges) == by_range.index.tolist()
        assert ranges.column_texts("kernels") == [f"{n:,}" for n in by_range["count"]]
        await pilot.press("2")
        await settle(pilot)
        assert app.current_mode == "overview"
        assert any("no engine layers" in str(n.message) for n in app._notifications)
        top = by_range.index[0]
        await pilot.press("enter")  # a range: its kernels in the Kernels screen
        await settle(pilot)
        assert app.current_mode == "kernels"
        table = app.screen.query_one("#main-table", FrameTable)
        assert set(raw_column(table, "nvtx_range")) == {top}
        assert sum(int(x.replace(",", "")) for x in table.column_texts("launches")) == by_range["count"].iloc[0]
        await pilot.press("escape")  # clears the search: every launch group
        await settle(pilot)
        f = table.view_frame()
        assert len(f) == len(groups) and int(f["launches"].sum()) == len(raw)
        for _, row in f.iterrows():
            want = groups.loc[(row["kernel"], row["layer_name"] or "", row["nvtx_range"] or "")]
            assert row["launches"] == want["count"] and row["total_ms"] == pytest.approx(want["sum"])
        lines = shown(app).splitlines()
        assert all(len(ln) <= 80 for ln in lines) and len(lines) <= 24
        header = next(ln for ln in lines if ln.startswith("kernel"))
        assert "total ms" in header and "share" in header and "layer" in header  # on screen at 80 columns
        biggest = f.iloc[0]
        assert row_line(app) == f"▶ {biggest['kernel']}"  # the full name of the row under the cursor
        await pilot.press("enter")  # no layer information: nothing to open, and it says why
        await settle(pilot)
        assert app.current_mode == "kernels"
        assert any("no engine layer to open" in str(n.message) for n in app._notifications)

    run_app(app, script, size=(80, 24), notifications=True)


def test_kernels_grouped_opened_and_listed_in_the_layer_detail(raw, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With the layer names: grouped by kernel (totals across layers), by layer (engine order); Enter opens
    the layer, whose detail lists its kernels; copy gives the full (mangled) kernel name; Enter on a kernel of
    the detail shows every launch group of that kernel."""
    import trtscope.views.tui.app as tui_app

    monkeypatch.setattr(tui_app, "clipboard_file", lambda: tmp_path / "clip.txt")
    a = bundle_analysis()
    app = TrtscopeApp(a)
    totals = raw.groupby("name")["ms"].agg(["count", "sum"]).sort_values("sum", ascending=False)
    layers = list(a.layers["name"])  # the manifest's layer names, in order
    top = raw[raw["layer"].ne("")].groupby(["name", "layer"])["ms"].sum().sort_values(ascending=False).index[0]

    async def script(pilot: Any) -> None:
        await pilot.press("5")
        await settle(pilot)
        table = app.screen.query_one("#main-table", FrameTable)
        assert (raw_column(table, "kernel")[0], raw_column(table, "layer_name")[0]) == top
        await pilot.press("g")  # by kernel, across layers
        await settle(pilot)
        assert raw_column(table, "kernel") == totals.index.tolist()
        assert table.column_texts("launches") == [f"{n:,}" for n in totals["count"]]
        shared = totals.index[0]  # the GEMM kernel serves fc1 and fc2
        in_layers = sorted(set(raw.loc[raw["name"].eq(shared) & raw["layer"].ne(""), "layer"]))
        assert sorted(table.view_frame()["layer_names"].iloc[0]) == in_layers and len(in_layers) == 2
        await pilot.press("g")  # by layer: engine order
        await settle(pilot)
        order = [layers.index(x) if x in layers else len(layers) for x in raw_column(table, "layer_name")]
        assert order == sorted(order)
        await pilot.press("g")  # back to launch groups
        await settle(pilot)
        await search(pilot, f"layer:{top[1]}")
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, LayerDetailScreen) and detail.index == layers.index(top[1])
        mine = raw[raw["layer"].eq(top[1])].groupby("name")["ms"].agg(["count", "sum"])
        kernels = detail.query_one("#layer-kernels", FrameTable)
        assert sorted(raw_column(kernels, "kernel")) == sorted(mine.index)
        names = raw_column(kernels, "kernel")
        assert kernels.view_frame()["launches"].tolist() == [mine.loc[k, "count"] for k in names]
        kernels.focus()
        await settle(pilot)
        await pilot.press("c")  # copy...: the kernel's full name
        await settle(pilot)
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert app.clipboard == raw_column(kernels, "kernel")[0]
        await pilot.press("enter")  # where else this kernel runs
        await settle(pilot)
        assert app.current_mode == "kernels"
        kt = app.screen.query_one("#main-table", FrameTable)
        assert set(raw_column(kt, "kernel")) == {raw_column(kernels, "kernel")[0]}
        assert int(kt.view_frame()["launches"].sum()) == int(raw["name"].eq(raw_column(kernels, "kernel")[0]).sum())
        await pilot.press("backspace")  # back to the detail
        await settle(pilot)
        assert isinstance(app.screen, LayerDetailScreen)

    run_app(app, script)


@pytest.mark.shared
def test_nsys_import_kernels_read_short_and_whole(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Demangled C++ signatures from an Nsight Systems export: the column shows the function and its first
    template arguments; the line under the table the whole signature."""
    import sqlite3

    from trtscope.importers.nsys import import_nsys

    src = shared_fixture("nsys", "fuser-h100x8-matmul-nsys2024.6.2") / "report1.sqlite"
    out = tmp_path / "fuser.trtscope"
    import_nsys(src, out)
    with sqlite3.connect(f"file:{src}?mode=ro", uri=True) as db:
        n_kernels = db.execute("SELECT COUNT(*) FROM CUPTI_ACTIVITY_KIND_KERNEL").fetchone()[0]
    app = TrtscopeApp(trtscope.load(out), source=str(out))

    async def script(pilot: Any) -> None:
        await pilot.press("5")
        await settle(pilot)
        table = app.screen.query_one("#main-table", FrameTable)
        assert int(table.view_frame()["launches"].sum()) == n_kernels
        names = raw_column(table, "kernel")
        labels = table.column_texts("kernel")
        for name, label in zip(names, labels, strict=True):
            assert len(label) <= len(name)
            if name.startswith("void "):  # a signature: no return type, no parameter list
                assert not label.startswith("void ") and not label.endswith(")")
        await pilot.press(*["down"] * next(i for i, n in enumerate(names) if n.startswith("void ")))
        await settle(pilot)
        assert table.cursor_title() is not None and table.cursor_title().startswith("void ")
        assert "▶ void " in shown(app)

    run_app(app, script)


def test_layers_screen_shows_kernel_columns_of_a_capture(raw) -> None:  # type: ignore[no-untyped-def]
    app = TrtscopeApp(bundle_analysis())
    per_layer = raw[raw["layer"].ne("")].groupby("layer")["ms"].agg(["count", "sum"])

    async def script(pilot: Any) -> None:
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one("#main-table", FrameTable)
        labels = [c.label for c in table.shown]
        assert "kernels" in labels and "kernel ms/run" in labels and "mean ms" not in labels  # no profile
        counts = dict(zip(raw_column(table), table.column_texts("kernel_count"), strict=True))
        assert counts == {k: f"{n:,}" for k, n in per_layer["count"].items()}

    run_app(app, script)
