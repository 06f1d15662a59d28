"""Fusion mapping, node statuses and coverage.

Two kinds of evidence: ONNX models built here (onnx.helper) with layer information written the way TensorRT
writes it for a fusion outcome we state up front; and the real artifacts, where the expectation is read from
the raw files (names, Metadata) or from the model inventory their SOURCE.md documents.
"""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from tests.conftest import own_fixture, shared_fixture
from trtscope import load
from trtscope.model import names as nm


def _save_model(path: Path, spec: list[tuple[str, str, list[str], list[str]]], inits: tuple[str, ...] = ()) -> None:
    """spec: (name, op_type, inputs, outputs)."""
    nodes = [helper.make_node(op, ins, outs, name=name) for name, op, ins, outs in spec]
    inits_t = [helper.make_tensor(n, TensorProto.FLOAT, [1], [1.0]) for n in inits]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info(spec[-1][3][0], TensorProto.FLOAT, None)], inits_t)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


# A small CNN: Conv -> Relu -> MaxPool -> Reshape(shape) -> Gemm -> Softmax, plus a Shape/Constant chain.
CNN = [
    ("Conv_0", "Conv", ["x", "w0"], ["c0"]),
    ("Relu_1", "Relu", ["c0"], ["r1"]),
    ("MaxPool_2", "MaxPool", ["r1"], ["p2"]),
    ("Shape_3", "Shape", ["p2"], ["s3"]),
    ("Reshape_4", "Reshape", ["p2", "s3"], ["v4"]),
    ("Gemm_5", "Gemm", ["v4", "w5"], ["g5"]),
    ("Add_6", "Add", ["g5", "b6"], ["a6"]),
    ("Softmax_7", "Softmax", ["a6"], ["y"]),
]


def _write_layers(path: Path, layers: list[dict]) -> None:
    path.write_text(json.dumps({"Layers": layers, "Bindings": ["x", "y"]}))


def test_trt8_style_names_with_known_outcome(tmp_path: Path) -> None:
    """Outcome stated up front: Conv+Relu fused (weights named in the layer), MaxPool unfused, Shape and Reshape
    folded, Gemm+Add fused, Softmax unfused, one inserted reformat."""
    _save_model(tmp_path / "m.onnx", CNN, inits=("w0", "w5", "b6"))
    _write_layers(tmp_path / "engine.layers.json", [
        {"Name": "Reformatting CopyNode for Input Tensor 0 to w0 + Conv_0 + PWN(Relu_1)", "LayerType": "Reformat",
         "Origin": "REFORMAT"},
        {"Name": "w0 + Conv_0 + PWN(Relu_1)", "LayerType": "CaskConvolution"},
        {"Name": "MaxPool_2", "LayerType": "CaskPooling"},
        {"Name": "Gemm_5 + Add_6", "LayerType": "CaskGemm"},
        {"Name": "Softmax_7", "LayerType": "CudaSoftMax"},
    ])
    a = load(tmp_path)
    kinds = a.layers.set_index("name")["kind"]
    assert kinds["w0 + Conv_0 + PWN(Relu_1)"] == "fused"
    assert kinds["MaxPool_2"] == "single"
    assert kinds["Reformatting CopyNode for Input Tensor 0 to w0 + Conv_0 + PWN(Relu_1)"] == "reformat"
    status = a.onnx_nodes.set_index("name")["status"]
    assert status.to_dict() == {
        "Conv_0": "fused", "Relu_1": "fused", "MaxPool_2": "unfused", "Shape_3": "folded", "Reshape_4": "folded",
        "Gemm_5": "fused", "Add_6": "fused", "Softmax_7": "unfused",
    }
    # 6 compute nodes run (Shape/Reshape are shape ops), 4 of them fused
    assert a.summary.onnx_node_count == 8
    assert a.summary.fusion_coverage == pytest.approx(4 / 6)
    assert a.summary.fused_layer_count == 2
    assert a.summary.reformat_layer_count == 1
    assert (a.summary.coverage.status_counts.fused, a.summary.coverage.status_counts.unfused,
            a.summary.coverage.status_counts.folded) == (4, 2, 2)
    unfused = set(a.unfused_nodes()["name"])
    assert unfused == {"MaxPool_2", "Softmax_7"}
    by_op = a.coverage_by_op.set_index("op_type")
    assert by_op.loc["Conv", "coverage"] == 1.0 and by_op.loc["MaxPool", "coverage"] == 0.0
    assert by_op.loc["Reshape", "node_class"] == "shape"
    # weights in the name are not nodes
    assert "w0" not in set(a.mapping["node_name"])


def test_trt10_metadata_myelin_many_to_many(tmp_path: Path) -> None:
    """Metadata is authoritative; Gemm_5 spans two Myelin layers (many-to-many); a kgen layer without
    Metadata maps to nothing; Reshape folded."""
    _save_model(tmp_path / "m.onnx", CNN, inits=("w0", "w5", "b6"))
    _write_layers(tmp_path / "engine.layers.json", [
        {"Name": "Conv_0 + Relu_1", "LayerType": "CaskConvolution",
         "Metadata": "[ONNX Layer: Conv_0]\x1e[ONNX Layer: Relu_1]"},
        {"Name": "MaxPool_2", "LayerType": "CaskPooling", "Metadata": "[ONNX Layer: MaxPool_2]"},
        {"Name": "Gemm_5_myl0_0", "LayerType": "gemm", "Metadata": "[ONNX Layer: Gemm_5]"},
        {"Name": "__myl_AddSoftmax_myl0_1", "LayerType": "kgen",
         "Metadata": "[ONNX Layer: Gemm_5]\x1f[ONNX Layer: Add_6]\x1f[ONNX Layer: Softmax_7]"},
        {"Name": "__myl_Cast_myl0_2", "LayerType": "kgen", "Metadata": ""},
    ])
    a = load(tmp_path)
    m = a.mapping
    assert sorted(m.loc[m["node_name"] == "Gemm_5", "layer_index"]) == [2, 3]
    assert (m["source"] == "metadata").all()
    nodes = a.onnx_nodes.set_index("name")
    # Gemm_5 runs alone in one Myelin layer but with Add_6 and Softmax_7 in another: fused, inside Myelin
    assert nodes.loc["Gemm_5", "status"] == "fused" and nodes.loc["Gemm_5", "in_myelin"]
    assert nodes.loc["MaxPool_2", "status"] == "unfused" and not nodes.loc["MaxPool_2", "in_myelin"]
    # Reshape_4 lies on the graph path Gemm_5 <- Reshape_4 <- MaxPool_2, but MaxPool_2 is outside the region:
    # nothing of the region surrounds it, so it is folded, not absorbed
    assert nodes.loc["Reshape_4", "status"] == "folded"
    layers = a.layers.set_index("name")
    assert layers.loc["__myl_Cast_myl0_2", "n_onnx_nodes"] == 0
    assert layers.loc["__myl_Cast_myl0_2", "kind"] == "other" and layers.loc["__myl_Cast_myl0_2", "in_myelin"]
    assert layers.loc["Gemm_5_myl0_0", "kind"] == "single" and layers.loc["__myl_AddSoftmax_myl0_1", "kind"] == "fused"
    assert layers.loc["Gemm_5_myl0_0", "myelin_region"] == layers.loc["__myl_AddSoftmax_myl0_1", "myelin_region"]
    assert a.summary.myelin_region_count == 1 and a.summary.myelin_layer_count == 3
    # the Gemm_5-only Myelin layer is no unfused hotspot: its node fused elsewhere
    assert "Gemm_5_myl0_0" not in set(a.unfused_hotspots["name"])


def test_foreign_node_range_resolved_through_graph(tmp_path: Path) -> None:
    """8.x Myelin: one {ForeignNode[first...last]} layer; its interior comes from the ONNX graph."""
    _save_model(tmp_path / "m.onnx", CNN, inits=("w0", "w5", "b6"))
    _write_layers(tmp_path / "engine.layers.json", [
        {"Name": "Conv_0 + Relu_1", "LayerType": "CaskConvolution"},
        {"Name": "MaxPool_2", "LayerType": "CaskPooling"},
        {"Name": "{ForeignNode[Reshape_4...Softmax_7]}", "LayerType": "Myelin"},
    ])
    a = load(tmp_path)
    region = a.layers.set_index("name").loc["{ForeignNode[Reshape_4...Softmax_7]}"]
    assert region["kind"] == "fused" and region["in_myelin"]
    assert region["anchor_node"] == "Gemm_5"  # the heavy op of the region, not its first node
    assert region["mapping_source"] == "foreign_range"
    # on the paths from Reshape_4 to Softmax_7: Reshape_4, Gemm_5, Add_6, Softmax_7 (not Shape_3)
    assert list(region["onnx_nodes"]) == ["Reshape_4", "Gemm_5", "Add_6", "Softmax_7"]


def test_names_only_mapping_without_onnx(tmp_path: Path) -> None:
    _write_layers(tmp_path / "engine.layers.json", [
        "Conv_0 + Relu_1", "conv2.weight + QuantizeLinear_7 + Conv_9", "(Unnamed Layer* 3) [Shuffle]",
        "reshape_after_Gemm_48", "PWN(PWN(relu_1), add_1)",
    ])
    a = load(tmp_path)
    assert a.summary.layer_detail == "names"
    got = [list(x) for x in a.layers["onnx_nodes"]]
    assert got == [["Conv_0", "Relu_1"], ["QuantizeLinear_7", "Conv_9"], [], [], ["relu_1", "add_1"]]
    assert a.summary.onnx_node_count is None and a.summary.fusion_coverage is None
    assert a.summary.fusion_coverage_estimate is not None


# --- real artifacts --------------------------------------------------------------------------------------------
def _mnist_model(tmp_path: Path) -> Path:
    """The MNIST CNN's ONNX graph, built from the node inventory in trt10-h100-mnist/SOURCE.md."""
    src = shared_fixture("trt10-h100-mnist", "SOURCE.md").read_text()
    assert "node_view [Reshape]" in src
    spec = [
        ("node_conv2d", "Conv", ["x", "conv1.weight", "conv1.bias"], ["conv2d"]),
        ("node_relu", "Relu", ["conv2d"], ["relu"]),
        ("node_max_pool2d", "MaxPool", ["relu"], ["max_pool2d"]),
        ("node_conv2d_1", "Conv", ["max_pool2d", "conv2.weight", "conv2.bias"], ["conv2d_1"]),
        ("node_relu_1", "Relu", ["conv2d_1"], ["relu_1"]),
        ("node_max_pool2d_1", "MaxPool", ["relu_1"], ["max_pool2d_1"]),
        ("node_view", "Reshape", ["max_pool2d_1", "val_5"], ["view"]),
        ("node_linear", "Gemm", ["view", "gemm1.weight", "gemm1.bias"], ["linear"]),
        ("node_relu_2", "Relu", ["linear"], ["relu_2"]),
        ("node_linear_1", "Gemm", ["relu_2", "gemm2.weight", "gemm2.bias"], ["y"]),
        ("node_softmax", "Softmax", ["y"], ["softmax"]),
        ("node_argmax", "ArgMax", ["softmax"], ["z"]),
    ]
    for name, _op, _i, _o in spec:
        assert f"{name} [" in src  # every node we build is in the documented inventory
    p = tmp_path / "mnist.onnx"
    _save_model(p, spec, inits=("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "gemm1.weight",
                                "gemm1.bias", "gemm2.weight", "gemm2.bias", "val_5"))
    return p


def test_mnist_trt10_with_its_onnx_inventory(tmp_path: Path) -> None:
    layers_path = shared_fixture("trt10-h100-mnist", "mnist.exportLayerInfo.json")
    raw = json.loads(layers_path.read_text(), strict=False)
    a = load(layers=layers_path, onnx=_mnist_model(tmp_path))
    referenced = {n for layer in raw["Layers"] for n in nm.metadata_nodes(layer["Metadata"])}
    status = a.onnx_nodes.set_index("name")["status"]
    # folded = documented nodes that no layer's Metadata names (node_view is outside every Myelin region's range)
    assert set(status[status == "folded"].index) == {"node_view"} == (set(status.index) - referenced)
    # the two CaskConvolution layers fuse their Conv and Relu
    assert status["node_conv2d"] == "fused" and status["node_relu_1"] == "fused"
    # many-to-many: node_linear_1 and node_softmax each span two Myelin layers
    for node in ("node_linear_1", "node_softmax"):
        expected = [i for i, layer in enumerate(raw["Layers"]) if node in nm.metadata_nodes(layer["Metadata"])]
        assert sorted(a.mapping.loc[a.mapping["node_name"] == node, "layer_index"]) == expected
        assert len(expected) == 2
    assert a.summary.fused_layer_count == sum(
        1 for layer in raw["Layers"] if len(nm.metadata_nodes(layer["Metadata"])) >= 2)
    assert not a.warnings


@pytest.mark.parametrize("folder", ["a100-resnet18-fp32", "a100-resnet18-fp16"])
def test_trex_resnet18_fusions_from_names(folder: str) -> None:
    d = shared_fixture("trex", folder)
    raw = json.loads(next(d.glob("*.graph.json")).read_text())
    a = load(d)
    compute = [x for x in raw["Layers"] if not x["Name"].startswith("Reformatting") and x["LayerType"] != "NoOp"]
    fused = [x for x in compute if " + " in x["Name"]]
    assert a.summary.fused_layer_count == len(fused)
    reformats = [x for x in raw["Layers"]
                 if x["Name"].startswith("Reformatting CopyNode") or x.get("Origin") == "REFORMAT"]
    assert a.summary.reformat_layer_count == len(reformats)
    # every Conv_/Relu_/Add_ piece of a fused name is a fused node
    fused_nodes = {p for x in fused for p in x["Name"].split(" + ")}
    status = a.onnx_nodes.set_index("name")["status"]
    assert all(status[n] == "fused" for n in fused_nodes)


def test_trex_qat_qdq_layers() -> None:
    d = shared_fixture("trex", "a100-resnet18-qat")
    raw = json.loads(next(d.glob("*.graph.json")).read_text())
    a = load(d)
    qdq_raw = [x["Name"] for x in raw["Layers"] if x.get("Origin") == "QDQ"]
    assert a.layers.loc[a.layers["kind"] == "qdq", "name"].tolist() == qdq_raw
    # weight names fused into conv layers are never ONNX nodes
    assert not any(n.endswith(".weight") for n in a.mapping["node_name"])


def test_project_rtx_resnet18_example() -> None:
    d = own_fixture("rtx-h100-resnet18")
    ref = onnx.load(str(d / "model.onnx"), load_external_data=False)
    a = load(d)
    assert a.summary.onnx_node_count == len(ref.graph.node)
    # torchvision ResNet-18: 20 Conv, of which the 3 downsample 1x1 convs and the first MaxPool, the global
    # average pool and the final Gemm run alone; every other Conv/Relu/Add shares a kernel.
    conv = [n.name for n in ref.graph.node if n.op_type == "Conv"]
    assert len(conv) == 20
    unfused = set(a.unfused_nodes()["name"])
    assert {n for n in conv if "downsample" in n} <= unfused
    assert {n.name for n in ref.graph.node if n.op_type in ("MaxPool", "GlobalAveragePool", "Gemm")} <= unfused
    # every layer of this engine is a Myelin layer; those whose Metadata names a Conv with its Relu (and Add)
    # are fusions like any other: their nodes count as fused, and only the downsample convolutions stay unfused
    status = a.onnx_nodes.set_index("name")["status"]
    lines = [x for x in (d / "build-verbose.log").read_text(errors="replace").split("\n") if x.startswith("Name: ")]
    ops = {n.name: n.op_type for n in ref.graph.node}
    expected_fused = set()
    for line in lines:
        names = nm.metadata_nodes(line.split(", Metadata: ", 1)[1]) if ", Metadata: " in line else []
        if sum(1 for n in names if ops.get(n) in ("Conv", "Relu", "Add", "MaxPool", "Gemm", "GlobalAveragePool")) >= 2:
            expected_fused.update(names)
    assert expected_fused and {n for n in conv if n in expected_fused} == {n for n in conv if "downsample" not in n}
    assert {n for n, st in status.items() if st == "fused"} == expected_fused
    assert a.summary.coverage.compute.unfused == len(unfused) == 6
    # layer names are exactly the log's, in engine order
    lines = [x for x in (d / "build-verbose.log").read_text(errors="replace").split("\n") if x.startswith("Name: ")]
    assert a.layers["name"].tolist() == [x[6:x.index(", LayerType: ")] for x in lines]


# --- absorbed: inside a Myelin region, named by no layer ----------------------------------------------------
def _listing_nodes(log: str) -> tuple[set[str], set[str]]:
    """(nodes the builder listed for Myelin regions, nodes some layer's Metadata names), from a verbose log."""
    listed: set[str] = set()
    named: set[str] = set()
    for line in log.split("\n"):
        if "ForeignNode {ForeignNode[" in line and " metadata: " in line:  # after the logger's prefix
            listed.update(nm.metadata_nodes(line.split(" metadata: ", 1)[1]))
        elif line.startswith("Name: ") and ", Metadata: " in line:
            named.update(nm.metadata_nodes(line.split(", Metadata: ", 1)[1]))
    return listed, named


def test_absorbed_nodes_from_the_builders_listing_and_from_the_graph_range(tmp_path: Path) -> None:
    """The real transformer: the nodes its region listing names but no layer names are absorbed; with the
    listing removed from the log, the graph-range rule finds the same nodes (constants excepted)."""
    d = own_fixture("rtx-h100-transformer")
    log = (d / "build-verbose.log").read_text(errors="replace")
    listed, named = _listing_nodes(log)
    model = onnx.load(str(d / "model.onnx"), load_external_data=False)
    ops = {n.name: n.op_type for n in model.graph.node}
    expected = {n for n in listed - named if ops.get(n) not in ("Constant", "ConstantOfShape")}
    assert len(expected) >= 10
    a = load(d)
    status = a.onnx_nodes.set_index("name")["status"]
    assert {n for n, s in status.items() if s == "absorbed"} == listed - named
    stripped = tmp_path / "build.log"
    stripped.write_text("\n".join(x for x in log.split("\n") if "ForeignNode {ForeignNode[" not in x))
    b = load(layers=stripped, onnx=d / "model.onnx")
    assert not b.artifacts.layer_info.foreign_nodes
    got = b.onnx_nodes.set_index("name")["status"]
    assert {n for n, s in got.items() if s == "absorbed"} == expected
    assert (b.onnx_nodes.loc[b.onnx_nodes["status"].eq("absorbed"), "in_myelin"]).all()


def test_graph_range_rule_leaves_constants_and_non_region_gaps_folded(tmp_path: Path) -> None:
    """Built up front: MatMul_0 and MatMul_5 run in Myelin region myl0; Reshape_1 / Transpose_2 between them
    run in no layer (absorbed); Constant_3 between them is folded; Relu_6 runs in a plain layer and Shape_7,
    between MatMul_5 (region) and Relu_8 (plain layer), is folded."""
    spec = [
        ("MatMul_0", "MatMul", ["x", "w0"], ["m0"]),
        ("Reshape_1", "Reshape", ["m0", "s"], ["r1"]),
        ("Transpose_2", "Transpose", ["r1"], ["t2"]),
        ("Constant_3", "Constant", [], ["c3"]),
        ("Add_4", "Add", ["t2", "c3"], ["a4"]),
        ("MatMul_5", "MatMul", ["a4", "w5"], ["m5"]),
        ("Relu_6", "Relu", ["m5"], ["r6"]),
        ("Shape_7", "Shape", ["r6"], ["s7"]),
        ("Relu_8", "Relu", ["r6"], ["y"]),
    ]
    _save_model(tmp_path / "m.onnx", spec, inits=("w0", "w5", "s"))
    _write_layers(tmp_path / "engine.layers.json", [
        {"Name": "MatMul_0_myl0_0", "LayerType": "gemm", "Metadata": "[ONNX Layer: MatMul_0]"},
        {"Name": "__myl_AddMat_myl0_1", "LayerType": "gemm",
         "Metadata": "[ONNX Layer: Add_4]\x1f[ONNX Layer: MatMul_5]"},
        {"Name": "Relu_6", "LayerType": "PointWise", "Metadata": "[ONNX Layer: Relu_6]"},
        {"Name": "Relu_8", "LayerType": "PointWise", "Metadata": "[ONNX Layer: Relu_8]"},
    ])
    status = load(tmp_path).onnx_nodes.set_index("name")["status"].to_dict()
    assert status == {
        "MatMul_0": "unfused", "Reshape_1": "absorbed", "Transpose_2": "absorbed", "Constant_3": "folded",
        "Add_4": "fused", "MatMul_5": "fused", "Relu_6": "unfused", "Shape_7": "folded", "Relu_8": "unfused",
    }
