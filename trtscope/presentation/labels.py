"""How the analysis' vocabulary is shown: display labels live with the views, never in the analysis.

The console report, the TUI and the trace exporter all take their words from here, so a kind or status reads
the same everywhere.
"""

from __future__ import annotations

from typing import Any

from trtscope.model.vocabulary import Attribution, LayerKind, NodeClass, NodeStatus

#: Marker for an unfused compute node/layer, so no view relies on colour alone (NO_COLOR, light theme).
UNFUSED_MARK = "✗"

KIND_LABELS: dict[str, str] = {
    LayerKind.QDQ: "Q/DQ",
    LayerKind.REFORMAT: "reformat (inserted)",
    LayerKind.NOOP: "no-op",
    LayerKind.FUSED: "fused",
    LayerKind.SINGLE: "single node",
    LayerKind.OTHER: "no ONNX source",
}
SHORT_KIND: dict[str, str] = {
    LayerKind.QDQ: "Q/DQ", LayerKind.REFORMAT: "reformat", LayerKind.NOOP: "no-op", LayerKind.FUSED: "fused",
    LayerKind.SINGLE: "single", LayerKind.OTHER: "other",
}
STATUS_LABELS: dict[str, str] = {
    NodeStatus.FUSED: "fused",
    NodeStatus.UNFUSED: "unfused",
    NodeStatus.ABSORBED: "absorbed (Myelin)",
    NodeStatus.FOLDED: "folded",
}
CLASS_LABELS: dict[str, str] = {
    NodeClass.COMPUTE: "compute", NodeClass.SHAPE: "shape", NodeClass.CONSTANT: "constant", NodeClass.QDQ: "Q/DQ",
}
ATTRIBUTION_NOTE: dict[str, str] = {
    Attribution.ANCHOR: "a fused layer's time goes to its anchor op (Conv, Gemm, MatMul, …)",
    Attribution.SPLIT: "a fused layer's time split evenly over its nodes",
}
#: Column header for per-node / per-op-type times, which are derived from layer times, never measured.
DERIVED_MS = "derived ms"
UNKNOWN_OP = "(unknown op)"


def kind_label(kind: Any, in_myelin: bool = False) -> str:
    label = KIND_LABELS.get(kind, str(kind))
    return f"{label}, Myelin" if in_myelin else label


def short_kind(kind: Any, in_myelin: bool = False) -> str:
    label = SHORT_KIND.get(kind, str(kind))
    return f"{label}·M" if in_myelin else label


def op_row_label(op_type: Any, layer_kind: Any) -> str:
    """An ``op_hotspots`` row: the op type, or ``[reformat layers]`` for time of layers with no ONNX node."""
    if isinstance(layer_kind, str) and layer_kind:
        return f"[{SHORT_KIND.get(layer_kind, layer_kind)} layers]"
    return str(op_type) if isinstance(op_type, str) and op_type else UNKNOWN_OP


def status_label(status: Any, node_class: Any = None) -> str:
    text = STATUS_LABELS.get(status, str(status))
    if status == NodeStatus.UNFUSED and node_class == NodeClass.COMPUTE:
        return f"{UNFUSED_MARK} {text}"
    return text


def counts_text(counts: Any, sep: str = " · ") -> str:
    """``41 fused · 6 unfused · 1 absorbed · 16 folded`` from StatusCounts (every part, zeros included, so the
    parts visibly sum to the whole)."""
    return sep.join(f"{getattr(counts, s.value):,} {s.value}" for s in NodeStatus)


def reformat_label(row: Any) -> str:
    """``input 0 → Conv_5 + Add_6`` for a ``reformat_layers`` row (its name when TensorRT's pattern was absent)."""
    from trtscope.presentation.formatting import is_missing, printable

    if is_missing(row.direction) or is_missing(row.target):
        return printable(row.name)
    return f"{row.direction} {row.tensor} → {printable(row.target)}"
