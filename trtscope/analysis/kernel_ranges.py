"""Kernel -> launching API call -> innermost NVTX range -> engine layer, vectorised.

TensorRT opens one NVTX range per layer on the host thread that enqueues the layer's kernels, so a kernel
belongs to the innermost range *on its launching thread* that contains the host interval of the API call
that launched it (reference §5, §7). Kernels replayed from a CUDA graph were launched by ``cudaGraphLaunch``,
outside any layer range; they are attributed through the graph node's capture-time host interval instead.

Everything here works on whole columns: ranges are sorted once by one composite integer key
(thread, start), each range's parent is found by vectorised pointer jumping, and every launch is placed with
one ``searchsorted`` and then climbs to its first enclosing range. There is no per-kernel Python loop (a
million kernels against two million ranges take about a second); the loops that remain run once per
pointer-jumping round or nesting level, over all unresolved rows at once. The answer is exact for any ranges,
nested or not (start/end ranges and ranges of different domains may cross).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from trtscope.model.intervals import (
    Forest,
    build_forest,
    column,
    int_column,
    nest_ranges,
    range_arrays,
    thread_codes,
    time_span,
)

#: ``range_basis`` values: which host interval a kernel was matched with (or why it was not).
BASIS_LAUNCH = "launch"  # the launching runtime/driver API call
BASIS_GRAPH_CAPTURE = "graph_capture"  # the capture-time creation of its CUDA graph node
BASIS_GRAPH_UNRESOLVED = "graph_unresolved"  # graph replay without node provenance: unattributed
BASIS_GRAPH_LEVEL = "graph_level"  # a whole graph launch traced at graph level (no per-kernel detail)
BASIS_NO_LAUNCH = "no_launch_record"  # no API call (or no thread) recorded for the kernel
_BASES = (BASIS_LAUNCH, BASIS_GRAPH_CAPTURE, BASIS_GRAPH_UNRESOLVED, BASIS_GRAPH_LEVEL, BASIS_NO_LAUNCH)

#: NVTX domain of trtscope's own outer ranges (``iteration 3``): never an engine layer.
TRTSCOPE_DOMAIN = "trtscope"

_MAX_GRAPH_HOPS = 16  # clone chains are short (capture -> instantiate, maybe a cudaGraphClone)




def _innermost(forest: Forest, qthread: np.ndarray, qs: np.ndarray, qe: np.ndarray) -> np.ndarray:
    """Sorted position of the innermost range containing [qs, qe] on the query's thread, or -1."""
    nq = len(qs)
    if nq == 0 or len(forest.skey) == 0:
        return np.full(nq, -1, dtype=np.int64)
    qs2, qe2 = forest.query_keys(qs, qe)
    qkey = qthread * forest.m + qs2
    qorder = np.argsort(qkey)  # sorted needles make searchsorted several times faster
    r = np.empty(nq, dtype=np.int64)
    r[qorder] = np.searchsorted(forest.skey, qkey[qorder], "right") - 1
    ok = (r >= 0) & (qthread >= 0) & (forest.thread[np.maximum(r, 0)] == qthread)
    r = np.where(ok, r, -1)
    # the latest range starting before the call may have ended already: climb to the first container
    active = (r >= 0) & (forest.end2[np.maximum(r, 0)] < qe2)
    while active.any():
        idx = np.nonzero(active)[0]
        up = forest.parent[r[idx]]
        r[idx] = up
        active[idx] = (up >= 0) & (forest.end2[np.maximum(up, 0)] < qe2[idx])
    return r


# --- graph provenance ----------------------------------------------------------------------------------------
def _graph_capture(
    kernels: pd.DataFrame, sel: np.ndarray, graph_nodes: pd.DataFrame | None
) -> tuple[np.ndarray, ...]:
    """For kernel rows ``sel``: (found, pid, tid, start, end) of their graph node's capture-time creation.

    Follows ``graph_node_id -> original_graph_node_id`` to the node that was created by the capture (the
    chain root), as in NVIDIA's ``kernel.graphNodeId -> CGE1 -> CGE2`` join.
    """
    k = len(sel)
    empty = (np.zeros(k, bool), *(np.zeros(k, np.int64) for _ in range(4)))
    if graph_nodes is None or len(graph_nodes) == 0 or k == 0:
        return empty
    g = graph_nodes
    n = len(g)
    gid, gid_ok = int_column(g["graph_node_id"], n)
    orig, orig_ok = int_column(column(g, "original_graph_node_id"), n)
    pid, p_ok = int_column(g["pid"], n)
    tid, t_ok = int_column(g["tid"], n)
    # node ids are looked up per process (like correlation ids, they need not be unique across processes)
    rows_ok = np.nonzero(gid_ok & p_ok)[0]
    index = pd.MultiIndex.from_arrays([pid[rows_ok], gid[rows_ok]])
    if not index.is_unique:  # keep the first creation event per node id
        keep = ~index.duplicated()
        index, rows_ok = index[keep], rows_ok[keep]
    knode, _ = int_column(kernels["graph_node_id"].iloc[sel], k)
    kpid, _ = int_column(column(kernels.iloc[sel], "pid"), k)
    pos = index.get_indexer(pd.MultiIndex.from_arrays([kpid, knode]))
    found = pos >= 0
    row = np.where(found, rows_ok[np.maximum(pos, 0)], -1)
    for _ in range(_MAX_GRAPH_HOPS):
        step = found & orig_ok[np.maximum(row, 0)]
        if not step.any():
            break
        r_step = row[step]
        nxt = index.get_indexer(pd.MultiIndex.from_arrays([pid[r_step], orig[r_step]]))
        moved = nxt >= 0
        idx = np.nonzero(step)[0][moved]
        if len(idx) == 0:
            break
        row[idx] = rows_ok[nxt[moved]]
    start, s_ok = int_column(g["start_ns"], n)
    end, e_ok = int_column(g["end_ns"], n)
    r = np.maximum(row, 0)
    found = found & s_ok[r] & p_ok[r] & t_ok[r]
    return found, pid[r], tid[r], start[r], np.where(e_ok[r], end[r], start[r])


# --- public API ----------------------------------------------------------------------------------------------
def assign_ranges(
    kernels: pd.DataFrame, ranges: pd.DataFrame, graph_nodes: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Fill ``nvtx_range_id`` / ``nvtx_range`` with the innermost NVTX range enclosing each kernel's launch.

    The range must be on the launching thread (same pid and tid) and contain the launching API call's host
    interval ``[api_start_ns, api_end_ns]``. Kernels from CUDA-graph replays (``graph_node_id`` set) use
    their node's capture-time interval from ``graph_nodes`` (:data:`GRAPH_NODE_COLUMNS`) and are left
    unattributed without it. Adds ``range_basis`` (see the ``BASIS_*`` constants). Returns a new frame.
    """
    out = kernels.copy(deep=False)
    n = len(out)
    api_s, api_s_ok = int_column(column(out, "api_start_ns"), n)
    api_e, api_e_ok = int_column(column(out, "api_end_ns"), n)
    api_e = np.where(api_e_ok, np.maximum(api_e, api_s), api_s)
    kpid = int_column(column(out, "pid"), n)
    ktid = int_column(column(out, "tid"), n)
    gnode, gnode_ok = int_column(column(out, "graph_node_id"), n)
    graph_level = (
        np.asarray(out["graph_level"].fillna(False), dtype=bool) if "graph_level" in out else np.zeros(n, bool)
    )
    is_graph_kernel = gnode_ok & (gnode != 0) & ~graph_level

    basis = np.full(n, _BASES.index(BASIS_NO_LAUNCH), dtype=np.int8)
    launch_ok = api_s_ok & kpid[1] & ktid[1]
    basis[launch_ok & ~is_graph_kernel] = _BASES.index(BASIS_LAUNCH)
    basis[launch_ok & graph_level] = _BASES.index(BASIS_GRAPH_LEVEL)
    basis[is_graph_kernel] = _BASES.index(BASIS_GRAPH_UNRESOLVED)

    qs, qe = api_s.copy(), api_e.copy()
    qpid, qtid = kpid[0].copy(), ktid[0].copy()
    q_ok = launch_ok & ~is_graph_kernel
    gsel = np.nonzero(is_graph_kernel)[0]
    if len(gsel):
        found, gp, gt, gs, ge = _graph_capture(out, gsel, graph_nodes)
        hit = gsel[found]
        qs[hit], qe[hit], qpid[hit], qtid[hit] = gs[found], ge[found], gp[found], gt[found]
        q_ok[hit] = True
        basis[hit] = _BASES.index(BASIS_GRAPH_CAPTURE)

    r_start, r_s_ok, r_end, r_e_ok, rpid, rtid = range_arrays(ranges)
    ones = np.ones(n, dtype=bool)
    rthread, qthread = thread_codes([rpid, (qpid, ones)], [rtid, (qtid, ones)])
    qthread = np.where(q_ok, qthread, -1)
    use = np.nonzero(r_s_ok & (rthread >= 0))[0]
    t0, t1 = time_span([r_start[use], r_end[use][r_e_ok[use]], qs[q_ok], qe[q_ok]])
    forest = build_forest(rthread[use], r_start[use], r_end[use], r_e_ok[use], t0, t1)
    pos = _innermost(forest, qthread, qs, qe)

    hit = pos >= 0
    row = np.full(n, -1, dtype=np.int64)
    row[hit] = use[forest.order[pos[hit]]]
    ids, _ = int_column(column(ranges, "range_id"), len(ranges))
    rid = pd.array(ids[np.maximum(row, 0)] if len(ids) else np.zeros(n, np.int64), dtype="Int64")
    rid[~hit] = pd.NA
    out["nvtx_range_id"] = rid
    out["nvtx_range"] = _take_text(column(ranges, "name"), row, out.index)
    out["nvtx_domain"] = _take_text(column(ranges, "domain"), row, out.index)
    out["range_basis"] = pd.Series(
        pd.Categorical.from_codes(basis.astype(np.int64), categories=pd.Index(list(_BASES))), index=out.index
    )
    return out


def _take_text(names: pd.Series | None, row: np.ndarray, index: pd.Index) -> pd.Series:
    """Range texts at ``row`` (-1 -> missing), without a Python loop over strings."""
    if names is None or len(names) == 0:
        return pd.Series([None] * len(row), index=index, dtype=object)
    return pd.Series(names.array.take(row, allow_fill=True), index=index)


# --- layers --------------------------------------------------------------------------------------------------
class LayerMatcher:
    """Maps NVTX range text to an engine layer name.

    Exact bytes first (LAYER_NAMES_ONLY ranges are the layer names). DETAILED-verbosity text has an
    unconfirmed format, so then: a JSON object's ``Name``, the longest layer name the text starts with, and
    finally the longest layer name the text contains. A name only matches as a whole run of tokens (word runs
    and single other characters): layer ``3`` is not found in ``0x3f`` or ``32``, nor ``conv2`` in
    ``conv2_bn``. Names go into a token trie, so a text costs about one dictionary step per token however
    many layers share a prefix (20,000 ``/model/block.N/...`` names are common).
    """

    def __init__(self, layer_names: Iterable[str]) -> None:
        self.names = {str(x) for x in layer_names if x is not None and str(x) != ""}
        self.trie: dict[str, Any] = {}
        for name in self.names:
            node = self.trie
            for tok in _TOKENS.findall(name):
                node = node.setdefault(tok, {})
            node[_END] = name

    def match(self, text: str) -> str | None:
        if not self.names or not isinstance(text, str) or not text:
            return None
        if text in self.names:
            return text
        named = _json_name(text)
        if named is not None and named in self.names:
            return named
        toks = _TOKENS.findall(text)
        best = self._longest_at(toks, 0)  # the text starts with a layer name
        if best is not None:
            return best
        for p in range(1, len(toks)):
            found = self._longest_at(toks, p)
            if found is not None and (best is None or len(found) > len(best)):
                best = found
        return best

    def _longest_at(self, toks: list[str], p: int) -> str | None:
        node: dict[str, Any] = self.trie
        best: str | None = None
        for tok in toks[p:]:
            nxt = node.get(tok)
            if nxt is None:
                break
            node = nxt
            best = node.get(_END, best)
        return best

    def map_texts(self, texts: Iterable[Any]) -> dict[Any, str | None]:
        return {t: self.match(t) for t in texts}


_TOKENS = re.compile(r"\w+|\W", re.DOTALL)
_END = "\x00end"  # trie key that no token equals (tokens of one non-word character are a single char)


def _json_name(text: str) -> str | None:
    if not text.startswith("{"):
        return None
    try:
        doc = json.loads(text, strict=False)
    except ValueError:
        return None
    if isinstance(doc, dict):
        for key in ("Name", "name", "LayerName", "layerName"):
            if isinstance(doc.get(key), str):
                return str(doc[key])
    return None


def assign_layers(
    kernels: pd.DataFrame, layer_names: Iterable[str] | LayerMatcher, ranges: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Fill ``layer_name``: the innermost enclosing range that names an engine layer (see LayerMatcher).

    With ``ranges`` (the NVTX table the kernels were assigned against) the enclosing ranges are climbed from
    the innermost one, so a cuBLAS/cuDNN range inside a layer range still yields the layer, and ranges of
    trtscope's own domain are skipped. Without it only the innermost range's text is tested. Graph-level
    rows (whole graph launches) never get a layer. Returns a new frame.
    """
    out = kernels.copy(deep=False)
    n = len(out)
    matcher = layer_names if isinstance(layer_names, LayerMatcher) else LayerMatcher(layer_names)
    layer: np.ndarray = np.full(n, None, dtype=object)
    rid, rid_ok = int_column(column(out, "nvtx_range_id"), n)
    if "range_basis" in out:
        rid_ok = rid_ok & np.asarray(out["range_basis"] != BASIS_GRAPH_LEVEL, dtype=bool)
    elif "graph_level" in out:
        rid_ok = rid_ok & ~np.asarray(out["graph_level"].fillna(False), dtype=bool)
    if ranges is None or len(ranges) == 0:
        texts = column(out, "nvtx_range")
        if texts is not None:
            if "nvtx_domain" in out:
                rid_ok = rid_ok & np.asarray(out["nvtx_domain"] != TRTSCOPE_DOMAIN, dtype=bool)
            uniq = pd.unique(texts[rid_ok])
            mapping = matcher.map_texts(uniq)
            layer = _objects(texts.map(mapping))
            layer[~rid_ok] = None
    else:
        if "parent_id" not in ranges or ranges["parent_id"].isna().all():
            ranges = nest_ranges(ranges)
        m = len(ranges)
        ids, _ = int_column(ranges["range_id"], m)
        index = pd.Index(ids)
        parent_ids, p_ok = int_column(ranges["parent_id"], m)
        parent = np.where(p_ok, index.get_indexer(parent_ids), -1)
        names = ranges["name"]
        domain = column(ranges, "domain")
        excluded = np.zeros(m, bool) if domain is None else np.asarray(domain == TRTSCOPE_DOMAIN, dtype=bool)
        excluded = excluded | np.asarray(names.isna(), dtype=bool)
        uniq = pd.unique(names[~excluded])
        mapping = matcher.map_texts(uniq)
        named = _objects(names.map(mapping))
        named[excluded] = None
        # climb from each kernel's innermost range to the first one that names a layer
        cur = np.where(rid_ok, index.get_indexer(rid), -1)
        active = cur >= 0
        while active.any():
            idx = np.nonzero(active)[0]
            got = named[cur[idx]]
            hit = np.asarray(pd.notna(got), dtype=bool)
            layer[idx[hit]] = got[hit]
            rest = idx[~hit]
            up = parent[cur[rest]]
            cur[rest] = up
            active[idx] = False
            active[rest] = up >= 0
    out["layer_name"] = pd.Series(layer, index=out.index, dtype=object)
    return out


def _objects(s: pd.Series) -> np.ndarray:
    """Values as an object array with None (not NaN / NA) for missing ones."""
    a = np.array(s.to_numpy(dtype=object), dtype=object)
    a[np.asarray(pd.isna(a), dtype=bool)] = None
    return a


def attribution_counts(kernels: pd.DataFrame) -> dict[str, int]:
    """Counts a report or manifest shows: kernels, inside a range, on a layer, graph-level launches."""
    n = len(kernels)
    gl = (
        np.asarray(kernels["graph_level"].fillna(False), dtype=bool) if "graph_level" in kernels else np.zeros(n, bool)
    )
    k = ~gl
    start, _ = int_column(column(kernels, "start_ns"), n)
    end, _ = int_column(column(kernels, "end_ns"), n)
    dur = np.maximum(end - start, 0)
    in_range = ~np.asarray(kernels["nvtx_range_id"].isna(), dtype=bool) if "nvtx_range_id" in kernels else k & False
    on_layer = ~np.asarray(kernels["layer_name"].isna(), dtype=bool) if "layer_name" in kernels else k & False
    basis = kernels["range_basis"] if "range_basis" in kernels else pd.Series([None] * n, dtype=object)
    graph_kernel = np.asarray(basis.isin([BASIS_GRAPH_CAPTURE, BASIS_GRAPH_UNRESOLVED]), dtype=bool)
    unresolved = np.asarray(basis == BASIS_GRAPH_UNRESOLVED, dtype=bool)
    return {
        "kernels": int(k.sum()),
        "kernels_in_range": int((k & in_range).sum()),
        "kernels_on_layer": int((k & on_layer).sum()),
        "kernels_from_graphs": int((k & graph_kernel).sum()),
        "kernels_graph_unattributed": int((k & unresolved).sum()),
        "kernel_gpu_ns": int(dur[k].sum()),
        "graph_level_launches": int(gl.sum()),
        "graph_level_gpu_ns": int(dur[gl].sum()),
    }


def map_kernels(
    kernels: pd.DataFrame,
    ranges: pd.DataFrame,
    *,
    graph_nodes: pd.DataFrame | None = None,
    layer_names: Iterable[str] | None = None,
) -> pd.DataFrame:
    """:func:`assign_ranges` then (with layer names) :func:`assign_layers`: the whole kernel attribution."""
    out = assign_ranges(kernels, ranges, graph_nodes)
    if layer_names is not None:
        out = assign_layers(out, layer_names, ranges)
    return out
