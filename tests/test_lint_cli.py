"""``trtscope lint`` from the command line: exit codes a CI can gate on, rule selection, the JSON document,
bad input as one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.lint_build import H8, F, layer, save_model, tensor, write_engine
from tests.test_lint_rules import _fp16_engine, _qdq_engine
from trtscope.analysis.lint import RULES
from trtscope.cli.main import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture
def engine(tmp_path: Path) -> Path:
    """Known by construction: warnings (Q001, Q002) and info, no error."""
    _qdq_engine(tmp_path)
    return tmp_path


def test_fail_on_gates(engine: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "lint", str(engine), "--json")
    doc = json.loads(out)
    assert rc == 0 and doc["counts"]["error"] == 0 and doc["counts"]["warning"] > 0
    assert _run(capsys, "lint", str(engine), "--fail-on", "error")[0] == 0
    assert _run(capsys, "lint", str(engine), "--fail-on", "warning")[0] == 1
    assert _run(capsys, "lint", str(engine), "--fail-on", "info")[0] == 1
    # ignoring every rule that finds something: the gate no longer trips
    found = sorted({f["rule"] for f in doc["findings"]})
    assert _run(capsys, "lint", str(engine), "--fail-on", "info", "--ignore", ",".join(found))[0] == 0


def test_json_document(engine: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _rc, out, _ = _run(capsys, "lint", str(engine), "--json", "--select", "Q002")
    doc = json.loads(out)
    assert doc["schema"] == "trtscope-lint/1" and doc["rules_run"] == ["Q002"]
    f = doc["findings"][0]
    keys = ("rule", "severity", "title", "layers", "onnx_nodes", "evidence", "ms", "share", "advice", "why", "docs")
    assert all(k in f for k in keys)
    assert {f["rule"] for f in doc["findings"]} == {"Q002"}
    assert all(isinstance(e["text"], str) for x in doc["findings"] for e in x["evidence"])
    assert f["layer_names"] == [["conv1", "sig", "q2", "conv2", "conv3"][i] for i in f["layers"]]


def test_console_groups_by_severity(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fp16_engine(tmp_path, tiny=12)  # warnings (P001, T001, ...) and an info (L001, 12 % in tiny layers)
    rc, out, _ = _run(capsys, "lint", str(tmp_path))
    assert rc == 0
    assert "trtscope lint:" in out and "fix:" in out
    assert 0 < out.index("\nwarning (") < out.index("\ninfo (")
    assert "\x1b[" not in out  # not a terminal: no escape codes


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, engine: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _out, err = _run(capsys, "lint", str(tmp_path / "missing"))
    assert rc == 2 and err.count("\n") == 1 and "no such file" in err
    rc, _, err = _run(capsys, "lint", str(engine), "--select", "Q9")
    assert rc == 2 and "no such rule" in err and err.count("\n") == 1
    # ignoring every selected rule would make a CI gate pass on any engine
    rc, _, err = _run(capsys, "lint", str(engine), "--select", "Q", "--ignore", "Q", "--fail-on", "info")
    assert rc == 2 and "leave no rule to run" in err and err.count("\n") == 1
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    rc, _, err = _run(capsys, "lint", "--layers", str(bad))
    assert rc == 2 and err.count("\n") == 1
    rc, _, err = _run(capsys, "lint")
    assert rc == 2 and "give a PATH" in err


def test_list_rules(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "lint", "--list-rules", "--json")
    assert rc == 0 and [r["rule"] for r in json.loads(out)["rules"]] == list(RULES)
    rc, out, _ = _run(capsys, "lint", "--list-rules")
    assert rc == 0 and all(rid in out for rid in RULES)


def test_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "lint", "--example", "--json")
    doc = json.loads(out)
    assert rc == 0 and doc["counts"]["error"] == 0


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["lint", "--help"])
    assert e.value.code == 0
    assert "--fail-on" in capsys.readouterr().out


def test_skipped_rules_say_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    save_model(tmp_path / "m.onnx", [("conv", "Conv", ["x", "w"], ["y"])], inits=("w",))
    write_engine(tmp_path, [layer("conv", "CaskConvolution", [tensor("x", H8)], [tensor("y", F)], ["conv"])])
    _rc, out, _ = _run(capsys, "lint", str(tmp_path), "--json")
    skipped = {s["rule"]: s["reason"] for s in json.loads(out)["skipped"]}
    assert "no per-layer profile" in skipped["L001"] and "F001" not in skipped


def test_every_rule_has_a_page_that_says_where_it_was_seen() -> None:
    docs = Path(__file__).resolve().parents[1] / "docs" / "lint"
    index = (docs / "README.md").read_text()
    for rid, rule in RULES.items():
        page = (docs / f"{rid}.md").read_text()
        assert page.startswith(f"# {rid} `{rule.name}`")
        assert ("## Real example" in page) != ("No real artifact available to the project exhibits it" in page)
        assert f"[{rid}]({rid}.md)" in index
        assert rule.docs.endswith(f"docs/lint/{rid}.md")
