"""``trtscope export`` of tables (CSV / Parquet / JSON): round trips, exact names, --force, atomicity.

Expected values come from the raw artifact files (read here with ``json``) or from files the tests write,
never from the exporter's own output.
"""

from __future__ import annotations

import csv
import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.csv as pacsv
import pytest

import trtscope
from tests.conftest import shared_fixture
from trtscope.cli.main import main
from trtscope.errors import OutputError, TrtscopeError
from trtscope.exporters import tables as tx
from trtscope.model.tables import KERNEL_COLUMNS

TREX = ("trex", "a100-resnet18-fp16")
MNIST_LAYERS = ("trt10-h100-mnist", "mnist.exportLayerInfo.json")
#: Names TensorRT can write: control bytes, brackets, " + ", quotes, separators, non-ASCII.
ODD_NAMES = [
    "Conv_0 + Relu_1",
    "{ForeignNode[/enc/Add...MatMul_9]}",
    "node\x1ewith\x1fcontrol bytes",
    'quote " comma , semicolon ; pipe |',
    "Conv_7 [weights] + PWN(Clip_16)",
    "line\nbreak\ttab",
    "ünïcode · µs",
]


# --- helpers ------------------------------------------------------------------------------------------------
def raw_trex() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    d = shared_fixture(*TREX)
    graph = json.loads((d / "resnet.onnx.engine.graph.json").read_text())["Layers"]
    profile = [e for e in json.loads((d / "resnet.onnx.engine.profile.json").read_text()) if "name" in e]
    timing = json.loads((d / "resnet.onnx.engine.timing.json").read_text())
    return graph, profile, timing


def read_csv(path: Path) -> pd.DataFrame:
    """Read back with Arrow (what a user would do for exact int64s and untouched strings)."""
    return pacsv.read_csv(path).to_pandas()


def write_odd_engine(tmp: Path) -> tuple[Path, Path, dict[str, float]]:
    """A layer JSON and profile JSON with awkward names; returns their paths and name -> mean ms."""
    layers = [{"Name": n, "LayerType": "CaskConvolution", "Metadata": f"[ONNX Layer: onnx_{i}]"}
              for i, n in enumerate(ODD_NAMES)]
    (tmp / "odd.layers.json").write_text(json.dumps({"Layers": layers, "Bindings": ["x", "y"]}))
    means = {n: round(0.01 * (i + 1), 6) for i, n in enumerate(ODD_NAMES)}
    prof = [{"count": 10}] + [{"name": n, "timeMs": m * 10, "averageMs": m, "medianMs": m, "percentage": 1.0}
                              for n, m in means.items()]
    (tmp / "odd.profile.json").write_text(json.dumps(prof))
    return tmp / "odd.layers.json", tmp / "odd.profile.json", means


def tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


# --- round trips against the raw artifacts ------------------------------------------------------------------
def test_csv_round_trip_matches_raw_trex_files(tmp_path: Path) -> None:
    graph, profile, timing = raw_trex()
    a = trtscope.load(shared_fixture(*TREX))
    res = tx.write_tables(a, tmp_path / "out", "csv")
    out = tmp_path / "out"
    # the tables that have rows, one file each, plus the summary; empty capture tables are left out
    # (this fp16 set has reformat layers and per-iteration times, no kernels)
    assert set(res.rows) == {"layers", "onnx_nodes", "mapping", "hotspots", "op_hotspots", "unfused_hotspots",
                             "coverage_by_op", "reformat_layers", "iterations"}
    assert {p.name for p in out.iterdir()} == {f"{n}.csv" for n in res.rows} | {"summary.json"}

    layers = read_csv(out / "layers.csv")
    assert layers["name"].tolist() == [g["Name"] for g in graph]
    mean = {p["name"]: p["averageMs"] for p in profile}
    median = {p["name"]: p["medianMs"] for p in profile}
    assert layers["mean_ms"].tolist() == [mean[g["Name"]] for g in graph]  # exact: Arrow writes shortest repr
    assert layers["median_ms"].tolist() == [median[g["Name"]] for g in graph]
    # list cells are JSON arrays; the fused ones are the " + " pieces of TensorRT 8 names
    nodes = [json.loads(x) for x in layers["onnx_nodes"]]
    for g, got in zip(graph, nodes, strict=True):
        pieces = g["Name"].split(" + ")
        if g["Name"].startswith("Reformatting CopyNode"):
            assert got == []
        elif all(re.fullmatch(r"[A-Za-z]+_\d+", p) for p in pieces):
            assert got == pieces
    assert nodes == [list(x) for x in a.layers["onnx_nodes"]]

    it = read_csv(out / "iterations.csv")
    assert len(it) == len(timing)
    assert it["compute_ms"].tolist() == [t["computeMs"] for t in timing]

    onnx = read_csv(out / "onnx_nodes.csv")
    assert [json.loads(x) for x in onnx["layer_indices"]] == [list(x) for x in a.onnx_nodes["layer_indices"]]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["schema"] == tx.SCHEMA and summary["summary"]["layer_count"] == len(graph)
    assert summary["table_index"]["layers"]["list_columns"] == ["onnx_nodes"]
    assert summary["csv"]["list_encoding"] == "json"


def test_parquet_keeps_lists_and_types(tmp_path: Path) -> None:
    graph, profile, _ = raw_trex()
    a = trtscope.load(shared_fixture(*TREX))
    tx.write_tables(a, tmp_path / "pq", "parquet", tables=["layers", "onnx_nodes", "iterations"])
    layers = pd.read_parquet(tmp_path / "pq" / "layers.parquet")
    assert layers["name"].tolist() == [g["Name"] for g in graph]
    assert [list(x) for x in layers["onnx_nodes"]] == [list(x) for x in a.layers["onnx_nodes"]]
    assert layers["mean_ms"].tolist() == [{p["name"]: p["averageMs"] for p in profile}[g["Name"]] for g in graph]
    assert layers["index"].dtype.kind == "i"
    nodes = pd.read_parquet(tmp_path / "pq" / "onnx_nodes.parquet")
    assert [list(x) for x in nodes["layer_indices"]] == [list(x) for x in a.onnx_nodes["layer_indices"]]
    assert sorted(p.name for p in (tmp_path / "pq").iterdir()) == [
        "iterations.parquet", "layers.parquet", "onnx_nodes.parquet", "summary.json"]


def test_json_document_holds_summary_and_every_table(tmp_path: Path) -> None:
    graph, profile, timing = raw_trex()
    a = trtscope.load(shared_fixture(*TREX))
    tx.write_tables(a, tmp_path / "a.json", "json")
    doc = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert doc["schema"] == tx.SCHEMA and doc["format"] == "json"
    assert doc["summary"]["layer_count"] == len(graph)
    assert doc["summary"]["profile_iterations"] == 1
    assert "kernels" not in doc["tables"]  # empty: not written unless named
    recs = doc["tables"]["layers"]
    assert [r["name"] for r in recs] == [g["Name"] for g in graph]
    means = {p["name"]: p["averageMs"] for p in profile}
    assert all(abs(r["mean_ms"] - means[r["name"]]) < 1e-12 for r in recs)
    assert [r["onnx_nodes"] for r in recs] == [list(x) for x in a.layers["onnx_nodes"]]
    assert len(doc["tables"]["iterations"]) == len(timing)
    assert doc["table_index"]["layers"]["rows"] == len(graph)


# --- exact names ----------------------------------------------------------------------------------------------
def test_control_bytes_in_metadata_survive_every_format(tmp_path: Path) -> None:
    raw = json.loads(shared_fixture(*MNIST_LAYERS).read_text())["Layers"]
    expected = [layer.get("Metadata") or None for layer in raw]
    assert any("\x1e" in (m or "") for m in expected) and any("\x1f" in (m or "") for m in expected)
    a = trtscope.load(layers=shared_fixture(*MNIST_LAYERS))
    for fmt in ("csv", "parquet", "json"):
        tx.write_tables(a, tmp_path / f"o.{fmt}", fmt, tables=["layers"])
    with open(tmp_path / "o.csv" / "layers.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))  # the standard library's reader: no trtscope code involved
    assert [r["metadata"] or None for r in rows] == expected
    assert [r["name"] for r in rows] == [layer["Name"] for layer in raw]
    pq = pd.read_parquet(tmp_path / "o.parquet" / "layers.parquet")
    assert [m if isinstance(m, str) and m else None for m in pq["metadata"]] == expected
    doc = json.loads((tmp_path / "o.json").read_bytes())
    assert [r["metadata"] or None for r in doc["tables"]["layers"]] == expected


def test_awkward_layer_names_are_exact_in_every_format(tmp_path: Path) -> None:
    lay, prof, means = write_odd_engine(tmp_path)
    a = trtscope.load(layers=lay, profile=prof)
    for fmt in ("csv", "parquet", "json"):
        tx.write_tables(a, tmp_path / f"o.{fmt}", fmt, tables=["layers", "hotspots"])
    got_csv = read_csv(tmp_path / "o.csv" / "layers.csv")
    assert got_csv["name"].tolist() == ODD_NAMES
    assert got_csv["mean_ms"].tolist() == [means[n] for n in ODD_NAMES]
    with open(tmp_path / "o.csv" / "hotspots.csv", newline="", encoding="utf-8") as fh:
        assert sorted(r["name"] for r in csv.DictReader(fh)) == sorted(ODD_NAMES)
    assert pd.read_parquet(tmp_path / "o.parquet" / "layers.parquet")["name"].tolist() == ODD_NAMES
    doc = json.loads((tmp_path / "o.json").read_bytes())
    assert [r["name"] for r in doc["tables"]["layers"]] == ODD_NAMES
    assert [r["onnx_nodes"] for r in doc["tables"]["layers"]] == [[f"onnx_{i}"] for i in range(len(ODD_NAMES))]


# --- which tables ---------------------------------------------------------------------------------------------
def test_named_empty_table_is_written_with_its_columns(tmp_path: Path) -> None:
    a = trtscope.load(shared_fixture(*TREX))
    res = tx.write_tables(a, tmp_path / "t", "csv", tables=["kernels", "layers"])
    assert res.rows["kernels"] == 0
    header = (tmp_path / "t" / "kernels.csv").read_text().splitlines()[0]
    assert [c.strip('"') for c in header.split(",")][: len(KERNEL_COLUMNS)] == list(KERNEL_COLUMNS)
    with pytest.raises(TrtscopeError, match="unknown table"):
        tx.write_tables(a, tmp_path / "u", "csv", tables=["nope"])


def test_list_columns_judged_by_first_present_cell() -> None:
    df = pd.DataFrame({"a": [None, ["x"], []], "b": [None, "s", None], "c": [1, 2, 3]})
    assert tx.list_columns(df) == ["a"]
    enc = tx.encode_list_columns(df, ["a"])
    assert enc["a"].tolist() == [None, '["x"]', "[]"]
    assert tx.encode_list_columns(pd.DataFrame({"a": [np.array([1, 2])]}), ["a"])["a"].tolist() == ["[1,2]"]


# --- overwrite rules ------------------------------------------------------------------------------------------
def test_cli_refuses_existing_output_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fx = str(shared_fixture(*TREX))
    out = tmp_path / "out"
    assert main(["export", fx, "--format", "csv", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "layers (36 rows)" in printed and "summary.json" in printed
    before = tree(out)
    assert main(["export", fx, "--format", "csv", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "already exists; pass --force" in err
    assert tree(out) == before
    # a file target too
    target = tmp_path / "a.json"
    target.write_text("keep me")
    assert main(["export", fx, "--format", "json", "-o", str(target)]) == 2
    assert target.read_text() == "keep me"
    capsys.readouterr()
    # --force replaces only a previous export: a file trtscope did not write is refused, untouched
    assert main(["export", fx, "--format", "json", "-o", str(target), "--force"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not a previous trtscope export" in err
    assert target.read_text() == "keep me"
    target.unlink()
    assert main(["export", fx, "--format", "json", "-o", str(target)]) == 0
    assert main(["export", fx, "--format", "json", "-o", str(target), "--force", "--table", "layers"]) == 0
    assert list(json.loads(target.read_text())["tables"]) == ["layers"]


def test_force_replaces_a_previous_export_whole(tmp_path: Path) -> None:
    a = trtscope.load(shared_fixture(*TREX))
    out = tmp_path / "out"
    tx.write_tables(a, out, "csv", tables=["layers", "iterations"])
    tx.write_tables(a, out, "csv", tables=["mapping"], force=True)
    assert {p.name for p in out.iterdir()} == {"mapping.csv", "summary.json"}  # no stale layers.csv
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging or old directory left behind
    with pytest.raises(OutputError, match="already exists"):
        tx.write_tables(a, out, "csv", tables=["layers"])


def test_force_never_replaces_a_foreign_directory(tmp_path: Path) -> None:
    a = trtscope.load(shared_fixture(*TREX))
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    with pytest.raises(OutputError, match="not a trtscope export"):
        tx.write_tables(a, mine, "parquet", force=True)
    assert tree(mine) == {"thesis.tex": b"precious"}
    with pytest.raises(OutputError, match="is a directory"):
        tx.write_tables(a, mine, "json", force=True)
    empty = tmp_path / "empty"
    empty.mkdir()
    tx.write_tables(a, empty, "csv", tables=["layers"])  # an empty directory holds nothing to overwrite
    assert (empty / "layers.csv").is_file()


# --- atomicity ------------------------------------------------------------------------------------------------
def _fail_on_second_table(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    real = getattr(tx, name)
    calls = {"n": 0}

    def flaky(df: pd.DataFrame, fh: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            fh.write(b"half a table")
            raise RuntimeError("disk on fire")
        real(df, fh)

    monkeypatch.setattr(tx, name, flaky)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_failed_directory_export_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    a = trtscope.load(shared_fixture(*TREX))
    _fail_on_second_table(monkeypatch, f"write_{fmt}")
    with pytest.raises(RuntimeError, match="disk on fire"):
        tx.write_tables(a, tmp_path / "new", fmt)
    assert list(tmp_path.iterdir()) == []


def test_failed_forced_export_keeps_the_previous_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = trtscope.load(shared_fixture(*TREX))
    out = tmp_path / "out"
    tx.write_tables(a, out, "csv", tables=["layers"])
    before = tree(out)
    _fail_on_second_table(monkeypatch, "write_csv")
    with pytest.raises(RuntimeError):
        tx.write_tables(a, out, "csv", force=True)
    assert tree(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_failed_json_export_leaves_target_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = trtscope.load(shared_fixture(*TREX))
    target = tmp_path / "a.json"
    tx.write_tables(a, target, "json", tables=["layers"])
    previous = target.read_bytes()
    real = tx.records_json
    calls = {"n": 0}

    def flaky(df: pd.DataFrame) -> str:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("serializer died")
        return real(df)

    monkeypatch.setattr(tx, "records_json", flaky)
    with pytest.raises(RuntimeError, match="serializer died"):
        tx.write_tables(a, target, "json", force=True)
    assert target.read_bytes() == previous
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_exported_files_get_ordinary_permissions(tmp_path: Path) -> None:
    a = trtscope.load(shared_fixture(*TREX))
    tx.write_tables(a, tmp_path / "o", "csv", tables=["layers"])
    tx.write_tables(a, tmp_path / "o.json", "json", tables=["layers"])
    for p in (tmp_path / "o" / "layers.csv", tmp_path / "o.json", tmp_path / "o"):
        assert p.stat().st_mode & 0o044 == 0o044, p  # group/other can read (temp files are made 0600)


# --- scale ----------------------------------------------------------------------------------------------------
def test_large_kernel_table_exports_in_seconds(tmp_path: Path) -> None:
    """200,000 kernels with list cells: a per-cell Python encoder here once took minutes."""
    n, nl = 200_000, 20_000
    a = trtscope.load(shared_fixture(*TREX))
    names = [f"layer {i}" for i in range(nl)]
    k = pd.DataFrame({
        "start_ns": np.arange(n, dtype=np.int64) * 1000 + 10**15, "end_ns": np.arange(n, dtype=np.int64) * 1000
        + 10**15 + 900, "name": "sm90_xmma_gemm", "stream_id": 7, "layer_name": [names[i % nl] for i in range(n)],
        "onnx_nodes": [[f"Conv_{i % nl}", f"Relu_{i % nl}"] for i in range(n)],
    })
    a.kernels = k
    t = time.perf_counter()
    for fmt in ("csv", "parquet", "json"):
        tx.write_tables(a, tmp_path / f"k.{fmt}", fmt, tables=["kernels"])
    assert time.perf_counter() - t < 60
    back = read_csv(tmp_path / "k.csv" / "kernels.csv")
    assert back["start_ns"].iloc[-1] == 10**15 + (n - 1) * 1000  # int64 kept exactly
    assert json.loads(back["onnx_nodes"].iloc[12345]) == ["Conv_12345", "Relu_12345"]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_directory_format_refuses_a_file_name(tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    """`-o tables.csv` for a format that writes a directory (one file per table) is a mistake: one line, exit 2,
    nothing created; an existing directory of that name is still the usual target."""
    fx = str(shared_fixture(*TREX))
    out = tmp_path / f"tables.{fmt}"
    assert main(["export", fx, "--format", fmt, "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "writes a directory" in err and str(out) in err
    assert not out.exists()
    out.mkdir()
    assert main(["export", fx, "--format", fmt, "-o", str(out), "--force"]) == 0
    assert (out / f"layers.{fmt}").is_file()
