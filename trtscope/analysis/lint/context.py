"""What the rules share: the Analysis plus facts computed once from its tables.

Facts are built on first use (a run with ``--select`` of one rule pays only for what that rule reads): the
tensors with their layouts, which layer produces and which consume each tensor (engine order and tensor
names), each layer's input/output data types, the ONNX graph walk, and what precisions the build allowed.
Every time figure is read from the Analysis (``layers.mean_ms`` / ``share``), never re-measured.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import pandas as pd

from trtscope.analysis.graph_walk import Adjacency
from trtscope.analysis.lint.base import Evidence, Need
from trtscope.analysis.lint.formats import describe, layout_of
from trtscope.analysis.lint.patterns import Patterns
from trtscope.analysis.session import Analysis
from trtscope.model.vocabulary import LayerKind

FLOAT_TYPES = frozenset({"Float", "Half", "BFloat16"})
QUANT_TYPES = frozenset({"Int8", "FP8", "Int4", "FP4", "UInt8"})
#: Precision words of build flags / trtexec's "Precision:" line -> the data types they allow.
_PRECISION_WORDS = {"FP16": "Half", "BF16": "BFloat16", "INT8": "Int8", "FP8": "FP8", "INT4": "Int4", "FP4": "FP4"}
_FLAG = re.compile(r"--(fp16|bf16|int8|fp8|int4|fp4|best)\b", re.I)


@dataclass(frozen=True)
class Tensor:
    """One input or output of a layer, as the rules read it."""

    layer: int
    direction: str  # input | output
    position: int
    name: str
    dims: tuple[int, ...] | None  # None when unknown
    dtype: str | None
    layout: str

    @property
    def label(self) -> str:
        return describe(self.dtype, self.layout)

    def as_data(self) -> dict[str, Any]:
        return {"layer": self.layer, "direction": self.direction, "position": self.position, "name": self.name,
                "dimensions": list(self.dims) if self.dims is not None else None, "dtype": self.dtype,
                "layout": self.layout}


@lru_cache(maxsize=8192)
def _dims_of(text: str) -> tuple[int, ...] | None:
    if text == "scalar":
        return ()
    try:
        return tuple(int(x) for x in text.split("x"))
    except ValueError:
        return None


def _dims(text: object) -> tuple[int, ...] | None:
    return _dims_of(text) if isinstance(text, str) and text else None


class LintContext:
    """The Analysis and the facts rules compute from it (each built once, on first use)."""

    def __init__(self, a: Analysis) -> None:
        self.a = a
        self.layers = a.layers
        self.total_ms = a.summary.total_ms
        self.names: list[str] = a.layers["name"].tolist()
        self.kinds: list[str] = a.layers["kind"].tolist()
        self.types: list[str] = [t if isinstance(t, str) else "" for t in a.layers["type"].tolist()]
        self.mean_ms: np.ndarray = a.layers["mean_ms"].to_numpy(dtype="float64")
        self.shares: np.ndarray = a.layers["share"].to_numpy(dtype="float64")
        self.layer_nodes: list[list[str]] = [list(x) if isinstance(x, (list, tuple, np.ndarray)) else []
                                             for x in a.layers["onnx_nodes"].tolist()]
        self.anchor_ops: list[str | None] = [x if isinstance(x, str) else None for x in a.layers["anchor_op"].tolist()]
        self.anchor_nodes: list[str | None] = [x if isinstance(x, str) else None
                                               for x in a.layers["anchor_node"].tolist()]
        self.precisions: list[str | None] = [x if isinstance(x, str) else None for x in a.layers["precision"].tolist()]
        self._built: dict[tuple[int, str], list[Tensor]] = {}
        running = (LayerKind.FUSED.value, LayerKind.SINGLE.value, LayerKind.QDQ.value)
        self._works: list[bool] = [k in running for k in self.kinds]

    # -- what the input has ------------------------------------------------------------------------------------
    def has(self, need: Need) -> bool:
        a = self.a
        if need is Need.LAYERS:
            return a.has_layers
        if need is Need.TENSORS:
            return bool(len(self.tensors))
        if need is Need.PROFILE:
            return a.has_profile
        if need is Need.ONNX:
            return a.has_onnx
        if need is Need.TIMES:
            return a.summary.end_to_end is not None
        return False

    # -- times ---------------------------------------------------------------------------------------------------
    def cost(self, layers: Iterable[int]) -> tuple[float | None, float | None]:
        """(sum of the layers' mean times, their share of the sum of layer times); (None, None) without times."""
        if self.total_ms is None:
            return None, None
        idx = np.fromiter(layers, dtype=np.int64)
        if not len(idx):
            return 0.0, 0.0
        ms = self.mean_ms[idx]
        ok = np.isfinite(ms)
        if not ok.any():
            return None, None
        share = self.shares[idx][ok]
        return float(ms[ok].sum()), float(share[np.isfinite(share)].sum())

    def ms_text(self, layers: Iterable[int]) -> str:
        ms, share = self.cost(layers)
        if ms is None or share is None:
            return "no time (no profile)"
        return f"{ms:.4f} ms = {100 * share:.1f}% of layer time"

    # -- tensors -------------------------------------------------------------------------------------------------
    @cached_property
    def tensors(self) -> pd.DataFrame:
        t = self.a.tensors
        if not len(t):
            return t
        t = t[t["direction"].isin(("input", "output"))]
        fmt = t["format"]
        layouts = {f: layout_of(f) for f in fmt.dropna().unique()}
        return t.assign(layout=fmt.map(layouts).fillna("").astype(object))

    @cached_property
    def _cols(self) -> tuple[np.ndarray, list[Any], list[Any], list[Any], list[Any], list[Any], list[Any]]:
        """The tensor table as plain lists (row order: each layer's inputs, outputs, constants), plus each
        layer's first row: Tensor objects are built only for the layers a rule looks at."""
        t = self.tensors
        n = len(self.names)
        if not len(t):
            return np.zeros(n + 1, dtype=np.int64), [], [], [], [], [], []
        li = t["layer_index"].to_numpy(dtype=np.int64)
        if len(li) > 1 and (np.diff(li) < 0).any():  # keep each layer's rows together
            t = t.iloc[np.argsort(li, kind="stable")]
            li = t["layer_index"].to_numpy(dtype=np.int64)
        starts = np.searchsorted(li, np.arange(n + 1))
        return (starts, t["direction"].tolist(), t["position"].tolist(), t["name"].tolist(), t["dimensions"].tolist(),
                t["dtype"].tolist(), t["layout"].tolist())

    def _tensors_of(self, layer: int, direction: str) -> list[Tensor]:
        key = (layer, direction)
        got = self._built.get(key)
        if got is None:
            starts, d, pos, name, dims, dt, lay = self._cols
            got = [Tensor(layer, d[r], int(pos[r]), str(name[r]), _dims(dims[r]),
                          dt[r] if isinstance(dt[r], str) else None, lay[r])
                   for r in range(int(starts[layer]), int(starts[layer + 1])) if d[r] == direction]
            self._built[key] = got
        return got

    def inputs(self, layer: int) -> list[Tensor]:
        return self._tensors_of(layer, "input")

    def outputs(self, layer: int) -> list[Tensor]:
        return self._tensors_of(layer, "output")

    @cached_property
    def producer(self) -> dict[str, int]:
        """Tensor name -> the layer that writes it (the last one, as names are unique per engine)."""
        t = self.tensors
        if not len(t):
            return {}
        out = t[t["direction"].eq("output")]
        return dict(zip(out["name"].tolist(), out["layer_index"].tolist(), strict=True))

    @cached_property
    def consumers(self) -> dict[str, list[int]]:
        """Tensor name -> the layers that read it, in engine order."""
        t = self.tensors
        out: dict[str, list[int]] = {}
        if not len(t):
            return out
        ins = t[t["direction"].eq("input")]
        for name, li in zip(ins["name"].tolist(), ins["layer_index"].tolist(), strict=True):
            out.setdefault(name, []).append(li)
        return out

    @cached_property
    def first_input_dtype(self) -> list[str | None]:
        """Data type of each layer's input 0 (None: no tensor descriptions), without building Tensor objects."""
        out: list[str | None] = [None] * len(self.names)
        t = self.tensors
        if len(t):
            first = t[t["direction"].eq("input") & t["position"].eq(0)]
            for li, dt in zip(first["layer_index"].tolist(), first["dtype"].tolist(), strict=True):
                out[li] = dt if isinstance(dt, str) else None
        return out

    @cached_property
    def layers_running(self) -> dict[str, set[int]]:
        """Op type -> the layers that run a node of it (from the mapping)."""
        m = self.a.mapping
        out: dict[str, set[int]] = {}
        if not len(m):
            return out
        ops = self._node_cols[0]
        for li, ni in zip(m["layer_index"].tolist(), m["node_index"].tolist(), strict=True):
            op = ops[ni] if ni < len(ops) else None
            if isinstance(op, str):
                out.setdefault(op, set()).add(li)
        return out

    @cached_property
    def layer_edges(self) -> list[tuple[int, int]]:
        """(producer layer, consumer layer) for every tensor one layer writes and another reads."""
        prod = self.producer
        return [(p, c) for name, cs in self.consumers.items() if (p := prod.get(name)) is not None for c in cs]

    @cached_property
    def chains(self) -> dict[str, list[int]]:
        """Anchor node -> the layers built around it, in engine order. Classic TensorRT builds one layer per
        convolution / GEMM; Myelin (TensorRT 10, TensorRT-RTX) spreads one over several (an input quantizer or
        channel padding, the kernel, an epilogue with bias, activation, residual Add and the next quantizer), all
        with that node as their anchor."""
        out: dict[str, list[int]] = {}
        for i, node in enumerate(self.anchor_nodes):
            if node is not None and self._works[i]:
                out.setdefault(node, []).append(i)
        return out

    def raw(self, layer: int) -> dict[str, Any]:
        """Every key TensorRT wrote for one layer (not copied: read only)."""
        info = self.a.artifacts.layer_info
        if info is None or layer >= len(info.raw):
            return {}
        return info.raw[layer]

    @cached_property
    def bindings(self) -> frozenset[str]:
        info = self.a.artifacts.layer_info
        return frozenset(info.bindings) if info is not None else frozenset()

    def runs_onnx_work(self, layer: int) -> bool:
        return self._works[layer]

    def upstream(self, layer: int, position: int = 0) -> int | None:
        """The nearest layer before ``layer`` on its input ``position`` that runs ONNX work (through reformat
        and no-op layers); None when the tensor is a network input or its producer is unknown."""
        seen = set()
        cur, pos = layer, position
        while True:
            ins = self.inputs(cur)
            if pos >= len(ins):
                return None
            p = self.producer.get(ins[pos].name)
            if p is None or p in seen:
                return None
            if self.runs_onnx_work(p) or self.kinds[p] == LayerKind.OTHER.value:
                return p
            seen.add(p)
            cur, pos = p, 0

    def readers(self, layer: int) -> list[tuple[int, Tensor]]:
        """(layer, the tensor as that layer reads it) for the nearest layers after ``layer`` that run ONNX work,
        through reformat and no-op layers (which may change the tensor's format on the way)."""
        found: list[tuple[int, Tensor]] = []
        seen: set[int] = set()
        stack = [x.name for x in self.outputs(layer)]
        while stack:
            name = stack.pop()
            for c in self.consumers.get(name, ()):
                if c in seen:
                    continue
                seen.add(c)
                if self.runs_onnx_work(c) or self.kinds[c] == LayerKind.OTHER.value:
                    found += [(c, t) for t in self.inputs(c) if t.name == name]
                else:
                    stack.extend(x.name for x in self.outputs(c))
        return sorted(found, key=lambda x: (x[0], x[1].position))

    def ref(self, layer: int) -> str:
        """The ONNX node a layer stands for in a sentence, with the layer number when that node is spread over
        several layers (TensorRT 10 Myelin)."""
        node = self.anchor_nodes[layer]
        if node is None:
            return self.names[layer]
        return f"{node} (#{layer})" if len(self.layers_of(node)) > 1 else node

    def downstream(self, layer: int) -> list[int]:
        """The nearest layers after ``layer`` (on any of its outputs) that run ONNX work, through reformat and
        no-op layers, in engine order."""
        return sorted({c for c, _ in self.readers(layer)})

    # -- ONNX nodes ----------------------------------------------------------------------------------------------
    @cached_property
    def node_row(self) -> dict[str, int]:
        names = self.a.onnx_nodes["name"].tolist()
        return dict(zip(names, range(len(names)), strict=True))

    @cached_property
    def _node_cols(self) -> tuple[list[Any], list[Any], list[Any]]:
        n = self.a.onnx_nodes
        return n["op_type"].tolist(), n["status"].tolist(), n["layer_indices"].tolist()

    def op_of(self, node: str) -> str | None:
        i = self.node_row.get(node)
        op = self._node_cols[0][i] if i is not None else None
        return op if isinstance(op, str) else None

    def status_of(self, node: str) -> str | None:
        i = self.node_row.get(node)
        return self._node_cols[1][i] if i is not None else None

    def layers_of(self, node: str) -> list[int]:
        i = self.node_row.get(node)
        if i is None:
            return []
        v = self._node_cols[2][i]
        return list(v) if isinstance(v, (list, tuple, np.ndarray)) else []

    def layer_ops(self, layer: int) -> list[str | None]:
        return [self.op_of(n) for n in self.layer_nodes[layer]]

    @cached_property
    def walk(self) -> Adjacency | None:
        """The ONNX graph's adjacency (successors / predecessors of every node), None without a model."""
        onnx = self.a.artifacts.onnx
        return Adjacency(onnx) if onnx is not None else None

    @cached_property
    def patterns(self) -> Patterns | None:
        return Patterns(self.walk) if self.walk is not None else None

    # -- the build -----------------------------------------------------------------------------------------------
    @cached_property
    def requested_types(self) -> frozenset[str] | None:
        """Reduced-precision data types the build allowed (``{"Half", "Int8"}``), from trtexec's Precision line
        or its command line; None when the input does not say."""
        meta = self.a.artifacts.metadata
        found: set[str] = set()
        known = False
        prec = meta.get("precision")
        if isinstance(prec, str) and prec:
            known = True
            for word in re.split(r"[+,\s]+", prec.upper()):
                if word in _PRECISION_WORDS:
                    found.add(_PRECISION_WORDS[word])
        cmd = meta.get("trtexec_command")
        if isinstance(cmd, str):
            for m in _FLAG.finditer(cmd):
                known = True
                w = m.group(1).upper()
                found.update(("Half", "Int8") if w == "BEST" else (_PRECISION_WORDS[w],))
        return frozenset(found) if known else None

    @cached_property
    def engine_types(self) -> frozenset[str]:
        """Data types that occur on any layer's tensors."""
        t = self.tensors
        return frozenset(x for x in t["dtype"].dropna().unique()) if len(t) else frozenset()


def finite(v: float | None) -> bool:
    return v is not None and math.isfinite(v)


def layer_fact(ctx: LintContext, i: int, role: str = "layer") -> Evidence:
    """``layer #6 'Conv_34 + Add_36' (CaskConvolution, Half; 0.0369 ms = 3.4%)`` as evidence."""
    ms, share = ctx.cost([i])
    time = f"; {ms:.4f} ms = {100 * share:.1f}%" if ms is not None and share is not None else ""
    typ = ctx.types[i] or "?"
    prec = ctx.precisions[i]
    prec_text = f", {prec}" if isinstance(prec, str) and prec else ""
    return Evidence(f"{role}: #{i} {ctx.names[i]!r} ({typ}{prec_text}{time})",
                    {"role": role, "layer": i, "name": ctx.names[i], "type": ctx.types[i],
                     "precision": prec if isinstance(prec, str) else None, "ms": ms, "share": share})


def tensor_fact(t: Tensor, role: str) -> Evidence:
    """``residual input: 'inputs' 32x64x56x56 Half HWC8 (layer #6 input 1)``."""
    dims = "x".join(str(d) for d in t.dims) if t.dims else "?"
    return Evidence(f"{role}: {t.name!r} {dims} {t.label} (layer #{t.layer} {t.direction} {t.position})",
                    {"role": role, **t.as_data()})


def node_text(ctx: LintContext, i: int) -> str:
    """The ONNX node a layer stands for in a sentence (its anchor, else its name; see LintContext.ref)."""
    return ctx.ref(i)
