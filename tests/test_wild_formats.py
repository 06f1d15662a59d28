"""Format variations seen in public TensorRT artifacts (docs/inputs.md, "Seen in the wild"), each reproduced by a
small input the test types itself; expected values are computed from that input, never read from trtscope."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import trtscope
from tests.lint_build import H8, F, layer, tensor, write_engine
from trtscope.analysis.lint import lint
from trtscope.model import names as nm
from trtscope.parsers.detect import sniff
from trtscope.parsers.log_facts import facts_from_log
from trtscope.parsers.profile import profile_from_log

# (name, total ms, average ms, median ms, share %): names with spaces, brackets, colons and a trailing number
ROWS = [
    ("Reformatting CopyNode for Input Tensor 0 to conv1 + relu1", 12.5, 0.0391, 0.0380, 2.1),
    ("conv1 + relu1", 310.25, 0.9695, 0.9650, 52.4),
    ("model/add/x:0 + (Unnamed Layer* 7) [Shuffle] + model/add", 41.0, 0.1281, 0.1200, 6.9),
    ("{ForeignNode[attn/MatMul...attn/Softmax]}", 220.5, 0.6891, 0.6800, 37.2),
    ("head 12", 8.0, 0.0250, 0.0240, 1.4),
]


def _name_first_table(iters: int, prefix: str, median: bool, avg_digits: int) -> str:
    """The table trtexec 7.1-8.5 prints (samples/common/sampleReporting.cpp, Profiler::print): the name right-aligned
    to the longest name + 1, then fields as wide as their headers."""
    width = max(len("Layer"), max(len(r[0]) for r in ROWS) + 1)
    head = "Layer".rjust(width) + "   Time (ms)   Avg. Time (ms)"
    head += ("   Median Time (ms)" if median else "") + "   Time %"
    lines = ["&&&& RUNNING TensorRT.trtexec [TensorRT v8502] # trtexec --loadEngine=m.engine --dumpProfile",
             f"{prefix}=== Profile ({iters} iterations ) ===", prefix + head]
    total = [0.0, 0.0, 0.0]
    for name, t, a, m, p in ROWS:
        row = name.rjust(width) + f"{t:12.2f}" + f"{a:17.{avg_digits}f}"
        row += (f"{m:19.4f}" if median else "") + f"{p:9.1f}"
        lines.append(prefix + row)
        total = [total[0] + t, total[1] + a, total[2] + m]
    lines.append(prefix + "Total".rjust(width) + f"{total[0]:12.2f}" + f"{total[1]:17.{avg_digits}f}"
                 + (f"{total[2]:19.4f}" if median else "") + f"{100.0:9.1f}")
    lines.append(prefix)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("prefix", "median", "avg_digits"), [
    ("[10/21/2025-16:00:14] [I] ", True, 4),  # 8.4 / 8.5 (XMR13/ALPR_Jetson, TensorRT 8.5.2 on Xavier)
    ("[I] ", False, 2),  # 7.1 (ismetdagli/HaX-CoNN README, TensorRT 7.1.3 on Xavier AGX)
    ("", False, 4),  # 8.0 - 8.2, no logger prefix
])
def test_name_first_dump_profile_table(tmp_path: Path, prefix: str, median: bool, avg_digits: int) -> None:
    text = _name_first_table(320, prefix, median, avg_digits)
    prof = profile_from_log(text, "p.log")
    assert prof is not None and prof.count == 320
    assert prof.times["name"].tolist() == [r[0] for r in ROWS]
    assert prof.times["total_ms"].tolist() == [round(r[1], 2) for r in ROWS]
    assert prof.times["mean_ms"].tolist() == [round(r[2], avg_digits) for r in ROWS]
    assert prof.times["percentage"].tolist() == [round(r[4], 1) for r in ROWS]
    if median:
        assert prof.times["median_ms"].tolist() == [r[3] for r in ROWS]
    else:
        assert prof.times["median_ms"].isna().all()
    # found by content in a directory, not only when named
    path = tmp_path / "run.log"
    path.write_text(text)
    a = trtscope.load(tmp_path)
    assert a.layers["name"].tolist() == [r[0] for r in ROWS]
    assert a.summary.total_ms == pytest.approx(sum(round(r[2], avg_digits) for r in ROWS))


def test_name_first_table_stops_at_a_row_it_cannot_read() -> None:
    lines = _name_first_table(10, "[I] ", True, 4).split("\n")
    at = next(i for i, line in enumerate(lines) if "head 12" in line)
    lines[at] = lines[at].rsplit(None, 1)[0] + "      n/a"  # a share that is no number: not a row
    text = "\n".join(lines)
    warnings: list[str] = []
    prof = profile_from_log(text, "p.log", warnings)
    assert prof is not None and prof.times["name"].tolist() == [r[0] for r in ROWS[:-1]]
    assert any("without its Total row" in w for w in warnings)


@pytest.mark.parametrize(("code", "version"), [("8502", "8.5.2"), ("8601", "8.6.1"), ("8410", "8.4.10"),
                                                ("101601", "10.16.1")])
def test_banner_version_codes(code: str, version: str) -> None:
    # TensorRT 8 encodes major*1000 + minor*100 + patch, 10+ major*10000 + minor*100 + patch
    text = f"&&&& RUNNING TensorRT.trtexec [TensorRT v{code}] # trtexec --onnx=m.onnx\n"
    assert facts_from_log(text)["tensorrt_version"] == version


def test_pwn_arguments_holding_fusions_are_split() -> None:
    # TensorRT 8.5 (tf2onnx model): a point-wise fusion whose argument is itself a " + " fusion
    a, b, c, d = "g/Erf", "g/add/x:0", "g/add", "g/mul_1"
    name = f"PWN(PWN({a}, {b} + (Unnamed Layer* 16) [Shuffle] + {c}), {d})"
    assert nm.name_parts(name) == [a, b, "(Unnamed Layer* 16) [Shuffle]", c, d]


def test_trt7_names() -> None:
    side_by_side = ["i3a/1x1", "i3a/relu_1x1", "i3a/3x3_reduce", "i3a/relu_3x3_reduce"]
    assert nm.name_parts(f"{side_by_side[0]} + {side_by_side[1]} || {side_by_side[2]} + {side_by_side[3]}") \
        == side_by_side
    dla = ["conv1/7x7_s2", "conv1/relu_7x7", "pool1/3x3_s2"]
    assert nm.name_parts("{" + ",".join(dla) + "}") == dla
    assert nm.name_parts("{ForeignNode[a...b]}") == ["{ForeignNode[a...b]}"]  # not a DLA list
    mlp = ["(Unnamed Layer* 8) [Fully Connected]", "(Unnamed Layer* 9) [Activation]", "fc2"]
    assert nm.name_parts(f"2-layer MLP: {mlp[0]} + {mlp[1]} -> {mlp[2]}") == mlp
    assert nm.reformat_target("conv1 + relu1 input reformatter 0") == ("Input", 0, "conv1 + relu1")
    assert nm.reformat_target("pool2 output reformatter 3") == ("Output", 3, "pool2")
    assert nm.reformat_target("input reformatter 0") is None and nm.reformat_target("x reformatter 0") is None
    for event in ("data to nvm", "(Unnamed Layer* 10) [Convolution]_output from nvm", "data copy finish",
                  "loss3/classifier finish", "inception_3a/1x1 copy", "dummy_shape_call__mye622_0"):
        assert nm.is_internal_name(event), event


def test_trt7_profile_reformat_layers_and_dla_events(tmp_path: Path) -> None:
    # a TensorRT 7 --exportProfile (no medianMs): legacy reformatter names, a DLA subgraph and its copy events
    dla = ["conv1", "relu1", "pool1"]
    records = [("data to nvm", 0.03), ("{" + ",".join(dla) + "}", 0.15), ("data copy finish", 0.01),
               ("conv2 + relu2 input reformatter 0", 0.02), ("conv2 + relu2", 0.1), ("prob", 0.01)]
    count = 1000
    total = sum(ms for _, ms in records)
    doc = [{"count": count}] + [{"name": n, "timeMs": ms * count, "averageMs": ms, "percentage": 100 * ms / total}
                                for n, ms in records]
    (tmp_path / "googlenet.profile").write_text(json.dumps(doc))
    a = trtscope.load(tmp_path)
    lay = a.layers.set_index("name")
    reformat = "conv2 + relu2 input reformatter 0"
    assert lay.at[reformat, "kind"] == "reformat" and lay.at[reformat, "reformat_target"] == "conv2 + relu2"
    assert list(lay.at[reformat, "onnx_nodes"]) == []
    assert list(lay.at["{" + ",".join(dla) + "}", "onnx_nodes"]) == dla
    for event in ("data to nvm", "data copy finish"):
        assert list(lay.at[event, "onnx_nodes"]) == []
    assert a.summary.reformat.total_ms == pytest.approx(0.02)
    assert a.summary.total_ms == pytest.approx(total)


def test_fp32_engine_with_fp16_io_is_not_an_fp16_build(tmp_path: Path) -> None:
    # every compute layer runs FP32; only the output reformat writes FP16 (an FP16 output binding): no build
    # flags are known, so nothing says the build allowed FP16 and no layer is an "FP32 fallback"
    layers = [
        layer("conv", "CaskConvolution", [tensor("x", F)], [tensor("c", F)], ["conv"]),
        layer("relu", "PointWiseV2", [tensor("c", F)], [tensor("r", F)], ["relu"]),
        layer("Reformatting CopyNode for Output Tensor 0 to relu", "Reformat", [tensor("r", F)], [tensor("y", H8)],
              Origin="REFORMAT"),
    ]
    write_engine(tmp_path, layers, times={x["Name"]: 0.1 for x in layers})
    assert [f for f in lint(trtscope.load(tmp_path)).findings if f.rule == "P001"] == []
    # the same engine with an FP16 compute layer: the FP32 conv is reported
    layers[1] = layer("relu", "PointWiseV2", [tensor("c", F)], [tensor("r", H8)], ["relu"])
    write_engine(tmp_path, layers, times={x["Name"]: 0.1 for x in layers})
    assert [f.layers for f in lint(trtscope.load(tmp_path)).findings if f.rule == "P001"] == [(0,)]


def test_sniffed_name_first_log_is_a_profile(tmp_path: Path) -> None:
    path = tmp_path / "cct.log"
    path.write_text(_name_first_table(5, "[10/21/2025-16:00:14] [I] ", True, 4))
    found = sniff(path)
    assert found.profile is not None and len(found.profile.times) == len(ROWS)
    assert found.metadata.get("tensorrt_version") == "8.5.2"


def _two_profile_layers() -> list[tuple[str, str, list[str]]]:
    """A TensorRT 10 Myelin engine built with two optimization profiles: (name, type, ONNX nodes) per layer of
    profile 0, in order (wili-65535/trt-samples-for-hackathon-cn, cookbook/04-Feature/EngineInspector)."""
    return [("__mye362_0_myl0_0", "shape_call", []), ("__myl_Move_myl0_1", "kgen", []),
            ("node_conv2d_myl0_2", "correlation", ["node_conv2d", "node_relu"]),
            ("node_linear_myl0_3", "gemm", ["node_linear"]), ("__myl_MaxrSubExpSum_myl0_4", "kgen", ["node_softmax"])]


def _profile_1_name(name: str) -> str:
    """Profile 1's copy: region 1, and `` [profile 1]`` before the Myelin suffix where the name has a source."""
    head, _, index = name.rpartition("_myl0_")
    return f"{head}_myl1_{index}" if head.startswith("__my") else f"{head} [profile 1]_myl1_{index}"


@pytest.mark.parametrize("form", ["json", "oneline"])
def test_second_optimization_profile_is_not_counted_as_more_layers(tmp_path: Path, form: str) -> None:
    base = _two_profile_layers()
    rows = [(n, t, nodes) for n, t, nodes in base] + [(_profile_1_name(n), t, nodes) for n, t, nodes in base]
    if form == "json":
        doc = {"Layers": [{"Name": n, "LayerType": t, "Metadata": "\x1f".join(f"[ONNX Layer: {x}]" for x in nodes)}
                          for n, t, nodes in rows]}
        (tmp_path / "engine.layers.json").write_text(json.dumps(doc))
    else:
        lines = ["[07/22/2026-00:33:43] [I] Layers:"] + [
            f"Name: {n}, LayerType: {t}, Inputs: [], Outputs: [], TacticName: , StreamId: 0, Metadata: "
            + "\x1f".join(f"[ONNX Layer: {x}]" for x in nodes) for n, t, nodes in rows]
        (tmp_path / "build.log").write_text("\n".join(lines) + "\n")
    a = trtscope.load(tmp_path)
    assert a.layers["name"].tolist() == [n for n, _, _ in base]
    assert [list(x) for x in a.layers["onnx_nodes"]] == [nodes for _, _, nodes in base]
    assert a.artifacts.layer_info is not None and a.artifacts.layer_info.dropped_profiles == len(base)


def test_torch_tensorrt_layer_names() -> None:
    # Torch-TensorRT (dynamo) names layers [TRT layer type]-[converter target]-[FX node]; helpers stay plain
    conv, relu, mm, add = "/features/0/convolution_1", "/features/1/relu_1", "/fc/addmm_mm", "/fc/addmm_add"
    fused = f"[CONVOLUTION]-[aten_ops.convolution.default]-[{conv}] + [RELU]-[aten_ops.relu.default]-[{relu}]"
    assert nm.name_parts(fused) == [conv, relu]
    gemm = (f"[MATRIX_MULTIPLY]-[aten_ops.addmm.default]-[{mm}] + /fc/addmm_constant_0 + "
            f"/fc/addmm_add_broadcast_to_same_shape_lhs_broadcast + [ELEMENTWISE]-[aten_ops.addmm.default]-[{add}]")
    assert nm.name_parts(gemm) == [mm, add]
    cast = f"Forced Cast ITensor [RELU]-[aten_ops.relu.default]-[{relu}]_output from DataType.HALF to " \
           "DataType.HALF - [aten_ops.torch.ops.aten.clone.default]-[/fc/clone_1]"
    assert nm.name_parts(cast) == ["/fc/clone_1"]
    # TensorRT's own helper around a Torch-TensorRT layer is still no node
    assert nm.is_internal_name(nm.name_parts(f"reshape_before_[MATRIX_MULTIPLY]-[aten_ops.addmm.default]-[{mm}]")[0])
    assert nm.name_parts("[weird]-[not a target]-[x]") == ["[weird]-[not a target]-[x]"]
    ops = frozenset({"Conv", "Relu"})
    assert [nm.op_type_from_name(n, ops) for n in (conv, relu, "/features/2/max_pool2d_default_1")] \
        == ["Conv", "Relu", "MaxPool"]


def test_tensor_names_in_layer_names_are_not_nodes(tmp_path: Path) -> None:
    # names-only layer info (no ONNX model): PyTorch's folded BatchNorm constants (onnx::Mul_N), constants named
    # after their tensor and cloned by TensorRT (_output_0_clone_N), and TensorFlow tensors (x:0) are no nodes
    conv, mul, add, relu = "/m/conv1/Conv", "/m/bn1/Mul", "/m/bn1/Add", "/m/act1/Relu"
    names = ["/m/Transpose_1_output_0", "/m/Transpose_1_output_0_clone_1",
             f"{conv} + onnx::Mul_4104 + {mul} + onnx::Add_4106 + {add} + {relu}",
             "tf/add/x:0 + (Unnamed Layer* 2) [Shuffle] + tf/add", "Transpose__108"]
    (tmp_path / "engine.layers.json").write_text(json.dumps({"Layers": names}))
    a = trtscope.load(tmp_path)
    assert [list(x) for x in a.layers["onnx_nodes"]] == [[], [], [conv, mul, add, relu], ["tf/add"], ["Transpose__108"]]


def test_blank_lines_between_listing_entries(tmp_path: Path) -> None:
    # a log whose lines are separated by blank lines (seen in a TensorRT 8.6 trtexec log pasted into a blog)
    names = ["{ForeignNode[a/Constant...a/Unsqueeze_6]}", "b/QuantizeLinear", "c.weight + c/QuantizeLinear + c/Conv"]
    types = ["Myelin", "Reformat", "CaskConvolution"]
    oneline = ["[01/10/2024-21:55:13] [I] Layers:", ""]
    for n, t in zip(names, types, strict=True):
        oneline += [f"Name: {n}, LayerType: {t}, Inputs: [], Outputs: [], TacticValue: 0x0", ""]
    (tmp_path / "a.log").write_text("\n".join(oneline) + "\n")
    assert trtscope.load(tmp_path / "a.log").layers["name"].tolist() == names
    legacy = ["[01/10/2024-21:55:12] [V] [TRT] Engine Layer Information:", ""]
    for n, t in zip(names, types, strict=True):
        legacy += [f"Layer({t}): {n}, Tactic: 0x0, x[Float(1,3)] -> y[Float(1,3)]", ""]
    legacy += ["[01/10/2024-21:55:12] [V] [TRT] Total per-runner device persistent memory is 130560"]
    (tmp_path / "b.log").write_text("\n".join(legacy) + "\n")
    assert trtscope.load(tmp_path / "b.log").layers["name"].tolist() == names


def test_with_an_onnx_model_the_graph_decides_over_the_name_forms(tmp_path: Path) -> None:
    """Layers named exactly as ONNX nodes whose names happen to have a TensorRT 7 form (``a || b``, ``{x,y}``,
    ``2-layer MLP: …``, ``… input reformatter 0``) or a Torch-TensorRT form run those nodes when the model is
    given; fused with another node, the node keeps its whole name. Without the model the forms still apply."""
    import onnx
    from onnx import TensorProto, helper

    odd = ["a || b", "{x,y}", "2-layer MLP: p + q -> r", "blk input reformatter 0",
           "[CONV]-[aten_ops.conv.default]-[c]", "split copy", "t:0"]
    nodes, prev = [], "in"
    for i, n in enumerate([*odd, "Relu_9"]):
        nodes.append(helper.make_node("Relu", [prev], [f"t{i}"], name=n))
        prev = f"t{i}"
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("in", TensorProto.FLOAT, [1])],
                          [helper.make_tensor_value_info(prev, TensorProto.FLOAT, [1])])
    onnx.save(helper.make_model(g), tmp_path / "m.onnx")
    names = [*odd, "{x,y} + Relu_9"]
    (tmp_path / "engine.layers.json").write_text(json.dumps({"Layers": names}))
    a = trtscope.load(layers=tmp_path / "engine.layers.json", onnx=tmp_path / "m.onnx")
    assert [list(x) for x in a.layers["onnx_nodes"]] == [[n] for n in odd] + [["{x,y}", "Relu_9"]]
    assert "reformat" not in set(a.layers["kind"]) and set(a.onnx_nodes["status"]) == {"unfused", "fused"}
    bare = trtscope.load(layers=tmp_path / "engine.layers.json")
    assert list(bare.layers["onnx_nodes"].iloc[0]) == ["a", "b"]
    assert bare.layers["kind"].iloc[3] == "reformat"
