"""The Analysis tables written as CSV, Parquet or one JSON document (``trtscope export``).

Why these choices (documented for users in docs/exports.md):

* CSV and Parquet go through pyarrow: a million kernels write in about a second and floats round-trip
  exactly (pandas' ``to_csv`` is ten times slower). CSV cannot hold lists, so list-valued columns
  (``onnx_nodes``, ``layer_indices``) are JSON arrays in their cell — no separator can be safe when names
  contain anything TensorRT puts in them (``" + "``, brackets, 0x1E/0x1F). Parquet keeps real lists.
* A directory export is staged in a hidden sibling directory and renamed into place, so a reader never sees
  half an export, a failed export leaves nothing behind, and ``--force`` replaces a previous export whole
  (no stale ``kernels.csv`` from an earlier run).
* The JSON document holds every table as records plus the summary; tables are encoded by pandas' C encoder
  (``to_json``) because Python's ``json`` takes ten times longer on a million rows. Its floats carry 15
  significant digits.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trtscope._version import __version__
from trtscope.atomic import write_dir_atomically, write_file_atomically
from trtscope.errors import TrtscopeError
from trtscope.exporters.csv_safe import neutralise_table
from trtscope.exporters.json_report import figures_document
from trtscope.exporters.targets import SCHEMA, SUMMARY_FILE, check_dir_target, check_file_target
from trtscope.model.tables import (
    ITERATION_COLUMNS,
    KERNEL_COLUMNS,
    NVML_SAMPLE_COLUMNS,
    NVTX_RANGE_COLUMNS,
    empty_frame,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from trtscope.analysis.session import Analysis

#: Every table ``trtscope export`` knows, in the order they are written.
TABLE_NAMES: tuple[str, ...] = (
    "layers",
    "onnx_nodes",
    "mapping",
    "hotspots",
    "op_hotspots",
    "unfused_hotspots",
    "coverage_by_op",
    "reformat_layers",
    "kernel_rollup",
    "kernel_totals",
    "iterations",
    "nvml",
    "kernels",
    "nvtx_ranges",
)
FORMATS: tuple[str, ...] = ("csv", "parquet", "json")
#: How list-valued cells are written in CSV (see the module docstring).
CSV_LIST_ENCODING = "json"

#: Contract columns of tables that may be absent from an Analysis (an empty table still gets its header).
_EMPTY_COLUMNS: dict[str, tuple[str, ...]] = {
    "iterations": ITERATION_COLUMNS,
    "kernels": KERNEL_COLUMNS,
    "nvtx_ranges": NVTX_RANGE_COLUMNS,
    "nvml": NVML_SAMPLE_COLUMNS,
}


@dataclass
class ExportResult:
    """What an export wrote, for the CLI's one-line summary and for callers."""

    path: Path
    format: str
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows written
    files: list[Path] = field(default_factory=list)


# --- which tables -------------------------------------------------------------------------------------------
def get_table(a: Analysis, name: str) -> pd.DataFrame:
    """One table of the Analysis by export name (absent tables come back empty, with their columns)."""
    if name not in TABLE_NAMES:
        raise TrtscopeError(f"unknown table {name!r}; choose from {', '.join(TABLE_NAMES)}")
    df = getattr(a, name)
    if df is None or (not len(df) and not len(df.columns)):
        return empty_frame(_EMPTY_COLUMNS.get(name, ()))
    return df


def select_tables(a: Analysis, names: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """The tables to write: the named ones (even when empty), else every table that has rows."""
    if names:
        wanted = list(dict.fromkeys(names))
        return {n: get_table(a, n) for n in wanted}
    out = {n: get_table(a, n) for n in TABLE_NAMES}
    return {n: df for n, df in out.items() if len(df)}


# --- cell encoding ------------------------------------------------------------------------------------------
def _is_listlike(v: Any) -> bool:
    return isinstance(v, (list, tuple, np.ndarray))


def list_columns(df: pd.DataFrame) -> list[str]:
    """Object columns whose cells are lists (judged by their first non-missing cell)."""
    cols = []
    for c in df.columns:
        s = df[c]
        if s.dtype != object or not len(s):
            continue
        first = s.first_valid_index()  # vectorised isna; a list cell is never "missing"
        if first is not None and _is_listlike(s.loc[first]):
            cols.append(str(c))
    return cols


def _is_missing_scalar(v: Any) -> bool:
    if _is_listlike(v):
        return False
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _json_list(v: Any) -> str | None:
    """One list cell as a JSON array (numpy arrays and numpy scalars included); missing -> None."""
    if _is_listlike(v):
        items = v.tolist() if isinstance(v, np.ndarray) else list(v)
        return json.dumps([plain(x) for x in items], ensure_ascii=False, allow_nan=False,
                          separators=(",", ":"))
    return None


def encode_list_columns(df: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """A shallow copy with the given list columns as JSON-array strings (for CSV).

    Each distinct list is encoded once: a million kernels share a few thousand layers' node lists.
    """
    out = df.copy(deep=False)
    for c in columns:
        cache: dict[Any, str | None] = {}
        cells = []
        for v in df[c].tolist():
            key = tuple(v.tolist() if isinstance(v, np.ndarray) else v) if _is_listlike(v) else None
            if key not in cache:
                cache[key] = _json_list(v)
            cells.append(cache[key])
        out[c] = pd.Series(cells, index=df.index, dtype=object)
    return out


def plain(v: Any) -> Any:
    """A JSON-safe Python value: numpy scalars -> Python, NaN/inf/NA -> None, containers walked."""
    if v is None or isinstance(v, (bool, str, int)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, np.generic):
        return plain(v.item())
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset, np.ndarray)):
        return [plain(x) for x in (v.tolist() if isinstance(v, np.ndarray) else v)]
    if isinstance(v, Path):
        return str(v)
    if _is_missing_scalar(v):
        return None
    return str(v)


def arrow_table(df: pd.DataFrame) -> pa.Table:
    """The frame as an Arrow table; a column of mixed Python objects that Arrow refuses becomes text."""
    import pyarrow as pa

    arrays, names = [], []
    for c in df.columns:
        s = df[c]
        try:
            arr = pa.array(s, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            arr = pa.array([None if _is_missing_scalar(v) else str(v) for v in s.tolist()], type=pa.string())
        arrays.append(arr)
        names.append(str(c))
    return pa.Table.from_arrays(arrays, names=names)


# --- serialisers (module-level so tests can make one fail midway) ---------------------------------------------
def write_csv(df: pd.DataFrame, fh: IO[bytes]) -> None:
    import pyarrow.csv as pacsv

    pacsv.write_csv(neutralise_table(arrow_table(encode_list_columns(df, list_columns(df)))), fh)


def write_parquet(df: pd.DataFrame, fh: IO[bytes]) -> None:
    import pyarrow.parquet as pq

    pq.write_table(arrow_table(df), fh)


def records_json(df: pd.DataFrame) -> str:
    """A table as a JSON array of records (pandas' C encoder; NaN/NA -> null; control bytes escaped)."""
    if not len(df.columns):
        return "[]"
    return df.reset_index(drop=True).to_json(orient="records", force_ascii=False, double_precision=15)


def header_document(a: Analysis, tables: dict[str, pd.DataFrame], fmt: str) -> dict[str, Any]:
    """The non-table part of an export: schema, version, sources, warnings, summary, table index."""
    ext = {"csv": ".csv", "parquet": ".parquet"}.get(fmt)
    index = {}
    for name, df in tables.items():
        entry: dict[str, Any] = {"rows": len(df), "columns": [str(c) for c in df.columns]}
        lists = list_columns(df)
        if lists:
            entry["list_columns"] = lists
        if ext:
            entry["file"] = name + ext
        index[name] = entry
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "trtscope_version": __version__,
        "format": fmt,
        "sources": [{"path": s.path, "kind": s.kind, "detail": s.detail} for s in a.artifacts.sources],
        "warnings": list(a.warnings),
        **figures_document(a),
        "table_index": index,
    }
    if fmt == "csv":
        doc["csv"] = {
            "list_encoding": CSV_LIST_ENCODING,
            "note": "list-valued cells are JSON arrays; empty cell = missing; strings are written inside double "
            "quotes, unchanged (control bytes such as 0x1E/0x1F included) except that text a spreadsheet would "
            "evaluate (starting with = + - @ tab or CR, and not a plain number) gets a leading ' "
            "(formula injection)",
            "formula_prefix": "'",
        }
    return plain(doc)


def _dumps(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def write_json_document(a: Analysis, tables: dict[str, pd.DataFrame], fh: IO[bytes]) -> None:
    """``{schema, ..., summary, table_index, tables: {name: [records]}}`` streamed table by table."""
    head = _dumps(header_document(a, tables, "json"))
    fh.write(head[:-1].encode("utf-8"))
    fh.write(b',"tables":{')
    for i, (name, df) in enumerate(tables.items()):
        if i:
            fh.write(b",")
        fh.write(_dumps(name).encode("utf-8") + b":")
        fh.write(records_json(df).encode("utf-8"))
    fh.write(b"}}")


# --- public entry point -------------------------------------------------------------------------------------
def write_tables(
    a: Analysis,
    out: str | Path,
    fmt: str,
    *,
    tables: Iterable[str] | None = None,
    force: bool = False,
) -> ExportResult:
    """Write the Analysis tables: ``csv``/``parquet`` to a directory (one file per table plus summary.json),
    ``json`` to one file. Nothing is written without ``force`` when ``out`` exists."""
    if fmt not in FORMATS:
        raise TrtscopeError(f"unknown table format {fmt!r}; choose from {', '.join(FORMATS)}")
    path = Path(out)
    chosen = select_tables(a, tables)
    if not chosen:
        raise TrtscopeError("no table has any rows: nothing to export (name tables with --table to write them empty)")
    rows = {n: len(df) for n, df in chosen.items()}
    if fmt == "json":
        check_file_target(path, force=force)
        write_file_atomically(path, lambda fh: write_json_document(a, chosen, fh))
        return ExportResult(path, fmt, rows, [path])
    check_dir_target(path, force=force)
    files: dict[str, Callable[[IO[bytes]], None]] = {
        f"{name}.{fmt}": _table_writer(fmt, df) for name, df in chosen.items()
    }
    header = _dumps(header_document(a, chosen, fmt)).encode("utf-8")
    files[SUMMARY_FILE] = lambda fh: _write_bytes(fh, header)
    written = write_dir_atomically(path, files)
    return ExportResult(path, fmt, rows, written)


def _table_writer(fmt: str, df: pd.DataFrame) -> Callable[[IO[bytes]], None]:
    def write(fh: IO[bytes]) -> None:
        # looked up when called, not when bound: one place to swap a serialiser (tests make one fail)
        (write_csv if fmt == "csv" else write_parquet)(df, fh)

    return write


def _write_bytes(fh: IO[bytes], data: bytes) -> None:
    fh.write(data)
