"""Capture bundles: written atomically, valid at every moment, read back by the same loader as artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import shared_fixture
from trtscope import load
from trtscope.bundle import BundleWriter, is_bundle
from trtscope.bundle.manifest import read_manifest
from trtscope.errors import InputError, OutputError


def _write_trex_bundle(path: Path, folder: str = "a100-resnet18-fp16") -> Path:
    d = shared_fixture("trex", folder)
    with BundleWriter(path, command=["trtscope", "profile", "test"]) as w:
        w.write_raw("layers", "layers.json", next(d.glob("*.graph.json")).read_bytes())
        w.write_raw("profile", "profile.json", next(d.glob("*.profile.json")).read_bytes())
        w.write_raw("times", "times.json", next(d.glob("*.timing.json")).read_bytes())
        w.update(environment={"gpu": "NVIDIA A100 80GB PCIe", "tensorrt_version": "8.x"})
    return path


def test_bundle_round_trip_equals_direct_load(tmp_path: Path) -> None:
    b = _write_trex_bundle(tmp_path / "run.trtscope")
    assert is_bundle(b)
    m = read_manifest(b)
    assert m["status"] == "complete" and m["ended_at"] and m["created_by"]["command"][:2] == ["trtscope", "profile"]
    # raw artifacts are stored verbatim
    src = shared_fixture("trex", "a100-resnet18-fp16")
    assert (b / "raw" / "profile.json").read_bytes() == next(src.glob("*.profile.json")).read_bytes()
    via_bundle = load(b)
    direct = load(src)
    pd.testing.assert_frame_equal(via_bundle.layers[["name", "kind", "mean_ms", "share"]],
                                  direct.layers[["name", "kind", "mean_ms", "share"]])
    assert via_bundle.summary.metadata["gpu"] == "NVIDIA A100 80GB PCIe"
    assert not via_bundle.warnings


def test_interrupted_capture_leaves_a_valid_bundle(tmp_path: Path) -> None:
    path = tmp_path / "cut.trtscope"
    d = shared_fixture("trex", "a100-resnet18-fp32")
    with pytest.raises(KeyboardInterrupt), BundleWriter(path) as w:
        w.write_raw("layers", "layers.json", next(d.glob("*.graph.json")).read_bytes())
        w.write_table("iterations", pd.DataFrame({"iteration": [0, 1], "latency_ms": [1.0, 1.1]}))
        raise KeyboardInterrupt
    m = json.loads((path / "manifest.json").read_text())
    assert m["status"] == "interrupted"
    a = load(path)
    assert any("interrupted" in w for w in a.warnings)
    assert len(a.layers) == len(json.loads(next(d.glob("*.graph.json")).read_text())["Layers"])
    assert a.iterations is not None and a.iterations["latency_ms"].tolist() == [1.0, 1.1]
    # no temporary files are left behind
    assert not [p for p in path.rglob("*.tmp")]


def test_manifest_is_valid_while_in_progress(tmp_path: Path) -> None:
    path = tmp_path / "live.trtscope"
    w = BundleWriter(path)
    assert read_manifest(path)["status"] == "in_progress"  # a reader at any moment sees a valid manifest
    w.finish("complete")
    assert read_manifest(path)["status"] == "complete"


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    b = _write_trex_bundle(tmp_path / "x.trtscope")
    with pytest.raises(OutputError, match="--force"):
        BundleWriter(b)
    other = tmp_path / "mydata"
    other.mkdir()
    (other / "precious.txt").write_text("keep me")
    with pytest.raises(OutputError, match="not a trtscope bundle"):
        BundleWriter(other, force=True)
    assert (other / "precious.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("manifest", "fragment"),
    [
        ("{", "invalid JSON"),
        ('{"format": "trtscope-bundle", "schema_version": 99, "status": "complete"}',
         "made by a newer trtscope (schema 99); this version reads up to 1"),
        ('{"format": "trtscope-bundle", "schema_version": 1, "status": "weird"}', "invalid status"),
    ],
)
def test_bad_manifests(tmp_path: Path, manifest: str, fragment: str) -> None:
    (tmp_path / "manifest.json").write_text(manifest)
    from trtscope.bundle.reader import read_bundle

    with pytest.raises(InputError) as err:
        read_bundle(tmp_path)
    assert fragment in str(err.value) and "manifest.json" in str(err.value)


def test_tables_are_the_bytes_pandas_writes(tmp_path: Path) -> None:
    # the writer converts on its own thread; the file must be what DataFrame.to_parquet writes
    df = pd.DataFrame({
        "start_ns": [3, 1, 2],
        "grid_x": pd.array([1, None, 3], dtype="Int64"),
        "name": ["a", None, "c"],
        "flag": [True, False, True],
        "basis": pd.Categorical(["launch", "graph", "launch"]),
    }, index=[7, 8, 9])
    with BundleWriter(tmp_path / "b.trtscope") as w:
        written = w.write_table("kernels", df)
    expected = tmp_path / "expected.parquet"
    df.reset_index(drop=True).to_parquet(expected, index=False)
    assert written.read_bytes() == expected.read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(written), df.reset_index(drop=True))
