"""Each lint rule on an engine built here whose outcome is known by construction: an ONNX model made with
onnx.helper and the layer listing / profile / trtexec metadata TensorRT would write for the stated fusion and
precision outcome. The expected findings are stated from that construction, never read from lint's output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import trtscope
from tests.lint_build import H8, H32, I8, F, layer, save_model, tensor, write_engine
from trtscope.analysis.lint import RULES, LintResult, findings_for, lint
from trtscope.model.outputs import LINT_FINDINGS, LINT_TARGETS


def _lint(d: Path, **kw: Any) -> LintResult:
    return lint(trtscope.load(d), **kw)


def _of(r: LintResult, rule: str) -> list[Any]:
    return [f for f in r.findings if f.rule == rule]


# -- Q/DQ: a quantized conv whose output a float op reads; one with quantized weights but a float input ----------
def _qdq_engine(d: Path) -> None:
    save_model(d / "m.onnx", [
        ("dq_x", "DequantizeLinear", ["xq", "s"], ["x1"]),
        ("dq_w", "DequantizeLinear", ["wq", "s"], ["w1"]),
        ("conv1", "Conv", ["x1", "w1"], ["c1"]),
        ("sig", "Sigmoid", ["c1"], ["g1"]),
        ("q2", "QuantizeLinear", ["g1", "s"], ["q2o"]),
        ("dq2", "DequantizeLinear", ["q2o", "s"], ["d2"]),
        ("dq_w2", "DequantizeLinear", ["wq2", "s"], ["w2"]),
        ("conv2", "Conv", ["d2", "w2"], ["c2"]),
        ("dq_w3", "DequantizeLinear", ["wq3", "s"], ["w3"]),
        ("conv3", "Conv", ["c2", "w3"], ["y"]),
    ], inits=("s", "wq", "wq2", "wq3"), inputs=("xq",))
    write_engine(d, [
        layer("conv1", "CaskConvolution", [tensor("xq", I8)], [tensor("c1", H32)], ["dq_x", "dq_w", "conv1"]),
        layer("sig", "PointWiseV2", [tensor("c1", H32)], [tensor("g1", H32)], ["sig"]),
        layer("q2", "Reformat", [tensor("g1", H32)], [tensor("q2o", I8)], ["q2"], Origin="QDQ"),
        layer("conv2", "CaskConvolution", [tensor("q2o", I8)], [tensor("c2", H8)], ["dq2", "dq_w2", "conv2"]),
        layer("conv3", "CaskConvolution", [tensor("c2", H8)], [tensor("y", F)], ["dq_w3", "conv3"]),
    ], times={"conv1": 0.1, "sig": 0.02, "q2": 0.01, "conv2": 0.1, "conv3": 0.1}, precision="FP32+FP16+INT8")


def test_int8_region_broken_names_the_breaking_op(tmp_path: Path) -> None:
    _qdq_engine(tmp_path)
    r = _lint(tmp_path)
    q2 = sorted(_of(r, "Q002"), key=lambda f: f.layers)
    # conv1 writes FP16 because the Sigmoid reads it: the finding names the Sigmoid and counts it and the quantizer;
    # conv2 writes FP16 because conv3 reads it without a Q/DQ; conv3 has quantized weights but a float input
    assert [f.layers for f in q2] == [(0, 1, 2), (3, 4), (4,)]
    assert "sig reads it in float" in q2[0].title and q2[0].onnx_nodes == ("sig", "conv1")
    assert "conv3 reads it in float" in q2[1].title and q2[1].onnx_nodes == ("conv3", "conv2")
    assert "quantized weights but reads Half" in q2[2].title and q2[2].onnx_nodes[0] == "conv3"
    # the standalone quantizer after the Sigmoid; no residual Add and no pooling here
    assert [f.layers[0] for f in _of(r, "Q001")] == [2]
    assert not _of(r, "Q003") and not _of(r, "Q004")


def test_dequantize_into_an_op_without_int8(tmp_path: Path) -> None:
    save_model(tmp_path / "m.onnx", [
        ("q", "QuantizeLinear", ["x", "s"], ["xq"]),
        ("dq", "DequantizeLinear", ["xq", "s"], ["xd"]),
        ("softmax", "Softmax", ["xd"], ["sm"]),
        ("dq_w", "DequantizeLinear", ["wq", "s"], ["w"]),
        ("mm", "MatMul", ["sm", "w"], ["y"]),
    ], inits=("s", "wq"))
    write_engine(tmp_path, [
        layer("q", "Reformat", [tensor("x", F)], [tensor("xq", I8)], ["q"], Origin="QDQ"),
        layer("dq", "Reformat", [tensor("xq", I8)], [tensor("xd", F)], ["dq"], Origin="QDQ"),
        layer("softmax", "CudaSoftMax", [tensor("xd", F)], [tensor("sm", F)], ["softmax"]),
        layer("mm", "CaskGemm", [tensor("sm", F)], [tensor("y", F)], ["dq_w", "mm"]),
    ])
    found = _of(_lint(tmp_path), "Q005")
    # the DQ -> Softmax pair; the weight DQ -> MatMul is a reader TensorRT runs in INT8 and is not reported
    assert [f.onnx_nodes for f in found] == [("dq", "softmax")]
    assert set(found[0].layers) == {1, 2}


# -- unfused patterns: by the ONNX subgraph and the layers its nodes run in ----------------------------------------
LN = [("ln_mean", "ReduceMean", ["x"], ["m"]), ("ln_sub", "Sub", ["x", "m"], ["d"]),
      ("ln_pow", "Pow", ["d", "two"], ["p"]), ("ln_var", "ReduceMean", ["p"], ["v"]),
      ("ln_add", "Add", ["v", "eps"], ["ve"]), ("ln_sqrt", "Sqrt", ["ve"], ["sd"]),
      ("ln_div", "Div", ["d", "sd"], ["n"]), ("ln_mul", "Mul", ["n", "gamma"], ["g"]),
      ("ln_bias", "Add", ["g", "beta"], ["h"])]
ATTN = [("qk", "MatMul", ["h", "kt"], ["s0"]), ("scale", "Mul", ["s0", "sc"], ["s1"]),
        ("cast", "Cast", ["s1"], ["s2"]), ("softmax", "Softmax", ["s2"], ["p0"]),
        ("pv", "MatMul", ["p0", "v0"], ["a"])]
MLP = [("fc1", "MatMul", ["a", "w1"], ["f1"]), ("fc1_bias", "Add", ["f1", "b1"], ["f2"]),
       ("g_div", "Div", ["f2", "sqrt2"], ["g1"]), ("g_erf", "Erf", ["g1"], ["g2"]),
       ("g_add", "Add", ["g2", "one"], ["g3"]), ("g_mul", "Mul", ["f2", "g3"], ["g4"]),
       ("g_half", "Mul", ["g4", "half"], ["g5"])]
SOFT = [("sm_max", "ReduceMax", ["g5"], ["mx"]), ("sm_sub", "Sub", ["g5", "mx"], ["e0"]),
        ("sm_exp", "Exp", ["e0"], ["e1"]), ("sm_sum", "ReduceSum", ["e1"], ["e2"]),
        ("sm_div", "Div", ["e1", "e2"], ["y"])]
CONSTS = ("two", "eps", "gamma", "beta", "kt", "sc", "v0", "w1", "b1", "sqrt2", "one", "half")


def _names(spec: list[Any]) -> list[str]:
    return [n[0] for n in spec]


def _myelin_layers(groups: list[list[str]], tensors: bool = False) -> list[dict[str, Any]]:
    out = []
    for k, nodes in enumerate(groups):
        out.append(layer(f"__myl_L{k}_myl0_{k}", "kgen", [tensor(f"t{k}", "Half")], [tensor(f"t{k + 1}", "Half")],
                         nodes))
    return out


def test_patterns_split_over_layers_are_reported(tmp_path: Path) -> None:
    """LayerNorm split in two layers, attention in three (a Cast breaks it), the bias Add of fc1 apart from it,
    GELU in two, the written-out softmax in two."""
    save_model(tmp_path / "m.onnx", LN + ATTN + MLP + SOFT, inits=CONSTS)
    ln, attn, mlp, soft = _names(LN), _names(ATTN), _names(MLP), _names(SOFT)
    groups = [ln[:4], ln[4:], attn[:2], attn[2:3], attn[3:], mlp[:1], mlp[1:4], mlp[4:], soft[:3], soft[3:]]
    write_engine(tmp_path, _myelin_layers(groups))
    r = _lint(tmp_path)
    assert [(f.onnx_nodes[0], f.layers) for f in _of(r, "F002")] == [("ln_mean", (0, 1))]
    att = _of(r, "F005")
    assert len(att) == 1 and att[0].onnx_nodes[0] == "softmax" and att[0].layers == (2, 3, 4)
    assert "cast" in att[0].title  # the fusion breaker is named
    assert [(f.onnx_nodes[0], f.onnx_nodes[-1]) for f in _of(r, "F001")] == [("fc1_bias", "fc1")]
    assert [(f.onnx_nodes[0], f.layers) for f in _of(r, "F003")] == [("g_erf", (6, 7))]
    assert [(f.onnx_nodes[0], f.layers) for f in _of(r, "F004")] == [("sm_exp", (8, 9))]


def test_patterns_fused_in_one_layer_are_not_reported(tmp_path: Path) -> None:
    save_model(tmp_path / "m.onnx", LN + ATTN + MLP + SOFT, inits=CONSTS)
    groups = [_names(LN), _names(ATTN), _names(MLP), _names(SOFT)]
    write_engine(tmp_path, _myelin_layers(groups))
    r = _lint(tmp_path)
    assert not [f for f in r.findings if f.rule.startswith("F")]


# -- precision, Tensor Cores, reformats, launch-bound, measurement trust --------------------------------------------
def _fp16_engine(d: Path, tactic: str = "sm80_xmma_fprop_implicit_gemm_f16f16_f16f16_f16_nhwckrsc_nhwc_ffma",
                 cuda_graph: bool | None = None, tiny: int = 0, tiny_ms: float = 0.002) -> None:
    nodes = [("conv", "Conv", ["x", "w"], ["c"]), ("relu", "Relu", ["c"], ["r"]), ("soft", "Softmax", ["r"], ["s"])]
    nodes += [(f"add{k}", "Add", [nodes[-1][3][0], "w"], [f"a{k}"]) for k in range(tiny)]
    nodes += [("cast", "Cast", [nodes[-1][3][0]], ["y"])]
    save_model(d / "m.onnx", nodes, inits=("w",))
    layers = [
        layer("conv + relu", "CaskConvolution", [tensor("x", H8, (1, 50, 8, 8))], [tensor("r0", H8, (1, 50, 8, 8))],
              ["conv", "relu"], TacticName=tactic),
        layer("Reformatting CopyNode for Input Tensor 0 to soft", "Reformat", [tensor("r0", H8, (1, 50, 8, 8))],
              [tensor("r", F, (1, 50, 8, 8))], Origin="REFORMAT"),
        layer("soft", "CudaSoftMax", [tensor("r", F, (1, 50, 8, 8))], [tensor("s", F, (1, 50, 8, 8))], ["soft"]),
    ]
    prev = "s"
    for k in range(tiny):
        layers.append(layer(f"add{k}", "PointWiseV2", [tensor(prev, F)], [tensor(f"a{k}", F)], [f"add{k}"]))
        prev = f"a{k}"
    layers.append(layer("cast", "Cast", [tensor(prev, F)], [tensor("y", "Int32")], ["cast"]))
    times = {"conv + relu": 0.1, "Reformatting CopyNode for Input Tensor 0 to soft": 0.02, "soft": 0.05,
             "cast": 0.001, **{f"add{k}": tiny_ms for k in range(tiny)}}
    write_engine(d, layers, times=times, precision="FP32+FP16", cuda_graph=cuda_graph)


def test_precision_alignment_tactic_and_reformat(tmp_path: Path) -> None:
    _fp16_engine(tmp_path)
    r = _lint(tmp_path)
    # Softmax runs FP32 in an FP16 build (0.05 of 0.171 ms: a warning); the Cast writes Int32: not a fallback
    p = _of(r, "P001")
    assert [(f.layers, f.severity.value) for f in p] == [((2,), "warning")]
    # 50 channels in FP16: not a multiple of 8 (next: 56), input and output
    t1 = _of(r, "T001")
    assert len(t1) == 1 and t1[0].layers == (0,) and "input channels 50 and output channels 50" in t1[0].title
    assert any(e.data.get("multiple") == 8 for e in t1[0].evidence)
    # an FFMA (scalar) tactic on a conv with 58% of the time
    assert [f.layers for f in _of(r, "T002")] == [(0,)]
    # the FP16 -> FP32 reformat between the conv and the softmax
    r1 = _of(r, "R001")
    assert len(r1) == 1 and r1[0].layers == (1,) and "Half HWC8 → Float linear" in r1[0].title
    assert r1[0].ms == pytest.approx(0.02)


def test_tensor_core_tactic_is_not_reported(tmp_path: Path) -> None:
    _fp16_engine(tmp_path, tactic="sm80_xmma_fprop_implicit_gemm_f16f16_f16f16_f16_nhwckrsc_nhwc_tilesize128x128")
    assert not _of(_lint(tmp_path), "T002")


@pytest.mark.parametrize(("tiny", "graph", "l001", "m003"), [
    (40, False, "warning", True),  # 40 x 2 µs = 0.08 of 0.251 ms (32 %): launch-bound, graphs off
    (40, True, "warning", False),  # the same with CUDA graphs on: nothing to say about graphs
    (12, None, "info", False),  # 0.024 of 0.195 ms (12 %): a note; graph status unknown
    (3, False, None, False),  # 0.006 of 0.177 ms (3 %): nothing
])
def test_tiny_layers_and_cuda_graphs(tmp_path: Path, tiny: int, graph: bool | None, l001: str | None,
                                     m003: bool) -> None:
    _fp16_engine(tmp_path, cuda_graph=graph, tiny=tiny)
    r = _lint(tmp_path)
    found = _of(r, "L001")
    assert [f.severity.value for f in found] == ([l001] if l001 else [])
    if found:
        assert len(found[0].layers) == tiny + 1  # the Cast (1 µs) is tiny too
        assert found[0].ms == pytest.approx(tiny * 0.002 + 0.001)
    assert bool(_of(r, "M003")) == m003


def test_profile_that_does_not_match_some_layers(tmp_path: Path) -> None:
    _fp16_engine(tmp_path)
    import json

    prof = json.loads((tmp_path / "engine.profile.json").read_text())
    prof[3]["name"] = "a layer of another build"  # the softmax's entry
    (tmp_path / "engine.profile.json").write_text(json.dumps(prof))
    found = _of(_lint(tmp_path), "M002")
    assert len(found) == 1 and found[0].severity.value == "error"
    assert "disagree on 2 layers" in found[0].title  # 'soft' unprofiled, one profile-only layer


def test_kgen_share(tmp_path: Path) -> None:
    save_model(tmp_path / "m.onnx", LN, inits=CONSTS)
    groups = [[n] for n in _names(LN)]
    layers = _myelin_layers(groups)
    layers[0]["LayerType"] = "gemm"
    write_engine(tmp_path, layers, times={x["Name"]: 0.01 for x in layers})
    found = _of(_lint(tmp_path), "L002")
    # 8 of 9 layers are kgen, 89 % of the time
    assert len(found) == 1 and found[0].severity.value == "warning" and len(found[0].layers) == 8


# -- the findings tables -----------------------------------------------------------------------------------------
def test_tables_follow_their_declarations_and_select_by_layer_and_node(tmp_path: Path) -> None:
    _qdq_engine(tmp_path)
    a = trtscope.load(tmp_path)
    r = lint(a)
    table = r.table()
    assert list(table.columns) == LINT_FINDINGS.names and len(table) == len(r.findings)
    targets = findings_for(a)
    assert list(targets.columns) == LINT_TARGETS.names
    for i in range(len(a.layers)):
        expected = [k for k, f in enumerate(r.findings) if i in f.layers]
        assert targets.loc[targets["layer_index"].eq(i).fillna(False), "finding"].tolist() == expected
    for node in ("sig", "conv3"):
        expected = [k for k, f in enumerate(r.findings) if node in f.onnx_nodes]
        assert targets.loc[targets["node"].eq(node), "finding"].tolist() == expected
    # worst first
    ranks = [f.severity for f in r.findings]
    order = {"error": 0, "warning": 1, "info": 2}
    assert [order[s.value] for s in ranks] == sorted(order[s.value] for s in ranks)


def test_selection_by_id_prefix_and_name(tmp_path: Path) -> None:
    _qdq_engine(tmp_path)
    a = trtscope.load(tmp_path)
    assert {f.rule for f in lint(a, select=["Q"]).findings} <= {r for r in RULES if r.startswith("Q")}
    assert not [f for f in lint(a, ignore=["Q"]).findings if f.rule.startswith("Q")]
    assert {f.rule for f in lint(a, select=["int8-region-broken"]).findings} == {"Q002"}
    from trtscope.errors import TrtscopeError

    with pytest.raises(TrtscopeError, match="no such rule"):
        lint(a, select=["Z9"])
