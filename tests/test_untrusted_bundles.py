"""Malicious and corrupt bundles: each refused through ``trtscope report`` with exit 2 and one line, and no file
outside the bundle opened.

Every case runs in ONE subprocess (imports paid once) that records, with a Python audit hook, every ``open``
made while ``trtscope report BUNDLE`` runs. pyarrow opens files in C++, out of the audit hook's sight, so the
sentinel files outside the bundle are also checked by access time where the file system records reads.
Expected messages are the problem categories the bundle rules define (docs/bundle-format.md).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO, own_fixture

SECRET = "Selected Device: SECRET-GPU-FROM-OUTSIDE\n"

HARNESS = r"""
import io, json, os, sys
from pathlib import Path
cases = json.loads(sys.stdin.read())
opened = []
def hook(event, args):
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        opened.append(os.fsdecode(args[0]))
from trtscope.cli.main import main
sys.addaudithook(hook)
results = {}
for name, bundle in cases:
    opened.clear()
    err, out = io.StringIO(), io.StringIO()
    sys.stderr, sys.stdout = err, out
    try:
        rc = main(["report", bundle])
    finally:
        sys.stderr, sys.stdout = sys.__stderr__, sys.__stdout__
    results[name] = {"rc": rc, "err": err.getvalue(), "out": out.getvalue(), "opened": list(opened)}
print(json.dumps(results))
"""


# --- building bundles -----------------------------------------------------------------------------------------
def base_bundle(path: Path) -> Path:
    """A valid bundle: the project's capture tables plus a raw build log with layer information."""
    shutil.copytree(own_fixture("h100-torch-capture.trtscope"), path)
    (path / "raw").mkdir()
    shutil.copy(own_fixture("rtx-h100-resnet18", "build-verbose.log"), path / "raw" / "build.log")
    edit_manifest(path, lambda m: m.update(artifacts={"build_log": "raw/build.log"}))
    return path


def edit_manifest(bundle: Path, change: Callable[[dict[str, Any]], object]) -> None:
    m = json.loads((bundle / "manifest.json").read_text())
    change(m)
    (bundle / "manifest.json").write_text(json.dumps(m))


def set_table(bundle: Path, key: str, rel: object) -> None:
    edit_manifest(bundle, lambda m: m["tables"].__setitem__(key, {"path": rel, "rows": 1}))


def set_artifact(bundle: Path, key: str, rel: object) -> None:
    edit_manifest(bundle, lambda m: m["artifacts"].__setitem__(key, rel))


def rewrite_kernels(bundle: Path, change: Callable[[pa.Table], pa.Table]) -> None:
    p = bundle / "tables" / "kernels.parquet"
    pq.write_table(change(pq.read_table(p)), p)


def _replace_column(t: pa.Table, name: str, arr: pa.Array) -> pa.Table:
    return t.set_column(t.schema.get_field_index(name), name, arr)


def build_cases(tmp: Path, outside: Path) -> dict[str, tuple[Path, str]]:
    """name -> (bundle, fragment the one-line error must hold)."""
    secret_log = outside / "secret.log"
    secret_table = outside / "secret.parquet"
    cases: dict[str, tuple[Path, str]] = {}

    def case(name: str, fragment: str) -> Path:
        b = base_bundle(tmp / name)
        cases[name] = (b, fragment)
        return b

    # paths leading out
    set_artifact(case("artifact_dotdot", "leads out of the bundle"), "layers", "../../outside/secret.log")
    set_artifact(case("artifact_dotdot_deep", "leads out of the bundle"), "layers", "raw/../../../outside/secret.log")
    set_artifact(case("artifact_absolute", "absolute path"), "layers", str(secret_log))
    set_artifact(case("artifact_proc", "absolute path"), "build_log", "/proc/self/environ")
    b = case("artifact_symlink_out", "leads out of the bundle")
    (b / "raw" / "evil.log").symlink_to(secret_log)
    set_artifact(b, "layers", "raw/evil.log")
    b = case("raw_dir_symlink_out", "leads out of the bundle")
    shutil.rmtree(b / "raw")
    (b / "raw").symlink_to(outside, target_is_directory=True)
    set_artifact(b, "layers", "raw/secret.log")
    b = case("manifest_symlink_out", "leads out of the bundle")
    (outside / "manifest.json").write_text((b / "manifest.json").read_text())
    (b / "manifest.json").unlink()
    (b / "manifest.json").symlink_to(outside / "manifest.json")
    set_table(case("table_root", "absolute path"), "kernels", "/")
    set_table(case("table_dir", "is a directory"), "kernels", "tables")
    set_table(case("table_dot", "is a directory"), "nvml", "tables/.")
    set_table(case("table_bundle_itself", "names the bundle directory itself"), "nvml", ".")
    set_table(case("table_empty", "expected a relative path"), "nvml", "")
    set_table(case("table_backslash", "backslash"), "nvml", "..\\outside\\secret.parquet")
    b = case("table_symlink_out", "leads out of the bundle")
    (b / "tables" / "kernels.parquet").unlink()
    (b / "tables" / "kernels.parquet").symlink_to(secret_table)
    b = case("tables_dir_symlink_out", "leads out of the bundle")
    shutil.rmtree(b / "tables")
    (b / "tables").symlink_to(outside, target_is_directory=True)
    set_table(b, "kernels", "tables/secret.parquet")
    # special files
    b = case("artifact_fifo", "is a FIFO")
    os.mkfifo(b / "raw" / "pipe.log")
    set_artifact(b, "layers", "raw/pipe.log")
    b = case("table_fifo", "is a FIFO")
    (b / "tables" / "nvml.parquet").unlink()
    os.mkfifo(b / "tables" / "nvml.parquet")
    b = case("manifest_fifo", "is a FIFO")
    (b / "manifest.json").unlink()
    os.mkfifo(b / "manifest.json")
    # manifest content
    b = case("manifest_not_utf8", "not UTF-8")
    (b / "manifest.json").write_bytes((b / "manifest.json").read_bytes().replace(b'"complete"', b'"compl\xe9te"'))
    b = case("manifest_huge", "more than the")
    with open(b / "manifest.json", "r+b") as fh:
        fh.truncate(64 * 1024**2)  # sparse: costs no disk
    edit_manifest(case("schema_newer", "made by a newer trtscope (schema 7); this version reads up to 1"),
                  lambda m: m.update(schema_version=7))
    edit_manifest(case("schema_text", "invalid schema_version"), lambda m: m.update(schema_version="1"))
    edit_manifest(case("schema_bool", "invalid schema_version"), lambda m: m.update(schema_version=True))
    edit_manifest(case("status_number", "invalid status"), lambda m: m.update(status=5))
    edit_manifest(case("table_no_path", 'tables.nvml: no "path"'),
                  lambda m: m["tables"].__setitem__("nvml", {"rows": 3}))
    edit_manifest(case("table_entry_text", "tables.nvml: expected an object"),
                  lambda m: m["tables"].__setitem__("nvml", "tables/nvml.parquet"))
    edit_manifest(case("table_path_number", "tables.nvml.path: expected a relative path"),
                  lambda m: m["tables"].__setitem__("nvml", {"path": 5}))
    edit_manifest(case("tables_list", "field tables: expected an object"), lambda m: m.update(tables=[1]))
    edit_manifest(case("artifacts_list", "field artifacts: expected an object"),
                  lambda m: m.update(artifacts=["raw/build.log"]))
    edit_manifest(case("artifact_number", "artifacts.layers: expected a relative path"),
                  lambda m: m["artifacts"].__setitem__("layers", 3))
    edit_manifest(case("notes_text", "field notes: expected a list"), lambda m: m.update(notes="hi"))
    edit_manifest(case("gpu_object", "environment.gpu: expected text or a number"),
                  lambda m: m["environment"].__setitem__("gpu", {"name": "x"}))
    edit_manifest(case("rows_text", "tables.kernels.rows: expected a row count"),
                  lambda m: m["tables"]["kernels"].__setitem__("rows", "many"))
    # table schemas
    rewrite_kernels(case("kernels_start_text", "column start_ns holds text values"),
                    lambda t: _replace_column(t, "start_ns", pa.array([str(v) for v in t["start_ns"].to_pylist()])))
    rewrite_kernels(case("kernels_name_number", "column name holds a number values"),
                    lambda t: _replace_column(t, "name", pa.array(range(len(t)))))
    rewrite_kernels(case("kernels_no_start", "no column start_ns"), lambda t: t.drop_columns(["start_ns"]))
    rewrite_kernels(case("kernels_list_column", "column grid_x holds list<element: int64> values"),
                    lambda t: _replace_column(t, "grid_x", pa.array([[1]] * len(t))))
    rewrite_kernels(case("kernels_twice", "column end_ns appears 2 times"),
                    lambda t: t.append_column("end_ns", t["end_ns"]))
    rewrite_kernels(case("kernels_extra_struct", "column extra holds struct<a: int64> values"),
                    lambda t: t.append_column("extra", pa.array([{"a": 1}] * len(t))))
    rewrite_kernels(case("kernels_extra_binary", "column blob holds binary values"),
                    lambda t: t.append_column("blob", pa.array([b"\xff"] * len(t))))
    b = case("table_not_parquet", "unreadable Parquet table")
    (b / "tables" / "nvml.parquet").write_bytes(b"PAR1 not really")
    return cases


def _make_outside(outside: Path) -> list[Path]:
    outside.mkdir()
    (outside / "secret.log").write_text(SECRET)
    shutil.copy(own_fixture("h100-torch-capture.trtscope", "tables", "kernels.parquet"), outside / "secret.parquet")
    # an access time older than the modification time: a read updates it under relatime and strictatime alike
    sentinels = [outside / "secret.log", outside / "secret.parquet"]
    for p in sentinels:
        st = p.stat()
        os.utime(p, ns=(st.st_mtime_ns - 10**12, st.st_mtime_ns))
    return sentinels


def _atimes_work(tmp: Path) -> bool:
    probe = tmp / "atime-probe"
    probe.write_text("x")
    st = probe.stat()
    os.utime(probe, ns=(st.st_mtime_ns - 10**12, st.st_mtime_ns))
    before = probe.stat().st_atime_ns
    probe.read_text()
    return probe.stat().st_atime_ns != before


def run_report_cases(cases: list[tuple[str, Path]]) -> dict[str, dict[str, Any]]:
    payload = json.dumps([(name, str(b)) for name, b in cases])
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-c", HARNESS], input=payload, capture_output=True, text=True,
                          timeout=120, cwd=REPO, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(json.loads(proc.stdout))


def _inside(path: str, root: Path) -> bool:
    p = Path(os.path.realpath(path))
    return p == root or root in p.parents


def test_malicious_bundles_are_refused_in_one_line_without_reading_outside(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    sentinels = _make_outside(outside)
    bundles = tmp_path / "bundles"
    bundles.mkdir()
    cases = build_cases(bundles, outside)
    good = base_bundle(bundles / "good")
    inner = base_bundle(bundles / "good_inner_link")  # a link that stays inside the bundle is fine
    (inner / "raw" / "alias.log").symlink_to("build.log")
    set_artifact(inner, "build_log", "raw/alias.log")
    atimes_before = {p: p.stat().st_atime_ns for p in sentinels}

    t = time.perf_counter()
    results = run_report_cases([("good", good), ("good_inner_link", inner), *((n, b) for n, (b, _) in cases.items())])
    elapsed = time.perf_counter() - t

    # controls: a valid bundle reads, and the audit hook does see the bundle's files being opened
    for name, b in (("good", good), ("good_inner_link", inner)):
        r = results[name]
        assert r["rc"] == 0, (name, r["err"])
        opened = {os.path.realpath(p) for p in r["opened"]}
        assert os.path.realpath(b / "manifest.json") in opened
        assert os.path.realpath(b / "raw" / "build.log") in opened
        assert "H100" in r["out"]
    real_tmp = Path(os.path.realpath(tmp_path))
    for name, (bundle, fragment) in cases.items():
        r = results[name]
        err = r["err"]
        assert r["rc"] == 2, (name, err)
        assert err.count("\n") == 1 and err.startswith("trtscope: error: "), (name, err)
        assert fragment in err, (name, fragment, err)
        assert "Traceback" not in err and "SECRET" not in err + r["out"], name
        real_bundle = Path(os.path.realpath(bundle))
        strays = [p for p in r["opened"] if _inside(p, real_tmp) and not _inside(p, real_bundle)]
        assert not strays, (name, strays)
        assert not any(p.startswith(("/proc/self/environ", "/etc/")) for p in r["opened"]), (name, r["opened"])
    if _atimes_work(tmp_path):
        assert {p: p.stat().st_atime_ns for p in sentinels} == atimes_before, "a file outside a bundle was read"
    assert elapsed < 60


@pytest.mark.parametrize("what", ["manifest", "layers"])
def test_fifo_in_a_bundle_never_blocks(tmp_path: Path, what: str) -> None:
    """The direct API too: a FIFO is refused at once (no writer ever opens it, so a blocking open would hang)."""
    from trtscope.bundle.reader import read_bundle
    from trtscope.errors import InputError

    b = base_bundle(tmp_path / "b")
    target = b / "manifest.json" if what == "manifest" else b / "raw" / "pipe"
    if what == "manifest":
        target.unlink()
    else:
        set_artifact(b, "layers", "raw/pipe")
    os.mkfifo(target)
    t = time.perf_counter()
    with pytest.raises(InputError, match="FIFO"):
        read_bundle(b)
    assert time.perf_counter() - t < 5


def test_row_count_mismatch_is_a_warning(tmp_path: Path) -> None:
    from trtscope.bundle.reader import read_bundle

    b = base_bundle(tmp_path / "b")
    rows = pq.read_metadata(b / "tables" / "nvml.parquet").num_rows
    edit_manifest(b, lambda m: m["tables"]["nvml"].__setitem__("rows", rows + 5))
    art = read_bundle(b)
    assert len(art.nvml) == rows
    assert any(f"holds {rows:,} rows, the bundle manifest says {rows + 5:,}" in w for w in art.warnings)


def test_pandas_metadata_in_a_table_is_ignored(tmp_path: Path) -> None:
    """A table's pandas metadata cannot move a contract column into the index (the contract decides)."""
    from trtscope.bundle.reader import read_bundle

    b = base_bundle(tmp_path / "b")
    p = b / "tables" / "nvml.parquet"
    t = pq.read_table(p)
    meta = json.loads(t.schema.metadata[b"pandas"]) if t.schema.metadata and b"pandas" in t.schema.metadata else {
        "columns": [], "index_columns": [], "column_indexes": [], "pandas_version": "2.2.0"}
    meta["index_columns"] = ["timestamp_ns"]
    pq.write_table(t.replace_schema_metadata({b"pandas": json.dumps(meta).encode()}), p)
    art = read_bundle(b)
    assert art.nvml["timestamp_ns"].tolist() == t["timestamp_ns"].to_pylist()


def test_unknown_manifest_fields_and_tables_are_left_alone(tmp_path: Path) -> None:
    """Forward compatibility within a schema version: extra fields and unknown table keys are not read."""
    from trtscope.bundle.reader import read_bundle

    b = base_bundle(tmp_path / "b")
    edit_manifest(b, lambda m: (m.update(future_field={"x": 1}),
                                m["tables"].__setitem__("future_table", {"path": "/etc/passwd"})))
    art = read_bundle(b)
    assert len(art.kernels) == pq.read_metadata(b / "tables" / "kernels.parquet").num_rows


@pytest.mark.parametrize("where", ["artifact", "table"])
def test_a_lone_surrogate_in_a_manifest_path_is_refused(tmp_path: Path, where: str) -> None:
    """Found by the long fuzz run: a ``\\ud800`` escape in a path crashed the reader while encoding it."""
    from trtscope.bundle.reader import read_bundle
    from trtscope.errors import InputError

    b = base_bundle(tmp_path / "b")
    if where == "artifact":
        set_artifact(b, "layers", "raw/x\ud800.log")
    else:
        set_table(b, "nvml", "tables/x\ud800.parquet")
    with pytest.raises(InputError, match="lone surrogate") as err:
        read_bundle(b)
    assert str(b / "manifest.json") in str(err.value) and "\n" not in str(err.value)


def test_bundle_kernels_ending_before_they_start_are_left_out(tmp_path: Path) -> None:
    """Found by the long fuzz run (a flipped byte in kernels.parquet): such records are dropped with a warning,
    as the nsys reader does, instead of entering the analysis with negative durations."""
    from trtscope.bundle.reader import read_bundle

    b = base_bundle(tmp_path / "b")
    raw = pq.read_table(b / "tables" / "kernels.parquet")
    starts, ends = raw["start_ns"].to_pylist(), raw["end_ns"].to_pylist()
    bad = {0, len(starts) // 2}
    for i in bad:
        starts[i] = ends[i] + 5
    rewrite_kernels(b, lambda t: _replace_column(t, "start_ns", pa.array(starts, type=t.schema.field("start_ns").type)))
    art = read_bundle(b)
    assert len(art.kernels) == len(starts) - len(bad)
    assert (art.kernels["end_ns"] >= art.kernels["start_ns"]).all()
    assert any(f"{len(bad)} kernel records" in w and "end before they start" in w for w in art.warnings)
