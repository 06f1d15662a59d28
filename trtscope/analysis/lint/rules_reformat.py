"""Reformat rules: every reformat layer traced to the layers (and ONNX nodes) on both sides, grouped by cause.

A reformat is inserted where the producer writes a tensor in one format / precision and the consumer's kernel
reads another. The cause is that pair: ``Float linear -> Half CHW32`` between a MaxPool and a quantizer says
the pooling ran in FP32 inside an INT8 region; ``Half HWC8 -> Half HWC16`` between two convolutions says their
kernels prefer different vector widths. Producer and consumer come from the layer order and tensor names.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from trtscope.analysis.lint.base import Evidence, Finding, Need, rule
from trtscope.analysis.lint.context import LintContext, Tensor, node_text
from trtscope.model.vocabulary import LayerKind, Severity


@dataclass(frozen=True)
class Traced:
    layer: int
    src: Tensor | None
    dst: Tensor | None
    producer: int | None  # nearest layer that runs ONNX work before it (None: network input)
    consumers: tuple[int, ...]  # nearest such layers after it (empty: network output)

    @property
    def precision_change(self) -> bool:
        return self.src is not None and self.dst is not None and self.src.dtype != self.dst.dtype


def trace(ctx: LintContext) -> list[Traced]:
    """Every reformat layer with its input / output tensor and the layers that run ONNX work around it."""
    out = []
    for i, kind in enumerate(ctx.kinds):
        if kind != LayerKind.REFORMAT.value:
            continue
        ins, outs = ctx.inputs(i), ctx.outputs(i)
        out.append(Traced(i, ins[0] if ins else None, outs[0] if outs else None, ctx.upstream(i),
                          tuple(ctx.downstream(i))))
    return out


def _side(ctx: LintContext, layer: int | None, end: str) -> str:
    if layer is None:
        return f"the network {end}"
    op = ctx.anchor_ops[layer] or ctx.types[layer] or "layer"
    return f"{node_text(ctx, layer)} ({op})"


def _op(ctx: LintContext, layer: int | None, end: str) -> str:
    if layer is None:
        return f"network {end}"
    return ctx.anchor_ops[layer] or ctx.types[layer] or "?"


def _cause(ctx: LintContext, t: Traced) -> str:
    src = t.src.label if t.src is not None else "?"
    dst = t.dst.label if t.dst is not None else "?"
    cons = sorted({_op(ctx, c, "output") for c in t.consumers}) or ["network output"]
    return f"{src} → {dst} between {_op(ctx, t.producer, 'input')} and {'/'.join(cons)}"


def _advice(ctx: LintContext, group: list[Traced], precision: bool) -> str:
    t = group[0]
    if t.producer is None:
        return ("The network input arrives as " + (t.src.label if t.src else "?") + " and the first layer reads "
                + (t.dst.label if t.dst else "?") + ": if the application can supply that format, build with "
                "--inputIOFormats (e.g. fp16:hwc8) so no conversion runs; otherwise it is the price of the input.")
    if not t.consumers:
        return ("The last layer writes " + (t.src.label if t.src else "?") + " and the network output is "
                + (t.dst.label if t.dst else "?") + ": if the application can take the engine's format, build with "
                "--outputIOFormats (e.g. fp16:chw) and skip the conversion.")
    if precision:
        return ("The layers on the two sides run at different precisions: this is the edge of a reduced-precision "
                "region. In an INT8 model, quantize the float side (Q/DQ on the op's input, see Q003/Q004); in an "
                "FP16 build, find why the float side stays FP32 (P001: a Cast, a precision constraint, an op "
                "without an FP16 kernel).")
    return ("Same precision, different layouts: the kernels on the two sides prefer different vector widths. "
            "Channel counts that are multiples of 8 (FP16) or 32 (INT8) let neighbouring kernels agree; "
            "otherwise this is usually a tactic choice worth its cost (check the time).")


def _findings(ctx: LintContext, rid: str, sev: Severity, precision: bool) -> Iterator[Finding]:
    groups: dict[str, list[Traced]] = {}
    for t in trace(ctx):
        if t.precision_change != precision:
            continue
        if not precision and ctx.types[t.layer] == "NoOp":
            continue  # elided by TensorRT: no copy runs
        groups.setdefault(_cause(ctx, t), []).append(t)
    for cause, group in groups.items():
        layers = tuple(t.layer for t in group)
        ms, share = ctx.cost(layers)
        ev = []
        nodes: dict[str, None] = {}
        for t in group:
            lm, _ = ctx.cost([t.layer])
            prod = _side(ctx, t.producer, "input")
            cons = ", ".join(_side(ctx, c, "output") for c in t.consumers) or "the network output"
            ev.append(Evidence(
                f"#{t.layer} {ctx.names[t.layer]!r}: {t.src.label if t.src else '?'} → "
                f"{t.dst.label if t.dst else '?'}, from {prod} to {cons}"
                + (f", {lm:.4f} ms" if lm is not None else "") + (" (elided)" if ctx.types[t.layer] == "NoOp" else ""),
                {"layer": t.layer, "name": ctx.names[t.layer], "from": t.src.as_data() if t.src else None,
                 "to": t.dst.as_data() if t.dst else None, "producer": t.producer, "consumers": list(t.consumers),
                 "producer_node": node_text(ctx, t.producer) if t.producer is not None else None,
                 "consumer_nodes": [node_text(ctx, c) for c in t.consumers], "ms": lm, "cause": cause}))
            for x in (t.producer, *t.consumers):
                if x is not None:
                    nodes[node_text(ctx, x)] = None
        n = len(group)
        what = "precision-changing reformat" if precision else "layout reformat"
        yield Finding(rid, sev, f"{n} {what}{'s' if n > 1 else ''}: {cause}", layers, tuple(nodes), tuple(ev), ms,
                      share, advice=_advice(ctx, group, precision))


@rule("R001", "reformat-precision", Severity.WARNING, "reformat layers that change precision, grouped by cause",
      "A conversion between precisions is a full pass over the tensor at the boundary of a reduced-precision "
      "region; each one marks an op that left the region.", needs=(Need.LAYERS, Need.TENSORS))
def reformat_precision(ctx: LintContext) -> Iterator[Finding]:
    yield from _findings(ctx, "R001", Severity.WARNING, True)


@rule("R002", "reformat-layout", Severity.INFO, "reformat layers that only change layout, grouped by cause",
      "A layout conversion copies the tensor between two kernels that prefer different formats: pure memory "
      "traffic, worth removing when it adds up.", needs=(Need.LAYERS, Need.TENSORS))
def reformat_layout(ctx: LintContext) -> Iterator[Finding]:
    yield from _findings(ctx, "R002", Severity.INFO, False)
