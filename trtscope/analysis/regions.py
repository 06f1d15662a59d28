"""ONNX nodes a Myelin region absorbed: inside the region, yet named by none of its layers.

TensorRT hands whole subgraphs to Myelin (8.x: one opaque ``{ForeignNode[first...last]}`` layer; 10+: the
region expanded into many ``_myl`` layers whose ``Metadata`` names the nodes each kernel runs). Nodes the region
took in but no layer names — reshapes folded into a GEMM's strides, glue the compiler rewrote — are neither
folded (the region does run their work, or made it unnecessary) nor unfused. Two sources say which they are:

* the builder's own listing (a verbose build log's ``ForeignNode {ForeignNode[…]} metadata: […]`` line names
  every ONNX node of the region);
* the region's range in the ONNX graph: nodes on a path between two of the region's named nodes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from trtscope.analysis.graph_walk import GraphWalk


def absorbed_nodes(
    graph: GraphWalk | None,
    node_id: Mapping[str, int],
    live: np.ndarray,
    layer_ix: np.ndarray,
    node_ix: np.ndarray,
    regions: Sequence[str | None],
    listings: Mapping[str, list[str]],
) -> dict[int, str]:
    """Node number -> why it counts as absorbed, for nodes in no running layer (``live`` False).

    ``layer_ix`` / ``node_ix`` are the mapping rows; ``regions[i]`` is layer i's Myelin region (None outside
    any); ``listings`` maps a region's name to the nodes the builder listed for it. Node numbers come from
    ``node_id`` (names not in it are ignored: the caller registers listed names first).
    """
    out: dict[int, str] = {}
    for region, names in listings.items():
        for n in names:
            j = node_id.get(n)
            if j is not None and j < len(live) and not live[j] and j not in out:
                out[j] = f"in Myelin region {region} (the builder's listing), named by no layer"
    if graph is None or not len(node_ix):
        return out
    n_graph = len(graph.names)
    region_of_row = np.asarray(regions, dtype=object)[layer_ix]
    in_region = np.asarray([r is not None for r in region_of_row.tolist()], dtype=bool) & (node_ix < n_graph)
    if not in_region.any():
        return out
    seeds: dict[str, set[int]] = {}
    for r, j in zip(region_of_row[in_region].tolist(), node_ix[in_region].tolist(), strict=True):
        seeds.setdefault(r, set()).add(j)
    # only nodes in no running layer can be absorbed: skip regions whose index window holds none (no edges read)
    idle = np.flatnonzero(~live[:n_graph])
    for r, s in seeds.items():
        lo, hi = min(s), max(s)
        if hi - lo < 2 or np.searchsorted(idle, hi) <= np.searchsorted(idle, lo, side="right"):
            continue
        for j in sorted(graph.hull(s)):
            if not live[j] and j not in out:
                out[j] = f"on a graph path inside Myelin region {r}, named by no layer"
    return out
