"""The headline figures of a report, in words: one builder for the console report and the TUI Overview.

Both views show exactly these rows, so a figure can never read differently in the two. Each row is
``(label, text, emphasis)`` with emphasis ``""``, ``"bold"`` or ``"warn"``; the views style and lay them out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trtscope.presentation.formatting import ms, pct
from trtscope.presentation.labels import KIND_LABELS, UNFUSED_MARK, counts_text

if TYPE_CHECKING:
    from trtscope.analysis.session import Analysis, InputFacts

HeadlineRow = tuple[str, str, str]

LAYER_DETAIL = {
    "detailed": "detailed (JSON)", "oneline": "detailed (one-line log)",
    "legacy_log": "names, types and tensors (verbose build log)", "names": "layer names only",
}


def layer_kinds_text(kinds: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {KIND_LABELS.get(k, k)}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))


def _meta_rows(meta: dict[str, object]) -> list[HeadlineRow]:
    return [(label, str(meta[key]), "") for key, label in
            (("gpu", "GPU"), ("tensorrt_version", "TensorRT"), ("precision", "Precision")) if meta.get(key)]


ANALYSING = "analysing…"
READING = "reading the inputs…"


def reading_rows() -> list[HeadlineRow]:
    """The rows shown while large inputs are still being read (behind the UI's first frame)."""
    return [("Engine layers", READING, ""),
            ("Analysis", "reading the inputs, then mapping layers to ONNX nodes, coverage, hotspots: the other "
             "screens open when it is done", "bold")]


def loading_rows(f: InputFacts) -> list[HeadlineRow]:
    """The rows shown while the analysis runs: what the inputs hold, every figure still to come marked so."""
    rows = _meta_rows(f.metadata)
    if f.layer_count is not None:
        rows.append(("Layer information", LAYER_DETAIL.get(str(f.layer_detail), str(f.layer_detail)), ""))
        rows.append(("Engine layers", f"{f.layer_count:,}  (kinds: {ANALYSING})", ""))
    elif f.profiled_layers is not None:
        rows.append(("Engine layers", f"{f.profiled_layers:,} in the profile  (kinds: {ANALYSING})", ""))
    else:
        rows.append(("Engine layers", "none", ""))
    if f.onnx_node_count is not None:
        rows.append(("ONNX nodes", f"{f.onnx_node_count:,}  (statuses: {ANALYSING})", ""))
    if f.profiled_layers is not None:
        rows.append(("Per-layer profile", f"{f.profiled_layers:,} layers", ""))
    if f.iterations is not None:
        rows.append(("Per-iteration times", f"{f.iterations:,} iterations", ""))
    if f.kernel_count:
        rows.append(("Kernels", f"{f.kernel_count:,} launches  (attribution: {ANALYSING})", ""))
    rows.append(("Analysis", "mapping layers to ONNX nodes, coverage, hotspots: the other screens open when it "
                 "is done", "bold"))
    return rows


def headline_rows(a: Analysis) -> list[HeadlineRow]:
    s = a.summary
    meta = s.metadata
    rows: list[HeadlineRow] = _meta_rows(meta)
    if not s.layer_count:
        rows.append(("Engine layers", "none: kernels are listed by NVTX range; pass --layers to map them to layers "
                     "and ONNX nodes" if s.kernels is not None else "none: no layer information or profile was given",
                     "warn"))
    else:
        rows.append(("Layer information", LAYER_DETAIL.get(s.layer_detail, s.layer_detail), ""))
        rows.append(("Engine layers", f"{s.layer_count:,}  ({layer_kinds_text(s.layer_kinds)})", ""))
        if s.myelin_layer_count:
            rows.append(("Myelin", f"{s.myelin_layer_count:,} of these layers in {s.myelin_region_count:,} region"
                         f"{'s' if s.myelin_region_count != 1 else ''}", ""))
        ref = s.reformat
        ref_text = f"{ref.count:,} ({ref.copying_count:,} copying, {ref.elided_count:,} elided)"
        if ref.total_ms is not None:
            ref_text += f", {ms(ref.total_ms)} ms = {pct(ref.share)} of layer time"
        rows.append(("Reformat layers", ref_text, ""))
    cov = s.coverage
    if s.has_onnx:
        rows.append(("ONNX nodes", f"{cov.onnx_node_count:,}: {counts_text(cov.status_counts)}", ""))
        rows.append(("Compute nodes", f"{cov.class_counts['compute']:,}: {counts_text(cov.compute)}", ""))
        rows.append(("Fusion coverage", f"{pct(cov.fusion_coverage)} = {cov.compute.fused:,} fused of "
                     f"{cov.compute.running:,} compute nodes that run in a layer ({UNFUSED_MARK} "
                     f"{cov.compute.unfused:,} unfused)", "bold"))
    elif s.layer_count:
        est = cov.fusion_coverage
        rows.append(("Fusion coverage",
                     f"~{pct(est)} estimated: {cov.compute.fused:,} fused of {cov.compute.running:,} compute nodes "
                     f"named in the engine ({UNFUSED_MARK} {cov.compute.unfused:,} unfused; no ONNX model given: op "
                     "types inferred from names; pass --onnx for exact figures)"
                     if est is not None else "unknown (no ONNX nodes could be identified)", "warn"))
    if s.total_ms is not None:
        n = s.profile_iterations
        it = f" over {n:,} profiled iteration{'' if n == 1 else 's'}" if n else ""
        rows.append(("Sum of layer times", f"{ms(s.total_ms)} ms per inference (mean{it})", ""))
    elif s.layer_count:
        rows.append(("Layer times", "none: no per-layer profile was given (trtexec --exportProfile, --dumpProfile, "
                     "or trtscope profile)", "warn"))
    e2e = s.end_to_end
    stats = (e2e.compute or e2e.latency) if e2e is not None else None
    if e2e is not None and stats is not None:
        line = f"median {ms(stats.median_ms)} ms, p99 {ms(stats.p99_ms)} ms over {e2e.iterations:,} iterations"
        if e2e.layer_sum_vs_compute is not None:
            line += f"; layer sum = {e2e.layer_sum_vs_compute:.2f}× median GPU compute"
        rows.append(("End-to-end (GPU compute)", line, ""))
    ks = s.kernels
    if ks is not None:
        text = (f"{ks.count:,} launches, {ms(ks.gpu_ms, 3)} ms of GPU time; {ks.in_nvtx_range:,} inside an NVTX "
                f"range, {ks.on_layer:,} attributed to a layer")
        if ks.graph_level_launches:
            text += f"; {ks.graph_level_launches:,} whole-graph launches without kernel detail"
        rows.append(("Kernels", text, ""))
    if len(a.nvml):
        rows.append(("NVML", f"{len(a.nvml):,} samples", ""))
    return rows
