"""Layer-information readers against real TensorRT artifacts (expected values read from the raw files here)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import own_fixture, shared_fixture
from trtscope.errors import InputError
from trtscope.parsers.detect import sniff
from trtscope.parsers.layer_info_json import layer_info_from_json
from trtscope.parsers.layer_info_text import layer_info_from_log, parse_oneline

TREX_SETS = [
    "a100-resnet18-fp32", "a100-resnet18-fp16", "a100-resnet18-qat", "mobilenet-qat", "rtx3090-tf-resnet50-fp16",
]


def _graph_json(folder: str) -> Path:
    d = shared_fixture("trex", folder)
    return next(d.glob("*.graph.json"))


def _raw(path: Path) -> dict:
    return json.loads(path.read_text(), strict=False)


@pytest.mark.parametrize("folder", TREX_SETS)
def test_trex_layer_info_matches_raw_json(folder: str) -> None:
    path = _graph_json(folder)
    raw = _raw(path)
    info = sniff(path).layer_info
    assert info is not None and info.detail == "detailed"
    assert info.layers["name"].tolist() == [layer["Name"] for layer in raw["Layers"]]
    assert info.layers["type"].tolist() == [layer["LayerType"] for layer in raw["Layers"]]
    assert info.bindings == raw["Bindings"]
    # tensors: every input/output of every layer, dimensions joined with "x"
    n_tensors = sum(len(layer.get("Inputs", [])) + len(layer.get("Outputs", [])) for layer in raw["Layers"])
    assert len(info.tensors) == n_tensors
    first_in = raw["Layers"][0]["Inputs"][0]
    row = info.tensors[(info.tensors["layer_index"] == 0) & (info.tensors["direction"] == "input")].iloc[0]
    assert row["name"] == first_in["Name"]
    assert row["dimensions"] == "x".join(str(d) for d in first_in["Dimensions"])
    # unknown keys are preserved verbatim
    assert info.raw[0] == raw["Layers"][0]


def test_precision_from_prose_formats() -> None:
    info = sniff(_graph_json("a100-resnet18-qat")).layer_info
    assert info is not None
    raw = _raw(_graph_json("a100-resnet18-qat"))
    for i, layer in enumerate(raw["Layers"][:10]):
        fmt = layer["Outputs"][0]["Format/Datatype"]
        expected = "Int8" if "Int8" in fmt or "INT8" in fmt else "Half" if "FP16" in fmt else "Float"
        assert info.layers["precision"].iloc[i].split("+")[0] == expected, fmt


def test_trt10_json_metadata_and_myelin() -> None:
    path = shared_fixture("trt10-h100-mnist", "mnist.exportLayerInfo.json")
    raw_text = path.read_text()
    raw = json.loads(raw_text, strict=False)
    info = sniff(path).layer_info
    assert info is not None
    assert info.layers["name"].tolist() == [layer["Name"] for layer in raw["Layers"]]
    # Metadata kept byte-exact, both separators present in the source
    assert "\\u001e" in raw_text or "\x1e" in raw_text
    md = info.layers["metadata"].tolist()
    assert md[0] == raw["Layers"][0]["Metadata"]
    assert "\x1f" in md[4]
    assert md[8] is None  # the empty Metadata of __myl_CastReshCast
    assert info.bindings == ["x", "y", "z"]


def test_layer_names_only_json(tmp_path: Path) -> None:
    raw = _raw(_graph_json("a100-resnet18-fp16"))
    names = [layer["Name"] for layer in raw["Layers"]]
    p = tmp_path / "names.json"
    p.write_text(json.dumps({"Layers": names, "Bindings": raw["Bindings"]}))
    info = sniff(p).layer_info
    assert info is not None and info.detail == "names"
    assert info.layers["name"].tolist() == names
    assert (info.layers["type"] == "").all()
    assert info.raw == []


def test_trt11_io_tensors_and_split_datatype(tmp_path: Path) -> None:
    doc = {
        "Layers": [{
            "Name": "a + b", "LayerType": "kgen",
            "Inputs": [{"Name": "x", "Dimensions": [1, 8], "Datatype": "BFloat16", "Format": "Row major linear",
                        "Strides": [8, 1]}],
            "Outputs": [{"Name": "y", "Dimensions": [1, 8], "Datatype": "FP8", "Format": "Row major linear"}],
            "Constants": [{"Name": "c", "Dimensions": [8], "Datatype": "Float"}],
            "Metadata": "[ONNX Layer: a]\x1f[ONNX Layer: b]", "StreamId": 1,
        }],
        "I/O Tensors": [{"Name": "x"}, {"Name": "y"}],
    }
    p = tmp_path / "t11.json"
    p.write_text(json.dumps(doc))
    info = layer_info_from_json(json.loads(p.read_text()), p)
    assert info.bindings == ["x", "y"]
    assert info.layers["precision"].iloc[0] == "FP8"
    assert info.layers["stream_id"].iloc[0] == 1
    t = info.tensors
    assert set(t["direction"]) == {"input", "output", "constant"}
    assert t.loc[t["direction"] == "input", "strides"].iloc[0] == "8x1"
    assert t.loc[t["direction"] == "input", "dtype"].iloc[0] == "BFloat16"


def test_optimization_profiles_keep_profile_zero(tmp_path: Path) -> None:
    doc = {"Layers": [{"Name": "conv", "LayerType": "CaskConvolution"},
                      {"Name": "conv [profile 1]", "LayerType": "CaskConvolution"}],
           "Bindings": ["x", "y", "x [profile 1]", "y [profile 1]"]}
    info = layer_info_from_json(doc, tmp_path / "p.json")
    assert info.layers["name"].tolist() == ["conv"]
    assert info.dropped_profiles == 1
    assert info.bindings == ["x", "y"]
    info1 = layer_info_from_json(doc, tmp_path / "p.json", opt_profile=1)
    assert info1.layers["name"].tolist() == ["conv"]


# --- logs ----------------------------------------------------------------------------------------------------
def _oneline_lines(path: Path) -> list[str]:
    return [line for line in path.read_text(errors="replace").split("\n") if line.startswith("Name: ")]


def test_dumplayerinfo_log_agrees_with_json_of_the_same_model() -> None:
    log = shared_fixture("trt10-h100-mnist", "trtexec-dumpLayerInfo.log")
    js = json.loads(shared_fixture("trt10-h100-mnist", "mnist.exportLayerInfo.json").read_text(), strict=False)
    info, warnings = layer_info_from_log(log.read_text(errors="replace"), log)
    assert info is not None and info.detail == "oneline" and not warnings
    assert len(info.layers) == len(_oneline_lines(log))
    assert info.layers["name"].tolist() == [layer["Name"] for layer in js["Layers"]]
    assert info.layers["type"].tolist() == [layer["LayerType"] for layer in js["Layers"]]
    # Metadata with its raw control bytes, exactly as in the JSON export
    assert info.layers["metadata"].tolist() == [layer["Metadata"] or None for layer in js["Layers"]]
    assert info.bindings == js["Bindings"]
    # nested values parse into the JSON shapes
    first = info.raw[0]
    assert first["Inputs"][0]["Dimensions"] == [1, 1, 28, 28]
    assert first["Weights"] == {"Type": "Float", "Count": 800}
    assert first["Kernel"] == [5, 5]


def test_legacy_engine_layer_information_from_verbose_build_log() -> None:
    log = shared_fixture("trt10-h100-mnist", "trtexec-build-verbose.log")
    text = log.read_text(errors="replace")
    expected = [m.group(2) for m in re.finditer(r"^Layer\(([^)]*)\): (.*?), Tactic: ", text, re.M)]
    info, _ = layer_info_from_log(text, log)
    assert info is not None and info.detail == "legacy_log"
    assert info.layers["name"].tolist() == expected
    assert info.layers["type"].iloc[0] == "Myelin"
    # the Myelin regions' ONNX nodes come from the "ForeignNode ... metadata:" lines
    assert info.foreign_nodes["{ForeignNode[node_conv2d...node_relu]}"] == ["node_conv2d", "node_relu"]
    region = "{ForeignNode[gemm2.bias + ONNXTRT_Broadcast_4...ONNXTRT_castHelper_9]}"
    assert info.foreign_nodes[region] == [
        "node_view", "node_linear", "node_relu_2", "node_linear_1", "node_softmax", "node_argmax"]
    # tensors of the form "name (Type[dims])", with names holding spaces and brackets
    t = info.tensors[info.tensors["layer_index"] == 2]
    assert t["dimensions"].tolist() == ["-1x32x14x14", "-1x32:8x14x14"]
    assert t["dtype"].tolist() == ["Float", "Half"]


@pytest.mark.parametrize("model", ["rtx-h100-resnet18", "rtx-h100-transformer"])
def test_project_rtx_build_logs(model: str) -> None:
    log = own_fixture(model, "build-verbose.log")
    lines = _oneline_lines(log)
    info = sniff(log).layer_info
    assert info is not None and info.detail == "oneline"
    assert info.layers["name"].tolist() == [line[len("Name: "):line.index(", LayerType: ")] for line in lines]
    # TensorRT-RTX writes per-tensor Datatype / Format / Strides and a Constants list
    assert info.tensors["strides"].notna().any()
    assert (info.tensors["direction"] == "constant").any()


def test_parse_oneline_names_with_commas_and_brackets() -> None:
    line = ("Name: (Unnamed Layer* 306) [Shuffle] + a, b, LayerType: Shuffle, Inputs: [ { Name: t, Dimensions: [1,2], "
            "Format/Datatype: Half }], Outputs: [], TacticName: x, StreamId: 0, Metadata: [ONNX Layer: a, b]")
    e = parse_oneline(line)
    assert e["Name"] == "(Unnamed Layer* 306) [Shuffle] + a, b"
    assert e["LayerType"] == "Shuffle"
    assert e["Inputs"] == [{"Name": "t", "Dimensions": [1, 2], "Format/Datatype": "Half"}]
    assert e["Outputs"] == []
    assert e["Metadata"] == "[ONNX Layer: a, b]"


def test_log_without_layer_listing_is_not_layer_info(tmp_path: Path) -> None:
    p = tmp_path / "x.log"
    p.write_text("[11/21/2026-10:00:00] [I] nothing to see\n")
    with pytest.raises(InputError) as err:
        sniff(p)
    assert str(p) in str(err.value)
