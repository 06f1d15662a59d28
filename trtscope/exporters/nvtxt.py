"""An Analysis as an NVTXT file (``trtscope export --format nvtxt``): annotations Nsight Systems imports.

NVTXT is Nsight Systems' text form of NVTX: ``ImportNvtxt --cmd create`` turns a file into a report and
``--cmd merge`` lays it onto an existing ``.nsys-rep`` (docs/exports.md shows both). What goes in:

* **Capture bundles / nsys imports** (kernels on the run clock): one range per *layer execution* (the kernels
  of one invocation of one layer, :func:`trtscope.analysis.executions.layer_executions`) with the layer name,
  its kind and its ONNX nodes in the message; one range per kernel (its layer in the message); NVTX ranges as
  captured; one marker per NVML sample (NVTXT has no counter tracks: the values are in the message);
  markers for layers that ran no kernel.
* **Profiles without kernels**: one inference laid end to end from the profile's mean layer times, on a
  process whose name and the file's header comment say it is synthetic; layers without a time are markers.
* **Captures with neither kernels nor per-layer times** (e.g. ``trtscope profile`` without ``--kernels`` of a
  run that gave no layer times): the NVTX ranges and NVML samples they measured, on their clock.
* Either way, ONNX nodes that no layer runs (folded away) are listed in markers, so every layer, node and
  kernel of the report is in the file.

Rules of the format this module relies on, all checked against ImportNvtxt 2022.4 (tests/test_nvtxt_tool.py):
a zero-length range is dropped ("Start >= End"), so zero-time layers and kernels are markers; a string is one
line, delimited by ``"`` or ``'``, and a delimiter preceded by a backslash does not end it (the backslash
stays in the text), so a string that holds both quote characters or ends in a backslash cannot be written
exactly (see :func:`quote`); an event's serialized size must stay under 64 KiB ("String is too long"), so
long ONNX node lists continue in extra events; process and thread ids are 24-bit.

Time bases (``TimeBase``): ``Manual`` for synthetic timelines (from 0) and for captures without a clock
pairing (times from the first event, on the capture's CLOCK_MONOTONIC); ``ClockMonotonicRaw`` for captures
that recorded CLOCK_MONOTONIC/CLOCK_MONOTONIC_RAW pairs (converted); ``Relative`` for nsys imports, whose times
are already relative to the report's session start.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trtscope._version import __version__
from trtscope.analysis.executions import layer_executions
from trtscope.atomic import write_file_atomically
from trtscope.errors import TrtscopeError
from trtscope.exporters.targets import NVTXT_HEAD, check_file_target
from trtscope.model.clocks import two_point_map
from trtscope.model.vocabulary import LayerKind, RangeKind, TextEnum
from trtscope.presentation.labels import kind_label

if TYPE_CHECKING:
    from trtscope.analysis.session import Analysis


class TimeBase(TextEnum):
    """NVTXT ``TimeBase`` values trtscope writes (ImportNvtxt also knows CNTVCT)."""

    MANUAL = "Manual"
    RELATIVE = "Relative"
    MONOTONIC_RAW = "ClockMonotonicRaw"


#: ``--time-base`` choices: ``auto`` picks per source (see the module docstring).
TIME_BASE_CHOICES = ("auto", "manual", "relative", "monotonic-raw")
_CHOICE = {"manual": TimeBase.MANUAL, "relative": TimeBase.RELATIVE, "monotonic-raw": TimeBase.MONOTONIC_RAW}

#: Largest message written in one event, in UTF-8 bytes. ImportNvtxt 2022.4 refuses an event whose message
#: exceeds 65,406 bytes ("String is too long"); the margin covers the event's other fields.
MAX_MESSAGE_BYTES = 60_000
#: First NVTXT process id trtscope uses: above Linux's default pid_max (4,194,304), below the 24-bit limit,
#: so merged annotations never land on a real process of the report.
BASE_PID = 16_770_000

#: CategoryId and colour (ARGB) per event kind. NVTXT cannot name categories; docs/exports.md lists them.
CATEGORIES: dict[str, tuple[int, int]] = {
    LayerKind.FUSED.value: (1, 0xFF4E79A7),
    LayerKind.SINGLE.value: (2, 0xFFF28E2B),
    LayerKind.REFORMAT.value: (3, 0xFFE15759),
    LayerKind.QDQ.value: (4, 0xFF76B7B2),
    LayerKind.NOOP.value: (5, 0xFFBAB0AC),
    LayerKind.OTHER.value: (6, 0xFF9C755F),
    "layer": (7, 0xFF8CD17D),  # a layer the kernel table names but the layer information lacks
    "kernel": (10, 0xFF59A14F),
    "nvtx": (11, 0xFFEDC948),
    "nvml": (12, 0xFFB07AA1),
    "note": (13, 0xFF7F7F7F),  # no time / no kernel / not run by a layer / continued node lists
}
SYNTHETIC_PROCESS = "TensorRT engine: per-layer profile (synthetic timeline, not measured)"
_SEP = " | "


# --- strings ------------------------------------------------------------------------------------------------
def quote(text: str) -> str:
    """``text`` as an NVTXT string literal.

    Exact wherever the format allows: ``"..."`` when the text has no ``"``, else ``'...'`` when it has no
    ``'``. A text with both gets ``\\"`` for each ``"`` (ImportNvtxt keeps the backslash, so Nsight shows
    ``\\"``). Line breaks cannot be in a string: CR and LF become ``␍`` and ``␤``. A trailing backslash would
    swallow the closing quote, so it gets a space after it. Lone surrogates become ``?``.
    """
    s = text.replace("\r\n", "\n").replace("\n", "␤").replace("\r", "␍")
    if s.endswith("\\"):
        s += " "
    for q in ('"', "'"):
        if q not in s:
            return q + s + q
    return '"' + s.replace('"', '\\"') + '"'


def _utf8_len(s: str) -> int:
    return len(s.encode("utf-8", "replace"))


def _cut(s: str, limit: int) -> str:
    """``s`` cut to at most ``limit`` UTF-8 bytes, saying how much was cut."""
    b = s.encode("utf-8", "replace")
    if len(b) <= limit:
        return s
    keep = b[: max(0, limit - 40)].decode("utf-8", "ignore")
    return f"{keep}… ({len(b) - len(keep.encode('utf-8'))} bytes cut)"


def _node_chunks(head: str, nodes: Sequence[str] | None, limit: int) -> tuple[str, list[str]]:
    """The main message (``head | ONNX: a, b, …``) and, when the nodes do not fit, continuation messages that
    list the rest, each within ``limit`` bytes. ``nodes`` None: unknown (no ONNX part)."""
    if nodes is None:
        return _cut(head, limit), []
    if not nodes:
        return _cut(f"{head}{_SEP}ONNX: none", limit), []
    full = f"{head}{_SEP}ONNX: {', '.join(nodes)}"
    if _utf8_len(full) <= limit:
        return full, []
    short = _cut(head.split(_SEP)[0], 2_000)
    chunks: list[list[str]] = [[]]
    size = 0
    budget = limit - _utf8_len(short) - 80
    for n in nodes:
        n = _cut(n, budget // 2)
        add = _utf8_len(n) + 2
        if chunks[-1] and size + add > budget:
            chunks.append([])
            size = 0
        chunks[-1].append(n)
        size += add
    main = _cut(f"{head}{_SEP}ONNX: {len(nodes)} nodes, listed in the events of 'ONNX nodes (continued)'", limit)
    rest, first = [], 1
    for c in chunks:
        rest.append(f"{short}{_SEP}ONNX nodes {first}-{first + len(c) - 1} of {len(nodes)}: {', '.join(c)}")
        first += len(c)
    return main, rest


# --- events -------------------------------------------------------------------------------------------------
@dataclass
class _Block:
    """Events of one kind on one process: times on the source clock (ns), thread ids, category, messages."""

    pid: int
    start: np.ndarray
    end: np.ndarray | None  # None: markers
    tid: np.ndarray
    category: str | np.ndarray  # one kind for the block, or a kind per event
    messages: pa.Array  # plain texts (quoted when rendered)


@dataclass
class _Doc:
    processes: dict[Any, tuple[int, str]] = field(default_factory=dict)
    threads: dict[tuple[int, Any], tuple[int, str]] = field(default_factory=dict)
    blocks: list[_Block] = field(default_factory=list)

    def process(self, key: Any, name: str) -> int:
        if key not in self.processes:
            self.processes[key] = (BASE_PID + len(self.processes), name)
        return self.processes[key][0]

    def thread(self, pid: int, key: Any, name: str) -> int:
        k = (pid, key)
        if k not in self.threads:
            self.threads[k] = (1 + sum(1 for p, _ in self.threads if p == pid), name)
        return self.threads[k][0]

    def add(self, pid: int, start: Any, end: Any, tid: Any, category: str | np.ndarray,
            messages: list[str] | pa.Array) -> None:
        """Ranges (``end`` given) with a positive length; zero-length ones (and ``end=None``) as markers."""
        s = np.asarray(start, dtype=np.int64)
        if not len(s):
            return
        t = np.broadcast_to(np.asarray(tid, dtype=np.int64), s.shape).copy()
        cat = category if isinstance(category, str) else np.asarray(category, dtype=object)
        msgs = messages if isinstance(messages, pa.Array) else pa.array(list(messages), type=pa.large_string())
        if end is None:
            self.blocks.append(_Block(pid, s, None, t, cat, msgs))
            return
        e = np.asarray(end, dtype=np.int64)
        rng = e > s
        for mask, stop in ((rng, e), (~rng, None)):
            if mask.any():
                idx = np.nonzero(mask)[0]
                self.blocks.append(_Block(pid, s[idx], None if stop is None else stop[idx], t[idx],
                                          cat if isinstance(cat, str) else cat[idx], msgs.take(pa.array(idx))))


def _layer_head(row: dict[str, Any]) -> str:
    kind = row.get("kind")
    label = kind_label(kind, bool(row.get("in_myelin"))) if isinstance(kind, str) and kind else "layer"
    return f"{row['name']}{_SEP}{label}"


def _nodes(v: Any) -> list[str]:
    return [str(x) for x in v] if isinstance(v, (list, tuple, np.ndarray)) else []


def _layer_rows(a: Analysis) -> list[dict[str, Any]]:
    cols = [c for c in ("index", "name", "kind", "in_myelin", "onnx_nodes", "mean_ms") if c in a.layers.columns]
    return a.layers[cols].to_dict("records") if len(a.layers) else []


def _add_layer_events(doc: _Doc, pid: int, tid: int | list[int], start: list[int], end: list[int | None],
                      heads: list[str], nodes: Sequence[list[str] | None], cats: list[str], tails: list[str]) -> None:
    """Layer ranges (markers where ``end`` is None or equal to start), with continuation events for long node
    lists on the process's "ONNX nodes (continued)" thread."""
    msgs: list[str] = []
    cs: list[int] = []
    ce: list[int] = []
    cm: list[str] = []
    for s, e, head, ns, tail in zip(start, end, heads, nodes, tails, strict=True):
        main, rest = _node_chunks(head, ns, MAX_MESSAGE_BYTES - _utf8_len(tail) - 8)
        msgs.append(main + tail)
        for r in rest:
            cs.append(s)
            ce.append(s if e is None else e)
            cm.append(r)
    ends = np.array([s if e is None else e for s, e in zip(start, end, strict=True)], dtype=np.int64)
    doc.add(pid, start, ends, tid, np.array(cats, dtype=object), msgs)
    if cm:
        doc.add(pid, cs, ce, doc.thread(pid, "cont", "ONNX nodes (continued)"), "note", cm)


def _synthetic(a: Analysis, doc: _Doc) -> int:
    """One inference laid end to end from mean layer times; returns the number of layers placed (0: none)."""
    rows = _layer_rows(a)
    if "mean_ms" not in a.layers.columns or not rows:
        return 0
    mean = pd.to_numeric(a.layers["mean_ms"], errors="coerce").to_numpy(dtype=np.float64)
    timed = np.isfinite(mean) & (mean >= 0)
    if not timed.any():
        return 0
    dur = np.where(timed, np.rint(np.where(timed, mean, 0) * 1e6), 0).astype(np.int64)
    start = np.concatenate([[0], np.cumsum(dur)[:-1]]).astype(np.int64)
    pid = doc.process("profile", SYNTHETIC_PROCESS)
    tid = doc.thread(pid, "layers", "layers (profile means laid end to end)")
    tails = [f"{_SEP}{m:.6g} ms (profile mean)" if ok else f"{_SEP}no time in the profile"
             for m, ok in zip(mean.tolist(), timed.tolist(), strict=True)]
    _add_layer_events(
        doc, pid, tid, start.tolist(), [int(s + d) if ok else None for s, d, ok in zip(
            start.tolist(), dur.tolist(), timed.tolist(), strict=True)],
        [_layer_head(r) for r in rows], [_nodes(r.get("onnx_nodes")) for r in rows],
        [str(r.get("kind")) if ok else "note" for r, ok in zip(rows, timed.tolist(), strict=True)], tails)
    return len(rows)


def _lit(x: Any) -> Any:
    return pa.scalar(x, type=pa.large_string()) if isinstance(x, str) else x


def _join(*parts: Any) -> pa.Array:
    """Concatenate large_string arrays and literal strings element-wise."""
    return pc.binary_join_element_wise(*(_lit(p) for p in parts), _lit(""))


def _str_array(values: Sequence[Any] | pd.Series) -> pa.Array:
    return pa.array([None if v is None or (isinstance(v, float) and v != v) else str(v) for v in values],
                    type=pa.large_string())


def _ints(s: pd.Series | None, n: int, fill: int) -> np.ndarray:
    if s is None:
        return np.full(n, fill, dtype=np.int64)
    return pd.to_numeric(s, errors="coerce").fillna(fill).to_numpy(dtype=np.int64)


def _gpu_pid(doc: _Doc, device: int, gpu: str | None) -> int:
    label = f"GPU {device}" if device >= 0 else "GPU (device unknown)"
    return doc.process(("gpu", device), f"{label}: {gpu} (trtscope)" if gpu else f"{label} (trtscope)")


def _captured(a: Analysis, doc: _Doc, gpu: str | None) -> dict[str, int]:
    """Layer executions, kernels and layers without kernels; returns counts."""
    k = a.kernels
    n = len(k)
    start = pd.to_numeric(k["start_ns"], errors="coerce")
    ok = start.notna().to_numpy()
    s = start.fillna(0).to_numpy(dtype=np.int64)
    e = pd.to_numeric(k["end_ns"], errors="coerce").fillna(start).fillna(0).to_numpy(dtype=np.int64)
    e = np.maximum(e, s)
    dev = _ints(k.get("device_id"), n, -1)
    strm = _ints(k.get("stream_id"), n, -1)
    lname = k["layer_name"].astype(object) if "layer_name" in k.columns else pd.Series([None] * n, dtype=object)
    rows = {r["index"]: r for r in _layer_rows(a)}
    t_first = int(s[ok].min()) if ok.any() else 0

    # layer executions, on a "layers" thread per stream
    ex = layer_executions(k)
    if len(ex):
        heads: list[str] = []
        nodes: list[list[str] | None] = []
        cats: list[str] = []
        tails: list[str] = []
        pids: list[int] = []
        tids: list[int] = []
        cols = {c: ex[c].tolist() for c in ("layer_index", "layer_name", "device_id", "stream_id", "kernels")}
        ex_start: list[int] = [int(x) for x in ex["start_ns"].tolist()]
        ex_end: list[int] = [int(x) for x in ex["end_ns"].tolist()]
        for i in range(len(ex)):
            li = cols["layer_index"][i]
            row = rows.get(int(li)) if li is not None and li is not pd.NA else None
            dev_i, st_i, nk = int(cols["device_id"][i]), int(cols["stream_id"][i]), int(cols["kernels"][i])
            pid = _gpu_pid(doc, dev_i, gpu)
            sname = f"stream {st_i}" if st_i >= 0 else "stream ?"
            pids.append(pid)
            tids.append(doc.thread(pid, ("layers", st_i), f"{sname} · layers (from kernels)"))
            if row is not None:
                heads.append(_layer_head(row))
                nodes.append(_nodes(row.get("onnx_nodes")))
                cats.append(str(row.get("kind")))
            else:
                heads.append(f"{cols['layer_name'][i]}{_SEP}layer (no layer information)")
                nodes.append(None)
                cats.append("layer")
            tails.append(f"{_SEP}{nk} kernel{'s' if nk != 1 else ''}")
        ex_pid = np.array(pids)
        for pid in np.unique(ex_pid).tolist():
            sel_ex = np.nonzero(ex_pid == pid)[0].tolist()
            def pick(xs: list[Any], sel: list[int] = sel_ex) -> list[Any]:
                return [xs[i] for i in sel]

            _add_layer_events(doc, int(pid), pick(tids), pick(ex_start), pick(ex_end), pick(heads), pick(nodes),
                              pick(cats), pick(tails))

    # kernels, on a "kernels" thread per stream
    sel = np.nonzero(ok)[0]
    if len(sel):
        kname = _str_array(k["name"].iloc[sel].tolist() if "name" in k.columns else [None] * len(sel))
        kname = pc.fill_null(kname, pa.scalar("(unnamed kernel)", type=pa.large_string()))
        layer_txt = _str_array(lname.iloc[sel].tolist())
        msg = pc.if_else(pc.is_null(layer_txt), kname,
                         _join(kname, f"{_SEP}layer: ", pc.fill_null(layer_txt, "")))
        keys = pd.DataFrame({"d": dev[sel], "s": strm[sel]})
        for (d, st), grp in keys.groupby(["d", "s"], sort=True):
            idx = grp.index.to_numpy()
            pid = _gpu_pid(doc, int(d), gpu)
            sname = f"stream {st}" if st >= 0 else "stream ?"
            tid = doc.thread(pid, ("kernels", st), f"{sname} · kernels")
            doc.add(pid, s[sel][idx], e[sel][idx], tid, "kernel", msg.take(pa.array(idx)))

    # layers of the report that ran no kernel in this capture
    ran = set(ex["layer_index"].dropna().astype(int).tolist()) if len(ex) else set()
    idle = _idle_layers(doc, [r for i, r in rows.items() if i not in ran], t_first, "the first kernel's time")
    return {"kernels": len(sel), "kernels_unplaced": int(n - len(sel)), "layer_executions": len(ex),
            "layers_without_kernels": idle}


def _idle_layers(doc: _Doc, idle: list[dict[str, Any]], at: int, when: str) -> int:
    """Markers at ``at`` for layers with no kernel (and no time) in this capture, so every layer of the report is
    in the file; returns how many."""
    if idle:
        pid = doc.process("layers-idle", "TensorRT engine: layers with no kernel in this capture (trtscope)")
        tid = doc.thread(pid, "idle", f"layers with no kernel (at {when})")
        _add_layer_events(doc, pid, tid, [at] * len(idle), [None] * len(idle),
                          [_layer_head(r) for r in idle], [_nodes(r.get("onnx_nodes")) for r in idle],
                          ["note"] * len(idle), [f"{_SEP}no kernel in this capture"] * len(idle))
    return len(idle)


def _nvtx(a: Analysis, doc: _Doc, t_end: int) -> int:
    r = a.nvtx_ranges
    n = len(r)
    start = pd.to_numeric(r["start_ns"], errors="coerce")
    sel = np.nonzero(start.notna().to_numpy())[0]
    if not len(sel):
        return 0
    s = start.fillna(0).to_numpy(dtype=np.int64)
    end = pd.to_numeric(r["end_ns"], errors="coerce") if "end_ns" in r.columns else pd.Series(np.nan, index=r.index)
    closed = end.notna().to_numpy()
    e = np.where(closed, end.fillna(0).to_numpy(dtype=np.int64), np.maximum(t_end, s))
    e = np.maximum(e, s)
    pid_v, tid_v = _ints(r.get("pid"), n, -1), _ints(r.get("tid"), n, -1)
    dom = r["domain"].astype(object) if "domain" in r.columns else pd.Series([None] * n, dtype=object)
    kind = r["range_kind"].astype(object) if "range_kind" in r.columns else pd.Series([None] * n, dtype=object)
    names = _str_array(r["name"].tolist() if "name" in r.columns else [None] * n)
    names = pc.fill_null(names, pa.scalar("(unnamed range)", type=pa.large_string()))
    msg = pc.if_else(pa.array(closed), names, _join(names, f"{_SEP}unclosed: drawn to the last event"))
    doms = dom.tolist()
    keys = pd.DataFrame({"p": pid_v[sel], "t": tid_v[sel],
                         "d": [doms[i] if isinstance(doms[i], str) and doms[i] else "default domain"
                               for i in sel.tolist()]})
    label = {RangeKind.TRTSCOPE.value: "trtscope ranges", RangeKind.LAYER.value: "TensorRT layer ranges"}
    for (p, t, d), grp in keys.groupby(["p", "t", "d"], sort=True):
        idx = sel[grp.index.to_numpy()]
        pid = doc.process(("host", int(p)), f"host process {p} (trtscope)" if p >= 0 else "host process ? (trtscope)")
        what = label.get(str(kind.tolist()[int(idx[0])]), f"NVTX {d}")
        tid = doc.thread(pid, ("nvtx", int(t), d), f"thread {t if t >= 0 else '?'} · {what} (domain {d})")
        doc.add(pid, s[idx], e[idx], tid, "nvtx", msg.take(pa.array(idx)))
    return len(sel)


#: NVML columns in a sample's marker: (column, label, unit).
NVML_FIELDS = (
    ("gpu_util_pct", "GPU", "%"), ("mem_util_pct", "memory", "%"), ("sm_clock_mhz", "SM", "MHz"),
    ("mem_clock_mhz", "memory clock", "MHz"), ("power_w", "power", "W"), ("temperature_c", "temperature", "C"),
    ("memory_used_mib", "memory used", "MiB"),
)


def _nvml(a: Analysis, doc: _Doc, gpu: str | None) -> int:
    s = a.nvml
    n = len(s)
    ts = pd.to_numeric(s["timestamp_ns"], errors="coerce")
    sel = np.nonzero(ts.notna().to_numpy())[0]
    if not len(sel):
        return 0
    g = _ints(s.get("gpu_index"), n, -1)
    parts: list[list[str | None]] = []
    for col, label, unit in NVML_FIELDS:
        if col not in s.columns:
            continue
        v = pd.to_numeric(s[col], errors="coerce").to_numpy(dtype=np.float64)[sel]
        parts.append([None if not np.isfinite(x) else f"{label} {x:.6g} {unit}" for x in v.tolist()])
    # (joined here, not with pc.binary_join_element_wise(null_handling="skip"): pyarrow 26 drops the rows whose
    # inputs are all null from its result, so a sample without any value shifted every later message)
    body = pa.array([" · ".join(p for p in row if p is not None) for row in zip(*parts, strict=True)]
                    if parts else [""] * len(sel), type=pa.large_string())
    for dev in sorted(set(g[sel].tolist())):
        idx = np.nonzero(g[sel] == dev)[0]
        pid = _gpu_pid(doc, int(dev), gpu)
        tid = doc.thread(pid, "nvml", "NVML samples (values in each marker)")
        head = f"NVML GPU {dev}: "
        doc.add(pid, ts.to_numpy(dtype=np.float64)[sel][idx].astype(np.int64), None, tid, "nvml",
                _join(head, body.take(pa.array(idx))))
    return len(sel)


def _unrun_nodes(a: Analysis, doc: _Doc, at: int) -> int:
    """Markers listing ONNX nodes no exported layer runs (folded, or unknown to the layer information)."""
    nodes = a.onnx_nodes
    if not len(nodes) or "name" not in nodes.columns:
        return 0
    run = {str(x) for v in (a.layers["onnx_nodes"] if "onnx_nodes" in a.layers.columns else []) for x in _nodes(v)}
    status = nodes["status"].astype(object) if "status" in nodes.columns else pd.Series([None] * len(nodes))
    rest = [f"{nm} ({st})" if isinstance(st, str) else str(nm)
            for nm, st in zip(nodes["name"].tolist(), status.tolist(), strict=True) if str(nm) not in run]
    if not rest:
        return 0
    pid = doc.process("onnx", "ONNX model: nodes run by no engine layer (trtscope)")
    tid = doc.thread(pid, "unrun", "ONNX nodes run by no layer")
    _, chunks = _node_chunks("ONNX nodes run by no layer", rest, 0)  # limit 0: always the chunked form
    msgs = chunks or [f"ONNX nodes run by no layer: {', '.join(rest)}"]
    doc.add(pid, [at] * len(msgs), None, tid, "note", msgs)
    return len(rest)


# --- time base ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Clock:
    """How source times become the file's time values, and what the header says about it."""

    base: TimeBase
    convert: Callable[[np.ndarray], np.ndarray]
    notes: list[str]


def monotonic_raw_converter(pairing: dict[str, Any]) -> Callable[[np.ndarray], np.ndarray]:
    """CLOCK_MONOTONIC ns -> CLOCK_MONOTONIC_RAW ns through a bundle's start/stop pairs (manifest key
    ``clock_alignment.monotonic_raw``): the offset at the start plus the drift between the two clocks over
    the run, linearly. Raises KeyError/TypeError/ValueError on a malformed pairing."""
    m0, r0 = int(pairing["start"]["monotonic_ns"]), int(pairing["start"]["monotonic_raw_ns"])
    m1, r1 = int(pairing["stop"]["monotonic_ns"]), int(pairing["stop"]["monotonic_raw_ns"])
    return lambda t: two_point_map(t, m0, r0, m1, r1)


def _source_kind(a: Analysis) -> str:
    meta = a.artifacts.metadata
    bundle = meta.get("bundle") if isinstance(meta.get("bundle"), dict) else None
    if meta.get("source") == "nsys" or (bundle is not None and bundle.get("kind") == "nsys-import"):
        return "nsys"
    return "bundle" if bundle is not None else "files"


def _choose_clock(a: Analysis, requested: str, synthetic: bool, t0: int) -> _Clock:
    if requested not in TIME_BASE_CHOICES:
        raise TrtscopeError(f"unknown NVTXT time base {requested!r} (choose from {', '.join(TIME_BASE_CHOICES)})")
    if synthetic:
        if requested not in ("auto", "manual"):
            raise TrtscopeError(f"--time-base {requested}: a profile's means laid end to end are on no clock; "
                                "only manual applies")
        return _Clock(TimeBase.MANUAL, lambda t: np.asarray(t, dtype=np.int64), [
            "Synthetic timeline: the profile's mean layer times laid end to end from 0 ns (one inference). It is",
            "NOT a measured schedule. TimeBase Manual: merge it with `--mode lin --ns_a NS --freq 1000000000`",
            "(trtscope nsys merge --at NS) to place it at NS in a report."])
    kind = _source_kind(a)
    bundle = a.artifacts.metadata.get("bundle") or {}
    pairing = (bundle.get("clock_alignment") or {}).get("monotonic_raw") if isinstance(bundle, dict) else None
    paired = isinstance(pairing, dict) and "start" in pairing and "stop" in pairing
    want = _CHOICE.get(requested)
    if want is None:  # auto
        want = TimeBase.RELATIVE if kind == "nsys" else TimeBase.MONOTONIC_RAW if paired else TimeBase.MANUAL
    if want is TimeBase.RELATIVE:
        if kind != "nsys":
            raise TrtscopeError("--time-base relative: only an nsys import's times are relative to an Nsight "
                                "Systems session; use manual")
        return _Clock(TimeBase.RELATIVE, lambda t: np.asarray(t, dtype=np.int64), [
            "Times are the nsys report's own (ns from its session start), TimeBase Relative: merged into the",
            "report they came from, every range lands on the kernels it describes."])
    if want is TimeBase.MONOTONIC_RAW:
        if not paired:
            why = "an nsys import is on the report's session clock" if kind == "nsys" else (
                "this capture recorded no CLOCK_MONOTONIC/CLOCK_MONOTONIC_RAW pairing (manifest "
                "clock_alignment.monotonic_raw; bundles from before trtscope recorded it)")
            raise TrtscopeError(f"--time-base monotonic-raw: {why}; its times cannot be converted. Use manual")
        assert isinstance(pairing, dict)
        try:
            conv = monotonic_raw_converter(pairing)
        except (KeyError, TypeError, ValueError) as err:
            raise TrtscopeError(f"the bundle's clock_alignment.monotonic_raw is malformed ({err!r})") from err
        return _Clock(TimeBase.MONOTONIC_RAW, conv, [
            "Times converted from the capture's CLOCK_MONOTONIC to CLOCK_MONOTONIC_RAW through the start/stop",
            f"pairs the capture recorded (drift {pairing.get('drift_ppm')} ppm, uncertainty "
            f"{pairing.get('uncertainty_ns')} ns), TimeBase ClockMonotonicRaw: merge into an Nsight Systems",
            "report taken on the same machine during the same boot. (ImportNvtxt cannot --cmd create such a",
            "file on its own: export with --time-base manual for a stand-alone report.)"])
    clock = (bundle.get("clock") or {}).get("name", "CLOCK_MONOTONIC") if kind == "bundle" else (
        "the nsys session clock" if kind == "nsys" else "the capture clock")
    why = ("requested" if requested == "manual" else
           "this capture recorded no CLOCK_MONOTONIC/CLOCK_MONOTONIC_RAW pairing, so its times cannot be put "
           "on Nsight Systems' clock")
    return _Clock(TimeBase.MANUAL, lambda t: np.asarray(t, dtype=np.int64) - t0, [
        f"TimeBase Manual ({why}): times are ns since the first event, {t0} ns on {clock}.",
        "Merged into a report they land at the report's start unless placed with trtscope nsys merge --at NS."])


# --- rendering ----------------------------------------------------------------------------------------------
@dataclass
class RenderedNvtxt:
    """An NVTXT file as text pieces plus what it holds."""

    header: list[str]
    body: list[pa.Array]
    time_base: TimeBase
    timeline: str  # "kernels" | "profile_means" | "none" (no layer timeline: NVTX ranges / NVML samples only)
    ranges: int
    markers: int
    first: int | None  # smallest / largest time value written
    last: int | None
    counts: dict[str, int]

    @property
    def events(self) -> int:
        return self.ranges + self.markers

    def chunks(self) -> Iterable[bytes]:
        yield ("\n".join(self.header) + "\n").encode("utf-8")
        for lines in self.body:
            body = _join(lines, "\n")
            yield "".join(body.to_pylist()).encode("utf-8", "replace")


def _quoted(msgs: pa.Array) -> pa.Array:
    codes, uniques = pd.factorize(pd.Series(msgs.to_pylist(), dtype=object), use_na_sentinel=True)
    table = pa.array([quote(str(u)) for u in uniques] + ['""'], type=pa.large_string())
    return table.take(pa.array(np.where(codes >= 0, codes, len(uniques))))


def _render(doc: _Doc, clock: _Clock) -> tuple[list[pa.Array], int, int, int | None, int | None]:
    body: list[pa.Array] = []
    ranges = markers = 0
    lo: int | None = None
    hi: int | None = None
    for pid in sorted({b.pid for b in doc.blocks}):
        body.append(pa.array([f"ProcessId = {pid}"], type=pa.large_string()))
        for b in (x for x in doc.blocks if x.pid == pid):
            order = np.lexsort((b.tid, b.start))
            start = clock.convert(b.start[order])
            if (start < 0).any():
                raise TrtscopeError(f"a time before the {clock.base} origin ({int(start.min())} ns): "
                                    "export with --time-base manual")
            cats = (np.full(len(order), b.category, dtype=object) if isinstance(b.category, str)
                    else np.asarray(b.category, dtype=object)[order])
            cat_txt = pa.array([f"{CATEGORIES.get(str(c), CATEGORIES['note'])[0]}, "
                                f"0x{CATEGORIES.get(str(c), CATEGORIES['note'])[1]:08X}" for c in cats.tolist()],
                               type=pa.large_string())
            msg = _quoted(b.messages.take(pa.array(order)))
            tid = pa.array(b.tid[order]).cast(pa.large_string())
            if b.end is None:
                line = _join("Marker, ", pa.array(start).cast(pa.large_string()), ", ", tid, ", ", cat_txt, ", ", msg)
                markers += len(order)
                stop = start
            else:
                stop = clock.convert(b.end[order])
                line = _join("RangeStartEnd, ", pa.array(start).cast(pa.large_string()), ", ",
                             pa.array(stop).cast(pa.large_string()), ", ", tid, ", ", cat_txt, ", ", msg)
                ranges += len(order)
            body.append(line)
            lo = int(start.min()) if lo is None else min(lo, int(start.min()))
            hi = int(stop.max()) if hi is None else max(hi, int(stop.max()))
    return body, ranges, markers, lo, hi


def _last_time(doc: _Doc) -> int:
    return int(max([int(b.start.max()) for b in doc.blocks] + [int(b.end.max()) for b in doc.blocks
                                                                if b.end is not None]))


def _last_captured_time(a: Analysis) -> int | None:
    """The latest NVTX range bound or NVML sample time (a capture without kernels), or None."""
    cols = [(a.nvtx_ranges, "start_ns"), (a.nvtx_ranges, "end_ns"), (a.nvml, "timestamp_ns")]
    found = [pd.to_numeric(t[c], errors="coerce").max() for t, c in cols if c in t.columns and len(t)]
    found = [x for x in found if pd.notna(x)]
    return int(max(found)) if found else None


def render_nvtxt(a: Analysis, time_base: str = "auto") -> RenderedNvtxt:
    """Build the whole file (see the module docstring)."""
    doc = _Doc()
    meta = a.artifacts.metadata
    gpu = meta.get("gpu") if isinstance(meta.get("gpu"), str) else None
    counts: dict[str, int] = {}
    if len(a.kernels):
        counts.update(_captured(a, doc, gpu))
    timeline = "kernels" if counts.get("kernels") else "none"
    if timeline == "none":
        doc = _Doc()
        counts = {"layers": _synthetic(a, doc)}
        timeline = "profile_means" if counts["layers"] else "none"
    if timeline == "none":  # no layer timeline: what the capture measured on its clock still goes in
        counts = {}
    synthetic = timeline == "profile_means"
    if not synthetic:
        # (an NVTX range left open is drawn to the last event: of the kernels, else of the ranges and samples)
        t_end = _last_time(doc) if doc.blocks else _last_captured_time(a)
        if len(a.nvtx_ranges) and t_end is not None:
            counts["nvtx_ranges"] = _nvtx(a, doc, t_end)
        if len(a.nvml):
            counts["nvml_samples"] = _nvml(a, doc, gpu)
    if not doc.blocks:
        raise TrtscopeError("nothing to put on a timeline: no captured kernels, NVTX ranges or NVML samples and "
                            "no per-layer times (give a --profile, or a capture bundle / nsys import)")
    t0 = int(min(int(b.start.min()) for b in doc.blocks))
    if timeline == "none":  # (the layers ran no kernel this capture saw and have no time: markers, as above)
        counts["layers_without_kernels"] = _idle_layers(doc, _layer_rows(a), t0, "the first event's time")
    counts["onnx_nodes_run_by_no_layer"] = _unrun_nodes(a, doc, t0)
    clock = _choose_clock(a, time_base, synthetic, t0)
    body, ranges, markers, lo, hi = _render(doc, clock)
    names = [f"NameProcess, {pid}, {quote(name)}" for pid, name in doc.processes.values()]
    names += [f"NameOsThread, {pid}, {tid}, {quote(name)}" for (pid, _), (tid, name) in doc.threads.items()]
    sources = ", ".join(s.path for s in a.artifacts.sources) or "(no files)"
    cats = ", ".join(f"{cid} {kind}" for kind, (cid, _) in CATEGORIES.items())
    header = [
        f"{NVTXT_HEAD.decode()}{__version__} from {sources}",
        f"# {ranges} ranges and {markers} markers ({ranges + markers} events); time values {lo} .. {hi} ns",
        *(f"# {line}" for line in clock.notes),
        "# One range per layer execution (layer | kind | ONNX nodes | kernels), per kernel and per NVTX range; markers",
        "# for zero-length events, layers without time or kernels, NVML samples and ONNX nodes run by no layer.",
        f"# CategoryId: {cats}.",
        f"# Counts: {', '.join(f'{k} {v}' for k, v in counts.items())}.",
        f"SetFileDisplayName, {quote('trtscope: ' + (Path(a.artifacts.sources[0].path).name if a.artifacts.sources else 'export'))}",  # noqa: E501
        *names,
        "@RangeStartEnd, Start, End, ThreadId, CategoryId, Color, Message",
        "@Marker, Time, ThreadId, CategoryId, Color, Message",
        f"TimeBase = {clock.base.value}",
    ]
    return RenderedNvtxt(header, body, clock.base, timeline, ranges, markers, lo, hi, counts)


@dataclass
class NvtxtResult:
    path: Path
    time_base: TimeBase
    timeline: str
    ranges: int
    markers: int
    first: int | None
    last: int | None
    counts: dict[str, int]

    @property
    def events(self) -> int:
        return self.ranges + self.markers


def write_nvtxt(a: Analysis, out: str | Path, *, time_base: str = "auto", force: bool = False) -> NvtxtResult:
    """Write the NVTXT file atomically."""
    path = Path(out)
    rendered = render_nvtxt(a, time_base)
    check_file_target(path, force=force)
    write_file_atomically(path, lambda fh: _write(rendered, fh))
    return NvtxtResult(path, rendered.time_base, rendered.timeline, rendered.ranges, rendered.markers,
                       rendered.first, rendered.last, rendered.counts)


def _write(rendered: RenderedNvtxt, fh: IO[bytes]) -> None:
    for chunk in rendered.chunks():
        fh.write(chunk)
        if chunk and not chunk.endswith(b"\n"):
            fh.write(b"\n")


def importnvtxt_argv(tool: str, command: str, *, nvtxt: str, output: str, report: str | None = None,
                     at_ns: int | None = None, update_report_time: bool = False,
                     target: str | None = None) -> list[str]:
    """The ``ImportNvtxt`` command line for ``create`` / ``merge`` (``--mode lin`` places a Manual file;
    ``target`` ``HW:VM`` names the report's machine whose clock a ``ClockMonotonicRaw`` file is on)."""
    argv = [tool, "--cmd", command]
    if report is not None:
        argv += ["-i", report]
    argv += ["-n", nvtxt, "-o", output]
    if at_ns is not None:
        argv += ["--mode", "lin", "--ns_a", str(at_ns), "--freq", "1000000000"]
    if target is not None:
        argv += ["--target", target]
    if update_report_time:
        argv.append("--update_report_time")
    return argv


# --- merging a ClockMonotonicRaw file into a real report ------------------------------------------------------
# Checked with Nsight Systems 2022.4 on a report `nsys profile` made (docs/exports.md, tests/test_nsys_merge_clock.py):
# ImportNvtxt converts a ClockMonotonicRaw file only with `--target HW:VM` naming the report's machine (without
# it: "Failed to find conversion routine chain ... LocatorByGlobalId(:0:0)", the conversions the report has
# listed after it), and it places the events early by the report's analysis start (the time between the
# session's start and the start of collection, which `--cmd info` prints): trtscope nsys merge finds the
# target in that message and adds the analysis start to the file's times.
_NO_CONVERSION = "Failed to find conversion routine chain"
_TARGETS = re.compile(r"LocatorFrom: LocatorByGlobalId\(:(\d+):(\d+)\), LocatorTo: LocatorSession")
_TIME_BASE_LINE = re.compile(rb"TimeBase\s*=\s*(\w+)")
_RANGE_LINE = re.compile(rb"RangeStartEnd, (-?\d+), (-?\d+),")
_MARKER_LINE = re.compile(rb"Marker, (-?\d+),")


def needs_target(run: ToolRun) -> bool:
    """Whether ImportNvtxt failed for want of ``--target`` (a ClockMonotonicRaw file, a real report)."""
    return run.returncode != 0 and _NO_CONVERSION in run.output


def conversion_targets(output: str) -> list[str]:
    """``HW:VM`` of every machine ImportNvtxt's failure message lists a clock conversion for (after "Available
    conversions": before it, the message names the conversion it looked for)."""
    _, sep, listed = output.partition("Available conversions")
    return list(dict.fromkeys(f"{hw}:{vm}" for hw, vm in _TARGETS.findall(listed))) if sep else []


def time_bases(nvtxt: str | Path) -> set[str]:
    """The ``TimeBase`` values an NVTXT file sets (comments skipped)."""
    found: set[str] = set()
    with open(nvtxt, "rb") as fh:
        for line in fh:
            if not line.lstrip().startswith(b"#"):
                m = _TIME_BASE_LINE.match(line.strip())
                if m:
                    found.add(m.group(1).decode("ascii"))
    return found


def analysis_start(tool: str, report: str | Path) -> int | None:
    """The report's analysis start in ns of its session (``ImportNvtxt --cmd info``), or None."""
    run = run_importnvtxt([tool, "--cmd", "info", "-i", str(report)], timeout=120.0)
    m = re.search(r"Analysis start \(ns\)\s+(-?\d+)", run.output)
    return int(m.group(1)) if run.returncode == 0 and m else None


def write_shifted(src: str | Path, dst: str | Path, shift_ns: int) -> None:
    """A copy of trtscope's NVTXT ``src`` with every event time moved by ``shift_ns`` (written atomically). Only
    files trtscope wrote: their event lines have the times first (``RangeStartEnd, Start, End, …``,
    ``Marker, Time, …``), which the header's ``@`` lines declare."""
    with open(src, "rb") as fh:
        if not fh.read(len(NVTXT_HEAD)).startswith(NVTXT_HEAD):
            raise TrtscopeError(f"{src}: not an NVTXT file trtscope wrote; its times cannot be moved")

    def moved(m: re.Match[bytes]) -> bytes:
        return b", ".join(str(int(t) + shift_ns).encode() for t in m.groups())

    def write(fh: IO[bytes]) -> None:
        with open(src, "rb") as inp:
            for line in inp:
                m = _RANGE_LINE.match(line) or _MARKER_LINE.match(line)
                fh.write(line[: m.start(1)] + moved(m) + b"," + line[m.end() :] if m else line)

    write_file_atomically(Path(dst), write)


# --- ImportNvtxt --------------------------------------------------------------------------------------------
#: Where Nsight Systems installs put ImportNvtxt (NVIDIA's installers, the CUDA toolkit, Debian's package).
IMPORTNVTXT_GLOBS = (
    "/opt/nvidia/nsight-systems/*/host-linux-x64/ImportNvtxt",
    "/usr/local/cuda*/nsight-systems*/host-linux-x64/ImportNvtxt",
    "/usr/lib/nsight-systems/host-linux-x64/ImportNvtxt",
)


def find_importnvtxt() -> Path | None:
    """``$TRTSCOPE_IMPORTNVTXT``, else ``ImportNvtxt`` on PATH, else the newest standard install; None if none."""
    env = os.environ.get("TRTSCOPE_IMPORTNVTXT")
    if env:
        return Path(env) if Path(env).is_file() else None
    on_path = shutil.which("ImportNvtxt")
    if on_path:
        return Path(on_path)
    found = sorted(p for g in IMPORTNVTXT_GLOBS for p in glob.glob(g) if os.access(p, os.X_OK))
    return Path(found[-1]) if found else None


@dataclass
class ToolRun:
    argv: list[str]
    returncode: int
    output: str  # stdout and stderr together
    imported: int | None  # "N events imported", when printed


def run_importnvtxt(argv: list[str], timeout: float = 600.0) -> ToolRun:
    """Run ImportNvtxt with its own directory first on the library path (it ships its libraries beside it)."""
    env = dict(os.environ)
    here = str(Path(argv[0]).resolve().parent)
    env["LD_LIBRARY_PATH"] = here + (os.pathsep + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, errors="replace", env=env, timeout=timeout,
                              check=False)
    except OSError as err:
        raise TrtscopeError(f"cannot run {argv[0]}: {err.strerror or err}") from err
    except subprocess.TimeoutExpired as err:
        raise TrtscopeError(f"{argv[0]} did not finish within {timeout:.0f} s") from err
    out = (proc.stdout or "") + (proc.stderr or "")
    m = re.findall(r"(\d+) events imported", out)
    return ToolRun(argv, proc.returncode, out, int(m[-1]) if m else None)


def written_events(nvtxt: str | Path) -> int | None:
    """The event count a trtscope NVTXT header states (None for other files)."""
    try:
        with open(nvtxt, encoding="utf-8", errors="replace") as fh:
            for _ in range(3):
                m = re.match(r"# \d+ ranges and \d+ markers \((\d+) events\)", fh.readline())
                if m:
                    return int(m.group(1))
    except OSError:
        return None
    return None


__all__: Sequence[str] = [
    "BASE_PID",
    "CATEGORIES",
    "IMPORTNVTXT_GLOBS",
    "MAX_MESSAGE_BYTES",
    "TIME_BASE_CHOICES",
    "NvtxtResult",
    "RenderedNvtxt",
    "TimeBase",
    "ToolRun",
    "analysis_start",
    "conversion_targets",
    "find_importnvtxt",
    "importnvtxt_argv",
    "monotonic_raw_converter",
    "needs_target",
    "quote",
    "render_nvtxt",
    "run_importnvtxt",
    "time_bases",
    "write_nvtxt",
    "write_shifted",
    "written_events",
]
