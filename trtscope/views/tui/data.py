"""The TUI's view-model: the tables its screens show, derived from an Analysis with vectorised pandas.

Pure functions (no Textual, no I/O) so that a 20,000-layer / 100,000-node input stays interactive and every
figure a screen shows can be checked without a terminal. Screens call these lazily, when first shown.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trtscope.analysis.session import Analysis
from trtscope.model.vocabulary import NodeClass, NodeStatus
from trtscope.presentation.labels import UNFUSED_MARK, kind_label, reformat_label, status_label

#: Marker for an unfused compute node/layer, so the UI never relies on colour alone (NO_COLOR, light theme).
UNFUSED = UNFUSED_MARK

#: ``field:value`` search terms per table: field -> column compared case-insensitively and exactly.
LAYER_FIELDS = {"kind": "kind", "type": "type", "prec": "precision"}
FUSION_FIELDS = {"op": "op_type", "kind": "kind"}
KERNEL_FIELDS = {"layer": "layer_name", "range": "nvtx_range"}


# --- helpers -----------------------------------------------------------------------------------------------------
def table(columns: dict[str, Any]) -> pd.DataFrame:
    """A DataFrame that keeps text columns as Python objects (pandas 3 would infer Arrow strings, whose
    element access from Python, which the table rendering does, is several times slower)."""
    out = {}
    for k, v in columns.items():
        arr = np.asarray(v)
        out[k] = pd.Series(arr, dtype=object) if arr.dtype == object or arr.dtype.kind in "US" else arr
    return pd.DataFrame(out)


def _objects(s: pd.Series) -> np.ndarray:
    return s.to_numpy(dtype=object)


# --- search --------------------------------------------------------------------------------------------------
def haystack(*columns: pd.Series) -> pd.Series:
    """One lower-cased text per row to search in (columns joined by newlines, missing values as empty)."""
    out: pd.Series | None = None
    for c in columns:
        s = c.astype(object).where(c.notna(), "").astype(str)
        out = s if out is None else out + "\n" + s
    assert out is not None
    return out.str.lower()


def search_mask(query: str, hay: pd.Series, fields: dict[str, pd.Series] | None = None) -> np.ndarray | None:
    """Rows matching every term of ``query`` (None for an empty query: no filter).

    A plain term matches a substring of ``hay``; ``field:value`` matches one column exactly (case-insensitive),
    where ``fields`` names the columns; a term with an unknown field is searched as plain text.
    """
    terms = query.lower().split()
    if not terms:
        return None
    mask = np.ones(len(hay), dtype=bool)
    for term in terms:
        field, sep, value = term.partition(":")
        if sep and fields and field in fields and value:
            col = fields[field]
            mask &= col.astype(object).where(col.notna(), "").astype(str).str.lower().eq(value).to_numpy()
        else:
            mask &= hay.str.contains(term, regex=False).to_numpy(dtype=bool)
    return mask


# --- layers --------------------------------------------------------------------------------------------------
def unfused_layer_mask(a: Analysis) -> np.ndarray:
    """Layers whose anchor is an unfused compute node (the analysis' unfused hotspots), in ``a.layers`` order."""
    return a.layers["index"].isin(a.unfused_hotspots["index"]).to_numpy(dtype=bool)


def kind_labels(kinds: pd.Series, unfused: np.ndarray, in_myelin: pd.Series | None = None) -> np.ndarray:
    """Human layer kinds (", Myelin" inside a Myelin region), with the unfused marker where the layer is an
    unfused hotspot."""
    myelin = in_myelin.to_numpy(dtype=bool) if in_myelin is not None else np.zeros(len(kinds), dtype=bool)
    labels = np.array([kind_label(k, m) for k, m in zip(_objects(kinds), myelin, strict=True)], dtype=object)
    labels[unfused] = labels[unfused] + f" {UNFUSED} unfused"
    return labels


def layer_labels(a: Analysis) -> np.ndarray:
    """What a layer is called on screen: its name, except reformat layers, which read as the console report
    shows them (``input 0 → Conv_5 + Add_6``: TensorRT's own ``Reformatting CopyNode for Input Tensor 0 to
    Conv_5 + Add_6`` says the same in twice the width). In ``a.layers`` order."""
    L = a.layers
    labels = _objects(L["name"]).copy()
    ref = a.reformat_layers
    if len(ref):
        at = pd.Index(L["index"].to_numpy()).get_indexer(ref["index"].to_numpy())
        text = np.array([reformat_label(r) for r in ref.itertuples(index=False)], dtype=object)
        labels[at[at >= 0]] = text[at >= 0]
    return labels


def layers_frame(a: Analysis) -> pd.DataFrame:
    """Every engine layer with what the Layers screen shows and sorts on (raw values; formatting is lazy).
    ``label`` is :func:`layer_labels`, ``name`` the full name (status line, copy, export)."""
    L = a.layers
    unfused = unfused_layer_mask(a)
    return table(
        {
            "index": L["index"].to_numpy(),
            "label": layer_labels(a),
            "name": _objects(L["name"]),
            "kind": _objects(L["kind"]),
            "kind_label": kind_labels(L["kind"], unfused, L["in_myelin"]),
            "in_myelin": L["in_myelin"].to_numpy(dtype=bool),
            "mean_ms": L["mean_ms"].to_numpy(dtype=float),
            "median_ms": L["median_ms"].to_numpy(dtype=float),
            "share": L["share"].to_numpy(dtype=float),
            "onnx_nodes": _objects(L["onnx_nodes"]),
            "n_onnx_nodes": L["n_onnx_nodes"].to_numpy(),
            "type": _objects(L["type"]),
            "precision": _objects(L["precision"]),
            "tactic": _objects(L["tactic"]),
            "unfused": unfused,
            # per-layer kernel time of a capture (the analysis adds these columns when kernels exist)
            "kernel_count": L["kernel_count"].to_numpy(dtype=float) if "kernel_count" in L else np.nan,
            "kernel_ms_per_run": L["kernel_ms_per_run"].to_numpy(dtype=float) if "kernel_ms_per_run" in L
            else np.nan,
        }
    )


def layers_haystack(frame: pd.DataFrame) -> pd.Series:
    nodes = pd.Series([" ".join(map(str, n)) if isinstance(n, (list, tuple)) else "" for n in frame["onnx_nodes"]])
    return haystack(frame["name"], frame["label"], frame["type"], frame["kind_label"], frame["precision"],
                    frame["tactic"], nodes)


# --- fusion groups -------------------------------------------------------------------------------------------
def unfused_node_mask(nodes: pd.DataFrame) -> np.ndarray:
    """Compute nodes with status unfused (the coverage definition)."""
    return (_objects(nodes["node_class"]) == NodeClass.COMPUTE) & (_objects(nodes["status"]) == NodeStatus.UNFUSED)


def node_status_text(nodes: pd.DataFrame) -> np.ndarray:
    """What became of each node, in words (the status, ", Myelin" inside a Myelin region, "(not compute)" for
    nodes outside coverage); unfused compute nodes carry the marker."""
    status, cls = _objects(nodes["status"]), _objects(nodes["node_class"])
    myelin = nodes["in_myelin"].to_numpy(dtype=bool)
    text = np.array([status_label(s, c) for s, c in zip(status, cls, strict=True)], dtype=object)
    running = (status == NodeStatus.FUSED) | (status == NodeStatus.UNFUSED)
    text[myelin & running] = text[myelin & running] + ", Myelin"
    lone = (cls != NodeClass.COMPUTE) & running
    text[lone] = text[lone] + " (not compute)"
    return text


def fusion_frame(a: Analysis) -> pd.DataFrame:
    """ONNX nodes grouped under the engine layer they went into: one header row per layer, then its nodes.

    A node spread over several (Myelin) layers appears under each. Nodes in no layer (folded or eliminated)
    form a last group with ``layer_index`` -1. Columns: row_kind ("layer"/"node"), layer_index, layer_name,
    node_name, label, layer_no (the layer index on layer rows), tree (the ├/└ glyph of node rows), op_type,
    kind, what, status, ms, share, unfused, group_ms, group_n (the layer's ONNX node count), sub, group_end.
    Built with numpy arrays (one DataFrame at the end): 100,000 nodes take a fraction of a second.
    """
    nodes = a.onnx_nodes.drop_duplicates("name")
    total = a.summary.total_ms or np.nan
    n_name = _objects(nodes["name"])
    n_op, n_status = _objects(nodes["op_type"]), node_status_text(nodes)
    n_unfused, n_ms = unfused_node_mask(nodes), nodes["derived_ms"].to_numpy(dtype=float)

    m_layer = a.mapping["layer_index"].to_numpy(dtype=np.int64)
    m_node = _objects(a.mapping["node_name"])
    at = pd.Index(n_name).get_indexer(m_node)  # -1: a mapped name missing from the node table
    ok = at >= 0
    in_layer = np.zeros(len(n_name), dtype=bool)
    in_layer[at[ok]] = True
    absent = np.flatnonzero(~in_layer)

    L = a.layers
    l_index = L["index"].to_numpy(dtype=np.int64)
    grouped = np.isin(l_index, m_layer)
    g_index, g_name = l_index[grouped], _objects(L["name"])[grouped]
    g_kind, g_ms = _objects(L["kind"])[grouped], L["mean_ms"].to_numpy(dtype=float)[grouped]
    g_unfused = unfused_layer_mask(a)[grouped]
    g_n = L["n_onnx_nodes"].to_numpy()[grouped]
    g_status = np.array([f"{n} node{'s' if n != 1 else ''}" for n in g_n], dtype=object)
    g_status[g_unfused] = f"{UNFUSED} single-node layer"
    g_what = np.array([kind_label(k, m) for k, m in zip(g_kind, L["in_myelin"].to_numpy(dtype=bool)[grouped],
                                                        strict=True)], dtype=object)
    g_label = g_name.copy()
    group_at = pd.Index(g_index)  # layer index -> its position among the grouped layers

    def of_group(values: np.ndarray, layers: np.ndarray, missing: Any) -> np.ndarray:
        at = group_at.get_indexer(layers)
        out = np.where(at >= 0, values[np.maximum(at, 0)] if len(values) else missing, missing)
        return np.asarray(out, dtype=values.dtype)

    # node rows: mapped ones, then the absent group (layer -1)
    r_layer = np.concatenate([m_layer[ok], np.full(len(absent), -1, dtype=np.int64)])
    r_node = np.concatenate([at[ok], absent])
    n_rows, n_layers = len(r_node), len(g_index) + (1 if len(absent) else 0)
    kind = np.concatenate([np.full(n_layers, "layer", dtype=object), np.full(n_rows, "node", dtype=object)])
    layer_index = np.concatenate([g_index, [-1] * (len(absent) > 0), r_layer]).astype(np.int64)
    sub = np.concatenate([np.zeros(n_layers, dtype=np.int64), np.arange(1, n_rows + 1)])
    n_absorbed = int((_objects(nodes["status"])[absent] == NodeStatus.ABSORBED).sum())
    absent_label = [f"(in no engine layer: {n_absorbed:,} absorbed by Myelin, {len(absent) - n_absorbed:,} folded)"] \
        if len(absent) else []
    absent_status = [f"{len(absent)} nodes"] if len(absent) else []
    empty = [None] * len(absent_label)
    cols: dict[str, Any] = {
        "row_kind": kind,
        "layer_index": layer_index,
        "layer_name": np.concatenate([g_name, empty, of_group(g_name, r_layer, None)]),
        "node_name": np.concatenate([np.full(n_layers, None, dtype=object), n_name[r_node]]),
        "label": np.concatenate([g_label, absent_label, n_name[r_node]]),
        "op_type": np.concatenate([np.full(n_layers, None, dtype=object), n_op[r_node]]),
        "kind": np.concatenate([g_kind, empty, np.full(n_rows, None, dtype=object)]),
        "what": np.concatenate([g_what, [""] * len(absent_label), n_op[r_node]]),
        "status": np.concatenate([g_status, absent_status, n_status[r_node]]),
        "ms": np.concatenate([g_ms, [np.nan] * len(absent_label), n_ms[r_node]]),
        "unfused": np.concatenate([g_unfused, [False] * len(absent_label), n_unfused[r_node]]).astype(bool),
        "sub": sub,
    }
    group_end = layer_index == -1
    order = np.lexsort((sub, layer_index, group_end))
    cols = {k: np.asarray(v, dtype=object if np.asarray(v).dtype.kind in "OUS" else None)[order]
            for k, v in cols.items()}
    is_node = cols["row_kind"] == "node"
    li = cols["layer_index"]
    nxt_same = np.zeros(len(li), dtype=bool)
    nxt_same[:-1] = (li[1:] == li[:-1]) & is_node[1:]
    glyph = np.where(nxt_same, " ├", " └").astype(object)
    cols["tree"] = np.where(is_node, glyph, "").astype(object)
    cols["layer_no"] = np.where(is_node | (np.asarray(li) < 0), None, li)  # "#" on layer rows only
    cols["share"] = cols["ms"].astype(float) / total
    cols["ms"] = cols["ms"].astype(float)
    cols["group_ms"] = of_group(g_ms, li, np.nan)
    cols["group_n"] = of_group(g_n.astype(float), li, np.nan)
    cols["group_end"] = li == -1
    return table(cols)


#: Orders of the Fusion screen: groups stay whole (a layer row, then its nodes), sorted by one of the layer's
#: own figures. key -> (label, frame column, descending first).
FUSION_ORDERS: dict[str, tuple[str, str, bool]] = {
    "time": ("layer time", "group_ms", True),
    "name": ("layer name", "layer_name", False),
    "nodes": ("ONNX nodes per layer", "group_n", True),
}


def fusion_order(frame: pd.DataFrame, by: str | bool | None, descending: bool | None = None) -> np.ndarray:
    """Row order: engine order (``by`` None/False), or the groups sorted by a :data:`FUSION_ORDERS` key (True
    means ``"time"``: slowest layers first), nodes kept under their layer and folded nodes last."""
    if not by:
        return np.arange(len(frame))
    key = "time" if by is True else str(by)
    _, column, first = FUSION_ORDERS[key]
    desc = first if descending is None else descending
    values = frame[column]
    if column == "layer_name":
        text = values.astype(object).where(values.notna(), "").astype(str).str.lower()
        rank = pd.Series(text).rank(method="dense").to_numpy()
        key_values = -rank if desc else rank
    else:
        v = values.to_numpy(dtype=float)
        key_values = np.where(np.isnan(v), np.inf, -v if desc else v)
    return np.lexsort((frame["sub"].to_numpy(), frame["layer_index"].to_numpy(), key_values,
                       frame["group_end"].to_numpy()))


def fusion_haystack(frame: pd.DataFrame) -> pd.Series:
    text = frame["node_name"].where(frame["row_kind"].eq("node"), frame["layer_name"])
    return haystack(text, frame["op_type"], frame["kind"])


def fusion_mask(frame: pd.DataFrame, hay: pd.Series | None, query: str, unfused_only: bool) -> np.ndarray | None:
    """Nodes matching ``query`` (node name, op type, ``op:TYPE``) with their layer rows. A layer whose own
    name matches while none of its nodes do (``__myl_MulSum...``) is shown whole. ``unfused_only`` keeps only
    unfused compute nodes."""
    node = frame["row_kind"].eq("node").to_numpy()
    hit = None
    if query.strip():
        assert hay is not None
        fields = {k: frame[v] for k, v in FUSION_FIELDS.items()}
        hit = search_mask(query, hay, fields)
    if hit is None and not unfused_only:
        return None
    if hit is None:
        hit = np.ones(len(frame), dtype=bool)
    layer_idx = frame["layer_index"].to_numpy()
    node_hit = hit & node
    if unfused_only:
        node_hit &= frame["unfused"].to_numpy(dtype=bool)
    groups = np.unique(layer_idx[node_hit])
    whole = np.zeros(len(frame), dtype=bool)
    if not unfused_only:
        whole_groups = np.setdiff1d(layer_idx[hit & ~node], groups)
        whole = np.isin(layer_idx, whole_groups)
    return node_hit | whole | (~node & np.isin(layer_idx, groups))


# --- layer detail --------------------------------------------------------------------------------------------
def layer_row(a: Analysis, index: int) -> pd.Series:
    rows = a.layers[a.layers["index"].eq(index)]
    if rows.empty:
        raise KeyError(f"no layer with index {index}")
    return rows.iloc[0]


def layer_nodes(a: Analysis, index: int) -> pd.DataFrame:
    """The ONNX nodes of one layer, in the layer's order: name, op_type, status, unfused, ms, n_layers."""
    names = _objects(a.mapping.loc[a.mapping["layer_index"].eq(index), "node_name"])
    nodes = a.onnx_nodes[a.onnx_nodes["name"].isin(names)].drop_duplicates("name")  # a few rows of 100,000
    at = pd.Index(_objects(nodes["name"])).get_indexer(names)
    sub = nodes.iloc[at[at >= 0]]
    known = at >= 0
    status = np.full(len(names), "", dtype=object)
    unfused = np.zeros(len(names), dtype=bool)
    op = np.full(len(names), None, dtype=object)
    ms_ = np.full(len(names), np.nan)
    n_layers = np.zeros(len(names), dtype=np.int64)
    status[known], unfused[known] = node_status_text(sub), unfused_node_mask(sub)
    op[known], ms_[known] = _objects(sub["op_type"]), sub["derived_ms"].to_numpy(dtype=float)
    n_layers[known] = sub["n_layers"].to_numpy()
    return table({"name": names, "op_type": op, "status": status, "unfused": unfused, "ms": ms_,
                  "n_layers": n_layers})


def layer_tensor_frame(a: Analysis, index: int) -> pd.DataFrame:
    t = a.layer_tensors(index)
    cols = ["direction", "name", "dimensions", "format", "dtype", "location", "strides"]
    if t.empty:
        return pd.DataFrame(columns=cols)
    order = t["direction"].map({"input": 0, "output": 1, "constant": 2}).fillna(3)
    t = t.assign(_o=order).sort_values(["_o", "position"], kind="stable")
    return t[cols].reset_index(drop=True)


def _int_ns(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)


def layer_kernels(a: Analysis, index: int, name: str) -> pd.DataFrame:
    """Kernels the analysis attributed to the layer (its ``layer_index``; by layer name for kernel tables
    without one), in start order, with durations in µs."""
    k = a.kernels
    cols = ["start_ns", "end_ns", "duration_us", "name", "grid", "block", "stream_id", "device_id"]
    if k.empty or not ({"layer_index", "layer_name"} & set(k.columns)):
        return pd.DataFrame(columns=cols)
    sel = k[k["layer_index"].eq(index).fillna(False).astype(bool)] if "layer_index" in k.columns \
        else k[k["layer_name"].eq(name)]
    if sel.empty:
        return pd.DataFrame(columns=cols)
    sel = sel.sort_values("start_ns", kind="stable")

    def dims(prefix: str) -> list[str]:
        parts = [sel[f"{prefix}_{c}"].astype(object).where(sel[f"{prefix}_{c}"].notna(), "?").astype(str)
                 for c in "xyz"]
        return (parts[0] + "×" + parts[1] + "×" + parts[2]).tolist()

    return table(
        {
            "start_ns": sel["start_ns"].to_numpy(),
            "end_ns": sel["end_ns"].to_numpy(),
            "duration_us": (_int_ns(sel["end_ns"]) - _int_ns(sel["start_ns"])) / 1e3,
            "name": sel["name"].to_numpy(dtype=object),
            "grid": dims("grid"),
            "block": dims("block"),
            "stream_id": sel["stream_id"].to_numpy(),
            "device_id": sel["device_id"].to_numpy(),
        }
    )


# --- kernels ------------------------------------------------------------------------------------------------
#: Groupings of the Kernels screen: key -> label.
KERNEL_GROUPINGS: dict[str, str] = {
    "launch": "kernel × layer × NVTX range",
    "kernel": "kernel (across layers)",
    "layer": "layer",
}


def _layer_label_of(a: Analysis, index: pd.Series, name: pd.Series) -> np.ndarray:
    """The on-screen label of each row's layer (``layer_labels``), its raw name where the layer information
    does not list it."""
    labels = pd.Series(layer_labels(a), index=a.layers["index"].to_numpy()) if len(a.layers) else pd.Series()
    out = _objects(name.astype(object).where(name.notna(), None)).copy()
    idx = index.to_numpy(dtype=object)
    known = np.array([not (v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))) for v in idx],
                     dtype=bool)
    if known.any() and len(labels):
        at = labels.index.get_indexer(pd.Index(np.asarray(idx[known], dtype=np.int64)))
        got = labels.to_numpy(dtype=object)[np.maximum(at, 0)]
        sub = out[known]
        sub[at >= 0] = got[at >= 0]
        out[known] = sub
    return out


def kernel_rollup_frame(a: Analysis) -> pd.DataFrame:
    """``a.kernel_rollup`` (kernel × layer × NVTX range, by GPU time) with ``layer_label`` and ``engine_order``
    (the layer's index, launches of no known layer last) for the by-layer grouping."""
    r = a.kernel_rollup
    order = r["layer_index"].astype("Float64").fillna(np.inf).to_numpy(dtype=float) if len(r) else np.zeros(0)
    return r.assign(layer_label=_layer_label_of(a, r["layer_index"], r["layer_name"]), engine_order=order)


def kernel_totals_frame(a: Analysis) -> pd.DataFrame:
    """``a.kernel_totals`` (one row per kernel name) with its layers as one text."""
    t = a.kernel_totals
    return t.assign(layers_text=[", ".join(map(str, v)) for v in t["layer_names"].tolist()])


def kernels_haystack(frame: pd.DataFrame) -> pd.Series:
    cols = [frame[c] for c in ("kernel", "layer_name", "layer_label", "nvtx_range", "layers_text") if c in frame]
    if "onnx_nodes" in frame:
        cols.append(pd.Series([" ".join(map(str, n)) if isinstance(n, (list, tuple, np.ndarray)) else ""
                               for n in frame["onnx_nodes"]], index=frame.index))
    return haystack(*cols)


def layer_kernel_rollup(a: Analysis, index: int) -> pd.DataFrame:
    """The ``kernel_rollup`` rows of one layer (its kernels by GPU time)."""
    r = a.kernel_rollup
    if r.empty:
        return r
    return r[r["layer_index"].eq(index).fillna(False).to_numpy(dtype=bool)].reset_index(drop=True)


def kernels_between(kernels: pd.DataFrame, t0_ns: float, t1_ns: float) -> pd.DataFrame:
    """Kernels running at some point of [t0, t1) with ``overlap_us`` (their time inside it), longest first."""
    if kernels.empty:
        return kernels.assign(overlap_us=pd.Series([], dtype=float))
    s = pd.to_numeric(kernels["start_ns"], errors="coerce").to_numpy(dtype=float)
    e = pd.to_numeric(kernels["end_ns"], errors="coerce").to_numpy(dtype=float)
    hit = (s < t1_ns) & (e > t0_ns)
    sel = kernels[hit]
    overlap = (np.minimum(e[hit], t1_ns) - np.maximum(s[hit], t0_ns)) / 1e3
    return sel.assign(overlap_us=overlap).sort_values("overlap_us", ascending=False, kind="stable")


#: NVML metrics the Timeline and the layer detail show: column, label, unit.
NVML_METRICS: tuple[tuple[str, str, str], ...] = (
    ("gpu_util_pct", "GPU utilization", "%"),
    ("sm_clock_mhz", "SM clock", "MHz"),
    ("power_w", "Power", "W"),
    ("memory_used_mib", "Memory used", "MiB"),
    ("mem_util_pct", "Memory utilization", "%"),
    ("temperature_c", "Temperature", "°C"),
)


# --- export --------------------------------------------------------------------------------------------------
def to_csv(frame: pd.DataFrame) -> str:
    """CSV text of a table as shown (raw values; list cells as JSON arrays so they stay unambiguous; text a
    spreadsheet would evaluate neutralised as in ``trtscope export``)."""
    from trtscope.exporters.csv_safe import neutralise_frame

    out = frame.copy()
    for c in out.columns:
        if out[c].dtype == object and out[c].map(lambda v: isinstance(v, (list, tuple))).any():
            out[c] = out[c].map(lambda v: json.dumps(list(v)) if isinstance(v, (list, tuple)) else v)
    return str(neutralise_frame(out).to_csv(index=False, lineterminator="\n"))


def free_path(directory: Path, stem: str, suffix: str = ".csv") -> Path:
    """``directory/stem.csv``, or ``stem-2.csv``, ``stem-3.csv``... : the first name not taken."""
    p = directory / f"{stem}{suffix}"
    n = 2
    while p.exists():
        p = directory / f"{stem}-{n}{suffix}"
        n += 1
    return p


# --- lint findings -------------------------------------------------------------------------------------------
_LINT: dict[int, Any] = {}
_LINT_LOCK = threading.Lock()  # the Lint screen and a layer detail may both ask, from worker threads


def lint_result(a: Analysis) -> Any:
    """``trtscope lint``'s result for ``a`` (every rule), computed once per Analysis: the Lint screen and every
    layer detail read the same findings. Seconds on 20,000 layers, so screens call it from a worker thread."""
    import weakref

    from trtscope.analysis.lint import lint

    key = id(a)
    with _LINT_LOCK:
        if key not in _LINT:
            _LINT[key] = lint(a)
            weakref.finalize(a, _LINT.pop, key, None)
        return _LINT[key]


def lint_ready(a: Analysis) -> bool:
    return id(a) in _LINT


def lint_frame(a: Analysis) -> pd.DataFrame:
    """The findings (LINT_FINDINGS) with what the Lint screen shows: severity word, the first layer (Enter opens
    it) and its name, layer and node counts."""
    f = lint_result(a).table()
    names = a.layers["name"].tolist()
    first = [ls[0] if ls else -1 for ls in f["layers"].tolist()]
    return f.assign(
        first_layer=np.asarray(first, dtype=np.int64),
        layer_name=[names[i] if 0 <= i < len(names) else "" for i in first],
        n_layers=[len(x) for x in f["layers"].tolist()],
        nodes_text=[", ".join(map(str, x)) for x in f["onnx_nodes"].tolist()],
    )


def lint_haystack(frame: pd.DataFrame) -> pd.Series:
    return haystack(frame["rule"], frame["rule_name"], frame["severity"], frame["title"], frame["layer_name"],
                    frame["nodes_text"])


def layer_findings(a: Analysis, index: int) -> list[Any]:
    """The findings that concern layer ``index``, worst first (the lint result's Finding objects)."""
    return [f for f in lint_result(a).findings if index in f.layers]
