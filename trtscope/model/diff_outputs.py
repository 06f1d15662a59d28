"""Column contracts of the tables of a comparison (``trtscope diff``), declared like ``model/outputs.py``.

The diff library puts its tables' columns in this order (``conform``), and the tables section of
``docs/diff.md`` is generated from these declarations (``python scripts/gen_data_model.py``; a test fails when
it is stale). Suffix ``_a`` / ``_b``: the figure on side A (baseline) / B (candidate); deltas are B - A.
"""

from __future__ import annotations

from trtscope.model.outputs import Col, TableSpec, spec_markdown


def _pair(name: str, dtype: str, doc: str, derived: bool = False) -> tuple[Col, Col]:
    return (Col(f"{name}_a", dtype, f"{doc} on side A", derived), Col(f"{name}_b", dtype, f"{doc} on side B", derived))


DIFF_NODES = TableSpec("nodes", "One row per ONNX node of either side: matched pairs (in A's order), then nodes "
                       "only in A, then nodes only in B. Matched + only_a rows = A's nodes; matched + only_b = B's.", (
    Col("node_a", "str", "the node's name in A (None: only in B)"),
    Col("node_b", "str", "its counterpart's name in B (None: only in A)"),
    Col("op_type", "str", "op type (A's; B's for nodes only in B)"),
    Col("node_class", "str", "NodeClass: compute, shape, constant, qdq"),
    Col("presence", "str", "Presence: matched, only_a, only_b"),
    Col("match", "str", "MatchKind: exact (same name) or structural; None when not matched"),
    Col("basis", "str", "MatchBasis: name, neighbour, op+shape+context, op+shape, op+context, op+order"),
    Col("confidence", "float", "1 for exact pairs; structural: 0.5 for op type and order, plus half the mean of the "
        "checks that could be made (shapes equal, surroundings equal, matched neighbours correspond)", derived=True),
    Col("reason", "str", "why a node has no counterpart; \"\" for matched nodes"),
    *_pair("status", "str", "NodeStatus"),
    *_pair("layer", "str", "the node's layer (the one it anchors, else its first), or None"),
    *_pair("layer_index", "Int64", "layers.index of that layer"),
    *_pair("precision", "str", "that layer's precision (layers.precision)"),
    *_pair("ms", "float", "the node's derived time (onnx_nodes.derived_ms)", derived=True),
    *_pair("layer_ms", "float", "time of every layer the node is in (onnx_nodes.layers_ms)", derived=True),
    Col("delta_ms", "float", "ms_b - ms_a (matched nodes; only-in nodes: their own time, signed)", derived=True),
    *_pair("fused_with", "list[str]", "other compute nodes in the node's running layers"),
    Col("status_changed", "bool", "matched, and the statuses differ"),
    Col("fusion_changed", "bool", "a matched compute node whose status differs or whose fused-with set (over nodes "
        "matched on both sides, compared through the matching) differs"),
    Col("newly_unfused", "bool", "a matched compute node that is unfused in B and was not in A"),
    Col("precision_changed", "bool", "matched, both precisions known, and they differ"),
    Col("precision_fallback", "bool", "precision_changed to a wider data type in B (e.g. Int8 -> Half)"),
))

DIFF_OP_TYPES = TableSpec("op_types", "Derived time and fusion per ONNX op type (and per kind of layer that runs no "
                          "ONNX work), both sides (op_hotspots and coverage_by_op joined), by |delta_ms|.", (
    Col("op_type", "str", "op type (None on layer-kind rows)"),
    Col("layer_kind", "str", "LayerKind of layers running no ONNX work (None on op-type rows)"),
    *_pair("nodes", "int", "running nodes of this op type"),
    *_pair("layers", "int", "timed layers whose time this row received"),
    *_pair("ms", "float", "derived time (anchor attribution); 0 on a side that runs none of it, NaN on a side "
           "that runs some without a profile", derived=True),
    Col("delta_ms", "float", "ms_b - ms_a (NaN when either is unknown)", derived=True),
    *_pair("share", "float", "ms / sum of layer times", derived=True),
    Col("delta_share", "float", "share_b - share_a", derived=True),
    *_pair("fused", "int", "nodes with status fused"),
    *_pair("unfused", "int", "nodes with status unfused"),
    *_pair("coverage", "float", "fused / (fused + unfused) (compute op types)"),
))

DIFF_LAYER_KINDS = TableSpec("layer_kinds", "Engine layers per LayerKind, both sides (plus a Myelin row: layers "
                             "inside Myelin regions, counted apart since in_myelin is not a kind).", (
    Col("kind", "str", "LayerKind, or \"myelin\""),
    *_pair("layers", "int", "layers of this kind"),
    Col("delta", "int", "layers_b - layers_a"),
    *_pair("ms", "float", "their summed mean time: 0 on a side without such layers, NaN for layers without a "
           "profile"),
    Col("delta_ms", "float", "ms_b - ms_a (NaN when either is unknown)"),
))

DIFF_INSERTED = TableSpec("inserted", "Layers that run no ONNX work of their own (reformat, Q/DQ, no-op, other), "
                          "grouped by kind and by where they sit: the node they serve (matched across sides) and "
                          "the tensor they convert.", (
    Col("kind", "str", "LayerKind of the layers"),
    Col("serves", "str", "the ONNX node they sit in front of (input) or behind (output), A's name when matched, "
        "else the side's own; the served layer's name when it has no node; None when unknown"),
    Col("serves_b", "str", "that node's name in B"),
    Col("direction", "str", "\"input\" / \"output\" (from the name or the tensors), or None"),
    Col("tensor", "Int64", "the tensor position (reformats' names), or <NA>"),
    *_pair("layers", "int", "layers in the group"),
    *_pair("copying", "int", "... that copy data (not NoOp-typed elided reformats)"),
    *_pair("ms", "float", "their summed mean time: 0 on a side without such layers, NaN for layers without a "
           "profile"),
    Col("delta_ms", "float", "ms_b - ms_a (NaN when either is unknown)"),
    Col("change", "str", "GroupChange: new, vanished, more, fewer, same"),
    *_pair("layer_names", "list[str]", "the layers"),
))

DIFF_CHANGES = TableSpec("changes", "What changed, one row per node or layer group, ranked: regressions the CI gate "
                         "can check (newly unfused, precision fallbacks, new copying reformats) first, then by "
                         "|delta_ms|.", (
    Col("rank", "int", "1 = most important"),
    Col("kind", "str", "ChangeKind: the most important change of this node or group"),
    Col("subject", "str", "the node (A's name, B's when only in B) or the group's served node"),
    Col("subject_b", "str", "the node's name in B, when it differs"),
    Col("op_type", "str", "op type (layer kind for groups)"),
    Col("a", "str", "the value on side A: status, precision or layer count (as text)"),
    Col("b", "str", "the value on side B"),
    *_pair("ms", "float", "time on each side (node: derived; group: summed)", derived=True),
    Col("delta_ms", "float", "ms_b - ms_a", derived=True),
))

#: Every table of a Diff, in the order ``--json`` writes them.
TABLES: tuple[TableSpec, ...] = (DIFF_NODES, DIFF_OP_TYPES, DIFF_LAYER_KINDS, DIFF_INSERTED, DIFF_CHANGES)

BEGIN = "<!-- generated from trtscope/model/diff_outputs.py: python scripts/gen_data_model.py -->"
END = "<!-- end of generated tables -->"


def markdown() -> str:
    """The generated tables section of docs/diff.md (between BEGIN and END)."""
    out = [BEGIN, ""]
    for t in TABLES:
        out += spec_markdown(t, prefix="diff.")
    out.append(END)
    return "\n".join(out)
