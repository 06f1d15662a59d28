"""The TensorRT-RTX builds made on an H200 (fixtures/rtx-h200-*, scripts/device/rtx_variants.py): real engine
listings for ``diff`` pairs and ``lint`` rules.

Each fixture must load with ``trtscope.load(dir)`` and give exactly the layers its raw ``Layers:`` section
lists (counted here line by line). The ONNX side of every variant is checked against how it was built
(scripts/device/onnx_variants.py): FP16 tensors, legacy node names, the extra graph output, the LayerNorm op
or its decomposition, the dynamic batch, the Q/DQ placement, the mask and the casts.
"""

from __future__ import annotations

import re
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto

from tests.conftest import own_fixture
from trtscope import load

NAMES = (
    "resnet18-fp32",
    "resnet18-fp16",
    "resnet18-legacy-names",
    "convblock-fused",
    "convblock-split",
    "layernorm-op",
    "layernorm-decomposed",
    "resnet18-batch8",
    "resnet18-dynamic",
    "transformer-fp16",
    "misaligned-fp16",
    "qat-int8-residual-qdq",
    "qat-int8-residual-float",
    "attention-fp16",
    "attention-mask-fp16",
    "attention-cast-fp16",
)


def listing(d: Path) -> list[str]:
    """The raw ``Layers:`` section: the lines after the logger message that ends with ``Layers:``, up to the
    first line that is not a layer entry."""
    lines = (d / "build-verbose.log").read_text(encoding="utf-8", errors="replace").split("\n")
    start = next(i for i, x in enumerate(lines) if x.startswith("[") and x.rstrip().endswith("] Layers:"))
    out = []
    for x in lines[start + 1 :]:
        if not x.startswith("Name: "):
            break
        out.append(x)
    return out


def model(name: str) -> onnx.ModelProto:
    return onnx.load(str(own_fixture(f"rtx-h200-{name}", "model.onnx")), load_external_data=False)


@pytest.mark.parametrize("name", NAMES)
def test_fixture_loads_with_the_listed_layers(name: str) -> None:
    d = own_fixture(f"rtx-h200-{name}")
    assert {p.name for p in d.iterdir()} == {"model.onnx", "build-verbose.log", "SOURCE.md"}
    raw = listing(d)
    a = load(d)
    assert len(a.layers) == len(raw) > 0
    assert a.layers["name"].tolist() == [x[len("Name: ") : x.index(", LayerType: ")] for x in raw]
    assert a.summary.onnx_node_count == len(model(name).graph.node)
    assert "H200" in (d / "SOURCE.md").read_text()


def test_all_h200_fixtures_are_listed() -> None:
    root = own_fixture("rtx-h200-resnet18-fp32").parent
    assert sorted(p.name for p in root.glob("rtx-h200-*")) == sorted(f"rtx-h200-{n}" for n in NAMES)


def _float_types(m: onnx.ModelProto) -> set[int]:
    inits = {t.data_type for t in m.graph.initializer if t.data_type in (TensorProto.FLOAT, TensorProto.FLOAT16)}
    io = {v.type.tensor_type.elem_type for v in [*m.graph.input, *m.graph.output]}
    return inits | io


def test_fp32_fp16_pair() -> None:
    assert _float_types(model("resnet18-fp32")) == {TensorProto.FLOAT}
    assert _float_types(model("resnet18-fp16")) == {TensorProto.FLOAT16}
    # strongly typed: the FP16 build's listing carries Half tensors, the FP32 build's none
    logs = [listing(own_fixture(f"rtx-h200-resnet18-{p}")) for p in ("fp32", "fp16")]
    half = [sum("Datatype: Half" in x for x in lines) for lines in logs]
    assert half[0] == 0 and half[1] > 0


def test_legacy_names_pair() -> None:
    a, b = model("resnet18-fp32"), model("resnet18-legacy-names")
    assert all(re.fullmatch(rf"{n.op_type}_{i}", n.name) for i, n in enumerate(b.graph.node))
    assert b.graph.node[0].op_type == "Identity" and len(b.graph.node) == len(a.graph.node) + 1
    assert [n.op_type for n in b.graph.node[1:]] == [n.op_type for n in a.graph.node]
    # every node renamed: no node keeps its name (node i of the original is node i + 1 here)
    assert all(x.name != y.name for x, y in zip(a.graph.node, b.graph.node[1:], strict=True))
    convs = [n.name for n in a.graph.node if n.op_type == "Conv"]
    assert len(convs) == 20 and not set(convs) & {n.name for n in b.graph.node}


def test_conv_block_pair() -> None:
    fused, split = model("convblock-fused"), model("convblock-split")
    assert [o.name for o in fused.graph.output] == ["output"]
    assert [o.name for o in split.graph.output] == ["output", "conv1_out"]
    conv1 = next(n for n in split.graph.node if n.name == "/conv1/Conv")
    assert conv1.output[0] == "conv1_out"  # the pre-activation tensor is a graph output
    layers = {n: listing(own_fixture(f"rtx-h200-{n}")) for n in ("convblock-fused", "convblock-split")}
    assert len(layers["convblock-split"]) == len(layers["convblock-fused"]) + 1


def test_layernorm_pair() -> None:
    op, dec = model("layernorm-op"), model("layernorm-decomposed")
    assert [n.op_type for n in op.graph.node].count("LayerNormalization") == 1
    ops = [n.op_type for n in dec.graph.node]
    assert "LayerNormalization" not in ops and {"ReduceMean", "Sub", "Pow", "Sqrt", "Div"} <= set(ops)
    assert max(o.version for o in op.opset_import) == 17 and max(o.version for o in dec.opset_import) == 13


def test_static_dynamic_pair() -> None:
    static = model("resnet18-batch8").graph.input[0].type.tensor_type.shape.dim
    dynamic = model("resnet18-dynamic").graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in static] == [8, 3, 224, 224]
    assert dynamic[0].dim_param and [d.dim_value for d in dynamic[1:]] == [3, 224, 224]
    log = (own_fixture("rtx-h200-resnet18-dynamic") / "build-verbose.log").read_text(errors="replace")
    assert "MinShape: [1,3,224,224], OptShape: [8,3,224,224], MaxShape: [32,3,224,224]" in log


def _qdq_inputs_of_adds(m: onnx.ModelProto) -> list[int]:
    producer = {o: n.op_type for n in m.graph.node for o in n.output}
    return [
        sum(producer.get(x) == "DequantizeLinear" for x in n.input) for n in m.graph.node if n.op_type == "Add"
    ]


def test_qat_pair() -> None:
    q, f = model("qat-int8-residual-qdq"), model("qat-int8-residual-float")
    assert _qdq_inputs_of_adds(q) == [2, 2]  # both inputs of each residual Add dequantized
    assert _qdq_inputs_of_adds(f) == [0, 0]
    for m in (q, f):
        ops = [n.op_type for n in m.graph.node]
        assert ops.count("Conv") == 5 and ops.count("QuantizeLinear") == ops.count("DequantizeLinear") >= 10


def test_attention_variants() -> None:
    plain, mask, cast = model("attention-fp16"), model("attention-mask-fp16"), model("attention-cast-fp16")
    assert "Where" not in [n.op_type for n in plain.graph.node] and "Where" in [n.op_type for n in mask.graph.node]
    nodes = list(cast.graph.node)
    i = next(k for k, n in enumerate(nodes) if n.op_type == "Softmax")
    to = {a.name: a.i for a in nodes[i - 1].attribute} | {"after": next(a.i for a in nodes[i + 1].attribute)}
    assert nodes[i - 1].op_type == nodes[i + 1].op_type == "Cast"
    assert (to["to"], to["after"]) == (TensorProto.FLOAT, TensorProto.FLOAT16)
    assert _float_types(plain) == {TensorProto.FLOAT16}


def test_misaligned_sizes_as_built() -> None:
    m = model("misaligned-fp16")
    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    weights = {t.name: list(t.dims) for t in m.graph.initializer}
    assert [weights[c.input[1]][:2] for c in convs] == [[13, 3], [16, 13], [32, 16], [64, 32]]
    gemms = sorted(tuple(weights[n.input[1]]) for n in m.graph.node if n.op_type == "Gemm")
    assert gemms == sorted([(100, 64), (30, 100), (128, 64), (64, 128)])
