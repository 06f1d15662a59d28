"""The diff view (``trtscope tui A B``) on real pairs, driven headlessly: what it shows is checked against the raw
artifacts (the build logs' ``Layers:`` Metadata; the TREx ``*.graph.json`` files), by the methods of
tests/test_diff_rtx.py and tests/test_diff_trex.py, and against ``trtscope diff --json`` (the figures of both views
must agree). One app run checks several things, to keep the suite fast."""

from __future__ import annotations

import asyncio
import csv
import json
import threading
from pathlib import Path
from typing import Any

import pytest

import trtscope
from tests.conftest import own_fixture, shared_fixture
from tests.test_diff_rtx import _company, _raw_layers
from tests.test_tui_kit import raw_column, run_app, search, settle, shown, until
from trtscope.analysis.diff.gate import parse_fail_on
from trtscope.cli.diff import default_labels
from trtscope.cli.main import main
from trtscope.errors import InputError
from trtscope.views.tui.diff_app import DiffApp, SideApp, SideRequest, browse
from trtscope.views.tui.screens.diff.detail import PairScreen
from trtscope.views.tui.screens.export import ExportScreen
from trtscope.views.tui.widgets import FrameTable


def _rtx(name: str) -> Path:
    return own_fixture(f"rtx-h200-{name}")


def _diff_json(capsys: pytest.CaptureFixture[str], a: Path, b: Path, *more: str) -> tuple[int, dict[str, Any]]:
    rc = main(["diff", str(a), str(b), "--json", *more])
    return rc, json.loads(capsys.readouterr().out)


async def _ready(pilot: Any) -> None:
    await until(pilot, lambda: pilot.app.ready and pilot.app.current_mode == "overview", "the diff view")
    await settle(pilot, 3)


def _line(text: str, label: str) -> list[str]:
    """The words of the screen line starting with ``label`` (a headline row)."""
    line = next(x for x in text.splitlines() if x.strip().startswith(label))
    return line.strip()[len(label):].split()


def _main_table(app: Any) -> FrameTable:
    return app.screen.query_one("#main-table", FrameTable)


def test_conv_relu_fusion_lost_at_80x24(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """convblock-fused vs -split: the two nodes the raw logs show fused in A and alone in B are the change list,
    the gate trips on them, Nodes (changed only) lists exactly them, the pair detail shows both fused-with
    lists, ``a`` asks for side A at the node's layer; the headline equals `trtscope diff --json`'s figures."""
    ra, rb = _raw_layers("convblock-fused"), _raw_layers("convblock-split")
    ca, cb = _company(ra), _company(rb)
    expected = {n for n in ca if ca[n] and n in cb and not cb[n]}
    assert expected == {"/conv1/Conv", "/act/Relu"}
    rc, doc = _diff_json(capsys, _rtx("convblock-fused"), _rtx("convblock-split"), "--top", "100",
                         "--fail-on", "new-unfused")
    assert rc == 1
    s = doc["summary"]
    seen: dict[str, str] = {"clip": str(tmp_path / "clip.txt")}
    import trtscope.views.tui.app as single_app

    monkeypatch.setattr(single_app, "clipboard_file", lambda: Path(seen["clip"]))
    app = DiffApp(trtscope.load(_rtx("convblock-fused")), trtscope.load(_rtx("convblock-split")), "fused", "split",
                  conditions=parse_fail_on("new-unfused"))

    async def script(pilot: Any) -> None:
        await _ready(pilot)
        text = shown(app)
        assert "Gate failed: 1 of 1 conditions hold" in text and "✗ new-unfused" in text
        assert _line(text, "Engine layers")[:3] == [str(s["layers_a"]), str(s["layers_b"]),
                                                   f"{s['layers_b'] - s['layers_a']:+}"]
        assert _line(text, "Fusion coverage")[:3] == [f"{100 * s['fusion_coverage_a']:.1f}%",
                                                     f"{100 * s['fusion_coverage_b']:.1f}%", "⚠"]
        changes = app.screen.query_one("#changes", FrameTable)
        assert raw_column(changes, "subject") == [c["subject"] for c in doc["changes"]]
        assert set(raw_column(changes, "subject")) == expected
        assert set(changes.column_texts("label")) == {"✗ newly unfused"}
        await pilot.press("2", "d")  # Nodes, changed only
        await settle(pilot)
        table = _main_table(app)
        assert set(raw_column(table, "node_a")) == expected and table.row_count == len(expected)
        assert set(table.column_texts("status_text")) == {"fused → unfused"}
        assert "[changed only]" in shown(app)
        node = seen["node"] = raw_column(table, "node_a")[0]
        await pilot.press("y")  # copy the node's name (the keys every app shares: keys_app.KeysApp)
        assert app.last_copy == node and Path(seen["clip"]).read_text() == node + "\n"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PairScreen)
        words = " ".join(shown(app).split())
        (other,) = ca[node]
        assert f"fused with ≠ {other} no other compute node" in words
        await pilot.press("a")  # side A at the node's layer
        await settle(pilot)

    run_app(app, script, size=(80, 24))
    request = app.return_value
    assert isinstance(request, SideRequest) and request.side == "a" and request.mode == "nodes"
    at = [i for i, lay in enumerate(ra) if seen["node"] in lay["nodes"]]  # the one layer listing the node
    assert request.layer == at[0] and len(at) == 1


def test_fp32_fp16_precisions_and_exports_wide(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """resnet18 FP32 vs FP16 at 160x50: every node the raw logs show in one layer per side has the precisions
    of those layers (Float → Half); every row of Nodes agrees with `trtscope diff --json`'s nodes; the
    presence filter counts are the summary's; ``e`` writes the table as CSV and the whole comparison as the
    same document `trtscope diff --json` prints."""
    a_dir, b_dir = _rtx("resnet18-fp32"), _rtx("resnet18-fp16")
    ra, rb = _raw_layers("resnet18-fp32"), _raw_layers("resnet18-fp16")
    dt_a = {n: lay["dtype"] for lay in ra for n in lay["nodes"]}
    dt_b = {n: lay["dtype"] for lay in rb for n in lay["nodes"]}
    single = set(_company(ra)) & set(_company(rb))
    changed = {n for n in single if dt_a[n] != dt_b[n]}
    assert len(changed) > 40 and {(dt_a[n], dt_b[n]) for n in changed} == {("Float", "Half")}
    label_a, label_b = default_labels(a_dir, b_dir)
    monkeypatch.chdir(tmp_path)
    app = DiffApp(trtscope.load(a_dir), trtscope.load(b_dir), label_a, label_b)
    rows: dict[str, int] = {}

    async def script(pilot: Any) -> None:
        await _ready(pilot)
        assert f"A: {label_a}" in shown(app)
        await pilot.press("2")
        await settle(pilot)
        table = _main_table(app)
        view = table.view_frame()
        by_a = dict(zip(view["node_a"], table.column_texts("prec_text"), strict=True))
        for n in single:
            assert by_a[n] == (dt_a[n] if dt_a[n] == dt_b[n] else f"{dt_a[n]} → {dt_b[n]}"), n
        rows["all"] = table.row_count
        for key in ("matched", "only_a", "only_b"):
            await pilot.press("p")
            await settle(pilot)
            rows[key] = table.row_count
        await pilot.press("p")  # back to every node
        await search(pilot, "change:precision")
        assert changed <= set(raw_column(table, "node_a"))
        rows["precision"] = table.row_count
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        await pilot.press("enter")  # the table in view, as CSV, under a free name here
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ExportScreen)
        dialog.query_one("#export-what").focus()
        await pilot.press("down", "enter")
        await settle(pilot)
        assert dialog.choice.key == "diff-json"
        await pilot.press("enter")
        await settle(pilot)
        assert app.last_export is not None and "trtscope-diff" in app.last_export

    run_app(app, script, size=(160, 50))
    n_changes = len(app.diff.changes)
    rc, doc = _diff_json(capsys, a_dir, b_dir, "--top", str(n_changes))
    assert rc == 0
    s = doc["summary"]
    assert (rows["all"], rows["matched"], rows["only_a"], rows["only_b"]) == (
        len(doc["nodes"]), s["nodes_matched"], s["nodes_only_a"], s["nodes_only_b"])
    precision_first = [n for n in doc["nodes"] if n["precision_changed"] and not n["fusion_changed"]]
    assert rows["precision"] == len(precision_first) == s["precision_changes"]
    with (tmp_path / "trtscope-diff-nodes.csv").open() as fh:
        exported = list(csv.DictReader(fh))
    assert [r["node_a"] for r in exported] == [n["node_a"] for n in precision_first]
    assert [(r["precision_a"], r["precision_b"]) for r in exported] == [
        (n["a"]["precision"], n["b"]["precision"]) for n in precision_first]
    written = json.loads((tmp_path / "trtscope-diff.json").read_text())
    assert written == doc


@pytest.mark.shared
def test_trex_fp32_qat_convolutions_one_to_one_at_80x24(capsys: pytest.CaptureFixture[str]) -> None:
    """The A100 FP32 and QAT engines (no ONNX models, every node renamed): the Nodes screen pairs the 20
    convolutions one to one, as the engines' layer order and geometry say, readable at 80 columns; the
    Overview's and Op types' figures are `trtscope diff --json`'s."""
    from tests.test_diff_trex import _raw, _raw_convs

    ca, cb = _raw_convs(_raw("fp32")), _raw_convs(_raw("qat"))
    assert len(ca) == len(cb) == 20 and [g for _, g in ca] == [g for _, g in cb]
    expected = {a: b for (a, _), (b, _) in zip(ca, cb, strict=True)}
    a_dir, b_dir = shared_fixture("trex", "a100-resnet18-fp32"), shared_fixture("trex", "a100-resnet18-qat")
    rc, doc = _diff_json(capsys, a_dir, b_dir)
    assert rc == 0
    s = doc["summary"]
    app = DiffApp(trtscope.load(a_dir), trtscope.load(b_dir), "fp32", "qat")

    async def script(pilot: Any) -> None:
        await _ready(pilot)
        words = _line(shown(app), "ONNX nodes")
        assert words[:2] == [str(len(_nodes(doc, "node_a"))), f"({s['nodes_only_a']}"]
        assert f"{s['nodes_matched']} matched:" in " ".join(shown(app).split())
        await pilot.press("3")
        await settle(pilot)
        ops = _main_table(app)
        first = doc["op_types"][0]
        assert (raw_column(ops, "op_type")[0], ops.cells(0)[1], ops.cells(0)[2]) == (
            first["op_type"], f"{first['ms_a']:.4f}", f"{first['ms_b']:.4f}")
        await pilot.press("enter")  # its nodes (Conv: the largest time change)
        await settle(pilot)
        assert app.current_mode == "nodes"
        await pilot.press("p")  # matched only
        await settle(pilot)
        table = _main_table(app)
        got = dict(zip(raw_column(table, "node_a"), raw_column(table, "node_b"), strict=True))
        assert got == expected and table.row_count == 20
        assert set(table.column_texts("match_label")) == {"structural"}
        screen = shown(app)
        first_a = raw_column(table, "node_a")[0]
        assert f"{first_a} → {expected[first_a]}" in screen  # both names readable at 80 columns
        assert "[/ op:conv]" in screen.lower() and "[matched only]" in screen

    run_app(app, script, size=(80, 24))


def _nodes(doc: dict[str, Any], key: str) -> list[str]:
    return [n[key] for n in doc["nodes"] if n[key] is not None]


def test_loading_state_side_trip_and_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison runs after the first paint behind a loading screen; ``a`` runs the single-engine app on
    side A (at the row's layer) and ``q`` there comes back to the diff view where it was, without comparing
    again; an error the comparison raises comes out of :func:`browse` after the UI has closed."""
    import trtscope.analysis.diff as diff_lib

    a, b = trtscope.load(_rtx("convblock-fused")), trtscope.load(_rtx("convblock-split"))
    real = diff_lib.diff
    gate = threading.Event()
    calls: list[str] = []

    def slow(*args: Any) -> Any:
        calls.append("diff")
        assert gate.wait(30)
        return real(*args)

    monkeypatch.setattr(diff_lib, "diff", slow)
    seen: list[Any] = []

    def drive(app: Any) -> Any:
        async def main() -> None:
            async with app.run_test(size=(100, 30)) as pilot:
                await settle(pilot)
                if isinstance(app, SideApp):
                    seen.append(("side", type(app.screen).__name__, getattr(app.screen, "index", None),
                                 app.source))
                    await pilot.press("q")
                    return
                if not app.ready:
                    seen.append(("loading", shown(app)))
                    await pilot.press("2")  # not yet: said, nothing breaks
                    gate.set()
                await _ready(pilot) if len(seen) < 2 else await settle(pilot, 3)
                if len(seen) < 2:
                    await pilot.press("2", "down")
                    await settle(pilot)
                    table = _main_table(app)
                    seen.append(("nodes", table.cursor_position, table.cursor_record()["node_a"]))
                    await pilot.press("a")
                else:
                    seen.append(("back", app.current_mode, _main_table(app).cursor_position))
                    await pilot.press("q")
                await settle(pilot)

        asyncio.run(main())
        return app.return_value

    browse(a, b, "fused", "split", ("dirA", "dirB"), run=drive)
    loading, nodes, side, back = seen
    assert "Comparing" in loading[1] and "fused (6 layers" in loading[1]
    assert nodes[:2] == ("nodes", 1)
    at = [i for i, lay in enumerate(_raw_layers("convblock-fused")) if nodes[2] in lay["nodes"]]  # its layer
    assert side == ("side", "LayerDetailScreen", at[0], "side A of the comparison: fused (dirA)")
    assert back == ("back", "nodes", 1) and calls == ["diff"]

    def broken(*args: Any) -> Any:
        raise InputError("model.onnx", "boom")

    monkeypatch.setattr(diff_lib, "diff", broken)

    def until_closed(app: Any) -> Any:
        async def main() -> None:
            async with app.run_test() as pilot:
                await until(pilot, lambda: not app.is_running or app.error is not None)
        asyncio.run(main())
        return app.return_value

    with pytest.raises(InputError, match="boom"):
        browse(a, b, "fused", "split", run=until_closed)


def test_labels_of_pairs_and_transitions() -> None:
    """The view-model's words, on values chosen here: names of a pair, changes of a status, the gate's lines."""
    import pandas as pd

    from trtscope.analysis.diff.gate import Violation
    from trtscope.views.tui import diff_data

    a = pd.Series(["Conv_3", "Relu_4", None, None, ""], dtype=object)
    b = pd.Series(["Conv_22", "Relu_4", "QuantizeLinear_7", None, "x"], dtype=object)
    assert diff_data.pair_labels(a, b).tolist() == ["Conv_3 → Conv_22", "Relu_4", "QuantizeLinear_7", "—", "x"]
    assert [diff_data.pair_label(x, y) for x, y in zip(a, b, strict=True)] == diff_data.pair_labels(a, b).tolist()
    sa = pd.Series(["fused", "fused", None, "absorbed"], dtype=object)
    sb = pd.Series(["unfused", "fused", "fused", None], dtype=object)
    assert diff_data.transitions(sa, sb, {"absorbed": "absorbed (Myelin)"}).tolist() == [
        "fused → unfused", "fused", "— → fused", "absorbed (Myelin) → —"]
    (cond,) = parse_fail_on("new-unfused=1")
    assert diff_data.gate_lines([], [], None) == []
    assert diff_data.gate_lines([cond], [], None)[0] == ("Gate passed: none of new-unfused=1 holds "
                                                         "(trtscope diff would exit 0)", "ok")
    v = Violation(cond.condition, cond.text, 2, 1, "2 compute nodes newly unfused (allowed: 1)")
    assert diff_data.gate_lines([cond], [v], None)[1] == ("  ✗ new-unfused=1: 2 compute nodes newly unfused "
                                                          "(allowed: 1)", "fail")
    assert diff_data.gate_lines([cond], [], "no profile")[0][1] == "error"
    assert diff_data.change_label("new_reformat") == "⚠ new reformat"
    assert diff_data.change_label("newly_unfused") == "✗ newly unfused"  # its own mark, not two


def test_quitting_while_comparing_closes_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """`q` on the "Comparing" screen ends the app without waiting for the comparison (a daemon thread, not a
    Textual worker, which the app would wait for), and the comparison finishing afterwards raises nothing in
    its thread (its result has no app to go to)."""
    import time

    import trtscope.analysis.diff as diff_lib

    a, b = trtscope.load(_rtx("convblock-fused")), trtscope.load(_rtx("convblock-split"))
    real = diff_lib.diff
    release, finished = threading.Event(), threading.Event()
    errors: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))

    def held(*args: Any) -> Any:
        assert release.wait(30)
        try:
            return real(*args)
        finally:
            finished.set()

    monkeypatch.setattr(diff_lib, "diff", held)
    app = DiffApp(a, b, "fused", "split")

    async def script(pilot: Any) -> None:
        await settle(pilot)
        assert not app.ready and "Comparing" in shown(app)
        await pilot.press("q")

    start = time.monotonic()
    run_app(app, script)
    assert time.monotonic() - start < 10 and not finished.is_set()  # ended while the comparison was held
    release.set()
    assert finished.wait(30)
    time.sleep(0.2)  # the thread's last call, to an app that has gone
    assert errors == [] and app.error is None and app.return_value is None
