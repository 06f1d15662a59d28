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


def test_attention_and_bias_not_fused_transformer() -> None:
    d = own_fixture("rtx-h100-transformer")
    model = onnx.load(str(d / "model.onnx"), load_external_data=False)
    nodes = list(model.graph.node)
    producer = {o: n for n in nodes for o in n.output}
    inits = {i.name for i in model.graph.initializer}
    layer_of: dict[str, set[int]] = {}
    for i, (_, _, onnx_nodes) in enumerate(_log_layers(d)):
        for n in onnx_nodes:
            layer_of.setdefault(n, set()).add(i)
    # attention: MatMul -> (elementwise)* -> Softmax -> MatMul, and the nodes run in more than one layer
    expected_attn = set()
    for n in nodes:
        if n.op_type != "Softmax":
            continue
        readers = [m for m in nodes if n.output[0] in m.input]
        if any(m.op_type == "MatMul" for m in readers):
            x = producer[n.input[0]]
            while x.op_type != "MatMul":
                x = producer[x.input[0]]
            if len(layer_of.get(n.name, set()) | layer_of.get(x.name, set())) > 1:
                expected_attn.add(n.name)
    assert expected_attn
    assert {f.onnx_nodes[0] for f in _of(_lint(str(d)), "F005")} == expected_attn
    # bias Add after a MatMul (one input an initializer), in no layer of the MatMul
    expected_bias = set()
    for n in nodes:
        if n.op_type == "Add" and any(i in inits for i in n.input):
            p = [producer[i] for i in n.input if i in producer]
            if (p and p[0].op_type == "MatMul" and layer_of.get(n.name) and layer_of.get(p[0].name)
                    and not layer_of[n.name] & layer_of[p[0].name]
                    and sum(1 for m in nodes if p[0].output[0] in m.input) == 1):
                expected_bias.add(n.name)
    assert expected_bias
    assert {f.onnx_nodes[0] for f in _of(_lint(str(d)), "F001")} == expected_bias


def test_first_conv_channels_resnet18_rtx() -> None:
    """The bundled example: its only Tensor Core finding is the 3-channel image input, reported as info."""
    d = own_fixture("rtx-h100-resnet18")
    found = _of(_lint(str(d)), "T001")
    model = onnx.load(str(d / "model.onnx"), load_external_data=False)
    first_conv = next(n.name for n in model.graph.node if n.op_type == "Conv")
    assert [(f.onnx_nodes[0], f.severity.value) for f in found] == [(first_conv, "info")]
