"""ONNX nodes a Myelin region absorbed: inside the region, yet named by none of its layers.

TensorRT hands whole subgraphs to Myelin (8.x: one opaque ``{ForeignNode[first...last]}`` layer; 10+: the
region expanded into many ``_myl`` layers whose ``Metadata`` names the nodes each kernel runs). Nodes the region
took in but no layer names — reshapes folded into a GEMM's strides, glue the compiler rewrote — are neither
folded (the region does run their work, or made it unnecessary) nor unfused. Two sources say which they are:

* the builder's own listing (a verbose build log's ``ForeignNode {ForeignNode[…]} metadata: […]`` line names
  every ONNX node of the region);
* the region's range in the graph: nodes that sit, in the graph's topological node order, between two nodes the
  same region's layers name, with only nodes no layer runs between them. Constants there are not counted (they
  are folded, not absorbed).

The range rule reads only the node order (no tensor edges), so it costs a few vectorised passes even on a
100,000-node graph; valid ONNX graphs list nodes in topological order, and exporters emit a module's nodes
together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from trtscope.model.vocabulary import NodeClass


def absorbed_nodes(
    n_graph: int,
    node_id: Mapping[str, int],
    live: np.ndarray,
    node_classes: Sequence[str],
    layer_ix: np.ndarray,
    node_ix: np.ndarray,
    regions: Sequence[str | None],
    listings: Mapping[str, list[str]],
) -> dict[int, str]:
    """Node number -> why it counts as absorbed, for nodes in no running layer (``live`` False).

    ``n_graph`` nodes come from the ONNX graph (numbers ``0..n_graph-1`` in graph order); ``layer_ix`` /
    ``node_ix`` are the mapping rows; ``regions[i]`` is layer i's Myelin region (None outside any);
    ``listings`` maps a region's name to the nodes the builder listed for it (names not in ``node_id`` are
    ignored: the caller registers listed names first).
    """
    out: dict[int, str] = {}
    for region, names in listings.items():
        for n in names:
            j = node_id.get(n)
            if j is not None and j < len(live) and not live[j] and j not in out:
                out[j] = f"in Myelin region {region} (the builder's listing), named by no layer"
    if not n_graph or not len(node_ix):
        return out
    # regions numbered per layer (not per mapping row: 5x fewer names to hash), -1 outside any region
    layer_region, uniques = pd.factorize(pd.Series(list(regions), dtype=object), use_na_sentinel=True)
    region_of_row = layer_region[layer_ix]
    named = (region_of_row >= 0) & (node_ix < n_graph) & live[node_ix]
    if not named.any():
        return out
    # label per graph node: region code + 1 where a region's layer runs it, -1 where another layer runs it,
    # NaN where no layer runs it (those take the labels of their neighbours in graph order)
    label = np.where(live[:n_graph], -1.0, np.nan)
    label[node_ix[named]] = region_of_row[named] + 1.0
    series = pd.Series(label)
    before, after = series.ffill().to_numpy(), series.bfill().to_numpy()
    idle = ~live[:n_graph]
    constant = np.asarray(node_classes[:n_graph], dtype=object) == NodeClass.CONSTANT.value
    inside = idle & ~constant & (before == after) & (before > 0)
    names = list(uniques)
    for j, code in zip(np.flatnonzero(inside).tolist(), before[inside].astype(np.int64).tolist(), strict=True):
        if j not in out:
            out[j] = f"between nodes of Myelin region {names[code - 1]} in graph order, named by no layer"
    return out
