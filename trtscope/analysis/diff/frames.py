"""Tables of a Diff built in one step from plain columns, with the dtypes their TableSpec declares.

The comparison tables are small (nodes, op types, groups) but many: building each from Python lists with the
declared dtype (text and lists as plain objects holding None, like the analysis' own tables) is several
times faster than assembling them column by column through pandas operations, and gives views one missing
value to meet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from trtscope.model.outputs import TableSpec

_NUMPY = {"int": np.int64, "float": np.float64, "bool": np.bool_}


def build(spec: TableSpec, columns: Mapping[str, Sequence[Any] | np.ndarray]) -> pd.DataFrame:
    """A DataFrame with exactly ``spec``'s columns, in order, from ``columns`` (every one required)."""
    missing = [c for c in spec.names if c not in columns]
    extra = [c for c in columns if c not in spec.names]
    if missing or extra:
        raise AssertionError(f"table {spec.name}: missing {missing}, undeclared {extra}")
    data: dict[str, Any] = {}
    for col in spec.columns:
        v = columns[col.name]
        if col.dtype in _NUMPY:
            data[col.name] = np.asarray(v, dtype=_NUMPY[col.dtype])
        elif col.dtype == "Int64":
            data[col.name] = pd.array(list(v), dtype="Int64")
        else:  # str, list[...]: plain objects
            arr = np.empty(len(v), dtype=object)
            arr[:] = list(v)
            data[col.name] = arr
    return pd.DataFrame(data, columns=spec.names)


def none_if_nan(v: Any) -> Any:
    """None for a missing value (None / NaN / NA), else the value."""
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return None
    return v
