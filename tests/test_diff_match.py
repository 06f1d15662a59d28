"""Node matching and comparison on small engines built here (onnx.helper models + layer listings), whose
outcome is known by construction: renumbered names after Q/DQ insertion, an op inserted that breaks a fusion,
LayerNorm as one op against its decomposition, a side without an ONNX model."""

from __future__ import annotations

from pathlib import Path

import trtscope
from tests.diff_synth import L, Node, write_engine
from trtscope.analysis.diff import diff

# A: Conv -> Relu -> Conv -> Add(residual) -> Relu -> GlobalAveragePool -> Flatten -> Gemm
PLAIN: list[Node] = [
    ("Conv_0", "Conv", ["x", "w0"], ["c0"]),
    ("Relu_1", "Relu", ["c0"], ["r1"]),
    ("Conv_2", "Conv", ["r1", "w2"], ["c2"]),
    ("Add_3", "Add", ["c2", "r1"], ["a3"]),
    ("Relu_4", "Relu", ["a3"], ["r4"]),
    ("GlobalAveragePool_5", "GlobalAveragePool", ["r4"], ["g5"]),
    ("Flatten_6", "Flatten", ["g5"], ["f6"]),
    ("Gemm_7", "Gemm", ["f6", "w7"], ["y"]),
]
PLAIN_LAYERS = [
    L("Conv_0 + Relu_1", ["Conv_0", "Relu_1"], dims_in=[1, 3, 8, 8], ms=0.3),
    L("Conv_2 + Add_3 + Relu_4", ["Conv_2", "Add_3", "Relu_4"], ms=0.4),
    L("GlobalAveragePool_5", ["GlobalAveragePool_5"], type="CaskPooling", dims_out=[1, 8, 1, 1], ms=0.1),
    L("Gemm_7", ["Gemm_7"], dims_in=[1, 8], dims_out=[1, 10], ms=0.2),
]
# B: the same network exported with Q/DQ in front of each convolution; every node renumbered, and B's first
# Relu is named "Relu_4", the name of A's *last* Relu (an exporter coincidence that must not pair them).
QAT: list[Node] = [
    ("QuantizeLinear_0", "QuantizeLinear", ["x", "s", "z"], ["q0"]),
    ("DequantizeLinear_1", "DequantizeLinear", ["q0", "s", "z"], ["d1"]),
    ("Conv_4", "Conv", ["d1", "w0"], ["c4"]),
    ("Relu_4", "Relu", ["c4"], ["r5"]),
    ("QuantizeLinear_6", "QuantizeLinear", ["r5", "s", "z"], ["q6"]),
    ("DequantizeLinear_7", "DequantizeLinear", ["q6", "s", "z"], ["d7"]),
    ("Conv_10", "Conv", ["d7", "w2"], ["c10"]),
    ("Add_11", "Add", ["c10", "r5"], ["a11"]),
    ("Relu_12", "Relu", ["a11"], ["r12"]),
    ("GlobalAveragePool_13", "GlobalAveragePool", ["r12"], ["g13"]),
    ("Flatten_14", "Flatten", ["g13"], ["f14"]),
    ("Gemm_17", "Gemm", ["f14", "w7"], ["y"]),
]
QAT_LAYERS = [
    L("QuantizeLinear_0", ["QuantizeLinear_0"], type="Reformat", dtype="Int8", dims_in=[1, 3, 8, 8],
      dims_out=[1, 3, 8, 8], ms=0.05),
    L("Conv_4 + Relu_4", ["DequantizeLinear_1", "Conv_4", "Relu_4", "QuantizeLinear_6"], dtype="Int8",
      dims_in=[1, 3, 8, 8], ms=0.1),
    L("Conv_10 + Add_11 + Relu_12", ["DequantizeLinear_7", "Conv_10", "Add_11", "Relu_12"], dtype="Int8", ms=0.15),
    L("GlobalAveragePool_13", ["GlobalAveragePool_13"], type="CaskPooling", dims_out=[1, 8, 1, 1], ms=0.1),
    L("Gemm_17", ["Gemm_17"], dims_in=[1, 8], dims_out=[1, 10], ms=0.2),
]
EXPECTED_PAIRS = {"Conv_0": "Conv_4", "Relu_1": "Relu_4", "Conv_2": "Conv_10", "Add_3": "Add_11",
                  "Relu_4": "Relu_12", "GlobalAveragePool_5": "GlobalAveragePool_13", "Flatten_6": "Flatten_14",
                  "Gemm_7": "Gemm_17"}


def _pairs(d: trtscope.analysis.diff.Diff) -> dict[str, str]:
    m = d.nodes[d.nodes["presence"] == "matched"]
    return dict(zip(m["node_a"], m["node_b"], strict=True))


def test_renumbered_qat_export_matched_structurally(tmp_path: Path) -> None:
    a = trtscope.load(write_engine(tmp_path / "a", PLAIN_LAYERS, PLAIN, ("w0", "w2", "w7")))
    b = trtscope.load(write_engine(tmp_path / "b", QAT_LAYERS, QAT, ("w0", "w2", "w7", "s", "z")))
    d = diff(a, b)
    assert _pairs(d) == EXPECTED_PAIRS
    assert not d.summary.match.names_shared
    assert set(d.nodes.loc[d.nodes["presence"] == "matched", "match"]) == {"structural"}
    only_b = d.nodes[d.nodes["presence"] == "only_b"]
    assert set(only_b["node_b"]) == {n for n, op, _, _ in QAT if op in ("QuantizeLinear", "DequantizeLinear")}
    assert only_b["reason"].str.startswith("Q/DQ node").all()
    assert d.summary.match.only_a == 0
    # the compute pairs agree on shapes, surroundings and neighbours: full confidence
    comp = d.nodes[(d.nodes["node_class"] == "compute") & (d.nodes["presence"] == "matched")]
    assert (comp["confidence"] > 0.8).all()
    # precision: every A layer is FP32, the QAT convolution layers Int8 (narrower: no fallback)
    conv = d.nodes.set_index("node_a").loc[["Conv_0", "Conv_2"]]
    assert list(conv["precision_b"]) == ["Int8", "Int8"] and not conv["precision_fallback"].any()
    # one new Q/DQ layer in front of Conv_0 (placed through the layer tensors)
    qdq = d.inserted[d.inserted["kind"] == "qdq"]
    assert list(zip(qdq["serves"], qdq["direction"], qdq["change"], strict=True)) == [("Conv_0", "input", "new")]
    # the reverse direction pairs the same nodes
    assert _pairs(diff(b, a)) == {v: k for k, v in EXPECTED_PAIRS.items()}


# Shared names; B inserts a Mul between Conv_0 and Relu_1, which breaks their fusion.
BROKEN: list[Node] = [
    ("Conv_0", "Conv", ["x", "w0"], ["c0"]),
    ("Mul_9", "Mul", ["c0", "m"], ["m9"]),
    ("Relu_1", "Relu", ["m9"], ["r1"]),
    *PLAIN[2:],
]
BROKEN_LAYERS = [
    L("Conv_0", ["Conv_0"], dims_in=[1, 3, 8, 8], ms=0.3),
    L("Mul_9", ["Mul_9"], type="PointWiseV2", ms=0.05),
    L("Relu_1", ["Relu_1"], type="PointWiseV2", ms=0.05),
    L("Reformatting CopyNode for Input Tensor 0 to Conv_2 + Add_3 + Relu_4", [], type="Reformat", ms=0.02),
    *PLAIN_LAYERS[1:],
]


def test_fusion_broken_by_an_inserted_op(tmp_path: Path) -> None:
    a = trtscope.load(write_engine(tmp_path / "a", PLAIN_LAYERS, PLAIN, ("w0", "w2", "w7")))
    b = trtscope.load(write_engine(tmp_path / "b", BROKEN_LAYERS, BROKEN, ("w0", "w2", "w7", "m")))
    d = diff(a, b)
    assert d.summary.match.names_shared
    assert _pairs(d) == {n: n for n, *_ in PLAIN}
    assert set(d.nodes.loc[d.nodes["presence"] == "matched", "match"]) == {"exact"}
    only_b = d.nodes[d.nodes["presence"] == "only_b"]
    assert list(only_b["node_b"]) == ["Mul_9"] and only_b["reason"].iat[0] == "A has no Mul node"
    by = d.nodes.set_index("node_a")
    assert set(by.index[by["newly_unfused"]]) == {"Conv_0", "Relu_1"}
    assert d.summary.newly_unfused == 2 and d.summary.fusion_changes == 2
    assert by.at["Conv_0", "fused_with_a"] == ["Relu_1"] and by.at["Conv_0", "fused_with_b"] == []
    assert d.summary.reformats_new == d.summary.reformats_new_copying == 1
    assert list(d.reformats["serves"]) == ["Conv_2"]
    # times: Conv_0's layer 0.3 ms on both sides (anchor attribution), Relu_1 0 -> 0.05
    assert by.at["Conv_0", "delta_ms"] == 0.0
    assert abs(by.at["Relu_1", "ms_b"] - 0.05) < 1e-12
    first = d.changes.iloc[0]
    assert first["kind"] in ("newly_unfused", "new_reformat")


def test_one_side_without_onnx_model(tmp_path: Path) -> None:
    """A names-only side (no ONNX model): nodes are those the engine names; names shared -> exact pairs."""
    a = trtscope.load(write_engine(tmp_path / "a", PLAIN_LAYERS, PLAIN, ("w0", "w2", "w7")))
    b = trtscope.load(write_engine(tmp_path / "b", BROKEN_LAYERS, None))
    d = diff(a, b)
    matched = _pairs(d)
    named_in_b = {n for lay in BROKEN_LAYERS for n in lay.nodes}
    assert matched == {n: n for n, *_ in PLAIN if n in named_in_b}
    # Flatten_6 is folded in A and B (no model) cannot know it
    flat = d.nodes.set_index("node_a").loc["Flatten_6"]
    assert flat["presence"] == "only_a" and "no ONNX model" in flat["reason"]
    assert any("no ONNX model" in w for w in d.warnings)


LN_A: list[Node] = [
    ("/fc1/MatMul", "MatMul", ["x", "w1"], ["m1"]),
    ("/ln/LayerNormalization", "LayerNormalization", ["m1", "g", "b"], ["l1"]),
    ("/fc2/MatMul", "MatMul", ["l1", "w2"], ["y"]),
]
LN_B: list[Node] = [
    ("/fc1/MatMul", "MatMul", ["x", "w1"], ["m1"]),
    ("/ln/ReduceMean", "ReduceMean", ["m1"], ["u"]),
    ("/ln/Sub", "Sub", ["m1", "u"], ["d"]),
    ("/ln/Pow", "Pow", ["d", "two"], ["p"]),
    ("/ln/ReduceMean_1", "ReduceMean", ["p"], ["v"]),
    ("/ln/Add", "Add", ["v", "eps"], ["ve"]),
    ("/ln/Sqrt", "Sqrt", ["ve"], ["s"]),
    ("/ln/Div", "Div", ["d", "s"], ["n"]),
    ("/ln/Mul", "Mul", ["n", "g"], ["ng"]),
    ("/ln/Add_1", "Add", ["ng", "b"], ["l1"]),
    ("/fc2/MatMul", "MatMul", ["l1", "w2"], ["y"]),
]


def test_layernorm_one_op_against_decomposed(tmp_path: Path) -> None:
    la = [L("/fc1/MatMul", ["/fc1/MatMul"], ms=0.2), L("/ln/LayerNormalization", ["/ln/LayerNormalization"],
                                                       type="kgen", ms=0.05),
          L("/fc2/MatMul", ["/fc2/MatMul"], ms=0.2)]
    lb = [L("/fc1/MatMul", ["/fc1/MatMul"], ms=0.2),
          L("__myl_ReduSubPowReduAddSqrtDivMulAdd_myl0_0", [n for n, *_ in LN_B[1:-1]], type="kgen", ms=0.08),
          L("/fc2/MatMul", ["/fc2/MatMul"], ms=0.2)]
    a = trtscope.load(write_engine(tmp_path / "a", la, LN_A, ("w1", "w2", "g", "b")))
    b = trtscope.load(write_engine(tmp_path / "b", lb, LN_B, ("w1", "w2", "g", "b", "two", "eps")))
    d = diff(a, b)
    assert _pairs(d) == {"/fc1/MatMul": "/fc1/MatMul", "/fc2/MatMul": "/fc2/MatMul"}
    only_a = d.nodes[d.nodes["presence"] == "only_a"]
    assert list(only_a["node_a"]) == ["/ln/LayerNormalization"]
    assert only_a["reason"].iat[0] == "B has no LayerNormalization node"
    assert set(d.nodes.loc[d.nodes["presence"] == "only_b", "node_b"]) == {n for n, *_ in LN_B[1:-1]}
    ops = d.op_types.set_index("op_type")
    assert ops.at["LayerNormalization", "nodes_a"] == 1 and ops.at["LayerNormalization", "nodes_b"] == 0
    assert abs(ops.at["LayerNormalization", "ms_a"] - 0.05) < 1e-12
