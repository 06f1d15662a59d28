"""Tables of a Diff in their declared column order, text columns as plain objects (None for missing)."""

from __future__ import annotations

import pandas as pd

from trtscope.model.outputs import TableSpec, conform


def tidy(df: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """``conform`` to ``spec``; pandas' string columns (NaN for missing) become object columns holding None,
    like the analysis' own tables, so views and exports meet one missing value."""
    out = conform(df, spec)
    for c in out.columns:
        if pd.api.types.is_string_dtype(out[c].dtype) and out[c].dtype != object:
            s = out[c].astype(object)
            out[c] = s.where(s.notna(), None)
    return out
