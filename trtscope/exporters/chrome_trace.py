"""An Analysis as a Chrome Trace Event / Perfetto JSON trace (``trtscope export --format chrome-trace``).

What goes where (docs/exports.md shows it):

* **GPU processes** (one per device): with captured kernels, each kernel is an ``X`` slice on its stream's
  track, carrying its engine layer and that layer's ONNX nodes in ``args``; a ``layers`` track per stream
  merges consecutive kernels of one layer invocation into one slice. NVML samples are counter tracks there.
* **Without kernels**, a synthetic timeline: one inference laid end to end from the profile's mean layer
  times, on a track that says so — it shows proportions, not a measured schedule.
* **Host processes**: NVTX ranges per host thread, one track per kind — trtscope's own (domain
  ``trtscope``), TensorRT's per-layer ranges (host enqueue time, not GPU time) and any other domain.

Perfetto drops slices that overlap without nesting on one track (reference §8), so every track is checked:
kernels (never nested) and NVTX ranges (nesting allowed) that would cross go to an extra "overlap" track.
Timestamps are microseconds from the earliest event on the run clock (``otherData.time_origin_ns``): ``ts`` is
the exact decimal of ``ns/1000``; ``dur`` is the double that makes ``ts + dur`` land exactly on the end's
double (see :func:`_dur_text`), so both float-adding viewers and Perfetto (``llround(x * 1000)``) get it right.

Events are rendered to JSON text column-wise with Arrow string kernels (a million kernels in seconds; a dict
per event through ``json.dumps`` takes a minute); :func:`chrome_trace` parses that same text back into a dict,
so the file and the dict can never disagree.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trtscope._version import __version__
from trtscope.errors import TrtscopeError
from trtscope.exporters.tables import check_file_target, plain, write_file_atomically
from trtscope.model.vocabulary import RangeKind
from trtscope.presentation.labels import kind_label

if TYPE_CHECKING:
    from trtscope.analysis.session import Analysis

#: Track title of the synthetic timeline (tests and docs refer to it).
SYNTHETIC_TRACK = "layers (from profile means, not a measured timeline)"
SYNTHETIC_NOTE = "synthetic: one inference laid end to end from mean layer times"
#: NVML columns drawn as counters: (column, counter name, unit key in args).
COUNTERS: tuple[tuple[str, str, str], ...] = (
    ("gpu_util_pct", "GPU utilization", "percent"),
    ("sm_clock_mhz", "SM clock", "MHz"),
    ("power_w", "power", "W"),
    ("memory_used_mib", "memory used", "MiB"),
    ("mem_util_pct", "memory utilization", "percent"),
    ("mem_clock_mhz", "memory clock", "MHz"),
    ("temperature_c", "temperature", "C"),
)
_TID_BASE = 1000  # thread ids are unique across the whole trace and never collide with a pid
_NVTX_KINDS = ("trtscope", "tensorrt_layer", "nvtx")  # event ``cat`` per NVTX range kind


# --- column helpers -----------------------------------------------------------------------------------------
def _ints(s: pd.Series | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(int64 values, validity) of a possibly nullable or object column, never through float64."""
    if s is None:
        return np.zeros(n, np.int64), np.zeros(n, bool)
    if not pd.api.types.is_integer_dtype(s.dtype):
        s = pd.Series(pd.array(s.to_numpy(dtype=object), dtype="Int64"), index=s.index)
    return s.to_numpy(dtype=np.int64, na_value=0), np.asarray(s.notna(), dtype=bool)


def _values(s: pd.Series | None, n: int) -> list[Any]:
    """A column as plain Python values with None for anything missing (NaN, NA, None)."""
    if s is None:
        return [None] * n
    if s.dtype.kind in "iub":
        return s.tolist()
    if s.dtype.kind == "f":
        return [None if v != v or v in (np.inf, -np.inf) else v for v in s.tolist()]
    obj = s.astype(object)
    miss = obj.isna().tolist()  # elementwise; a list cell is never "missing"
    return [None if m else (plain(v) if isinstance(v, (np.generic, np.ndarray, tuple)) else v)
            for v, m in zip(obj.tolist(), miss, strict=True)]


def _col(df: pd.DataFrame, name: str) -> pd.Series | None:
    return df[name] if name in df.columns else None


# --- JSON text, column-wise ---------------------------------------------------------------------------------
def _js(v: Any) -> str:
    """One JSON value (ASCII-only: control bytes and lone surrogates in names are escaped, never lost)."""
    return json.dumps(v, allow_nan=False, separators=(",", ":"))


def _json_strings(values: pd.Series | Sequence[Any], missing: str | None) -> pa.Array:
    """JSON literals of string ``values`` (each distinct value encoded once); ``missing`` (or null) for NA."""
    s = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    table = pa.array([_js(str(u)) for u in uniques] + ["null" if missing is None else _js(missing)],
                     type=pa.large_string())
    return table.take(pa.array(np.where(codes >= 0, codes, len(uniques))))


def _int_text(v: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(v, dtype=np.int64)).cast(pa.large_string())


def _us_text(ns: np.ndarray) -> pa.Array:
    """Microseconds as the exact decimal of integer nanoseconds (``1234567`` ns -> ``1234.567``)."""
    ns = np.asarray(ns, dtype=np.int64)
    whole, frac = np.divmod(ns, 1000)
    whole_t = _int_text(whole)
    frac_t = pc.utf8_lpad(_int_text(frac), 3, "0")
    return pc.if_else(pa.array(frac == 0), whole_t, _join(whole_t, ".", frac_t))


def _lit(x: Any) -> Any:
    return pa.scalar(x, type=pa.large_string()) if isinstance(x, str) else x


def _dur_text(start: np.ndarray, end: np.ndarray) -> pa.Array:
    """Durations (µs) chosen so that ``ts + dur`` in double precision is exactly the end's double.

    Viewers that add ``ts + dur`` in floating point (catapult, speedscope) would otherwise see a slice end an
    ulp after the next one begins, or a child poke out of its parent, and stack or drop them. The value
    stays within a few ulps of the exact ``(end - start) / 1000``, so Perfetto's ``llround(dur * 1000)``
    still gives the exact nanoseconds.
    """
    ts = np.asarray(start, dtype=np.int64) / 1000.0
    stop = np.asarray(end, dtype=np.int64) / 1000.0
    dur = stop - ts
    for _ in range(8):
        got = ts + dur
        high, low = got > stop, got < stop
        if not (high.any() or low.any()):
            break
        dur = np.where(high, np.nextafter(dur, -np.inf), np.where(low, np.nextafter(dur, np.inf), dur))
    return pa.array(np.maximum(dur, 0.0)).cast(pa.large_string())


def _join(*parts: Any) -> pa.Array:
    """Concatenate string arrays and literal strings element-wise (all large_string: 64-bit offsets)."""
    return pc.binary_join_element_wise(*(_lit(p) for p in parts), _lit(""))


def _optional(mask: np.ndarray, piece: pa.Array) -> pa.Array:
    return pc.if_else(pa.array(np.asarray(mask, dtype=bool)), piece, _lit(""))


def _slice_lines(name: pa.Array, cat: Any, start: np.ndarray, end: np.ndarray, pid: np.ndarray, tid: np.ndarray,
                 args: Sequence[Any]) -> pa.Array:
    """Slices as JSON text (times in ns from the origin); ``args`` are the pieces of the args object.

    Every slice is a complete event (``"ph":"X"``), zero-duration ones included (``"dur":0``, e.g. a 0 ms
    no-op layer): a layer is one slice in every viewer, so each layer of the report is in the trace and can be
    found by name and counted.
    """
    cat_t = _js(cat) if isinstance(cat, str) else cat
    return _join('{"name":', name, ',"cat":', cat_t, ',"ph":"X","ts":', _us_text(start), ',"dur":',
                 _dur_text(start, end), ',"pid":', _int_text(pid), ',"tid":', _int_text(tid), ',"args":', *args, "}")


# --- tracks and events --------------------------------------------------------------------------------------
@dataclass
class _Layout:
    """Trace pids/tids for processes and threads, named and ordered through metadata events."""

    processes: dict[Hashable, tuple[int, str, int]] = field(default_factory=dict)
    threads: dict[tuple[int, Hashable], tuple[int, str, int]] = field(default_factory=dict)

    def process(self, key: Hashable, name: str, sort: int) -> int:
        if key not in self.processes:
            self.processes[key] = (len(self.processes) + 1, name, sort)
        return self.processes[key][0]

    def thread(self, pid: int, key: Hashable, name: str) -> int:
        k = (pid, key)
        if k not in self.threads:
            self.threads[k] = (_TID_BASE + len(self.threads), name, len(self.threads))
        return self.threads[k][0]

    def metadata(self) -> list[dict[str, Any]]:
        ev: list[dict[str, Any]] = []
        for pid, name, sort in self.processes.values():
            ev.append({"name": "process_name", "ph": "M", "ts": 0, "pid": pid, "tid": 0, "args": {"name": name}})
            ev.append({"name": "process_sort_index", "ph": "M", "ts": 0, "pid": pid, "tid": 0,
                       "args": {"sort_index": sort}})
        for (pid, _), (tid, name, sort) in self.threads.items():
            ev.append({"name": "thread_name", "ph": "M", "ts": 0, "pid": pid, "tid": tid, "args": {"name": name}})
            ev.append({"name": "thread_sort_index", "ph": "M", "ts": 0, "pid": pid, "tid": tid,
                       "args": {"sort_index": sort}})
        return ev


@dataclass
class _Events:
    """Timed events as JSON lines, one Arrow array per section.

    Each section emits its rows in time order (longer first at equal times, so a parent precedes what it
    contains) and every track lies within one section, so per-track order holds without a global sort.
    """

    lines: list[pa.Array] = field(default_factory=list)

    def add(self, lines: pa.Array) -> None:
        if len(lines):
            self.lines.append(lines)

    def __len__(self) -> int:
        return sum(len(x) for x in self.lines)


def _time_order(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Row order by start, longer first at equal starts."""
    return np.lexsort((start - end, start))


# --- lane assignment ----------------------------------------------------------------------------------------
def _grouped_prev_max(group: np.ndarray, end: np.ndarray) -> np.ndarray:
    """For rows sorted by group: the largest ``end`` of the earlier rows of the same group (int64 min if none)."""
    n = len(end)
    if n == 0:
        return end.copy()
    cm = pd.Series(end).groupby(group).cummax().to_numpy()
    prev = np.empty(n, dtype=np.int64)
    prev[0] = np.iinfo(np.int64).min
    prev[1:] = cm[:-1]
    first = np.ones(n, dtype=bool)
    first[1:] = group[1:] != group[:-1]
    prev[first] = np.iinfo(np.int64).min
    return prev


def disjoint_lanes(group: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Lane per slice so that slices of one (group, lane) never overlap (touching is fine).

    Kernels of one stream normally run one after another: a vectorised check finds that and returns lane 0
    for everything. Only groups that do overlap (programmatic dependent launch, bad clocks) are coloured
    first-fit in a Python loop.
    """
    n = len(start)
    lane = np.zeros(n, dtype=np.int64)
    if n < 2:
        return lane
    order = np.lexsort((end, start, group))
    clash = start[order] < _grouped_prev_max(group[order], end[order])
    if not clash.any():
        return lane
    bad = np.isin(group, np.unique(group[order][clash]))
    rows = order[bad[order]]
    g, s, e = group[rows].tolist(), start[rows].tolist(), end[rows].tolist()
    out = np.zeros(len(rows), dtype=np.int64)
    ends: list[int] = []
    for i in range(len(rows)):
        if i == 0 or g[i] != g[i - 1]:
            ends = []
        for k, last in enumerate(ends):
            if last <= s[i]:
                ends[k] = e[i]
                out[i] = k
                break
        else:
            ends.append(e[i])
            out[i] = len(ends) - 1
    lane[rows] = out
    return lane


def nested_lanes(group: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Lane per range so that ranges of one (group, lane) nest or are disjoint (what Perfetto can draw).

    TensorRT's layer ranges on a thread follow one another: a vectorised check finds such flat groups and
    leaves them on lane 0. Groups with overlaps (nested push/pop ranges, crossing start/end ranges) are laid
    out first-fit with one stack of open ranges per lane, in a Python loop.
    """
    n = len(start)
    lane = np.zeros(n, dtype=np.int64)
    if n < 2:
        return lane
    order = np.lexsort((-end, start, group))  # containers before what they contain
    overlap = start[order] < _grouped_prev_max(group[order], end[order])
    if not overlap.any():
        return lane
    bad = np.isin(group, np.unique(group[order][overlap]))
    rows = order[bad[order]]
    g, s, e = group[rows].tolist(), start[rows].tolist(), end[rows].tolist()
    out = np.zeros(len(rows), dtype=np.int64)
    stacks: list[list[int]] = []
    for i in range(len(rows)):
        if i == 0 or g[i] != g[i - 1]:
            stacks = []
        for k, stack in enumerate(stacks):
            while stack and stack[-1] <= s[i]:
                stack.pop()
            if not stack or e[i] <= stack[-1]:
                stack.append(e[i])
                out[i] = k
                break
        else:
            stacks.append([e[i]])
            out[i] = len(stacks) - 1
    lane[rows] = out
    return lane


# --- layers -------------------------------------------------------------------------------------------------
@dataclass
class _LayerArgs:
    """Per engine layer (row order) the opening of its ``args`` object, ending in a comma: ``{"layer":...,``.

    ``brief`` (kernels, NVTX ranges): layer, index, ONNX nodes, kind. ``full`` (layer slices): plus fusion,
    fusion group, type, precision, mean/median ms, share; ``synthetic`` adds the tactic.
    """

    brief: pa.Array
    full: pa.Array
    synthetic: pa.Array
    names: list[Any]

    def take(self, which: str, pos: np.ndarray) -> pa.Array:
        """Openings for rows ``pos`` (-1: a bare ``{``)."""
        arr: pa.Array = getattr(self, which)
        return arr.take(pa.array(np.where(pos >= 0, pos, len(arr) - 1)))


def _opening(d: dict[str, Any]) -> str:
    body = _js({k: v for k, v in d.items() if v is not None})[1:-1]
    return "{" + body + "," if body else "{"


def _layer_args(layers: pd.DataFrame) -> _LayerArgs:
    n = len(layers)
    index, name, kind = (_values(_col(layers, c), n) for c in ("index", "name", "kind"))
    nodes, ltype, region = (_values(_col(layers, c), n) for c in ("onnx_nodes", "type", "myelin_region"))
    myelin = _values(_col(layers, "in_myelin"), n)
    tactic, precision = (_values(_col(layers, c), n) for c in ("tactic", "precision"))
    mean, median, share = (_values(_col(layers, c), n) for c in ("mean_ms", "median_ms", "share"))
    brief, full, synth = [], [], []
    for i in range(n):
        b = {"layer": name[i], "layer_index": index[i],
             "onnx_nodes": list(nodes[i]) if isinstance(nodes[i], list) else [], "kind": kind[i]}
        f = {**b, "fusion": kind_label(kind[i], bool(myelin[i])) if kind[i] is not None else None,
             "fusion_group": f"Myelin region {region[i]}" if region[i] and myelin[i] else None,
             "layer_type": ltype[i], "precision": precision[i],
             "mean_ms": mean[i], "median_ms": median[i], "share": share[i]}
        brief.append(_opening(b))
        full.append(_opening(f))
        synth.append(_opening({**f, "tactic": tactic[i]}))
    b_arr, f_arr, s_arr = (pa.array([*x, "{"], type=pa.large_string()) for x in (brief, full, synth))
    return _LayerArgs(brief=b_arr, full=f_arr, synthetic=s_arr, names=name)


def _layer_positions(layers: pd.DataFrame, names: pd.Series) -> np.ndarray:
    """Row of ``layers`` for each name (first occurrence; names can repeat), -1 where none.

    The (few) distinct names are looked up once, then spread back by their codes.
    """
    lname = layers["name"].astype(object)
    first = ~lname.duplicated()
    index = pd.Index(lname[first].tolist(), dtype=object)
    rows = np.nonzero(first.to_numpy())[0]
    codes, uniques = pd.factorize(names.astype(object), use_na_sentinel=True)
    found = index.get_indexer(list(uniques))
    upos = np.where(found >= 0, rows[np.maximum(found, 0)], -1)
    return np.where(codes >= 0, np.append(upos, -1)[codes], -1)


def _kernel_layer_rows(layers: pd.DataFrame, k: pd.DataFrame) -> np.ndarray:
    """Row of ``layers`` for each kernel: by ``layer_index`` where the analysis attributed one (exact even
    when layer names repeat), else by ``layer_name``; -1 for kernels outside any layer."""
    n = len(k)
    pos = np.full(n, -1, dtype=np.int64)
    if "layer_index" in k.columns:
        li, ok = _ints(k["layer_index"], n)
        rows = pd.Index(_ints(layers["index"], len(layers))[0]).get_indexer(li)
        pos = np.where(ok & (rows >= 0), rows, -1)
    if "layer_name" in k.columns:
        by_name = _layer_positions(layers, k["layer_name"])
        pos = np.where(pos >= 0, pos, by_name)
    return pos


# --- sections -----------------------------------------------------------------------------------------------
def _time_bounds(a: Analysis) -> tuple[int, int] | None:
    """(earliest, latest) timestamp in ns over kernels, NVTX ranges and NVML samples; None without any."""
    lows, highs = [], []
    for df, cols in ((a.kernels, ("start_ns", "end_ns")), (a.nvtx_ranges, ("start_ns", "end_ns")),
                     (a.nvml, ("timestamp_ns",))):
        if df is None or not len(df):
            continue
        for c in cols:
            if c in df.columns:
                v, ok = _ints(df[c], len(df))
                if ok.any():
                    lows.append(int(v[ok].min()))
                    highs.append(int(v[ok].max()))
    return (min(lows), max(highs)) if lows else None


def _gpu_pid(layout: _Layout, device: int, gpu_name: str | None) -> int:
    label = f"GPU {device}" if device >= 0 else "GPU (device unknown)"
    if gpu_name:
        label += f": {gpu_name}"
    return layout.process(("gpu", device), label, device if device >= 0 else 999)


@dataclass
class _KernelLayers:
    """Which layer each kernel belongs to, as a key into opening tables of the args objects.

    Keys ``0..L-1`` are engine layer rows (full layer args); ``L..`` are layer names the kernel table carries
    without layer information (an nsys import or a bundle without ``--layers``): args name the layer only.
    ``-1``: no layer.
    """

    key: np.ndarray
    brief: pa.Array  # opening per key, then a bare "{" for -1
    full: pa.Array
    names: list[str]

    def take(self, table: pa.Array, key: np.ndarray) -> pa.Array:
        return table.take(pa.array(np.where(key >= 0, key, len(table) - 1)))


def _kernel_layers(a: Analysis, k: pd.DataFrame, la: _LayerArgs | None) -> _KernelLayers:
    n = len(k)
    nl = len(la.names) if la is not None else 0
    pos = _kernel_layer_rows(a.layers, k) if la is not None else np.full(n, -1, dtype=np.int64)
    lname = _col(k, "layer_name")
    extra: list[str] = []
    key = pos
    if lname is not None:
        codes, uniques = pd.factorize(lname.astype(object).where(pos < 0), use_na_sentinel=True)
        extra = [str(u) for u in uniques]
        key = np.where(pos >= 0, pos, np.where(codes >= 0, nl + codes, -1))
    only = [_opening({"layer": x}) for x in extra]
    tables = []
    for which in ("brief", "full"):
        rows = getattr(la, which).slice(0, nl) if la is not None else pa.array([], type=pa.large_string())
        tables.append(pa.concat_arrays([rows, pa.array([*only, "{"], type=pa.large_string())]))
    names = [str(x) for x in (la.names if la is not None else [])] + extra
    return _KernelLayers(key, tables[0], tables[1], names)


def _kernel_section(
    a: Analysis, t0: int, layout: _Layout, out: _Events, la: _LayerArgs | None, gpu_name: str | None
) -> dict[str, int]:
    k = a.kernels
    n = len(k)
    start, s_ok = _ints(k["start_ns"], n)
    end, e_ok = _ints(_col(k, "end_ns"), n)
    keep = np.nonzero(s_ok)[0]
    if not len(keep):
        return {"kernels": 0, "layer_slices": 0}
    end = np.where(e_ok, np.maximum(end, start), start)
    keep = keep[_time_order(start[keep], end[keep])]
    dev_v, dev_ok = _ints(_col(k, "device_id"), n)
    str_v, str_ok = _ints(_col(k, "stream_id"), n)
    dev, strm = np.where(dev_ok, dev_v, -1), np.where(str_ok, str_v, -1)
    k, start, end, dev, strm = k.iloc[keep], start[keep], end[keep], dev[keep], strm[keep]
    n = len(keep)
    kl = _kernel_layers(a, k, la)
    key = kl.key
    track = pd.factorize(dev * (1 << 32) + (strm & 0xFFFFFFFF))[0].astype(np.int64)
    klane = disjoint_lanes(track, start, end)

    # layer slices: consecutive kernels (per stream, in time order) of one layer invocation
    rid, rid_ok = _ints(_col(k, "nvtx_range_id"), n)
    rid = np.where(rid_ok, rid, -1)
    order = np.lexsort((start, track))
    ot, okey, orid = track[order], key[order], rid[order]
    brk = np.ones(n, dtype=bool)
    brk[1:] = (ot[1:] != ot[:-1]) | (okey[1:] != okey[:-1]) | (orid[1:] != orid[:-1])
    first = np.nonzero(brk)[0]
    named = okey[first] >= 0
    sp_start = np.minimum.reduceat(start[order], first)[named]
    sp_end = np.maximum.reduceat(end[order], first)[named]
    sp_count = np.diff(np.append(first, n))[named]
    sp_track, sp_key = ot[first][named], okey[first][named]
    slane = disjoint_lanes(sp_track, sp_start, sp_end)

    # tracks: per device, per stream (ascending): layer lanes, then kernel lanes
    ntrack = int(track.max()) + 1
    tdev, tstream = np.zeros(ntrack, np.int64), np.zeros(ntrack, np.int64)
    tdev[track], tstream[track] = dev, strm
    maxlane = {"layers": np.full(ntrack, -1, np.int64), "kernels": np.full(ntrack, -1, np.int64)}
    np.maximum.at(maxlane["layers"], sp_track, slane)
    np.maximum.at(maxlane["kernels"], track, klane)
    width = int(max(maxlane["layers"].max(), maxlane["kernels"].max())) + 1
    tids = {kind: np.zeros(ntrack * width, np.int64) for kind in maxlane}
    pids = np.zeros(ntrack, np.int64)
    for t in sorted(range(ntrack), key=lambda t: (tdev[t], tstream[t])):
        pids[t] = _gpu_pid(layout, int(tdev[t]), gpu_name)
        sname = f"stream {tstream[t]}" if tstream[t] >= 0 else "stream ?"
        for kind, label in (("layers", "layers (from kernels)"), ("kernels", "kernels")):
            for lane in range(int(maxlane[kind][t]) + 1):
                suffix = f" (overlap {lane})" if lane else ""
                tids[kind][t * width + lane] = layout.thread(int(pids[t]), (t, kind, lane),
                                                             f"{sname} · {label}{suffix}")

    names = _json_strings(k["name"].astype(object), "(unnamed kernel)")
    corr, corr_ok = _ints(_col(k, "correlation_id"), n)
    args = (
        kl.take(kl.brief, key),
        '"stream":', _int_text(strm),
        _optional(corr_ok, _join(',"correlation_id":', _int_text(corr))),
        *_dims(k, "grid", n), *_dims(k, "block", n), "}",
    )
    lines = _slice_lines(names, "kernel", start - t0, end - t0,
                         pids[track], tids["kernels"][track * width + klane], args)
    out.add(lines)

    if len(sp_key):
        o = _time_order(sp_start, sp_end)
        sp_start, sp_end, sp_track, sp_key, slane, sp_count = (
            x[o] for x in (sp_start, sp_end, sp_track, sp_key, slane, sp_count)
        )
        sargs = (kl.take(kl.full, sp_key), '"kernels":', _int_text(sp_count), "}")
        snames = _json_strings([kl.names[p] for p in sp_key.tolist()], "?")
        out.add(_slice_lines(snames, "layer", sp_start - t0, sp_end - t0,
                             pids[sp_track], tids["layers"][sp_track * width + slane], sargs))
    return {"kernels": n, "layer_slices": len(sp_key)}


def _dims(k: pd.DataFrame, prefix: str, n: int) -> list[Any]:
    """``,"grid":"32x1x1"`` pieces (empty where a dimension is missing)."""
    cols = [f"{prefix}_{c}" for c in "xyz"]
    if not all(c in k.columns for c in cols):
        return []
    vals = [_ints(k[c], n) for c in cols]
    ok = vals[0][1] & vals[1][1] & vals[2][1]
    x, y, z = (_int_text(v[0]) for v in vals)
    return [_optional(ok, _join(f',"{prefix}":"', x, "x", y, "x", z, '"'))]


def _synthetic_section(a: Analysis, layout: _Layout, out: _Events, la: _LayerArgs) -> int:
    layers = a.layers
    if "mean_ms" not in layers.columns:
        return 0
    mean = pd.to_numeric(layers["mean_ms"], errors="coerce").to_numpy(dtype=np.float64)
    rows = np.nonzero(np.isfinite(mean) & (mean >= 0))[0]
    if not len(rows):
        return 0
    # integer nanoseconds, so every layer starts exactly where the previous one ended
    dur = np.rint(mean[rows] * 1e6).astype(np.int64)
    start = np.concatenate([[0], np.cumsum(dur)[:-1]]).astype(np.int64)
    pid = layout.process(("profile",), "TensorRT engine: per-layer profile (synthetic timeline)", -1)
    tid = layout.thread(pid, "synthetic", SYNTHETIC_TRACK)
    m = len(rows)
    args = (la.take("synthetic", rows), '"timeline":', _js(SYNTHETIC_NOTE), "}")
    names = _json_strings([la.names[r] for r in rows.tolist()], "?")
    out.add(_slice_lines(names, "layer", start, start + dur, np.full(m, pid),
                         np.full(m, tid), args))
    return m


def _nvtx_section(
    a: Analysis, t0: int, t_end: int, layout: _Layout, out: _Events, la: _LayerArgs | None
) -> int:
    r = a.nvtx_ranges
    n = len(r)
    start, s_ok = _ints(r["start_ns"], n)
    end, e_ok = _ints(_col(r, "end_ns"), n)
    sel = np.nonzero(s_ok)[0]
    if not len(sel):
        return 0
    end = np.where(e_ok, np.maximum(end, start), np.maximum(t_end, start))  # never closed: to the trace end
    sel = sel[_time_order(start[sel], end[sel])]
    pid_v, pid_ok = _ints(_col(r, "pid"), n)
    tid_v, tid_ok = _ints(_col(r, "tid"), n)
    hpid, htid = np.where(pid_ok, pid_v, -1), np.where(tid_ok, tid_v, -1)
    names = r["name"].astype(object) if "name" in r.columns else pd.Series([None] * n, dtype=object)
    domains = [d if isinstance(d, str) and d else None for d in _values(_col(r, "domain"), n)]
    # the analysis decided once which ranges are trtscope's own and which name an engine layer
    rk = r["range_kind"].astype(object) if "range_kind" in r.columns else pd.Series([None] * n, dtype=object)
    own = rk.eq(RangeKind.TRTSCOPE.value).to_numpy(dtype=bool)
    pos = np.full(n, -1, dtype=np.int64)
    if la is not None and "layer_index" in r.columns:
        li, ok = _ints(r["layer_index"], n)
        rows = pd.Index(_ints(a.layers["index"], len(a.layers))[0]).get_indexer(li)
        pos = np.where(ok & (rows >= 0), rows, -1)
    kind = np.where(own, 0, np.where(pos >= 0, 1, 2))

    keys = pd.DataFrame({"pid": hpid[sel], "tid": htid[sel], "kind": kind[sel],
                         "dom": [domains[i] or "default domain" if kind[i] == 2 else "" for i in sel.tolist()]})
    track = keys.groupby(["pid", "tid", "kind", "dom"], sort=False).ngroup().to_numpy(dtype=np.int64)
    s, e = start[sel], end[sel]
    lane = nested_lanes(track, s, e)
    width = int(lane.max()) + 1
    tids = np.zeros((int(track.max()) + 1) * width, np.int64)
    pids = np.zeros(int(track.max()) + 1, np.int64)
    labels = {0: "trtscope ranges", 1: "TensorRT layer ranges (NVTX, host enqueue)"}
    firsts = keys.assign(track=track, lane=lane).drop_duplicates(["track", "lane"])
    for row in firsts.sort_values(["pid", "tid", "kind", "dom", "lane"]).itertuples(index=False):
        p, t, tr, ln = int(row.pid), int(row.tid), int(row.track), int(row.lane)
        pids[tr] = layout.process(("host", p), f"host process {p}" if p >= 0 else "host (process unknown)",
                                  1000 + p if p >= 0 else 10**9)
        what = labels.get(int(row.kind), f"NVTX {row.dom}")
        suffix = f" (overlap {ln})" if ln else ""
        thread = f"thread {t}" if t >= 0 else "thread ?"
        tids[tr * width + ln] = layout.thread(int(pids[tr]), ("nvtx", tr, ln), f"{thread} · {what}{suffix}")

    psel = pos[sel]
    ids, ids_ok = _ints(_col(r, "range_id"), n)
    opening = la.take("brief", psel) if la is not None else "{"
    args = (opening, '"domain":', _json_strings([domains[i] for i in sel.tolist()], None),
                 _optional(ids_ok[sel], _join(',"range_id":', _int_text(ids[sel]))),
                 _optional(~e_ok[sel], ',"unclosed":true'), "}")
    cats = pa.array([_js(c) for c in _NVTX_KINDS], type=pa.large_string()).take(pa.array(kind[sel]))
    text = _json_strings(names.iloc[sel], "(unnamed range)")
    out.add(_slice_lines(text, cats, s - t0, e - t0, pids[track],
                         tids[track * width + lane], args))
    return len(sel)


def _nvml_section(a: Analysis, t0: int, layout: _Layout, out: _Events, gpu_name: str | None) -> int:
    """Counter tracks, one per NVML field and GPU; returns the number of samples placed (those with a time, as
    the NVTXT export counts them), not of counter points (one per field with a value)."""
    s = a.nvml
    n = len(s)
    ts, ok = _ints(s["timestamp_ns"], n)
    gpu_v, gpu_ok = _ints(_col(s, "gpu_index"), n)
    gpu = np.where(gpu_ok, gpu_v, -1)
    count = 0
    for g in sorted(set(gpu[ok].tolist())):
        pid = _gpu_pid(layout, int(g), gpu_name)
        tid = layout.thread(pid, "nvml", "NVML samples (counters)")
        rows = np.nonzero(ok & (gpu == g))[0]
        rows = rows[np.argsort(ts[rows], kind="stable")]
        for col, label, unit in COUNTERS:
            if col not in s.columns:
                continue
            v = pd.to_numeric(s[col].iloc[rows], errors="coerce").to_numpy(dtype=np.float64)
            good = np.isfinite(v)
            if not good.any():
                continue
            rel = ts[rows][good] - t0
            lines = _join(_js({"name": label, "cat": "nvml", "ph": "C"})[:-1], ',"ts":', _us_text(rel),
                          f',"pid":{pid},"tid":{tid},"args":{{{_js(unit)}:',
                          pa.array(v[good]).cast(pa.large_string()),
                          "}}")
            out.add(lines)
        count += len(rows)
    return count


# --- rendering ----------------------------------------------------------------------------------------------
@dataclass
class RenderedTrace:
    """A trace as JSON text pieces: metadata events, timed events (one array per section), ``otherData``."""

    metadata: list[dict[str, Any]]
    sections: list[pa.Array]  # one JSON object per element
    other: dict[str, Any]

    @property
    def counts(self) -> dict[str, int]:
        return {k[: -len("_count")]: int(v) for k, v in self.other.items() if k.endswith("_count")}

    @property
    def timed_events(self) -> int:
        return sum(len(x) for x in self.sections)

    def chunks(self) -> Iterator[bytes]:
        """The whole JSON document as UTF-8 pieces, the events straight from Arrow's contiguous buffers."""
        yield b'{"traceEvents":[\n'
        pieces = [",\n".join(_js(e) for e in self.metadata).encode("utf-8")] if self.metadata else []
        for lines in self.sections:
            body = _join(lines, ",\n")  # every event followed by a separator; the last one is cut
            offsets = np.frombuffer(body.buffers()[1], dtype=np.int64)[body.offset : body.offset + len(body) + 1]
            data = memoryview(body.buffers()[2])
            pieces.append(data[int(offsets[0]) : int(offsets[-1]) - 2])  # type: ignore[arg-type]
        for i, piece in enumerate(pieces):
            if i:
                yield b",\n"
            yield piece
        yield b'\n],"otherData":' + _js(self.other).encode("utf-8") + b"}\n"


def render_trace(a: Analysis) -> RenderedTrace:
    """Build every event of the trace (see the module docstring for the layout)."""
    layout = _Layout()
    timed = _Events()
    la = _layer_args(a.layers) if len(a.layers) else None
    meta = a.artifacts.metadata
    gpu_name = meta.get("gpu") if isinstance(meta.get("gpu"), str) else None
    bounds = _time_bounds(a)
    counts = {"kernels": 0, "layer_slices": 0, "nvtx_ranges": 0, "nvml_samples": 0}
    if bounds is not None and len(a.kernels):
        counts.update(_kernel_section(a, bounds[0], layout, timed, la, gpu_name))
    timeline = "kernels" if counts["kernels"] else "none"
    if timeline == "none" and la is not None:
        counts["layer_slices"] = _synthetic_section(a, layout, timed, la)
        timeline = "profile_means" if counts["layer_slices"] else "none"
    if bounds is not None:
        if len(a.nvml):
            counts["nvml_samples"] = _nvml_section(a, bounds[0], layout, timed, gpu_name)
        if len(a.nvtx_ranges):
            counts["nvtx_ranges"] = _nvtx_section(a, bounds[0], bounds[1], layout, timed, la)
    other: dict[str, Any] = {
        "generator": f"trtscope {__version__}",
        "timeline": timeline,
        "timeline_note": {
            "kernels": "GPU kernels as captured, on the run clock",
            "profile_means": "synthetic: one inference laid end to end from the profile's mean layer times, "
            "not a measured timeline",
            "none": "no layer timeline (no kernels and no per-layer times)",
        }[timeline],
        "time_origin_ns": bounds[0] if bounds is not None else None,
        "time_unit": "ts/dur in microseconds since time_origin_ns (run clock, ns/1000)",
        "gpu": gpu_name,
        "tensorrt_version": meta.get("tensorrt_version"),
        "sources": [s.path for s in a.artifacts.sources],
        **{f"{k}_count": v for k, v in counts.items()},
    }
    other = {k: v for k, v in plain(other).items() if v is not None}
    return RenderedTrace(layout.metadata(), timed.lines, other)


def chrome_trace(a: Analysis) -> dict[str, Any]:
    """The trace as a dict: ``{"traceEvents": [...], "otherData": {...}}`` — exactly what the file holds."""
    return json.loads(b"".join(render_trace(a).chunks()))


@dataclass
class TraceResult:
    path: Path
    events: int  # timed events (metadata excluded)
    counts: dict[str, int]
    timeline: str  # "kernels" | "profile_means" | "none"


def write_chrome_trace(a: Analysis, out: str | Path, *, force: bool = False) -> TraceResult:
    """Write the trace to ``out`` atomically (gzip-compressed when the name ends in .gz)."""
    path = Path(out)
    rendered = render_trace(a)
    if not rendered.timed_events:
        raise TrtscopeError(
            "nothing to put on a timeline: no captured kernels, no per-layer times, no NVTX ranges and no "
            "NVML samples (give a --profile, or a capture bundle)"
        )
    check_file_target(path, force=force)

    def write(fh: IO[bytes]) -> None:
        if path.suffix == ".gz":
            with gzip.GzipFile(fileobj=fh, mode="wb", compresslevel=3, mtime=0) as gz:
                for chunk in rendered.chunks():
                    gz.write(chunk)
            return
        for chunk in rendered.chunks():
            fh.write(chunk)

    write_file_atomically(path, write)
    return TraceResult(path, rendered.timed_events, rendered.counts, str(rendered.other["timeline"]))


__all__: Sequence[str] = [
    "COUNTERS", "SYNTHETIC_TRACK", "RenderedTrace", "TraceResult", "chrome_trace",
    "disjoint_lanes", "nested_lanes", "render_trace", "write_chrome_trace",
]
