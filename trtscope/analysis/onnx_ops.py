"""What kind of work an ONNX op does (its node class), and which op a fused layer was built around.

Coverage counts *compute* nodes: ops that launch real GPU work when left alone. Shape-only and constant ops
(TensorRT resolves or folds them) and Q/DQ ops (TensorRT folds them into neighbouring layers or turns them into
reformats) are reported, but they are neither "fused" wins nor "unfused" losses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trtscope.model.vocabulary import NodeClass

CONSTANT_OPS = frozenset({"Constant", "ConstantOfShape", "EyeLike"})
SHAPE_OPS = frozenset(
    {
        "Shape", "Size", "Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Dropout", "Range",
        "NonZero", "Optional", "OptionalGetElement", "OptionalHasElement", "SequenceConstruct", "SequenceAt",
        "SequenceEmpty",
    }
)
QDQ_OPS = frozenset({"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"})

#: ONNX standard op types (ai.onnx, opset <= 23), used to recognise op names inside node names.
KNOWN_OPS = frozenset(
    {
        "Abs", "Acos", "Acosh", "Add", "AffineGrid", "And", "ArgMax", "ArgMin", "Asin", "Asinh", "Atan",
        "Atanh", "Attention", "AveragePool", "BatchNormalization", "Bernoulli", "BitShift", "BitwiseAnd",
        "BitwiseNot", "BitwiseOr", "BitwiseXor", "BlackmanWindow", "Cast", "CastLike", "Ceil", "Celu",
        "CenterCropPad", "Clip", "Col2Im", "Compress", "Concat", "ConcatFromSequence", "Constant",
        "ConstantOfShape", "Conv", "ConvInteger", "ConvTranspose", "Cos", "Cosh", "CumSum", "DFT",
        "DeformConv", "DepthToSpace", "DequantizeLinear", "Det", "Div", "Dropout", "DynamicQuantizeLinear",
        "Einsum", "Elu", "Equal", "Erf", "Exp", "Expand", "EyeLike", "Flatten", "Floor", "GRU", "Gather",
        "GatherElements", "GatherND", "Gelu", "Gemm", "GlobalAveragePool", "GlobalLpPool", "GlobalMaxPool",
        "Greater", "GreaterOrEqual", "GridSample", "GroupNormalization", "HammingWindow", "HannWindow",
        "HardSigmoid", "HardSwish", "Hardmax", "Identity", "If", "ImageDecoder", "InstanceNormalization",
        "IsInf", "IsNaN", "LRN", "LSTM", "LayerNormalization", "LeakyRelu", "Less", "LessOrEqual", "Log",
        "LogSoftmax", "Loop", "LpNormalization", "LpPool", "MatMul", "MatMulInteger", "Max", "MaxPool",
        "MaxRoiPool", "MaxUnpool", "Mean", "MeanVarianceNormalization", "MelWeightMatrix", "Min", "Mish",
        "Mod", "Mul", "Multinomial", "Neg", "NegativeLogLikelihoodLoss", "NonMaxSuppression", "NonZero",
        "Not", "OneHot", "Optional", "OptionalGetElement", "OptionalHasElement", "Or", "PRelu", "Pad",
        "Pow", "QLinearConv", "QLinearMatMul", "QuantizeLinear", "RMSNormalization", "RNN", "RandomNormal",
        "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Range", "Reciprocal", "ReduceL1",
        "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd",
        "ReduceSum", "ReduceSumSquare", "RegexFullMatch", "Relu", "Reshape", "Resize", "ReverseSequence",
        "RoiAlign", "RotaryEmbedding", "Round", "STFT", "Scan", "Scatter", "ScatterElements", "ScatterND",
        "Selu", "SequenceAt", "SequenceConstruct", "SequenceEmpty", "SequenceErase", "SequenceInsert",
        "SequenceLength", "SequenceMap", "Shape", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh", "Size",
        "Slice", "Softmax", "SoftmaxCrossEntropyLoss", "Softplus", "Softsign", "SpaceToDepth", "Split",
        "SplitToSequence", "Sqrt", "Squeeze", "StringConcat", "StringNormalizer", "StringSplit", "Sub", "Sum",
        "Swish", "Tan", "Tanh", "TensorScatter", "TfIdfVectorizer", "ThresholdedRelu", "Tile", "TopK",
        "Transpose", "Trilu", "Unique", "Unsqueeze", "Upsample", "Where", "Xor",
    }
)


#: Ops a fused layer is built around: the heavy compute a layer's time is attributed to (anchor attribution).
#: A fused Conv + BatchNorm + Relu layer's time is the convolution's, not a third each.
ANCHOR_OPS = frozenset(
    {
        "Conv", "ConvTranspose", "ConvInteger", "QLinearConv", "DeformConv", "Gemm", "MatMul", "MatMulInteger",
        "QLinearMatMul", "Einsum", "Attention", "MultiHeadAttention", "GroupQueryAttention", "LSTM", "GRU", "RNN",
    }
)
#: Next best anchors when a layer has none of the above (a fused softmax, a normalisation, a pooling).
SECONDARY_ANCHOR_OPS = frozenset(
    {
        "Softmax", "LogSoftmax", "LayerNormalization", "GroupNormalization", "InstanceNormalization",
        "RMSNormalization", "SkipLayerNormalization", "BatchNormalization", "MaxPool", "AveragePool",
        "GlobalAveragePool", "GlobalMaxPool", "LpPool", "Resize", "TopK", "NonMaxSuppression", "RoiAlign",
        "GridSample", "ScatterND", "ScatterElements", "GatherND", "GatherElements", "CumSum", "ReduceMean",
        "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSumExp",
    }
)


def node_class(op_type: str | None) -> NodeClass:
    """The node's class; an unknown op (None, a custom plugin) counts as compute."""
    if op_type in QDQ_OPS:
        return NodeClass.QDQ
    if op_type in SHAPE_OPS:
        return NodeClass.SHAPE
    if op_type in CONSTANT_OPS:
        return NodeClass.CONSTANT
    return NodeClass.COMPUTE


def anchor_priority(op_type: str | None) -> int:
    """How strongly a node anchors its layer (lower wins; ties go to the layer's first node): a heavy compute op
    (ANCHOR_OPS) 0, a secondary anchor 1, other compute 2, Q/DQ 3, shape/constant 4."""
    if op_type in ANCHOR_OPS:
        return 0
    if op_type in SECONDARY_ANCHOR_OPS:
        return 1
    return {NodeClass.COMPUTE: 2, NodeClass.QDQ: 3}.get(node_class(op_type), 4)


def anchor_priorities(op_types: pd.Series) -> np.ndarray:
    """:func:`anchor_priority` of every op type in ``op_types``, each distinct op type decided once."""
    codes, uniques = pd.factorize(op_types.astype(object), use_na_sentinel=True)
    table = np.array([anchor_priority(u) for u in uniques] + [anchor_priority(None)], dtype=np.int64)
    return table[codes]
