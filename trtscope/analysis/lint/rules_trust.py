"""Measurement trust: can the per-layer times be read as they are?

Per-layer profiles are measured in a separate, slower run (TensorRT synchronises around every layer, and CUDA
graphs are off while profiling), so their sum is compared with the end-to-end GPU compute time; a profile that
belongs to another build, or one averaged over a handful of iterations, is flagged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from trtscope.analysis.lint.base import Evidence, Finding, Need, rule
from trtscope.analysis.lint.context import LintContext
from trtscope.analysis.lint.rules_launch import TINY_INFO, TINY_MS, tiny_layer_indices
from trtscope.model.vocabulary import Severity

#: Layer sum / median GPU compute outside [LOW, HIGH] is reported; above SEVERE it is a warning.
GAP_LOW, GAP_HIGH, GAP_SEVERE = 0.9, 1.1, 1.5
#: A per-layer mean over fewer iterations than this is noise-dominated.
MIN_PROFILE_ITERATIONS = 10


def cuda_graph_status(ctx: LintContext) -> tuple[bool | None, str]:
    """(CUDA graphs used for the timed run, where that is recorded); (None, "") when the input does not say."""
    meta: dict[str, Any] = ctx.a.artifacts.metadata
    if isinstance(meta.get("cuda_graph"), bool):
        return meta["cuda_graph"], "trtexec's inference options"
    bundle = meta.get("bundle")
    run = bundle.get("run") if isinstance(bundle, dict) else None
    if isinstance(run, dict) and isinstance(run.get("cuda_graph"), bool):
        return run["cuda_graph"], "the capture bundle's run"
    cmd = meta.get("trtexec_command")
    if isinstance(cmd, str):
        if "--useCudaGraph" in cmd:
            return True, "the trtexec command line"
        if "--noCudaGraph" in cmd:
            return False, "the trtexec command line"
    return None, ""


@rule("M001", "layer-sum-gap", Severity.INFO, "sum of layer times differs from the end-to-end GPU time",
      "The per-layer profile runs the engine layer by layer with a synchronisation (and without CUDA graphs): "
      "its times are inflated by the profiling itself when they add up to more than the real inference, and "
      "layers overlap (several streams) or are missing when they add up to less. Shares stay comparable; "
      "absolute milliseconds do not.", needs=(Need.PROFILE, Need.TIMES))
def layer_sum_gap(ctx: LintContext) -> Iterator[Finding]:
    e2e = ctx.a.summary.end_to_end
    if e2e is None or e2e.layer_sum_vs_compute is None:
        return
    ratio = e2e.layer_sum_vs_compute
    if GAP_LOW <= ratio <= GAP_HIGH:
        return
    stats = e2e.compute or e2e.latency
    ref = stats.median_ms if stats is not None else None
    ev = [Evidence(f"sum of layer times {ctx.total_ms:.4f} ms vs median GPU compute {ref:.4f} ms over "
                   f"{e2e.iterations:,} iterations: {ratio:.2f}×",
                   {"layer_sum_ms": ctx.total_ms, "median_compute_ms": ref, "iterations": e2e.iterations,
                    "ratio": ratio})]
    graph, where = cuda_graph_status(ctx)
    if graph is not None:
        ev.append(Evidence(f"end-to-end timed {'with' if graph else 'without'} CUDA graphs ({where})",
                           {"cuda_graph": graph, "known_from": where}))
    sep = ctx.a.artifacts.metadata.get("separate_profiling")
    if isinstance(sep, bool):
        ev.append(Evidence(f"per-layer profile {'in a separate run' if sep else 'during the timed run'}",
                           {"separate_profiling": sep}))
    if ratio > GAP_HIGH:
        sev = Severity.WARNING if ratio > GAP_SEVERE else Severity.INFO
        title = f"layer times add up to {ratio:.2f}× the end-to-end GPU time: profiling overhead"
        advice = ("Read per-layer times as shares, not as milliseconds the engine spends; compare builds by their "
                  "end-to-end GPU compute time (trtexec --exportTimes), measured with CUDA graphs.")
    else:
        sev = Severity.WARNING
        title = f"layer times add up to only {ratio:.2f}× the end-to-end GPU time"
        advice = ("Layers overlap (auxiliary streams: per-layer times then overlap in time) or some are missing "
                  "from the profile: do not read the sum of layer times as the latency.")
    yield Finding("M001", sev, title, (), (), tuple(ev), None, None, advice=advice)


@rule("M002", "profile-mismatch", Severity.ERROR, "profile from a different build than the layer information",
      "Per-layer times joined to the wrong layers are not just noisy but wrong: every hotspot, share and cost "
      "figure depends on that join.", needs=(Need.LAYERS,))
def profile_mismatch(ctx: LintContext) -> Iterator[Finding]:
    meta = ctx.a.artifacts.metadata
    ignored = meta.get("ignored_profile")
    if isinstance(ignored, dict):
        yield Finding(
            "M002", Severity.ERROR,
            f"the profile {ignored.get('path')} belongs to another build: only {ignored.get('matched')} of "
            f"{ignored.get('profiled')} profiled layers are in the layer information (profile ignored)", (), (),
            (Evidence(f"{ignored.get('matched')} of {ignored.get('profiled')} profiled layer names found in "
                      f"{ignored.get('layer_info')}", dict(ignored)),),
            advice="Export the layer information and the profile from the same engine build (one trtexec run with "
                   "--exportLayerInfo and --exportProfile, or `trtscope profile`), then lint again.")
    if not ctx.a.has_profile:
        return
    layers = ctx.layers
    in_info = layers["in_layer_info"].to_numpy(dtype=bool)
    profiled = layers["profiled"].to_numpy(dtype=bool)
    missing = np.flatnonzero(in_info & ~profiled)
    extra = np.flatnonzero(~in_info)
    if not in_info.any() or (not len(missing) and not len(extra)):
        return
    ev = []
    if len(missing):
        ev.append(Evidence(f"{len(missing)} of {int(in_info.sum())} layers have no profile entry, e.g. "
                           + ", ".join(repr(ctx.names[i]) for i in missing[:3]),
                           {"unprofiled_layers": [int(i) for i in missing]}))
    if len(extra):
        ev.append(Evidence(f"{len(extra)} profiled layers are not in the layer information, e.g. "
                           + ", ".join(repr(ctx.names[i]) for i in extra[:3]),
                           {"profile_only_layers": [int(i) for i in extra]}))
    yield Finding(
        "M002", Severity.ERROR, f"profile and layer information disagree on {len(missing) + len(extra)} layers",
        tuple(int(i) for i in [*missing, *extra]), (), tuple(ev),
        advice="Use the profile of the same engine build as the layer information; layers without a time make "
               "every share and rank partial.")


@rule("M003", "cuda-graphs-off", Severity.WARNING, "launch-bound engine timed without CUDA graphs",
      "Without CUDA graphs every layer's kernel launches are paid on the host at every inference; in a "
      "launch-bound engine (many tiny layers) that is a large part of the latency, and one a deployment with "
      "CUDA graphs does not pay.", needs=(Need.PROFILE,))
def cuda_graphs_off(ctx: LintContext) -> Iterator[Finding]:
    graph, where = cuda_graph_status(ctx)
    if graph is not False:
        return
    tiny = tiny_layer_indices(ctx)
    t_ms, share = ctx.cost(tiny)
    if share is None or share < TINY_INFO:
        return
    yield Finding(
        "M003", Severity.WARNING,
        f"CUDA graphs were off ({where}) while {len(tiny)} tiny layers take {100 * share:.1f}% of layer time",
        (), (), (Evidence(f"CUDA graphs off ({where})", {"cuda_graph": False, "known_from": where}),
                 Evidence(f"{len(tiny)} layers under {TINY_MS * 1000:.0f} µs: {t_ms:.4f} ms",
                          {"tiny_layers": len(tiny), "ms": t_ms, "share": share})), t_ms, share,
        advice="Time (and deploy) with CUDA graphs: trtexec --useCudaGraph, or capture enqueueV3 in a CUDA graph.")


@rule("M004", "few-profile-iterations", Severity.WARNING, "per-layer times averaged over few iterations",
      "A per-layer mean over one or a few iterations carries the noise of a single run (clock ramp, cache "
      "state, other work on the GPU): rankings of layers with close times are not reliable.",
      needs=(Need.PROFILE,))
def few_profile_iterations(ctx: LintContext) -> Iterator[Finding]:
    n = ctx.a.summary.profile_iterations
    if n is None or n >= MIN_PROFILE_ITERATIONS:
        return
    yield Finding(
        "M004", Severity.WARNING, f"per-layer times come from {n} profiled iteration{'s' if n != 1 else ''}", (), (),
        (Evidence(f"profile count: {n} (fewer than {MIN_PROFILE_ITERATIONS})", {"profile_iterations": n}),),
        advice="Profile over more iterations (trtexec --separateProfileRun with --iterations / --duration, or "
               "`trtscope profile --profile-iterations N`).")
