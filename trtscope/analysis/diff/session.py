"""The Diff: two engines of one model compared at the ONNX-node level, as plain tables plus a typed summary.

``diff(a, b)`` takes two analyses (``trtscope.load()`` results): A is the baseline, B the candidate. Nodes are
paired across the two models (``matching``), then compared node by node (``nodes``), per op type, per layer
kind and per group of inserted layers (``layers``), and ranked (``changes``). Views and exporters read the
tables and the summary; they never recount. Column contracts: docs/diff.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trtscope.analysis.diff import layers as lay
from trtscope.analysis.diff.changes import change_table
from trtscope.analysis.diff.matching import Matching, match_nodes
from trtscope.analysis.diff.nodes import node_table
from trtscope.analysis.diff.sides import Side, build_side, graph_usable
from trtscope.analysis.session import Analysis
from trtscope.gcpause import collector_paused
from trtscope.model.diff import LOW_CONFIDENCE, DiffSummary, MatchFigures, MatchKind, Presence, SideFigures
from trtscope.model.vocabulary import LayerKind, NodeClass, NodeStatus


@dataclass
class Diff:
    a: Analysis
    b: Analysis
    label_a: str
    label_b: str
    #: every node of either side: matched pairs, then only-in-A, only-in-B (DIFF_NODES)
    nodes: pd.DataFrame
    #: derived time and fusion per op type, both sides, by |delta_ms| (DIFF_OP_TYPES)
    op_types: pd.DataFrame
    #: layers per kind (and Myelin), both sides (DIFF_LAYER_KINDS)
    layer_kinds: pd.DataFrame
    #: groups of layers running no ONNX work (reformat, Q/DQ, no-op, other), both sides (DIFF_INSERTED)
    inserted: pd.DataFrame
    #: one row per changed node or group, most important first (DIFF_CHANGES)
    changes: pd.DataFrame
    summary: DiffSummary
    warnings: list[str] = field(default_factory=list)

    @property
    def reformats(self) -> pd.DataFrame:
        """The reformat groups of ``inserted``."""
        return self.inserted[self.inserted["kind"] == LayerKind.REFORMAT.value]


def diff(a: Analysis, b: Analysis, label_a: str = "A", label_b: str = "B") -> Diff:
    """Compare two engines of one model (see the module docstring)."""
    with collector_paused():  # hundreds of thousands of small lists, none in a cycle (see trtscope/gcpause.py)
        graph_order = graph_usable(a) and graph_usable(b)
        sa, sb = build_side(label_a, "A", a, graph_order), build_side(label_b, "B", b, graph_order)
        m = match_nodes(sa, sb)
        nodes = node_table(sa, sb, m)
        groups = lay.inserted(sa, sb, m)
        summary = _summary(sa, sb, m, nodes, groups)
        return Diff(a=a, b=b, label_a=label_a, label_b=label_b, nodes=nodes, op_types=lay.op_types(sa, sb),
                    layer_kinds=lay.layer_kinds(sa, sb), inserted=groups, changes=change_table(nodes, groups),
                    summary=summary, warnings=summary.notes)


def _side_figures(s: Side) -> SideFigures:
    sm = s.an.summary
    e2e = sm.end_to_end
    stats = (e2e.compute or e2e.latency) if e2e is not None else None
    k = sm.kernels
    return SideFigures(
        label=s.label, layers=sm.layer_count, layer_kinds=dict(sm.layer_kinds), myelin_layers=sm.myelin_layer_count,
        myelin_regions=sm.myelin_region_count, onnx_nodes=len(s), has_onnx=sm.has_onnx, has_profile=sm.has_profile,
        total_ms=sm.total_ms, e2e_median_ms=stats.median_ms if stats is not None else None,
        fusion_coverage=sm.coverage.fusion_coverage, coverage_exact=sm.coverage.exact,
        reformat_layers=sm.reformat.count, reformat_copying=sm.reformat.copying_count,
        reformat_ms=sm.reformat.total_ms, kernels=k.count if k is not None else None,
        kernel_ms=k.gpu_ms if k is not None else None,
    )


def _summary(a: Side, b: Side, m: Matching, nodes: pd.DataFrame, groups: pd.DataFrame) -> DiffSummary:
    pres = nodes["presence"]
    matched = pres == Presence.MATCHED.value
    compute = nodes["node_class"] == NodeClass.COMPUTE.value
    structural = nodes["match"] == MatchKind.STRUCTURAL.value
    low = int((structural & (nodes["confidence"] < LOW_CONFIDENCE)).sum())
    mf = MatchFigures(
        matched=int(matched.sum()), exact=int((nodes["match"] == MatchKind.EXACT.value).sum()),
        structural=int(structural.sum()), only_a=int((pres == Presence.ONLY_A.value).sum()),
        only_b=int((pres == Presence.ONLY_B.value).sum()), names_shared=m.names_shared, low_confidence=low,
        compute_matched=int((matched & compute).sum()),
        compute_only_a=int(((pres == Presence.ONLY_A.value) & compute).sum()),
        compute_only_b=int(((pres == Presence.ONLY_B.value) & compute).sum()),
    )
    ref = groups[groups["kind"] == LayerKind.REFORMAT.value]
    grow = np.maximum(ref["layers_b"].to_numpy() - ref["layers_a"].to_numpy(), 0)
    grow_copy = np.maximum(ref["copying_b"].to_numpy() - ref["copying_a"].to_numpy(), 0)
    shrink = np.maximum(ref["layers_a"].to_numpy() - ref["layers_b"].to_numpy(), 0)
    fc = nodes["fusion_changed"]
    fused = NodeStatus.FUSED.value
    newly_fused = matched & compute & fc & (nodes["status_b"] == fused) & (nodes["status_a"] != fused)
    return DiffSummary(
        a=_side_figures(a), b=_side_figures(b), match=mf,
        fusion_changes=int(fc.sum()), newly_unfused=int(nodes["newly_unfused"].sum()),
        newly_fused=int(newly_fused.sum()),
        precision_changes=int(nodes["precision_changed"].sum()),
        precision_fallbacks=int(nodes["precision_fallback"].sum()),
        reformats_new=int(grow.sum()), reformats_new_copying=int(grow_copy.sum()), reformats_vanished=int(shrink.sum()),
        notes=_notes(a, b, m, mf),
    )


def _notes(a: Side, b: Side, m: Matching, mf: MatchFigures) -> list[str]:
    notes = [f"{s.label}: {w}" for s in (a, b) for w in s.an.warnings]
    if not m.names_shared and mf.matched:
        notes.append("the two models do not share node names: every pair was found by structure (op type, order, "
                     "shapes, neighbours); see each pair's confidence")
    for s, o in ((a, b), (b, a)):
        if not s.has_graph:
            notes.append(f"{s.label} has no ONNX model: its nodes are the names its layers reference (op types "
                         f"guessed from names), ordered by engine layer; nodes its layers do not name are unknown")
            break
        if not graph_usable(s.an) and o.has_graph:
            notes.append(f"{s.label}'s ONNX graph has no readable edges: nodes are ordered by engine layer")
    smaller = min(int(a.compute.sum()), int(b.compute.sum()))
    if smaller and mf.compute_matched < 0.5 * smaller:
        notes.append(f"only {mf.compute_matched} of the {smaller} compute nodes of the smaller side were paired: "
                     "are A and B engines of one model?")
    if mf.low_confidence:
        notes.append(f"{mf.low_confidence} structural pairs have a confidence below {LOW_CONFIDENCE}")
    return notes
