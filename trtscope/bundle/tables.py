"""Reading a bundle's Parquet tables as untrusted input: the file checked, the schema checked, sizes bounded.

pyarrow is handed an open file handle of a regular file inside the bundle (never a path: a path naming a
directory would be read as a whole dataset), and only after the file's footer shows the columns trtscope
relies on have the right kind of values and the declared sizes are within bounds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from trtscope.errors import InputError
from trtscope.model.tables import (
    API_CALL_COLUMNS,
    GRAPH_NODE_COLUMNS,
    ITERATION_COLUMNS,
    KERNEL_COLUMNS,
    LAYER_SAMPLE_COLUMNS,
    NVML_SAMPLE_COLUMNS,
    NVTX_RANGE_COLUMNS,
    PROFILE_COLUMNS,
)
from trtscope.parsers.files import open_input

if TYPE_CHECKING:
    import pyarrow as pa

#: Bounds on one table: the file, its declared rows and its declared decoded size (a small file can declare
#: a huge decoded size: compressed runs of one value).
MAX_TABLE_BYTES = 8 * 1024**3
MAX_TABLE_ROWS = 200_000_000
MAX_DECODED_BYTES = 32 * 1024**3

TEXT = "text"
NUMBER = "a number"


@dataclass(frozen=True)
class TableContract:
    """The columns of one bundle table: every contract column is text or numeric; ``required`` ones must be
    there (the rest are added empty when absent, as older writers may not have them)."""

    columns: Sequence[str]
    text: frozenset[str]
    required: tuple[str, ...]

    def family(self, column: str) -> str:
        return TEXT if column in self.text else NUMBER


def _contract(columns: Sequence[str], text: Sequence[str] = (), required: Sequence[str] = ()) -> TableContract:
    return TableContract(columns, frozenset(text), tuple(required))


#: table key -> its contract (column names from model/tables.py).
CONTRACTS: dict[str, TableContract] = {
    "iterations": _contract(ITERATION_COLUMNS),
    "layer_times": _contract(PROFILE_COLUMNS, ("name",), ("name",)),
    "layer_samples": _contract(LAYER_SAMPLE_COLUMNS, ("name",), ("name", "ms")),
    "nvml": _contract(NVML_SAMPLE_COLUMNS, (), ("timestamp_ns",)),
    "kernels": _contract(KERNEL_COLUMNS, ("name", "nvtx_range", "layer_name"), ("start_ns", "end_ns")),
    "nvtx_ranges": _contract(NVTX_RANGE_COLUMNS, ("name", "domain"), ("start_ns", "end_ns")),
    "api_calls": _contract(API_CALL_COLUMNS, ("name", "kind"), ("correlation_id",)),
    "graph_nodes": _contract(GRAPH_NODE_COLUMNS, ("name",), ("graph_node_id",)),
}


def _family(t: pa.DataType) -> str:
    """What kind of values an Arrow type holds: "null" (no values), text, a number, or the type's name."""
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        return _family(t.value_type)
    if pa.types.is_null(t):
        return "null"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or getattr(pa.types, "is_string_view", bool)(t):
        return TEXT
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return NUMBER
    if pa.types.is_boolean(t):
        return "true/false"
    return str(t)


#: What any column of a bundle table may hold (extra columns beyond the contract included): flat values only.
SCALAR_FAMILIES = ("null", TEXT, NUMBER, "true/false")


def check_schema(schema: pa.Schema, key: str, path: Path) -> None:
    """Refuse a table whose contract columns are missing (required ones), repeated or of the wrong kind, or
    that has a column of anything but flat values (text, numbers, true/false)."""
    contract = CONTRACTS[key]
    names = list(schema.names)
    for field in schema:
        got = _family(field.type)
        if got not in SCALAR_FAMILIES:
            raise InputError(path, f"column {field.name} holds {got} values; bundle tables hold text, numbers or "
                                   f"true/false (table {key})")
    for col in contract.columns:
        n = names.count(col)
        if n > 1:
            raise InputError(path, f"column {col} appears {n} times (table {key})")
        if n == 0:
            if col in contract.required:
                raise InputError(path, f"no column {col}: table {key} needs {', '.join(contract.required)}")
            continue
        got = _family(schema.field(col).type)
        want = contract.family(col)
        if got not in ("null", want):
            raise InputError(path, f"column {col} holds {got} values ({schema.field(col).type}), expected {want} "
                                   f"(table {key}; contract in trtscope/model/tables.py)")


def _no_pickled_types() -> None:
    """pyarrow before 14.0.1 rebuilt ``arrow.py_extension_type`` columns by unpickling them (CVE-2023-47248);
    later versions refuse. Unregistering it (the upstream hotfix) makes older ones refuse too."""
    import pyarrow as pa

    with contextlib.suppress(LookupError, pa.ArrowException):  # not registered: nothing to do
        pa.unregister_extension_type("arrow.py_extension_type")


def read_table(path: Path, key: str, shown: Path) -> pd.DataFrame:
    """The Parquet file at ``path`` (already checked to be a regular file inside the bundle) as a DataFrame;
    every problem is an InputError naming ``shown``."""
    import pyarrow.parquet as pq

    _no_pickled_types()

    with open_input(path, "a Parquet table", max_bytes=MAX_TABLE_BYTES) as fh:
        try:
            pf = pq.ParquetFile(fh)
            meta = pf.metadata
            schema = pf.schema_arrow
        except Exception as err:  # pyarrow raises several types for corrupt files
            raise InputError(shown, f"unreadable Parquet table ({type(err).__name__}: {_one_line(err)})") from err
        check_schema(schema, key, shown)
        if meta.num_rows > MAX_TABLE_ROWS or meta.num_rows < 0:
            raise InputError(shown, f"declares {meta.num_rows:,} rows; this reader accepts up to {MAX_TABLE_ROWS:,}")
        decoded = sum(max(meta.row_group(i).total_byte_size, 0) for i in range(meta.num_row_groups))
        if decoded > MAX_DECODED_BYTES:
            raise InputError(shown, f"declares {decoded:,} bytes of decoded data; this reader accepts up to "
                                    f"{MAX_DECODED_BYTES:,}")
        try:
            table = pf.read()
            # the file's pandas metadata (index columns, dtypes) is ignored: the contract says what a column is
            return table.to_pandas(ignore_metadata=True)
        except Exception as err:
            raise InputError(shown, f"unreadable Parquet table ({type(err).__name__}: {_one_line(err)})") from err


def _one_line(err: BaseException, limit: int = 200) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
