"""The rich console report: summary, coverage by op type, top hotspots, unfused hotspots, reformat cost.

Reads only an :class:`Analysis`. Names are rendered as ``Text`` (never markup), because TensorRT layer names
contain square brackets and control bytes.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from trtscope.analysis.fusion import KIND_LABELS
from trtscope.analysis.session import Analysis
from trtscope.views.formatting import bar, is_missing, ms, node_list, pct, printable, truncate

NAME_WIDTH = 60


def _kv_table(rows: Iterable[tuple[str, str | Text]]) -> Table:
    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold")
    t.add_column()
    for k, v in rows:
        t.add_row(k, v)
    return t


def summary_section(a: Analysis) -> RenderableType:
    s = a.summary
    meta = s.get("metadata", {})
    rows: list[tuple[str, str | Text]] = []
    if meta.get("gpu"):
        rows.append(("GPU", str(meta["gpu"])))
    if meta.get("tensorrt_version"):
        rows.append(("TensorRT", str(meta["tensorrt_version"])))
    if meta.get("precision"):
        rows.append(("Precision", str(meta["precision"])))
    detail = {
        "detailed": "detailed (JSON)", "oneline": "detailed (one-line log)",
        "legacy_log": "names, types and tensors (verbose build log)", "names": "layer names only",
    }.get(s["layer_detail"], s["layer_detail"])
    rows.append(("Layer information", detail))
    kinds = s["layer_kinds"]
    kind_text = ", ".join(f"{n} {KIND_LABELS.get(k, k)}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
    rows.append(("Engine layers", f"{s['layer_count']}  ({kind_text})"))
    rows.append(("Fused layers", f"{s['fused_layer_count']} (from 2+ ONNX nodes)"))
    if s["myelin_region_count"]:
        rows.append(("Myelin regions", str(s["myelin_region_count"])))
    ref = s["reformat"]
    ref_text = f"{ref['count']} ({ref['copying_count']} copying, {ref['elided_count']} elided)"
    if ref["total_ms"] is not None:
        ref_text += f", {ms(ref['total_ms'])} ms = {pct(ref['share'])} of layer time"
    rows.append(("Reformat layers", ref_text))
    cov = s["coverage"]
    if s["has_onnx"]:
        rows.append(("ONNX nodes", f"{s['onnx_node_count']}  ({cov['compute_node_count']} compute, "
                     f"{cov['status_counts']['absent']} folded/eliminated)"))
        rows.append(("Fusion coverage", Text(f"{pct(s['fusion_coverage'])} of {cov['running_compute_node_count']} "
                     f"running compute nodes fused ({cov['unfused_compute_node_count']} unfused)", style="bold")))
    else:
        est = s["fusion_coverage_estimate"]
        rows.append(("Fusion coverage", Text(
            f"~{pct(est)} estimated over the {cov['running_compute_node_count']} compute nodes named in the engine "
            "(no ONNX model given: op types inferred from names; pass --onnx for exact figures)"
            if est is not None else "unknown (no ONNX nodes could be identified)", style="yellow")))
    if s["total_ms"] is not None:
        it = f" over {s['profile_iterations']} profiled iterations" if s["profile_iterations"] else ""
        rows.append(("Sum of layer times", f"{ms(s['total_ms'])} ms (per inference, mean{it})"))
    else:
        rows.append(("Layer times", Text("none: no per-layer profile was given (trtexec --exportProfile, "
                                         "--dumpProfile, or trtscope profile)", style="yellow")))
    e2e = s["end_to_end"]
    if e2e:
        ref_stats = e2e.get("compute") or e2e.get("latency")
        if ref_stats:
            line = (f"median {ms(ref_stats['median_ms'])} ms, p99 {ms(ref_stats['p99_ms'])} ms over "
                    f"{e2e['iterations']} iterations")
            if e2e.get("layer_sum_vs_compute") is not None:
                line += f"; layer sum = {e2e['layer_sum_vs_compute']:.2f}× median GPU compute"
            rows.append(("End-to-end (GPU compute)", line))
    return Panel(_kv_table(rows), title="trtscope report", title_align="left")


def coverage_section(a: Analysis, top: int) -> RenderableType | None:
    df = a.coverage_by_op
    if df.empty:
        return None
    t = Table(title="Fusion coverage by ONNX op type", title_justify="left", expand=False)
    for col in ("op type", "class", "nodes", "fused", "Myelin", "alone", "absent", "coverage", ""):
        t.add_column(col, justify="left" if col in ("op type", "class", "") else "right")
    for row in df.head(max(top, 15)).itertuples(index=False):
        cov = row.coverage
        t.add_row(
            Text(str(row.op_type)), row.node_class, str(row.nodes), str(row.fused), str(row.myelin),
            Text(str(row.alone), style="bold red" if row.alone and row.node_class == "compute" else ""),
            str(row.absent), pct(cov), Text(bar(cov, 10), style="green"),
        )
    if len(df) > max(top, 15):
        t.caption = f"{len(df) - max(top, 15)} more op types (see --json)"
    return t


def hotspot_section(a: Analysis, top: int) -> RenderableType | None:
    if not a.has_profile:
        return None
    t = Table(title=f"Top {top} layers by time", title_justify="left")
    t.add_column("#", justify="right")
    t.add_column("layer")
    t.add_column("kind")
    t.add_column("ONNX nodes")
    t.add_column("mean ms", justify="right")
    t.add_column("median ms", justify="right")
    t.add_column("share", justify="right")
    t.add_column("")
    for row in a.hotspots.head(top).itertuples(index=False):
        t.add_row(
            str(row.rank), Text(truncate(printable(row.name), NAME_WIDTH)), KIND_LABELS.get(row.kind, row.kind),
            Text(node_list(row.onnx_nodes, 2)), ms(row.mean_ms), ms(row.median_ms), pct(row.share),
            Text(bar(row.share, 16), style="magenta"),
        )
    return t


def op_section(a: Analysis, top: int) -> RenderableType | None:
    df = a.op_hotspots
    if df.empty:
        return None
    t = Table(title="Time by ONNX op type (fused layers split evenly among their nodes)", title_justify="left")
    t.add_column("op type")
    t.add_column("nodes", justify="right")
    t.add_column("ms", justify="right")
    t.add_column("share", justify="right")
    t.add_column("of which unfused", justify="right")
    t.add_column("")
    for row in df.head(top).itertuples(index=False):
        t.add_row(Text(str(row.op_type)), str(row.nodes), ms(row.ms), pct(row.share),
                  ms(row.unfused_ms) if row.unfused_ms else "", Text(bar(row.share, 16), style="cyan"))
    return t


def unfused_section(a: Analysis, top: int) -> RenderableType | None:
    df = a.unfused_hotspots
    if df.empty:
        return Text("Unfused hotspots: none — every compute node ran fused with others.", style="green")
    timed = a.has_profile
    title = (f"Unfused hotspots: single-node compute layers, by time (top {top} of {len(df)})" if timed
             else f"Unfused compute layers ({len(df)}; no times without a profile)")
    t = Table(title=title, title_justify="left")
    t.add_column("layer")
    t.add_column("ONNX node")
    t.add_column("op type")
    t.add_column("layer type")
    if timed:
        t.add_column("mean ms", justify="right")
        t.add_column("share", justify="right")
    for row in df.head(top).itertuples(index=False):
        cells: list[str | Text] = [
            Text(truncate(printable(row.name), NAME_WIDTH)), Text(truncate(printable(row.onnx_node), 40)),
            str(row.op_type) if not is_missing(row.op_type) else "?", str(row.type or ""),
        ]
        if timed:
            cells += [ms(row.mean_ms), pct(row.share)]
        t.add_row(*cells)
    return t


def reformat_section(a: Analysis, top: int) -> RenderableType | None:
    ref = a.layers[a.layers["kind"].eq("reformat")]
    if ref.empty:
        return None
    info = a.summary["reformat"]
    if not a.has_profile:
        return Text(f"Reformat layers: {info['count']} ({info['copying_count']} copying, {info['elided_count']} "
                    "elided); no times without a profile.")
    ref = ref.sort_values("mean_ms", ascending=False, kind="stable").head(top)
    t = Table(title=f"Reformat cost: {ms(info['total_ms'])} ms = {pct(info['share'])} of layer time "
                    f"({info['count']} layers, {info['elided_count']} elided)", title_justify="left")
    t.add_column("reformat layer")
    t.add_column("type")
    t.add_column("mean ms", justify="right")
    t.add_column("share", justify="right")
    for row in ref.itertuples(index=False):
        t.add_row(Text(truncate(printable(row.name), 90)), str(row.type), ms(row.mean_ms), pct(row.share))
    return t


def warnings_section(a: Analysis) -> RenderableType | None:
    if not a.warnings:
        return None
    text = Text()
    for w in a.warnings:
        text.append("warning: ", style="bold yellow")
        text.append(printable(w) + "\n")
    return text


def notes_section(a: Analysis) -> RenderableType | None:
    notes = a.artifacts.metadata.get("notes")
    if not notes:
        return None
    text = Text()
    for n in notes:
        text.append("note: ", style="bold")
        text.append(str(n) + "\n")
    return text


def render_report(a: Analysis, console: Console, top: int = 10) -> None:
    parts = [
        warnings_section(a),
        summary_section(a),
        notes_section(a),
        coverage_section(a, top),
        hotspot_section(a, top),
        op_section(a, top),
        unfused_section(a, top),
        reformat_section(a, top),
    ]
    console.print(Group(*[p for p in parts if p is not None]))
