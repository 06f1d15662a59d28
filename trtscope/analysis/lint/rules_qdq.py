"""Q/DQ rules: where an explicitly quantized (QAT / PTQ-with-Q/DQ) model leaves the INT8 region.

TensorRT fuses a DequantizeLinear into the convolution / GEMM that reads it and a QuantizeLinear into the layer
that writes its input; what it cannot fuse runs as a layer of its own (a ``Reformat`` with Origin ``QDQ``), and
a layer whose output some reader needs in float writes float. The evidence is engine-side (tensor data types
and formats, which layer reads which tensor) so it holds without the ONNX model; with the model, Q005 also
checks DequantizeLinear nodes against the ops that read them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from trtscope.analysis.lint.base import Evidence, Finding, Need, rule
from trtscope.analysis.lint.context import (
    FLOAT_TYPES,
    QUANT_TYPES,
    LintContext,
    layer_fact,
    node_text,
    tensor_fact,
)
from trtscope.analysis.onnx_ops import QDQ_OPS
from trtscope.model.vocabulary import LayerKind, Severity

#: Ops TensorRT runs with INT8 (or FP8) inputs when a DequantizeLinear feeds them: weighted ops, and the ops
#: Q/DQ propagate across or fuse with. A heuristic list (TensorRT's explicit-quantization guide); the engine's
#: tensors decide where they exist (Q005 reports only readers the engine runs in float).
WEIGHTED_OPS = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul", "Einsum", "ConvInteger", "MatMulInteger",
                          "QLinearConv", "QLinearMatMul"})
POOL_OPS = frozenset({"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool"})
INT8_READERS = WEIGHTED_OPS | POOL_OPS | QDQ_OPS | frozenset({
    "Add", "Concat", "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Slice", "Split", "Gather", "Pad",
    "Resize", "Identity", "Relu", "Clip", "Max", "Min", "Expand", "Tile", "DepthToSpace", "SpaceToDepth",
    "ReduceMax", "ReduceMin", "Sub", "Mul",
})

_QDQ_WHY = ("A Q/DQ that TensorRT cannot fold into a neighbouring layer runs as a layer of its own: an extra pass "
            "over the whole tensor, and a sign that the producing layer writes float where the model meant INT8.")


def _q_input(ctx: LintContext, i: int) -> bool:
    return ctx.first_input_dtype[i] in QUANT_TYPES


def _is_weighted(ctx: LintContext, i: int) -> bool:
    return ctx.anchor_ops[i] in WEIGHTED_OPS


def _is_pool(ctx: LintContext, i: int) -> bool:
    op = ctx.anchor_ops[i]
    return op in POOL_OPS or (op is None and "pool" in ctx.types[i].lower())


@dataclass(frozen=True)
class Chain:
    """A convolution / GEMM node and the layers built around it (one classic layer, or several Myelin ones)."""

    node: str
    layers: tuple[int, ...]
    quantized: bool  # some layer of it reads an INT8/FP8 input 0: the kernel runs quantized
    residuals: tuple[tuple[int, int], ...]  # (layer, input position): float inputs from outside into its Add

    def contains(self, i: int) -> bool:
        return i in self.layers


def chains(ctx: LintContext) -> list[Chain]:
    """Every convolution / GEMM chain, with whether it is quantized and its float residual inputs."""
    cached = ctx.__dict__.get("_qdq_chains")
    if cached is not None:
        return list(cached)
    adds = ctx.layers_running.get("Add", set())
    out = []
    for node, layers in ctx.chains.items():
        if ctx.op_of(node) not in WEIGHTED_OPS and not any(_is_weighted(ctx, i) for i in layers):
            continue
        quantized = any(_q_input(ctx, i) for i in layers)
        residuals: list[tuple[int, int]] = []
        if quantized:
            for i in layers:
                if i not in adds:
                    continue
                for t in ctx.inputs(i):
                    src = ctx.upstream(i, t.position)
                    if t.dtype in FLOAT_TYPES and src not in layers:
                        residuals.append((i, t.position))
        out.append(Chain(node, tuple(layers), quantized, tuple(residuals)))
    ctx.__dict__["_qdq_chains"] = tuple(out)
    return out


def _standalone_q_after(ctx: LintContext, i: int) -> list[int]:
    return [c for c in ctx.downstream(i) if ctx.kinds[c] == LayerKind.QDQ.value]


def _reformats_between(ctx: LintContext, src: int, dst: int) -> list[int]:
    """Reformat / no-op layers on the way from ``src``'s outputs to ``dst``."""
    out: list[int] = []
    frontier = [x.name for x in ctx.outputs(src)]
    seen: set[int] = set()
    while frontier:
        name = frontier.pop()
        for c in ctx.consumers.get(name, ()):
            if c in seen or c == dst or ctx.runs_onnx_work(c):
                continue
            seen.add(c)
            if dst in ctx.downstream(c):
                out.append(c)
            frontier.extend(x.name for x in ctx.outputs(c))
    return sorted(out)


@rule("Q001", "standalone-qdq", Severity.WARNING, "Q/DQ left as a layer of its own",
      _QDQ_WHY, needs=(Need.LAYERS, Need.TENSORS))
def standalone_qdq(ctx: LintContext) -> Iterator[Finding]:
    for i, kind in enumerate(ctx.kinds):
        if kind != LayerKind.QDQ.value or (ctx.types[i] == "NoOp" and not ctx.mean_ms[i]):
            continue
        ins, outs = ctx.inputs(i), ctx.outputs(i)
        ev = [layer_fact(ctx, i, "Q/DQ layer")]
        ev += [tensor_fact(t, "reads") for t in ins[:1]] + [tensor_fact(t, "writes") for t in outs[:1]]
        ev += [layer_fact(ctx, c, "read by") for c in ctx.downstream(i)]
        src = ctx.upstream(i)
        nodes = list(ctx.layer_nodes[i])
        ms, share = ctx.cost([i])
        what = nodes[0] if nodes else ctx.names[i]
        if src is None:
            ev.append(Evidence("its input is a network input (no layer writes it)", {"network_input": True}))
            yield Finding(
                "Q001", Severity.INFO, f"{what} quantizes the network input as a layer of its own", (i,),
                tuple(nodes), tuple(ev), ms, share,
                advice="Usually unavoidable: the first quantizer converts the float input. If the application can "
                       "supply the input already quantized, build with an INT8 input format (trtexec "
                       "--inputIOFormats=int8:chw32 or the matching layout) and drop this QuantizeLinear.")
            continue
        ev.append(layer_fact(ctx, src, "producer"))
        others = [c for c in ctx.consumers.get(ins[0].name, []) if c != i] if ins else []
        for c in others:
            ev.append(layer_fact(ctx, c, "also reads the same tensor"))
        producer = node_text(ctx, src)
        advice = (f"{what} could not be fused into {producer}, which writes "
                  f"{ctx.outputs(src)[0].label if ctx.outputs(src) else 'float'}. ")
        if others:
            advice += (f"The tensor is also read by {', '.join(node_text(ctx, c) for c in others)}: quantize that "
                       "reader's input too (a QuantizeLinear/DequantizeLinear pair on it, same scale) so the producer "
                       "can write INT8 and this quantizer folds into it.")
        else:
            advice += (f"Put the Q/DQ where {producer} can absorb it (its output, if it is an op TensorRT runs in "
                       "INT8), or remove the Q/DQ pair if this tensor does not need quantizing.")
        yield Finding("Q001", Severity.WARNING, f"{what} runs as its own layer after {producer}",
                      (i, src, *others), (*nodes, producer), tuple(ev), ms, share, advice=advice)


@rule("Q002", "int8-region-broken", Severity.WARNING,
      "quantized convolution / GEMM whose input or output stays in float",
      "An INT8 convolution or GEMM is fast only when its neighbours are INT8 too: a float output costs a "
      "standalone quantizer (and twice or four times the memory traffic) before the next INT8 layer, and a float "
      "input means the layer's activations were never quantized.", needs=(Need.LAYERS, Need.TENSORS))
def int8_region_broken(ctx: LintContext) -> Iterator[Finding]:
    covered = _covered_consumers(ctx)
    for ch in chains(ctx):
        node = ch.node
        if ch.quantized:
            if ch.residuals:
                continue  # float because of its own float residual input: Q003 says what to change
            leaving = [(c, t) for i in ch.layers for c, t in ctx.readers(i) if not ch.contains(c)]
            if not leaving:
                continue  # only the network output reads it: float is what the model returns
            float_reads = [(c, t) for c, t in leaving if t.dtype in FLOAT_TYPES and ctx.kinds[c] != LayerKind.QDQ.value]
            qs = sorted({c for c, _ in leaving if ctx.kinds[c] == LayerKind.QDQ.value})
            if not float_reads and not qs:
                continue  # INT8 all the way
            if float_reads and all((c, t.position) in covered for c, t in float_reads):
                continue  # a residual Add (Q003) or a pooling (Q004) is the cause: reported there
            breaking = list(dict.fromkeys(c for c, _ in float_reads))
            qs = sorted(set(qs) | {q for x in breaking for q in _standalone_q_after(ctx, x)})
            writes = sorted({t.label for c, t in leaving if t.dtype in FLOAT_TYPES} | set(
                x.label for i in ch.layers for x in ctx.outputs(i) if x.dtype in FLOAT_TYPES))[:1]
            ev = [layer_fact(ctx, i, "quantized layer") for i in ch.layers]
            ev += [tensor_fact(t, "read in float") for _, t in float_reads]
            ev += [layer_fact(ctx, c, "reads it in float") for c in breaking]
            ev += [layer_fact(ctx, c, "re-quantized by") for c in qs]
            names = [node_text(ctx, c) for c in breaking]
            title = (f"{node} computes in INT8 but writes {writes[0] if writes else 'float'}: "
                     + (f"{', '.join(names)} reads it in float" if names else "its quantizer did not fuse"))
            advice = (f"Quantize the input of {', '.join(names)} (a QuantizeLinear/DequantizeLinear pair on it) so "
                      f"{node} can write INT8, or accept float there and remove the Q/DQ that follows."
                      if names else
                      f"TensorRT kept {node}'s output in float although only quantizers read it: check that those "
                      "QuantizeLinear nodes share one scale (per-tensor), so they can fold into it.")
            layers = tuple(dict.fromkeys((*ch.layers, *breaking, *qs)))
            ms, share = ctx.cost(layers)
            nodes = tuple(dict.fromkeys([*names, node]))
            yield Finding("Q002", Severity.WARNING, title, layers, nodes, tuple(ev), ms, share, advice=advice)
        elif any(_weights_quantized(ctx, i) for i in ch.layers):
            first = ch.layers[0]
            ins = ctx.inputs(first)
            if not ins or ins[0].dtype not in FLOAT_TYPES:
                continue
            src = ctx.upstream(first)
            ev = [layer_fact(ctx, i, "layer with quantized weights") for i in ch.layers]
            ev.append(tensor_fact(ins[0], "reads"))
            if src is not None:
                ev.append(layer_fact(ctx, src, "its input comes from"))
            producer = node_text(ctx, src) if src is not None else "the network input"
            ms, share = ctx.cost(ch.layers)
            yield Finding(
                "Q002", Severity.WARNING, f"{node} has quantized weights but reads {ins[0].label} from {producer}",
                ch.layers, (node, *([producer] if src is not None else [])), tuple(ev), ms, share,
                advice=f"Put a QuantizeLinear/DequantizeLinear pair on {node}'s activation input (after {producer}); "
                       "with quantized weights only, the layer runs in float.")


def _weights_quantized(ctx: LintContext, i: int) -> bool:
    if any(i in ctx.layers_running.get(op, ()) for op in QDQ_OPS):
        return True
    w = ctx.raw(i).get("Weights")
    return isinstance(w, dict) and str(w.get("Type", "")) in ("Int8", "FP8", "Int4")


def _covered_consumers(ctx: LintContext) -> set[tuple[int, int]]:
    """(layer, input position) of the float reads that Q003 (a residual input) and Q004 (a pooling) explain."""
    out = {r for ch in chains(ctx) for r in ch.residuals}
    out |= {(i, 0) for i in range(len(ctx.kinds)) if pool_in_int8(ctx, i)}
    return out


@rule("Q003", "residual-add-float", Severity.WARNING, "residual Add outside the INT8 region",
      "When the residual (skip) input of an Add fused into an INT8 convolution is float, the INT8 region breaks "
      "there: classic TensorRT makes the fused layer write float and runs a standalone quantizer after it; Myelin "
      "(TensorRT 10, TensorRT-RTX) makes the skip branch's producer write a second, float copy of its output. "
      "TensorRT's Q/DQ placement guidance is to quantize the residual input of element-wise additions.",
      needs=(Need.LAYERS, Need.TENSORS))
def residual_add_float(ctx: LintContext) -> Iterator[Finding]:
    for ch in chains(ctx):
        if not ch.residuals:
            continue
        adds = [n for i in ch.layers for n in ctx.layer_nodes[i] if ctx.op_of(n) == "Add"]
        add = adds[0] if adds else ctx.names[ch.layers[0]]
        ev = [layer_fact(ctx, i, "INT8 convolution / GEMM with the Add fused") for i in ch.layers]
        srcs: list[int] = []
        labels = []
        for i, pos in ch.residuals:
            t = ctx.inputs(i)[pos]
            labels.append(t.label)
            ev.append(tensor_fact(t, "residual input"))
            s_ = ctx.upstream(i, pos)
            if s_ is not None:
                srcs.append(s_)
                ev.append(layer_fact(ctx, s_, "residual comes from"))
        outs = [t for i in ch.layers for c, t in ctx.readers(i) if not ch.contains(c)]
        writes = sorted({x.label for i in ch.layers for x in ctx.outputs(i)
                         if any(x.name == t.name for t in outs)}) or ["float"]
        ev.append(Evidence(f"so it writes {', '.join(writes)}", {"writes": writes}))
        qs = sorted({q for i in ch.layers for q in _standalone_q_after(ctx, i)} - set(ch.layers))
        ev += [layer_fact(ctx, q, "standalone quantizer that follows") for q in qs]
        layers = (*ch.layers, *qs)
        ms, share = ctx.cost(layers)
        src_text = ", ".join(dict.fromkeys(node_text(ctx, x) for x in srcs)) or "the skip branch"
        yield Finding(
            "Q003", Severity.WARNING,
            f"{add}: residual input from {src_text} is {labels[0]} in the INT8 block of {ch.node}", layers,
            (add, *dict.fromkeys(node_text(ctx, x) for x in srcs)), tuple(ev), ms, share,
            advice=f"Insert a QuantizeLinear/DequantizeLinear pair on the residual input of {add} (the tensor coming "
                   f"from {src_text}), so TensorRT fuses the Add with INT8 output and the producer of the skip branch "
                   "writes INT8 only (no float copy, no standalone quantizer after the Add).")


def pool_in_int8(ctx: LintContext, i: int) -> bool:
    """A float pooling between INT8 layers: fed by a quantized layer or feeding a quantizer / INT8 layer."""
    if ctx.first_input_dtype[i] not in FLOAT_TYPES or not _is_pool(ctx, i):
        return False
    src = ctx.upstream(i)
    if src is not None and (_q_input(ctx, src) or ctx.kinds[src] == LayerKind.QDQ.value):
        return True
    return any(ctx.kinds[c] == LayerKind.QDQ.value or _q_input(ctx, c) for c in ctx.downstream(i))


@rule("Q004", "pooling-float", Severity.WARNING, "pooling outside the INT8 region",
      "A pooling between INT8 layers that runs in float needs its input converted from INT8 (or the producer "
      "writing float) and a standalone quantizer after it: two extra passes over the tensor for an op TensorRT can "
      "run in INT8.", needs=(Need.LAYERS, Need.TENSORS))
def pooling_float(ctx: LintContext) -> Iterator[Finding]:
    for i in range(len(ctx.kinds)):
        if not pool_in_int8(ctx, i):
            continue
        src = ctx.upstream(i)
        after = ctx.downstream(i)
        ev = [layer_fact(ctx, i, "pooling"), tensor_fact(ctx.inputs(i)[0], "reads")]
        if ctx.outputs(i):
            ev.append(tensor_fact(ctx.outputs(i)[0], "writes"))
        extra: list[int] = []
        if src is not None:
            ev.append(layer_fact(ctx, src, "fed by"))
            extra += _reformats_between(ctx, src, i)
        for c in after:
            ev.append(layer_fact(ctx, c, "feeds"))
            extra += _reformats_between(ctx, i, c)
            if ctx.kinds[c] == LayerKind.QDQ.value:
                extra.append(c)
        extra = sorted(set(extra) - {i})
        ev += [layer_fact(ctx, r, "conversion it causes") for r in extra]
        layers = (i, *extra)
        ms, share = ctx.cost(layers)
        pool = node_text(ctx, i)
        yield Finding(
            "Q004", Severity.WARNING, f"{pool} runs in {ctx.inputs(i)[0].label} between INT8 layers", layers,
            (pool, *([node_text(ctx, src)] if src is not None else [])), tuple(ev), ms, share,
            advice=f"Quantize {pool}'s input (a QuantizeLinear/DequantizeLinear pair before it, with the scale of "
                   "the quantizer after it) so TensorRT runs the pooling in INT8 and the conversions around it go.")


@rule("Q005", "dq-into-float-op", Severity.WARNING, "DequantizeLinear feeding an op that cannot take INT8",
      "A DequantizeLinear whose reader TensorRT cannot run in INT8 buys no speed: the Q/DQ pair becomes a "
      "conversion of its own, and the reader runs in float anyway.", needs=(Need.LAYERS, Need.ONNX))
def dq_into_float_op(ctx: LintContext) -> Iterator[Finding]:
    w = ctx.walk
    assert w is not None
    has_tensors = ctx.has(Need.TENSORS)
    for di, op in enumerate(w.op_types):
        if op != "DequantizeLinear":
            continue
        for ci in w.successors(di):
            cop = w.op_types[ci]
            cname = w.names[ci]
            if cop in INT8_READERS:
                continue
            layers = ctx.layers_of(cname)
            if has_tensors and layers and any(_q_input(ctx, li) for li in layers):
                continue  # the engine does run it with a quantized input
            dname = w.names[di]
            ev = [Evidence(f"ONNX: {dname} (DequantizeLinear) -> {cname} ({cop})",
                           {"dequantize": dname, "reader": cname, "reader_op": cop})]
            ev += [layer_fact(ctx, li, "reader runs in") for li in layers]
            ev += [layer_fact(ctx, li, "the Q/DQ runs in") for li in ctx.layers_of(dname)
                   if ctx.kinds[li] == LayerKind.QDQ.value]
            involved = tuple(dict.fromkeys([*layers, *ctx.layers_of(dname)]))
            ms, share = ctx.cost(involved)
            yield Finding(
                "Q005", Severity.WARNING, f"{dname} feeds {cname} ({cop}), which TensorRT runs in float",
                involved, (dname, cname), tuple(ev), ms, share,
                advice=f"Remove the QuantizeLinear/DequantizeLinear pair in front of {cname} (a {cop} has no "
                       "INT8 implementation), or move it to the input of the next convolution / GEMM.")
