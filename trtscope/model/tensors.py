"""Tensor descriptions of engine layers, normalised across TensorRT versions (data type, dimensions).

8.x writes prose formats ("Channel major FP16 format where channel % 8 == 0"), Myelin layers and 10+ write
bare type names ("Half"), TensorRT 11 may split ``Datatype`` and ``Format``. Views need one data-type word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import pandas as pd

from trtscope.model.tables import TENSOR_COLUMNS, frame

# Checked in order; the first token found in the format text wins (longest/most specific first).
_DTYPE_TOKENS: tuple[tuple[str, str], ...] = (
    ("BFloat16", "BFloat16"),
    ("BF16", "BFloat16"),
    ("FP32", "Float"),
    ("FP16", "Half"),
    ("FP8", "FP8"),
    ("FP4", "FP4"),
    ("E4M3", "FP8"),
    ("UInt8", "UInt8"),
    ("UINT8", "UInt8"),
    ("Int64", "Int64"),
    ("INT64", "Int64"),
    ("Int32", "Int32"),
    ("INT32", "Int32"),
    ("Int8", "Int8"),
    ("INT8", "Int8"),
    ("Int4", "Int4"),
    ("INT4", "Int4"),
    ("Float", "Float"),
    ("Half", "Half"),
    ("Bool", "Bool"),
    ("BOOL", "Bool"),
)
_DTYPE_RE = re.compile("|".join(re.escape(t) for t, _ in _DTYPE_TOKENS))
_DTYPE_MAP = dict(_DTYPE_TOKENS)


def dtype_of(text: object) -> str | None:
    """The data type named in a TensorRT format/datatype string, or None."""
    if not isinstance(text, str) or not text:
        return None
    bare = _DTYPE_MAP.get(text)  # 10+ and Myelin layers write the bare type name
    if bare is not None:
        return bare
    return _dtype_in(text)


@lru_cache(maxsize=4096)
def _dtype_in(text: str) -> str | None:
    """(8.x prose formats repeat across thousands of tensors: searched once each)"""
    m = _DTYPE_RE.search(text)
    return _DTYPE_MAP[m.group(0)] if m else None


def dims_text(dims: object) -> str:
    """``[1, 3, 224, 224]`` -> ``"1x3x224x224"``; scalars (``[]``) -> ``"scalar"``; unknown -> ``""``."""
    if isinstance(dims, (list, tuple)):
        if not dims:
            return "scalar"
        return "x".join(str(d) for d in dims)
    if isinstance(dims, str):
        return dims.strip("[]() ").replace(",", "x").replace(" ", "")
    return ""


def precision_of(dtypes: Iterable[str | None]) -> str | None:
    """A layer's precision label: its output data types, unique, in order (``"Int8+Float"``)."""
    seen: list[str] = []
    for d in dtypes:
        if d and d not in seen:
            seen.append(d)
    return "+".join(seen) if seen else None


def output_dtypes(entry: dict[str, Any]) -> list[str | None]:
    """Data types of a layer entry's outputs (cheap: no full tensor rows)."""
    outs = entry.get("Outputs")
    if not isinstance(outs, list):
        return []
    return [
        (dtype_of(t.get("Datatype")) or dtype_of(t.get("Format/Datatype", t.get("Format")))) if isinstance(t, dict)
        else None
        for t in outs
    ]


def tensor_row(layer_index: int, direction: str, position: int, t: Any) -> tuple[object, ...]:
    """One TENSOR_COLUMNS row from a tensor descriptor dict (JSON or parsed one-line form)."""
    if not isinstance(t, dict):
        return (layer_index, direction, position, str(t), "", None, None, None, None)
    fmt = t.get("Format/Datatype")
    if fmt is None:
        fmt = t.get("Format")
    dtype = dtype_of(t.get("Datatype")) or dtype_of(fmt)
    strides = t.get("Strides")
    return (
        layer_index,
        direction,
        position,
        str(t.get("Name", "")),
        dims_text(t.get("Dimensions")),
        None if fmt is None else str(fmt),
        dtype,
        t.get("Location"),
        dims_text(strides) if strides is not None else None,
    )


def tensors_from_entries(entries: list[dict[str, Any]]) -> pd.DataFrame:
    """TENSOR_COLUMNS for every input, output and constant of the layer entries (built on demand: views need
    it for one layer at a time, the report never)."""
    rows: list[tuple[object, ...]] = []
    for index, e in enumerate(entries):
        for direction, key in (("input", "Inputs"), ("output", "Outputs"), ("constant", "Constants")):
            ts = e.get(key)
            if isinstance(ts, list):
                rows.extend(tensor_row(index, direction, pos, t) for pos, t in enumerate(ts))
    return frame(rows, TENSOR_COLUMNS)
