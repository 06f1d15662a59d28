"""The weight-free ONNX reader, against models built here with onnx.helper and the project's own exports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.conftest import own_fixture
from trtscope.errors import InputError
from trtscope.parsers.onnx_graph import PendingGraph, read_onnx_graph


def _model(nodes: list[onnx.NodeProto], inits: list[onnx.TensorProto] | None = None) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, [1, 4])], inits or [],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _edges(g, direction: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    e = g.edges[g.edges["direction"] == direction]
    out: list[list[str]] = [[] for _ in range(len(g.nodes))]
    for i, t in zip(e["node_index"], e["tensor"], strict=True):
        out[i].append(t)
    return out


def test_names_ops_edges_match_onnx(tmp_path: Path) -> None:
    w = numpy_helper.from_array(np.ones((4, 4), np.float32), "w")
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["a"], name="mm"),
        helper.make_node("Relu", ["a"], ["b"], name="relu"),
        helper.make_node("Add", ["b", "x"], ["c"], name="add", domain=""),
        helper.make_node("Gelu", ["c"], ["d"], name="gelu", domain="com.microsoft", approximate="tanh"),
    ]
    m = _model(nodes, [w])
    p = tmp_path / "m.onnx"
    onnx.save(m, p)
    g = read_onnx_graph(p)
    assert g.nodes["name"].tolist() == [n.name for n in m.graph.node]
    assert g.nodes["op_type"].tolist() == [n.op_type for n in m.graph.node]
    assert g.nodes["domain"].tolist() == [n.domain for n in m.graph.node]
    assert _edges(g, "input") == [list(n.input) for n in m.graph.node]
    assert _edges(g, "output") == [list(n.output) for n in m.graph.node]
    assert g.initializers == {"w"}
    assert g.inputs == ["x"] and g.outputs == ["d"]
    assert g.opset == 17


def test_external_data_file_is_not_needed(tmp_path: Path) -> None:
    w = numpy_helper.from_array(np.random.default_rng(0).random((256, 256), dtype=np.float32), "big_w")
    m = _model([helper.make_node("MatMul", ["x", "big_w"], ["y"], name="mm")], [w])
    p = tmp_path / "ext.onnx"
    onnx.save(m, p, save_as_external_data=True, all_tensors_to_one_file=True, location="ext.onnx.data",
              size_threshold=0)
    (tmp_path / "ext.onnx.data").unlink()
    g = read_onnx_graph(p)
    assert g.nodes["name"].tolist() == ["mm"]
    assert g.initializers == {"big_w"}


def test_embedded_weights_are_skipped_not_decoded(tmp_path: Path) -> None:
    w = numpy_helper.from_array(np.zeros((512, 1024), np.float32), "w")  # 2 MiB of raw_data
    m = _model([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [w])
    p = tmp_path / "emb.onnx"
    onnx.save(m, p)
    assert p.stat().st_size > 2 * 1024 * 1024
    g = read_onnx_graph(p)
    assert g.nodes["name"].tolist() == ["mm"] and g.initializers == {"w"}


def test_control_flow_subgraph_nodes_are_listed(tmp_path: Path) -> None:
    then_g = helper.make_graph([helper.make_node("Relu", ["x"], ["t"], name="then_relu")], "then", [],
                               [helper.make_tensor_value_info("t", TensorProto.FLOAT, [1, 4])])
    else_g = helper.make_graph([helper.make_node("Neg", ["x"], ["e"], name="else_neg")], "else", [],
                               [helper.make_tensor_value_info("e", TensorProto.FLOAT, [1, 4])])
    nodes = [
        helper.make_node("ReduceSum", ["x"], ["cond"], name="cond", keepdims=0),
        helper.make_node("If", ["cond"], ["out"], name="branch", then_branch=then_g, else_branch=else_g),
    ]
    p = tmp_path / "if.onnx"
    onnx.save(_model(nodes), p)
    g = read_onnx_graph(p)
    assert set(g.nodes["name"]) == {"cond", "branch", "then_relu", "else_neg"}
    sub = g.nodes.set_index("name")["subgraph_of"]
    assert sub["then_relu"] == "branch" and sub["cond"] == ""


def test_unnamed_nodes_get_stable_names(tmp_path: Path) -> None:
    p = tmp_path / "unnamed.onnx"
    onnx.save(_model([helper.make_node("Relu", ["x"], ["y"]), helper.make_node("Relu", ["y"], ["z"])]), p)
    names = read_onnx_graph(p).nodes["name"].tolist()
    assert len(set(names)) == 2 and all("Relu" in n for n in names)


@pytest.mark.parametrize("content", [b"", b"\x08\x07\x12\xff\xff\xff\xff\x0f", b"not an onnx model at all"])
def test_invalid_files_raise_input_error(tmp_path: Path, content: bytes) -> None:
    p = tmp_path / "bad.onnx"
    p.write_bytes(content)
    with pytest.raises(InputError) as err:
        read_onnx_graph(p)
    assert str(p) in str(err.value) and "\n" not in str(err.value)


def test_truncated_model(tmp_path: Path) -> None:
    m = _model([helper.make_node("Relu", ["x"], [f"y{i}"], name=f"r{i}") for i in range(50)])
    data = m.SerializeToString()
    p = tmp_path / "trunc.onnx"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="not a valid ONNX model"):
        read_onnx_graph(p)


@pytest.mark.parametrize("model", ["rtx-h100-resnet18", "rtx-h100-transformer"])
def test_project_models_match_onnx_load(model: str) -> None:
    p = own_fixture(model, "model.onnx")
    ref = onnx.load(str(p), load_external_data=False)
    g = read_onnx_graph(p)
    assert g.nodes["name"].tolist() == [n.name for n in ref.graph.node]
    assert g.nodes["op_type"].tolist() == [n.op_type for n in ref.graph.node]
    assert _edges(g, "input") == [list(n.input) for n in ref.graph.node]
    assert g.initializers == {t.name for t in ref.graph.initializer}


def test_parallel_reader_returns_the_same_graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    n = 5_000
    nodes = [helper.make_node("Relu", [f"t{i}"], [f"t{i + 1}"], name=f"/blk{i // 7}/relu_{i}") for i in range(n)]
    nodes[0] = helper.make_node("Relu", ["x"], ["t1"], name="/blk0/relu_0")
    nodes.append(helper.make_node("If", ["t5000"], ["z"], name="branch", then_branch=helper.make_graph(
        [helper.make_node("Neg", ["x"], ["q"], name="inner")], "b", [],
        [helper.make_tensor_value_info("q", TensorProto.FLOAT, [1])]), else_branch=helper.make_graph(
        [helper.make_node("Abs", ["x"], ["r"], name="inner2")], "c", [],
        [helper.make_tensor_value_info("r", TensorProto.FLOAT, [1])])))
    p = tmp_path / "big.onnx"
    onnx.save(_model(nodes), p)
    monkeypatch.setattr("trtscope.parsers.onnx_wire.PARALLEL_MIN_BYTES", 1024)
    pending = PendingGraph(p)
    if not pending.in_worker:
        pytest.skip("no fork start method or a single CPU here: the worker path is not taken")
    g1 = pending.result()
    g2 = read_onnx_graph(p)
    assert g1.nodes.equals(g2.nodes) and g1.edges.equals(g2.edges)
    assert len(g1.nodes) == n + 3
    assert g1.initializers == g2.initializers and g1.outputs == g2.outputs
