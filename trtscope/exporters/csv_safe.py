"""CSV cells a spreadsheet would evaluate, neutralised (CSV / formula injection).

A layer or node name is whatever the model's author (or a bundle's maker) wrote; a cell starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return is run as a formula when the CSV is opened in a spreadsheet.
Following the OWASP guidance, such a *text* cell gets a leading single quote (``=cmd`` -> ``'=cmd``), which
spreadsheets show as text. Numeric columns are never touched, and neither is a text cell that is a plain decimal
number (``-1``, ``+2.5e3``): a spreadsheet reads it as that number and runs nothing. Column names get the same
treatment. docs/exports.md tells users.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa

#: Leading characters that make a spreadsheet evaluate a cell.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGER = r"^[=+\-@\t\r]"
_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_NUMBER_RE = re.compile(_NUMBER)
QUOTE = "'"


def neutralise_cell(v: Any) -> Any:
    """``'`` + the cell when it is text a spreadsheet would evaluate; anything else unchanged."""
    if isinstance(v, str) and v.startswith(FORMULA_STARTS) and not _NUMBER_RE.match(v):
        return QUOTE + v
    return v


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A shallow copy with every text cell (and column name) neutralised; numeric columns untouched."""
    out = df.copy(deep=False)
    for c in out.columns:
        s = out[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        elif not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
            continue
        out[c] = s.map(neutralise_cell)
    out.columns = [neutralise_cell(c) for c in out.columns]
    return out


def _is_text(t: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def neutralise_table(table: pa.Table) -> pa.Table:
    """The Arrow table with every text cell (and column name) neutralised, vectorised in Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays, names = [], []
    for name, col in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_dictionary(col.type) and _is_text(col.type.value_type):
            col = col.cast(col.type.value_type)
        if _is_text(col.type) and len(col):
            hit = pc.and_kleene(pc.match_substring_regex(col, _TRIGGER),
                                pc.invert(pc.match_substring_regex(col, _NUMBER)))
            if pc.any(hit).as_py():
                quoted = pc.binary_join_element_wise(pa.scalar(QUOTE, col.type), col, pa.scalar("", col.type))
                col = pc.if_else(hit, quoted, col)
        arrays.append(col)
        names.append(neutralise_cell(name))
    return pa.Table.from_arrays(arrays, names=names)
