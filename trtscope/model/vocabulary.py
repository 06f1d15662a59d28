"""The words every figure is counted in: what became of an ONNX node, what a layer is, what a node does.

Each vocabulary is a ``str``-valued enum, so stored tables (pandas, Parquet, CSV, JSON) hold the plain value
(``"fused"``) and comparisons with the enum member work on them directly. Display labels are not here: the
views own how a value is shown.

The node statuses *partition* the ONNX nodes: every node has exactly one, so status counts always sum to the
node count, in every view. What a node does (its class) is a separate, orthogonal axis, and so is whether it
lies inside a Myelin region.
"""

from __future__ import annotations

from enum import Enum


class TextEnum(str, Enum):
    """A ``str`` enum whose ``str()`` and format are its value in every Python version (3.10 included)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)

    @classmethod
    def values(cls) -> tuple[str, ...]:
        return tuple(m.value for m in cls)


class NodeStatus(TextEnum):
    """What became of one ONNX node in the engine; exactly one per node.

    - ``fused``: a layer that runs it is a fused layer — it also runs at least one other ONNX node that is not
      a pure shape or constant op (a classic fused layer and a Myelin layer alike);
    - ``unfused``: it runs, and no layer that runs it runs another such node;
    - ``absorbed``: inside a Myelin / ForeignNode region (the builder's region listing, or on a graph path
      between the region's nodes) but named by no layer: the region took it in, no layer says where;
    - ``folded``: in no running layer and no region (constant-folded, shape-only, eliminated).
    """

    FUSED = "fused"
    UNFUSED = "unfused"
    ABSORBED = "absorbed"
    FOLDED = "folded"


class NodeClass(TextEnum):
    """What kind of work an ONNX op does when left alone (see ``analysis/onnx_ops.py``)."""

    COMPUTE = "compute"  # launches real GPU work: counted in fusion coverage
    SHAPE = "shape"  # moves no data (Reshape, Squeeze, Shape, Identity, ...)
    CONSTANT = "constant"  # produces a constant (Constant, ConstantOfShape, ...)
    QDQ = "qdq"  # QuantizeLinear / DequantizeLinear


class LayerKind(TextEnum):
    """What an engine layer is, decided in this order (first that applies).

    Whether a layer lies inside a Myelin region is the separate ``in_myelin`` column, not a kind: a Myelin
    layer that runs Conv + Relu is as fused as a classic one.
    """

    QDQ = "qdq"  # a layer made only of Q/DQ nodes, or Origin QDQ
    REFORMAT = "reformat"  # a format/precision conversion TensorRT inserted (no ONNX node)
    NOOP = "noop"  # moves no data or only synchronises (NoOp, Constant, shape_call, signal, wait, ...)
    FUSED = "fused"  # runs 2+ ONNX nodes that are not pure shape/constant ops
    SINGLE = "single"  # runs ONNX work that fused with nothing (one such node, maybe with shape/constant nodes)
    OTHER = "other"  # no ONNX source known


class Attribution(TextEnum):
    """How a layer's time is given to ONNX nodes (and so to op types): a derived figure, never measured."""

    ANCHOR = "anchor"  # the whole layer to its anchor node: the heavy compute op the layer was built around
    SPLIT = "split"  # split evenly over the layer's nodes


class RangeKind(TextEnum):
    """What an NVTX range is, for timelines and kernel attribution."""

    TRTSCOPE = "trtscope"  # trtscope's own ranges (domain "trtscope": iterations, phases)
    LAYER = "tensorrt_layer"  # TensorRT's per-layer range: its text names an engine layer
    OTHER = "nvtx"  # any other range


#: Statuses of nodes that run in a layer (the denominator of fusion coverage, for compute nodes).
RUNNING_STATUSES = (NodeStatus.FUSED, NodeStatus.UNFUSED)


class Severity(TextEnum):
    """How bad a lint finding is (``trtscope lint``); ``--fail-on`` compares by this order, error worst."""

    ERROR = "error"  # the figures cannot be trusted, or the build defeats what the model asks for
    WARNING = "warning"  # costs time that a change to the model or the build can win back
    INFO = "info"  # worth knowing; often unavoidable or small
