"""Launch-bound engines: time spent in many tiny layers, and the share of generated (kgen) and shape layers."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import numpy as np

from trtscope.analysis.lint.base import Evidence, Finding, Need, rule
from trtscope.analysis.lint.context import LintContext
from trtscope.model.vocabulary import LayerKind, Severity

#: A layer faster than this is dominated by its launch (a kernel launch costs a few µs of host and GPU time).
TINY_MS = 0.005
#: Tiny layers' share of layer time at which the engine counts as launch-bound (warning), or worth a note (info).
TINY_WARN, TINY_INFO = 0.20, 0.10
#: kgen layers' share of layer time for a warning; a note from KGEN_INFO (or from KGEN_COUNT of the layers).
KGEN_WARN, KGEN_INFO, KGEN_COUNT = 0.30, 0.10, 0.25
_TOKEN = re.compile(r"[A-Z][a-z]*")


def tiny_layer_indices(ctx: LintContext) -> list[int]:
    """Layers with a mean time above 0 and under TINY_MS."""
    ms = ctx.mean_ms
    return np.flatnonzero(np.isfinite(ms) & (ms > 0) & (ms < TINY_MS)).tolist()


@rule("L001", "tiny-layers", Severity.WARNING, "many tiny layers (< 5 µs) adding up to a large share",
      "A layer that runs for a few microseconds costs about as much to launch as to run: many of them make the "
      "engine launch-bound, and the GPU idles between kernels.", needs=(Need.LAYERS, Need.PROFILE))
def tiny_layers(ctx: LintContext) -> Iterator[Finding]:
    tiny = tiny_layer_indices(ctx)
    if not tiny:
        return
    total, share = ctx.cost(tiny)
    if share is None or share < TINY_INFO:
        return
    sev = Severity.WARNING if share >= TINY_WARN else Severity.INFO
    by_type = Counter(ctx.types[i] or ctx.kinds[i] for i in tiny)
    ev = [Evidence(f"{len(tiny)} of {len(ctx.names)} layers run under {TINY_MS * 1000:.0f} µs: {total:.4f} ms = "
                   f"{100 * share:.1f}% of layer time",
                   {"tiny_layers": len(tiny), "layers": len(ctx.names), "ms": total, "share": share,
                    "threshold_ms": TINY_MS}),
          Evidence("by layer type: " + ", ".join(f"{t} {n}" for t, n in by_type.most_common(6)),
                   {"by_type": dict(by_type.most_common())})]
    yield Finding(
        "L001", sev, f"{len(tiny)} layers under {TINY_MS * 1000:.0f} µs take {100 * share:.1f}% of layer time",
        tuple(tiny), (), tuple(ev), total, share,
        advice="Launch CUDA graphs (trtexec --useCudaGraph; IExecutionContext in a captured stream) to remove the "
               "per-kernel launch cost; raise the batch size if latency allows; and look for fusion the model "
               "prevents (F-rules), since fewer, larger layers are the lasting fix.")


@rule("L002", "kgen-shape-share", Severity.INFO, "share of generated (kgen) and shape layers",
      "kgen layers are kernels Myelin generates for everything that is not a GEMM or convolution (pointwise ops, "
      "reductions, copies); many of them, or shape layers that take time, mean the graph has work that did not "
      "fold into the heavy layers.", needs=(Need.LAYERS,))
def kgen_shape_share(ctx: LintContext) -> Iterator[Finding]:
    n = len(ctx.types)
    kgen = [i for i, t in enumerate(ctx.types) if t == "kgen"]
    if kgen:
        ms, share = ctx.cost(kgen)
        heavy = share is not None and share >= KGEN_WARN
        noted = (share is not None and share >= KGEN_INFO) or len(kgen) >= KGEN_COUNT * n
        if heavy or noted:
            tokens: Counter[str] = Counter()
            for i in kgen:
                name = ctx.names[i]
                body = name[len("__myl_"):].split("_myl")[0] if name.startswith("__myl_") else ""
                tokens.update(_TOKEN.findall(body))
            ev = [Evidence(f"{len(kgen)} of {n} layers are kgen" + (f": {ctx.ms_text(kgen)}" if ms is not None
                                                                    else ""),
                           {"kgen_layers": len(kgen), "layers": n, "ms": ms, "share": share})]
            if tokens:
                ev.append(Evidence("ops in their names: " + ", ".join(f"{t}×{c}" for t, c in tokens.most_common(8)),
                                   {"name_tokens": dict(tokens.most_common())}))
            yield Finding(
                "L002", Severity.WARNING if heavy else Severity.INFO,
                f"{len(kgen)} kgen layers" + (f" take {100 * share:.1f}% of layer time" if share is not None
                                              else f" ({100 * len(kgen) / n:.0f}% of the layers)"),
                tuple(kgen), (), tuple(ev), ms, share,
                advice="Read the op tokens in the kgen names (Tran = Transpose, Resh = Reshape, Cast, Add...): "
                       "transposes and casts between GEMMs usually come from the exporter and can often be folded "
                       "(polygraphy surgeon sanitize --fold-constants) or removed in the model; FP16 builds let "
                       "more pointwise work fuse into GEMM epilogues.")
    shape = [i for i, k in enumerate(ctx.kinds) if k == LayerKind.NOOP.value and ctx.mean_ms[i] > 0]
    if shape:
        ms, share = ctx.cost(shape)
        if share is not None and share >= 0.05:
            yield Finding(
                "L002", Severity.INFO, f"{len(shape)} shape / no-op layers take {100 * share:.1f}% of layer time",
                tuple(shape), (), (Evidence(f"{len(shape)} layers of kind no-op with time: {ctx.ms_text(shape)}",
                                            {"layers": len(shape), "ms": ms, "share": share}),), ms, share,
                advice="Shape computations at run time come from dynamic shapes: fix the shapes you can (static "
                       "input dimensions, or fold Shape / Gather / Concat chains with constant folding).")
