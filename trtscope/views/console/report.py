"""The rich console report: summary, coverage by op type, top hotspots, unfused hotspots, reformat cost.

Reads only an :class:`Analysis`. Names are rendered as ``Text`` (never markup), because TensorRT layer names
contain square brackets and control bytes.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from trtscope.analysis.fusion import KIND_LABELS
from trtscope.analysis.names import reformat_target
from trtscope.analysis.session import Analysis
from trtscope.views.formatting import bar, is_missing, middle_truncate, ms, node_list, pct, printable


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
    if not s["layer_count"]:
        rows.append(("Engine layers", Text("none: no layer information or profile was given", style="yellow")))
        return Panel(_kv_table(rows), title="trtscope report", title_align="left")
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


SHORT_KIND = {"reformat": "reformat", "qdq": "Q/DQ", "noop": "no-op", "myelin": "Myelin", "fused": "fused",
              "single": "single", "other": "other"}


def _name_cell(name: object, width: int) -> Text:
    """A name cut in the middle to fit a column of ``width`` (cell padding excluded), never wrapped."""
    return Text(middle_truncate(printable(name), max(12, width - 2)), no_wrap=True, overflow="ellipsis")


def coverage_section(a: Analysis, top: int, width: int) -> RenderableType | None:
    df = a.coverage_by_op
    if df.empty:
        return None
    wide = width >= 100
    has_myelin = bool(df["myelin"].sum())
    t = Table(title="Fusion coverage by ONNX op type", title_justify="left", expand=False)
    t.add_column("op type", no_wrap=True, min_width=8)
    if wide:
        t.add_column("class", no_wrap=True)
    for col in ("nodes", "fused", *(["Myelin"] if has_myelin else []), "alone", "absent", "coverage"):
        t.add_column(col, justify="right", no_wrap=True)
    if wide:
        t.add_column("", no_wrap=True)
    limit = max(top, 15)
    for row in df.head(limit).itertuples(index=False):
        cov = row.coverage
        op = Text(str(row.op_type))
        if not wide and row.node_class != "compute":
            op.append(f" ({row.node_class})", style="dim")
        cells: list[str | Text] = [op]
        if wide:
            cells.append(row.node_class)
        cells += [str(row.nodes), str(row.fused)]
        if has_myelin:
            cells.append(str(row.myelin))
        cells += [Text(str(row.alone), style="bold red" if row.alone and row.node_class == "compute" else ""),
                  str(row.absent), pct(cov)]
        if wide:
            cells.append(Text(bar(cov, 10), style="green"))
        t.add_row(*cells)
    if len(df) > limit:
        t.caption = f"{len(df) - limit} more op types (see --json)"
    return t


def hotspot_section(a: Analysis, top: int, width: int) -> RenderableType | None:
    if not a.has_profile:
        return None
    wide = width >= 120
    fixed = 4 + 8 + 10 + 10 + 8 + (18 + 28 if wide else 0) + 8 * 3
    name_w = max(20, width - fixed)
    t = Table(title=f"Top {top} layers by time", title_justify="left")
    t.add_column("#", justify="right", no_wrap=True)
    t.add_column("layer", no_wrap=True, max_width=name_w)
    t.add_column("kind", no_wrap=True)
    if wide:
        t.add_column("ONNX nodes", no_wrap=True, max_width=28)
    t.add_column("mean ms", justify="right", no_wrap=True)
    t.add_column("median ms", justify="right", no_wrap=True)
    t.add_column("share", justify="right", no_wrap=True)
    if wide:
        t.add_column("", no_wrap=True)
    for row in a.hotspots.head(top).itertuples(index=False):
        cells: list[str | Text] = [str(row.rank), _name_cell(row.name, name_w), SHORT_KIND.get(row.kind, row.kind)]
        if wide:
            cells.append(Text(node_list(row.onnx_nodes, 2), no_wrap=True, overflow="ellipsis"))
        cells += [ms(row.mean_ms), ms(row.median_ms), pct(row.share)]
        if wide:
            cells.append(Text(bar(row.share, 16), style="magenta"))
        t.add_row(*cells)
    return t


def op_section(a: Analysis, top: int, width: int) -> RenderableType | None:
    df = a.op_hotspots
    if df.empty:
        return None
    t = Table(title="Time by ONNX op type (fused layers split evenly among their nodes)", title_justify="left")
    t.add_column("op type", no_wrap=True)
    t.add_column("nodes", justify="right")
    t.add_column("ms", justify="right")
    t.add_column("share", justify="right")
    t.add_column("unfused ms", justify="right")
    t.add_column("")
    for row in df.head(top).itertuples(index=False):
        t.add_row(Text(str(row.op_type)), str(row.nodes), ms(row.ms), pct(row.share),
                  ms(row.unfused_ms) if row.unfused_ms else "", Text(bar(row.share, 16 if width >= 100 else 8),
                                                                     style="cyan"))
    return t


def unfused_section(a: Analysis, top: int, width: int) -> RenderableType | None:
    df = a.unfused_hotspots
    if not len(a.layers):
        return None
    if df.empty:
        return Text("Unfused hotspots: none — every compute node ran fused with others.", style="green")
    timed = a.has_profile
    shown = min(top, len(df))
    title = (f"Unfused hotspots: single-node compute layers, by time (top {shown} of {len(df)})" if timed
             else f"Unfused compute layers ({len(df)}; no times without a profile)")
    # When the layer is named after its node (TensorRT 8), one name column says it all.
    same = bool((df["name"] == df["onnx_node"]).all())
    fixed = 14 + 16 + (20 if timed else 0) + (0 if same else 10)
    name_w = max(20, (width - fixed) // (1 if same else 2))
    t = Table(title=title, title_justify="left")
    t.add_column("layer = ONNX node" if same else "layer", no_wrap=True, max_width=name_w)
    if not same:
        t.add_column("ONNX node", no_wrap=True, max_width=name_w)
    t.add_column("op type", no_wrap=True)
    t.add_column("layer type", no_wrap=True, max_width=16)
    if timed:
        t.add_column("mean ms", justify="right")
        t.add_column("share", justify="right")
    for row in df.head(top).itertuples(index=False):
        cells: list[str | Text] = [_name_cell(row.name, name_w)]
        if not same:
            cells.append(_name_cell(row.onnx_node, name_w))
        cells += [str(row.op_type) if not is_missing(row.op_type) else "?",
                  Text(str(row.type or ""), no_wrap=True, overflow="ellipsis")]
        if timed:
            cells += [ms(row.mean_ms), pct(row.share)]
        t.add_row(*cells)
    return t


def reformat_section(a: Analysis, top: int, width: int) -> RenderableType | None:
    ref = a.layers[a.layers["kind"].eq("reformat")]
    if ref.empty:
        return None
    info = a.summary["reformat"]
    if not a.has_profile:
        return Text(f"Reformat layers: {info['count']} ({info['copying_count']} copying, {info['elided_count']} "
                    "elided); no times without a profile.")
    ref = ref.sort_values("mean_ms", ascending=False, kind="stable").head(top)
    name_w = max(30, width - 40)
    t = Table(title=f"Reformat cost: {ms(info['total_ms'])} ms = {pct(info['share'])} of layer time "
                    f"({info['count']} layers, {info['elided_count']} elided)", title_justify="left")
    t.add_column("reformat: tensor → layer", no_wrap=True, max_width=name_w)
    t.add_column("type", no_wrap=True)
    t.add_column("mean ms", justify="right", no_wrap=True)
    t.add_column("share", justify="right", no_wrap=True)
    for row in ref.itertuples(index=False):
        parsed = reformat_target(row.name)
        label = f"{parsed[0].lower()} {parsed[1]} → {printable(parsed[2])}" if parsed else printable(row.name)
        t.add_row(_name_cell(label, name_w), str(row.type), ms(row.mean_ms), pct(row.share))
    return t


def kernel_section(a: Analysis, top: int, width: int) -> RenderableType | None:
    k = a.kernels
    if k.empty:
        return None
    ks = a.summary["kernels"]
    by_layer = "layer_name" in k and k["layer_name"].notna().any()
    key = "layer_name" if by_layer else "nvtx_range"
    dur = (k["end_ns"].astype("float64") - k["start_ns"].astype("float64")) / 1e6
    frame = pd.DataFrame({"kernel": k["name"].astype(object).fillna("?"), "where": k[key].astype(object).fillna("—"),
                          "ms": dur})
    g = frame.groupby(["kernel", "where"], sort=False)["ms"].agg(["count", "sum", "mean"])
    g = g.sort_values("sum", ascending=False).head(top).reset_index()
    nodes_of = dict(zip(a.layers["name"].tolist(), a.layers["onnx_nodes"].tolist(), strict=True))
    title = (f"Kernels: {ks['count']} launches, {ms(ks['gpu_ms'], 3)} ms of GPU time; "
             f"{ks['in_nvtx_range']} inside an NVTX range, {ks['on_layer']} attributed to a layer")
    name_w = max(20, (width - 40) // 2)
    t = Table(title=title, title_justify="left")
    t.add_column("kernel", no_wrap=True, max_width=name_w)
    t.add_column("engine layer → ONNX nodes" if by_layer else "NVTX range", no_wrap=True, max_width=name_w)
    t.add_column("launches", justify="right")
    t.add_column("total ms", justify="right")
    t.add_column("mean µs", justify="right")
    for row in g.itertuples(index=False):
        where = printable(row.where)
        if by_layer and row.where in nodes_of:
            where = f"{where} → {node_list(nodes_of[row.where], 2)}"
        t.add_row(_name_cell(row.kernel, name_w), _name_cell(where, name_w), str(row.count), ms(row.sum, 3),
                  f"{1000 * row.mean:.1f}")
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
    w = console.width
    parts = [
        warnings_section(a),
        summary_section(a),
        notes_section(a),
        coverage_section(a, top, w),
        hotspot_section(a, top, w),
        op_section(a, top, w),
        unfused_section(a, top, w),
        reformat_section(a, top, w),
        kernel_section(a, top, w),
    ]
    console.print(Group(*[p for p in parts if p is not None]))
