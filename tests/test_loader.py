"""Reading directories by content, choosing and pairing artifacts, and refusing bad input clearly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import shared_fixture
from trtscope.errors import InputError
from trtscope.loader import load_artifacts


def test_directory_is_read_by_content_not_by_name(tmp_path: Path) -> None:
    src = shared_fixture("trex", "a100-resnet18-fp32")
    # the same artifacts under names that say nothing (real files come as *.log, *.graph.json, ...)
    shutil.copy(next(src.glob("*.graph.json")), tmp_path / "a.log")
    shutil.copy(next(src.glob("*.profile.json")), tmp_path / "b.txt")
    shutil.copy(next(src.glob("*.timing.json")), tmp_path / "c")
    (tmp_path / "notes.md").write_text("# my notes\n")
    art = load_artifacts(tmp_path)
    raw_layers = json.loads((tmp_path / "a.log").read_text())["Layers"]
    assert art.layer_info is not None and len(art.layer_info.layers) == len(raw_layers)
    assert art.profile is not None and art.iterations is not None
    kinds = {Path(s.path).name: s.kind for s in art.sources}
    assert kinds == {"a.log": "layer_info", "b.txt": "profile", "c": "times"}


def test_explicit_mismatched_pair_is_an_error() -> None:
    layers = shared_fixture("trt10-h100-mnist", "mnist.exportLayerInfo.json")
    profile = shared_fixture("trt10-h100-mnist", "trtexec-dumpProfile.log")  # a different build (SOURCE.md)
    with pytest.raises(InputError) as err:
        load_artifacts(layers=layers, profile=profile)
    msg = str(err.value)
    assert msg.startswith(str(profile)) and "do not match" in msg and "\n" not in msg


def test_discovered_mismatch_is_a_warning_and_drops_the_profile() -> None:
    art = load_artifacts(shared_fixture("trt10-h100-mnist"))
    assert art.profile is None
    assert any("ignoring profile" in w and "trtexec-dumpProfile.log" in w for w in art.warnings)
    # the detailed JSON wins over the logs' listings
    assert art.layer_info is not None and art.layer_info.detail == "detailed"


def test_profile_of_another_engine_across_sets() -> None:
    with pytest.raises(InputError, match="different engine builds"):
        load_artifacts(layers=next(shared_fixture("trex", "mobilenet-qat").glob("*.graph.json")),
                       profile=next(shared_fixture("trex", "a100-resnet18-fp32").glob("*.profile.json")))


def test_profile_alone_is_enough() -> None:
    art = load_artifacts(profile=shared_fixture("trt10-h100-mnist", "trtexec-dumpProfile.log"))
    assert art.layer_info is None and art.profile is not None and len(art.profile.times) == 15


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "invalid JSON at line 1"),
        ('{"Layers": [42]}', "layer entry 0 is a int"),
        ('{"hello": "world"}', "not a TensorRT artifact"),
    ],
)
def test_bad_files_name_the_file_and_the_problem(tmp_path: Path, content: str, fragment: str) -> None:
    p = tmp_path / "bad.json"
    p.write_text(content)
    with pytest.raises(InputError) as err:
        load_artifacts(p)
    assert str(p) in str(err.value) and fragment in str(err.value)


def test_missing_paths(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or directory"):
        load_artifacts(tmp_path / "nope")
    with pytest.raises(InputError, match="no such file"):
        load_artifacts(layers=tmp_path / "nope.json")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no TensorRT artifacts"):
        load_artifacts(tmp_path / "empty")


def test_wrong_kind_for_option() -> None:
    prof = next(shared_fixture("trex", "a100-resnet18-fp32").glob("*.profile.json"))
    with pytest.raises(InputError, match="does not contain TensorRT layer information"):
        load_artifacts(layers=prof)


def test_onnx_that_does_not_match_warns(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="something_else")], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    onnx.save(helper.make_model(g), tmp_path / "other.onnx")
    from trtscope import load

    a = load(shared_fixture("trex", "a100-resnet18-fp32"), onnx=tmp_path / "other.onnx")
    assert any("not in" in w and "other.onnx" in w for w in a.warnings)


@pytest.mark.parametrize("doc", [{"Layers": []}, {"Bindings": ["input", "output"], "Layers": []}])
def test_empty_layer_listing_is_refused_not_reported_as_missing(tmp_path: Path, doc: dict[str, object]) -> None:
    """An inspector JSON listing no layers (profiling verbosity NONE) is named as such: it used to give a report
    saying no layer information was given, with a warning that the engine had layer names only."""
    f = tmp_path / "m.layers.json"
    f.write_text(json.dumps(doc))
    with pytest.raises(InputError) as err:
        load_artifacts(f)
    msg = str(err.value)
    assert msg.startswith(str(f)) and "no engine layers" in msg and "\n" not in msg


def test_empty_layer_listing_beside_a_profile_is_dropped_with_a_warning(tmp_path: Path) -> None:
    f = tmp_path / "m.layers.json"
    f.write_text('{"Layers": []}')
    profile = next(shared_fixture("trex", "a100-resnet18-fp16").glob("*.profile.json"))
    raw = json.loads(profile.read_text())
    named = [e for e in raw if isinstance(e, dict) and "name" in e]
    art = load_artifacts(layers=f, profile=profile)
    assert art.layer_info is None and art.profile is not None and len(art.profile.times) == len(named)
    assert [s.kind for s in art.sources] == ["profile"]
    assert any(w.startswith(str(f)) and "no engine layers" in w for w in art.warnings)
