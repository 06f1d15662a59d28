"""Unfused patterns: op sequences of the ONNX graph (found through its edges) that TensorRT ran in more than
one layer, and the ops left outside a Myelin region next to it.

"Not fused" is decided by the mapping, not by names: a pattern is fused when one engine layer runs every one
of its nodes that runs at all (absorbed and folded nodes run in no layer and are left out).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property

from trtscope.analysis.lint.base import Evidence, Finding, Need, rule
from trtscope.analysis.lint.context import LintContext, layer_fact
from trtscope.analysis.lint.patterns import Patterns
from trtscope.model.vocabulary import RUNNING_STATUSES, LayerKind, NodeStatus, Severity

_RUNNING = frozenset(s.value for s in RUNNING_STATUSES)
#: Ops that commonly stop TensorRT's attention fusion when they sit between the two MatMuls.
_BREAKERS = frozenset({"Cast", "Transpose", "Reshape", "Sub", "Clip", "Max", "Exp", "ReduceSum", "ReduceMax"})


class _Split:
    """Where a pattern's nodes run: running nodes, their layers, and whether one layer runs them all."""

    def __init__(self, ctx: LintContext, names: list[str]) -> None:
        self.ctx = ctx
        self.names = names
        self.running = [n for n in names if ctx.status_of(n) in _RUNNING]
        self.layer_sets = {n: set(ctx.layers_of(n)) for n in self.running}

    @cached_property
    def fused(self) -> bool:
        if len(self.running) < 2:
            return True
        common = set.intersection(*self.layer_sets.values())
        return bool(common)

    @property
    def layers(self) -> tuple[int, ...]:
        return tuple(sorted(set().union(*self.layer_sets.values()))) if self.layer_sets else ()

    def evidence(self) -> list[Evidence]:
        ctx = self.ctx
        ev = []
        for n in self.names:
            st = ctx.status_of(n)
            ls = ctx.layers_of(n)
            where = ", ".join(f"#{i}" for i in ls) if ls else "no layer"
            ev.append(Evidence(f"{n} ({ctx.op_of(n)}): {st}, in {where}",
                               {"node": n, "op_type": ctx.op_of(n), "status": st, "layers": ls}))
        ev += [layer_fact(ctx, i) for i in self.layers]
        return ev


def _patterns(ctx: LintContext) -> Patterns:
    p = ctx.patterns
    assert p is not None  # the rules that call this need the ONNX model
    return p


def _pattern_findings(ctx: LintContext, rid: str, what: str, matches: Iterator[list[int]], advice: str,
                      breakers: bool = False) -> Iterator[Finding]:
    w = ctx.walk
    assert w is not None
    seen: set[frozenset[int]] = set()
    for idx in matches:
        key = frozenset(idx)
        if key in seen:
            continue
        seen.add(key)
        names = [w.names[j] for j in idx]
        split = _Split(ctx, names)
        if split.fused:
            continue
        layers = split.layers
        ms, share = ctx.cost(layers)
        ev = split.evidence()
        extra = ""
        if breakers:
            odd = [n for n in names if ctx.op_of(n) in _BREAKERS]
            if odd:
                extra = f" ({', '.join(f'{n} ({ctx.op_of(n)})' for n in odd)} between the MatMuls)"
                ev.insert(0, Evidence(f"likely fusion breakers: {', '.join(odd)}", {"breakers": odd}))
        yield Finding(rid, Severity.WARNING,
                      f"{what} at {names[0]} runs in {len(layers)} layers{extra}", layers, tuple(names), tuple(ev),
                      ms, share, advice=advice)


@rule("F001", "epilogue-apart", Severity.WARNING, "Conv / Gemm / MatMul and its bias or activation left apart",
      "TensorRT fuses a bias, a BatchNormalization and an activation into the convolution or GEMM before them; "
      "left apart, the op is an extra kernel and an extra round trip of the whole output through memory.",
      needs=(Need.LAYERS, Need.ONNX))
def epilogue_apart(ctx: LintContext) -> Iterator[Finding]:
    w = ctx.walk
    assert w is not None
    for i, chain in _patterns(ctx).epilogues():
        head = w.names[i]
        if ctx.status_of(head) not in _RUNNING:
            continue
        head_layers = set(ctx.layers_of(head))
        apart = [w.names[j] for j in chain if ctx.status_of(w.names[j]) in _RUNNING
                 and not head_layers & set(ctx.layers_of(w.names[j]))]
        if not apart:
            continue
        split = _Split(ctx, [head, *apart])
        ev = split.evidence()
        graph_out = ctx.a.artifacts.onnx.outputs if ctx.a.artifacts.onnx is not None else []
        exposed = [t for t in w.outputs_of(i) if t in graph_out]
        if exposed:
            ev.insert(0, Evidence(f"{head}'s output {exposed[0]!r} is also a graph output: it must be written out "
                                  "before the next op", {"graph_output": exposed[0]}))
        layers = tuple(sorted({li for n in apart for li in ctx.layers_of(n)} | head_layers))
        ms, share = ctx.cost(layers)
        ops = ", ".join(f"{n} ({ctx.op_of(n)})" for n in apart)
        yield Finding(
            "F001", Severity.WARNING, f"{ops} after {head} ({ctx.op_of(head)}) runs in a layer of its own", layers,
            (*apart, head), tuple(ev), ms, share,
            advice=f"Look at what keeps {ops} from {head}: its output also being a graph output or read by another op, "
                   "a Cast or "
                   "Reshape in between, a bias that is not a constant (fold it: polygraphy surgeon sanitize "
                   "--fold-constants), or a precision boundary (the two layers run at different precisions).")


@rule("F002", "layernorm-unfused", Severity.WARNING, "LayerNorm written out in ops and not fused into one layer",
      "A LayerNorm decomposed into ReduceMean / Sub / Pow / Sqrt / Div runs as several kernels, each a pass over "
      "the activations, unless TensorRT recognises it; one normalization kernel reads the tensor once.",
      needs=(Need.LAYERS, Need.ONNX))
def layernorm_unfused(ctx: LintContext) -> Iterator[Finding]:
    yield from _pattern_findings(
        ctx, "F002", "LayerNorm", _patterns(ctx).layernorms(),
        "Export LayerNormalization as one ONNX op (opset >= 17: torch.onnx.export(..., opset_version=17)) so "
        "TensorRT builds one normalization layer; keep it in FP32 inputs/FP16 compute or build with FP16, and keep "
        "the epsilon and the affine weights constant (fold constants first).")


@rule("F003", "gelu-unfused", Severity.WARNING, "GELU written out in ops and not fused",
      "GELU decomposed into Erf (or Tanh) and elementwise ops costs one kernel per op unless TensorRT fuses them "
      "into the preceding GEMM's epilogue or one pointwise kernel.", needs=(Need.LAYERS, Need.ONNX))
def gelu_unfused(ctx: LintContext) -> Iterator[Finding]:
    yield from _pattern_findings(
        ctx, "F003", "GELU", _patterns(ctx).gelus(),
        "Export GELU as one op (opset >= 20 Gelu) or keep the exporter's exact Erf form with constant operands; make "
        "sure nothing else reads the intermediate tensors, so the whole sequence fuses into the MatMul before it.")


@rule("F004", "softmax-unfused", Severity.WARNING, "Softmax written out in ops and not fused",
      "A softmax written as Exp / ReduceSum / Div runs as several kernels and loses the numerically safe fused "
      "implementation.", needs=(Need.LAYERS, Need.ONNX))
def softmax_unfused(ctx: LintContext) -> Iterator[Finding]:
    yield from _pattern_findings(
        ctx, "F004", "Softmax", _patterns(ctx).softmaxes(),
        "Export the softmax as one Softmax op (torch.softmax / nn.Softmax) instead of its arithmetic.")


@rule("F005", "attention-unfused", Severity.WARNING, "attention (MatMul - Softmax - MatMul) not fused",
      "Fused attention (one multi-head-attention kernel) never writes the sequence x sequence score matrix to "
      "memory; run as separate MatMul, Softmax and MatMul layers it does, twice, which dominates at long "
      "sequences.", needs=(Need.LAYERS, Need.ONNX))
def attention_unfused(ctx: LintContext) -> Iterator[Finding]:
    yield from _pattern_findings(
        ctx, "F005", "attention", _patterns(ctx).attentions(),
        "TensorRT fuses attention in FP16 / BF16 / FP8 builds when only the scale, the mask and the softmax sit "
        "between the two MatMuls: build in FP16 or BF16, remove Casts / Transposes between the score MatMul and "
        "the softmax (apply the scale to Q or K instead), and pass the mask as an additive constant or a "
        "boolean Where.", breakers=True)


def _through(cs: set[int], succ: dict[int, set[int]], works: list[bool]) -> set[int]:
    """The layers that run ONNX work reached from ``cs``, passing through layers that do not (reformats)."""
    out: set[int] = set()
    stack = list(cs)
    seen: set[int] = set()
    while stack:
        c = stack.pop()
        if c in seen:
            continue
        seen.add(c)
        if works[c]:
            out.add(c)
        else:
            stack.extend(succ.get(c, ()))
    return out


@rule("F006", "myelin-boundary", Severity.INFO, "ops left outside a Myelin region next to it",
      "Inside a Myelin region TensorRT fuses and schedules freely; each op left outside it in a classic layer cuts "
      "the region, materialises tensors at the cut and launches kernels of its own.",
      needs=(Need.LAYERS, Need.TENSORS))
def myelin_boundary(ctx: LintContext) -> Iterator[Finding]:
    regions = ctx.layers["myelin_region"].tolist()
    in_myelin = ctx.layers["in_myelin"].tolist()
    if not any(in_myelin) or all(in_myelin):
        return
    absorbed = ctx.a.onnx_nodes
    absorbed_n = int(absorbed["status"].eq(NodeStatus.ABSORBED.value).sum())
    by_region: dict[str, list[int]] = {}
    for i, r in enumerate(regions):
        if in_myelin[i] and isinstance(r, str):
            by_region.setdefault(r, []).append(i)
    # layer -> layer edges through tensors, with reformat / no-op layers in between contracted away
    works = [ctx.runs_onnx_work(i) for i in range(len(regions))]
    succ: dict[int, set[int]] = {}
    for p, c in ctx.layer_edges:
        succ.setdefault(p, set()).add(c)
    outside_of: dict[str, set[int]] = {}
    for p, cs in succ.items():
        for c in _through(cs, succ, works):
            a_in, b_in = in_myelin[p], in_myelin[c]
            if a_in == b_in or not works[p] or not works[c]:
                continue
            region, other = (regions[p], c) if a_in else (regions[c], p)
            if isinstance(region, str):
                outside_of.setdefault(region, set()).add(other)
    for region, members in by_region.items():
        outside = {o for o in outside_of.get(region, ()) if ctx.kinds[o] in (LayerKind.FUSED.value,
                                                                             LayerKind.SINGLE.value)}
        if not outside:
            continue
        run = sorted({n for i in members for n in ctx.layer_nodes[i]})
        ev = [Evidence(f"region {region}: {len(members)} layers running {len(run)} ONNX nodes"
                       + (f"; {absorbed_n} nodes absorbed by Myelin regions (named by no layer)" if absorbed_n else ""),
                       {"region": region, "layers": len(members), "nodes": len(run), "absorbed": absorbed_n})]
        ev += [layer_fact(ctx, o, "outside, next to it") for o in sorted(outside)]
        layers = tuple(sorted(outside))
        ms, share = ctx.cost(layers)
        names = tuple(dict.fromkeys(n for o in layers for n in ctx.layer_nodes[o]))
        ops = sorted({ctx.anchor_ops[o] or ctx.types[o] for o in layers})
        yield Finding(
            "F006", Severity.INFO, f"{len(layers)} layers ({', '.join(ops)}) run outside Myelin region {region} "
            "next to it", layers, names, tuple(ev), ms, share,
            advice="These ops were given classic TensorRT layers instead of joining the Myelin region (an op Myelin "
                   "does not take, or a tactic TensorRT timed faster). If they sit between two parts of a region, "
                   "check whether the op can be expressed with ops Myelin fuses (e.g. a pooling as a ReduceMean).")
