"""Subgraph patterns in the ONNX graph, found through its edges (producer / consumer of every tensor).

Each matcher returns the node indices of one occurrence, anchor first. They look at a node's immediate
neighbourhood only (a few hops), so a 100,000-node graph costs one pass over the op types plus a few
neighbour lookups per candidate. What counts as one pattern (the op sequences) is written next to each matcher;
exporters that decompose differently (e.g. ``x * 0.5`` before or after the Erf) are covered by accepting
either order.
"""

from __future__ import annotations

from collections.abc import Iterator

from trtscope.analysis.graph_walk import Adjacency

#: Ops whose only job is elementwise activation: TensorRT fuses them into the preceding convolution / GEMM.
ACTIVATIONS = frozenset({"Relu", "Sigmoid", "Tanh", "Clip", "LeakyRelu", "Elu", "Selu", "HardSigmoid", "HardSwish",
                         "Softplus", "Gelu", "Mish", "PRelu", "ThresholdedRelu", "Celu"})
LINEAR_OPS = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul"})
#: Ops allowed between the two MatMuls of attention besides the softmax (scale, mask, casts, dropout).
_ATTN_MIDDLE = frozenset({"Mul", "Div", "Add", "Sub", "Where", "Cast", "Dropout", "Identity", "Softmax", "Exp",
                          "ReduceSum", "ReduceMax", "Max", "Reshape", "Transpose", "Clip"})


class Patterns:
    def __init__(self, w: Adjacency) -> None:
        self.w = w
        self.ops = w.op_types

    def _succ(self, i: int, *ops: str) -> list[int]:
        return [j for j in self.w.successors(i) if self.ops[j] in ops]

    def _pred(self, i: int, *ops: str) -> list[int]:
        return [j for j in self.w.predecessors(i) if self.ops[j] in ops]

    def has_const_input(self, i: int) -> bool:
        """An input that is an initializer or a Constant node's output (a bias, a scale, an epsilon)."""
        return bool(self.w.has_const_input[i])

    def _indices(self, *ops: str) -> Iterator[int]:
        want = frozenset(ops)
        return (i for i, op in enumerate(self.ops) if op in want)

    # -- Conv / Gemm / MatMul + bias / BatchNorm / activation ------------------------------------------------------
    def epilogues(self) -> Iterator[tuple[int, list[int]]]:
        """(linear op, [the bias Add / BatchNormalization and activation that follow it]): Conv -> Add(const) ->
        Relu, Gemm -> Relu, MatMul -> Add(bias), Conv -> BatchNormalization -> Clip..."""
        for i in self._indices(*LINEAR_OPS):
            chain: list[int] = []
            cur = i
            for _ in range(2):
                nxt = [j for j in self.w.successors(cur) if self._is_epilogue(j)]
                if len(nxt) != 1 or len(self.w.successors(cur)) != 1:
                    break
                chain.append(nxt[0])
                cur = nxt[0]
                if self.ops[cur] in ACTIVATIONS:
                    break
            if chain:
                yield i, chain

    def _is_epilogue(self, j: int) -> bool:
        op = self.ops[j]
        return op in ACTIVATIONS or op == "BatchNormalization" or (op == "Add" and self.has_const_input(j))

    # -- LayerNorm: ReduceMean -> Sub -> Pow|Mul -> ReduceMean -> Add -> Sqrt -> Div [-> Mul -> Add] ----------------
    def layernorms(self) -> Iterator[list[int]]:
        for r1 in self._indices("ReduceMean"):
            for sub in self._succ(r1, "Sub"):
                found = self._ln_tail(sub)
                if found:
                    yield [r1, sub, *found]

    def _ln_tail(self, sub: int) -> list[int] | None:
        for p in self._succ(sub, "Pow", "Mul"):
            for r2 in self._succ(p, "ReduceMean"):
                for a in self._succ(r2, "Add"):
                    for q in self._succ(a, "Sqrt"):
                        divs = [d for d in self._succ(q, "Div") if sub in self.w.predecessors(d)]
                        if not divs:
                            continue
                        out = [p, r2, a, q, divs[0]]
                        m = [x for x in self._succ(divs[0], "Mul") if self.has_const_input(x)]
                        if m:
                            out.append(m[0])
                            b = [x for x in self._succ(m[0], "Add") if self.has_const_input(x)]
                            out += b[:1]
                        return out
        return None

    # -- GELU: Div|Mul -> Erf -> Add -> Mul [-> Mul]  or  Pow -> Mul -> Add -> Mul -> Tanh -> Add -> Mul [-> Mul] --
    def gelus(self) -> Iterator[list[int]]:
        for e in self._indices("Erf"):
            pre = self._pred(e, "Div", "Mul")
            adds = self._succ(e, "Add")
            if not pre or not adds:
                continue
            muls = self._succ(adds[0], "Mul")
            if not muls:
                continue
            out = [e, pre[0], adds[0], muls[0]]
            out += self._succ(muls[0], "Mul")[:1]
            yield out
        for t in self._indices("Tanh"):
            m1 = self._pred(t, "Mul")
            a1 = self._pred(m1[0], "Add") if m1 else []
            m0 = self._pred(a1[0], "Mul") if a1 else []
            pw = self._pred(m0[0], "Pow", "Mul") if m0 else []
            a2 = self._succ(t, "Add")
            m2 = self._succ(a2[0], "Mul") if a2 else []
            if pw and m2:
                yield [t, m1[0], a1[0], m0[0], pw[0], a2[0], m2[0], *self._succ(m2[0], "Mul")[:1]]

    # -- Softmax written out: [ReduceMax -> Sub ->] Exp -> ReduceSum -> Div ------------------------------------------
    def softmaxes(self) -> Iterator[list[int]]:
        for x in self._indices("Exp"):
            sums = self._succ(x, "ReduceSum")
            divs = [d for d in self._succ(x, "Div") if sums and sums[0] in self.w.predecessors(d)]
            if not sums or not divs:
                continue
            out = [x, sums[0], divs[0]]
            subs = self._pred(x, "Sub")
            if subs:
                out.append(subs[0])
                out += self._pred(subs[0], "ReduceMax")[:1]
            yield out

    # -- attention: MatMul -> [scale / mask / cast] -> Softmax -> [cast / dropout] -> MatMul ------------------------
    def attentions(self, max_nodes: int = 16) -> Iterator[list[int]]:
        """(softmax first) the nodes on the paths from the score MatMul to the context MatMul."""
        for sm in self._indices("Softmax"):
            m1 = self._back_to_matmul(sm)
            m2 = self._forward_to_matmul(sm)
            if m1 is None or m2 is None:
                continue
            core = self.w.between(m1, m2)
            if 2 < len(core) <= max_nodes and all(self.ops[j] in _ATTN_MIDDLE or j in (m1, m2) for j in core):
                yield [sm, *[j for j in core if j != sm]]

    def _back_to_matmul(self, i: int, depth: int = 4) -> int | None:
        cur = [i]
        for _ in range(depth):
            nxt: list[int] = []
            for c in cur:
                for p in self.w.predecessors(c):
                    if self.ops[p] == "MatMul":
                        return p
                    if self.ops[p] in _ATTN_MIDDLE:
                        nxt.append(p)
            cur = nxt
        return None

    def _forward_to_matmul(self, i: int, depth: int = 3) -> int | None:
        cur = [i]
        for _ in range(depth):
            nxt: list[int] = []
            for c in cur:
                for s in self.w.successors(c):
                    if self.ops[s] == "MatMul":
                        return s
                    if self.ops[s] in ("Cast", "Dropout", "Identity", "Reshape", "Transpose"):
                        nxt.append(s)
            cur = nxt
        return None
