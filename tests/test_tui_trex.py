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
from tests.test_tui_kit import raw_column, run_app, search, settle, shown, type_search
from trtscope.views.tui.app import TrtscopeApp
from trtscope.views.tui.screens.detail import LayerDetailScreen
from trtscope.views.tui.screens.export import ExportScreen
from trtscope.views.tui.screens.sort import SortPicker
from trtscope.views.tui.widgets import FrameTable

pytestmark = pytest.mark.shared
FIXTURE = ("trex", "a100-resnet18-fp16")
REFORMAT = re.compile(r"Reformatting CopyNode for (Input|Output) Tensor (\d+) to (.*)")


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    d = shared_fixture(*FIXTURE)
    graph = json.loads((d / "resnet.onnx.engine.graph.json").read_text())
    profile = json.loads((d / "resnet.onnx.engine.profile.json").read_text())
    timing = json.loads((d / "resnet.onnx.engine.timing.json").read_text())
    meta = json.loads((d / "resnet.onnx.engine.profile.metadata.json").read_text())
    timed = [p for p in profile if "name" in p]
    layers = graph["Layers"]
    return {
        "dir": d,
        "layers": layers,
        "by_time": sorted(timed, key=lambda p: -p["averageMs"]),
        "total_ms": sum(p["averageMs"] for p in timed),
        "median_compute": statistics.median(t["computeMs"] for t in timing),
        "gpu": meta["device_information"]["Selected Device"],
        "reformats": [x["Name"] for x in layers if REFORMAT.fullmatch(x["Name"])],
        # the nodes of each op type, from the fused layer names (no ONNX model in this set)
        "nodes": [p for x in layers if not REFORMAT.fullmatch(x["Name"]) for p in x["Name"].split(" + ")],
    }


@pytest.fixture(scope="module")
def analysis(raw):  # type: ignore[no-untyped-def]
    return trtscope.load(raw["dir"])


def app_for(analysis, raw) -> TrtscopeApp:  # type: ignore[no-untyped-def]
    return TrtscopeApp(analysis, source=str(raw["dir"]))


def node_rows(table: FrameTable) -> list[str]:
    f = table.view_frame()
    return f.loc[f["row_kind"].eq("node"), "node_name"].astype(str).tolist()


async def pick_sort(pilot: Any, label: str, reverse: bool = False) -> None:
    """``s``, then the picker's entry named ``label`` (↓ as a user would), Enter (or ``r``: the other way)."""
    await pilot.press("s")
    await settle(pilot)
    picker = pilot.app.screen
    assert isinstance(picker, SortPicker)
    at = next(i for i, c in enumerate(picker.choices) if c.label == label)
    now = picker.query_one("#sort-options").highlighted
    n = len(picker.choices)
    await pilot.press(*["down"] * ((at - now) % n))
    await pilot.press("r" if reverse else "enter")
    await settle(pilot)


def test_overview_focus_and_jumps(analysis, raw) -> None:  # type: ignore[no-untyped-def]
    """Headline figures; the op table has the focus on entry; Enter on an op type opens its nodes in Fusion,
    on [reformat layers] the Layers screen filtered to them; a jump to Relu overrides "unfused only" and says
    so; Backspace walks the jumps back."""
    app = app_for(analysis, raw)

    async def script(pilot: Any) -> None:
        text = shown(app)
        assert "[1 Overview]" in text  # the current screen is bracketed, not only coloured
        assert raw["gpu"] in text
        assert re.search(rf"Engine layers\s+{len(raw['layers'])}\s+\(", text)
        assert f"{raw['total_ms']:.4f} ms per inference" in text
        assert f"median {raw['median_compute']:.4f} ms" in text
        assert re.search(rf"Reformat layers\s+{len(raw['reformats'])} \(", text)
        assert "~" in text and "estimated" in text  # no ONNX model: coverage is an estimate, said so
        op_table = app.screen.query_one("#op-time", FrameTable)
        assert op_table.has_focus  # no Tab needed
        assert op_table.column_texts("label")[0] == "Conv"  # the Conv nodes carry most of the time
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "fusion"
        table = app.screen.query_one("#main-table", FrameTable)
        assert node_rows(table) == [n for n in raw["nodes"] if n.startswith("Conv_")] and table.has_focus
        await pilot.press("u")  # unfused only: hides the fused Relu nodes
        await settle(pilot)
        assert "✗ unfused only" in shown(app).replace("\xa0", " ")
        await pilot.press("1")
        await settle(pilot)
        op_table = app.screen.query_one("#op-time", FrameTable)
        op_table.move_cursor_to(op_table.frame.index[op_table.frame["op_type"].eq("Relu")][0])
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "fusion" and not app.screen.unfused_only
        assert node_rows(table) == [n for n in raw["nodes"] if n.startswith("Relu_")]
        assert any("cleared the 'unfused only' filter" in str(n.message) for n in app._notifications)
        assert app.screen.query_one("#status").chips == ["/ op:Relu"]  # type: ignore[attr-defined]
        assert "[/ op:Relu]" in shown(app).replace("\xa0", " ")
        await pilot.press("1")
        await settle(pilot)
        op_table = app.screen.query_one("#op-time", FrameTable)
        op_table.move_cursor_to(op_table.frame.index[op_table.frame["layer_kind"].eq("reformat")][0])
        await pilot.press("enter")
        await settle(pilot)
        layers = app.screen.query_one("#main-table", FrameTable)
        assert app.current_mode == "layers" and raw_column(layers) == raw["reformats"]
        for label, name in zip(layers.column_texts("label"), raw_column(layers), strict=True):
            direction, tensor, target = REFORMAT.fullmatch(name).groups()  # type: ignore[union-attr]
            assert label == f"{direction.lower()} {tensor} → {target}"  # as the console report shows them
        # back along the jumps: Overview, Fusion (Relu), Overview, Fusion (Conv, unfused only), Overview
        await pilot.press("backspace")
        await settle(pilot)
        assert app.current_mode == "overview"
        await pilot.press("backspace")
        await settle(pilot)
        assert app.current_mode == "fusion" and app.screen.query_text == "op:Relu"
        await pilot.press("backspace", "backspace")
        await settle(pilot)
        assert app.current_mode == "fusion" and app.screen.query_text == "op:Conv" and app.screen.unfused_only

    run_app(app, script, notifications=True)


def test_layers_sort_search_detail_and_back(analysis, raw) -> None:  # type: ignore[no-untyped-def]
    app = app_for(analysis, raw)
    slowest = raw["by_time"][0]["name"]
    raw_slowest = next(x for x in raw["layers"] if x["Name"] == slowest)
    # single-node compute layers: names without " + " that are neither reformats nor no-ops
    single = [x["Name"] for x in raw["layers"]
              if " + " not in x["Name"] and not x["Name"].startswith("Reformatting") and x["LayerType"] != "NoOp"]

    async def script(pilot: Any) -> None:
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one("#main-table", FrameTable)
        assert table.row_count == len(raw["layers"])
        assert raw_column(table)[0] == raw["layers"][0]["Name"]  # engine order first
        await pick_sort(pilot, "mean ms")
        assert table.sort_column == "mean_ms" and table.sort_descending
        assert raw_column(table)[:3] == [p["name"] for p in raw["by_time"][:3]]
        assert "[sorted by mean ms ▼]" in shown(app).replace("\xa0", " ")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LayerDetailScreen)
        text = shown(app)
        assert slowest in text and raw_slowest["TacticName"] in text
        dims = "x".join(str(d) for d in raw_slowest["Inputs"][0]["Dimensions"])
        assert dims in text
        assert f"{raw['by_time'][0]['averageMs']:.4f} ms" in text
        assert "no per-iteration samples" in text  # TREx profiles hold means only
        await pilot.press("backspace")
        await settle(pilot)
        assert app.screen.query_one("#main-table", FrameTable) is table
        assert table.sort_column == "mean_ms" and table.cursor_title() == slowest
        # search: exact LayerType, then plain text (name, type, tactic...)
        await search(pilot, "type:CudaPooling")
        assert raw_column(table) == [x["Name"] for x in raw["layers"] if x["LayerType"] == "CudaPooling"]
        await pilot.press("escape")
        await settle(pilot)
        assert table.row_count == len(raw["layers"])
        await type_search(pilot, "conv_26")
        expected = [x["Name"] for x in raw["layers"]
                    if "conv_26" in (x["Name"] + x["LayerType"] + x.get("TacticName", "")).lower()]
        assert sorted(raw_column(table)) == sorted(expected) and expected
        await pilot.press("escape", "u")  # unfused only: the single-node compute layers, marked
        await settle(pilot)
        assert raw_column(table) == sorted(single, key=lambda n: -next(
            (p["averageMs"] for p in raw["by_time"] if p["name"] == n), 0))  # still sorted by mean ms
        assert all("✗ unfused" in k for k in table.column_texts("kind_label"))
        assert f"showing {len(single)} of {len(raw['layers'])}" in shown(app)

    run_app(app, script)


def test_fusion_node_to_layer_and_back_and_group_sort(analysis, raw) -> None:  # type: ignore[no-untyped-def]
    app = app_for(analysis, raw)
    raw_pool = next(x for x in raw["layers"] if x["Name"] == "MaxPool_2")
    pool_index = raw["layers"].index(raw_pool)

    async def script(pilot: Any) -> None:
        await pilot.press("3")
        await settle(pilot)
        text = shown(app)
        assert "[3 Fusion]" in text and "✗ unfused" in text
        await search(pilot, "maxpool_2")
        table = app.screen.query_one("#main-table", FrameTable)
        assert table.column_texts("label") == ["MaxPool_2", "MaxPool_2"]
        assert table.column_texts("layer_no") == [str(pool_index), ""] and table.column_texts("tree")[1] == " └"
        await pilot.press("down", "enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, LayerDetailScreen) and detail.index == pool_index
        text = shown(app)
        assert f"#{pool_index} MaxPool_2" in text and raw_pool["LayerType"] in text
        assert "x".join(str(d) for d in raw_pool["Outputs"][0]["Dimensions"]) in text
        nodes = detail.query_one("#nodes", FrameTable)
        assert nodes.has_focus and nodes.cursor_title() == "MaxPool_2"
        await pilot.press("escape")  # back to the Fusion screen, cursor where it was
        await settle(pilot)
        assert app.screen.query_one("#main-table", FrameTable) is table
        assert table.cursor_role("node") == "MaxPool_2"
        # node -> layer -> the node again, through the detail's node table
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one("#main-table", FrameTable) is table and table.cursor_role("node") == "MaxPool_2"
        # sorting keeps groups whole: by layer name, the layer rows come A→Z (case-insensitive)
        await pilot.press("escape")
        await settle(pilot)
        await pick_sort(pilot, "layer name")
        f = table.view_frame()
        layer_names = f.loc[f["row_kind"].eq("layer"), "layer_name"].tolist()
        assert layer_names == sorted(layer_names, key=str.lower)
        assert all(k == "layer" or li == prev for k, li, prev in  # every node right under its own layer
                   zip(f["row_kind"], f["layer_index"], f["layer_index"].shift(1).fillna(-2), strict=True))
        assert "[sorted by layer name ▲]" in shown(app).replace("\xa0", " ")

    run_app(app, script)


def test_hotspots_panels_share_maximise_resize(analysis, raw) -> None:  # type: ignore[no-untyped-def]
    app = app_for(analysis, raw)

    async def script(pilot: Any) -> None:
        await pilot.press("4")
        await settle(pilot)
        hot = app.screen.query_one("#hot-layers", FrameTable)
        assert raw_column(hot)[:5] == [p["name"] for p in raw["by_time"][:5]]
        top_share = raw["by_time"][0]["averageMs"] / raw["total_ms"]
        cell = hot.cells(0)[3]
        assert abs(float(cell.rstrip("%")) - 100 * top_share) < 0.05 and "█" in hot.cells(0)[4]
        reformat = app.screen.query_one("#hot-reformat", FrameTable)
        assert reformat.row_count == len(raw["reformats"])
        assert "Unfused hotspots" in shown(app)
        # the panels share the page's height: the short rankings whole, the long one the rest, no scrolling
        tables = list(app.screen.query(FrameTable))
        page = app.screen.query_one("#hotspots")
        assert page.max_scroll_y == 0
        assert all(t.size.height == t.row_count + 1 for t in tables if t is not hot and t.row_count < 10)
        shown_rows = hot.size.height - 1
        await pilot.resize_terminal(200, 70)  # a taller terminal: the long ranking gets the extra lines
        await settle(pilot)
        assert hot.size.height - 1 > shown_rows and page.max_scroll_y == 0
        shown_rows = hot.size.height - 1
        await pilot.press("minus")
        await settle(pilot)
        assert hot.size.height - 1 == shown_rows - 4
        await pilot.press("m")  # maximise: the whole screen
        await settle(pilot)
        assert app.screen.maximized is hot and hot.size.height >= 60
        await pilot.press("m")
        await settle(pilot)
        assert app.screen.maximized is None and hot.size.height - 1 == shown_rows - 4
        await pilot.press("enter")  # the slowest layer's detail
        await settle(pilot)
        assert isinstance(app.screen, LayerDetailScreen)
        assert raw["by_time"][0]["name"] in shown(app)

    run_app(app, script, size=(200, 50))


def test_export_every_format_never_overwriting_without_yes(analysis, raw, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from trtscope.exporters.formats import EXPORT_FORMATS

    monkeypatch.chdir(tmp_path)
    app = app_for(analysis, raw)
    target = tmp_path / "trtscope-layers.csv"

    async def script(pilot: Any) -> None:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert f"this table: {len(raw['layers'])} rows of layers as CSV" in shown(app)
        assert app.screen.query_one("#export-path").value == str(target)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        assert app.last_export == f"wrote {len(raw['layers'])} rows to {target}"
        # again, to the same name: asks, "n" keeps the file, then "y" replaces it
        target.write_text("mine")
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#export-path").value = str(target)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        assert "Overwrite it? y: overwrite" in shown(app)
        await pilot.press("n")
        await settle(pilot)
        assert target.read_text() == "mine"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        # every format of `trtscope export`, from the same dialog: ↓ to it, Tab... here: Enter on the path
        for i, name in enumerate(EXPORT_FORMATS, start=1):
            await pilot.press("e")
            await settle(pilot)
            dialog = app.screen
            assert isinstance(dialog, ExportScreen)
            dialog.query_one("#export-what").focus()
            await pilot.press(*["down"] * i, "enter")
            await settle(pilot)
            assert dialog.choice.key == name
            await pilot.press("enter")
            await settle(pilot)
            assert not isinstance(app.screen, ExportScreen), shown(app)
            assert app.last_export is not None and app.last_export.startswith(f"wrote {name}")

    run_app(app, script, notifications=True)
    import csv

    with Path(target).open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["layer"] for r in rows] == [x["Name"] for x in raw["layers"]]  # full names, not labels
    assert float(rows[1]["mean ms"]) == pytest.approx(
        next(p["averageMs"] for p in raw["by_time"] if p["name"] == raw["layers"][1]["Name"]))
    doc = json.loads((tmp_path / "trtscope-export.json").read_text())
    assert [r["name"] for r in doc["tables"]["layers"]] == [x["Name"] for x in raw["layers"]]
    trace = json.loads((tmp_path / "trtscope-trace.json").read_text())
    slices = {e["name"] for e in trace["traceEvents"] if e.get("ph") == "X"}
    assert {p["name"] for p in raw["by_time"]} <= slices
    assert (tmp_path / "trtscope-csv" / "layers.csv").is_file()
    assert (tmp_path / "trtscope-parquet" / "layers.parquet").is_file()


def test_layers_at_80_columns_freeze_name_and_cue_the_sort(analysis, raw) -> None:  # type: ignore[no-untyped-def]
    app = app_for(analysis, raw)
    tactic_sorted = sorted((x.get("TacticName") or "\uffff").lower() for x in raw["layers"])

    async def script(pilot: Any) -> None:
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one("#main-table", FrameTable)
        lines = shown(app).splitlines()
        assert all(len(ln) <= 80 for ln in lines) and len(lines) <= 24
        header = next(ln for ln in lines if "mean ms" in ln)
        assert header.split()[:2] == ["#", "layer"] and header.index("mean ms") < header.index("kind")
        first = raw["layers"][1]["Name"]  # "Conv_0 + Relu_1"
        await pilot.press("down")
        await settle(pilot)
        assert f"▶ {first}" in shown(app)  # the row under the cursor, in full
        await pick_sort(pilot, "tactic")  # a column off screen at 80 columns
        assert [(x or "\uffff").lower() for x in table.view_frame()["tactic"].fillna("\uffff")] == tactic_sorted
        header = next(ln for ln in shown(app).splitlines() if "layer" in ln and "#" in ln)
        assert "▸ sorted by tactic ▲" in header  # a cue in the header: the sort column is off to the right
        for _ in range(6):
            await pilot.press("right")
        await settle(pilot)
        lines = shown(app).splitlines()
        header = next(ln for ln in lines if ln.lstrip().startswith("#"))
        assert "tactic ▲" in header and header.split()[:2] == ["#", "layer"]  # # and name stay put
        top = table.view_frame().iloc[0]
        row = next(ln for ln in lines if ln.split()[:1] == [str(top["index"])])
        assert str(top["tactic"])[:10] in row

    run_app(app, script, size=(80, 24))
