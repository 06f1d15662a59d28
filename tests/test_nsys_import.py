"""Nsight Systems SQLite import: synthetic exports (truth known by construction) and four real exports.

The real exports are read in place from ../shared/fixtures/nsys; every expected value for them is computed
here from the raw tables with our own SQL and a deliberately naive Python scan, never taken from trtscope.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests import nsys_synth as synth
from tests.conftest import own_fixture, shared_fixture
from trtscope.analysis.kernel_ranges import attribution_counts, map_kernels
from trtscope.cli.main import main
from trtscope.cli.nsys import build_commands
from trtscope.errors import InputError
from trtscope.parsers.nsys_sqlite import looks_like_nsys_export, read_report

KERNEL_ABSENT = (
    "no CUDA kernel trace in this report (CUPTI_ACTIVITY_KIND_KERNEL is absent): "
    "capture with nsys profile --trace=cuda,nvtx"
)


def mapped(run: synth.SynthRun, layers: bool = True) -> tuple[Any, pd.DataFrame]:
    report = read_report(run.path)
    kernels = map_kernels(report.kernels, report.nvtx_ranges, graph_nodes=report.graph_nodes,
                          layer_names=run.layers if layers else None)
    return report, kernels


def na(x: Any) -> Any:
    return None if x is None or (not isinstance(x, str) and pd.isna(x)) else x


def compare(kernels: pd.DataFrame, run: synth.SynthRun) -> None:
    expected = run.by_start()
    rows = kernels[~kernels["graph_level"]]
    assert sorted(rows["start_ns"]) == sorted(expected), "kernel set differs from the construction"
    for row in rows.itertuples():
        e = expected[row.start_ns]
        got = (na(row.nvtx_range), na(row.layer_name), row.range_basis, na(row.tid))
        assert got == (e.range_text, e.layer, e.basis, e.tid), f"kernel {row.name} at {row.start_ns}"


# --- synthetic exports -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("schema", ["2024", "2022"])
@pytest.mark.parametrize("detailed", [False, True])
@pytest.mark.parametrize("offset", [1_000_000_000, -20_182_384_393])
def test_synthetic_run_maps_every_kernel(tmp_path: Path, schema: str, detailed: bool, offset: int) -> None:
    run = synth.build(tmp_path / "r.sqlite", schema=schema, detailed=detailed, offset_ns=offset)
    report, kernels = mapped(run)
    compare(kernels, run)
    assert report.warnings == []
    counts = attribution_counts(kernels)
    assert counts["kernels"] == len(run.kernels)
    assert counts["kernels_in_range"] == sum(k.range_text is not None for k in run.kernels)
    assert counts["kernels_on_layer"] == sum(k.layer is not None for k in run.kernels)
    assert counts["kernels_graph_unattributed"] == sum(k.basis == "graph_unresolved" for k in run.kernels)
    # the run holds what the test claims: graph replays, layer ranges, the "iteration 3" trap
    assert counts["kernels_from_graphs"] > 0 and "iteration 3" in set(report.nvtx_ranges["name"])


def test_synthetic_ranges_table(tmp_path: Path) -> None:
    run = synth.build(tmp_path / "r.sqlite")
    report, _ = mapped(run)
    r = report.nvtx_ranges
    assert len(r) == run.n_ranges  # marks, thread names and domain creations are not ranges
    assert set(r["domain"].dropna()) == {"TensorRT", "trtscope", "cuBLAS"}
    # registered (textId) strings resolved: every TensorRT range carries a layer name
    assert set(r.loc[r["domain"] == "TensorRT", "name"]) == set(synth.LAYERS)
    by_name = r.set_index("name")
    cublas = r[r["name"] == "cublasLtMatmul"].iloc[0]
    parent = r[r["range_id"] == cublas["parent_id"]].iloc[0]
    assert parent["name"] == synth.CUBLAS_LAYER and cublas["depth"] == parent["depth"] + 1
    assert int(by_name.loc["background worker", "depth"]) == 0
    assert (r.loc[r["domain"] == "trtscope", "depth"] == 0).all()


def test_duplicate_launch_rows_never_double_kernels(tmp_path: Path) -> None:
    run = synth.build(tmp_path / "r.sqlite", schema="2022", duplicate_launch_rows=True)
    with sqlite3.connect(run.path) as conn:
        naive = conn.execute(
            "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL k JOIN CUPTI_ACTIVITY_KIND_RUNTIME r "
            "ON r.correlationId = k.correlationId"
        ).fetchone()[0]
    report, kernels = mapped(run)
    assert naive > len(run.kernels)  # the trap is there
    assert len(kernels) == len(run.kernels)
    compare(kernels, run)
    assert len(report.api_calls) == run.n_runtime_rows  # the API table itself keeps every row


def test_graph_level_trace_is_reported_not_lost(tmp_path: Path) -> None:
    run = synth.build(tmp_path / "r.sqlite", graph_trace="graph")
    report, kernels = mapped(run)
    compare(kernels, run)
    g = kernels[kernels["graph_level"]]
    assert sorted(zip(g["start_ns"], g["end_ns"], strict=True)) == sorted((s, e) for s, e, _ in run.graph_launches)
    assert g["layer_name"].isna().all()
    assert sorted(g["nvtx_range"]) == sorted(label for _, _, label in run.graph_launches)
    gpu_ms = sum(e - s for s, e, _ in run.graph_launches) / 1e6
    assert any("graph level" in w and f"{gpu_ms:.3f} ms" in w for w in report.warnings)
    counts = attribution_counts(kernels)
    assert counts["graph_level_launches"] == len(run.graph_launches)
    assert counts["kernels"] == len(run.kernels)


def test_graph_trace_and_node_kernels_of_one_launch_are_not_counted_twice(tmp_path: Path) -> None:
    run = synth.build(tmp_path / "r.sqlite", graph_trace="both")
    report, kernels = mapped(run)
    assert not kernels["graph_level"].any()
    compare(kernels, run)
    assert not any("graph level" in w for w in report.warnings)


def test_missing_nvtx_is_a_warning(tmp_path: Path) -> None:
    run = synth.build(tmp_path / "r.sqlite", omit=("NVTX_EVENTS",))
    report, kernels = mapped(run)
    assert len(kernels) == len(run.kernels) and kernels["nvtx_range_id"].isna().all()
    assert any("NVTX_EVENTS is absent" in w for w in report.warnings)


def test_missing_runtime_table_is_a_warning(tmp_path: Path) -> None:
    run = synth.build(tmp_path / "r.sqlite", omit=("CUPTI_ACTIVITY_KIND_RUNTIME",))
    report, kernels = mapped(run)
    assert len(kernels) == len(run.kernels)
    assert kernels["api_start_ns"].isna().all()
    expected = run.by_start()
    for row in kernels.itertuples():
        e = expected[row.start_ns]
        if e.basis == "graph_capture":  # node creation events carry their own thread and time
            assert (na(row.nvtx_range), row.range_basis) == (e.range_text, "graph_capture")
        else:
            assert pd.isna(row.nvtx_range_id) and row.range_basis in ("no_launch_record", "graph_unresolved")
    assert any("CUPTI_ACTIVITY_KIND_RUNTIME is absent" in w for w in report.warnings)


def test_metadata(tmp_path: Path) -> None:
    run = synth.build(tmp_path / "r.sqlite")
    report, _ = mapped(run)
    m = report.metadata
    assert m["nsys_version"] == "2024.6.2.225" and m["nsys_schema_version"] == "3.16.1"
    assert m["gpu"] == synth.GPU_NAME  # the device the kernels ran on, not the first row of TARGET_INFO_GPU
    assert m["command"] == shlex.join(synth.COMMAND)
    assert m["cuda_graph_trace"] == "node"
    assert synth.SECRET_ENV.split("=")[1] not in json.dumps(m)  # the target's environment is never copied
    assert report.to_artifacts().kernels is report.kernels
    old = synth.build(tmp_path / "old.sqlite", schema="2022")
    assert read_report(old.path).metadata["nsys_version"] == "2022.2.1.31"


def test_equal_starts_keep_the_table_order_and_nulls_stay_null(tmp_path: Path) -> None:
    # rows are read in table order and sorted by start: kernels and API calls that start together must keep
    # the order SQLite's ORDER BY gives them; NULL integers (read as ifnull + a bit) must stay missing
    run = synth.build(tmp_path / "r.sqlite")
    k, r = "CUPTI_ACTIVITY_KIND_KERNEL", "CUPTI_ACTIVITY_KIND_RUNTIME"
    with sqlite3.connect(run.path) as conn:
        conn.execute(f"UPDATE {k} SET start = (SELECT min(start) FROM {k}) WHERE rowid % 4 = 0")
        conn.execute(f"UPDATE {k} SET correlationId = NULL WHERE rowid % 3 = 0")
        conn.execute(f"UPDATE {k} SET gridY = -9223372036854775808, blockZ = 9223372036854775807 WHERE rowid = 5")
        conn.execute(f"UPDATE {r} SET start = (SELECT min(start) FROM {r}) WHERE rowid % 4 = 0")
        conn.execute(f"UPDATE {r} SET globalTid = NULL WHERE rowid % 5 = 0")
    kernel_rows = sql(run.path, f"SELECT start, end, correlationId, gridY, blockZ FROM {k} ORDER BY start")
    api_rows = sql(run.path, f"SELECT start, end, correlationId, globalTid FROM {r} ORDER BY start")
    assert len({s for s, *_ in kernel_rows}) < len(kernel_rows) and any(c is None for _, _, c, _, _ in kernel_rows)
    report = read_report(run.path)
    got = report.kernels[["start_ns", "end_ns", "correlation_id", "grid_y", "block_z"]]
    assert [tuple(na(v) for v in row) for row in got.itertuples(index=False)] == kernel_rows
    api = report.api_calls
    assert [(int(s), int(e), na(c)) for s, e, c in zip(api["start_ns"], api["end_ns"], api["correlation_id"],
                                                       strict=True)] == [row[:3] for row in api_rows]
    assert [na(p) is None for p in api["pid"]] == [g is None for *_, g in api_rows]


# --- errors ----------------------------------------------------------------------------------------------------
def assert_input_error(path: Path, *fragments: str) -> None:
    with pytest.raises(InputError) as err:
        read_report(path)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(str(path))
    for f in fragments:
        assert f in msg


def test_missing_kernel_table(tmp_path: Path) -> None:
    run = synth.build(tmp_path / "r.sqlite", omit=("CUPTI_ACTIVITY_KIND_KERNEL",))
    assert_input_error(run.path, KERNEL_ABSENT)


def test_empty_kernel_table(tmp_path: Path) -> None:
    run = synth.build(tmp_path / "r.sqlite")
    with sqlite3.connect(run.path) as conn:
        conn.execute("DELETE FROM CUPTI_ACTIVITY_KIND_KERNEL")
    assert_input_error(run.path, "CUPTI_ACTIVITY_KIND_KERNEL is empty", "--trace=cuda,nvtx")


def test_not_an_export(tmp_path: Path) -> None:
    assert_input_error(tmp_path / "absent.sqlite", "no such file")
    assert_input_error(tmp_path, "is a directory")
    (tmp_path / "notes.txt").write_text("hello")
    assert_input_error(tmp_path / "notes.txt", "not a SQLite file")
    (tmp_path / "run.nsys-rep").write_bytes(b"NVIDIA Tegra Profiler report")
    assert_input_error(tmp_path / "run.nsys-rep", "nsys export --type sqlite -o run.sqlite run.nsys-rep")
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    assert_input_error(other, "not an Nsight Systems export")
    assert not looks_like_nsys_export(other) and not looks_like_nsys_export(tmp_path / "notes.txt")
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    assert_input_error(broken, "SQLite file")


def test_opened_read_only(tmp_path: Path) -> None:
    d = tmp_path / "ro"
    d.mkdir()
    run = synth.build(d / "r.sqlite")
    digest = hashlib.sha256(run.path.read_bytes()).hexdigest()
    run.path.chmod(0o444)
    d.chmod(0o555)
    try:
        assert looks_like_nsys_export(run.path)
        _, kernels = mapped(run)
        assert len(kernels) == len(run.kernels)
        assert sorted(p.name for p in d.iterdir()) == ["r.sqlite"]  # no journal or -wal files left behind
        assert hashlib.sha256(run.path.read_bytes()).hexdigest() == digest
    finally:
        d.chmod(0o755)


# --- CLI -------------------------------------------------------------------------------------------------------
def test_cli_import_writes_a_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = synth.build(tmp_path / "r.sqlite")
    layers = tmp_path / "model.layers.json"
    layers.write_text(json.dumps({"Layers": run.layers, "Bindings": ["input", "output"]}))
    onnx = own_fixture("rtx-h200-convblock-fused", "model.onnx")
    out = tmp_path / "run.trtscope"
    rc = main(["nsys", "import", str(run.path), "--layers", str(layers), "--onnx", str(onnx), "-o", str(out),
               "--json"])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "nsys-import" and manifest["status"] == "complete"
    counts = manifest["run"]["counts"]
    assert counts["kernels"] == len(run.kernels)
    assert counts["kernels_in_range"] == sum(k.range_text is not None for k in run.kernels)
    assert counts["kernels_on_layer"] == sum(k.layer is not None for k in run.kernels)
    assert doc["counts"] == counts
    assert manifest["run"]["nsys_version"] == "2024.6.2.225" and manifest["run"]["gpu"] == synth.GPU_NAME
    assert manifest["run"]["source_file"] == str(run.path.resolve())
    assert (out / manifest["artifacts"]["layers"]).read_bytes() == layers.read_bytes()
    assert (out / "raw" / "model.onnx").read_bytes() == onnx.read_bytes()
    kernels = pd.read_parquet(out / "tables" / "kernels.parquet")
    assert len(kernels) == len(run.kernels)
    compare(kernels.assign(graph_level=kernels["graph_level"].astype(bool)), run)
    ranges = pd.read_parquet(out / "tables" / "nvtx_ranges.parquet")
    assert len(ranges) == run.n_ranges
    assert len(pd.read_parquet(out / "tables" / "api_calls.parquet")) == run.n_runtime_rows
    top = {row["name"]: row["kernels"] for row in doc["top_layers"]}
    assert top == dict(Counter(k.layer for k in run.kernels if k.layer is not None))


def test_onnx_copied_into_the_bundle_is_read_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``nsys import --onnx`` copies the model into the bundle; ``report BUNDLE`` then maps exactly onto it (the
    copy used to be ignored: an estimate from layer names). An explicit --onnx still wins over the copy.
    Node counts from the fixture's SOURCE.md (Conv 3, ReduceMean 1, Relu 3)."""
    run = synth.build(tmp_path / "r.sqlite")
    block = own_fixture("rtx-h200-convblock-fused")
    out = tmp_path / "run.trtscope"
    assert main(["nsys", "import", str(run.path), "--layers", str(block / "build-verbose.log"),
                 "--onnx", str(block / "model.onnx"), "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["report", str(out), "--json"]) == 0
    cov = json.loads(capsys.readouterr().out)["coverage"]
    assert cov["exact"] is True and cov["onnx_node_count"] == 7
    assert {r["op_type"]: r["nodes"] for r in cov["by_op_type"]} == {"Conv": 3, "ReduceMean": 1, "Relu": 3}
    other = own_fixture("rtx-h200-convblock-split", "model.onnx")  # the same 7 nodes, another file
    assert main(["report", str(out), "--onnx", str(other), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["coverage"]["exact"] is True and doc["coverage"]["onnx_node_count"] == 7
    assert [s["path"] for s in doc["sources"] if s["kind"] == "onnx"] == [str(other)]


@pytest.mark.parametrize(("option", "content", "problem"), [
    ("--onnx", b"\x08\x07fake onnx bytes", "not a valid ONNX model"),
    ("--onnx", b"", "empty file"),
    ("--layers", b'{"Layers": []}', "lists no engine layers"),
])
def test_import_refuses_what_the_bundle_could_not_be_read_with(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             option: str, content: bytes, problem: str) -> None:
    """--onnx / --layers are checked before the bundle is written: a copy no reader accepts made a bundle that
    `report` then refused (or, for an empty layer listing, one whose layers said nothing)."""
    run = synth.build(tmp_path / "r.sqlite")
    bad = tmp_path / "given"
    bad.write_bytes(content)
    out = tmp_path / "run.trtscope"
    assert main(["nsys", "import", str(run.path), option, str(bad), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"trtscope: error: {bad}: ") and problem in err and "\n" not in err
    assert not out.exists()


def test_cli_import_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = synth.build(tmp_path / "r.sqlite")
    out = tmp_path / "b"
    assert main(["nsys", "import", str(run.path), "-o", str(out)]) == 0
    assert "kernels" in capsys.readouterr().out
    assert main(["nsys", "import", str(run.path), "-o", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["nsys", "import", str(run.path), "-o", str(out), "--force", "--json"]) == 0


def test_cli_import_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = synth.build(tmp_path / "r.sqlite", omit=("CUPTI_ACTIVITY_KIND_KERNEL",))
    out = tmp_path / "b"
    assert main(["nsys", "import", str(run.path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and KERNEL_ABSENT in err
    assert not out.exists()  # nothing is written when the report cannot be read
    bad_layers = tmp_path / "layers.json"
    bad_layers.write_text('{"not": "layers"}')
    good = synth.build(tmp_path / "g.sqlite")
    assert main(["nsys", "import", str(good.path), "--layers", str(bad_layers), "-o", str(out)]) == 2
    assert "layer information" in capsys.readouterr().err and not out.exists()


def test_cli_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["nsys", "--help"], ["nsys", "import", "--help"], ["nsys", "command", "--help"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 0
        assert "examples:" in capsys.readouterr().out
    assert main(["nsys"]) == 2


def test_command_for_trtexec(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nsys", "command", "--trtexec", "--onnx=model.onnx --fp16", "-o", "resnet", "--json"]) == 0
    steps = json.loads(capsys.readouterr().out)
    assert [s["step"] for s in steps] == ["capture", "export", "import"]
    capture, export, imp = (s["argv"] for s in steps)
    assert capture[:2] == ["nsys", "profile"]
    assert "--trace=cuda,nvtx" in capture and "--cuda-graph-trace=node" in capture
    app = capture[capture.index("trtexec"):]
    assert app[1:3] == ["--onnx=model.onnx", "--fp16"]
    assert "--profilingVerbosity=detailed" in app and "--exportLayerInfo=resnet.layers.json" in app
    assert capture[capture.index("-o") + 1] == "resnet"
    assert export == ["nsys", "export", "--type", "sqlite", "--force-overwrite=true", "-o", "resnet.sqlite",
                      "resnet.nsys-rep"]
    assert imp == ["trtscope", "nsys", "import", "resnet.sqlite", "--layers", "resnet.layers.json",
                   "--onnx", "model.onnx", "-o", "resnet.trtscope"]
    assert all(s["command"] == shlex.join(s["argv"]) for s in steps)
    assert main(["nsys", "command", "--trtexec=--onnx=m.onnx", "--osrt"]) == 0
    text = capsys.readouterr().out
    assert "--trace=cuda,nvtx,osrt" in text and "nsys export --type sqlite" in text


def test_command_keeps_user_flags() -> None:
    steps = build_commands(trtexec="--loadEngine=e.plan --profilingVerbosity=layer_names_only "
                           "--exportLayerInfo=my.json", name="x")
    app = steps[0]["argv"]
    assert app.count("--profilingVerbosity=layer_names_only") == 1 and not any(
        a == "--profilingVerbosity=detailed" for a in app
    )
    assert steps[2]["argv"][steps[2]["argv"].index("--layers") + 1] == "my.json"
    assert len(steps[0]["warnings"]) == 2
    prof = build_commands(trtscope_profile="model.onnx --fp16 -o x.trtscope", name="x")
    assert prof[0]["argv"][prof[0]["argv"].index("trtscope"):] == ["trtscope", "profile", "model.onnx", "--fp16",
                                                                    "-o", "x.trtscope"]
    imp = prof[2]["argv"]
    assert imp[imp.index("--layers") + 1] == str(Path("x.trtscope") / "raw" / "layers.json")
    assert imp[-1] == "x.nsys.trtscope"  # never the profile's own bundle


# --- real exports (read in place) --------------------------------------------------------------------------------
def raw_oracle(path: Path) -> tuple[Counter[tuple[int, int, str | None]], int]:
    """Innermost NVTX range per kernel, by a naive scan of the raw rows (our own SQL, no trtscope code).

    Launch = the runtime/driver call with the kernel's correlation id in the kernel's process; a range counts
    when it is a push/pop or start/end range on the launch's globalTid containing the call. Where a launch is
    listed twice (nsys 2022), both calls must agree. Returns Counter[(start, correlationId, range text)] and
    the number of kernels.
    """
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        kernels = conn.execute("SELECT start, correlationId, globalPid FROM CUPTI_ACTIVITY_KIND_KERNEL").fetchall()
        calls: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
        for s, e, g, c in conn.execute("SELECT start, end, globalTid, correlationId FROM CUPTI_ACTIVITY_KIND_RUNTIME"):
            calls.setdefault((c, (g >> 24) & 0xFFFFFF), []).append((s, e, g))
        ranges: dict[int, list[tuple[int, int, str]]] = {}
        if "NVTX_EVENTS" in tables:
            for s, e, g, text in conn.execute(
                "SELECT n.start, n.end, n.globalTid, "
                "COALESCE(n.text, (SELECT value FROM StringIds WHERE id = n.textId)) "
                "FROM NVTX_EVENTS n WHERE n.eventType IN (59, 60) AND n.end IS NOT NULL"
            ):
                ranges.setdefault(g, []).append((s, e, text))
    finally:
        conn.close()
    out: Counter[tuple[int, int, str | None]] = Counter()
    for start, corr, gpid in kernels:
        answers = set()
        for s, e, g in calls.get((corr, (gpid >> 24) & 0xFFFFFF), []):
            inside = [(rs, -re, t) for rs, re, t in ranges.get(g, []) if rs <= s and re >= e]
            answers.add(max(inside)[2] if inside else None)
        assert len(answers) <= 1, "duplicate launch records disagree"
        out[(start, corr, answers.pop() if answers else None)] += 1
    return out, len(kernels)


def imported(path: Path) -> tuple[Any, pd.DataFrame]:
    report = read_report(path)
    return report, map_kernels(report.kernels, report.nvtx_ranges, graph_nodes=report.graph_nodes)


def got_counter(kernels: pd.DataFrame) -> Counter[tuple[int, int, str | None]]:
    k = kernels[~kernels["graph_level"]]
    texts = [na(x) for x in k["nvtx_range"]]
    return Counter(zip(k["start_ns"].tolist(), k["correlation_id"].tolist(), texts, strict=True))


def sql(path: Path, query: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(query).fetchall()
    finally:
        conn.close()


REAL = {
    "pipit": ("pipit-saxpy-mpi-a100-nsys2022.2.1", "saxpy-mpi-cuda_nsys_perlmutter0.sqlite", "EXPORT_META_DATA"),
    "fuser": ("fuser-h100x8-matmul-nsys2024.6.2", "report1.sqlite", "META_DATA_EXPORT"),
    "rtx": ("cs336-rtx3070ti-nsys2025.1.3", "result.sqlite", "META_DATA_EXPORT"),
    "graph": (
        "cs336-a100-2p7b-torchcompile-cudagraph-nsys2024.6.2", "result_2_7B_compile_ro.sqlite", "META_DATA_EXPORT"
    ),
}


@pytest.mark.shared
@pytest.mark.parametrize("key", sorted(REAL))
def test_real_export_kernels_and_innermost_ranges(key: str) -> None:
    folder, name, meta_table = REAL[key]
    path = shared_fixture("nsys", folder, name)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    report, kernels = imported(path)
    expected, n_kernels = raw_oracle(path)
    assert int((~kernels["graph_level"]).sum()) == n_kernels  # never doubled, never dropped
    assert got_counter(kernels) == expected
    version = sql(path, f"SELECT value FROM {meta_table} WHERE name = 'EXPORT_PRODUCT_VERSION'")[0][0]
    schema = sql(path, f"SELECT value FROM {meta_table} WHERE name = 'EXPORT_SCHEMA_VERSION'")[0][0]
    assert (report.metadata["nsys_version"], report.metadata["nsys_schema_version"]) == (version, schema)
    gpus = [r[0] for r in sql(path, "SELECT name FROM TARGET_INFO_GPU ORDER BY id")]
    assert report.metadata["gpus"] == gpus
    dev = sql(path, "SELECT deviceId, count(*) c FROM CUPTI_ACTIVITY_KIND_KERNEL GROUP BY 1 ORDER BY c DESC")[0][0]
    assert report.metadata["gpu"] == sql(path, f"SELECT name FROM TARGET_INFO_GPU WHERE id = {dev}")[0][0]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


@pytest.mark.shared
def test_real_pipit_duplicate_launch_records_and_registered_strings() -> None:
    path = shared_fixture("nsys", *REAL["pipit"][:2])
    naive = sql(path, "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL k JOIN CUPTI_ACTIVITY_KIND_RUNTIME r "
                      "ON r.correlationId = k.correlationId")[0][0]
    kernels_in_db = sql(path, "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL")[0][0]
    report, kernels = imported(path)
    assert naive == 2 * kernels_in_db  # the trap is real in this file
    assert len(kernels) == kernels_in_db
    # NVTX text partly only via textId -> StringIds: no range is left nameless
    registered = sql(path, "SELECT count(*) FROM NVTX_EVENTS WHERE text IS NULL AND textId IS NOT NULL "
                           "AND eventType IN (59, 60)")[0][0]
    assert registered > 0 and report.nvtx_ranges["name"].notna().all()
    # domain names come from the eventType 75 (NvtxDomainCreate) rows
    domains = dict(sql(path, "SELECT domainId, text FROM NVTX_EVENTS WHERE eventType = 75"))
    r = report.nvtx_ranges
    for did, dname in domains.items():
        assert set(r.loc[r["domain_id"] == did, "domain"]) == {dname}
    assert len(report.api_calls) == sql(path, "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_RUNTIME")[0][0]


@pytest.mark.shared
def test_real_fuser_metadata_and_command() -> None:
    path = shared_fixture("nsys", *REAL["fuser"][:2])
    report, kernels = imported(path)
    rows = dict(sql(path, "SELECT name, value FROM META_DATA_CAPTURE WHERE name IN "
                          "('PROCESS_0:COMMAND', 'PROCESS_0:ARGUMENT_0')"))
    assert report.metadata["command"] == shlex.join([rows["PROCESS_0:COMMAND"], rows["PROCESS_0:ARGUMENT_0"]])
    assert len(report.metadata["gpus"]) == sql(path, "SELECT count(*) FROM TARGET_INFO_GPU")[0][0]
    depth_ok = report.nvtx_ranges["depth"].max() >= 2
    assert depth_ok and (kernels["nvtx_range"].notna().sum() < len(kernels))


@pytest.mark.shared
def test_real_rtx_domains_and_nesting() -> None:
    path = shared_fixture("nsys", *REAL["rtx"][:2])
    report, _ = imported(path)
    r = report.nvtx_ranges
    domain_name = sql(path, "SELECT text FROM NVTX_EVENTS WHERE eventType = 75")[0][0]
    did = sql(path, "SELECT domainId FROM NVTX_EVENTS WHERE eventType = 75")[0][0]
    assert set(r.loc[r["domain_id"] == did, "domain"]) == {domain_name}
    # "Forward" ranges nest in "Warm-up Step N" or "Benchmark Forward Only": parents by containment (SQL)
    fw = r[r["name"] == "Forward"]
    for row in fw.itertuples():
        parent = sql(
            path,
            f"SELECT text FROM NVTX_EVENTS WHERE eventType = 59 AND globalTid = (SELECT globalTid FROM NVTX_EVENTS "
            f"WHERE rowid = {row.range_id}) AND start <= {row.start_ns} AND end >= {row.end_ns} "
            f"AND rowid != {row.range_id} ORDER BY start DESC LIMIT 1",
        )[0][0]
        assert r.loc[r["range_id"] == row.parent_id, "name"].iloc[0] == parent


@pytest.mark.shared
def test_real_graph_level_capture_is_reported() -> None:
    path = shared_fixture("nsys", *REAL["graph"][:2])
    report, kernels = imported(path)
    n, total = sql(path, "SELECT count(*), sum(end - start) FROM CUPTI_ACTIVITY_KIND_GRAPH_TRACE")[0]
    g = kernels[kernels["graph_level"]]
    assert len(g) == n and int((g["end_ns"] - g["start_ns"]).sum()) == total
    counts = attribution_counts(kernels)
    assert counts["graph_level_gpu_ns"] == total and counts["graph_level_launches"] == n
    assert counts["kernel_gpu_ns"] == sql(path, "SELECT sum(end - start) FROM CUPTI_ACTIVITY_KIND_KERNEL")[0][0]
    assert any("graph level" in w and f"{total / 1e6:.3f} ms" in w for w in report.warnings)
    assert any("NVTX_EVENTS is absent" in w for w in report.warnings)
    launches = {r[0] for r in sql(path, "SELECT s.value FROM CUPTI_ACTIVITY_KIND_RUNTIME r JOIN StringIds s ON "
                                        "s.id = r.nameId WHERE r.correlationId IN (SELECT correlationId FROM "
                                        "CUPTI_ACTIVITY_KIND_GRAPH_TRACE)")}
    assert set(g["launch_api"]) == launches
    # this capture's graph events predate the capture start: negative timestamps in the file
    assert sql(path, "SELECT min(start) FROM CUDA_GRAPH_EVENTS")[0][0] < 0
    # the target's environment (it holds an API key) never reaches trtscope's metadata
    secrets = [v for (v,) in sql(path, "SELECT value FROM META_DATA_CAPTURE WHERE name LIKE '%ENVIRONMENT%'")]
    dumped = json.dumps(report.metadata)
    assert secrets and not any(len(v) > 20 and v in dumped for v in secrets)


@pytest.mark.shared
def test_real_export_imports_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = shared_fixture("nsys", *REAL["rtx"][:2])
    out = tmp_path / "rtx.trtscope"
    assert main(["nsys", "import", str(path), "-o", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    expected, n = raw_oracle(path)
    assert doc["counts"]["kernels"] == n
    assert doc["counts"]["kernels_in_range"] == sum(c for (_, _, t), c in expected.items() if t is not None)
    assert pd.read_parquet(out / "tables" / "kernels.parquet").shape[0] == n
    assert not list(path.parent.glob("*-journal")) and not list(path.parent.glob("*-wal"))
