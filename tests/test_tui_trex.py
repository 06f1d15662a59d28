"""The TUI on a real TensorRT 8 engine (TREx a100-resnet18-fp16: layer JSON, profile, per-iteration times),
driven headlessly through every screen. Expected values are read from the raw artifact files."""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path
from typing import Any

import pytest

import trtscope
from tests.conftest import shared_fixture
from tests.test_tui_kit import run_app, search, settle, shown, type_search
from trtscope.views.tui.app import TrtscopeApp
from trtscope.views.tui.screens.detail import LayerDetailScreen
from trtscope.views.tui.widgets import FrameTable

pytestmark = pytest.mark.shared
FIXTURE = ("trex", "a100-resnet18-fp16")


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    d = shared_fixture(*FIXTURE)
    graph = json.loads((d / "resnet.onnx.engine.graph.json").read_text())
    profile = json.loads((d / "resnet.onnx.engine.profile.json").read_text())
    timing = json.loads((d / "resnet.onnx.engine.timing.json").read_text())
    meta = json.loads((d / "resnet.onnx.engine.profile.metadata.json").read_text())
    timed = [p for p in profile if "name" in p]
    return {
        "dir": d,
        "layers": graph["Layers"],
        "by_time": sorted(timed, key=lambda p: -p["averageMs"]),
        "total_ms": sum(p["averageMs"] for p in timed),
        "median_compute": statistics.median(t["computeMs"] for t in timing),
        "gpu": meta["device_information"]["Selected Device"],
    }


@pytest.fixture(scope="module")
def analysis(raw):  # type: ignore[no-untyped-def]
    return trtscope.load(raw["dir"])


def app_for(analysis, raw) -> TrtscopeApp:  # type: ignore[no-untyped-def]
    return TrtscopeApp(analysis, source=str(raw["dir"]))


def test_overview_headline_figures(analysis, raw) -> None:  # type: ignore[no-untyped-def]
    app = app_for(analysis, raw)

    async def script(pilot: Any) -> None:
        text = shown(app)
        assert "[1 Overview]" in text  # the current screen is bracketed, not only coloured
        assert raw["gpu"] in text
        assert re.search(rf"Engine layers\s+{len(raw['layers'])}\s+\(", text)
        assert f"{raw['total_ms']:.4f} ms per inference" in text
        assert f"median {raw['median_compute']:.4f} ms" in text
        reformats = [x for x in raw["layers"] if x["Name"].startswith("Reformatting CopyNode")]
        assert re.search(rf"Reformat layers\s+{len(reformats)} \(", text)
        assert "~" in text and "estimated" in text  # no ONNX model: coverage is an estimate, said so
        op_table = app.screen.query_one("#op-time", FrameTable)
        assert op_table.column_texts("label")[0] == "Conv"  # the Conv nodes carry most of the time
        await pilot.press("tab", "enter")  # Enter on an op type: its nodes in the Fusion screen
        await settle(pilot)
        assert app.current_mode == "fusion"
        table = app.screen.query_one("#main-table", FrameTable)
        nodes = [x.strip(" ├└") for x in table.column_texts("label") if not x.startswith("#")]
        convs = [p for x in raw["layers"] for p in x["Name"].split(" + ") if p.startswith("Conv_")
                 and not x["Name"].startswith("Reformatting")]
        assert nodes == convs and table.has_focus

    run_app(app, script)


def test_layers_sort_search_detail_and_back(analysis, raw) -> None:  # type: ignore[no-untyped-def]
    app = app_for(analysis, raw)
    slowest = raw["by_time"][0]["name"]
    raw_slowest = next(x for x in raw["layers"] if x["Name"] == slowest)

    async def script(pilot: Any) -> None:
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one("#main-table", FrameTable)
        assert table.row_count == len(raw["layers"])
        assert table.visible_rows()[0][1] == raw["layers"][0]["Name"]  # engine order first
        for _ in range(4):  # "#" -> layer -> kind -> mean ms
            await pilot.press("s")
        await settle(pilot)
        assert table.sort_column == "mean_ms" and table.sort_descending
        names = [r[1] for r in table.visible_rows()[:3]]
        assert names == [p["name"] for p in raw["by_time"][:3]]
        assert "sorted by mean ms ▼" in shown(app)

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LayerDetailScreen)
        text = shown(app)
        assert slowest in text and raw_slowest["TacticName"] in text
        dims = "x".join(str(d) for d in raw_slowest["Inputs"][0]["Dimensions"])
        assert dims in text
        assert f"{raw['by_time'][0]['averageMs']:.4f} ms" in text
        assert "no per-iteration samples" in text  # TREx profiles hold means only

        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.query_one("#main-table", FrameTable) is table
        assert table.sort_column == "mean_ms" and table.cells(table.cursor_row)[1] == slowest

        # search: exact LayerType, then plain text (name, type, tactic...)
        await search(pilot, "type:CudaPooling")
        expected = [x["Name"] for x in raw["layers"] if x["LayerType"] == "CudaPooling"]
        assert table.column_texts("name") == expected
        await pilot.press("escape")
        await settle(pilot)
        assert table.row_count == len(raw["layers"])
        await type_search(pilot, "conv_26")
        expected = [x["Name"] for x in raw["layers"]
                    if "conv_26" in (x["Name"] + x["LayerType"] + x.get("TacticName", "")).lower()]
        assert sorted(table.column_texts("name")) == sorted(expected) and expected

    run_app(app, script)


def test_unfused_only_and_markers(analysis, raw) -> None:  # type: ignore[no-untyped-def]
    app = app_for(analysis, raw)
    # single-node compute layers: names without " + " that are neither reformats nor no-ops
    single = [x["Name"] for x in raw["layers"]
              if " + " not in x["Name"] and not x["Name"].startswith("Reformatting") and x["LayerType"] != "NoOp"]

    async def script(pilot: Any) -> None:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        table = app.screen.query_one("#main-table", FrameTable)
        assert table.column_texts("name") == single
        assert all("✗ unfused" in k for k in table.column_texts("kind_label"))

    run_app(app, script)


def test_fusion_node_to_layer_and_back(analysis, raw) -> None:  # type: ignore[no-untyped-def]
    app = app_for(analysis, raw)
    raw_pool = next(x for x in raw["layers"] if x["Name"] == "MaxPool_2")

    async def script(pilot: Any) -> None:
        await pilot.press("3")
        await settle(pilot)
        text = shown(app)
        assert "[3 Fusion]" in text
        assert "└ MaxPool_2" in text and "✗ unfused" in text
        await search(pilot, "maxpool_2")
        table = app.screen.query_one("#main-table", FrameTable)
        assert table.column_texts("label") == ["#2 MaxPool_2", "  └ MaxPool_2"]
        await pilot.press("down", "enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, LayerDetailScreen) and detail.index == 2
        text = shown(app)
        assert "#2 MaxPool_2" in text and raw_pool["LayerType"] in text
        out_dims = "x".join(str(d) for d in raw_pool["Outputs"][0]["Dimensions"])
        assert out_dims in text
        nodes = detail.query_one("#nodes", FrameTable)
        assert nodes.has_focus and nodes.cells(nodes.cursor_row)[0] == "MaxPool_2"
        await pilot.press("escape")  # back to the Fusion screen, cursor where it was
        await settle(pilot)
        assert app.screen.query_one("#main-table", FrameTable) is table
        assert table.cells(table.cursor_row)[0] == "  └ MaxPool_2"
        # node -> layer -> the node again, through the detail's node table
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one("#main-table", FrameTable) is table
        assert table.cells(table.cursor_row)[0] == "  └ MaxPool_2"

    run_app(app, script)


def test_detail_node_jumps_to_the_fusion_screen(analysis, raw) -> None:  # type: ignore[no-untyped-def]
    app = app_for(analysis, raw)
    fused = next(x["Name"] for x in raw["layers"]  # a layer of three nodes
                 if x["Name"].count(" + ") == 2 and not x["Name"].startswith("Reformatting"))
    second = fused.split(" + ")[1]

    async def script(pilot: Any) -> None:
        await pilot.press("2")
        await settle(pilot)
        await search(pilot, fused)  # every term must match: the reformats feeding that layer match too
        terms = fused.lower().split()
        matching = [x["Name"] for x in raw["layers"] if all(t in x["Name"].lower() for t in terms)]
        await pilot.press(*["down"] * matching.index(fused), "enter")  # from the Layers screen
        await settle(pilot)
        nodes = app.screen.query_one("#nodes", FrameTable)
        assert nodes.column_texts("name") == fused.split(" + ")
        nodes.focus()
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.current_mode == "fusion" and "[3 Fusion]" in shown(app)
        table = app.screen.query_one("#main-table", FrameTable)
        assert table.cells(table.cursor_row)[0].strip(" ├└") == second and table.has_focus
        await pilot.press("2")  # the Layers screen kept its detail on top
        await settle(pilot)
        assert isinstance(app.screen, LayerDetailScreen)

    run_app(app, script)


def test_hotspots_ranked_with_bars(analysis, raw) -> None:  # type: ignore[no-untyped-def]
    app = app_for(analysis, raw)

    async def script(pilot: Any) -> None:
        await pilot.press("4")
        await settle(pilot)
        hot = app.screen.query_one("#hot-layers", FrameTable)
        assert hot.column_texts("name")[:5] == [p["name"] for p in raw["by_time"][:5]]
        top_share = raw["by_time"][0]["averageMs"] / raw["total_ms"]
        assert hot.cells(0)[3] == f"{100 * top_share:.1f}%" and "█" in hot.cells(0)[4]
        reformat = app.screen.query_one("#hot-reformat", FrameTable)
        assert reformat.row_count == sum(x["Name"].startswith("Reformatting") for x in raw["layers"])
        text = shown(app)
        assert "Unfused hotspots" in text and "[4 Hotspots]" in text
        await pilot.press("enter")  # the slowest layer's detail
        await settle(pilot)
        assert isinstance(app.screen, LayerDetailScreen)
        assert raw["by_time"][0]["name"] in shown(app)

    run_app(app, script)


def test_export_layers_csv_never_overwrites_without_yes(analysis, raw, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    app = app_for(analysis, raw)
    target = tmp_path / "trtscope-layers.csv"

    async def script(pilot: Any) -> None:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert f"Export {len(raw['layers'])} rows of layers as CSV to:" in shown(app)
        assert app.screen.query_one("#export-path").value == str(target)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        assert app.last_export == target
        assert any(f"wrote {len(raw['layers'])} rows to {target}" in str(n.message) for n in app._notifications)
        # again, to the same name: asks, "n" keeps the file
        target.write_text("mine")
        await pilot.press("e")
        await settle(pilot)
        inp = app.screen.query_one("#export-path")
        inp.value = str(target)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        assert "Overwrite it? y: overwrite" in shown(app)
        await pilot.press("n")
        await settle(pilot)
        assert target.read_text() == "mine"
        await pilot.press("enter")  # asks again; this time yes
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)

    run_app(app, script, notifications=True)
    import csv

    with Path(target).open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["layer"] for r in rows] == [x["Name"] for x in raw["layers"]]
    assert float(rows[1]["mean ms"]) == pytest.approx(
        next(p["averageMs"] for p in raw["by_time"] if p["name"] == raw["layers"][1]["Name"]))
