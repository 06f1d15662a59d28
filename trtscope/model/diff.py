"""The words and headline figures of a comparison of two engines (``trtscope diff A B``), typed.

Side A is the baseline, side B the candidate: every delta is B minus A, a "fallback" or "new" thing is one B
has and A had not. The tables behind these figures are declared in ``model/diff_outputs.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trtscope.model.vocabulary import TextEnum


class Presence(TextEnum):
    """Whether an ONNX node has a counterpart on the other side."""

    MATCHED = "matched"
    ONLY_A = "only_a"
    ONLY_B = "only_b"


class MatchKind(TextEnum):
    """How a matched pair was found: the same node name on both sides, or the graph's structure."""

    EXACT = "exact"
    STRUCTURAL = "structural"


class MatchBasis(TextEnum):
    """The evidence a pair was matched on (finest first); ``confidence`` says how well the rest agrees."""

    NAME = "name"  # the same node name (and op type) on both sides
    NEIGHBOUR = "neighbour"  # the only node of its op type next to an already matched pair (graph or layer)
    SHAPE_CONTEXT = "op+shape+context"  # op type, tensor shapes and surroundings, in order
    SHAPE = "op+shape"  # op type and tensor shapes, in order
    CONTEXT = "op+context"  # op type and surroundings, in order
    ORDER = "op+order"  # op type and relative order only


class GroupChange(TextEnum):
    """What became of a group of layers that run no ONNX work of their own (reformats, Q/DQ, glue)."""

    NEW = "new"  # B has layers here, A has none
    VANISHED = "vanished"  # A has layers here, B has none
    MORE = "more"
    FEWER = "fewer"
    SAME = "same"  # the same number on both sides


class ChangeKind(TextEnum):
    """One row of the ranked change list: the most important thing that changed about a node or a group."""

    NEWLY_UNFUSED = "newly_unfused"  # a compute node that was fused (or not running) runs alone in B
    FUSION = "fusion"  # status or fused-with set changed otherwise
    PRECISION_FALLBACK = "precision_fallback"  # B runs it in a wider data type than A
    PRECISION = "precision"  # the data type changed (narrower)
    NEW_REFORMAT = "new_reformat"  # reformat layers B adds
    VANISHED_REFORMAT = "vanished_reformat"
    INSERTED = "inserted"  # other layers without ONNX work (Q/DQ, no-op, glue) added or removed
    ONLY_A = "only_a"  # a node with time in A and no counterpart in B
    ONLY_B = "only_b"
    TIME = "time"  # only its time changed


#: Data types by width; a node whose layer runs in a wider type in B than in A fell back.
PRECISION_RANK = {"FP4": 0, "Int4": 0, "Int8": 1, "UInt8": 1, "FP8": 1, "Half": 2, "BFloat16": 2, "Float": 3,
                  "Int32": 3, "Int64": 4, "Bool": 1}


def precision_rank(label: object) -> int | None:
    """Width of a precision label (``"Int8+Float"``: its widest type); None when unknown."""
    if not isinstance(label, str) or not label:
        return None
    ranks = [PRECISION_RANK[p] for p in label.split("+") if p in PRECISION_RANK]
    return max(ranks) if ranks else None


@dataclass(frozen=True)
class SideFigures:
    """One side's headline figures, as its own analysis computed them (never recounted)."""

    label: str
    layers: int
    layer_kinds: dict[str, int]
    myelin_layers: int
    myelin_regions: int
    onnx_nodes: int  # nodes on this side (the graph's, or the names its engine references)
    has_onnx: bool
    has_profile: bool
    total_ms: float | None  # sum of layer mean times
    e2e_median_ms: float | None  # median GPU compute (or latency) per iteration
    fusion_coverage: float | None  # exact with an ONNX model, estimated without
    coverage_exact: bool
    reformat_layers: int
    reformat_copying: int
    reformat_ms: float | None
    kernels: int | None  # kernel launches (None without kernels)
    kernel_ms: float | None


@dataclass(frozen=True)
class MatchFigures:
    """How the nodes of the two sides were paired. ``matched + only_a`` = nodes of A, ``matched + only_b`` =
    nodes of B."""

    matched: int
    exact: int
    structural: int
    only_a: int
    only_b: int
    names_shared: bool  # the two models share node names (else names were not trusted: all structural)
    low_confidence: int  # structural pairs with confidence below LOW_CONFIDENCE
    compute_matched: int
    compute_only_a: int
    compute_only_b: int


#: Structural pairs below this confidence are counted (and flagged) as low-confidence.
LOW_CONFIDENCE = 0.7


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else b - a


def _relative(a: float | None, b: float | None) -> float | None:
    """(b - a) / a; None unless both are known and a is not 0."""
    d = _delta(a, b)
    return d / a if d is not None and a else None


@dataclass(frozen=True)
class DiffSummary:
    a: SideFigures
    b: SideFigures
    match: MatchFigures
    fusion_changes: int  # matched compute nodes whose status or fused-with set changed
    newly_unfused: int  # matched compute nodes that run alone in B and did not in A
    newly_fused: int  # ... the other way round
    precision_changes: int  # matched nodes whose layer precision differs
    precision_fallbacks: int  # ... to a wider type in B
    reformats_new: int  # reformat layers B adds where A had fewer (copying and elided)
    reformats_new_copying: int  # ... of which copy data (elided NoOp reformats cost nothing)
    reformats_vanished: int
    notes: list[str] = field(default_factory=list)

    @property
    def total_ms_delta(self) -> float | None:
        return _delta(self.a.total_ms, self.b.total_ms)

    @property
    def total_change(self) -> float | None:
        """(B - A) / A of the layer sums (0.05 = 5 % slower); None without both profiles."""
        return _relative(self.a.total_ms, self.b.total_ms)

    @property
    def kernel_ms_delta(self) -> float | None:
        """B - A summed kernel GPU time; None unless both sides have kernels."""
        return _delta(self.a.kernel_ms, self.b.kernel_ms)

    @property
    def kernel_change(self) -> float | None:
        """(B - A) / A of the summed kernel GPU time; None unless both are known (and A's is not 0)."""
        return _relative(self.a.kernel_ms, self.b.kernel_ms)

    @property
    def e2e_change(self) -> float | None:
        a, b = self.a.e2e_median_ms, self.b.e2e_median_ms
        return (b - a) / a if a and b is not None else None

    @property
    def coverage_delta(self) -> float | None:
        """B - A fusion coverage (0..1 scale); None unless both are known."""
        a, b = self.a.fusion_coverage, self.b.fusion_coverage
        return b - a if a is not None and b is not None else None

    @property
    def no_change(self) -> bool:
        """Nothing about the nodes, layers or reformats differs (times may)."""
        m = self.match
        return (m.only_a == 0 and m.only_b == 0 and self.fusion_changes == 0 and self.precision_changes == 0
                and self.reformats_new == 0 and self.reformats_vanished == 0
                and self.a.layer_kinds == self.b.layer_kinds)

