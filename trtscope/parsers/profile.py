"""Per-layer profiles: ``trtexec --exportProfile`` JSON and the ``--dumpProfile`` table in logs.

JSON: ``[{"count": N}, {"name", "timeMs", "averageMs", "medianMs", "percentage"}, ...]``; older trtexec has
no ``medianMs``. trtexec writes names without JSON escaping, so a quote or backslash in a layer name makes the
file invalid JSON: we then fall back to reading it record by record (each record is on its own line).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trtscope.errors import InputError
from trtscope.model.artifacts import LayerProfile
from trtscope.model.tables import PROFILE_COLUMNS, frame
from trtscope.parsers.layer_info_text import log_lines, strip_log_prefix

_NUM = r"(?:[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|nan|inf|-nan|-inf))"
_RECORD = re.compile(
    r'\{\s*"name"\s*:\s*"(?P<name>.*)"\s*,\s*"timeMs"\s*:\s*(?P<time>' + _NUM + r')\s*,\s*"averageMs"\s*:\s*'
    r"(?P<avg>" + _NUM + r')\s*(?:,\s*"medianMs"\s*:\s*(?P<median>' + _NUM + r"))?\s*,\s*\"percentage\"\s*:\s*"
    r"(?P<pct>" + _NUM + r")\s*\}"
)
_COUNT = re.compile(r'\{\s*"count"\s*:\s*(?P<count>\d+)\s*\}')
_TABLE_HEADER = re.compile(r"=== Profile \((?P<iters>\d+) iterations? ?\) ===")
_TABLE_ROW = re.compile(
    r"^\s*(?P<time>[-+0-9.eE]+)\s+(?P<avg>[-+0-9.eE]+)\s+(?:(?P<median>[-+0-9.eE]+)\s+)?"
    r"(?P<pct>[-+0-9.eE]+)\s+(?P<name>\S.*)$"
)


def _num(x: Any) -> float | None:
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def looks_like_profile(doc: Any) -> bool:
    """A trtexec --exportProfile document: a list of records with name/averageMs (optionally count first)."""
    if not isinstance(doc, list) or not doc:
        return False
    records = [r for r in doc[:20] if isinstance(r, dict) and "count" not in r]
    if not records:
        return isinstance(doc[0], dict) and set(doc[0]) == {"count"}
    return all("name" in r and ("averageMs" in r or "timeMs" in r) for r in records)


def _with_occurrence(rows: Sequence[Sequence[object]]) -> pd.DataFrame:
    df = frame(rows, [c for c in PROFILE_COLUMNS if c != "occurrence"])
    df.insert(1, "occurrence", df.groupby("name", sort=False).cumcount() if len(df) else [])
    return df


def profile_from_json(doc: Any, source: str | Path) -> LayerProfile:
    """Vectorised: exports of large engines hold tens of thousands of records."""
    if not isinstance(doc, list):
        raise InputError(source, "not a trtexec profile (expected a JSON list of layer records)")
    bad = next((i for i, rec in enumerate(doc) if not isinstance(rec, dict)), None)
    if bad is not None:
        raise InputError(source, f"profile record {bad} is a {type(doc[bad]).__name__}, not an object")
    count: int | None = None
    for rec in doc[:3]:
        if "name" not in rec and "count" in rec:
            try:
                count = int(rec["count"])
            except (TypeError, ValueError) as err:
                raise InputError(source, f"invalid count {rec['count']!r}") from err
    records = [rec for rec in doc if "name" in rec]
    if not records:
        raise InputError(source, "profile has no layer records")
    raw = pd.DataFrame.from_records(records)

    def num(col: str) -> pd.Series:
        if col not in raw.columns:
            return pd.Series(np.nan, index=raw.index)
        return pd.to_numeric(raw[col], errors="coerce").astype("float64")

    total, mean = num("timeMs"), num("averageMs")
    if count:
        mean = mean.fillna(total / count)
    times = pd.DataFrame({
        "name": pd.Series([str(n) for n in raw["name"].tolist()], dtype=object),
        "count": count,
        "total_ms": total,
        "mean_ms": mean,
        "median_ms": num("medianMs"),
        "percentage": num("percentage"),
    })
    times.insert(1, "occurrence", times.groupby("name", sort=False).cumcount())
    return LayerProfile(times=times[list(PROFILE_COLUMNS)], count=count, source=str(source))


def profile_from_broken_json(text: str, source: str | Path) -> LayerProfile | None:
    """Record-by-record reading of a profile that is not valid JSON (unescaped names); None if not one."""
    count_m = _COUNT.search(text[:200])
    count = int(count_m.group("count")) if count_m else None
    rows = []
    for line in log_lines(text):
        m = _RECORD.search(line)
        if m:
            rows.append(
                (m.group("name"), count, _num(m.group("time")), _num(m.group("avg")),
                 _num(m.group("median")), _num(m.group("pct")))
            )
    if not rows:
        return None
    return LayerProfile(times=_with_occurrence(rows), count=count, source=str(source))


def profile_from_log(text: str, source: str | Path) -> LayerProfile | None:
    """The last ``=== Profile (N iterations ) ===`` table in a trtexec log, or None."""
    lines = log_lines(text)
    start = None
    iters = None
    for i, raw in enumerate(lines):
        m = _TABLE_HEADER.search(raw)
        if m:
            start, iters = i, int(m.group("iters"))
    if start is None:
        return None
    rows = []
    for raw in lines[start + 2 :]:  # skip the column header line
        line = strip_log_prefix(raw)
        m = _TABLE_ROW.match(line)
        if not m:
            break
        name = m.group("name").rstrip()
        if name == "Total":
            break
        rows.append(
            (name, iters, _num(m.group("time")), _num(m.group("avg")), _num(m.group("median")), _num(m.group("pct")))
        )
    if not rows:
        return None
    return LayerProfile(times=_with_occurrence(rows), count=iters, source=str(source))
