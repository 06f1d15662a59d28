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

from trtscope.analysis.session import Analysis
from trtscope.model.vocabulary import NodeClass, NodeStatus
from trtscope.presentation.formatting import bar, is_missing, middle_truncate, ms, node_list, pct, printable
from trtscope.presentation.labels import (
    ATTRIBUTION_NOTE,
    CLASS_LABELS,
    DERIVED_MS,
    UNFUSED_MARK,
    op_row_label,
    reformat_label,
    short_kind,
)
from trtscope.views.headline import headline_rows


def _kv_table(rows: Iterable[tuple[str, str | Text]]) -> Table:
    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold")
    t.add_column()
    for k, v in rows:
        t.add_row(k, v)
    return t


_STYLES = {"": "", "bold": "bold", "warn": "yellow"}


def summary_section(a: Analysis) -> RenderableType:
    rows = [(label, Text(text, style=_STYLES[emph]) if emph else text) for label, text, emph in headline_rows(a)]
    return Panel(_kv_table(rows), title="trtscope report", title_align="left")


def _name_cell(name: object, width: int) -> Text:
    """A name cut in the middle to fit a column of ``width`` (cell padding excluded), never wrapped."""
    return Text(middle_truncate(printable(name), max(12, width - 2)), no_wrap=True, overflow="ellipsis")


def coverage_section(a: Analysis, top: int, width: int) -> RenderableType | None:
    df = a.coverage_by_op
    if df.empty:
        return None
    wide = width >= 100
    has = {st: bool(df[st].sum()) for st in (NodeStatus.ABSORBED.value, "in_myelin")}
    t = Table(title="Fusion coverage by ONNX op type (statuses sum to nodes)", title_justify="left", expand=False)
    t.add_column("op type", no_wrap=True, min_width=8)
    if wide:
        t.add_column("class", no_wrap=True)
    t.add_column("nodes", justify="right", no_wrap=True)
    for st in NodeStatus:
        if st is not NodeStatus.ABSORBED or has[st.value]:
            t.add_column(st.value, justify="right", no_wrap=True)
    if has["in_myelin"] and wide:
        t.add_column("in Myelin", justify="right", no_wrap=True)
    t.add_column("coverage", justify="right", no_wrap=True)
    if wide:
        t.add_column("", no_wrap=True)
    limit = max(top, 15)
    for row in df.head(limit).itertuples(index=False):
        cls = str(row.node_class)
        op = Text(op_row_label(row.op_type, None))
        if not wide and cls != NodeClass.COMPUTE:
            op.append(f" ({CLASS_LABELS.get(cls, cls)})", style="dim")
        cells: list[str | Text] = [op]
        if wide:
            cells.append(CLASS_LABELS.get(cls, cls))
        cells.append(f"{row.nodes:,}")
        for st in NodeStatus:
            if st is NodeStatus.ABSORBED and not has[st.value]:
                continue
            n = int(getattr(row, st.value))
            flag = st is NodeStatus.UNFUSED and n and cls == NodeClass.COMPUTE
            cells.append(Text(f"{UNFUSED_MARK} {n:,}" if flag else f"{n:,}", style="bold red" if flag else ""))
        if has["in_myelin"] and wide:
            cells.append(f"{row.in_myelin:,}")
        cells.append(pct(row.coverage))
        if wide:
            cells.append(Text(bar(row.coverage, 10), style="green"))
        t.add_row(*cells)
    if len(df) > limit:
        t.caption = f"{len(df) - limit} more op types (see --json)"
    return t


def hotspot_section(a: Analysis, top: int, width: int) -> RenderableType | None:
    if not a.has_profile:
        return None
    wide = width >= 120
    # every other column's widest content + 3 (padding and rule) each, + 1 for the last rule
    fixed = (len(str(top)) + 3) + (10 + 3) + (9 + 3) + (9 + 3) + (6 + 3) + (16 + 3 + 28 + 3 if wide else 0) + 1 + 3
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
        cells: list[str | Text] = [str(row.rank), _name_cell(row.name, name_w), short_kind(row.kind, row.in_myelin)]
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
    t = Table(title=f"Time by ONNX op type, derived: {ATTRIBUTION_NOTE[a.summary.op_type_attribution]}",
              title_justify="left")
    t.add_column("op type", no_wrap=True)
    t.add_column("layers", justify="right")
    t.add_column(DERIVED_MS, justify="right")
    t.add_column("share", justify="right")
    t.add_column(f"{UNFUSED_MARK} unfused ms", justify="right")
    t.add_column("")
    for row in df.head(top).itertuples(index=False):
        t.add_row(Text(op_row_label(row.op_type, row.layer_kind)), f"{row.layers:,}", ms(row.ms), pct(row.share),
                  ms(row.unfused_ms) if row.unfused_ms else "",
                  Text(bar(row.share, 16 if width >= 100 else 8), style="cyan"))
    if len(df) > top:
        t.caption = f"{len(df) - top} more rows (see --json); shares of all rows sum to 100%"
    return t


def unfused_section(a: Analysis, top: int, width: int) -> RenderableType | None:
    df = a.unfused_hotspots
    if not len(a.layers):
        return None
    if df.empty:
        if not a.summary.coverage.compute.running:
            return None
        return Text("Unfused hotspots: none — every compute node that runs in a layer is fused.", style="green")
    timed = a.has_profile
    shown = min(top, len(df))
    title = (f"{UNFUSED_MARK} Unfused hotspots: layers of an unfused compute node, by time (top {shown} of "
             f"{len(df)})" if timed else f"{UNFUSED_MARK} Layers of unfused compute nodes ({len(df)}; no times "
             "without a profile)")
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
    ref = a.reformat_layers
    if ref.empty:
        return None
    info = a.summary.reformat
    if not a.has_profile:
        return Text(f"Reformat layers: {info.count} ({info.copying_count} copying, {info.elided_count} "
                    "elided); no times without a profile.")
    ref = ref.head(top)
    name_w = max(30, width - 40)
    t = Table(title=f"Reformat cost: {ms(info.total_ms)} ms = {pct(info.share)} of layer time "
                    f"({info.count} layers, {info.elided_count} elided)", title_justify="left")
    t.add_column("reformat: tensor → layer", no_wrap=True, max_width=name_w)
    t.add_column("type", no_wrap=True)
    t.add_column("mean ms", justify="right", no_wrap=True)
    t.add_column("share", justify="right", no_wrap=True)
    for row in ref.itertuples(index=False):
        t.add_row(_name_cell(reformat_label(row), name_w), str(row.type), ms(row.mean_ms), pct(row.share))
    return t


def kernel_section(a: Analysis, top: int, width: int) -> RenderableType | None:
    ks = a.summary.kernels
    if ks is None:
        return None
    g = a.kernel_rollup.head(top)
    title = (f"Kernels: {ks.count:,} launches, {ms(ks.gpu_ms, 3)} ms of GPU time; "
             f"{ks.in_nvtx_range:,} inside an NVTX range, {ks.on_layer:,} attributed to a layer")
    if ks.graph_level_launches:
        title += (f"; {ks.graph_level_launches:,} whole-graph launches ({ms(ks.graph_level_gpu_ms, 3)} ms) "
                  "without detail")
    by_layer = bool(g["layer_name"].notna().any())
    name_w = max(20, (width - 48) // 2)
    t = Table(title=title, title_justify="left")
    t.add_column("kernel", no_wrap=True, max_width=name_w)
    t.add_column("engine layer → ONNX nodes" if by_layer else "NVTX range", no_wrap=True, max_width=name_w)
    t.add_column("launches", justify="right")
    t.add_column("total ms", justify="right")
    t.add_column("mean µs", justify="right")
    t.add_column("share", justify="right")
    for row in g.itertuples(index=False):
        if by_layer:
            where = printable(row.layer_name) if not is_missing(row.layer_name) else "—"
            if row.onnx_nodes:
                where = f"{where} → {node_list(row.onnx_nodes, 2)}"
        else:
            where = printable(row.nvtx_range) if not is_missing(row.nvtx_range) else "—"
        t.add_row(_name_cell(row.kernel if not is_missing(row.kernel) else "?", name_w), _name_cell(where, name_w),
                  f"{row.launches:,}", ms(row.total_ms, 3), f"{row.mean_us:.1f}", pct(row.share))
    if len(a.kernel_rollup) > top:
        t.caption = f"{len(a.kernel_rollup) - top:,} more (kernel, layer, range) groups (see --json)"
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
