"""The fuzzing harness shared by the bounded in-suite run (tests/test_fuzz.py) and the long run
(scripts/fuzz_long.py): seeds, mutations, one reader call per input, and invariants on what is accepted.

Seeds are the real artifacts (../shared/fixtures, read in place) and the project's fixtures, plus a few
inputs built here from how they are made (small nsys exports from tests/nsys_synth.py, ONNX models written
byte by byte). Every input is derived deterministically from (target, seed index, mutation names, rng seed),
so a failure is reproduced from those four values alone.

An input's outcome is one of:
- ``rejected``: an :class:`InputError` the reader raises on purpose;
- ``boundary``: an InputError made by a reader's exception boundary (:class:`ReaderFailure`) — clean for
  the user, but a check the reader lacks; counted apart so it can be driven to zero;
- ``accepted``: read, analysed, and every invariant held;
- ``contradictory``: accepted, but the result contradicts itself (a negative time, shares above 1...);
- ``traceback``: any other exception while reading; ``analysis_crash``: one inside the analysis of an
  accepted input; ``bundle_crash``: one inside the bundle reader (issue 15's scope).
"""

from __future__ import annotations

import gzip
import json
import math
import random
import re
import shutil
import signal
import sqlite3
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "fixtures"
OWN = REPO / "fixtures"

@contextmanager
def no_hang(seconds: int = 60) -> Iterator[None]:
    """Fails (instead of hanging the suite) if the block does not finish: a guard far beyond any input's
    needs, not a speed target."""
    def _raise(_sig: int, _frame: object) -> None:
        raise TimeoutError(f"no answer within {seconds} s: a hang")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# --- prefixes of real loggers (also used by the prefix tests) -------------------------------------------------------
SEVERITY = {"V": "VERBOSE", "I": "INFO", "W": "WARNING", "E": "ERROR"}
PREFIX_STYLES: dict[str, Callable[[str, int], str]] = {
    "none": lambda s, i: "",
    "trtexec": lambda s, i: f"[11/29/2026-14:32:{i % 60:02d}] [{s}] [TRT] ",
    "trt_logger": lambda s, i: f"[TRT] [{s}] ",
    "polygraphy": lambda s, i: f"[{s}] ",
    "severity_enum": lambda s, i: f"[Severity.{SEVERITY[s]}] ",
    "severity_colon": lambda s, i: f"{SEVERITY[s]}: ",
    "python_logging": lambda s, i: f"2026-11-29 14:32:{i % 60:02d},{i % 1000:03d} - trt - {SEVERITY[s]} - ",
    "python_basic": lambda s, i: f"{SEVERITY[s]}:trt:",
    "collector_trtexec": lambda s, i: f"2026-11-29T14:32:{i % 60:02d}.{i:09d}Z [11/29/2026-14:32:{i % 60:02d}] "
                                      f"[{s}] ",
    "epoch": lambda s, i: f"{1764426756 + i}.{i % 1000:03d} ",
}
_TRTEXEC_PREFIX = re.compile(r"^\[\d\d/\d\d/\d{4}-\d\d:\d\d:\d\d\] \[([VIWE])\] (?:\[TRT\] )?")


def log_messages(text: str) -> list[tuple[str, list[str]]]:
    """A trtexec-style log (the fixtures' format) -> messages (severity, lines): a line without the prefix
    continues the message before it (a multi-line message such as the ``Layers:`` listing)."""
    msgs: list[tuple[str, list[str]]] = []
    for line in text.split("\n"):
        m = _TRTEXEC_PREFIX.match(line)
        if m:
            msgs.append((m.group(1), [line[m.end() :]]))
        elif msgs:
            msgs[-1][1].append(line)
        else:
            msgs.append(("I", [line]))
    return msgs


def render_log(msgs: list[tuple[str, list[str]]], style: str, *, every_line: bool = False, crlf: bool = False) -> str:
    """Messages written by another logger: ``style``'s prefix on each message's first line (on every line
    with ``every_line``, as loggers that split messages do)."""
    out: list[str] = []
    for i, (sev, lines) in enumerate(msgs):
        prefix = PREFIX_STYLES[style](sev, i)
        out.append(prefix + lines[0])
        out.extend((prefix + x) if every_line else x for x in lines[1:])
    return ("\r\n" if crlf else "\n").join(out)


# --- seeds ------------------------------------------------------------------------------------------------------
@dataclass
class Seed:
    """One starting input: bytes (a file) or a directory to copy (bundles), and the file name to use."""

    name: str
    data: bytes | None = None
    directory: Path | None = None
    partner: dict[str, Path] = field(default_factory=dict)  # files read together with it (profile for times)


def _read(p: Path) -> bytes:
    return p.read_bytes()


def _shared(*parts: str) -> Path | None:
    p = SHARED.joinpath(*parts)
    return p if p.exists() else None


def _small_times(p: Path, n: int = 40) -> bytes:
    """The first ``n`` iterations of a real --exportTimes file (the whole ones are up to 2 MB)."""
    return json.dumps(json.loads(p.read_text())[:n], indent=1).encode()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(num: int, payload: bytes) -> bytes:
    return _varint((num << 3) | 2) + _varint(len(payload)) + payload


def onnx_bytes(nodes: list[tuple[str, str, list[bytes]]], *, ir: int = 8) -> bytes:
    """A ModelProto written field by field: nodes are (name, op_type, [attribute messages])."""
    graph = b"".join(
        _field(1, _field(3, n.encode()) + _field(4, op.encode()) + b"".join(_field(5, a) for a in attrs))
        for n, op, attrs in nodes
    )
    return b"\x08" + _varint(ir) + _field(2, b"fuzz") + _field(7, graph) + _field(8, b"\x10" + _varint(17))


def nested_if_onnx(depth: int) -> bytes:
    """An If whose then-branch holds an If ... ``depth`` levels deep (built inside out, no recursion)."""
    graph = _field(1, _field(3, b"leaf") + _field(4, b"Relu"))
    for i in range(depth):
        attr = _field(1, b"then_branch") + _field(6, graph)
        graph = _field(1, _field(3, f"if_{i}".encode()) + _field(4, b"If") + _field(5, attr))
    return b"\x08\x08" + _field(7, graph)


def duplicate_names_onnx() -> bytes:
    return onnx_bytes([("a", "Conv", []), ("a", "Relu", []), ("b", "Add", []), ("a", "Relu", []),
                       ("", "Relu", []), ("<unnamed Relu #4>", "Relu", [])])


def _nsys_seed(tmp: Path, **kw: Any) -> bytes:
    from tests import nsys_synth

    p = tmp / "synth.sqlite"
    if p.exists():
        p.unlink()
    nsys_synth.build(p, **kw)
    return p.read_bytes()


def seeds(target: str, *, long: bool = False) -> list[Seed]:
    """The seeds of one target; ``long`` adds the big ones (full timing files, the 780 KB verbose log...)."""
    out: list[Seed] = []
    trex = sorted(p for p in SHARED.glob("trex/*") if p.is_dir()) if SHARED.exists() else []
    mnist = _shared("trt10-h100-mnist")
    if target == "layer_info_json":
        out += [Seed(p.name, _read(p)) for d in trex for p in sorted(d.glob("*.graph.json"))][: None if long else 2]
        if mnist:
            out.append(Seed("mnist.exportLayerInfo.json", _read(mnist / "mnist.exportLayerInfo.json")))
    elif target == "layer_info_log":
        if mnist:
            out.append(Seed("trtexec-dumpLayerInfo.log", _read(mnist / "trtexec-dumpLayerInfo.log")))
            if long:
                out.append(Seed("trtexec-build-verbose.log", _read(mnist / "trtexec-build-verbose.log")))
        for model in ("rtx-h100-resnet18", "rtx-h100-transformer"):
            out.append(Seed("build-verbose.log", _read(OWN / model / "build-verbose.log")))
        msgs = log_messages((OWN / "rtx-h100-transformer" / "build-verbose.log").read_text(errors="replace"))
        out.append(Seed("build.log", render_log(msgs, "severity_enum").encode()))
        out.append(Seed("build.log", gzip.compress(render_log(msgs, "python_logging", crlf=True).encode())))
    elif target == "profile_json":
        out += [Seed(p.name, _read(p)) for d in trex for p in sorted(d.glob("*.profile.json"))][: None if long else 2]
    elif target == "profile_log":
        if mnist:
            text = (mnist / "trtexec-dumpProfile.log").read_text(errors="replace")
            out.append(Seed("trtexec-dumpProfile.log", text.encode()))
            out.append(Seed("profile.log", render_log(log_messages(text), "python_logging").encode()))
            # with the listing of its own engine: the Myelin parts are folded into their regions' layers
            out.append(Seed("trtexec-dumpProfile.log", text.encode(),
                            partner={"layers": mnist / "trtexec-build-verbose.log"}))
    elif target == "times_json":
        for d in trex:
            prof = sorted(d.glob("*.profile.json"))
            for p in sorted(d.glob("*.timing.json")):
                data = _read(p) if long else _small_times(p)
                out.append(Seed(p.name, data, partner={"profile": prof[0]} if prof else {}))
        out = out[: None if long else 2]
    elif target == "onnx":
        for model in ("rtx-h100-resnet18", "rtx-h100-transformer"):
            out.append(Seed("model.onnx", _read(OWN / model / "model.onnx"),
                            partner={"layers": OWN / model / "build-verbose.log"}))
        out.append(Seed("dups.onnx", duplicate_names_onnx()))
        out.append(Seed("nested.onnx", nested_if_onnx(8)))
    elif target == "nsys":
        with tempfile.TemporaryDirectory() as tmp:
            out.append(Seed("synth.sqlite", _nsys_seed(Path(tmp))))
            out.append(Seed("synth2022.sqlite", _nsys_seed(Path(tmp), schema="2022", graph_trace="both")))
        if long:
            for p in sorted(SHARED.glob("nsys/*/*.sqlite")) if SHARED.exists() else []:
                if p.stat().st_size < 2_000_000:
                    out.append(Seed(p.name, _read(p)))
    elif target == "bundle":
        out.append(Seed("capture.trtscope", directory=OWN / "h100-torch-capture.trtscope"))
    else:
        raise KeyError(target)
    return out


TARGETS = ("layer_info_json", "layer_info_log", "profile_json", "profile_log", "times_json", "onnx", "nsys",
           "bundle")

# --- hostile values ---------------------------------------------------------------------------------------------
HOSTILE_VALUES: list[Any] = [
    [], {}, "", "text", True, False, None, 1.5, 0, -1, -0.001, -1e-300, 2**63, 2**64, -(2**64), 10**400,
    -(10**400), 1e308, float("inf"), float("-inf"), float("nan"), "\ud800", "a\ud800b", "\udfff",
    "a\nb", "{ForeignNode[a\nb...c]}", "{ForeignNode[x...y]}", "Name: x, LayerType: y", "]} metadata:",
    "\x00", "\x1e\x1f", "\u202e", "😀", "x" * 10_000, "[ONNX Layer: a]\x1e[ONNX Layer: a]", "a + b + a",
    "Reformatting CopyNode for Input Tensor 0 to {ForeignNode[", "PWN(" * 300, "%s%n",
]


def hostile_value(rng: random.Random) -> Any:
    v = rng.choice(HOSTILE_VALUES)
    if isinstance(v, str) and v == "x" * 10_000 and rng.random() < 0.3:
        return "x" * rng.choice((100_000, 1_100_000))
    return v


def _dumps(doc: Any, rng: random.Random) -> bytes:
    return json.dumps(doc, ensure_ascii=rng.random() < 0.7, indent=rng.choice((None, 1))).encode(
        "utf-8", "surrogatepass")


def _paths(doc: Any, limit: int = 5000) -> list[tuple[Any, Any]]:
    """(container, key) of values in a JSON document, breadth first (bounded)."""
    out: list[tuple[Any, Any]] = []
    queue = [doc]
    while queue and len(out) < limit:
        node = queue.pop(0)
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
        for k, v in items:
            out.append((node, k))
            if isinstance(v, (dict, list)):
                queue.append(v)
    return out


# --- mutations --------------------------------------------------------------------------------------------------
def m_flip(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 16)):
        if b:
            b[rng.randrange(len(b))] = rng.randrange(256)
    return bytes(b)


def m_truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def m_splice(data: bytes, rng: random.Random) -> bytes:
    if len(data) < 2:
        return data + data
    a = rng.randrange(len(data))
    chunk = data[a : a + rng.randint(1, 4096)]
    at = rng.randrange(len(data))
    if rng.random() < 0.5:
        return data[:at] + chunk + data[at:]
    return data[:at] + data[at + len(chunk) :]


def m_json_value(data: bytes, rng: random.Random) -> bytes:
    try:
        doc = json.loads(data.decode("utf-8", "replace"), strict=False)
    except (ValueError, RecursionError):
        return m_flip(data, rng)
    spots = _paths(doc)
    for _ in range(rng.randint(1, 4)):
        if not spots:
            break
        node, key = rng.choice(spots)
        op = rng.random()
        if op < 0.6:
            node[key] = hostile_value(rng)
        elif op < 0.75 and isinstance(node, dict):
            del node[key]
            spots = _paths(doc)
        elif op < 0.9 and isinstance(node, list):
            node.insert(rng.randrange(len(node) + 1), node[key])
            spots = _paths(doc)
        else:
            v = node[key]
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                node[key] = -v if rng.random() < 0.5 else v * 10 ** rng.choice((10, 100, 300))
    return _dumps(doc, rng)


def m_json_numbers(data: bytes, rng: random.Random) -> bytes:
    """Numbers in the text replaced by hostile literals (a 400-digit integer cannot go through json.dumps)."""
    lit = rng.choice([b"-5.25", b"9" * 400, b"-" + b"9" * 400, b"1e400", b"-1e400", b"NaN", b"Infinity", b"-0",
                      b"0", b"18446744073709551616", b"1" * 5000])
    nums = [m.span() for m in re.finditer(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", data[:2_000_000])]
    if not nums:
        return data + lit
    out = bytearray(data)
    for a, b in sorted(rng.sample(nums, min(len(nums), rng.randint(1, 5))), reverse=True):
        out[a:b] = lit
    return bytes(out)


def m_json_deep(data: bytes, rng: random.Random) -> bytes:
    n = rng.choice((100, 1000, 5000, 100_000))
    inner = b"[" * n + b"]" * n if rng.random() < 0.5 else b'{"a":' * n + b"1" + b"}" * n
    at = data.find(b"[", 1)
    return data[:at] + inner + b"," + data[at:] if at > 0 else inner


def m_lines(data: bytes, rng: random.Random) -> bytes:
    """Line-level edits of a log: delete, duplicate, swap, or insert hostile lines."""
    lines = data.split(b"\n")
    hostile = [
        b"&&&& RUNNING TensorRT.trtexec [TensorRT v" + b"9" * 5000 + b"] [b1] # trtexec",
        b"[I] Selected Device: " + b" " * 100_000 + b"x",
        b"a (F[" * 50_000,
        b"Layer(Myelin): " + b"x, Tactic: " * 20_000,
        b"[I] === Profile (99999999999999999999999 iterations ) ===",
        b"[I] === Profile (0 iterations ) ===",
        b"[I]   -5.0   -0.5   -0.5   50.0   layer_a",
        b"[I]   nan    inf    1e400   250.0   layer_b",
        b"[I]   " + b"9" * 400 + b"   1.0   1.0   5.0   layer_c",
        b"Name: a\nb, LayerType: kgen, Metadata: x",
        b"Name: {ForeignNode[a...b]}, LayerType: Myelin, StreamId: 18446744073709551616",
        b"Name: x, LayerType: " + b"[{" * 5000 + b"}]" * 5000,
        b"ForeignNode {ForeignNode[" + b"]} metadata:" * 10_000,
        b"[V] [TRT] Layers:",
        b"Bindings:",
        b"\xff\xfe\x00garbage",
        b"{ \"name\" : \"" + b"\"" * 10_000 + b"\", \"timeMs\" : 1",
    ]
    for _ in range(rng.randint(1, 6)):
        op = rng.random()
        i = rng.randrange(len(lines)) if lines else 0
        if op < 0.25 and lines:
            del lines[i]
        elif op < 0.45 and lines:
            lines.insert(i, lines[i])
        elif op < 0.6 and len(lines) > 1:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            lines.insert(i, rng.choice(hostile))
    return b"\n".join(lines)


def m_log_numbers(data: bytes, rng: random.Random) -> bytes:
    lit = rng.choice([b"-1.5", b"nan", b"-nan", b"inf", b"1e400", b"9" * 400, b"0"])
    nums = [m.span() for m in re.finditer(rb"(?<![\w.])\d+\.\d+(?![\w.])", data[:2_000_000])]
    out = bytearray(data)
    for a, b in sorted(rng.sample(nums, min(len(nums), rng.randint(1, 8))), reverse=True):
        out[a:b] = lit
    return bytes(out)


def m_prefix(data: bytes, rng: random.Random) -> bytes:
    text = data.decode("utf-8", "replace")
    style = rng.choice(list(PREFIX_STYLES))
    out = render_log(log_messages(text), style, every_line=rng.random() < 0.3, crlf=rng.random() < 0.3)
    raw = out.encode()
    r = rng.random()
    if r < 0.15:
        return gzip.compress(raw)
    if r < 0.25:
        return out.encode("utf-16")
    return raw


def m_onnx_struct(data: bytes, rng: random.Random) -> bytes:
    r = rng.random()
    if r < 0.3:
        return nested_if_onnx(rng.choice((10, 63, 65, 200, 1000)))
    if r < 0.5:
        return duplicate_names_onnx()
    if r < 0.7:  # a graph field whose length runs far past the end of the file
        return data[:2] + b"\x3a" + _varint(2**62) + data[2:]
    names = ["a", "", "x\ny", "\ufffd", "b"]
    return onnx_bytes([(rng.choice(names), rng.choice(["If", "Loop", "Relu"]), [rng.randbytes(rng.randint(0, 40))])
                       for _ in range(rng.randint(1, 20))])


NSYS_INT_TABLES = ("CUPTI_ACTIVITY_KIND_KERNEL", "CUPTI_ACTIVITY_KIND_RUNTIME", "NVTX_EVENTS", "StringIds")


def m_sqlite(data: bytes, rng: random.Random) -> bytes:
    """Schema and value edits through SQLite itself (on a scratch copy)."""
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "x.sqlite"
        p.write_bytes(data)
        try:
            conn = sqlite3.connect(p)
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            if not tables:
                return data
            t = rng.choice([x for x in NSYS_INT_TABLES if x in tables] or tables)
            cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{t}")')]
            op = rng.random()
            if op < 0.12:
                conn.execute(f'DROP TABLE "{t}"')
            elif op < 0.24:
                conn.execute(f'ALTER TABLE "{t}" RENAME TO "{t}_real"')
                conn.execute(f'CREATE VIEW "{t}" AS SELECT * FROM "{t}_real"')
            elif op < 0.32:
                conn.execute(f'DROP TABLE "{t}"')
                cols_sql = ", ".join(f"x AS {c}" for c in cols) or "x"
                conn.execute(f'CREATE VIEW "{t}" AS WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) '
                             f"SELECT {cols_sql} FROM r")
            elif op < 0.45 and t == "StringIds":
                conn.execute("UPDATE StringIds SET value = CAST(x'fffe41c3' AS TEXT) WHERE rowid % 2 = 0")
            elif cols:
                c = rng.choice(cols)
                v = rng.choice(["'text'", "1.5", "x'00ff'", "9223372036854775807", "-9223372036854775808", "-1",
                                "NULL", "1e300", "'\u202e'"])
                conn.execute(f'UPDATE "{t}" SET "{c}" = {v} WHERE abs(random()) % 3 = 0')
                if "start" in cols and "end" in cols and rng.random() < 0.3:
                    conn.execute(f'UPDATE "{t}" SET "start" = "end", "end" = "start"')
            conn.commit()
            conn.close()
        except (sqlite3.Error, UnicodeError):  # a scrambled schema the edit itself cannot read: keep the bytes
            return data
        return p.read_bytes()


def m_sqlite_page(data: bytes, rng: random.Random) -> bytes:
    """Zero or scramble one whole b-tree page (not the header page)."""
    if len(data) < 200:
        return data
    size = int.from_bytes(data[16:18], "big") or 4096
    size = 65536 if size == 1 else size
    pages = len(data) // size
    if pages < 2:
        return m_flip(data, rng)
    k = rng.randrange(1, pages)
    page = bytes(size) if rng.random() < 0.6 else rng.randbytes(size)
    return data[: k * size] + page + data[(k + 1) * size :]


Mutation = Callable[[bytes, random.Random], bytes]
_BYTES: dict[str, Mutation] = {"flip": m_flip, "truncate": m_truncate, "splice": m_splice}
MUTATIONS: dict[str, dict[str, Mutation]] = {
    "layer_info_json": {**_BYTES, "json_value": m_json_value, "json_numbers": m_json_numbers, "json_deep": m_json_deep},
    "profile_json": {**_BYTES, "json_value": m_json_value, "json_numbers": m_json_numbers, "json_deep": m_json_deep},
    "times_json": {**_BYTES, "json_value": m_json_value, "json_numbers": m_json_numbers, "json_deep": m_json_deep},
    "layer_info_log": {**_BYTES, "lines": m_lines, "log_numbers": m_log_numbers, "prefix": m_prefix},
    "profile_log": {**_BYTES, "lines": m_lines, "log_numbers": m_log_numbers, "prefix": m_prefix},
    "onnx": {**_BYTES, "onnx_struct": m_onnx_struct},
    "nsys": {"flip": m_flip, "truncate": m_truncate, "sqlite": m_sqlite, "sqlite_page": m_sqlite_page},
    "bundle": {"manifest": m_json_value, "manifest_bytes": m_flip, "table_bytes": m_flip, "table_truncate":
               m_truncate, "table_dir": m_truncate},
}


# --- one input --------------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    target: str
    seed: int
    mutations: tuple[str, ...]
    rng_seed: int
    kind: str  # rejected | boundary | accepted | contradictory | traceback | analysis_crash | bundle_crash
    detail: str = ""

    def reproducer(self) -> str:
        return (f"tests.fuzzing.make_input({self.target!r}, {self.seed}, {self.mutations!r}, {self.rng_seed}, "
                "workdir)")


def make_input(target: str, seed_index: int, mutations: tuple[str, ...], rng_seed: int, workdir: Path,
               seed_list: list[Seed] | None = None) -> Path:
    """Write the mutated input under ``workdir`` and return its path (a file, or a bundle directory)."""
    seed = (seed_list or seeds(target, long=True))[seed_index]
    rng = random.Random(rng_seed)
    if seed.directory is not None:
        return _make_bundle(seed.directory, mutations, rng, workdir)
    data = seed.data or b""
    for name in mutations:
        data = MUTATIONS[target][name](data, rng)
    path = workdir / seed.name
    path.write_bytes(data)
    return path


def _make_bundle(src: Path, mutations: tuple[str, ...], rng: random.Random, workdir: Path) -> Path:
    dst = workdir / src.name
    shutil.copytree(src, dst)
    tables = sorted((dst / "tables").glob("*.parquet"))
    for name in mutations:
        if name in ("manifest", "manifest_bytes"):
            m = dst / "manifest.json"
            m.write_bytes(MUTATIONS["bundle"][name](m.read_bytes(), rng))
        elif name == "table_dir" and tables:
            t = rng.choice(tables)
            if t.is_dir():
                continue
            t.unlink()
            t.mkdir()
            (t / "part.parquet").write_bytes(b"PAR1")
        elif tables:
            t = rng.choice(tables)
            if t.is_file():
                t.write_bytes(MUTATIONS["bundle"][name](t.read_bytes(), rng))
    return dst


def run_one(target: str, seed_index: int, mutations: tuple[str, ...], rng_seed: int,
            seed_list: list[Seed] | None = None) -> Outcome:
    """Make the input, read it with the target's reader, analyse what was accepted and check invariants."""
    from trtscope.analysis.session import analyze
    from trtscope.errors import InputError, ReaderFailure
    from trtscope.loader import load_artifacts

    seed_list = seed_list or seeds(target, long=True)
    seed = seed_list[seed_index]
    out = Outcome(target, seed_index, tuple(mutations), rng_seed, "accepted")
    with tempfile.TemporaryDirectory(prefix="trtscope-fuzz-") as tmp:
        path = make_input(target, seed_index, mutations, rng_seed, Path(tmp), seed_list)
        try:
            art = load_artifacts(**_load_args(target, path, seed))
        except ReaderFailure as err:
            out.kind, out.detail = "boundary", f"{err} <- {_where(err.__cause__)}"
            return out
        except InputError as err:
            out.kind, out.detail = "rejected", str(err)
            return out
        except Exception as err:
            where = _where(err)
            out.kind = "bundle_crash" if where.startswith("bundle/") else "traceback"
            out.detail = f"{type(err).__name__}: {str(err)[:300]} <- {where}"
            return out
        problems = check_artifacts(art)  # the harness's own checks: an error there fails loudly
        try:
            result = analyze(art)
        except InputError as err:
            out.kind, out.detail = "rejected", str(err)
            return out
        except Exception as err:
            out.kind = "analysis_crash"
            out.detail = f"{type(err).__name__}: {str(err)[:300]} <- {_where(err)}"
            return out
        problems += check_analysis(result)
        if problems:
            out.kind, out.detail = "contradictory", "; ".join(problems[:5])
    return out


def _load_args(target: str, path: Path, seed: Seed) -> dict[str, Any]:
    if target.startswith("layer_info"):
        return {"layers": path}
    if target.startswith("profile"):
        return {"profile": path, **({"layers": seed.partner["layers"]} if "layers" in seed.partner else {})}
    if target == "times_json":
        return {"times": path, **({"profile": seed.partner["profile"]} if "profile" in seed.partner else {})}
    if target == "onnx":
        layers = seed.partner.get("layers") or OWN / "rtx-h100-resnet18" / "build-verbose.log"
        return {"onnx": path, "layers": layers}
    return {"path": path}


def _where(err: BaseException | None) -> str:
    """``file:line in function`` of the innermost trtscope frame of an exception."""
    if err is None:
        return "?"
    frames = [f for f in traceback.extract_tb(err.__traceback__) if "/trtscope/" in f.filename]
    if not frames:
        return "outside trtscope"
    f = frames[-1]
    return f"{f.filename.split('/trtscope/', 1)[-1]}:{f.lineno} in {f.name}"


# --- invariants -------------------------------------------------------------------------------------------------
_EPS = 1e-9


def _times_ok(s: pd.Series | None, what: str, problems: list[str]) -> None:
    if s is None or not len(s):
        return
    v = pd.to_numeric(s, errors="coerce").astype("float64").to_numpy()
    v = v[~np.isnan(v)]
    if len(v) and (not np.isfinite(v).all() or (v < 0).any()):
        problems.append(f"{what}: negative or non-finite values {v[(v < 0) | ~np.isfinite(v)][:3].tolist()}")


def _text_ok(s: pd.Series, what: str, problems: list[str]) -> None:
    for x in s.dropna().tolist():
        if isinstance(x, str):
            try:
                x.encode("utf-8")
            except UnicodeEncodeError:
                problems.append(f"{what}: a string that is not encodable text ({x[:40]!r})")
                return


def check_artifacts(art: Any) -> list[str]:
    problems: list[str] = []
    if art.layer_info is not None:
        layers = art.layer_info.layers
        _text_ok(layers["name"], "layer names", problems)
        sid = [x for x in layers["stream_id"].dropna().tolist()]
        if any(not isinstance(x, (int, np.integer)) or not 0 <= x < 2**31 for x in sid):
            problems.append("layer stream ids out of range")
    if art.profile is not None:
        t = art.profile.times
        for c in ("total_ms", "mean_ms", "median_ms"):
            _times_ok(t[c], f"profile {c}", problems)
        pct = pd.to_numeric(t["percentage"], errors="coerce").dropna()
        if ((pct < 0) | (pct > 100 + 1e-6)).any():
            problems.append("profile percentage outside 0-100")
        if art.profile.count is not None and not art.profile.count > 0:
            problems.append(f"profile iteration count {art.profile.count}")
        _text_ok(t["name"], "profile names", problems)
    if art.iterations is not None:
        for c in ("latency_ms", "compute_ms", "h2d_ms", "d2h_ms", "enqueue_ms"):
            _times_ok(art.iterations[c], f"iterations {c}", problems)
    if art.onnx is not None and art.onnx.nodes["name"].duplicated().any():
        problems.append("duplicate ONNX node names")
    k = art.kernels
    if len(k) and (k["end_ns"].astype("float64") < k["start_ns"].astype("float64")).any():
        problems.append("kernels ending before they start")
    return problems


def check_analysis(a: Any) -> list[str]:
    problems: list[str] = []
    layers = a.layers
    for c in ("mean_ms", "median_ms", "total_ms"):
        if c in layers:
            _times_ok(layers[c], f"layers {c}", problems)
    share = pd.to_numeric(layers.get("share"), errors="coerce").dropna() if "share" in layers else pd.Series([])
    if len(share) and ((share < 0).any() or (share > 1 + _EPS).any() or share.sum() > 1 + 1e-6):
        problems.append(f"layer shares outside [0, 1] or summing to {share.sum()}")
    if len(a.hotspots) and "cum_share" in a.hotspots:
        cum = pd.to_numeric(a.hotspots["cum_share"], errors="coerce").dropna()
        if len(cum) and ((cum < 0).any() or (cum > 1 + 1e-6).any()):
            problems.append("cumulative shares outside [0, 1]")
    if len(a.op_hotspots) and "share" in a.op_hotspots:
        s = pd.to_numeric(a.op_hotspots["share"], errors="coerce").dropna()
        if len(s) and ((s < 0).any() or s.sum() > 1 + 1e-6):
            problems.append("op-type shares negative or summing above 1")
    from trtscope.model.summary import as_dict

    summary = a.summary if isinstance(a.summary, dict) else as_dict(a.summary)
    total = summary.get("total_ms")
    timed = "mean_ms" in layers and layers["mean_ms"].notna().any()
    if timed and total is None:
        problems.append("total_ms is null while layers have times")
    if total is not None and (not math.isfinite(total) or total < 0):
        problems.append(f"total_ms {total}")
    iters = summary.get("profile_iterations")
    if iters is not None and not iters > 0:
        problems.append(f"profile_iterations {iters}")
    e2e = summary.get("end_to_end") or {}
    for key in ("latency", "compute"):
        st = e2e.get(key) or {}
        for k, v in st.items():
            if isinstance(v, float) and (not math.isfinite(v) or v < 0):
                problems.append(f"end_to_end {key} {k} = {v}")
    ks = summary.get("kernels") or {}
    g = ks.get("gpu_ms")
    if g is not None and (not math.isfinite(g) or g < 0):
        problems.append(f"kernel gpu_ms {g}")
    if "name" in a.onnx_nodes:
        _text_ok(a.onnx_nodes["name"], "ONNX node names", problems)
    return problems
