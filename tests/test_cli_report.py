"""`trtscope report`: the JSON document's contract, the console report, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, own_fixture, shared_fixture
from trtscope.cli.main import main


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    e = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "trtscope", *args], capture_output=True, text=True, env=e,
                          cwd=REPO, timeout=120)


def _json_report(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["report", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_example_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json_report(capsys, "--example")
    s = doc["summary"]
    log = own_fixture("rtx-h100-resnet18", "build-verbose.log").read_text(errors="replace").split("\n")
    names = [x[6:x.index(", LayerType: ")] for x in log if x.startswith("Name: ")]
    assert s["layer_count"] == len(names)
    assert [layer["name"] for layer in doc["layers"]] == names  # exact, in engine order
    # no profile in the example: times are null, never invented
    assert s["total_ms"] is None
    assert all(layer["mean_ms"] is None and layer["share"] is None for layer in doc["layers"])
    assert s["onnx_node_count"] == 65 and 0 < s["fusion_coverage"] <= 1
    assert s["reformat_layer_count"] == 0
    assert s["fused_layer_count"] == sum(1 for layer in doc["layers"] if len(layer["onnx_nodes"]) >= 2)
    for layer in doc["layers"]:
        assert {"name", "type", "onnx_nodes", "mean_ms", "median_ms", "share"} <= set(layer)


def test_trex_json_with_profile(capsys: pytest.CaptureFixture[str]) -> None:
    d = shared_fixture("trex", "a100-resnet18-fp16")
    prof = json.loads(next(d.glob("*.profile.json")).read_text())[1:]
    doc = _json_report(capsys, str(d), "--top", "3")
    by_name = {r["name"]: r for r in prof}
    total = sum(r["averageMs"] for r in prof)
    assert doc["summary"]["total_ms"] == pytest.approx(total)
    for layer in doc["layers"]:
        r = by_name[layer["name"]]
        assert layer["mean_ms"] == pytest.approx(r["averageMs"])
        assert layer["median_ms"] == pytest.approx(r["medianMs"])
        assert layer["share"] == pytest.approx(r["averageMs"] / total)
    assert len(doc["hotspots"]["layers"]) == 3
    assert doc["summary"]["onnx_node_count"] is None and doc["summary"]["fusion_coverage"] is None


def test_console_report_renders_sections(tmp_path: Path) -> None:
    r = run_cli("report", str(shared_fixture("trex", "a100-resnet18-qat")), env={"NO_COLOR": "1", "COLUMNS": "120"})
    assert r.returncode == 0, r.stderr
    for title in ("trtscope report", "Fusion coverage by ONNX op type", "Top 10 layers by time",
                  "Unfused hotspots", "Reformat cost"):
        assert title in r.stdout
    assert "\x1b[" not in r.stdout  # NO_COLOR: no escape sequences


@pytest.mark.parametrize("name", ["a100-resnet18-fp16", "mobilenet-qat"])
def test_console_counts_profiled_iterations_in_words(name: str) -> None:
    """The headline's iteration count, from the raw profile's leading {"count": N} record, in correct English."""
    folder = shared_fixture("trex", name)
    count = json.loads(next(folder.glob("*.profile.json")).read_text())[0]["count"]
    r = run_cli("report", str(folder), env={"NO_COLOR": "1", "COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    word = "iteration" if count == 1 else "iterations"
    assert f"(mean over {count:,} profiled {word})" in r.stdout


def test_example_console_says_there_are_no_times() -> None:
    r = run_cli("report", "--example", env={"COLUMNS": "150"})
    assert r.returncode == 0, r.stderr
    assert "no per-layer profile was given" in r.stdout
    assert "runtime refuses" in r.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["report", "/nonexistent/dir"], "/nonexistent/dir: no such file or directory"),
        (["report", "--layers", "/nonexistent.json"], "/nonexistent.json: no such file"),
        (["report", "--top", "0", "--example"], "--top must be at least 1"),
        (["report"], "give a PATH (or --layers/--profile/--onnx, or --example); see trtscope report --help"),
        (["export", "--format", "json", "-o", "out.json"], "give a PATH"),
        (["ncu", "command", "--top", "1", "--engine", "e.plan"], "give a PATH"),
    ],
)
def test_errors_are_one_line_exit_2(args: list[str], fragment: str) -> None:
    r = run_cli(*args)
    assert r.returncode == 2
    lines = r.stderr.strip().split("\n")
    assert len(lines) == 1 and lines[0].startswith("trtscope: error: ") and fragment in lines[0]
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("args", "prog", "fragment"),
    [
        (["report", "--example", "--top", "abc"], "trtscope report", "argument --top: invalid int value: 'abc'"),
        (["ncu", "command", "--example", "--layer", "x", "--top", "2", "--engine", "e.plan"], "trtscope ncu command",
         "argument --top: not allowed with argument --layer"),
        (["export", "--example", "--format", "xml", "-o", "x"], "trtscope export", "invalid choice: 'xml'"),
        (["export", "--example"], "trtscope export", "the following arguments are required: --format/-f, -o/--output"),
    ],
)
def test_option_errors_are_one_line_exit_2(args: list[str], prog: str, fragment: str) -> None:
    """argparse's errors too: one line naming the command and the problem, no usage block (--help has it)."""
    r = run_cli(*args)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.endswith("\n") and r.stderr.count("\n") == 1
    assert r.stderr.startswith(f"{prog}: error: ") and fragment in r.stderr
    assert r.stderr.endswith(f" (see {prog} --help)\n") and "usage:" not in r.stderr


def test_invalid_json_and_mismatched_pair(tmp_path: Path) -> None:
    bad = tmp_path / "engine.layers.json"
    bad.write_text('{"Layers": [ {"Name": "a"}, ')
    r = run_cli("report", "--layers", str(bad))
    assert r.returncode == 2 and f"{bad}: invalid JSON" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("report", "--layers", str(shared_fixture("trt10-h100-mnist", "mnist.exportLayerInfo.json")),
                "--profile", str(shared_fixture("trt10-h100-mnist", "trtexec-dumpProfile.log")))
    assert r.returncode == 2 and "do not match" in r.stderr and len(r.stderr.strip().split("\n")) == 1


def test_names_only_file_degrades_with_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = json.loads(next(shared_fixture("trex", "a100-resnet18-fp32").glob("*.graph.json")).read_text())
    p = tmp_path / "names.json"
    p.write_text(json.dumps({"Layers": [x["Name"] for x in raw["Layers"]]}))
    doc = _json_report(capsys, "--layers", str(p))
    assert doc["summary"]["layer_detail"] == "names"
    assert any("names only" in w for w in doc["warnings"])


@pytest.mark.parametrize("command", ["report", "tui", "profile", "export", "nsys", "doctor"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    r = run_cli(command, "--help")
    assert r.returncode == 0, r.stderr
    assert "example" in r.stdout.lower() and "trtscope " + command in r.stdout


def test_top_level_help_is_fast_and_lists_commands() -> None:
    r = run_cli("--help")
    assert r.returncode == 0
    for command in ("report", "tui", "profile", "export", "nsys", "doctor"):
        assert command in r.stdout
