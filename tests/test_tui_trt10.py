"""The TUI on TensorRT 10 artifacts: trt10-h100-mnist (inspector JSON with Metadata, Myelin layers, a
profile that does not match) and the project's own example fixtures/rtx-h100-resnet18 (TensorRT-RTX one-line
layer log + the ONNX model). Expected values come from the raw files (JSON, log lines, the ONNX protobuf)."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest

import trtscope
from tests.conftest import own_fixture, shared_fixture
from tests.test_tui_kit import raw_column, run_app, search, settle, shown, until
from trtscope.views.tui.app import TrtscopeApp
from trtscope.views.tui.screens.detail import LayerDetailScreen
from trtscope.views.tui.widgets import FrameTable

META = re.compile(r"\[ONNX Layer: (.*?)\]")


# --- trt10-h100-mnist -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mnist() -> dict[str, Any]:
    d = shared_fixture("trt10-h100-mnist")
    layers = json.loads((d / "mnist.exportLayerInfo.json").read_text())["Layers"]
    log = (d / "trtexec-build-verbose.log").read_text()
    return {
        "dir": d,
        "layers": layers,
        "nodes": [META.findall(x.get("Metadata", "")) for x in layers],
        "version": re.search(r"TensorRT version: (\S+)", log).group(1),  # type: ignore[union-attr]
        "gpu": re.search(r"Selected Device: (.+)", log).group(1).strip(),  # type: ignore[union-attr]
        "analysis": trtscope.load(d),
    }


@pytest.mark.shared
def test_mnist_overview_says_what_is_missing(mnist) -> None:  # type: ignore[no-untyped-def]
    app = TrtscopeApp(mnist["analysis"], source=str(mnist["dir"]))

    async def script(pilot: Any) -> None:
        text = shown(app)
        assert re.search(rf"TensorRT\s+{re.escape(mnist['version'])}", text) and mnist["gpu"] in text
        assert re.search(rf"Engine layers\s+{len(mnist['layers'])}\s+\(", text)
        assert "no per-layer profile" in text
        assert "warning:" in text and "dumpProfile.log" in text  # the profile of another build is refused
        assert "6 Timeline" not in text and "5 Kernels" not in text  # nothing to show there: not offered
        assert "Not in this input: no kernels" in text
        await pilot.press("6")
        await settle(pilot)
        assert "[1 Overview]" in shown(app)
        assert any("no NVML samples" in str(n.message) for n in app._notifications)  # says why
        await pilot.press("4")
        await settle(pilot)
        assert "No per-layer times in this input" in shown(app)
        await pilot.press("2")
        await settle(pilot)
        text = shown(app)
        assert "no per-layer profile: no time columns" in text
        header = next(ln for ln in text.splitlines() if ln.lstrip().startswith("#"))
        assert "mean ms" not in header and "share" not in header and "kind" in header  # empty columns hidden

    run_app(app, script, notifications=True)


@pytest.mark.shared
def test_mnist_fusion_groups_follow_metadata(mnist) -> None:  # type: ignore[no-untyped-def]
    app = TrtscopeApp(mnist["analysis"])
    # node -> the layers whose Metadata names it (one node can feed several Myelin layers)
    where: dict[str, list[int]] = {}
    for i, nodes in enumerate(mnist["nodes"]):
        for n in nodes:
            where.setdefault(n, []).append(i)
    spread = next(n for n, idx in where.items() if len(idx) > 1)

    async def script(pilot: Any) -> None:
        await pilot.press("3")
        await settle(pilot)
        table = app.screen.query_one("#main-table", FrameTable)
        f = table.view_frame()
        got = [(int(li), n) for k, li, n in zip(f["row_kind"], f["layer_index"], f["node_name"], strict=True)
               if k == "node"]
        assert got == [(i, n) for i, nodes in enumerate(mnist["nodes"]) for n in nodes]
        await search(pilot, spread)
        f = table.view_frame()
        assert f.loc[f["row_kind"].eq("node"), "node_name"].tolist() == [spread] * len(where[spread])
        assert f.loc[f["row_kind"].eq("layer"), "layer_index"].tolist() == where[spread]
        await pilot.press("down", "down", "enter")  # the node under the second layer that holds it
        await settle(pilot)
        assert isinstance(app.screen, LayerDetailScreen) and app.screen.index == where[spread][1]
        text = shown(app)
        meta = mnist["layers"][where[spread][1]]["Metadata"]
        assert meta.replace("\x1f", "␟").replace("\x1e", "␞") in text  # separators visible, not raw bytes
        assert "\x1f" not in text and "\x1e" not in text
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("u")  # unfused only: layers of one node whose node runs nowhere else
        await settle(pilot)
        await pilot.press("escape")  # clears the search, keeps "unfused only"
        await settle(pilot)
        alone = [n for n, idx in where.items() if all(len(mnist["nodes"][i]) == 1 for i in idx)]
        f = table.view_frame()
        assert sorted(f.loc[f["row_kind"].eq("node"), "node_name"]) == sorted(alone)

    run_app(app, script)


# --- the project's own example: TensorRT-RTX, one-line layer log + ONNX ------------------------------------------
@pytest.fixture(scope="module")
def rtx() -> dict[str, Any]:
    onnx = pytest.importorskip("onnx")
    d = own_fixture("rtx-h100-resnet18")
    model = onnx.load(str(d / "model.onnx"), load_external_data=False)
    lines = [ln for ln in (d / "build-verbose.log").read_text().splitlines() if ln.startswith("Name: ")]
    names = [re.match(r"Name: (.*?), LayerType:", ln).group(1) for ln in lines]  # type: ignore[union-attr]
    nodes = [META.findall(ln.split("Metadata: ", 1)[1]) if "Metadata: " in ln else [] for ln in lines]
    mapped = {n for ns in nodes for n in ns}
    return {
        "names": names,
        "nodes": nodes,
        "ops": Counter(n.op_type for n in model.graph.node),
        "onnx_names": [n.name for n in model.graph.node],
        "folded": [n.name for n in model.graph.node if n.name not in mapped],
        "analysis": trtscope.load(example=True),
    }


def test_example_overview_and_folded_group(rtx) -> None:  # type: ignore[no-untyped-def]
    app = TrtscopeApp(rtx["analysis"], source="example")

    async def script(pilot: Any) -> None:
        text = shown(app)
        assert re.search(rf"ONNX nodes\s+{len(rtx['onnx_names'])}:", text)
        # the nodes no layer names: folded, or absorbed where a Myelin region's range surrounds them
        m = re.search(r"(\d+) absorbed · (\d+) folded", text)
        assert m and int(m.group(1)) + int(m.group(2)) == len(rtx["folded"])
        assert re.search(rf"Engine layers\s+{len(rtx['names'])}\s+\(", text)
        await pilot.press("3")
        await settle(pilot)
        table = app.screen.query_one("#main-table", FrameTable)
        f = table.view_frame()
        folded = f[f["layer_index"].eq(-1) & f["row_kind"].eq("node")]["node_name"].tolist()
        assert sorted(folded) == sorted(rtx["folded"])
        await search(pilot, "op:Conv")
        f = table.view_frame()
        assert int(f["row_kind"].eq("node").sum()) == rtx["ops"]["Conv"]
        await pilot.press("o")  # order by time: no times here, engine order kept
        await settle(pilot)
        assert int(table.view_frame()["row_kind"].eq("node").sum()) == rtx["ops"]["Conv"]

    run_app(app, script)


def test_example_layers_and_detail(rtx) -> None:  # type: ignore[no-untyped-def]
    app = TrtscopeApp(rtx["analysis"])
    target = next(i for i, ns in enumerate(rtx["nodes"]) if len(ns) == 3)

    async def script(pilot: Any) -> None:
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one("#main-table", FrameTable)
        assert raw_column(table) == rtx["names"]
        assert set(table.column_texts("mean_ms")) == {"—"}  # no profile: nothing invented
        assert "mean ms" not in [c.label for c in table.shown]  # ...and the empty column is not shown
        await search(pilot, rtx["names"][target])
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LayerDetailScreen) and app.screen.index == target
        nodes = app.screen.query_one("#nodes", FrameTable)
        assert nodes.column_texts("name") == rtx["nodes"][target]
        assert "no per-layer time" in shown(app)

    run_app(app, script)


def test_example_fusion_at_80_columns_keeps_names_apart(rtx) -> None:  # type: ignore[no-untyped-def]
    """Hierarchical ONNX names lose their leading segments, not the tail that tells conv1 from conv2."""
    app = TrtscopeApp(rtx["analysis"])

    async def script(pilot: Any) -> None:
        await pilot.press("3")
        await settle(pilot)
        await search(pilot, "layer1.0")
        table = app.screen.query_one("#main-table", FrameTable)
        lines = shown(app).splitlines()
        assert all(len(ln) <= 80 for ln in lines) and len(lines) <= 24
        f = table.view_frame()
        nodes = [n for n in f.loc[f["row_kind"].eq("node"), "node_name"] if n.startswith("/layer1/layer1.0/")]
        assert len(nodes) >= 4
        body = "\n".join(lines)
        for n in nodes[:4]:  # the visible ones: each shows its last two segments, so conv1 != conv2
            assert "/".join(n.split("/")[-2:]) in body, n
        table.move_cursor_to(int(table.frame.index[table.frame["node_name"].eq(nodes[1])][0]))
        await settle(pilot)
        assert f"▶ {nodes[1]}" in shown(app)  # the row under the cursor in full

    run_app(app, script, size=(80, 24))


# --- the loading Overview: inputs shown at once, the analysis in a worker ----------------------------------------
def test_pending_analysis_paints_inputs_first_then_the_overview(rtx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import threading

    import trtscope.views.tui.app as tui_app
    from trtscope.loader import load_artifacts

    release = threading.Event()
    real = tui_app.analyze

    def held(*args: Any, **kwargs: Any) -> Any:  # the analysis waits until the loading screen was checked
        assert release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(tui_app, "analyze", held)
    app = TrtscopeApp(tui_app.PendingAnalysis(load_artifacts(example=True)), source="example")

    async def script(pilot: Any) -> None:
        await settle(pilot)
        text = shown(app)
        assert re.search(rf"Engine layers\s+{len(rtx['names'])}\s+\(kinds: analysing…\)", text)
        assert re.search(rf"ONNX nodes\s+{len(rtx['onnx_names'])}\s+\(statuses: analysing…\)", text)
        assert "Fusion coverage" not in text  # no figure of the analysis before it exists
        await pilot.press("2")  # screens say they are not ready instead of failing
        await pilot.press("e")
        await settle(pilot)
        said = [str(n.message) for n in app._notifications]
        assert any("still analysing" in m for m in said) and any("nothing to export yet" in m for m in said)
        release.set()
        await until(pilot, lambda: "Fusion coverage" in shown(app), "the full Overview")
        text = shown(app)
        assert "Fusion coverage" in text and re.search(rf"ONNX nodes\s+{len(rtx['onnx_names'])}:", text)
        await pilot.press("2")
        await settle(pilot)
        assert "[2 Layers]" in shown(app)

    run_app(app, script, notifications=True)
    assert app.failure is None


def test_an_analysis_error_ends_the_ui_and_is_reported(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import trtscope.views.tui.app as tui_app
    from trtscope.errors import InputError
    from trtscope.loader import load_artifacts

    def fails(*args: Any, **kwargs: Any) -> Any:
        raise InputError("x.json", "broken in a way only the analysis sees")

    monkeypatch.setattr(tui_app, "analyze", fails)
    app = TrtscopeApp(tui_app.PendingAnalysis(load_artifacts(example=True)), source="example")

    async def script(pilot: Any) -> None:
        await until(pilot, lambda: app.failure is not None, "the reported error")

    run_app(app, script)
    assert isinstance(app.failure, InputError) and "only the analysis sees" in str(app.failure)


def test_large_inputs_are_read_behind_the_loading_overview(rtx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Inputs read by the worker: the first frame says they are being read, then shows what they hold (the
    counts of the example's own files), then the full Overview."""
    import threading

    import trtscope.views.tui.app as tui_app
    from trtscope.loader import load_artifacts

    release = threading.Event()

    def read() -> Any:  # the reading waits until the first frame was checked
        assert release.wait(30)
        return load_artifacts(example=True)

    app = TrtscopeApp(tui_app.PendingAnalysis(None, read=read), source="example")

    async def script(pilot: Any) -> None:
        await settle(pilot)
        text = shown(app)
        assert re.search(r"Engine layers\s+reading the inputs…", text) and not re.search(r"ONNX nodes\s+\d", text)
        release.set()
        await until(pilot, lambda: "Fusion coverage" in shown(app), "the full Overview")
        text = shown(app)
        assert "Fusion coverage" in text and re.search(rf"ONNX nodes\s+{len(rtx['onnx_names'])}:", text)

    run_app(app, script)
    assert app.failure is None


def test_a_bad_input_found_behind_the_ui_ends_it_and_is_reported(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The error the reading raises is the one-line error `trtscope report` gives for the same input."""
    import trtscope.views.tui.app as tui_app
    from trtscope.cli.main import main
    from trtscope.errors import InputError
    from trtscope.loader import load_artifacts

    bad = tmp_path / "model.layers.json"
    bad.write_text('{"Layers": [ {"Name": ')  # cut off mid-way
    app = TrtscopeApp(tui_app.PendingAnalysis(None, read=lambda: load_artifacts(bad)), source=str(bad))

    async def script(pilot: Any) -> None:
        await until(pilot, lambda: app.failure is not None, "the reported error")

    run_app(app, script)
    assert isinstance(app.failure, InputError)
    assert main(["report", str(bad)]) == 2  # the same file, the same problem
    with pytest.raises(InputError) as err:
        load_artifacts(bad)
    assert str(app.failure) == str(err.value) and str(bad) in str(app.failure)


def test_quitting_while_the_analysis_runs_closes_at_once(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`q` on the loading Overview: the app ends without waiting for the analysis (a daemon thread), and the
    analysis finishing afterwards raises nothing in its thread (its messages have no app to go to)."""
    import threading
    import time

    import trtscope.views.tui.app as tui_app
    from trtscope.loader import load_artifacts

    release, finished = threading.Event(), threading.Event()
    real = tui_app.analyze
    errors: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))

    def held(*args: Any, **kwargs: Any) -> Any:
        assert release.wait(30)
        try:
            return real(*args, **kwargs)
        finally:
            finished.set()

    monkeypatch.setattr(tui_app, "analyze", held)
    monkeypatch.setattr(tui_app.gc, "freeze", lambda: None)  # (the test process goes on: keep its collector)
    app = TrtscopeApp(tui_app.PendingAnalysis(load_artifacts(example=True)), source="example")

    async def script(pilot: Any) -> None:
        await settle(pilot)
        assert "analysing…" in shown(app)
        await pilot.press("q")

    start = time.monotonic()
    run_app(app, script)
    assert time.monotonic() - start < 10 and not finished.is_set()  # ended while the analysis was still held
    release.set()
    assert finished.wait(30)
    time.sleep(0.2)  # the thread's last message, to an app that has gone
    assert errors == [] and app.failure is None
