"""Nsight Systems ``nsys export --type sqlite`` reader.

Exports differ across nsys versions (reference §7): tables exist only when something was recorded, kernel
columns come and go, NVTX text is inline (``text``) or registered (``textId`` -> ``StringIds``), the metadata
table is ``META_DATA_EXPORT`` or ``EXPORT_META_DATA``, graph provenance lives in ``CUDA_GRAPH_NODE_EVENTS``
or ``CUDA_GRAPH_EVENTS``. So every table and column is probed before it is queried, and a missing one becomes
either a one-line :class:`InputError` (no kernels at all) or a warning (no NVTX: kernels still import).

Traps handled here, each seen in a real export: one launch listed twice in the runtime table under the same
correlation id (nsys 2022.2: ``cudaLaunchKernel`` and ``cudaLaunchKernel_v7000``) — the launch join keeps one
call per (process, correlation id) so kernels are never doubled; correlation ids are per process, so the join
is on the process too; timestamps can be negative (capture started by ``cudaProfilerStart``); GPU work that
ran in CUDA graphs traced at graph level (``--cuda-graph-trace=graph``) exists only in
``CUPTI_ACTIVITY_KIND_GRAPH_TRACE`` and is returned as graph-level rows with a warning, never dropped.
The file is opened read-only and nothing is printed; ``progress`` receives step names for a UI.

Hostile files: only real tables are queried (a view — possibly an endless recursive one — named like an nsys
table is refused), tables larger than :data:`MAX_TABLE_ROWS` are refused, text that is not UTF-8 is decoded
leniently, values of the wrong type in integer columns and corrupt pages become one-line input errors, and
kernels whose end precedes their start are dropped with a warning.
"""

from __future__ import annotations

import shlex
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import take

from trtscope.errors import InputError, reading
from trtscope.model.artifacts import Artifacts, SourceFile
from trtscope.model.intervals import nest_ranges
from trtscope.model.tables import (
    API_CALL_COLUMNS,
    GRAPH_NODE_COLUMNS,
    KERNEL_COLUMNS,
    NVTX_RANGE_COLUMNS,
    ensure_columns,
)
from trtscope.parsers.files import read_input
from trtscope.parsers.values import valid_kernel_intervals

SQLITE_MAGIC = b"SQLite format 3\x00"
#: Rows per table trtscope reads (a long nsys capture of a big model has a few million kernels).
MAX_TABLE_ROWS = 50_000_000
#: A kernel lasting longer than this (ns; about 11.6 days) is not a measurement.
KERNEL_TABLE = "CUPTI_ACTIVITY_KIND_KERNEL"
RUNTIME_TABLE = "CUPTI_ACTIVITY_KIND_RUNTIME"
DRIVER_TABLE = "CUPTI_ACTIVITY_KIND_DRIVER"  # unconfirmed name; newer exports put driver calls in RUNTIME
GRAPH_TRACE_TABLE = "CUPTI_ACTIVITY_KIND_GRAPH_TRACE"
NVTX_TABLE = "NVTX_EVENTS"
CAPTURE_HINT = "capture with nsys profile --trace=cuda,nvtx"

#: ENUM_NSYS_EVENT_TYPE names -> our range kinds, with the ids used when the enum table is absent.
_RANGE_TYPES = {
    "NvtxPushPopRange": ("push_pop", 59),
    "NvtxStartEndRange": ("start_end", 60),
    "NvtxtPushPopRange": ("push_pop", 70),
    "NvtxtStartEndRange": ("start_end", 71),
}
_DOMAIN_CREATE = ("NvtxDomainCreate", 75)
#: Kernel columns that may be missing for some rows (graph-level rows have no grid, no launch...).
_NULLABLE_INTS = (
    "device_id", "context_id", "stream_id", "correlation_id", "grid_x", "grid_y", "grid_z", "block_x",
    "block_y", "block_z", "graph_node_id", "graph_id", "pid", "tid", "api_start_ns", "api_end_ns",
)  # fmt: skip


@dataclass
class NsysReport:
    """Everything read from one export; tables follow trtscope's column contracts."""

    path: str
    kernels: pd.DataFrame  # KERNEL_COLUMNS (+ short_name, context_id, launch_api, graph_level, graph_id)
    nvtx_ranges: pd.DataFrame  # NVTX_RANGE_COLUMNS (+ kind, domain_id), sorted by pid, tid, start
    api_calls: pd.DataFrame  # API_CALL_COLUMNS
    graph_nodes: pd.DataFrame  # GRAPH_NODE_COLUMNS (CUDA graph node creation, for replay provenance)
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_artifacts(self) -> Artifacts:
        """The source-independent form (kernels not yet mapped to ranges: see analysis.kernel_ranges)."""
        version = self.metadata.get("nsys_version")
        return Artifacts(
            kernels=self.kernels,
            nvtx_ranges=self.nvtx_ranges,
            metadata=dict(self.metadata),
            sources=[SourceFile(self.path, "nsys", f"nsys {version}" if version else "")],
            warnings=list(self.warnings),
        )


# --- opening -----------------------------------------------------------------------------------------------
def looks_like_nsys_export(path: str | Path) -> bool:
    """Cheap content check for file detection: a SQLite file with nsys' StringIds and CUPTI/NVTX tables."""
    try:
        if read_input(path, len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            return False
        conn = _connect(Path(path))
    except (OSError, InputError):
        return False
    try:
        return _is_nsys(_schema(conn)[0])
    except (sqlite3.Error, UnicodeError):
        return False
    finally:
        conn.close()


def _lenient_text(raw: bytes) -> str:
    """SQLite TEXT that is not valid UTF-8 (odd NVTX strings): decoded leniently, as names are compared later."""
    return raw.decode("utf-8", errors="replace")


def _connect(p: Path) -> sqlite3.Connection:
    uri = p.resolve().as_uri()
    try:
        return _try_connect(f"{uri}?mode=ro")
    except sqlite3.OperationalError:
        # a read-only directory can refuse even a read-only open (journal checks); immutable never writes
        try:
            return _try_connect(f"{uri}?immutable=1")
        except (sqlite3.Error, UnicodeError) as err:
            raise InputError(p, f"cannot open the SQLite file read-only ({err})") from err
    except (sqlite3.DatabaseError, UnicodeError) as err:
        raise InputError(p, f"corrupt or unreadable SQLite file ({err})") from err


def _try_connect(uri: str) -> sqlite3.Connection:
    conn = sqlite3.connect(uri, uri=True)
    try:
        conn.text_factory = _lenient_text
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn


def _open(path: str | Path) -> tuple[Path, sqlite3.Connection]:
    p = Path(path)
    head = read_input(p, 64, "an `nsys export --type sqlite` file")
    if not head.startswith(SQLITE_MAGIC):
        if p.suffix in (".nsys-rep", ".qdrep", ".qdstrm") or head.startswith(b"NVIDIA"):
            raise InputError(
                p, f"is an Nsight Systems report, not its SQLite export: run nsys export --type sqlite "
                f"-o {p.with_suffix('.sqlite').name} {p.name}",
            )
        raise InputError(p, "not a SQLite file; trtscope reads `nsys export --type sqlite` output")
    return p, _connect(p)


def _schema(conn: sqlite3.Connection) -> tuple[set[str], set[str]]:
    """(real tables, views): only tables are ever queried."""
    rows = conn.execute("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view')").fetchall()
    return {r[0] for r in rows if r[1] == "table"}, {r[0] for r in rows if r[1] == "view"}


def _is_nsys(tables: set[str]) -> bool:
    markers = ("CUPTI_ACTIVITY_KIND_", "NVTX_EVENTS", "TARGET_INFO_", "META_DATA_", "EXPORT_META_DATA")
    return "StringIds" in tables and any(t.startswith(markers) for t in tables)


# --- querying ----------------------------------------------------------------------------------------------
class _Db:
    """Schema probing plus queries that keep 64-bit integers exact (no float64 round trip for NULLs)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self.tables, self.views = _schema(conn)
        self._counted: dict[str, int] = {}
        self._columns: dict[str, set[str]] = {}
        self._not_null: dict[str, set[str]] = {}
        self._strings: pd.Series | None = None

    def columns(self, table: str) -> set[str]:
        if table not in self._columns:
            rows = self.conn.execute(f'PRAGMA table_info("{table}")').fetchall()
            self._columns[table] = {r[1] for r in rows}
        return self._columns[table]

    def strings(self, ids: pd.Series) -> pd.Series:
        """StringIds values for a column of ids (None where absent), without a Python loop over rows."""
        if self._strings is None:
            rows = self.conn.execute("SELECT id, value FROM StringIds").fetchall() if self.has("StringIds") else []
            rows = [r for r in rows if type(r[0]) is int]  # an id that is not an integer names nothing
            self._strings = pd.Series(_texts([r[1] for r in rows]),
                                      index=pd.Index([r[0] for r in rows], dtype="int64"), dtype=object)
            self._strings = self._strings[~self._strings.index.duplicated()]
        codes, valid = ids.to_numpy(dtype=np.int64, na_value=-1), ids.notna().to_numpy()
        pos = self._strings.index.get_indexer(pd.Index(codes))
        pos[~valid] = -1
        values = self._strings.to_numpy()
        out = np.empty(len(pos), dtype=object)
        out[:] = None
        hit = pos >= 0
        out[hit] = values[pos[hit]]
        return pd.Series(out, index=ids.index, dtype=object)

    def has(self, table: str) -> bool:
        """A real table of that name exists (and is not too large); a view of that name is an error."""
        if table in self.views:
            raise InputError(self.path, f"{table} is a view, not a table: trtscope reads only the tables nsys "
                                        "writes (is this a genuine `nsys export --type sqlite` file?)")
        if table not in self.tables:
            return False
        if self.count(table) > MAX_TABLE_ROWS:
            raise InputError(self.path, f"{table} has {self.count(table):,} rows, more than the "
                                        f"{MAX_TABLE_ROWS:,} trtscope reads from one table")
        return True

    def count(self, table: str) -> int:
        if table not in self.tables:
            return 0
        if table not in self._counted:
            self._counted[table] = int(self.conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
        return self._counted[table]

    def col(self, table: str, alias: str, column: str, as_name: str | None = None) -> str:
        """``alias.column AS as_name``, or ``NULL AS as_name`` when this schema lacks the column."""
        name = as_name or column
        return f"{alias}.{column} AS {name}" if column in self.columns(table) else f"NULL AS {name}"

    def icol(self, table: str, alias: str, column: str, as_name: str | None, nulls: _Nulls) -> str:
        """An integer column for :meth:`frame`'s fast path: ``ifnull(alias.column, 0) AS as_name`` with its
        NULLs recorded in ``nulls`` where the schema allows NULL (or lacks the column: ``0``, always NULL)."""
        name = as_name or column
        if column not in self.columns(table):
            nulls.add(name, None)
            return f"0 AS {name}"
        if column in self.not_null(table):
            return f"{alias}.{column} AS {name}"
        nulls.add(name, f"{alias}.{column}")
        return f"ifnull({alias}.{column}, 0) AS {name}"

    def not_null(self, table: str) -> set[str]:
        """Columns declared NOT NULL (SQLite enforces it on every write; a crafted file that breaks it still
        reads exactly, through :meth:`frame`'s general path)."""
        if table not in self._not_null:
            rows = self.conn.execute(f'PRAGMA table_info("{table}")').fetchall()
            self._not_null[table] = {r[1] for r in rows if r[3]}
        return self._not_null[table]

    def frame(self, sql: str, params: Sequence[Any] = (), ints: Sequence[str] = (),
              nulls: _Nulls | None = None, sort: str | None = None) -> pd.DataFrame:
        """The query's rows as a table: ``ints`` columns exact (int64, or Int64 where NULLs occur), the others
        text. ``nulls``: the columns the query reads through :meth:`icol`, whose NULLs are bits of its
        ``_nulls`` column (the query selects ``nulls.mask()``). ``sort``: rows stably sorted by that column,
        NULLs first -- the order ``ORDER BY`` gives (SQLite's sorter keeps the scan order of equal keys), at a
        fraction of its cost."""
        try:
            cur = self.conn.execute(sql, tuple(params))
            rows = cur.fetchall()
        except sqlite3.Error as err:
            raise InputError(self.path, f"cannot read the export ({err})") from err
        names = [d[0] for d in cur.description]
        ints = (*ints, _Nulls.COLUMN) if nulls is not None else tuple(ints)
        data = self._int_block(rows, names, ints, sort) if rows else None
        presorted = data is not None
        if data is None:
            data = self._cells(rows, names, ints)
        if nulls is not None:
            nulls.apply(data)
        df = pd.DataFrame(data, columns=[n for n in names if n != _Nulls.COLUMN])
        if sort is not None and not presorted:
            df = df.sort_values(sort, kind="stable", na_position="first").reset_index(drop=True)
        return df

    @staticmethod
    def _int_block(rows: list[Any], names: list[str], ints: Sequence[str],
                   sort: str | None) -> dict[str, Any] | None:
        """All-integer rows converted in one C-level pass: numpy's own type discovery is the check (a NULL,
        REAL, TEXT or BLOB cell makes the array something other than integers: None, for the general path)."""
        if not set(names) <= set(ints):
            return None
        block = np.array(rows)
        if block.ndim != 2 or block.dtype.kind != "i" or block.shape[1] != len(names):
            return None
        block = block.astype(np.int64, copy=False)  # (int32 where that is numpy's default integer)
        if sort is not None:
            block = block[np.argsort(block[:, names.index(sort)], kind="stable")]
        return {name: block[:, i] for i, name in enumerate(names)}

    def _cells(self, rows: list[Any], names: list[str], ints: Sequence[str]) -> dict[str, Any]:
        """The general path: any mix of text and integer columns, NULLs and wrong types (an input error)."""
        int_pos = [i for i, name in enumerate(names) if name in ints]
        data: dict[str, Any] = {}
        ints_of: np.ndarray | None = None
        if rows:
            cells = np.empty((len(rows), len(names)), dtype=object)
            cells[:] = rows  # one C-level copy of the cell references; columns are then strided views
            if int_pos:
                # every integer column checked and converted at once (C loops); NULLs become masks
                block = cells[:, int_pos]
                null = block == None  # noqa: E711 - elementwise over an object array
                if set(map(type, block[~null])) <= {int}:
                    block[null] = 0
                    ints_of = block.astype(np.int64)
        for i, name in enumerate(names):
            if i in int_pos:
                if not rows:
                    data[name] = np.array([], dtype=np.int64)
                elif ints_of is not None:
                    j = int_pos.index(i)
                    data[name] = (pd.arrays.IntegerArray(ints_of[:, j], null[:, j]) if null[:, j].any()
                                  else ints_of[:, j])
                else:
                    try:
                        data[name] = _int_array(cells[:, i].tolist())
                    except (TypeError, ValueError, OverflowError) as err:
                        raise InputError(self.path, f"column {name} holds values that are not integers ({err}); "
                                                    "not a genuine nsys export?") from err
            else:
                data[name] = pd.array(_texts(cells[:, i].tolist() if rows else []), dtype=object)
        return data


class _Nulls:
    """NULLs of integer columns read as ``ifnull(column, 0)``: one bit per column in one small integer per row
    (``_nulls``), so rows hold nothing but integers and take :meth:`_Db.frame`'s fast path. Bits are assigned
    by column name, so the parts of a UNION ALL share them."""

    COLUMN = "_nulls"

    def __init__(self) -> None:
        self.names: list[str] = []
        self._terms: list[str] = []

    def add(self, name: str, ref: str | None) -> None:
        """``ref`` NULL sets the bit of ``name``; None: the column is absent here (always NULL)."""
        if name not in self.names:
            self.names.append(name)
        bit = self.names.index(name)
        if bit > 62:
            raise ValueError("more than 63 nullable integer columns in one query")
        self._terms.append(f"(({ref} IS NULL) << {bit})" if ref else str(1 << bit))

    def mask(self) -> str:
        """The ``_nulls`` column of the part of the query built since the last call."""
        terms, self._terms = self._terms or ["0"], []
        return f"({' | '.join(terms)}) AS {self.COLUMN}"

    def apply(self, data: dict[str, Any]) -> None:
        """Turn the bits into masks (Int64 where NULLs occur, int64 elsewhere, as the general path gives)."""
        bits = np.asarray(data.pop(self.COLUMN), dtype=np.int64)
        for bit, name in enumerate(self.names):
            null = ((bits >> bit) & 1).astype(bool)
            if null.any():
                values = pd.array(data[name], dtype="Int64")
                data[name] = pd.arrays.IntegerArray(values.to_numpy(dtype=np.int64, na_value=0),
                                                    null | values.isna())


def _texts(values: Sequence[Any]) -> list[Any]:
    """A text column as str / None: a BLOB or number where nsys writes text is turned into text."""
    if set(map(type, values)) <= {str, type(None)}:
        return list(values)
    return [v if v is None or type(v) is str else _lenient_text(v) if isinstance(v, bytes) else str(v)
            for v in values]


def _int_array(values: Sequence[Any]) -> Any:
    """int64 when no value is NULL, else a nullable Int64 array; exact either way. Anything but integers and
    NULL (text, REAL, BLOB in an INTEGER column) is a TypeError: never truncated or parsed into a number."""
    kinds = set(map(type, values))
    if kinds <= {int}:
        return np.array(values, dtype=np.int64)
    if not kinds <= {int, type(None)}:
        bad = sorted(k.__name__ for k in kinds - {int, type(None)})
        raise TypeError(f"{', '.join(bad)} values")
    obj = np.array(values, dtype=object)
    missing = np.asarray(pd.isna(obj), dtype=bool)
    obj[missing] = 0
    return pd.arrays.IntegerArray(obj.astype(np.int64), missing)


def _split_global_tid(gtid: pd.Series) -> tuple[pd.Series, pd.Series]:
    """nsys packs ids as ``(pid << 24) | tid`` in ``globalTid`` (higher bits: VM / host id)."""
    g = gtid.astype("Int64")
    return (g // (1 << 24)) % (1 << 24), g % (1 << 24)


# --- metadata ----------------------------------------------------------------------------------------------
def _metadata(db: _Db) -> dict[str, Any]:
    meta: dict[str, Any] = {"source": "nsys", "nsys_file": str(db.path)}
    for table in ("META_DATA_EXPORT", "EXPORT_META_DATA"):
        if db.has(table) and {"name", "value"} <= db.columns(table):
            kv = dict(db.conn.execute(f"SELECT name, value FROM {table}").fetchall())
            meta["nsys_version"] = kv.get("EXPORT_PRODUCT_VERSION")
            meta["nsys_schema_version"] = kv.get("EXPORT_SCHEMA_VERSION")
            meta["nsys_export_time_utc"] = kv.get("EXPORT_TIME_UTC")
            meta["nsys_metadata_table"] = table
            break
    if db.has("TARGET_INFO_GPU") and "name" in db.columns("TARGET_INFO_GPU"):
        order = "id" if "id" in db.columns("TARGET_INFO_GPU") else "rowid"
        id_col = "id" if "id" in db.columns("TARGET_INFO_GPU") else "NULL"
        rows = db.conn.execute(f"SELECT {id_col}, name FROM TARGET_INFO_GPU ORDER BY {order}").fetchall()
        meta["gpus"] = [str(name) for _, name in rows if isinstance(name, str)]
        meta["gpu_by_device"] = {i: name for i, name in rows if isinstance(i, int) and isinstance(name, str)}
    if db.has("META_DATA_CAPTURE") and {"name", "value"} <= db.columns("META_DATA_CAPTURE"):
        # only the command line and trace options: this table also holds the target's environment variables
        rows = db.conn.execute(
            "SELECT name, value FROM META_DATA_CAPTURE WHERE name LIKE 'PROCESS_%:COMMAND' "
            "OR name LIKE 'PROCESS_%:ARGUMENT_%' OR name LIKE 'PROCESS_%:CUDA_GRAPH_TRACE_OPTIONS:MODE'"
        ).fetchall()
        meta.update(_commands(rows))
    if db.has("TARGET_INFO_SESSION_START_TIME") and "utcTime" in db.columns("TARGET_INFO_SESSION_START_TIME"):
        row = db.conn.execute("SELECT utcTime FROM TARGET_INFO_SESSION_START_TIME").fetchone()
        if row and row[0]:
            meta["session_start_utc"] = str(row[0])
    return meta


def _commands(rows: list[tuple[str, str]]) -> dict[str, Any]:
    procs: dict[int, dict[str, Any]] = {}
    for name, value in rows:
        head, _, rest = str(name).partition(":")
        try:
            proc = procs.setdefault(int(head.removeprefix("PROCESS_")), {"args": {}})
        except ValueError:
            continue
        if rest == "COMMAND":
            proc["command"] = value
        elif rest.startswith("ARGUMENT_") and rest[9:].isdigit():
            proc["args"][int(rest[9:])] = value
        elif rest == "CUDA_GRAPH_TRACE_OPTIONS:MODE":
            proc["graph_mode"] = value
    commands = [
        shlex.join([str(p["command"]), *(str(p["args"][i]) for i in sorted(p["args"]))])
        for _, p in sorted(procs.items())
        if p.get("command")
    ]
    out: dict[str, Any] = {}
    if commands:
        out["command"] = commands[0]
        out["commands"] = commands
    modes = {p["graph_mode"] for p in procs.values() if p.get("graph_mode")}
    if modes:
        out["cuda_graph_trace"] = ",".join(sorted(str(m).lower() for m in modes))
    return out


# --- API calls ---------------------------------------------------------------------------------------------
def _api_calls(db: _Db) -> pd.DataFrame:
    parts = []
    tables = [table for table in (RUNTIME_TABLE, DRIVER_TABLE) if db.has(table)]
    # nsys 2022 exports still had a text column; without it, rows are all integers (frame's fast path)
    inline = any("name" in db.columns(table) for table in tables)
    nulls = _Nulls()
    for table in tables:
        fields = [
            "r.start AS start_ns",  # the sort key: never ifnull'd (a NULL there takes frame's general path)
            *(db.icol(table, "r", c, name, nulls) for c, name in (
                ("end", "end_ns"), ("globalTid", "globalTid"), ("correlationId", "correlation_id"),
                ("nameId", "name_id"), ("returnValue", "return_value"))),
            *([db.col(table, "r", "name", "inline_name")] if inline else []),
            nulls.mask(),
        ]
        parts.append(f"SELECT {', '.join(fields)} FROM {table} AS r")
    if not parts:
        return ensure_columns(pd.DataFrame(), API_CALL_COLUMNS)
    df = db.frame(
        " UNION ALL ".join(parts),
        ints=("start_ns", "end_ns", "globalTid", "correlation_id", "name_id", "return_value"), nulls=nulls,
        sort="start_ns",
    )
    name = db.strings(df["name_id"])
    df["name"] = name.where(name.notna(), df["inline_name"].astype(object)) if inline else name
    df["pid"], df["tid"] = _split_global_tid(df["globalTid"])
    # a few hundred distinct API names: classify those, not every row
    codes, uniques = pd.factorize(df["name"].astype(object))
    kinds = np.array([*("driver" if isinstance(n, str) and n.startswith("cu") and not n.startswith("cuda")
                        else "runtime" for n in uniques.tolist()), "runtime"], dtype=object)
    df["kind"] = pd.Series(kinds[codes], dtype=object, index=df.index)  # (code -1: no name -> the last entry)
    return ensure_columns(df, API_CALL_COLUMNS)[list(API_CALL_COLUMNS)]


def _launches(api: pd.DataFrame) -> pd.DataFrame:
    """One launching call per (pid, correlation id): the outermost (earliest, then longest) of duplicates."""
    calls = api[api["correlation_id"].notna()]
    calls = calls.sort_values(["pid", "correlation_id", "start_ns", "end_ns"], ascending=[True, True, True, False])
    calls = calls.drop_duplicates(["pid", "correlation_id"], keep="first")
    return calls.rename(
        columns={"start_ns": "api_start_ns", "end_ns": "api_end_ns", "name": "launch_api", "pid": "api_pid"}
    )[["api_pid", "correlation_id", "tid", "api_start_ns", "api_end_ns", "launch_api"]]


# --- kernels -----------------------------------------------------------------------------------------------
def _kernels(db: _Db) -> pd.DataFrame:
    t = KERNEL_TABLE
    cols = db.columns(t)
    for needed in ("start", "end"):
        if needed not in cols:
            raise InputError(db.path, f"unsupported nsys export schema: {t} has no `{needed}` column")
    # names are StringIds ids: fetched as integers and resolved in one vectorised lookup (a string per row
    # from SQLite would dominate the import time of a million-kernel report)
    name_ids = [c for c in ("demangledName", "shortName", "mangledName") if c in cols]
    nulls = _Nulls()
    fields = [
        "k.start AS start_ns",  # the sort key: never ifnull'd (a NULL there takes frame's general path)
        db.icol(t, "k", "end", "end_ns", nulls),
        *(db.icol(t, "k", c, c, nulls) for c in name_ids),
        db.icol(t, "k", "deviceId", "device_id", nulls),
        db.icol(t, "k", "contextId", "context_id", nulls),
        db.icol(t, "k", "streamId", "stream_id", nulls),
        db.icol(t, "k", "correlationId", "correlation_id", nulls),
        db.icol(t, "k", "globalPid", "global_pid", nulls),
        *(db.icol(t, "k", c, f"{c[:-1]}_{c[-1].lower()}", nulls) for c in ("gridX", "gridY", "gridZ")),
        *(db.icol(t, "k", c, f"{c[:-1]}_{c[-1].lower()}", nulls) for c in ("blockX", "blockY", "blockZ")),
        db.icol(t, "k", "graphNodeId", "graph_node_id", nulls),
        nulls.mask(),
    ]
    ints = (
        "start_ns", "end_ns", "device_id", "context_id", "stream_id", "correlation_id", "global_pid",
        "grid_x", "grid_y", "grid_z", "block_x", "block_y", "block_z", "graph_node_id",
    )  # fmt: skip
    df = db.frame(f"SELECT {', '.join(fields)} FROM {t} AS k", ints=(*ints, *name_ids), nulls=nulls,
                  sort="start_ns")
    resolved = {c: db.strings(df.pop(c)) for c in name_ids}
    name = pd.Series([None] * len(df), dtype=object)
    for c in name_ids:  # demangled name first, then the short / mangled one where it is missing
        name = resolved[c] if c == name_ids[0] else name.where(name.notna(), resolved[c])
    df["name"] = name
    df["short_name"] = resolved.get("shortName", name)
    df["graph_level"] = False
    df["graph_id"] = pd.array([None] * len(df), dtype="Int64")
    return df


def _graph_level_rows(db: _Db, kernels: pd.DataFrame) -> pd.DataFrame:
    """Whole-graph executions (``--cuda-graph-trace=graph``) with no per-kernel rows for their launch."""
    t = GRAPH_TRACE_TABLE
    if not db.has(t) or not {"start", "end"} <= db.columns(t):
        return pd.DataFrame()
    fields = [
        "g.start AS start_ns",
        "g.end AS end_ns",
        db.col(t, "g", "deviceId", "device_id"),
        db.col(t, "g", "contextId", "context_id"),
        db.col(t, "g", "streamId", "stream_id"),
        db.col(t, "g", "correlationId", "correlation_id"),
        db.col(t, "g", "globalPid", "global_pid"),
        db.col(t, "g", "graphId", "graph_id"),
        db.col(t, "g", "graphExecId", "graph_exec_id"),
    ]
    ints = ("start_ns", "end_ns", "device_id", "context_id", "stream_id", "correlation_id", "global_pid",
            "graph_id", "graph_exec_id")  # fmt: skip
    g = db.frame(f"SELECT {', '.join(fields)} FROM {t} AS g ORDER BY g.start", ints=ints)
    if g.empty:
        return g
    # a launch that also produced kernel rows (node-level trace) must not be counted twice
    if not kernels.empty:
        traced = pd.MultiIndex.from_arrays([kernels["global_pid"], kernels["correlation_id"]])
        seen = pd.MultiIndex.from_arrays([g["global_pid"], g["correlation_id"]]).isin(traced)
        g = g[~(seen & g["correlation_id"].notna().to_numpy())].copy()
    gid = g["graph_id"].astype(object)
    g["name"] = [f"CUDA graph {x} (graph-level trace: kernels not recorded)" for x in gid]
    g["short_name"] = g["name"]
    g["graph_level"] = True
    g["graph_node_id"] = pd.array([None] * len(g), dtype="Int64")
    return g.drop(columns=["graph_exec_id"])


# --- NVTX --------------------------------------------------------------------------------------------------
def _event_types(db: _Db) -> dict[str, int]:
    """NVTX event type ids by name, from ENUM_NSYS_EVENT_TYPE when the export has it (reference §7)."""
    wanted = {**{k: v[1] for k, v in _RANGE_TYPES.items()}, _DOMAIN_CREATE[0]: _DOMAIN_CREATE[1]}
    if db.has("ENUM_NSYS_EVENT_TYPE") and {"id", "name"} <= db.columns("ENUM_NSYS_EVENT_TYPE"):
        rows = dict(db.conn.execute("SELECT name, id FROM ENUM_NSYS_EVENT_TYPE").fetchall())
        return {k: int(rows.get(k, v)) for k, v in wanted.items()}
    return wanted


def _nvtx(db: _Db) -> pd.DataFrame:
    t = NVTX_TABLE
    cols = db.columns(t)
    types = _event_types(db)
    text = "COALESCE(n.text, s.value)" if "textId" in cols else "n.text"
    if "text" not in cols:
        text = "s.value" if "textId" in cols else "NULL"
    join = "LEFT JOIN StringIds AS s ON s.id = n.textId" if "textId" in cols else ""
    ids = sorted({types[k] for k in _RANGE_TYPES} | {types[_DOMAIN_CREATE[0]]})
    fields = [
        "n.rowid AS range_id",
        "n.start AS start_ns",
        db.col(t, "n", "end", "end_ns"),
        "n.eventType AS event_type",
        f"{text} AS name",
        db.col(t, "n", "globalTid"),
        db.col(t, "n", "domainId", "domain_id"),
    ]
    df = db.frame(
        f"SELECT {', '.join(fields)} FROM {t} AS n {join} WHERE n.eventType IN ({', '.join('?' * len(ids))})",
        ids,
        ints=("range_id", "start_ns", "end_ns", "event_type", "globalTid", "domain_id"),
    )
    df["pid"], df["tid"] = _split_global_tid(df["globalTid"])
    etype = df["event_type"].to_numpy(dtype=np.int64)
    is_domain = etype == types[_DOMAIN_CREATE[0]]
    domains = df.loc[is_domain & df["domain_id"].notna().to_numpy(), ["pid", "domain_id", "name"]]
    domains = domains.drop_duplicates(["pid", "domain_id"], keep="last").rename(columns={"name": "domain"})
    ranges = df[~is_domain].merge(domains, how="left", on=["pid", "domain_id"])
    by_id = domains.drop_duplicates("domain_id", keep="last").set_index("domain_id")["domain"]
    own = ranges["domain"].astype(object)
    other = ranges["domain_id"].map(by_id).astype(object)  # a domain created by another process
    dom = own.where(own.notna(), other)
    ranges["domain"] = dom.where(ranges["domain_id"].fillna(0).to_numpy() != 0, None)  # 0: the default domain
    kind = {types[k]: v[0] for k, v in _RANGE_TYPES.items()}
    ranges["kind"] = ranges["event_type"].map(kind)
    ranges = ranges.sort_values(["pid", "tid", "start_ns"], kind="stable", na_position="last")
    ranges = nest_ranges(ranges.reset_index(drop=True))
    return ensure_columns(ranges, NVTX_RANGE_COLUMNS)[[*NVTX_RANGE_COLUMNS, "kind", "domain_id"]]


def _graph_nodes(db: _Db) -> pd.DataFrame:
    for t in ("CUDA_GRAPH_NODE_EVENTS", "CUDA_GRAPH_EVENTS"):
        if db.has(t) and {"graphNodeId", "start"} <= db.columns(t):
            join = "LEFT JOIN StringIds AS s ON s.id = g.nameId" if "nameId" in db.columns(t) else ""
            fields = [
                "g.graphNodeId AS graph_node_id",
                db.col(t, "g", "originalGraphNodeId", "original_graph_node_id"),
                db.col(t, "g", "globalTid"),
                "g.start AS start_ns",
                db.col(t, "g", "end", "end_ns"),
                "s.value AS name" if join else "NULL AS name",
            ]
            df = db.frame(
                f"SELECT {', '.join(fields)} FROM {t} AS g {join} ORDER BY g.start",
                ints=("graph_node_id", "original_graph_node_id", "globalTid", "start_ns", "end_ns"),
            )
            df["pid"], df["tid"] = _split_global_tid(df["globalTid"])
            return df[list(GRAPH_NODE_COLUMNS)]
    return ensure_columns(pd.DataFrame(), GRAPH_NODE_COLUMNS)


# --- the reader --------------------------------------------------------------------------------------------
def read_report(path: str | Path, *, progress: Callable[[str], None] | None = None) -> NsysReport:
    """Read an ``nsys export --type sqlite`` file (read-only). Kernels come joined to their launching API
    call (pid, tid, api_start_ns, api_end_ns) but not yet to NVTX ranges: run
    :func:`trtscope.analysis.kernel_ranges.map_kernels` on the result.
    """
    step = progress or (lambda _msg: None)
    p, conn = _open(path)
    try:
        with reading(p, "the nsys export"):
            try:
                db = _Db(conn, p)
                if not _is_nsys(db.tables):
                    raise InputError(p, "a SQLite file, but not an Nsight Systems export (no StringIds and "
                                        "CUPTI/NVTX tables)")
                return _read(db, step)
            except (sqlite3.DatabaseError, UnicodeError) as err:  # a damaged page met by any query
                raise InputError(p, f"corrupt or unreadable SQLite file ({err})") from err
    finally:
        conn.close()


def _read(db: _Db, step: Callable[[str], None]) -> NsysReport:
    p = db.path
    warnings: list[str] = []
    has_kernels, has_graphs = db.has(KERNEL_TABLE), db.has(GRAPH_TRACE_TABLE) and db.count(GRAPH_TRACE_TABLE) > 0
    if not has_kernels and not has_graphs:
        raise InputError(
            p, f"no CUDA kernel trace in this report ({KERNEL_TABLE} is absent): {CAPTURE_HINT}"
        )
    step("reading metadata")
    meta = _metadata(db)

    step("reading CUDA API calls")
    api = _api_calls(db)
    if not db.has(RUNTIME_TABLE):
        warnings.append(
            f"no CUDA API trace ({RUNTIME_TABLE} is absent): kernels cannot be tied to host threads or NVTX "
            "ranges"
        )

    step("reading kernels")
    kernels = _kernels(db) if has_kernels else pd.DataFrame()
    graph_rows = _graph_level_rows(db, kernels) if has_graphs else pd.DataFrame()
    if kernels.empty and graph_rows.empty:
        raise InputError(p, f"no CUDA kernels recorded in this report ({KERNEL_TABLE} is empty): {CAPTURE_HINT}")
    if not graph_rows.empty:
        gpu_ms = float((graph_rows["end_ns"] - graph_rows["start_ns"]).sum()) / 1e6
        warnings.append(
            f"{len(graph_rows)} CUDA graph launches were traced at graph level only (--cuda-graph-trace=graph): "
            f"{gpu_ms:.3f} ms of GPU time with no per-kernel or per-layer detail; they are kept as graph-level "
            "rows. Capture with --cuda-graph-trace=node to see their kernels"
        )
    parts = [df for df in (kernels, graph_rows) if not df.empty]
    allk = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
    allk = valid_kernel_intervals(allk, p, warnings)
    allk = _join_launches(allk, api, warnings)

    step("reading NVTX ranges")
    if db.has(NVTX_TABLE):
        ranges = _nvtx(db)
        if ranges.empty:
            warnings.append(f"{NVTX_TABLE} holds no ranges: kernels cannot be tied to layers")
    else:
        ranges = ensure_columns(pd.DataFrame(), NVTX_RANGE_COLUMNS)
        warnings.append(
            f"no NVTX trace in this report ({NVTX_TABLE} is absent): kernels are imported but cannot be tied "
            f"to layers; {CAPTURE_HINT}"
        )

    step("reading CUDA graph nodes")
    nodes = _graph_nodes(db)
    gk = allk["graph_node_id"].notna() & (allk["graph_node_id"].fillna(0) != 0)
    if bool(gk.any()) and nodes.empty:
        warnings.append(
            f"{int(gk.sum())} kernels ran from CUDA graphs but the export has no graph-node creation events "
            "(CUDA_GRAPH_NODE_EVENTS): they stay unattributed"
        )
    devices = allk["device_id"].dropna()
    by_dev = meta.pop("gpu_by_device", {})
    if len(devices):
        dev = int(devices.mode().iloc[0])
        meta["gpu"] = by_dev.get(dev) or (meta.get("gpus") or [None])[0]
        meta["devices_used"] = sorted(int(d) for d in devices.unique())
    elif meta.get("gpus"):
        meta["gpu"] = meta["gpus"][0]
    meta["table_rows"] = {
        t: db.count(t) for t in (KERNEL_TABLE, RUNTIME_TABLE, NVTX_TABLE, GRAPH_TRACE_TABLE) if db.has(t)
    }
    return NsysReport(str(p), allk, ranges, api, nodes, meta, warnings)




_CORR_BITS = 39  # correlation ids are 32-bit in CUPTI; a key is (pid << 39) | correlation id


def _launch_rows(kernels: pd.DataFrame, launches: pd.DataFrame) -> np.ndarray | None:
    """Per kernel, the row of its launching call in ``launches`` (-1: none), matched on (process, correlation
    id) through one int64 key each; None when some process id is missing or a correlation id does not fit the
    key (the general merge handles those)."""
    if kernels["kpid"].isna().any() or launches["api_pid"].isna().any():
        return None

    def key(pid: pd.Series, corr: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
        c = corr.to_numpy(dtype=np.int64, na_value=-1)
        valid = corr.notna().to_numpy()
        if ((c[valid] < 0) | (c[valid] >= 1 << _CORR_BITS)).any():
            return None
        return (pid.to_numpy(dtype=np.int64) << _CORR_BITS) | np.where(valid, c, 0), valid

    k, lk = key(kernels["kpid"], kernels["correlation_id"]), key(launches["api_pid"], launches["correlation_id"])
    if k is None or lk is None:
        return None
    index = pd.Index(lk[0])
    if not index.is_unique:  # (_launches keeps one call per key; never rely on it silently)
        return None
    rows = index.get_indexer(k[0])
    rows[~k[1]] = -1
    return rows


def _join_launches(kernels: pd.DataFrame, api: pd.DataFrame, warnings: list[str]) -> pd.DataFrame:
    """Attach the launching call's thread and host interval, per process (never duplicating a kernel)."""
    gp = kernels["global_pid"]
    kernels["kpid"] = (gp.astype("Int64") // (1 << 24)) % (1 << 24)
    launches = _launches(api)
    rows = _launch_rows(kernels, launches)
    merged: Any
    if rows is not None:  # the usual case: one hash lookup per kernel instead of a two-column merge
        merged = kernels
        found = rows >= 0
        for c in ("api_pid", "tid", "api_start_ns", "api_end_ns", "launch_api"):
            col = launches[c]
            if col.dtype.kind not in "iu":  # text: its own dtype, missing where no launch (as a merge gives)
                merged[c] = pd.Series(take(col.array, rows, allow_fill=True), dtype=col.dtype, index=merged.index)
            else:
                merged[c] = pd.arrays.IntegerArray(col.to_numpy(dtype=np.int64, na_value=0)[rows],
                                                   ~found | col.isna().to_numpy()[rows])
    elif kernels["kpid"].notna().all():
        merged = kernels.merge(
            launches, how="left", left_on=["kpid", "correlation_id"], right_on=["api_pid", "correlation_id"],
            validate="many_to_one",
        )
    else:  # an export without process ids: correlation ids alone (unique ones only)
        single = launches.drop_duplicates("correlation_id", keep=False)
        merged = kernels.merge(single, how="left", on="correlation_id", validate="many_to_one")
    assert len(merged) == len(kernels)
    merged["pid"] = merged["api_pid"].fillna(merged["kpid"])
    missing = int((merged["api_start_ns"].isna() & ~merged["graph_level"].astype(bool)).sum())
    if missing:
        warnings.append(
            f"{missing} kernels have no launching CUDA API call in the report (launched before the capture "
            "started?): they cannot be tied to NVTX ranges"
        )
    for c in _NULLABLE_INTS:
        if c in merged:
            merged[c] = pd.array(merged[c], dtype="Int64")
    merged = merged.drop(columns=["kpid", "api_pid", "global_pid"])
    merged = merged.sort_values("start_ns", kind="stable").reset_index(drop=True)
    return ensure_columns(merged, KERNEL_COLUMNS)
