"""``trtscope lint`` on real TensorRT artifacts: each rule where a real engine exhibits it.

Expected findings are computed here from the raw files by this test's own reading of them (layer JSON, profile
JSON, timing JSON, verbose build logs, the ONNX model through the ``onnx`` package), never from trtscope's output.
"""

from __future__ import annotations

import json
import re
import statistics
from functools import cache
from pathlib import Path
from typing import Any

import onnx
import pytest

import trtscope
from tests.conftest import own_fixture, shared_fixture
from trtscope.analysis.lint import LintResult, lint

pytestmark = pytest.mark.shared


# -- the test's own reading of the raw files ------------------------------------------------------------------------
def _raw_layers(d: Path) -> tuple[list[dict[str, Any]], list[str]]:
    f = next(iter(sorted(d.glob("*.graph.json"))), None) or next(iter(sorted(d.glob("*.exportLayerInfo.json"))))
    doc = json.loads(f.read_text(), strict=False)
    return doc["Layers"], doc.get("Bindings", [])


def _prec(fmt: str) -> str:
    """fp32 / fp16 / int8 from a 'Format/Datatype' string (this test's own reading)."""
    for token, word in (("Int8", "int8"), ("FP16", "fp16"), ("Half", "fp16"), ("FP32", "fp32"), ("Float", "fp32")):
        if token in fmt:
            return word
    return fmt


def _profile(d: Path) -> tuple[int, list[dict[str, Any]]]:
    doc = json.loads(next(iter(d.glob("*.profile.json"))).read_text(), strict=False)
    return int(doc[0]["count"]), doc[1:]


@cache
def _lint(path: str) -> LintResult:
    return lint(_analysis(path))


@cache
def _analysis(path: str) -> Any:
    return trtscope.load(path)


def _of(result: LintResult, rule: str) -> list[Any]:
    return [f for f in result.findings if f.rule == rule]


def _producer_consumers(layers: list[dict[str, Any]]) -> tuple[dict[str, int], dict[str, list[int]]]:
    prod: dict[str, int] = {}
    cons: dict[str, list[int]] = {}
    for i, layer in enumerate(layers):
        for t in layer.get("Outputs", []):
            prod[t["Name"]] = i
        for t in layer.get("Inputs", []):
            cons.setdefault(t["Name"], []).append(i)
    return prod, cons


QAT = ["trex/a100-resnet18-qat", "trex/mobilenet-qat"]


# -- reformats: every precision-changing reformat layer is reported with its cause ------------------------------------
@pytest.mark.parametrize("name", [*QAT, "trex/a100-resnet18-fp16", "trex/rtx3090-tf-resnet50-fp16"])
def test_every_precision_changing_reformat_is_reported_with_its_cause(name: str) -> None:
    """Every conversion layer (inserted reformat or standalone Q/DQ) whose input and output precision differ is
    in a finding that names the layer writing its input and the layers reading its output (the nearest ones that
    do work: inserted reformats and NoOp layers in between are passed through)."""
    d = shared_fixture(*name.split("/"))
    layers, _ = _raw_layers(d)
    prod, cons = _producer_consumers(layers)

    def inserted(j: int) -> bool:
        x = layers[j]
        copy = x.get("Origin") == "REFORMAT" or x["Name"].startswith("Reformatting CopyNode")
        return copy or x["LayerType"] == "NoOp"

    def up(j: int) -> int | None:
        p = prod.get(layers[j]["Inputs"][0]["Name"])
        return up(p) if p is not None and inserted(p) else p

    def down(j: int) -> set[int]:
        out: set[int] = set()
        for t in layers[j]["Outputs"]:
            for c in cons.get(t["Name"], []):
                out |= down(c) if inserted(c) else {c}
        return out

    expected = {}
    for i, layer in enumerate(layers):
        conversion = layer.get("Origin") in ("REFORMAT", "QDQ") or layer["Name"].startswith("Reformatting CopyNode")
        if not conversion or not layer.get("Inputs") or not layer.get("Outputs"):
            continue
        src, dst = _prec(layer["Inputs"][0]["Format/Datatype"]), _prec(layer["Outputs"][0]["Format/Datatype"])
        if src != dst:
            expected[i] = (src, dst, up(i), down(i))
    assert expected, f"{name}: no precision-changing reformat in the raw file (test premise)"
    result = _lint(str(d))
    names = [x["Name"] for x in layers]
    for i, (src, dst, p, cs) in expected.items():
        r001 = [e for f in _of(result, "R001") for e in f.evidence if e.data.get("layer") == i]
        q001 = [f for f in _of(result, "Q001") if f.layers[0] == i]
        assert len(r001) + len(q001) == 1, f"{name}: reformat #{i} {names[i]!r} ({src} -> {dst}) not reported once"
        if r001:
            data = r001[0].data
            assert (_prec(data["from"]["dtype"]), _prec(data["to"]["dtype"])) == (src, dst)
            assert (data["producer"], set(data["consumers"])) == (p, cs)
        else:
            roles = {(e.data.get("role"), e.data.get("layer")) for e in q001[0].evidence}
            assert p is None or ("producer", p) in roles
            assert {layer for role, layer in roles if role == "read by"} == cs


# -- Q/DQ ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", QAT)
def test_standalone_quantizers(name: str) -> None:
    d = shared_fixture(*name.split("/"))
    layers, bindings = _raw_layers(d)
    qdq = {i for i, x in enumerate(layers) if x.get("Origin") == "QDQ"}
    net_input = {i for i in qdq if layers[i]["Inputs"][0]["Name"] in bindings}
    found = _of(_lint(str(d)), "Q001")
    assert {f.layers[0] for f in found} == qdq
    assert {f.layers[0] for f in found if f.severity.value == "info"} == net_input


@pytest.mark.parametrize("name", QAT)
def test_residual_add_outside_int8(name: str) -> None:
    """Convolutions with an INT8 input, an Add in the fused layer and a float second (residual) input."""
    d = shared_fixture(*name.split("/"))
    layers, _ = _raw_layers(d)
    expected = set()
    for x in layers:
        ins = x.get("Inputs", [])
        if (x.get("LayerType") == "CaskConvolution" and len(ins) > 1 and _prec(ins[0]["Format/Datatype"]) == "int8"
                and _prec(ins[1]["Format/Datatype"]) in ("fp16", "fp32")):
            adds = [p for p in x["Name"].split(" + ") if p.startswith("Add_")]
            expected.add(adds[0])
    assert expected
    found = _of(_lint(str(d)), "Q003")
    assert {f.onnx_nodes[0] for f in found} == expected


@pytest.mark.parametrize("name", QAT)
def test_pooling_outside_int8(name: str) -> None:
    """Poolings that read float while an INT8 tensor is one (reformat) step away on either side."""
    d = shared_fixture(*name.split("/"))
    layers, _ = _raw_layers(d)
    prod, cons = _producer_consumers(layers)

    def near_int8(i: int) -> bool:
        seen, todo = set(), [i]
        while todo:
            j = todo.pop()
            for t in layers[j]["Inputs"] + layers[j]["Outputs"]:
                if _prec(t["Format/Datatype"]) == "int8":
                    return True
            for t in layers[j]["Inputs"]:
                p = prod.get(t["Name"])
                if p is not None and p not in seen and layers[p].get("Origin") == "REFORMAT":
                    seen.add(p)
                    todo.append(p)
            for t in layers[j]["Outputs"]:
                for c in cons.get(t["Name"], []):
                    if c not in seen and (layers[c].get("Origin") in ("REFORMAT", "QDQ")):
                        seen.add(c)
                        todo.append(c)
        return False

    expected = {x["Name"] for i, x in enumerate(layers) if "Pooling" in x.get("LayerType", "")
                and _prec(x["Inputs"][0]["Format/Datatype"]) in ("fp16", "fp32") and near_int8(i)}
    assert expected
    assert {f.onnx_nodes[0] for f in _of(_lint(str(d)), "Q004")} == expected


# -- Tensor Cores ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["trex/a100-resnet18-qat", "trex/a100-resnet18-fp32", "trex/mobilenet-qat"])
def test_non_tensor_core_tactics_on_large_layers(name: str) -> None:
    d = shared_fixture(*name.split("/"))
    layers, _ = _raw_layers(d)
    _, prof = _profile(d)
    share = {p["name"]: p["averageMs"] / sum(q["averageMs"] for q in prof) for p in prof}
    scalar = re.compile(r"int8x4|scudnn|ffma|gemv")  # DP4A, FP32 cuDNN, scalar FMA, GEMV kernels
    expected = {x["Name"] for x in layers if x.get("LayerType") == "CaskConvolution"
                and scalar.search(x.get("TacticName", "")) and share[x["Name"]] >= 0.02}
    found = _of(_lint(str(d)), "T002")
    names = _analysis(str(d)).layers["name"].tolist()
    assert {names[f.layers[0]] for f in found} == expected


def test_misaligned_int8_channels_mobilenet() -> None:
    d = shared_fixture("trex", "mobilenet-qat")
    layers, _ = _raw_layers(d)
    expected = set()
    for x in layers:
        if x.get("LayerType") != "CaskConvolution" or _prec(x["Inputs"][0]["Format/Datatype"]) != "int8":
            continue
        g = x.get("Groups", 1)
        cin, cout = x["Inputs"][0]["Dimensions"][1] // g, x["Outputs"][0]["Dimensions"][1] // g
        if cin % 16 or cout % 16:
            expected.add(x["Name"])
    assert expected
    names = _analysis(str(d)).layers["name"].tolist()
    assert {names[f.layers[0]] for f in _of(_lint(str(d)), "T001")} == expected


# -- precision fallbacks, Myelin boundary, profile mismatch: TensorRT 10 MNIST (an FP16 build) -----------------------
def test_fp32_layers_in_an_fp16_build_mnist() -> None:
    d = shared_fixture("trt10-h100-mnist")
    assert "Precision: FP32+FP16" in (d / "trtexec-build-verbose.log").read_text()
    layers, _ = _raw_layers(d)
    expected = {i for i, x in enumerate(layers)
                if x.get("Metadata") and x["Outputs"] and all(t["Format/Datatype"] == "Float" for t in x["Outputs"])
                and not any(t["Format/Datatype"] == "Half" for t in x["Inputs"])}
    assert {f.layers[0] for f in _of(_lint(str(d)), "P001")} == expected


def test_layers_outside_the_myelin_region_mnist() -> None:
    d = shared_fixture("trt10-h100-mnist")
    layers, _ = _raw_layers(d)
    prod, cons = _producer_consumers(layers)
    myl = {i for i, x in enumerate(layers) if "_myl" in x["Name"]}
    edges = {(prod[t], c) for t, cs in cons.items() if t in prod for c in cs}
    expected = {a for a, b in edges if b in myl and a not in myl} | {b for a, b in edges if a in myl and b not in myl}
    found = _of(_lint(str(d)), "F006")
    assert len(found) == 1 and set(found[0].layers) == expected


def test_profile_of_another_build_is_an_error_mnist() -> None:
    d = shared_fixture("trt10-h100-mnist")
    layers, _ = _raw_layers(d)
    names = {x["Name"] for x in layers}
    rows = re.findall(r"\[I\]\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+(.+)$",
                      (d / "trtexec-dumpProfile.log").read_text(), re.M)
    profiled = [r.strip() for r in rows if r.strip() != "Total"]
    matched = sum(1 for r in profiled if r in names)
    found = _of(_lint(str(d)), "M002")
    assert len(found) == 1 and found[0].severity.value == "error"
    assert f"only {matched} of {len(profiled)} profiled layers" in found[0].title


# -- measurement trust, launch-bound: TREx sets (profile + timing) ----------------------------------------------------
@pytest.mark.parametrize("name", ["trex/a100-resnet18-qat", "trex/mobilenet-qat", "trex/a100-resnet18-fp16"])
def test_layer_sum_against_end_to_end(name: str) -> None:
    d = shared_fixture(*name.split("/"))
    _, prof = _profile(d)
    times = json.loads(next(iter(d.glob("*.timing.json"))).read_text())
    ratio = sum(p["averageMs"] for p in prof) / statistics.median(t["computeMs"] for t in times)
    found = _of(_lint(str(d)), "M001")
    if 0.9 <= ratio <= 1.1:
        assert not found
    else:
        assert len(found) == 1 and f"{ratio:.2f}×" in found[0].title
        assert found[0].severity.value == ("warning" if ratio > 1.5 or ratio < 0.9 else "info")
    # CUDA graph status, from trtexec's inference options in the profile metadata
    meta = json.loads(next(iter(d.glob("*.profile.metadata.json"))).read_text())
    graphs = meta["inference_options"]["CUDA Graph"] == "Enabled"
    if found:
        assert any(e.data.get("cuda_graph") is graphs for e in found[0].evidence)


@pytest.mark.parametrize("name", ["trex/a100-resnet18-qat", "trex/mobilenet-qat"])
def test_few_profiled_iterations(name: str) -> None:
    d = shared_fixture(*name.split("/"))
    count, _ = _profile(d)
    found = _of(_lint(str(d)), "M004")
    assert bool(found) == (count < 10)


def test_tiny_layers_mobilenet() -> None:
    d = shared_fixture("trex", "mobilenet-qat")
    _, prof = _profile(d)
    total = sum(p["averageMs"] for p in prof)
    tiny = [p for p in prof if 0 < p["averageMs"] < 0.005]
    share = sum(p["averageMs"] for p in tiny) / total
    assert share >= 0.2  # the premise: this engine is launch-bound by the rule's threshold
    found = _of(_lint(str(d)), "L001")
    assert len(found) == 1 and len(found[0].layers) == len(tiny)
    assert found[0].share == pytest.approx(share)


# -- the project's TensorRT-RTX builds (verbose logs + ONNX) ----------------------------------------------------------
def _log_layers(d: Path) -> list[tuple[str, str, list[str]]]:
    """(name, LayerType, ONNX nodes from Metadata) from the 'Layers:' section of a verbose build log."""
    out = []
    for line in (d / "build-verbose.log").read_text(errors="replace").splitlines():
        m = re.match(r"Name: (.+?), LayerType: (\w+),", line)
        if m:
            out.append((m.group(1), m.group(2), re.findall(r"\[ONNX Layer: ([^\]]+)\]", line)))
    return out


def test_kgen_share_transformer() -> None:
    d = own_fixture("rtx-h100-transformer")
    kinds = [t for _, t, _ in _log_layers(d)]
    kgen = kinds.count("kgen")
    found = _of(_lint(str(d)), "L002")
    assert kgen >= 0.25 * len(kinds) and len(found) == 1
    assert found[0].title.startswith(f"{kgen} kgen layers") and len(found[0].layers) == kgen


def _model_and_layers(d: Path) -> tuple[list[Any], dict[str, Any], set[str], dict[str, set[int]], list[str]]:
    model = onnx.load(str(d / "model.onnx"), load_external_data=False)
    nodes = list(model.graph.node)
    producer = {o: n for n in nodes for o in n.output}
    inits = {i.name for i in model.graph.initializer}
    layer_of: dict[str, set[int]] = {}
    for i, (_, _, onnx_nodes) in enumerate(_log_layers(d)):
        for n in onnx_nodes:
            layer_of.setdefault(n, set()).add(i)
    return nodes, producer, inits, layer_of, [o.name for o in model.graph.output]


RTX_ATTENTION = ["rtx-h100-transformer", "rtx-h200-transformer-fp16", "rtx-h200-attention-fp16",
                 "rtx-h200-attention-cast-fp16", "rtx-h200-attention-mask-fp16"]


@pytest.mark.parametrize("name", RTX_ATTENTION)
def test_attention_fused_or_not(name: str) -> None:
    """MatMul -> (a few ops) -> Softmax -> MatMul in more than one layer is reported; TensorRT-RTX's FP16 builds
    fuse it into one _gemm_mha_v2 layer (even with a Cast around the softmax or a Where mask): nothing then."""
    d = own_fixture(name)
    nodes, producer, _, layer_of, _ = _model_and_layers(d)
    expected = set()
    for n in nodes:
        if n.op_type != "Softmax" or not any(m.op_type == "MatMul" for m in nodes if n.output[0] in m.input
                                             or any(n.output[0] in p.input and p.output[0] in m.input
                                                    for p in nodes if p.op_type == "Cast")):
            continue
        frontier, score = [n], None
        for _ in range(4):  # the score MatMul: a few producer steps up, through any input
            frontier = [producer[i] for x in frontier for i in x.input if i in producer]
            score = next((x for x in frontier if x.op_type == "MatMul"), None)
            if score is not None:
                break
        if score is not None and len(layer_of.get(n.name, set()) | layer_of.get(score.name, set())) > 1:
            expected.add(n.name)
    found = {f.onnx_nodes[0] for f in _of(_lint(str(d)), "F005")}
    assert found == expected
    if name == "rtx-h100-transformer":
        assert expected  # the FP32 build: attention in 3 layers (MatMul, softmax kgen, MatMul)


CONV_BIAS_ACT = ["rtx-h100-transformer", "rtx-h200-transformer-fp16", "rtx-h200-attention-fp16",
                 "rtx-h200-convblock-split", "rtx-h200-convblock-fused"]


@pytest.mark.parametrize("name", CONV_BIAS_ACT)
def test_bias_or_activation_apart_from_its_gemm(name: str) -> None:
    """A Conv / MatMul / Gemm whose only reader is a bias Add (initializer input) or an activation, in no layer of
    it. The split convblock exposes conv1's output as a graph output, which keeps the ReLU apart."""
    d = own_fixture(name)
    nodes, producer, inits, layer_of, _ = _model_and_layers(d)
    acts = {"Relu", "Sigmoid", "Tanh", "Clip", "LeakyRelu", "HardSwish", "Gelu"}
    expected = set()
    for n in nodes:
        bias = n.op_type == "Add" and any(i in inits for i in n.input)
        if not (bias or n.op_type in acts):
            continue
        heads = [producer[i] for i in n.input if i in producer and producer[i].op_type in ("Conv", "MatMul", "Gemm")]
        if not heads:
            continue
        h = heads[0]
        readers = [m for m in nodes if h.output[0] in m.input]
        apart = layer_of.get(n.name) and layer_of.get(h.name) and not layer_of[n.name] & layer_of[h.name]
        if len(readers) == 1 and apart:
            expected.add((n.name, h.name))
    found = {(f.onnx_nodes[0], f.onnx_nodes[-1]) for f in _of(_lint(str(d)), "F001")}
    assert found == expected
    if name in ("rtx-h100-transformer", "rtx-h200-convblock-split"):
        assert expected
    if name == "rtx-h200-convblock-fused":
        assert not expected


@pytest.mark.parametrize("name", ["rtx-h200-layernorm-decomposed", "rtx-h200-layernorm-op"])
def test_layernorm_pattern_found_and_fused(name: str) -> None:
    """The opset-13 export writes LayerNorm out (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add);
    TensorRT-RTX fuses it into one kgen layer, so nothing is reported; the matcher must still find it."""
    from trtscope.analysis.lint.context import LintContext

    d = own_fixture(name)
    nodes, _, _, layer_of, _ = _model_and_layers(d)
    chain = ["ReduceMean", "Sub", "Pow", "ReduceMean", "Add", "Sqrt", "Div", "Mul", "Add"]
    found_ln = []
    for n in nodes:
        if n.op_type != "ReduceMean":
            continue
        seq, cur = [n], n
        for op in chain[1:]:
            nxt = [m for m in nodes if any(o in m.input for o in cur.output) and m.op_type == op]
            if not nxt:
                break
            cur = nxt[0]
            seq.append(cur)
        if len(seq) == len(chain):
            found_ln.append({x.name for x in seq})
    patterns = LintContext(_analysis(str(d))).patterns
    assert patterns is not None
    assert [set(_names_of(_analysis(str(d)), p)) for p in patterns.layernorms()] == found_ln
    split = [s for s in found_ln if len(set().union(*(layer_of.get(x, set()) for x in s))) > 1]
    assert len(_of(_lint(str(d)), "F002")) == len(split) == 0
    assert (len(found_ln) == 1) == (name == "rtx-h200-layernorm-decomposed")


def _names_of(a: Any, idx: list[int]) -> list[str]:
    names = a.onnx_nodes["name"].tolist()
    return [names[i] for i in idx]


def test_misaligned_channels_fp16_rtx() -> None:
    """Convolution layers whose input or output channels (as the build log lists their tensors) are not a
    multiple of 8 in FP16; TensorRT-RTX pads such inputs in a layer of the same ONNX node before the kernel."""
    d = own_fixture("rtx-h200-misaligned-fp16")
    text = (d / "build-verbose.log").read_text(errors="replace")
    entries = [line for line in text.splitlines() if re.match(r"Name: .+?, LayerType: \w+,", line)]
    expected = set()
    for i, line in enumerate(entries):
        if ", LayerType: correlation," not in line or "Datatype: Half" not in line:
            continue
        dims = re.findall(r"Dimensions: \[(\d+),(\d+),", line)
        ins_c, outs_c = int(dims[0][1]), int(dims[-1][1])
        if ins_c % 8 or outs_c % 8:
            expected.add(i)
    assert expected
    found = _of(_lint(str(d)), "T001")
    assert {f.layers[0] for f in found} == expected
    # the padding layers: each finding also counts the layer before the kernel that widened its input
    for f in found:
        meta = re.findall(r"\[ONNX Layer: ([^\]]+)\]", entries[f.layers[0]])[0]
        pads = {j for j in range(f.layers[0]) if f"[ONNX Layer: {meta}]" in entries[j]}
        assert set(f.layers[1:]) == pads


@pytest.mark.parametrize("name", ["rtx-h200-qat-int8-residual-float", "rtx-h200-qat-int8-residual-qdq"])
def test_qat_residual_add_with_and_without_qdq(name: str) -> None:
    """The QAT pair: residual Adds whose inputs do not all come from DequantizeLinear (the float identity branch)
    are reported; with Q/DQ on both inputs nothing is. No quantized convolution is reported as writing float: in
    TensorRT-RTX the kernel hands its accumulator to an epilogue layer of the same node that re-quantizes it."""
    d = own_fixture(name)
    nodes, producer, _, _, _ = _model_and_layers(d)
    expected = {n.name for n in nodes if n.op_type == "Add"
                and any(i in producer and producer[i].op_type != "DequantizeLinear" for i in n.input)}
    result = _lint(str(d))
    assert {f.onnx_nodes[0] for f in _of(result, "Q003")} == expected
    assert not _of(result, "Q002") and not _of(result, "P001")
    assert bool(expected) == name.endswith("float")


def test_first_conv_channels_resnet18_rtx() -> None:
    """The bundled example: its only Tensor Core finding is the 3-channel image input, reported as info."""
    d = own_fixture("rtx-h100-resnet18")
    found = _of(_lint(str(d)), "T001")
    model = onnx.load(str(d / "model.onnx"), load_external_data=False)
    first_conv = next(n.name for n in model.graph.node if n.op_type == "Conv")
    assert [(f.onnx_nodes[0], f.severity.value) for f in found] == [(first_conv, "info")]
