"""One regression test per failure class found by fuzzing (issue 9): every bad input gets one line naming the
file and the problem, or is read with the bad values left out and a warning naming the file and the records
— never a traceback, a hang, or a silently wrong report.

Inputs are small hand-made files (or the project's fixtures, altered); expected values come from how each
input was made.
"""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
from pathlib import Path

import pytest

from tests import nsys_synth as synth
from tests.conftest import own_fixture
from tests.fuzzing import duplicate_names_onnx, log_messages, nested_if_onnx, no_hang, onnx_bytes, render_log
from trtscope.cli.main import INTERNAL_ERROR, main
from trtscope.errors import InputError
from trtscope.loader import load, load_artifacts
from trtscope.parsers import detect, jsonio, layer_entries
from trtscope.parsers.detect import sniff
from trtscope.parsers.nsys_sqlite import read_report
from trtscope.parsers.onnx_graph import read_onnx_graph


def layer_json(tmp: Path, layers: list[dict[str, object]], name: str = "engine.layers.json") -> Path:
    p = tmp / name
    p.write_text(json.dumps({"Layers": layers, "Bindings": ["x"]}))  # ensure_ascii: surrogates as \ud800 escapes
    return p


def profile_json(tmp: Path, records: list[dict[str, object]], count: object = 10, raw: str | None = None) -> Path:
    p = tmp / "engine.profile.json"
    p.write_text(raw if raw is not None else json.dumps([{"count": count}, *records]))
    return p


def rec(name: str, avg: object, total: object = 1.0) -> dict[str, object]:
    return {"name": name, "timeMs": total, "averageMs": avg, "medianMs": avg if isinstance(avg, float) else 0.1,
            "percentage": 10.0}


# --- layer information ------------------------------------------------------------------------------------------
def test_newline_inside_a_foreign_node_name_is_kept_byte_exact(tmp_path: Path) -> None:
    name = "{ForeignNode[/a/Conv\n.../b/Relu]}"
    s = sniff(layer_json(tmp_path, [{"Name": name, "LayerType": "Myelin"}, {"Name": "c", "LayerType": "Shuffle"}]))
    assert s.layer_info is not None and s.layer_info.layers["name"].tolist() == [name, "c"]


def test_newline_inside_a_foreign_node_name_is_analysed(tmp_path: Path) -> None:
    name = "{ForeignNode[/a/Conv\n.../b/Relu]}"
    a = load(layers=layer_json(tmp_path, [{"Name": name, "LayerType": "Myelin"}]))
    assert a.layers["name"].tolist() == [name]


@pytest.mark.parametrize("digits", ["1" * 5000, "9" * 25])
def test_reformat_layer_with_a_huge_tensor_index_is_analysed(tmp_path: Path, digits: str) -> None:
    """A tensor position no engine has (5000 digits, beyond 2**63) leaves the layer a reformat layer with no
    position, instead of an internal error."""
    name = f"Reformatting CopyNode for Input Tensor {digits} to conv"
    a = load(profile=profile_json(tmp_path, [rec(name, 0.5), rec("conv", 0.25)]))
    ref = a.reformat_layers
    assert ref["name"].tolist() == [name] and ref["target"].tolist() == ["conv"]
    assert ref["tensor"].isna().all()


@pytest.mark.parametrize("field", ["Name", "Metadata", "TacticName"])
def test_lone_surrogate_escapes_in_layer_info_become_replacement_characters(tmp_path: Path, field: str) -> None:
    layer = {"Name": "conv", "LayerType": "CaskConvolution", "Metadata": "[ONNX Layer: conv]", "TacticName": "t"}
    layer[field] = "x\ud800y"
    p = layer_json(tmp_path, [layer])
    assert "\\ud800" in p.read_text()
    a = load(layers=p)
    info = a.artifacts.layer_info
    assert info is not None
    column = {"Name": "name", "Metadata": "metadata", "TacticName": "tactic"}[field]
    assert info.layers[column].iloc[0] == "x\ufffdy"
    assert any("surrogate" in w and str(p) in w for w in a.warnings)
    json.dumps(info.layers.astype(str).to_dict(), ensure_ascii=False).encode("utf-8")  # encodable text


def test_lone_surrogate_in_a_profile_name(tmp_path: Path) -> None:
    p = profile_json(tmp_path, [rec("a\udc00", 0.5), rec("b", 0.25)])
    prof = sniff(p).profile
    assert prof is not None and prof.times["name"].tolist() == ["a\ufffd", "b"]


def test_stream_id_beyond_any_stream_is_dropped_with_a_warning(tmp_path: Path) -> None:
    p = layer_json(tmp_path, [{"Name": "a", "LayerType": "kgen", "StreamId": 2**64},
                              {"Name": "b", "LayerType": "kgen", "StreamId": 1}])
    s = sniff(p)
    assert s.layer_info is not None
    assert s.layer_info.layers["stream_id"].tolist() == [None, 1]
    assert any(str(p) in w and "'a'" in w for w in s.warnings)
    assert main(["export", "--layers", str(p), "--format", "parquet", "-o", str(tmp_path / "out")]) == 0


def test_fields_of_the_wrong_type_are_dropped_not_crashed_on(tmp_path: Path) -> None:
    p = layer_json(tmp_path, [{"Name": "a", "LayerType": ["x"], "Inputs": "not a list", "Metadata": 5,
                               "Outputs": [{"Name": {"x": 1}, "Dimensions": "1x2"}, 7]}])
    a = load(layers=p)
    row = a.artifacts.layer_info.layers.iloc[0]  # type: ignore[union-attr]
    assert row["type"] == "" and row["metadata"] is None
    assert a.tensors["name"].tolist() == [""] and a.tensors["direction"].tolist() == ["output"]
    assert any(str(p) in w and "'a'" in w for w in a.warnings)


def test_layer_name_longer_than_the_bound_is_refused(tmp_path: Path) -> None:
    p = layer_json(tmp_path, [{"Name": "x" * (layer_entries.MAX_NAME_CHARS + 1)}])
    with pytest.raises(InputError, match="characters"):
        sniff(p)


def test_too_many_layers_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layer_entries, "MAX_LAYERS", 10)
    p = layer_json(tmp_path, [{"Name": f"l{i}"} for i in range(11)])
    with pytest.raises(InputError, match="11 layers"):
        sniff(p)


def test_json_larger_than_the_bound_is_refused_before_reading(tmp_path: Path) -> None:
    p = tmp_path / "padded.json"
    with open(p, "wb") as fh:  # sparse beyond its first bytes: takes no disk space
        fh.write(b"[" + b" " * 8192)
        fh.truncate(jsonio.MAX_JSON_BYTES + 1)
    with pytest.raises(InputError, match="more than"):
        sniff(p)


def test_deeply_nested_json_is_an_input_error(tmp_path: Path) -> None:
    p = tmp_path / "deep.json"
    p.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputError, match="nested too deeply"):
        sniff(p)


# --- profiles and times: values checked ---------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [-0.5, 10**400, float("inf"), "0.1", True, [1]])
def test_bad_average_times_are_left_out_with_a_warning(tmp_path: Path, bad: object) -> None:
    records = [rec("a", 0.5), rec("b", 0.25)]
    records[1]["averageMs"] = bad
    text = json.dumps([{"count": 10}, *records]).replace("Infinity", "1e400")
    p = profile_json(tmp_path, [], raw=text)
    a = load(profile=p)
    mean = a.layers.set_index("name")["mean_ms"]
    assert mean["a"] == 0.5
    if bad == "0.1":  # a number written as a string is still a number
        assert mean["b"] == pytest.approx(0.1)
        return
    assert math.isnan(mean["b"])
    assert a.summary.total_ms == pytest.approx(0.5)
    assert a.layers["share"].max() <= 1.0
    assert any(str(p) in w and "'b'" in w for w in a.warnings)


@pytest.mark.parametrize("count", [0, -3, 1.5, "x", 10**30])
def test_profile_iteration_count_must_be_positive(tmp_path: Path, count: object) -> None:
    p = profile_json(tmp_path, [rec("a", 0.5)], count=count)
    with pytest.raises(InputError, match="iteration count"):
        sniff(p)


def _table_log(tmp: Path, rows: list[str], iterations: str = "100") -> Path:
    p = tmp / "profile.log"
    head = [f"[11/29/2026-14:32:36] [I] === Profile ({iterations} iterations ) ===",
            "[11/29/2026-14:32:36] [I]    Time(ms)     Avg.(ms)   Median(ms)   Time(%)   Layer"]
    tail = ["[11/29/2026-14:32:36] [I]       10.00       0.1000       0.1000     100.0   Total"]
    p.write_text("\n".join(head + [f"[11/29/2026-14:32:36] [I] {r}" for r in rows] + tail))
    return p


def test_negative_and_non_finite_times_in_a_dump_profile_table(tmp_path: Path) -> None:
    p = _table_log(tmp_path, ["     5.00     0.0500     0.0500     50.0   good",
                              "    -5.00    -0.0500    -0.0500     50.0   negative",
                              "      nan        inf       -nan     50.0   not finite",
                              "   " + "9" * 400 + "   1.0   1.0   5.0   huge"])
    s = sniff(p)
    assert s.profile is not None and s.profile.count == 100
    t = s.profile.times.set_index("name")
    assert t.loc["good", "mean_ms"] == 0.05
    assert t.loc[["negative", "not finite"], ["total_ms", "mean_ms"]].isna().all().all()
    assert math.isnan(t.loc["huge", "total_ms"])
    assert any(str(p) in w and "'negative'" in w for w in s.warnings)


def test_zero_iterations_in_a_table_header_is_flagged(tmp_path: Path) -> None:
    s = sniff(_table_log(tmp_path, ["     5.00     0.0500     0.0500    100.0   good"], iterations="0"))
    assert s.profile is not None and s.profile.count is None
    assert any("iteration count" in w for w in s.warnings)


def test_negative_and_huge_latencies_are_left_out(tmp_path: Path) -> None:
    iters = [{"startComputeMs": i, "computeMs": 1.0, "latencyMs": 1.5, "h2dMs": 0.1, "d2hMs": 0.1}
             for i in range(4)]
    text = json.dumps(iters)
    text = text.replace('"latencyMs": 1.5', '"latencyMs": -2', 1)
    text = text.replace('"computeMs": 1.0, "latencyMs": 1.5', '"computeMs": 1.0, "latencyMs": ' + "9" * 400, 1)
    p = tmp_path / "times.json"
    p.write_text(text)
    s = sniff(p)
    assert s.times is not None
    lat = s.times["latency_ms"].tolist()
    assert math.isnan(lat[0]) and math.isnan(lat[1]) and lat[2:] == [1.5, 1.5]
    assert any(str(p) in w and "#0" in w and "#1" in w for w in s.warnings)


def test_times_without_any_usable_latency_are_refused(tmp_path: Path) -> None:
    p = tmp_path / "times.json"
    p.write_text(json.dumps([{"startComputeMs": 0, "computeMs": -1, "latencyMs": -1}]))
    with pytest.raises(InputError, match="usable"):
        sniff(p)


# --- logs ---------------------------------------------------------------------------------------------------------
def test_a_5000_digit_version_banner_is_ignored(tmp_path: Path) -> None:
    p = tmp_path / "run.log"
    p.write_text("&&&& RUNNING TensorRT.trtexec [TensorRT v" + "9" * 5000 + "] [b1] # trtexec --onnx=m.onnx\n"
                 "[11/29/2026-14:32:36] [I] === Device Information ===\n"
                 "[11/29/2026-14:32:36] [I] Selected Device: NVIDIA H200\n")
    s = sniff(p)
    assert "tensorrt_version" not in s.metadata and s.metadata["gpu"] == "NVIDIA H200"


@pytest.mark.parametrize("line", [
    "a (F[" * 400_000,
    "Layer(Myelin): x, Tactic: 0x0, " + "t (F[1]), " * 200_000 + "-> y",
    "[I] Selected Device: " + " " * 1_000_000 + "x",
    "ForeignNode {ForeignNode[" + "]} metadata:" * 200_000,
    "Name: x, LayerType: " + "[{" * 200_000 + "}]" * 200_000,
    "[I] " + "   1.0" * 300_000,
])
def test_pathological_long_lines_are_read_in_linear_time(tmp_path: Path, line: str) -> None:
    p = tmp_path / "build.log"
    p.write_text("[I] [TRT] Engine Layer Information:\n" + line + "\n[I] === Profile (10 iterations ) ===\n"
                 + line + "\n")
    with no_hang(60), contextlib.suppress(InputError):  # read or refused, in linear time
        sniff(p, strict=False)


def test_a_name_with_a_newline_in_a_listing_does_not_break_the_log(tmp_path: Path) -> None:
    p = tmp_path / "build.log"
    p.write_text("[V] [TRT] Layers:\nName: a\nb, LayerType: kgen, Metadata: [ONNX Layer: a]\n"
                 "Name: c, LayerType: kgen, Metadata: [ONNX Layer: c]\n")
    info = sniff(p).layer_info
    assert info is not None and info.layers["name"].tolist() == ["c"]  # "a" is cut by its newline, "b" is no layer


# --- content detection ------------------------------------------------------------------------------------------
def test_a_log_starting_with_a_bracket_is_read_as_a_log_when_named(tmp_path: Path) -> None:
    src = own_fixture("rtx-h100-resnet18", "build-verbose.log")
    assert src.read_bytes().startswith(b"[")
    art = load_artifacts(layers=src)
    assert art.layer_info is not None and art.layer_info.detail == "oneline"


def test_an_explicit_file_that_is_nothing_says_what_was_tried(tmp_path: Path) -> None:
    p = tmp_path / "notes.txt"
    p.write_text("[draft] nothing here\n")
    with pytest.raises(InputError) as err:
        load_artifacts(layers=p)
    assert "JSON" in str(err.value) and "log" in str(err.value)


def test_documents_in_a_directory_are_not_artifacts(tmp_path: Path) -> None:
    (tmp_path / "SOURCE.md").write_text("Built on a B200 (`Selected Device: NVIDIA B200`, Compute Capability 10.0).\n"
                                        "=== Device Information ===\n[I] Selected Device: NVIDIA B200\n")
    (tmp_path / "README.txt").write_text("[I] === Device Information ===\n[I] Selected Device: NVIDIA B300\n")
    (tmp_path / "LICENSE").write_text("Apache License 2.0\n")
    raw = own_fixture("rtx-h100-resnet18", "build-verbose.log").read_text(encoding="utf-8", errors="replace")
    (tmp_path / "build").write_text(render_log(log_messages(raw), "severity_colon"))  # an extensionless log
    art = load_artifacts(tmp_path)
    assert art.layer_info is not None and len(art.layer_info.layers) == 36
    assert "gpu" not in art.metadata
    assert detect.is_document(tmp_path / "SOURCE.md") and not detect.is_document(tmp_path / "build.log")


def test_prose_quoting_a_log_line_gives_no_gpu(tmp_path: Path) -> None:
    p = tmp_path / "notes.log"
    p.write_text("=== Notes ===\nthe run (`Selected Device: NVIDIA B200`, Compute Capability 10.0).\n")
    assert "gpu" not in sniff(p, strict=False).metadata


# --- ONNX ---------------------------------------------------------------------------------------------------------
def test_duplicate_onnx_node_names_are_made_unique_with_a_warning(tmp_path: Path) -> None:
    p = tmp_path / "dups.onnx"
    p.write_bytes(duplicate_names_onnx())
    g = read_onnx_graph(p)
    names = g.nodes["name"].tolist()
    assert len(set(names)) == len(names) == 6
    assert names[:4] == ["a", "a (duplicate 2)", "b", "a (duplicate 3)"]
    assert g.warnings and "'a'" in g.warnings[0]
    layers = layer_json(tmp_path, [{"Name": "a", "LayerType": "kgen", "Metadata": "[ONNX Layer: a]"}])
    a = load(layers=layers, onnx=p)
    assert any("duplicate" in w for w in a.warnings)


def test_deeply_nested_if_subgraphs_are_refused(tmp_path: Path) -> None:
    p = tmp_path / "deep.onnx"
    p.write_bytes(nested_if_onnx(1000))
    with pytest.raises(InputError, match="nested more than"):
        read_onnx_graph(p)
    p.write_bytes(nested_if_onnx(20))
    assert len(read_onnx_graph(p).nodes) == 21


def test_onnx_larger_than_protobuf_allows_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "huge.onnx"
    with open(p, "wb") as fh:  # sparse
        fh.write(onnx_bytes([("a", "Relu", [])]))
        fh.truncate(3 * 1024**3)
    with pytest.raises(InputError, match="more than"):
        read_onnx_graph(p)


# --- nsys SQLite --------------------------------------------------------------------------------------------------
def _export(tmp: Path) -> Path:
    return synth.build(tmp / "r.sqlite").path


def test_zeroed_btree_page_is_an_input_error(tmp_path: Path) -> None:
    p = _export(tmp_path)
    data = p.read_bytes()
    size = int.from_bytes(data[16:18], "big")
    refused = 0
    for k in range(1, len(data) // size):  # every page but the header's, zeroed in turn
        q = tmp_path / f"z{k}.sqlite"
        q.write_bytes(data[: k * size] + bytes(size) + data[(k + 1) * size :])
        try:
            read_report(q)  # a zeroed page of a table trtscope does not read goes unnoticed, rightly
        except InputError as err:
            refused += 1
            assert str(q) in str(err) and "\n" not in str(err)
    assert refused > 0


def test_invalid_utf8_in_string_ids_is_read_leniently(tmp_path: Path) -> None:
    p = _export(tmp_path)
    with sqlite3.connect(p) as conn:
        conn.execute("UPDATE StringIds SET value = CAST(x'ff41' AS TEXT)")
    report = read_report(p)
    assert (report.kernels["name"] == "\ufffdA").all()


@pytest.mark.parametrize("value", ["'text'", "1.5", "x'00ff'"])
def test_non_integers_in_integer_columns_are_input_errors(tmp_path: Path, value: str) -> None:
    p = _export(tmp_path)
    with sqlite3.connect(p) as conn:
        conn.execute(f"UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET correlationId = {value} WHERE rowid = 1")
    with pytest.raises(InputError, match="correlation_id holds values that are not integers"):
        read_report(p)


def test_views_named_like_nsys_tables_are_refused(tmp_path: Path) -> None:
    p = _export(tmp_path)
    with sqlite3.connect(p) as conn:
        conn.execute("ALTER TABLE NVTX_EVENTS RENAME TO n_real")
        conn.execute("CREATE VIEW NVTX_EVENTS AS SELECT * FROM n_real")
    with pytest.raises(InputError, match="NVTX_EVENTS is a view"):
        read_report(p)


def test_an_endless_recursive_view_as_the_kernel_table_does_not_hang(tmp_path: Path) -> None:
    p = _export(tmp_path)
    with sqlite3.connect(p) as conn:
        conn.execute("DROP TABLE CUPTI_ACTIVITY_KIND_KERNEL")
        conn.execute("CREATE VIEW CUPTI_ACTIVITY_KIND_KERNEL AS WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL "
                     "SELECT x + 1 FROM r) SELECT x AS start, x AS end FROM r")
    with no_hang(60), pytest.raises(InputError, match="is a view"):
        read_report(p)


def test_kernels_ending_before_they_start_are_left_out(tmp_path: Path) -> None:
    p = _export(tmp_path)
    with sqlite3.connect(p) as conn:
        n = conn.execute("SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL").fetchone()[0]
        conn.execute('UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET "start" = "end" + 5 WHERE rowid = 1')
    report = read_report(p)
    assert len(report.kernels) == n - 1
    assert any("end before they start" in w for w in report.warnings)


# --- the CLI's boundary -------------------------------------------------------------------------------------------
def test_internal_errors_are_one_line_with_their_own_exit_code(monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    import trtscope.cli.report as report_cli

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("a bug\nover two lines")

    monkeypatch.setattr(report_cli, "load", boom, raising=False)
    monkeypatch.setattr("trtscope.loader.load", boom)
    monkeypatch.delenv("TRTSCOPE_DEBUG", raising=False)
    rc = main(["report", "--example"])
    err = capsys.readouterr().err
    assert rc == INTERNAL_ERROR == 3
    assert err.count("\n") == 1 and "internal error" in err and "TRTSCOPE_DEBUG=1" in err and "Traceback" not in err
    monkeypatch.setenv("TRTSCOPE_DEBUG", "1")
    with pytest.raises(RuntimeError):
        main(["report", "--example"])
