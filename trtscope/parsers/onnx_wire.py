"""The ONNX protobuf wire format, walked in pure Python without the weights (no pandas here).

Why not ``onnx.load``: it materialises every initializer (gigabytes for large models) and needs the external
data files next to the model. trtscope only needs node names, op types and edges, so this reader walks the
``ModelProto`` with a memory map and skips tensor payloads by their length prefix: a model whose weights live
in missing external files reads fine, and a 2 GB model with embedded weights costs no extra memory.

The module imports neither pandas nor numpy, so a large graph can be walked in a forked worker that starts
before the analysis stack is even imported (:func:`prefetch`).

Fields used (onnx.proto3): ModelProto{producer_name=2, graph=7, opset_import=8, functions=25};
GraphProto{node=1, initializer=5, input=11, output=12, sparse_initializer=15}; NodeProto{input=1, output=2,
name=3, op_type=4, attribute=5, domain=7}; AttributeProto{g=6, graphs=11}; TensorProto{name=8};
SparseTensorProto{values=1}; ValueInfoProto{name=1}; OperatorSetIdProto{domain=1, version=2}.
"""

from __future__ import annotations

import json
import mmap
import multiprocessing as mp
import os
import warnings
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trtscope.errors import InputError, reading
from trtscope.parsers.files import open_input, read_input

_CONTROL_FLOW = frozenset({"If", "Loop", "Scan", "SequenceMap"})
#: Protobuf cannot serialise a message over 2 GiB: a larger file is not an ONNX model (weights beyond that live
#: in external data files, which are never read).
MAX_ONNX_BYTES = 2 * 1024**3
#: Control-flow bodies nested deeper than this are refused (real models nest a handful of levels).
MAX_SUBGRAPH_DEPTH = 64


class _WireError(Exception):
    pass


def _varint(buf: Any, pos: int) -> tuple[int, int]:
    b = buf[pos]
    pos += 1
    if b < 0x80:
        return b, pos
    result = b & 0x7F
    shift = 7
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift > 70:
            raise _WireError("varint too long")


def _skip(buf: Any, pos: int, wt: int) -> int:
    if wt == 0:
        return _varint(buf, pos)[1]
    if wt == 2:
        n, pos = _varint(buf, pos)
        return pos + n
    if wt == 1:
        return pos + 8
    if wt == 5:
        return pos + 4
    raise _WireError(f"unsupported wire type {wt}")


def _decode(raw: bytes) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace")


def _string(buf: Any, start: int, end: int) -> str:
    return _decode(buf[start:end])


def _first_string(buf: Any, pos: int, end: int, field: int) -> str:
    """The first length-delimited ``field`` of a message, as text (names of tensors / value infos)."""
    while pos < end:
        key, pos = _varint(buf, pos)
        if key == (field << 3) | 2:
            n, pos = _varint(buf, pos)
            return _string(buf, pos, pos + n)
        pos = _skip(buf, pos, key & 7)
    return ""


class _Reader:
    def __init__(self, buf: Any, edges: bool = True) -> None:
        self.buf = buf
        self.edges = edges
        self.names: list[str] = []
        self.ops: list[str] = []
        self.domains: list[str] = []
        # Edges, flat: the tensor names of every node's inputs (outputs) in node order, and how many per node.
        self.in_flat: list[str] = []
        self.in_counts: list[int] = []
        self.out_flat: list[str] = []
        self.out_counts: list[int] = []
        self.parents: list[str] = []
        self.initializers: set[str] = set()

    def graph(self, pos: int, end: int, parent: str, depth: int = 0) -> tuple[list[str], list[str]]:
        if depth > MAX_SUBGRAPH_DEPTH:
            raise _WireError(f"control-flow subgraphs nested more than {MAX_SUBGRAPH_DEPTH} deep")
        buf = self.buf
        g_inputs: list[str] = []
        g_outputs: list[str] = []
        node_spans: list[tuple[int, int]] = []
        spans_append = node_spans.append
        while pos < end:
            key, pos = _varint(buf, pos)
            field, wt = key >> 3, key & 7
            if wt != 2:
                pos = _skip(buf, pos, wt)
                continue
            n, pos = _varint(buf, pos)
            sub_end = pos + n
            if field == 1:
                spans_append((pos, sub_end))
            elif field == 5:
                self.initializers.add(_first_string(buf, pos, sub_end, 8))
            elif field == 15:  # SparseTensorProto.values (TensorProto) holds the name
                vpos = pos
                while vpos < sub_end:
                    k, vpos = _varint(buf, vpos)
                    if k == (1 << 3) | 2:
                        m, vpos = _varint(buf, vpos)
                        self.initializers.add(_first_string(buf, vpos, vpos + m, 8))
                        vpos += m
                    else:
                        vpos = _skip(buf, vpos, k & 7)
            elif field == 11:
                g_inputs.append(_first_string(buf, pos, sub_end, 1))
            elif field == 12:
                g_outputs.append(_first_string(buf, pos, sub_end, 1))
            pos = sub_end
        if pos != end:
            raise _WireError("graph message overruns its length")
        if node_spans:
            # Nodes are serialised together, before the initializers: copy just their bytes out of the map,
            # because indexing a bytes object is about twice as fast as indexing an mmap.
            lo, hi = node_spans[0][0], node_spans[-1][1]
            chunk = self.buf[lo:hi] if isinstance(self.buf, mmap.mmap) else self.buf
            shift = lo if chunk is not self.buf else 0
            saved, self.buf = self.buf, chunk
            try:
                for a, b in node_spans:
                    self.node(a - shift, b - shift, parent, depth)
            finally:
                self.buf = saved
        return g_inputs, g_outputs

    def node(self, pos: int, end: int, parent: str, depth: int = 0) -> None:
        try:
            name, op, domain, ins, outs, attrs = self._fields(pos, end, bytes.decode)
        except UnicodeDecodeError:  # rare: names that are not valid UTF-8
            name, op, domain, ins, outs, attrs = self._fields(pos, end, _decode)
        self.names.append(name)
        self.ops.append(op)
        self.domains.append(domain)
        self.in_flat.extend(ins)
        self.in_counts.append(len(ins))
        self.out_flat.extend(outs)
        self.out_counts.append(len(outs))
        self.parents.append(parent)
        if attrs and op in _CONTROL_FLOW:
            for a_start, a_end in attrs:
                self.subgraphs(a_start, a_end, name or op, depth)

    def _fields(
        self, pos: int, end: int, dec: Any
    ) -> tuple[str, str, str, list[str], list[str], list[tuple[int, int]]]:
        # The hot loop of the reader (once per node): single-byte tags and lengths take the fast path.
        buf = self.buf
        ins: list[str] = []
        outs: list[str] = []
        name = op = domain = ""
        attrs: list[tuple[int, int]] = []
        edges = self.edges
        while pos < end:
            key = buf[pos]
            pos += 1
            if key >= 0x80:
                key, pos = _varint(buf, pos - 1)
            if key & 7 != 2:
                pos = _skip(buf, pos, key & 7)
                continue
            n = buf[pos]
            pos += 1
            if n >= 0x80:
                n, pos = _varint(buf, pos - 1)
            nxt = pos + n
            if key == 0x0A:
                if edges:
                    ins.append(dec(buf[pos:nxt]))
            elif key == 0x12:
                if edges:
                    outs.append(dec(buf[pos:nxt]))
            elif key == 0x1A:
                name = dec(buf[pos:nxt])
            elif key == 0x22:
                op = dec(buf[pos:nxt])
            elif key == 0x3A:
                domain = dec(buf[pos:nxt])
            elif key == 0x2A:
                attrs.append((pos, nxt))
            pos = nxt
        if pos != end:
            raise _WireError("node message overruns its length")
        return name, op, domain, ins, outs, attrs

    def subgraphs(self, pos: int, end: int, parent: str, depth: int) -> None:
        """Nodes of If/Loop/Scan bodies (AttributeProto.g = 6, .graphs = 11) are nodes TensorRT can name."""
        buf = self.buf
        while pos < end:
            key, pos = _varint(buf, pos)
            wt = key & 7
            if wt == 2 and (key >> 3) in (6, 11):
                n, pos = _varint(buf, pos)
                self.graph(pos, pos + n, parent, depth + 1)
                pos += n
            else:
                pos = _skip(buf, pos, wt)


def looks_like_onnx(head: bytes) -> bool:
    """Cheap sniff: a ModelProto starts with ir_version (field 1, varint, small) then another known field."""
    return (len(head) >= 3 and head[0] == 0x08 and 0 < head[1] < 32
            and head[2] in (0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42))


@dataclass
class Parsed:
    """The reader's raw result: plain lists (no pandas), cheap to build and to ship between processes."""

    names: list[str]
    ops: list[str]
    domains: list[str]
    parents: list[str]
    in_flat: list[str]
    in_counts: list[int]
    out_flat: list[str]
    out_counts: list[int]
    initializers: list[str]
    g_inputs: list[str]
    g_outputs: list[str]
    producer: str
    opset: int | None


def _open_map(p: Path) -> tuple[Any, Any, int]:
    fh = open_input(p, "an ONNX model file", max_bytes=MAX_ONNX_BYTES)  # the caller closes it after the map
    try:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            raise InputError(p, "empty file, not an ONNX model")
        return fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ), size
    except OSError as err:
        fh.close()
        raise InputError(p, f"cannot map the file into memory ({err.strerror or err})") from err
    except BaseException:
        fh.close()
        raise


def parse_path(p: Path, edges: bool = True) -> Parsed:
    fh, buf, size = _open_map(p)
    try:
        with reading(p, "the ONNX model"):
            return _parse_model(buf, size, p, edges)
    finally:
        buf.close()
        fh.close()


def _parse_model(buf: Any, size: int, p: Path, edges: bool = True) -> Parsed:
    reader = _Reader(buf, edges)
    producer = ""
    opset: int | None = None
    graph_span: tuple[int, int] | None = None
    try:
        pos = 0
        while pos < size:
            key, pos = _varint(buf, pos)
            field, wt = key >> 3, key & 7
            if field == 0:
                raise _WireError("field number 0")
            if wt != 2:
                pos = _skip(buf, pos, wt)
                continue
            n, pos = _varint(buf, pos)
            if pos + n > size:
                raise _WireError("message runs past the end of the file (truncated?)")
            if field == 7:
                graph_span = (pos, pos + n)
            elif field == 2:
                producer = _string(buf, pos, pos + n)
            elif field == 8:
                dom, ver = "", None
                q = pos
                while q < pos + n:
                    k, q = _varint(buf, q)
                    if k == (1 << 3) | 2:
                        m, q = _varint(buf, q)
                        dom = _string(buf, q, q + m)
                        q += m
                    elif k == (2 << 3):
                        ver, q = _varint(buf, q)
                    else:
                        q = _skip(buf, q, k & 7)
                if dom in ("", "ai.onnx") and ver is not None:
                    opset = ver
            pos += n
        if graph_span is None:
            raise _WireError("no graph in the model")
        g_inputs, g_outputs = reader.graph(graph_span[0], graph_span[1], "")
    except (_WireError, IndexError, ValueError) as err:
        raise InputError(p, f"not a valid ONNX model ({err})") from err
    return Parsed(
        names=reader.names, ops=reader.ops, domains=reader.domains, parents=reader.parents,
        in_flat=reader.in_flat, in_counts=reader.in_counts, out_flat=reader.out_flat, out_counts=reader.out_counts,
        initializers=sorted(reader.initializers),
        g_inputs=g_inputs, g_outputs=g_outputs, producer=producer, opset=opset,
    )


# --- reading in a second process ---------------------------------------------------------------------------------
# Large graphs take most of a second to walk in Python. On a multi-core machine the walk runs in a forked worker
# while the main process parses the JSON artifacts; the result crosses the pipe as a few NUL-joined strings
# (pickling 100,000 small lists would cost as much as the walk itself).
PARALLEL_MIN_BYTES = 4 * 1024 * 1024
_SEP = "\x00"
_LIST_FIELDS = ("names", "ops", "domains", "parents", "in_flat", "out_flat", "initializers", "g_inputs", "g_outputs")


def _encode_parts(r: Parsed) -> list[bytes]:
    head = {"producer": r.producer, "opset": r.opset, "n": len(r.names)}
    parts = [json.dumps(head).encode()]
    for f in _LIST_FIELDS:
        parts.append(_SEP.join(getattr(r, f)).encode("utf-8", "surrogatepass"))
    parts.append(array("I", r.in_counts).tobytes())
    parts.append(array("I", r.out_counts).tobytes())
    return parts


def _split(raw: bytes) -> list[str]:
    return raw.decode("utf-8", "surrogatepass").split(_SEP) if raw else []


def _decode_parts(parts: list[bytes]) -> Parsed | None:
    head = json.loads(parts[0])
    lists = {f: _split(parts[1 + i]) for i, f in enumerate(_LIST_FIELDS)}
    counts = []
    for raw in parts[1 + len(_LIST_FIELDS) :]:
        a = array("I")
        a.frombytes(raw)
        counts.append(a.tolist())
    n = head["n"]
    if n == 0:
        for f in ("names", "ops", "domains", "parents", "in_flat", "out_flat"):
            lists[f] = []
    # A name holding the separator would shift everything: then the caller reads in-process.
    if not (len(lists["names"]) == len(lists["ops"]) == len(lists["domains"]) == len(lists["parents"]) == n):
        return None
    if sum(counts[0]) != len(lists["in_flat"]) or sum(counts[1]) != len(lists["out_flat"]):
        return None
    return Parsed(
        names=lists["names"], ops=lists["ops"], domains=lists["domains"], parents=lists["parents"],
        in_flat=lists["in_flat"], in_counts=counts[0], out_flat=lists["out_flat"], out_counts=counts[1],
        initializers=lists["initializers"], g_inputs=lists["g_inputs"], g_outputs=lists["g_outputs"],
        producer=head["producer"], opset=head["opset"],
    )


def _worker(path: str, conn: Any, edges: bool) -> None:  # pragma: no cover - runs in the forked child
    try:
        parts = _encode_parts(parse_path(Path(path), edges))
        conn.send_bytes(b"ok")
        conn.send_bytes(len(parts).to_bytes(4, "little"))
        for part in parts:
            conn.send_bytes(part)
    except InputError as err:
        conn.send_bytes(b"err")
        conn.send_bytes(err.problem.encode())
    except BaseException:  # any other failure: the parent re-reads in-process and reports it there
        conn.send_bytes(b"crash")
    finally:
        conn.close()


class WireWorker:
    """A graph walked in a forked worker process (large files, several cores), or on demand otherwise.

    ``result()`` returns the parsed lists; a worker that fails for any reason other than a bad file falls
    back to reading in-process, so the worker is only ever an optimisation.
    """

    def __init__(self, path: str | Path, edges: bool = False) -> None:
        self.path = Path(path)
        self.edges = edges
        self._proc: Any = None
        self._conn: Any = None
        try:
            size = self.path.stat().st_size
        except OSError:
            return  # result() raises the proper InputError
        if size < PARALLEL_MIN_BYTES or (os.cpu_count() or 1) < 2 or "fork" not in mp.get_all_start_methods():
            return
        try:
            ctx = mp.get_context("fork")
            self._conn, child = ctx.Pipe(duplex=False)
            with warnings.catch_warnings():  # fork in a process with threads: the child runs pure Python only
                warnings.simplefilter("ignore", DeprecationWarning)
                self._proc = ctx.Process(target=_worker, args=(str(self.path), child, edges), daemon=True)
                self._proc.start()
            child.close()
        except OSError:
            self._proc = self._conn = None

    @property
    def in_worker(self) -> bool:
        return self._proc is not None

    def result(self) -> Parsed:
        if self._proc is None:
            return parse_path(self.path, self.edges)
        parsed = None
        try:
            status = self._conn.recv_bytes()
            if status == b"err":
                raise InputError(self.path, self._conn.recv_bytes().decode())
            if status == b"ok":
                count = int.from_bytes(self._conn.recv_bytes(), "little")
                parsed = _decode_parts([self._conn.recv_bytes() for _ in range(count)])
        except (EOFError, OSError):
            parsed = None
        finally:
            self._conn.close()
            self._proc.join(timeout=5)
            self._proc = None
        return parsed if parsed is not None else parse_path(self.path, self.edges)


_PREFETCHED: dict[str, WireWorker] = {}


def prefetch(path: str | Path, edges: bool = False) -> None:
    """Start walking a large ONNX graph now (e.g. before pandas is imported); :func:`take` collects it.
    ``edges``: read the tensor names too (a command that walks the graph's edges, e.g. lint)."""
    p = Path(path)
    key = str(p.resolve()) if p.exists() else str(p)
    if key not in _PREFETCHED:
        _PREFETCHED[key] = WireWorker(p, edges=edges)


def take(path: str | Path) -> WireWorker:
    """The prefetched worker for ``path``, or a new one."""
    p = Path(path)
    key = str(p.resolve()) if p.exists() else str(p)
    return _PREFETCHED.pop(key, None) or WireWorker(p, edges=False)


def onnx_files_in(directory: str | Path) -> tuple[list[Path], list[Path]]:
    """(ONNX models, other files) of a directory, told apart by their first bytes (or the .onnx suffix)."""
    d = Path(directory)
    try:
        entries = sorted(p for p in d.iterdir() if p.is_file() and not p.name.startswith("."))
    except OSError as err:
        raise InputError(d, f"cannot list directory ({err.strerror or err})") from err
    onnx_files: list[Path] = []
    others: list[Path] = []
    for p in entries:
        try:
            head = read_input(p, 16)
        except InputError:
            head = b""  # the file's own reader says why
        (onnx_files if looks_like_onnx(head) or p.suffix.lower() == ".onnx" else others).append(p)
    return onnx_files, others
