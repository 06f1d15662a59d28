"""Lint findings in the TUI: the Lint screen lists exactly `trtscope lint --json`'s findings, and a layer's
detail lists the findings that concern it (real TensorRT 8 QAT ResNet-18, whose findings the lint tests check
against the raw files)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

import trtscope
from tests.conftest import shared_fixture
from tests.test_tui_kit import run_app, settle, shown, until
from trtscope.cli.main import main
from trtscope.views.tui.app import TrtscopeApp
from trtscope.views.tui.widgets import FrameTable

pytestmark = pytest.mark.shared


async def _until(pilot: Any, done: Any) -> None:
    await until(pilot, done, "the lint worker")


def test_lint_screen_and_layer_detail_show_the_cli_findings(capsys: pytest.CaptureFixture[str]) -> None:
    d = shared_fixture("trex", "a100-resnet18-qat")
    assert main(["lint", str(d), "--json"]) in (0, 1)
    doc = json.loads(capsys.readouterr().out)
    findings = doc["findings"]
    assert findings
    layer = findings[0]["layers"][0]
    on_layer = [f for f in findings if layer in f["layers"]]
    app = TrtscopeApp(trtscope.load(d), source=str(d))

    async def script(pilot: Any) -> None:
        await pilot.press("7")
        await settle(pilot)
        table = app.screen.query_one("#main-table", FrameTable)
        await _until(pilot, lambda: table.total_count == len(findings))
        assert table.column_texts("rule") == [f["rule"] for f in findings]
        assert "[7 Lint]" in shown(app)
        await pilot.press("enter")  # the first finding's first layer
        await settle(pilot, 4)
        text = " ".join(shown(app).split())
        assert f"layer #{layer}" in text
        assert re.search(rf"Lint findings \({len(on_layer)}\)", text)
        for f in on_layer[:2]:
            assert f"{f['severity'].upper()} {f['rule']}" in text

    run_app(app, script, size=(160, 60))


def test_lint_is_not_offered_without_layers() -> None:
    from tests.conftest import own_fixture

    app = TrtscopeApp(trtscope.load(own_fixture("h100-torch-capture.trtscope")), source="capture")
    assert "lint" not in app.available_modes and "engine layers" in app.missing("lint")


def test_a_layer_detail_runs_the_rules_itself_when_needed(capsys: pytest.CaptureFixture[str]) -> None:
    d = shared_fixture("trex", "a100-resnet18-qat")
    assert main(["lint", str(d), "--json"]) in (0, 1)
    findings = json.loads(capsys.readouterr().out)["findings"]
    on_first = [f for f in findings if 0 in f["layers"]]
    app = TrtscopeApp(trtscope.load(d), source=str(d))

    async def script(pilot: Any) -> None:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("enter")  # layer #0 (engine order)
        await settle(pilot)
        await _until(pilot, lambda: "Lint findings (" in shown(app))
        assert f"Lint findings ({len(on_first)})" in " ".join(shown(app).split())

    run_app(app, script, size=(160, 60))
