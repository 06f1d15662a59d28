"""The headline figures of a comparison, in words: one builder for the console view and a TUI diff screen.

Each row is ``(label, text A, text B, change, emphasis)`` with emphasis ``""``, ``"bold"`` or ``"warn"``; the
views style and lay them out. Every figure is read from the Diff's typed summary.
"""

from __future__ import annotations

from trtscope.analysis.diff import Diff
from trtscope.presentation.diff_labels import signed_ms, signed_pct, signed_points
from trtscope.presentation.formatting import ms, pct
from trtscope.views.headline import layer_kinds_text

DiffRow = tuple[str, str, str, str, str]


def _delta_int(a: int | None, b: int | None) -> str:
    if a is None or b is None:
        return "—"
    return f"{b - a:+,}" if b != a else "="


def diff_headline_rows(d: Diff) -> list[DiffRow]:
    s = d.summary
    a, b, m = s.a, s.b, s.match
    rows: list[DiffRow] = [
        ("Inputs", ("ONNX model" if a.has_onnx else "no ONNX model") + (", profile" if a.has_profile else ""),
         ("ONNX model" if b.has_onnx else "no ONNX model") + (", profile" if b.has_profile else ""), "", ""),
        ("Engine layers", f"{a.layers:,}", f"{b.layers:,}", _delta_int(a.layers, b.layers), ""),
        ("Layer kinds", layer_kinds_text(a.layer_kinds), layer_kinds_text(b.layer_kinds), "", ""),
    ]
    if a.myelin_layers or b.myelin_layers:
        rows.append(("Myelin regions", f"{a.myelin_regions:,} ({a.myelin_layers:,} layers)",
                     f"{b.myelin_regions:,} ({b.myelin_layers:,} layers)", _delta_int(a.myelin_regions,
                                                                                      b.myelin_regions), ""))
    how = f"{m.exact:,} by name, {m.structural:,} by structure" if m.matched else "none"
    rows.append(("ONNX nodes", f"{a.onnx_nodes:,} ({m.only_a:,} only here)", f"{b.onnx_nodes:,} ({m.only_b:,} only "
                 f"here)", f"{m.matched:,} matched: {how}", "warn" if m.low_confidence else ""))
    est = "" if a.coverage_exact and b.coverage_exact else " (estimated)"
    drop = s.coverage_delta is not None and s.coverage_delta < 0
    rows.append(("Fusion coverage" + est, pct(a.fusion_coverage), pct(b.fusion_coverage),
                 signed_points(s.coverage_delta), "warn" if drop else "bold"))
    rows.append(("Fusion changes", "", "", f"{s.fusion_changes:,} nodes ({s.newly_unfused:,} newly unfused, "
                 f"{s.newly_fused:,} newly fused)", "warn" if s.newly_unfused else ""))
    rows.append(("Precision changes", "", "", f"{s.precision_changes:,} nodes ({s.precision_fallbacks:,} to a "
                 "wider type)", "warn" if s.precision_fallbacks else ""))
    ref_a = f"{a.reformat_layers:,} ({a.reformat_copying:,} copying)" + (
        f", {ms(a.reformat_ms)} ms" if a.reformat_ms is not None else "")
    ref_b = f"{b.reformat_layers:,} ({b.reformat_copying:,} copying)" + (
        f", {ms(b.reformat_ms)} ms" if b.reformat_ms is not None else "")
    rows.append(("Reformat layers", ref_a, ref_b, f"{s.reformats_new:,} new ({s.reformats_new_copying:,} copying), "
                 f"{s.reformats_vanished:,} gone", "warn" if s.reformats_new_copying else ""))
    if a.total_ms is not None or b.total_ms is not None:
        rows.append(("Sum of layer times", f"{ms(a.total_ms)} ms", f"{ms(b.total_ms)} ms",
                     f"{signed_ms(s.total_ms_delta)} ms ({signed_pct(s.total_change)})", "bold"))
    if a.e2e_median_ms is not None or b.e2e_median_ms is not None:
        rows.append(("End-to-end (median)", f"{ms(a.e2e_median_ms)} ms", f"{ms(b.e2e_median_ms)} ms",
                     signed_pct(s.e2e_change), ""))
    if a.kernels is not None and b.kernels is not None:
        rows.append(("Kernels", f"{a.kernels:,} launches, {ms(a.kernel_ms)} ms",
                     f"{b.kernels:,} launches, {ms(b.kernel_ms)} ms",
                     f"{_delta_int(a.kernels, b.kernels)} launches, {signed_ms(s.kernel_ms_delta)} ms "
                     f"({signed_pct(s.kernel_change)})", ""))
    return rows
