"""CUPTI activity buffers decoded with numpy: a record walk, then one vectorised gather per field.

Why: building a Python object per activity record (cupti-python's buffer callback) and copying its fields
one attribute at a time cost microseconds per record while holding the GIL against the traced thread; a
CUDA-graph replay produces one record per graph node. Here a delivered buffer is copied once, walked run by
run (consecutive records of one layout are found with one numpy comparison), and decoded after the run with
one strided copy per field and run.

Record layouts are those of CUPTI 13.0's ``cupti_activity.h`` (``CUpti_ActivityKernel10``,
``CUpti_ActivityAPI``, ``CUpti_ActivityMarker2``); :func:`layouts_from_cupti` takes the sizes and offsets
from cupti-python's numpy dtypes instead when it has them (its layouts match the libcupti it ships for). A
buffer whose walk does not end exactly at its valid size is reported, never decoded past the break.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np
import pandas as pd


class Kind(IntEnum):
    """``CUpti_ActivityKind`` values this tracer records (stable ABI values of ``cupti_activity.h``)."""

    KERNEL = 3
    DRIVER = 4
    RUNTIME = 5
    CONCURRENT_KERNEL = 10
    MARKER = 12


@dataclass(frozen=True)
class Layout:
    """One record type: its size in bytes, ``field -> (byte offset, numpy dtype)`` and which fields are
    ``const char *`` (resolved to text while the buffer is delivered: CUPTI owns those strings)."""

    size: int
    fields: Mapping[str, tuple[int, str]]
    strings: tuple[str, ...] = ()


KERNEL_LAYOUT = Layout(  # CUpti_ActivityKernel10 (CUDA 13.0)
    216,
    {
        "kind": (0, "<u4"),
        "start": (16, "<u8"),
        "end": (24, "<u8"),
        "device_id": (40, "<u4"),
        "stream_id": (48, "<u4"),
        "grid_x": (52, "<i4"),
        "grid_y": (56, "<i4"),
        "grid_z": (60, "<i4"),
        "block_x": (64, "<i4"),
        "block_y": (68, "<i4"),
        "block_z": (72, "<i4"),
        "correlation_id": (92, "<u4"),
        "name": (104, "<u8"),
        "graph_node_id": (144, "<u8"),
    },
    ("name",),
)
API_LAYOUT = Layout(  # CUpti_ActivityAPI
    40,
    {
        "kind": (0, "<u4"),
        "cbid": (4, "<u4"),
        "start": (8, "<u8"),
        "end": (16, "<u8"),
        "process_id": (24, "<u4"),
        "thread_id": (28, "<u4"),
        "correlation_id": (32, "<u4"),
        "return_value": (36, "<u4"),
    },
)
MARKER_LAYOUT = Layout(  # CUpti_ActivityMarker2; objectId.pt = {processId, threadId} at offset 24
    56,
    {
        "kind": (0, "<u4"),
        "flags": (4, "<u4"),
        "timestamp": (8, "<u8"),
        "id": (16, "<u4"),
        "process_id": (24, "<u4"),
        "thread_id": (28, "<u4"),
        "name": (40, "<u8"),
        "domain": (48, "<u8"),
    },
    ("name", "domain"),
)


@dataclass(frozen=True)
class Layouts:
    """Record layouts by activity kind; kinds that share one :class:`Layout` object form a group whose
    records are walked and decoded together (kernel + concurrent kernel, runtime + driver)."""

    by_kind: Mapping[int, Layout]

    def groups(self) -> list[tuple[Layout, frozenset[int]]]:
        out: list[tuple[Layout, frozenset[int]]] = []
        for lay in {id(v): v for v in self.by_kind.values()}.values():
            out.append((lay, frozenset(k for k, v in self.by_kind.items() if v is lay)))
        return out

    def group_of(self, kind: int) -> int:
        lay = self.by_kind[kind]
        return next(i for i, (g, _) in enumerate(self.groups()) if g is lay)


DEFAULT_LAYOUTS = Layouts(
    {
        Kind.KERNEL: KERNEL_LAYOUT,
        Kind.CONCURRENT_KERNEL: KERNEL_LAYOUT,
        Kind.DRIVER: API_LAYOUT,
        Kind.RUNTIME: API_LAYOUT,
        Kind.MARKER: MARKER_LAYOUT,
    }
)


def _newest_dtype(cu: Any, stem: str) -> Any:
    """cupti-python's dtype for the newest version of a record (``activity_kernel10_dtype`` ...)."""
    best: tuple[int, Any] | None = None
    for name in dir(cu):
        m = re.fullmatch(rf"activity_{stem}(\d*)_dtype", name)
        if m:
            version = int(m.group(1) or 0)
            if best is None or version > best[0]:
                best = (version, getattr(cu, name))
    return None if best is None else best[1]


def _from_dtype(base: Layout, dt: Any, renames: Mapping[str, str]) -> Layout:
    """``base`` with the size and offsets of a cupti-python structured dtype (fields found by name)."""
    try:
        fields = dict(base.fields)
        for ours, (_, code) in base.fields.items():
            if ours == "kind":  # every record starts with its kind
                continue
            path = renames.get(ours, ours).split(".")
            sub, offset = dt, 0
            for part in path:
                sub_dt, off = sub.fields[part][:2]
                sub, offset = sub_dt, offset + off
            fields[ours] = (offset, code)
        return Layout(int(dt.itemsize), fields, base.strings)
    except Exception:  # not the shape we know: keep the header's layout
        return base


def layouts_from_cupti(cu: Any) -> Layouts:
    """Record layouts from cupti-python's numpy dtypes where it has them, else CUPTI 13.0's."""
    kernel = _newest_dtype(cu, "kernel")
    api = getattr(cu, "activity_api_dtype", None)
    marker = _newest_dtype(cu, "marker")
    k = _from_dtype(KERNEL_LAYOUT, kernel, {}) if kernel is not None else KERNEL_LAYOUT
    a = _from_dtype(API_LAYOUT, api, {}) if api is not None else API_LAYOUT
    m = (
        _from_dtype(
            MARKER_LAYOUT,
            marker,
            {"flags": "flags_", "process_id": "object_id.pt.process_id", "thread_id": "object_id.pt.thread_id"},
        )
        if marker is not None
        else MARKER_LAYOUT
    )
    return Layouts({Kind.KERNEL: k, Kind.CONCURRENT_KERNEL: k, Kind.DRIVER: a, Kind.RUNTIME: a, Kind.MARKER: m})


@dataclass
class Walk:
    """Where the records of a buffer are: for each layout group (index into ``Layouts.groups()``), runs of
    consecutive records ``(first byte, count)``; ``end`` < buffer size means the walk broke there, at a
    record of kind ``stopped_at_kind``."""

    runs: dict[int, list[tuple[int, int]]]
    end: int
    stopped_at_kind: int | None = None

    def count(self, group: int) -> int:
        return sum(n for _, n in self.runs.get(group, ()))


SCALAR_RUN = 64  # records of a run followed one by one before the rest of the run is measured with numpy
PERIOD_RUNS = 4  # longest repeating pattern of runs looked for (e.g. [API calls, kernels of one graph launch])
PERIOD_BATCH = 1024  # repetitions of a pattern checked per numpy call


class _Walker:
    """State of one buffer walk (see :func:`walk`)."""

    def __init__(self, buf: bytes, layouts: Layouts) -> None:
        self.groups = layouts.groups()
        self.group_of = {k: i for i, (_, kinds) in enumerate(self.groups) for k in kinds}
        self.sizes = [lay.size for lay, _ in self.groups]
        self.kind_arrays = [np.array(sorted(kinds), dtype=np.uint32) for _, kinds in self.groups]
        self.total = len(buf)
        self.n = self.total - self.total % 4
        self.words = memoryview(buf)[: self.n].cast("I")
        self.u32 = np.frombuffer(buf, dtype="<u4", count=self.n // 4)
        self.runs: dict[int, list[tuple[int, int]]] = {}
        self.seq: list[tuple[int, int, int]] = []  # (group, first byte, count) in buffer order

    def run_at(self, pos: int) -> int | None:
        """Follow the run of records starting at ``pos``; its length in bytes, None at an unknown kind."""
        kind = self.words[pos >> 2]
        g = self.group_of.get(kind)
        size = self.sizes[g] if g is not None else 0
        if g is None or size <= 0 or size % 4 or pos + size > self.total:
            return None
        members, words, total = self.groups[g][1], self.words, self.total
        count, nxt = 1, pos + size
        while count < SCALAR_RUN and nxt + size <= total and words[nxt >> 2] in members:
            count, nxt = count + 1, nxt + size
        if count == SCALAR_RUN:
            most = (total - pos) // size  # records that fit
            window = 256
            while count < most:
                hi = min(most, count + window)
                at = (pos + size * np.arange(count, hi, dtype=np.int64)) >> 2
                same = _member(self.u32[at], self.kind_arrays[g])
                if not bool(same.all()):
                    count += int(np.argmin(same))
                    break
                count = hi
                window *= 4
        self.add(g, pos, count)
        return size * count

    def add(self, g: int, start: int, count: int) -> None:
        self.runs.setdefault(g, []).append((start, count))
        self.seq.append((g, start, count))

    def _add_repeats(self, pattern: list[tuple[int, int, int]], shifts: np.ndarray) -> None:
        """The runs of ``pattern`` moved by each of ``shifts`` (in buffer order within each group)."""
        if len(shifts) == 0:
            return
        for g in dict.fromkeys(g for g, _, _ in pattern):
            mine = [(s, c) for gg, s, c in pattern if gg == g]
            starts = (shifts[:, None] + np.array([s for s, _ in mine], dtype=np.int64)[None, :]).ravel().tolist()
            self.runs.setdefault(g, []).extend(zip(starts, itertools.cycle([c for _, c in mine])))
        last = shifts[-1]
        self.seq.extend((g, s + int(last), c) for g, s, c in pattern)
        del self.seq[: -2 * PERIOD_RUNS]

    def repeats(self, pos: int) -> int:
        """If the last few runs repeat the ones before them, check how many more repetitions follow (every
        record start of the pattern, repetition by repetition, in one numpy comparison per batch) and take
        them; exact for the same reason as a run. The bytes taken."""
        seq = self.seq
        for d in range(2, PERIOD_RUNS + 1):
            if len(seq) < 2 * d:
                return 0
            last, prev = seq[-d:], seq[-2 * d : -d]
            if any(a[0] != b[0] or a[2] != b[2] for a, b in zip(last, prev, strict=True)):
                continue
            first = last[0][1]
            period = pos - first
            rel = np.concatenate([s - first + self.sizes[g] * np.arange(c, dtype=np.int64) for g, s, c in last])
            grp = np.concatenate([np.full(c, g) for g, _, c in last])
            cols = {g: grp == g for g in {g for g, _, _ in last}}
            most = (self.total - pos) // period
            done = 0
            while done < most:
                todo = min(PERIOD_BATCH, most - done)
                base = pos + period * np.arange(done, done + todo, dtype=np.int64)
                kinds = self.u32[(base[:, None] + rel[None, :]) >> 2]
                ok = np.ones(kinds.shape, dtype=bool)
                for g, c in cols.items():
                    ok[:, c] = _member(kinds[:, c], self.kind_arrays[g])
                good = ok.all(axis=1)
                m = todo if bool(good.all()) else int(np.argmin(good))
                self._add_repeats(last, base[:m] - first)
                done += m
                if m < todo:
                    break
            return period * done
        return 0


def _member(kinds: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """``np.isin`` for the one or two kinds of a layout group, without its sort."""
    out = kinds == allowed[0]
    for k in allowed[1:]:
        out |= kinds == k
    return out


def walk(buf: bytes, layouts: Layouts) -> Walk:
    """Runs of records by layout group. The kind word of each record is read in turn (a run of one layout
    group continues while the next kind belongs to the group); once a run is ``SCALAR_RUN`` records long,
    the rest is measured with one vectorised look at the kind word every ``size`` bytes — exact, since each
    record of a run starts where the previous one ended. A repeating pattern of short runs (a graph launch's
    API records, then its kernels, again and again) is extended the same way, a batch of repetitions at a
    time. A record of an unknown kind ends the walk (its size is unknown)."""
    w = _Walker(buf, layouts)
    pos = 0
    while pos < w.n:
        step = w.run_at(pos)
        if step is None:
            return Walk(w.runs, pos, w.words[pos >> 2])
        pos += step
        pos += w.repeats(pos)
    return Walk(w.runs, pos)


BLOCK = 4096  # records per strided copy: every field of a block is read while the block is in cache


def _short_runs(runs: list[tuple[int, int]]) -> bool:
    """Runs too short for strided copies to pay (one numpy call per field and run): index by offset."""
    return len(runs) > 4 and len(runs) * 512 > sum(c for _, c in runs)


def _offsets(runs: list[tuple[int, int]], size: int) -> np.ndarray:
    starts = np.fromiter((s for s, _ in runs), dtype=np.int64, count=len(runs))
    counts = np.fromiter((c for _, c in runs), dtype=np.int64, count=len(runs))
    first = np.cumsum(counts) - counts
    return np.repeat(starts - size * first, counts) + size * np.arange(int(counts.sum()), dtype=np.int64)


def fill(buf: bytes, runs: list[tuple[int, int]], size: int, fields: Mapping[str, tuple[int, str]], out: dict) -> int:
    """Copy ``fields`` of every record in ``runs`` into ``out[field][:count]`` (converting to its dtype):
    strided views block by block (all fields of a block while it is in cache), or one byte-offset index
    for many short runs (records of several layouts interleaved). Returns the record count."""
    if _short_runs(runs):
        offsets = _offsets(runs, size)
        aligned = {k: not bool((offsets % k).any()) for k in (1, 2, 4, 8)}
        views = {}
        for f, (at, code) in fields.items():
            k = np.dtype(code).itemsize
            if aligned.get(k) and at % k == 0:  # one typed index per field
                views[f] = (np.frombuffer(buf, dtype=code, count=len(buf) // k), at // k, k)
        raw = np.frombuffer(buf, dtype=np.uint8)
        for b in range(0, len(offsets), BLOCK):  # every field of a block while its records are in cache
            offs = offsets[b : b + BLOCK]
            for f, (at, code) in fields.items():
                if f in views:
                    view, word, k = views[f]
                    out[f][b : b + len(offs)] = view[offs // k + word]
                else:
                    k = np.dtype(code).itemsize
                    out[f][b : b + len(offs)] = raw[(offs + at)[:, None] + np.arange(k)].view(code).ravel()
        return len(offsets)
    i = 0
    for start, count in runs:
        for b in range(0, count, BLOCK):
            m = min(BLOCK, count - b)
            for f, (at, code) in fields.items():
                view = np.ndarray(shape=(m,), dtype=code, buffer=buf, offset=start + b * size + at, strides=(size,))
                out[f][i : i + m] = view
            i += m
    return i


def gather(buf: bytes, w: Walk, group: int, size: int, at: int, code: str) -> np.ndarray:
    """The field at byte ``at`` of every record of a layout group (see :func:`fill`)."""
    runs = w.runs.get(group, [])
    out = {"f": np.empty(w.count(group), dtype=code)}
    fill(buf, runs, size, {"f": (at, code)}, out)
    return out["f"]


@dataclass
class Chunk:
    """One delivered buffer: its bytes, where its records are and the text of its string pointers."""

    raw: bytes
    walk: Walk
    strings: dict[int, str | None] = field(default_factory=dict)

    @property
    def records(self) -> int:
        return sum(self.walk.count(g) for g in self.walk.runs)


def read_chunk(raw: bytes, layouts: Layouts, cstr: Callable[[int], str | None]) -> Chunk:
    """Walk a copied buffer and resolve its string pointers now (CUPTI owns those strings)."""
    w = walk(raw, layouts)
    chunk = Chunk(raw, w)
    for g, (lay, _) in enumerate(layouts.groups()):
        if g not in w.runs:
            continue
        for f in lay.strings:
            for ptr in pd.unique(gather(raw, w, g, lay.size, *lay.fields[f])):
                p = int(ptr)
                if p not in chunk.strings:
                    chunk.strings[p] = cstr(p) if p else None
    return chunk


def _columns(chunks: Iterable[Chunk], kind: int, layouts: Layouts, names: Iterable[str]) -> dict[str, Any]:
    """Fields of every record in the layout group of ``kind`` across ``chunks`` (``kind`` included): integer
    fields as int64; string fields in pandas' default string dtype (what ``DataFrame.from_records`` infers),
    made from the few distinct texts with one ``take``."""
    g = layouts.group_of(kind)
    lay = layouts.by_kind[kind]
    fields = {f: lay.fields[f] for f in ["kind", *names]}
    chosen = [ch for ch in chunks if g in ch.walk.runs]
    total = sum(ch.walk.count(g) for ch in chosen)
    out = {f: np.empty(total, dtype=np.uint64 if f in lay.strings else np.int64) for f in fields}
    codes = {f: np.empty(total, dtype=np.int64) for f in fields if f in lay.strings}
    texts: dict[str | None, int] = {None: -1}  # text -> position in the string table (None: missing)
    i = 0
    for ch in chosen:
        part = {f: a[i:] for f, a in out.items()}
        n = fill(ch.raw, ch.walk.runs[g], lay.size, fields, part)
        for f in codes:  # this buffer's pointers -> text (resolved at delivery) -> one code per text
            local, uniq = pd.factorize(out[f][i : i + n])
            table = [texts.setdefault(ch.strings.get(int(p)), len(texts) - 1) for p in uniq]
            codes[f][i : i + n] = np.asarray([*table, -1], dtype=np.int64)[local]
        i += n
    strings = pd.array([t for t in texts if t is not None], dtype="str")
    return {f: strings.take(codes[f], allow_fill=True) if f in codes else out[f] for f in fields}


KERNEL_FIELDS = (
    "start",
    "end",
    "name",
    "device_id",
    "stream_id",
    "correlation_id",
    "grid_x",
    "grid_y",
    "grid_z",
    "block_x",
    "block_y",
    "block_z",
    "graph_node_id",
)
API_FIELDS = ("correlation_id", "cbid", "start", "end", "process_id", "thread_id", "return_value")
MARKER_FIELDS = ("id", "flags", "name", "domain", "timestamp", "process_id", "thread_id")


def kernel_records(chunks: Iterable[Chunk], layouts: Layouts = DEFAULT_LAYOUTS) -> pd.DataFrame:
    """Kernel records. Columns: KERNEL_FIELDS (CUPTI clock ns in ``start``/``end``; int64, ``name`` text)."""
    c = _columns(chunks, Kind.CONCURRENT_KERNEL, layouts, KERNEL_FIELDS)
    return pd.DataFrame({f: c[f] for f in KERNEL_FIELDS})


def api_records(chunks: Iterable[Chunk], layouts: Layouts = DEFAULT_LAYOUTS) -> pd.DataFrame:
    """Runtime/driver API records. Columns: correlation_id, kind ("runtime" | "driver"), cbid, start, end,
    process_id, thread_id, return_value (int64; CUPTI clock ns)."""
    c = _columns(chunks, Kind.RUNTIME, layouts, API_FIELDS)
    kind = pd.array(np.array(["driver", "runtime"], dtype=object), dtype="str").take(
        (c["kind"] == int(Kind.RUNTIME)).astype(np.int64)
    )
    df = pd.DataFrame({f: c[f] for f in API_FIELDS})
    df.insert(1, "kind", kind)
    return df


def marker_records(chunks: Iterable[Chunk], layouts: Layouts = DEFAULT_LAYOUTS) -> pd.DataFrame:
    """NVTX marker records. Columns: id, flags, name, domain, timestamp, process_id, thread_id."""
    c = _columns(chunks, Kind.MARKER, layouts, MARKER_FIELDS)
    return pd.DataFrame({f: c[f] for f in MARKER_FIELDS})


def encode(kind: int, values: Mapping[str, int], layouts: Layouts = DEFAULT_LAYOUTS) -> bytes:
    """One record's bytes (the inverse of the decoding above): for building buffers in tests and probes."""
    lay = layouts.by_kind[kind]
    buf = bytearray(lay.size)
    for f, v in {"kind": int(kind), **values}.items():
        at, code = lay.fields[f]
        dt = np.dtype(code)
        buf[at : at + dt.itemsize] = np.array([v], dtype=dt).tobytes()
    return bytes(buf)
