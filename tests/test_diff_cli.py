"""``trtscope diff``'s CI gate and command line: a condition holds exactly when the inputs (built here with a
known outcome on each side of every threshold) cross it; exit 1 then, 0 otherwise, 2 on bad input; the JSON
document; the console view."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import trtscope
from tests.diff_synth import L, write_engine
from trtscope.analysis.diff import Diff, diff
from trtscope.analysis.diff.gate import evaluate, parse_fail_on
from trtscope.cli.diff import default_labels
from trtscope.cli.main import main
from trtscope.errors import TrtscopeError
from trtscope.model import diff_outputs

BASE = [L("Conv_0 + Relu_1", ["Conv_0", "Relu_1"], dtype="FP16", ms=0.6),
        L("MaxPool_2", ["MaxPool_2"], type="TiledPooling", dtype="FP16", ms=0.4)]  # 1.0 ms; 2 of 3 fused
POOL = dict(type="TiledPooling", dtype="FP16")
REFORMAT = "Reformatting CopyNode for Input Tensor 0 to MaxPool_2"
VARIANTS = {
    "base": BASE,
    "up4": [BASE[0], L("MaxPool_2", ["MaxPool_2"], ms=0.44, **POOL)],  # 1.04 ms: +4 %
    "up6": [BASE[0], L("MaxPool_2", ["MaxPool_2"], ms=0.46, **POOL)],  # 1.06 ms: +6 %
    # Conv_0 and Relu_1 in layers of their own: 0 of 3 fused (coverage -66.7 points), 2 newly unfused
    "split": [L("Conv_0", ["Conv_0"], dtype="FP16", ms=0.5), L("Relu_1", ["Relu_1"], type="PointWiseV2",
                                                                  dtype="FP16", ms=0.1), BASE[1]],
    "reformat": [BASE[0], L(REFORMAT, [], type="Reformat", dtype="FP16", ms=0.01), BASE[1]],  # +1 copying
    "elided": [BASE[0], L(REFORMAT, [], type="NoOp", dtype="FP16", ms=0.0), BASE[1]],  # +1 elided (free)
    "fp32": [L("Conv_0 + Relu_1", ["Conv_0", "Relu_1"], dtype="FP32", ms=0.6), BASE[1]],  # 2 nodes Half -> Float
}


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("engines")
    out = {k: str(write_engine(root / k, v, None)) for k, v in VARIANTS.items()}
    out["bare"] = str(write_engine(root / "bare", BASE, None, profile=False))
    return out


@pytest.fixture(scope="module")
def loaded(engines: dict[str, str]) -> dict[str, trtscope.analysis.session.Analysis]:
    return {k: trtscope.load(p) for k, p in engines.items()}


def _holds(d: Diff, spec: str) -> list[str]:
    return [v.condition.value for v in evaluate(d.summary, parse_fail_on(spec))]


@pytest.mark.parametrize(("a", "b", "spec", "holds"), [
    ("base", "up4", "time-increase=5%", False),
    ("base", "up6", "time-increase=5%", True),
    ("base", "up6", "time-increase=5", True),  # the % sign is optional
    ("up6", "base", "time-increase=0%", False),  # faster is never a time regression
    ("base", "split", "new-unfused", True),
    ("base", "split", "new-unfused=2", False),  # "more than 2"
    ("base", "split", "new-unfused=1", True),
    ("split", "base", "new-unfused", False),  # fusion gained
    ("base", "split", "coverage-drop=70", False),
    ("base", "split", "coverage-drop=60", True),
    ("split", "base", "coverage-drop=0", False),
    ("base", "reformat", "new-reformat", True),
    ("base", "elided", "new-reformat", False),  # an elided copy costs nothing
    ("reformat", "base", "new-reformat", False),  # B drops one
    ("base", "fp32", "precision-fallback", True),
    ("base", "fp32", "precision-fallback=2", False),
    ("fp32", "base", "precision-fallback", False),  # narrower is no fallback
    ("base", "base", "coverage-drop=0,time-increase=0%,new-unfused,new-reformat,precision-fallback", False),
])
def test_condition_holds_exactly_when_crossed(loaded: dict, a: str, b: str, spec: str, holds: bool) -> None:
    assert bool(_holds(diff(loaded[a], loaded[b]), spec)) is holds


def test_observed_values_and_lists(loaded: dict) -> None:
    d = diff(loaded["base"], loaded["split"])
    (v,) = evaluate(d.summary, parse_fail_on("coverage-drop=60"))
    assert abs(v.observed - 200 / 3) < 1e-6 and "66.7 points" in v.message
    assert d.summary.newly_unfused == 2
    d = diff(loaded["base"], loaded["reformat"])
    assert _holds(d, "new-reformat,precision-fallback,time-increase=0.5%") == ["new-reformat", "time-increase"]
    d = diff(loaded["base"], loaded["elided"])
    assert (d.summary.reformats_new, d.summary.reformats_new_copying) == (1, 0)


def test_exit_codes(engines: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["diff", engines["base"], engines["up6"], "--json", "--fail-on", "time-increase=5%",
               "--fail-on", "new-unfused"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 1 and not doc["gate"]["passed"]
    assert [v["condition"] for v in doc["gate"]["violations"]] == ["time-increase"]
    assert abs(doc["gate"]["violations"][0]["observed"] - 6.0) < 1e-6
    assert main(["diff", engines["base"], engines["up4"], "--fail-on", "time-increase=5%"]) == 0
    assert "Gate passed" in capsys.readouterr().out


def test_bad_input_exits_2(engines: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    a = engines["base"]
    for spec in ("nonsense", "coverage-drop", "time-increase=fast", "new-unfused=2%", "coverage-drop=-1", ","):
        assert main(["diff", a, a, "--fail-on", spec]) == 2, spec
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--fail-on" in err  # one line
    assert main(["diff", a, engines["bare"], "--fail-on", "time-increase=5%"]) == 2  # cannot see: not a pass
    assert "no per-layer times" in capsys.readouterr().err
    assert main(["diff", a, a + "-missing"]) == 2
    assert main(["diff", a]) == 2
    assert "side B is missing" in capsys.readouterr().err
    with pytest.raises(TrtscopeError):
        parse_fail_on("latency-increase")


def test_json_document_and_console(engines: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    a = engines["base"]
    b = str(write_engine(Path(a).parent / "mixed", [
        L("Conv_0", ["Conv_0"], dtype="FP16", ms=0.5), L("Relu_1", ["Relu_1"], type="PointWiseV2", dtype="FP32",
                                                         ms=0.1), BASE[1]], None))
    assert main(["diff", a, b, "--json", "--label-a", "main", "--label-b", "pr"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "trtscope-diff/1" and "gate" not in doc
    assert (doc["a"]["label"], doc["b"]["label"]) == ("main", "pr")
    s = doc["summary"]
    assert (s["layers_a"], s["layers_b"], s["nodes_matched"], s["nodes_only_a"], s["nodes_only_b"]) == (2, 3, 3, 0, 0)
    assert (s["fusion_changes"], s["precision_changes"]) == (2, 1)
    assert abs(s["total_ms_a"] - 1.0) < 1e-9 and abs(s["total_ms_b"] - 1.0) < 1e-9
    assert len(doc["nodes"]) == 3
    relu = next(n for n in doc["nodes"] if n["node_a"] == "Relu_1")
    assert relu["match"] == "exact" and relu["op_type"] == "Relu"
    assert relu["a"] == {"layer": "Conv_0 + Relu_1", "layer_index": 0, "status": "fused", "precision": "Half",
                         "ms": 0.0, "layer_ms": 0.6, "fused_with": ["Conv_0"]}
    assert (relu["b"]["layer"], relu["b"]["status"], relu["b"]["precision"], relu["b"]["ms"]) == \
        ("Relu_1", "unfused", "Float", 0.1)
    assert relu["precision_fallback"] and relu["newly_unfused"]
    assert {r["op_type"] for r in doc["op_types"] if r["op_type"]} == {"Conv", "Relu", "MaxPool"}
    for key, spec in (("changes", diff_outputs.DIFF_CHANGES), ("op_types", diff_outputs.DIFF_OP_TYPES),
                      ("layer_kinds", diff_outputs.DIFF_LAYER_KINDS), ("inserted", diff_outputs.DIFF_INSERTED)):
        assert all(list(r) == spec.names for r in doc[key]), key
    assert doc["changes"][0]["kind"] in ("newly_unfused", "precision_fallback")
    # the console view leads with the regressions and says why the gate failed
    assert main(["diff", a, b, "--fail-on", "new-unfused"]) == 1
    out = capsys.readouterr().out
    assert "Top changes" in out and "newly unfused" in out and "Gate failed" in out


def test_default_labels() -> None:
    assert default_labels(Path("/r/fp32/resnet.json"), Path("/r/qat/resnet.json")) == ("fp32/resnet.json",
                                                                                       "qat/resnet.json")
    assert default_labels(Path("/r/main"), Path("/r/pr")) == ("main", "pr")
    assert default_labels(None, Path("x")) == ("A", "B")


def test_diff_tables_documented() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "diff.md").read_text(encoding="utf-8")
    assert diff_outputs.markdown() in doc, "run python scripts/gen_data_model.py"


def test_json_nodes_encoded_in_chunks_equal_the_document(loaded: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from trtscope.exporters import diff_json as dj
    from trtscope.exporters.json_report import dumps

    d = diff(loaded["base"], loaded["split"])
    whole = json.loads(dumps(dj.diff_document(d)))
    for chunk in (1, 2, 100):
        monkeypatch.setattr(dj, "_CHUNK", chunk)
        assert json.loads(dj.diff_json(d)) == whole
    assert len(whole["nodes"]) == len(d.nodes) == 3


def test_kernel_row_says_how_the_kernel_time_changed() -> None:
    """The two real torch captures (H100, H200) launch the same 272 kernels in different times: the Kernels
    row's change column said only "=" (the launch count) beside two different times. Expected figures from the
    bundles' raw kernel tables."""
    import pandas as pd

    from tests.conftest import own_fixture
    from trtscope.views.diff_headline import diff_headline_rows

    a, b = own_fixture("h100-torch-capture.trtscope"), own_fixture("h200-torch-capture.trtscope")
    ka, kb = (pd.read_parquet(p / "tables" / "kernels.parquet") for p in (a, b))
    ms_a, ms_b = ((k["end_ns"] - k["start_ns"]).sum() / 1e6 for k in (ka, kb))
    assert len(ka) == len(kb) and ms_a != ms_b
    d = diff(trtscope.load(a), trtscope.load(b))
    assert d.summary.kernel_ms_delta == pytest.approx(ms_b - ms_a, abs=1e-9)
    assert d.summary.kernel_change == pytest.approx((ms_b - ms_a) / ms_a, rel=1e-9)
    (row,) = [r for r in diff_headline_rows(d) if r[0] == "Kernels"]
    assert row[3] == f"= launches, {ms_b - ms_a:+.4f} ms ({100 * (ms_b - ms_a) / ms_a:+.1f}%)"
