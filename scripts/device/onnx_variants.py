"""The ONNX models behind fixtures/rtx-h200-*: PyTorch modules exported with the legacy exporter, then edited
at the ONNX level where the variant is about the ONNX graph itself (FP16 types, legacy node names, a Cast
around Softmax, FP8 Q/DQ). Pure torch/onnx/numpy: runs on any CPU (checked with onnxruntime before the GPU
run); scripts/device/rtx_variants.py builds them with TensorRT-RTX.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Variant:
    name: str  # fixture folder: rtx-h200-<name>
    what: str  # one line for SOURCE.md
    make: Callable[[], Any]  # -> onnx.ModelProto (weights included)
    shapes: dict[str, tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]] = field(default_factory=dict)
    role: str = ""  # which diff pair / lint rule it is for
    fallback: str | None = None  # variant to build if this one fails (e.g. FP8 when INT8 is refused)


# -- export ---------------------------------------------------------------------------------------------------
def export(model: Any, example: Any, *, opset: int = 17, outputs: tuple[str, ...] = ("output",), **kw: Any) -> Any:
    """torch -> onnx.ModelProto with the legacy exporter (``dynamo=False``, as the bundled examples)."""
    import onnx
    import torch

    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            model.eval(),
            (example,),
            buf,
            dynamo=False,
            opset_version=opset,
            input_names=["input"],
            output_names=list(outputs),
            **kw,
        )
    return onnx.load_from_string(buf.getvalue())


# -- ONNX edits -------------------------------------------------------------------------------------------------
def to_fp16(m: Any) -> Any:
    """Every float32 tensor of the graph in float16: initializers, Constant values, graph inputs/outputs and
    value_info, ``Cast(to=FLOAT)``. TensorRT-RTX is strongly typed: the ONNX types decide the precision."""
    import onnx
    from onnx import TensorProto, numpy_helper

    f32, f16 = TensorProto.FLOAT, TensorProto.FLOAT16

    def half(t: Any) -> Any:
        if t.data_type != f32:
            return t
        h = numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float16), t.name)
        return h

    g = m.graph
    inits = [half(t) for t in g.initializer]
    del g.initializer[:]
    g.initializer.extend(inits)
    for vi in [*g.input, *g.output, *g.value_info]:
        if vi.type.tensor_type.elem_type == f32:
            vi.type.tensor_type.elem_type = f16
    for node in g.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.TENSOR and a.t.data_type == f32:
                a.t.CopyFrom(half(a.t))
            if node.op_type == "Cast" and a.name == "to" and a.i == f32:
                a.i = f16
    return m


def legacy_names(m: Any) -> Any:
    """Node names as pre-1.13 PyTorch exporters wrote them, ``<OpType>_<index>``, with the numbering shifted
    by one: an ``Identity`` inserted on the input first (as an exporter inserting a node would)."""
    from onnx import helper

    g = m.graph
    src = g.input[0].name
    for node in g.node:
        node.input[:] = [f"{src}_identity" if x == src else x for x in node.input]
    nodes = [helper.make_node("Identity", [src], [f"{src}_identity"]), *g.node]
    del g.node[:]
    g.node.extend(nodes)
    for i, node in enumerate(g.node):
        node.name = f"{node.op_type}_{i}"
    return m


def cast_around(m: Any, op_type: str = "Softmax") -> Any:
    """``Cast(to=FLOAT)`` before and ``Cast(to=FLOAT16)`` after every ``op_type`` node of an FP16 graph (a
    float32 softmax in the middle of an FP16 attention block, as hand-written mixed precision does)."""
    from onnx import TensorProto, helper

    g = m.graph
    out: list[Any] = []
    for node in g.node:
        if node.op_type != op_type:
            out.append(node)
            continue
        x, y = node.input[0], node.output[0]
        out.append(helper.make_node("Cast", [x], [f"{x}_fp32"], name=f"{node.name}_cast_in", to=TensorProto.FLOAT))
        node.input[0] = f"{x}_fp32"
        node.output[0] = f"{y}_fp32"
        out.append(node)
        out.append(helper.make_node("Cast", [f"{y}_fp32"], [y], name=f"{node.name}_cast_out", to=TensorProto.FLOAT16))
    del g.node[:]
    g.node.extend(out)
    return m


def qdq_to_fp8(m: Any) -> Any:
    """INT8 Q/DQ -> FP8 (E4M3) Q/DQ: zero points become FLOAT8E4M3FN zeros (Q/DQ take FP8 from opset 19)."""
    from onnx import TensorProto, helper, numpy_helper

    g = m.graph
    zps = {n.input[2] for n in g.node if n.op_type in ("QuantizeLinear", "DequantizeLinear") and len(n.input) > 2}
    inits = []
    for t in g.initializer:
        if t.name in zps:
            shape = list(numpy_helper.to_array(t).shape)
            t = helper.make_tensor(t.name, TensorProto.FLOAT8E4M3FN, shape, [0.0] * int(np.prod(shape) or 1))
        inits.append(t)
    del g.initializer[:]
    g.initializer.extend(inits)
    for node in g.node:
        if node.op_type == "Constant" and node.output[0] in zps:
            a = node.attribute[0]
            shape = list(a.t.dims)
            zero = [0.0] * int(np.prod(shape) or 1)
            a.t.CopyFrom(helper.make_tensor(a.t.name, TensorProto.FLOAT8E4M3FN, shape, zero))
    return m


# -- models ----------------------------------------------------------------------------------------------------
def resnet18(batch: int = 1) -> tuple[Any, Any]:
    import torch
    import torchvision

    torch.manual_seed(0)
    return torchvision.models.resnet18(weights=None).eval(), torch.randn(batch, 3, 224, 224)


def conv_block(split: bool) -> Any:
    """Conv-ReLU x3 + global pool. ``split``: the first Conv's output (before its ReLU) is also a graph
    output, so TensorRT must keep that tensor and cannot fuse the activation into the convolution."""
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(64, 64, 3, padding=1)
            self.conv2 = nn.Conv2d(64, 64, 3, padding=1)
            self.conv3 = nn.Conv2d(64, 64, 3, padding=1)
            self.act = nn.ReLU()

        def forward(self, x: Any) -> Any:
            c1 = self.conv1(x)
            y = self.act(self.conv3(self.act(self.conv2(self.act(c1)))))
            y = y.mean(dim=(2, 3))
            return (y, c1) if split else y

    torch.manual_seed(0)
    x = torch.randn(1, 64, 56, 56)
    return export(Block(), x, outputs=("output", "conv1_out") if split else ("output",))


def layernorm_mlp(opset: int) -> Any:
    """LayerNorm + GELU MLP on (1, 128, 256). Opset 17 exports ``LayerNormalization``; opset 13 has no such
    op, so the exporter writes ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    m = nn.Sequential(nn.LayerNorm(256), nn.Linear(256, 1024), nn.GELU(), nn.Linear(1024, 256))
    return export(m, torch.randn(1, 128, 256), opset=opset)


def transformer_fp16() -> Any:
    """The bundled 2-block transformer (LayerNorm, attention, GELU MLP; d=256), FP16."""
    from export_and_build import transformer

    model, example, _ = transformer()
    return to_fp16(export(model, example))


def misaligned() -> Any:
    """Convolutions and GEMMs whose channel / K / N sizes are not multiples of 8 next to aligned ones (FP16):
    Conv 3->13 and 13->16 (misaligned), 16->32 and 32->64 (aligned); then two MLP heads on the pooled 64
    features: K=64 -> N=100 -> K=100 -> N=30 (misaligned) and 64 -> 128 -> 64 (aligned), concatenated."""
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.convs = nn.Sequential(
                nn.Conv2d(3, 13, 3, padding=1),
                nn.ReLU(),
                nn.Conv2d(13, 16, 3, padding=1),
                nn.ReLU(),
                nn.Conv2d(16, 32, 3, padding=1),
                nn.ReLU(),
                nn.Conv2d(32, 64, 3, padding=1),
                nn.ReLU(),
            )
            self.odd = nn.Sequential(nn.Linear(64, 100), nn.ReLU(), nn.Linear(100, 30))
            self.even = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64))

        def forward(self, x: Any) -> Any:
            f = self.convs(x).mean(dim=(2, 3))
            return torch.cat([self.odd(f), self.even(f)], dim=1)

    torch.manual_seed(0)
    return to_fp16(export(Net(), torch.randn(1, 3, 128, 128)))


def qat_resnet(residual_qdq: bool, fp8: bool = False) -> Any:
    """QAT-style residual network as pytorch-quantization exports it: fake quantization of every conv input
    (per tensor) and weight (per output channel; per tensor for FP8) -> QuantizeLinear/DequantizeLinear pairs
    (opset 13). ``residual_qdq``: both inputs of each residual Add quantized too (the placement TensorRT's
    guide recommends); otherwise the Add and its identity branch stay in float."""
    import torch
    from torch import nn
    from torch.nn import functional as fn

    def fq(x: Any, amax: float) -> Any:
        return torch.fake_quantize_per_tensor_affine(x, amax / 127.0, 0, -128, 127)

    class QConv(nn.Module):
        def __init__(self, cin: int, cout: int) -> None:
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, 3, padding=1)
            amax = self.conv.weight.detach().abs().amax(dim=(1, 2, 3))  # calibrated once: constant scales
            self.register_buffer("w_scale", amax / 127.0)
            self.register_buffer("w_zero", torch.zeros_like(amax, dtype=torch.int32))
            self.w_amax = float(amax.max())

        def forward(self, x: Any) -> Any:
            w = self.conv.weight
            if fp8:
                wq = fq(w, self.w_amax)
            else:
                wq = torch.fake_quantize_per_channel_affine(w, self.w_scale, self.w_zero, 0, -128, 127)
            return fn.conv2d(fq(x, 4.0), wq, self.conv.bias, padding=1)

    class Block(nn.Module):
        def __init__(self, c: int) -> None:
            super().__init__()
            self.conv1, self.conv2 = QConv(c, c), QConv(c, c)

        def forward(self, x: Any) -> Any:
            y = self.conv2(torch.relu(self.conv1(x)))
            if residual_qdq:
                return torch.relu(fq(y, 4.0) + fq(x, 4.0))
            return torch.relu(y + x)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = QConv(3, 32)
            self.block1, self.block2 = Block(32), Block(32)

        def forward(self, x: Any) -> Any:
            return self.block2(self.block1(torch.relu(self.stem(x)))).mean(dim=(2, 3))

    torch.manual_seed(0)
    m = export(Net(), torch.randn(1, 3, 64, 64), opset=19 if fp8 else 13)
    return qdq_to_fp8(m) if fp8 else m


def attention(kind: str) -> Any:
    """One self-attention block, softmax(Q K^T / sqrt(d)) V, 8 heads, d=512, sequence 256, FP16.
    ``kind``: "plain"; "mask": a causal mask computed from index comparisons applied with masked_fill
    (exported as Where); "cast": the softmax computed in float32 (Cast before and after it)."""
    import torch
    from torch import nn

    class Attention(nn.Module):
        def __init__(self, d: int = 512, heads: int = 8) -> None:
            super().__init__()
            self.heads, self.dh = heads, d // heads
            self.qkv = nn.Linear(d, 3 * d)
            self.proj = nn.Linear(d, d)

        def forward(self, x: Any) -> Any:
            b, s, d = x.shape
            q, k, v = self.qkv(x).reshape(b, s, 3, self.heads, self.dh).permute(2, 0, 3, 1, 4)
            scores = q @ k.transpose(-2, -1) / self.dh**0.5
            if kind == "mask":
                i = torch.arange(s).unsqueeze(1)
                j = torch.arange(s).unsqueeze(0)
                scores = scores.masked_fill(j > i, float("-inf"))
            att = torch.softmax(scores, dim=-1)
            return self.proj((att @ v).transpose(1, 2).reshape(b, s, d))

    torch.manual_seed(0)
    m = to_fp16(export(Attention(), torch.randn(1, 256, 512)))
    return cast_around(m) if kind == "cast" else m


def _resnet(batch: int = 1, dynamic: bool = False) -> Any:
    model, x = resnet18(batch)
    axes = {"input": {0: "batch"}, "output": {0: "batch"}} if dynamic else None
    return export(model, x, dynamic_axes=axes) if axes else export(model, x)


BATCH = (1, 3, 224, 224)
VARIANTS = [
    Variant("resnet18-fp32", "torchvision ResNet-18, FP32", lambda: _resnet(), role="diff pair 1 (A); 2 (A)"),
    Variant(
        "resnet18-fp16",
        "the same ResNet-18 with every float tensor FP16 in the ONNX (weights, input, output)",
        lambda: to_fp16(_resnet()),
        role="diff pair 1 (B): FP32 vs FP16",
    ),
    Variant(
        "resnet18-legacy-names",
        "the same ResNet-18 (FP32) with every node renamed `<OpType>_<index>`, numbering shifted by an Identity",
        lambda: legacy_names(_resnet()),
        role="diff pair 2 (B): names differ, structure the same",
    ),
    Variant(
        "convblock-fused", "3 x (Conv 64->64 + ReLU), global mean", lambda: conv_block(False), role="diff pair 3 (A)"
    ),
    Variant(
        "convblock-split",
        "the same conv block with conv1's pre-activation output also a graph output",
        lambda: conv_block(True),
        role="diff pair 3 (B): Conv+ReLU fusion broken",
    ),
    Variant("layernorm-op", "LayerNorm + GELU MLP, opset 17 (LayerNormalization)", lambda: layernorm_mlp(17),
            role="diff pair 4 (A)"),
    Variant(
        "layernorm-decomposed",
        "the same LayerNorm + GELU MLP exported at opset 13 (LayerNorm as ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add)",
        lambda: layernorm_mlp(13),
        role="diff pair 4 (B)",
    ),
    Variant("resnet18-batch8", "ResNet-18 FP32, static batch 8", lambda: _resnet(8), role="diff pair 5 (A)"),
    Variant(
        "resnet18-dynamic",
        "ResNet-18 FP32, dynamic batch: one optimization profile min 1 / opt 8 / max 32",
        lambda: _resnet(1, dynamic=True),
        shapes={"input": ((1, 3, 224, 224), (8, 3, 224, 224), (32, 3, 224, 224))},
        role="diff pair 5 (B): static vs dynamic batch",
    ),
    Variant("transformer-fp16", "2 transformer blocks (LayerNorm, attention, GELU MLP), FP16",
            transformer_fp16, role="lint: FP16 with LayerNorm"),
    Variant("misaligned-fp16", "convs 3->13->16->32->64 and GEMMs K=100/N=30 beside 128/64, FP16", misaligned,
            role="lint: Tensor Core alignment"),
    Variant(
        "qat-int8-residual-qdq",
        "QAT-style INT8 Q/DQ residual net, Q/DQ on both inputs of each residual Add",
        lambda: qat_resnet(True),
        role="lint: Q/DQ placement (residual quantized)",
        fallback="qat-fp8-residual-qdq",
    ),
    Variant(
        "qat-int8-residual-float",
        "the same QAT net without Q/DQ on the residual Add (Add and identity branch in float)",
        lambda: qat_resnet(False),
        role="lint: Q/DQ placement (residual left in float)",
        fallback="qat-fp8-residual-float",
    ),
    Variant("attention-fp16", "self-attention block as written, FP16", lambda: attention("plain"),
            role="lint: attention fusion (A)"),
    Variant(
        "attention-mask-fp16",
        "the same attention with a computed causal mask applied by masked_fill (Where)",
        lambda: attention("mask"),
        role="lint: attention fusion broken by an explicit mask",
    ),
    Variant(
        "attention-cast-fp16",
        "the same attention with the softmax in float32 (Cast before and after it)",
        lambda: attention("cast"),
        role="lint: attention fusion broken by a Cast",
    ),
]
FALLBACKS = [
    Variant("qat-fp8-residual-qdq", "the QAT net with FP8 (E4M3) Q/DQ, residual quantized",
            lambda: qat_resnet(True, fp8=True), role="lint: Q/DQ placement, FP8 (INT8 refused)"),
    Variant("qat-fp8-residual-float", "the QAT net with FP8 (E4M3) Q/DQ, residual in float",
            lambda: qat_resnet(False, fp8=True), role="lint: Q/DQ placement, FP8 (INT8 refused)"),
]
