"""Precision rules: layers that run in FP32 although the build allowed a reduced precision."""

from __future__ import annotations

from collections.abc import Iterator

from trtscope.analysis.lint.base import Evidence, Finding, Need, rule
from trtscope.analysis.lint.context import LintContext, layer_fact, node_text, tensor_fact
from trtscope.analysis.lint.rules_qdq import pool_in_int8
from trtscope.analysis.onnx_ops import node_class
from trtscope.model.vocabulary import LayerKind, NodeClass, Severity

REDUCED = frozenset({"Half", "BFloat16", "Int8", "FP8", "Int4", "FP4"})
FLOAT16 = frozenset({"Half", "BFloat16"})
_WORDS = {"Half": "FP16", "BFloat16": "BF16", "Int8": "INT8", "FP8": "FP8", "Int4": "INT4", "FP4": "FP4"}
#: Below this share of layer time an FP32 layer is reported as info (it cannot win much back).
SMALL_SHARE = 0.01


def allowed_reduced(ctx: LintContext) -> tuple[frozenset[str], str]:
    """Reduced-precision types the build allowed and how we know: the build's flags when the input records
    them, else the types the engine itself uses (a build that ran some layer in FP16 allowed FP16)."""
    req = ctx.requested_types
    if req is not None:
        return req & REDUCED, f"build precision {ctx.a.artifacts.metadata.get('precision') or 'flags'}"
    # Without build flags (strongly typed builds, TensorRT-RTX) only FP16/BF16 computed elsewhere in the engine
    # says the model could run reduced: INT8 there comes from Q/DQ nodes, and unquantized ops are float by design.
    # Only compute layers count: an FP32 engine with FP16 I/O has FP16 tensors on its reformat layers alone.
    compute = (LayerKind.FUSED.value, LayerKind.SINGLE.value)
    computed = frozenset(p for p, k in zip(ctx.precisions, ctx.kinds, strict=True) if p and k in compute)
    return computed & FLOAT16, "other layers of this engine run in FP16/BF16"


@rule("P001", "fp32-fallback", Severity.WARNING, "layer running in FP32 in an FP16 / INT8 / FP8 build",
      "A layer that stays in FP32 where the build allows FP16 or INT8 moves twice (or four times) the bytes and "
      "runs without FP16/INT8 Tensor Cores; usually an op without a reduced-precision kernel, a precision "
      "constraint or a Cast in the model, or a layer so small that TensorRT found FP32 no slower.",
      needs=(Need.LAYERS, Need.TENSORS))
def fp32_fallback(ctx: LintContext) -> Iterator[Finding]:
    allowed, how = allowed_reduced(ctx)
    if not allowed:
        return
    words = "/".join(sorted(_WORDS[t] for t in allowed))
    for i, kind in enumerate(ctx.kinds):
        if ctx.precisions[i] != "Float" or kind not in (LayerKind.FUSED.value, LayerKind.SINGLE.value):
            continue
        ins, outs = ctx.inputs(i), ctx.outputs(i)
        if not outs or any(t.dtype != "Float" for t in outs) or any(t.dtype in REDUCED for t in ins):
            continue
        if pool_in_int8(ctx, i):
            continue  # a float pooling inside an INT8 region: Q004 says what to change
        ops = ctx.layer_ops(i)
        if ops and all(node_class(op) in (NodeClass.SHAPE, NodeClass.CONSTANT) for op in ops):
            continue
        ms, share = ctx.cost([i])
        sev = Severity.INFO if share is not None and share < SMALL_SHARE else Severity.WARNING
        node = node_text(ctx, i)
        ev = [layer_fact(ctx, i, "runs in FP32"), Evidence(f"allowed: {words} ({how})",
                                                             {"allowed": sorted(allowed), "known_from": how})]
        ev += [tensor_fact(t, "reads") for t in ins[:2]] + [tensor_fact(t, "writes") for t in outs[:1]]
        tactic = ctx.layers["tactic"].iat[i]
        if isinstance(tactic, str) and tactic:
            ev.append(Evidence(f"tactic: {tactic}", {"tactic": tactic}))
        yield Finding(
            "P001", sev, f"{node} runs in FP32 although the build allows {words}", (i,),
            tuple(ctx.layer_nodes[i]) or (node,), tuple(ev), ms, share,
            advice=f"Look for what pins {node} to FP32: a Cast to float32 around it in the ONNX model, a precision "
                   "constraint (--precisionConstraints / --layerPrecisions), or an op without an FP16/INT8 kernel. "
                   f"To try {words} anyway: --precisionConstraints=prefer --layerPrecisions=<layer>:fp16, or (strongly "
                   "typed builds, TensorRT-RTX) convert the model's tensors to FP16. A tiny layer may simply be as "
                   "fast in FP32: check its time first.")
