"""Tensor Core eligibility: channel / dimension alignment for the precision, and conv / GEMM tactics that are
not Tensor Core kernels.

Heuristic, documented in docs/lint/T001.md and T002.md: Tensor Core kernels read 16-byte vectors along the
channel (convolution) or reduction / output (GEMM) dimension, so a dimension should be a multiple of
16 bytes / element size (4 for FP32/TF32, 8 for FP16/BF16, 16 for INT8/FP8). Tactic names are read for markers
of Tensor Core instructions (hmma, imma, h1688, i8816, tf32, gmma...) and of scalar / dot-product kernels (ffma,
scudnn, int8x4, gemv, sm50-sm61 kernels).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from trtscope.analysis.lint.base import Evidence, Finding, Need, rule
from trtscope.analysis.lint.context import LintContext, layer_fact, node_text, tensor_fact
from trtscope.analysis.lint.rules_qdq import WEIGHTED_OPS
from trtscope.model.vocabulary import Severity

#: Required multiple (elements) of channel / GEMM dimensions per input data type: 16 bytes.
ALIGN = {"Float": 4, "Half": 8, "BFloat16": 8, "Int8": 16, "FP8": 16}
#: Layer types that run convolutions / GEMMs when the anchor op is unknown.
_LINEAR_TYPES = ("convolution", "gemm", "matrixmultiply", "correlation", "deconvolution", "fullyconnected")
#: Layer types of Myelin / foreign fusions that may run a GEMM (then the anchor op decides).
_FUSION_TYPES = ("runtime_fusion", "myelin", "foreignnode")
#: Share of layer time above which a non-Tensor-Core tactic is a warning.
TC_SHARE = 0.02

_TC = re.compile(r"hmma|imma|h1688|h16816|h884|i8816|i16832|s1688|s16816|tf32|tensorop|tensor\d+x\d+x\d+|gmma|"
                 r"f16f16|bf16|i8i8|i8f16|i8f32|e4m3|fp8|_tc_", re.I)
_NOT_TC = re.compile(r"ffma|scudnn|sgemm|dgemm|int8x4|dp4a|gemv|\bsm(50|52|53|60|61)_|maxwell|pascal|"
                     r"fp32_icudnn", re.I)


@lru_cache(maxsize=4096)
def _classify(tactic: str) -> bool | None:
    if _NOT_TC.search(tactic):
        return False
    if _TC.search(tactic):
        return True
    return None


def tensor_core_tactic(tactic: object) -> bool | None:
    """True: the tactic name shows Tensor Core instructions; False: it shows a scalar / DP4A / GEMV kernel;
    None: the name says neither (Myelin stubs, generated kernels, unknown naming)."""
    if not isinstance(tactic, str) or not tactic or tactic.startswith("__my"):
        return None
    return _classify(tactic)


def _linear(ctx: LintContext, i: int) -> bool:
    """A layer that runs a convolution / GEMM kernel: by its layer type, else (type unknown) by its anchor op. A
    Shuffle or a generated pointwise kernel named after a Conv node does not count."""
    t = ctx.types[i].lower()
    if t:
        return any(w in t for w in _LINEAR_TYPES) or (t in _FUSION_TYPES and ctx.anchor_ops[i] in WEIGHTED_OPS)
    return ctx.anchor_ops[i] in WEIGHTED_OPS


def _groups(ctx: LintContext, i: int) -> int:
    g = ctx.raw(i).get("Groups")
    return int(g) if isinstance(g, int) and g > 0 else 1


def _depthwise(ctx: LintContext, i: int) -> bool:
    if "depthwise" in ctx.types[i].lower():
        return True
    ins = ctx.inputs(i)
    c = _channels(ins[0]) if ins else None
    g = _groups(ctx, i)
    return g > 1 and c is not None and g == c


def _channels(t: object) -> int | None:
    dims = getattr(t, "dims", None)
    if not dims:
        return None
    d = dims[1] if len(dims) >= 4 else dims[-1]
    return d if d > 0 else None


@rule("T001", "misaligned-channels", Severity.WARNING,
      "convolution / GEMM dimensions not a multiple of 8 (FP16), 16 (INT8/FP8) or 4 (TF32)",
      "Tensor Core kernels work on 16-byte vectors of channels: a channel or GEMM dimension that is not a "
      "multiple of 16 bytes forces padding (wasted work and a reformat) or a slower non-Tensor-Core kernel.",
      needs=(Need.LAYERS, Need.TENSORS))
def misaligned_channels(ctx: LintContext) -> Iterator[Finding]:
    first = ctx.first_input_dtype
    for i in range(len(ctx.kinds)):
        if first[i] not in ALIGN or not ctx.runs_onnx_work(i) or not _linear(ctx, i) or _depthwise(ctx, i):
            continue
        ins, outs = ctx.inputs(i), ctx.outputs(i)
        if not ins or not outs:
            continue
        need = ALIGN.get(ins[0].dtype or "")
        if need is None:
            continue
        g = _groups(ctx, i)
        bad = []
        for role, t in (("input channels", ins[0]), ("output channels", outs[0])):
            c = _channels(t)
            if c is not None and (c // g) % need:
                bad.append((role, t, c // g))
        if not bad:
            continue
        # an image input (RGB, grayscale): TensorRT has first-layer kernels for it
        first_input = bad[0][0] == "input channels" and bad[0][2] <= 4 and len(bad) == 1
        ms, share = ctx.cost([i])
        sev = Severity.INFO if first_input else Severity.WARNING
        node = node_text(ctx, i)
        ev = [layer_fact(ctx, i, "layer")]
        for role, t, c in bad:
            ev.append(tensor_fact(t, role))
            ev.append(Evidence(f"{role}: {c}{' per group' if g > 1 else ''} is not a multiple of {need} "
                               f"({t.dtype}); next multiple {-(-c // need) * need}",
                               {"dimension": role, "value": c, "groups": g, "multiple": need, "dtype": t.dtype}))
        # layers TensorRT added before the kernel to pad the channels (Myelin: a concat with zeros, same anchor node)
        pads = []
        for j in ctx.chains.get(ctx.anchor_nodes[i] or "", []):
            if j < i and ctx.inputs(j) and ctx.outputs(j):
                a, b = _channels(ctx.inputs(j)[0]), _channels(ctx.outputs(j)[0])
                if a is not None and b is not None and b > a:
                    pads.append(j)
                    ev.append(Evidence(f"#{j} {ctx.names[j]!r} pads the channels {a} → {b} for it",
                                       {"padding_layer": j, "from": a, "to": b}))
        if pads:
            ms, share = ctx.cost([*pads, i])
        what = " and ".join(f"{role} {c}" for role, _, c in bad)
        advice = (f"{node} reads an input with {bad[0][2]} channels (an image): TensorRT pads it for its first-layer "
                  "kernels; usually fine, but if this layer is costly, pad the input to "
                  f"{need} channels (zeros) in the model or pre-processing." if first_input else
                  f"Make {what} of {node} a multiple of {need}: pad the weights with zero channels (and the next "
                  "layer's input weights to match), or choose layer widths that are multiples of 8/16/32 when "
                  "designing the model.")
        yield Finding("T001", sev, f"{node}: {what} not a multiple of {need} for {ins[0].dtype}", (i, *pads),
                      (node,), tuple(ev), ms, share, advice=advice)


@rule("T002", "no-tensor-core-tactic", Severity.WARNING, "conv / GEMM with a large share not on Tensor Cores",
      "A convolution or GEMM that runs a scalar (FFMA), DP4A or GEMV kernel instead of a Tensor Core kernel "
      "runs at a fraction of the GPU's matrix throughput; on a layer with a large share of the time that is "
      "the first thing to fix.", needs=(Need.LAYERS,))
def no_tensor_core(ctx: LintContext) -> Iterator[Finding]:
    tactics = ctx.layers["tactic"].tolist()
    timed = ctx.total_ms is not None
    for i in range(len(ctx.kinds)):
        if tensor_core_tactic(tactics[i]) is not False:
            continue
        if not ctx.runs_onnx_work(i) or not _linear(ctx, i) or _depthwise(ctx, i):
            continue
        ms, share = ctx.cost([i])
        if timed and (share is None or share < TC_SHARE):
            continue
        node = node_text(ctx, i)
        ev = [layer_fact(ctx, i, "layer"), Evidence(f"tactic: {tactics[i]}", {"tactic": tactics[i]})]
        ins = ctx.inputs(i)
        if ins:
            ev.append(tensor_fact(ins[0], "reads"))
        c = _channels(ins[0]) if ins else None
        need = ALIGN.get(ins[0].dtype or "") if ins else None
        hint = ""
        if c is not None and need and c % need:
            hint = f" Its {c} input channels are not a multiple of {need} (see T001)."
        elif ins and ins[0].dtype == "Float":
            hint = " It runs in FP32 (see P001): FP16/INT8 (or TF32) kernels use Tensor Cores."
        yield Finding(
            "T002", Severity.WARNING if timed else Severity.INFO,
            f"{node} runs a non-Tensor-Core kernel ({str(tactics[i])[:48]})", (i,), (node,), tuple(ev), ms, share,
            advice=f"Make {node} eligible for Tensor Core kernels: reduced precision (FP16/BF16/INT8), channel and "
                   f"GEMM dimensions that are multiples of 8 (FP16) or 16-32 (INT8), and enough work per call "
                   f"(batch).{hint}")
