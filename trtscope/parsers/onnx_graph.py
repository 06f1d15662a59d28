"""The ONNX model's node graph as trtscope tables; the weight-free wire-format walk is in :mod:`.onnx_wire`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from trtscope.errors import reading
from trtscope.model.artifacts import OnnxGraph
from trtscope.model.tables import ONNX_NODE_COLUMNS
from trtscope.parsers.onnx_wire import (
    PARALLEL_MIN_BYTES,
    Parsed,
    WireWorker,
    looks_like_onnx,
    parse_path,
    take,
)

__all__ = ["PARALLEL_MIN_BYTES", "PendingGraph", "looks_like_onnx", "read_onnx_graph"]


def read_onnx_graph(path: str | Path, *, edges: bool = True) -> OnnxGraph:
    """Node names, op types and edges of an ONNX model; weights (embedded or external) are never read.

    ``edges=False`` leaves the tensor names out and reads them again from the file if ``.edges`` is used.
    """
    p = Path(path)
    r = parse_path(p, edges)
    with reading(p, "the ONNX model"):
        return _to_graph(r, p, edges)


def _read_edges(p: Path) -> pd.DataFrame:
    r = parse_path(p, True)
    return _edge_table(r)


def _edges(flat: list[str], counts: list[int] | np.ndarray, direction: str) -> pd.DataFrame:
    c = np.asarray(counts, dtype=np.int64)
    node = np.repeat(np.arange(len(c), dtype=np.int64), c)
    starts = np.repeat(np.cumsum(c) - c, c)
    return pd.DataFrame(
        {
            "node_index": node,
            "direction": direction,
            "position": np.arange(len(node), dtype=np.int64) - starts,
            "tensor": pd.Series(flat, dtype=object),
        }
    )


def _edge_table(r: Parsed) -> pd.DataFrame:
    return pd.concat(
        [_edges(r.in_flat, r.in_counts, "input"), _edges(r.out_flat, r.out_counts, "output")], ignore_index=True
    )


def _to_graph(r: Parsed, p: Path, edges: bool = True) -> OnnxGraph:
    nodes = pd.DataFrame(
        {
            "index": np.arange(len(r.names), dtype=np.int64),
            "name": pd.Series(r.names, dtype=object),
            "op_type": pd.Series(r.ops, dtype=object),
            "domain": pd.Series(r.domains, dtype=object),
        },
        columns=list(ONNX_NODE_COLUMNS),
    )
    if any(r.parents):
        nodes["subgraph_of"] = pd.Series(r.parents, dtype=object)
    # Unnamed nodes are legal ONNX; TensorRT then names layers after outputs or op types. Give them stable names
    # so every node has one identity in the tables.
    unnamed = nodes["name"] == ""
    if unnamed.any():
        nodes.loc[unnamed, "name"] = [f"<unnamed {op} #{i}>" for i, op in zip(
            nodes.index[unnamed], nodes.loc[unnamed, "op_type"], strict=True)]
    warnings = _unique_names(nodes, p)
    inits = frozenset(r.initializers)
    return OnnxGraph(
        nodes=nodes,
        edge_table=_edge_table(r) if edges else None,
        edge_loader=None if edges else (lambda: _read_edges(p)),
        initializers=inits,
        inputs=[x for x in r.g_inputs if x not in inits],
        outputs=r.g_outputs,
        source=str(p),
        producer=r.producer,
        opset=r.opset,
        warnings=warnings,
    )


def _unique_names(nodes: pd.DataFrame, p: Path) -> list[str]:
    """Node names are identities in every table, but ONNX does not enforce uniqueness (exporters and graph
    surgery leave duplicates): the second and later nodes of a name become ``name (duplicate k)``, with a
    warning. Engine layers naming such a node map to its first occurrence."""
    names = nodes["name"]
    dup = names.duplicated(keep="first")
    if not dup.any():
        return []
    first = names[dup].drop_duplicates()
    k = names.groupby(names, sort=False).cumcount() + 1
    new = names.where(~dup, names + " (duplicate " + k.astype(str) + ")")
    while new.duplicated().any():  # a renamed node that collides with a real name: number further
        again = new.duplicated(keep="first")
        new = new.where(~again, new + "'")
    nodes["name"] = new
    shown = ", ".join(repr(str(n)[:80]) for n in first.head(3)) + (" …" if len(first) > 3 else "")
    return [f"{p}: {int(dup.sum())} ONNX nodes repeat the name of an earlier node ({shown}); they are listed as "
            "'<name> (duplicate k)' and layers naming them are mapped to the first"]



class PendingGraph:
    """An ONNX graph being read (in a worker process when that pays off, possibly started earlier by
    :func:`trtscope.parsers.onnx_wire.prefetch`); ``result()`` returns it, with its edges when the walk read them
    (``prefetch(..., edges=True)``), else without (read on demand)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._worker: WireWorker = take(self.path)

    @property
    def in_worker(self) -> bool:
        return self._worker.in_worker

    def result(self) -> OnnxGraph:
        r = self._worker.result()
        with reading(self.path, "the ONNX model"):
            return _to_graph(r, self.path, edges=self._worker.edges)
