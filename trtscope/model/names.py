"""The grammar of TensorRT layer names and Metadata (reference §1.4-1.5).

These rules are heuristics TensorRT never documented as a contract, so they live in one module with tests
against real artifacts: ``" + "`` joins fused layers, ``PWN(...)`` nests 8.x point-wise fusions,
``{ForeignNode[first...last]}`` names a Myelin/DLA region by its ends, ``<src>_myl<R>_<I>`` and
``__myl_<Ops>_myl<R>_<I>`` are TensorRT 10+ Myelin layers, ``Reformatting CopyNode for ...`` is inserted.
TensorRT 7.x also writes ``A || B`` (layers run side by side as one), ``<layer> input reformatter 0`` (its reformat
layers), ``{a,b,c}`` (a DLA subgraph listing its layers) and DLA copy/sync events (``data to nvm``, ``... finish``).
"""

from __future__ import annotations

import re
from collections.abc import Container

# --- Metadata ---------------------------------------------------------------------------------------------------
_META_SPLIT = re.compile(r"[\x1e\x1f]")
#: An entry ends where the next entry starts or at the end of a piece (the separator may be lost in logs).
_META_ENTRY = re.compile(r"\[ONNX Layer: (.*?)\](?=\[ONNX Layer: |\s*$)", re.S)


def metadata_entries(metadata: str | None) -> list[str]:
    """Every ``[ONNX Layer: ...]`` payload in a Metadata string, in order, function stacks included."""
    if not metadata:
        return []
    out: list[str] = []
    prefix = "[ONNX Layer: "
    if "\x1e" in metadata:
        metadata = metadata.replace("\x1e", "\x1f")
    # Fast path, the common case (once per layer of 10,000s): entries joined by exactly one separator.
    if metadata.startswith(prefix) and metadata.endswith("]"):
        parts = metadata[len(prefix) : -1].split("]\x1f" + prefix)
        # no stray entry marker or separator inside a part (checked with two C-level counts)
        if metadata.count(prefix) == len(parts) and metadata.count("\x1f") == len(parts) - 1:
            return parts
    for piece in metadata.split("\x1f"):
        piece = piece.strip()
        # Fast path (the common case, once per entry of 100,000s): exactly one entry in this piece.
        if piece.startswith(prefix) and piece.endswith("]") and piece.find(prefix, 1) < 0:
            out.append(piece[len(prefix) : -1])
        else:
            out.extend(m.group(1) for m in _META_ENTRY.finditer(piece))
    return out


def entry_candidates(entry: str) -> list[str]:
    """``"inner | caller (fn) | outer (fn2)"`` -> ``["inner", "caller", "outer"]`` (ONNX local functions)."""
    parts = [p.strip() for p in entry.split(" | ")]
    out = [parts[0]]
    for p in parts[1:]:
        m = re.match(r"^(.*) \([^()]*\)$", p)
        out.append(m.group(1) if m else p)
    return [p for p in out if p]


def metadata_nodes(metadata: str | None) -> list[str]:
    """ONNX node names in a Metadata string, without the function stack, unique, in order."""
    seen: dict[str, None] = {}
    for e in metadata_entries(metadata):
        seen.setdefault(entry_candidates(e)[0], None)
    return list(seen)


# --- layer names ------------------------------------------------------------------------------------------------
_MYELIN_INTERNAL = re.compile(r"^__my[le]")
_REFORMAT = re.compile(r"^Reformatting CopyNode for (?P<dir>Input|Output) Tensor (?P<k>\d+) to (?P<target>.*)$")

#: Name pieces TensorRT or its ONNX parser invents (helper layers, unnamed layers), never ONNX nodes.
_INTERNAL_PREFIXES = (
    "(Unnamed Layer*",
    "ONNXTRT_",
    "copied_",
    "reshape_after_",
    "reshape_before_",
    "squeeze_after_",
    "unsqueeze_after_",
    "unsqueeze_node_after_",
    "shuffle_between_",
    "shuffle_after_",
    "__myl",
    "__mye",
    "dummy_shape_call__mye",
    "Reformatting CopyNode",
    "Reformatted ",
)
_WEIGHT_LIKE = re.compile(
    r"(?:^|[./_:])(?:weight|bias|running_mean|running_var|gamma|beta|kernel|weights|biases)$", re.I
)


def foreign_node(name: str) -> tuple[str, str] | None:
    """``{ForeignNode[a...b]}`` -> ``("a", "b")``; ``{ForeignNode[a]}`` -> ``("a", "a")``; else None.

    String operations, not a regex: names can hold anything (newlines, brackets), and a long hostile name
    must cost linear time.
    """
    if not is_foreign_node_layer(name):
        return None
    inner = name[len(_FOREIGN_OPEN) : -len(_FOREIGN_CLOSE)]
    first, sep, last = inner.partition("...")
    return (first, last) if sep else (inner, inner)


_FOREIGN_OPEN, _FOREIGN_CLOSE = "{ForeignNode[", "]}"
#: Layer types TensorRT gives a Myelin region's layers (8.x `Myelin`, 10+ `kgen`, …).
MYELIN_TYPES = frozenset({"Myelin", "kgen"})


def is_foreign_node_layer(name: str) -> bool:
    return len(name) >= len(_FOREIGN_OPEN) + len(_FOREIGN_CLOSE) and name.startswith(_FOREIGN_OPEN) \
        and name.endswith(_FOREIGN_CLOSE)


def myelin_parts(name: str) -> tuple[str, int, int] | None:
    """``node_linear_myl4_0`` -> ``("node_linear", 4, 0)``; ``__myl_MulSum_myl4_1`` -> ``("__myl_MulSum", 4, 1)``."""
    at = name.rfind("_myl")  # str methods, not a regex: this runs once per layer
    if at < 0:
        return None
    region, sep, index = name[at + 4 :].partition("_")
    if not (sep and region.isdigit() and index.isdigit() and region.isascii() and index.isascii()):
        return None
    return name[:at], int(region), int(index)


_LEGACY_REFORMATTER = " reformatter "


def reformat_target(name: str) -> tuple[str, int | None, str] | None:
    """``Reformatting CopyNode for Input Tensor 0 to X`` -> ``("Input", 0, "X")``; TensorRT 7.x's
    ``X input reformatter 0`` -> ``("Input", 0, "X")`` too.

    A tensor position too large to be one (more than 9 digits: a corrupt or hostile name) is None; the layer is
    still a reformat layer."""
    m = _REFORMAT.match(name)
    if m:
        k = m.group("k")
        return m.group("dir"), int(k) if len(k) <= 9 else None, m.group("target")
    at = name.rfind(_LEGACY_REFORMATTER)  # string operations: linear in the name
    if at <= 0:
        return None
    k, head = name[at + len(_LEGACY_REFORMATTER) :], name[:at]
    if not (k.isdigit() and k.isascii()):
        return None
    for direction in ("input", "output"):
        if head.endswith(" " + direction) and len(head) > len(direction) + 1:
            return direction.capitalize(), int(k) if len(k) <= 9 else None, head[: -len(direction) - 1]
    return None


def is_reformat_name(name: str) -> bool:
    """Cheap pre-check before :func:`reformat_target` (run once per layer)."""
    return name.startswith("Reformatting") or _LEGACY_REFORMATTER in name


#: TensorRT 7.x DLA copy and synchronisation events in profiles (``data to nvm``, ``X from nvm``, ``X copy finish``)
#: and its copies for concatenation (``inception_3a/1x1 copy``).
_INTERNAL_SUFFIXES = (" to nvm", " from nvm", " finish", " copy")


def is_internal_name(piece: str) -> bool:
    """A name piece invented by TensorRT (helper or unnamed layer), as opposed to an ONNX node or weight."""
    return piece.startswith(_INTERNAL_PREFIXES) or bool(_MYELIN_INTERNAL.match(piece)) \
        or piece.endswith(_INTERNAL_SUFFIXES)


#: Tensor (not node) names exporters write: PyTorch's ``onnx::Mul_4104`` and ``/a/Transpose_output_0``, TensorFlow's
#: ``x:0``; TensorRT appends ``_clone_N`` to a constant it duplicated.
_TENSOR_LIKE = re.compile(r"(?:^onnx::|_output_\d{1,9}(?:_clone_\d{1,9})?$|:\d{1,9}(?:_clone_\d{1,9})?$)")


def looks_like_weight(piece: str) -> bool:
    """``conv1.weight``, ``fc.bias``, ``layer1.0.bn1.running_mean``: initializer names fused into a layer name;
    also tensor names (``onnx::Mul_4104``, ``/m/Transpose_1_output_0_clone_2``, ``add/x:0``), which name the
    constants TensorRT folded in, never ONNX nodes."""
    return bool(_WEIGHT_LIKE.search(piece)) or bool(_TENSOR_LIKE.search(piece))


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside parentheses/brackets/braces."""
    out, depth, start, i = [], 0, 0, 0
    n, k = len(text), len(sep)
    while i < n:
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth = max(0, depth - 1)
        elif depth == 0 and text.startswith(sep, i):
            out.append(text[start:i])
            i += k
            start = i
            continue
        i += 1
    out.append(text[start:])
    return out


_MLP = re.compile(r"^\d{1,3}-layer MLP: ")


def _split_fused(text: str, known: Container[str] = ()) -> list[str]:
    """``a + b || c`` -> ``[a, b, c]`` at the top level; TensorRT 7's ``2-layer MLP: a + b -> c`` -> ``[a, b, c]``.
    A ``known`` piece is not split further."""
    m = _MLP.match(text)
    if m:
        text = text[m.end() :]
    out: list[str] = []
    for piece in _split_top(text, " + "):
        for p in ([piece] if piece.strip() in known else _split_top(piece, " || ")):
            out.extend(_split_top(p, " -> ") if m and p.strip() not in known else [p])
    return [p.strip() for p in out]


def _dla_list(piece: str) -> list[str] | None:
    """TensorRT 7's DLA subgraph ``{a,b,c}`` -> ``[a, b, c]`` (not ``{ForeignNode[...]}``); else None."""
    if len(piece) > 2 and piece[0] == "{" and piece[-1] == "}" and "," in piece \
            and not piece.startswith(_FOREIGN_OPEN):
        return [p.strip() for p in piece[1:-1].split(",")]
    return None


def torch_trt_node(piece: str) -> str | None:
    """Torch-TensorRT names a layer ``[CONVOLUTION]-[aten_ops.convolution.default]-[/features/0/convolution]``
    (TensorRT layer type, converter target, FX node); its casts ``Forced Cast ITensor … - [aten_ops.…]-[node]``.
    Returns the FX node's name, or None for any other piece. String operations: linear in the piece."""
    if not piece.endswith("]"):
        return None
    at = piece.rfind("]-[")
    if at < 0:
        return None
    open_at = piece.rfind("[", 0, at)
    if open_at < 0 or "_ops." not in piece[open_at:at] or not piece[:open_at].endswith(("-", "- ")):
        return None
    node = piece[at + 3 : -1]
    return node or None


def name_parts(name: str, known: Container[str] = ()) -> list[str]:
    """The pieces a (possibly fused) layer name is made of: ``" + "`` and ``" || "`` split, ``PWN(...)`` unwrapped
    (its arguments split again: ``PWN(a + b, c)``), a DLA subgraph's ``{a,b,c}`` listed.

    ``PWN(PWN(relu_1), add_1) + Conv_0`` -> ``["relu_1", "add_1", "Conv_0"]``. Pieces are not filtered here:
    callers decide which pieces are ONNX nodes (with the ONNX graph) or look like nodes (without it). A piece in
    ``known`` (the ONNX graph's node names, when given) is kept whole: the graph decides, not the name forms.
    """
    if name in known:
        return [name]
    parts: list[str] = []
    stack = _split_fused(name, known)
    stack.reverse()
    while stack:
        p = stack.pop()
        if p in known:
            parts.append(p)
        elif p.startswith("PWN(") and p.endswith(")"):
            inner = [y for x in _split_top(p[4:-1], ", ") for y in _split_fused(x, known)]
            stack.extend(reversed(inner))
        elif (listed := _dla_list(p)) is not None:
            parts.extend(x for x in listed if x)
        elif p:
            parts.append(p)
    # Torch-TensorRT: the FX node inside each [TYPE]-[target]-[node] piece; its converters' helper layers
    # (``/fc/addmm_constant_0``, ``..._broadcast``) are plain pieces beside them, not nodes.
    nodes = [p if p in known else None if is_internal_name(p) else torch_trt_node(p) for p in parts]
    if any(n is not None and n not in known for n in nodes):
        return [n for n in nodes if n]
    return parts


# --- op types from names (used only when no ONNX model is given) ------------------------------------------------
#: torch.onnx dynamo exporter names nodes after aten ops: node_conv2d_1 -> Conv.
_ATEN_TO_ONNX = {
    "conv2d": "Conv", "conv1d": "Conv", "conv3d": "Conv", "convolution": "Conv", "conv_transpose2d": "ConvTranspose",
    "relu": "Relu", "gelu": "Gelu", "silu": "Sigmoid", "sigmoid": "Sigmoid", "tanh": "Tanh",
    "max_pool2d": "MaxPool", "avg_pool2d": "AveragePool", "adaptive_avg_pool2d": "GlobalAveragePool",
    "linear": "Gemm", "addmm": "Gemm", "matmul": "MatMul", "mm": "MatMul", "bmm": "MatMul",
    "softmax": "Softmax", "log_softmax": "LogSoftmax", "argmax": "ArgMax", "view": "Reshape",
    "reshape": "Reshape", "flatten": "Flatten", "add": "Add", "mul": "Mul", "sub": "Sub", "div": "Div",
    "layer_norm": "LayerNormalization", "batch_norm": "BatchNormalization", "cat": "Concat",
    "transpose": "Transpose", "permute": "Transpose", "mean": "ReduceMean", "sum": "ReduceSum",
    "pow": "Pow", "sqrt": "Sqrt", "rsqrt": "Reciprocal", "clone": "Identity", "expand": "Expand",
    "slice": "Slice", "gather": "Gather", "embedding": "Gather", "unsqueeze": "Unsqueeze", "squeeze": "Squeeze",
    "dropout": "Dropout", "scaled_dot_product_attention": "Attention",
}
#: tf2onnx keeps TensorFlow op names in node names: resnet50/conv1_conv/Conv2D__6 is an ONNX Conv.
_TF_TO_ONNX = {
    "Conv2D": "Conv", "Conv3D": "Conv", "DepthwiseConv2dNative": "Conv", "Conv2DBackpropInput": "ConvTranspose",
    "BiasAdd": "Add", "AddV2": "Add", "add": "Add", "mul": "Mul", "sub": "Sub", "truediv": "Div",
    "FusedBatchNormV3": "BatchNormalization", "FusedBatchNorm": "BatchNormalization", "Mean": "ReduceMean",
    "Relu6": "Clip", "BatchMatMulV2": "MatMul", "ConcatV2": "Concat", "MaxPool2d": "MaxPool",
}
#: Last path segment of a node name, without exporter suffixes (``_12``, ``__435``).
_LAST_SEGMENT = re.compile(r"^(?:.*/)?(?P<op>[A-Za-z][A-Za-z0-9]*?)(?:_+\d+)*$")
_ATEN_SUFFIX = re.compile(r"(?:_default)?(?:_\d{1,9})?$")
_DYNAMO = re.compile(r"^node_(?P<aten>[a-z][a-z0-9_]*?)(?:_\d+)?$")


def op_type_from_name(name: str, known_ops: frozenset[str]) -> str | None:
    """Guess an ONNX op type from a node name (``Conv_0``, ``/layer1/conv1/Conv``, ``node_conv2d_1``,
    tf2onnx's ``resnet50/conv1_conv/Conv2D__6``, Torch-TensorRT's ``/features/0/convolution_1``). Used only when
    no ONNX model is given."""
    m = _LAST_SEGMENT.match(name)
    if m:
        op = m.group("op")
        if op in known_ops:
            return op
        if op in _TF_TO_ONNX:
            return _TF_TO_ONNX[op]
    m = _DYNAMO.match(name)
    if m:
        return _ATEN_TO_ONNX.get(m.group("aten"))
    # Torch-TensorRT's FX node names: /features/0/convolution_1, max_pool2d_default_2 -> the aten op
    last = _ATEN_SUFFIX.sub("", name.rpartition("/")[2])
    return _ATEN_TO_ONNX.get(last)
