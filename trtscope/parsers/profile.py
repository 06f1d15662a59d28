"""Per-layer profiles: ``trtexec --exportProfile`` JSON and the ``--dumpProfile`` table in logs.

JSON: ``[{"count": N}, {"name", "timeMs", "averageMs", "medianMs", "percentage"}, ...]``; older trtexec has
no ``medianMs``. trtexec writes names without JSON escaping, so a quote or backslash in a layer name makes the
file invalid JSON: we then fall back to reading it record by record (each record is on its own line).

Values are checked (see :mod:`trtscope.parsers.values`): a time that is negative, not finite or absurd is
dropped from its record with a warning naming the file and the records; a JSON profile whose ``count`` is
not a positive integer is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trtscope.errors import InputError
from trtscope.model.artifacts import LayerProfile
from trtscope.model.tables import PROFILE_COLUMNS
from trtscope.parsers.layer_entries import MAX_LAYERS, MAX_NAME_CHARS
from trtscope.parsers.logtext import (
    MAX_LINE_CHARS,
    MAX_PREFIX_CHARS,
    PREFIX_ENDS,
    log_lines,
    prefix_shape,
    strip_shape,
)
from trtscope.parsers.values import checked, listing, numbers, positive_count

# Numbers as C++ streams print them ("nan", "-nan", "inf" included): no nested quantifiers, so linear.
_NUM = r"(?:[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)(?:\(\w*\))?)"
_RECORD_TAIL = re.compile(
    r'"timeMs"\s*:\s*(?P<time>' + _NUM + r')\s*,\s*"averageMs"\s*:\s*(?P<avg>' + _NUM + r')\s*'
    r'(?:,\s*"medianMs"\s*:\s*(?P<median>' + _NUM + r')\s*)?,\s*"percentage"\s*:\s*(?P<pct>' + _NUM + r")\s*\}",
    re.I,
)
_RECORD_HEAD = re.compile(r'\{\s*"name"\s*:\s*"')
_COUNT = re.compile(r'\{\s*"count"\s*:\s*(?P<count>\d{1,20})\s*\}')
_TABLE_HEADER = re.compile(r"=== Profile \((?P<iters>\d{1,20}) iterations? ?\) ===")
_ROW = re.compile(
    r"[ \t]{0,80}(?P<time>" + _NUM + r")\s+(?P<avg>" + _NUM + r")\s+(?:(?P<median>" + _NUM + r")\s+)?"
    r"(?P<pct>" + _NUM + r")\s+(?P<name>\S.*)$",
    re.I,
)
_TIME_COLUMNS = ("total_ms", "mean_ms", "median_ms")


def looks_like_profile(doc: Any) -> bool:
    """A trtexec --exportProfile document: a list of records with name/averageMs (optionally count first)."""
    if not isinstance(doc, list) or not doc:
        return False
    records = [r for r in doc[:20] if isinstance(r, dict) and "count" not in r]
    if not records:
        return isinstance(doc[0], dict) and set(doc[0]) == {"count"}
    return all("name" in r and ("averageMs" in r or "timeMs" in r) for r in records)


def _profile(
    names: list[str],
    count: int | None,
    columns: Mapping[str, Sequence[object] | np.ndarray],
    source: str | Path,
    warnings: list[str] | None,
) -> LayerProfile:
    """The checked PROFILE_COLUMNS table: bad times become NaN (warned), shares outside 0-100 % are dropped."""
    if len(names) > MAX_LAYERS:
        raise InputError(source, f"{len(names):,} profile records, more than the {MAX_LAYERS:,} trtscope accepts")
    long = next((i for i, n in enumerate(names) if len(n) > MAX_NAME_CHARS), None)
    if long is not None:
        raise InputError(source, f"profile record {long} has a name of {len(names[long]):,} characters, more than "
                                 f"the {MAX_NAME_CHARS:,} trtscope accepts")
    cols: dict[str, np.ndarray] = {}
    bad_time = np.zeros(len(names), dtype=bool)
    for c in _TIME_COLUMNS:
        cols[c], bad = checked(columns[c])
        bad_time |= bad
    cols["percentage"], bad_pct = checked(columns["percentage"], hi=100.0 + 1e-6)
    if count is not None:  # a record without an average: its total over the profiled iterations
        fill = np.isnan(cols["mean_ms"]) & ~bad_time
        cols["mean_ms"][fill] = cols["total_ms"][fill] / count
    if warnings is not None and bad_time.any():
        warnings.append(f"{source}: {listing(names, bad_time)} with negative, non-finite or absurd times; "
                        "those times are left out")
    if warnings is not None and bad_pct.any():
        warnings.append(f"{source}: {listing(names, bad_pct)} with a percentage outside 0-100; left out")
    times = pd.DataFrame({"name": pd.Series(names, dtype=object), "count": count, **cols})
    times.insert(1, "occurrence", times.groupby("name", sort=False).cumcount() if len(times) else [])
    return LayerProfile(times=times[list(PROFILE_COLUMNS)], count=count, source=str(source))


def profile_from_json(doc: Any, source: str | Path, warnings: list[str] | None = None) -> LayerProfile:
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
                count = positive_count(rec["count"])
            except ValueError as err:
                raise InputError(source, f"invalid iteration count: {err}") from err
    records = [rec for rec in doc if "name" in rec]
    if not records:
        raise InputError(source, "profile has no layer records")
    bad_name = next((i for i, rec in enumerate(records) if not isinstance(rec["name"], (str, int, float))), None)
    if bad_name is not None:
        raise InputError(source, f"profile record {bad_name} has a \"name\" that is not a string")
    names = [str(rec["name"]) for rec in records]

    def col(key: str) -> np.ndarray:
        return numbers([rec.get(key) for rec in records])

    columns = {"total_ms": col("timeMs"), "mean_ms": col("averageMs"), "median_ms": col("medianMs"),
               "percentage": col("percentage")}
    return _profile(names, count, columns, source, warnings)


def _record(line: str) -> tuple[str, tuple[str | None, ...]] | None:
    """One ``{ "name" : "...", "timeMs" : ..., ... }`` record of a profile that is not valid JSON: the name is
    whatever lies between the head and the last ``"timeMs"`` (names are written unescaped)."""
    text = line.strip().lstrip(",[").strip()
    head = _RECORD_HEAD.match(text)
    if head is None:
        return None
    at = text.rfind('"timeMs"')
    if at < head.end():
        return None
    tail = _RECORD_TAIL.match(text, at)
    if tail is None or text[tail.end() :].strip(" \t,]"):
        return None
    name = text[head.end() : at].rstrip()
    if not name.endswith(","):
        return None
    name = name[:-1].rstrip()
    if not name.endswith('"'):
        return None
    return name[:-1], (tail.group("time"), tail.group("avg"), tail.group("median"), tail.group("pct"))


def profile_from_broken_json(
    text: str, source: str | Path, warnings: list[str] | None = None
) -> LayerProfile | None:
    """Record-by-record reading of a profile that is not valid JSON (unescaped names); None if not one."""
    count_m = _COUNT.search(text[:200])
    count = None
    if count_m:
        try:
            count = positive_count(int(count_m.group("count")))
        except ValueError as err:
            raise InputError(source, f"invalid iteration count: {err}") from err
    names: list[str] = []
    values: list[tuple[str | None, ...]] = []
    for line in log_lines(text):
        if len(line) > MAX_LINE_CHARS:
            continue
        rec = _record(line)
        if rec is not None:
            names.append(rec[0])
            values.append(rec[1])
    if not names:
        return None
    return _profile(names, count, _columns(values), source, warnings)


def _columns(values: list[tuple[str | None, ...]]) -> dict[str, Sequence[object] | np.ndarray]:
    """(time, avg, median, pct) texts -> checked-number columns."""
    keys = ("total_ms", "mean_ms", "median_ms", "percentage")
    return {k: numbers([v[i] for v in values]) for i, k in enumerate(keys)}


def _row_candidates(line: str, shape: tuple[str, ...]) -> Iterator[str]:
    """Where a table row's payload may start: after the table header's prefix shape, else the whole line,
    else after any prefix-ending character within the prefix window (tried in that order)."""
    stripped = strip_shape(line, shape) if any(shape) else None
    if stripped is not None:
        yield stripped
    yield line
    for i in range(1, min(len(line), MAX_PREFIX_CHARS)):
        if line[i - 1] in PREFIX_ENDS and not line[i].isspace():
            yield line[i:]


def _row(line: str, shape: tuple[str, ...], median: bool | None) -> tuple[str, tuple[str | None, ...]] | None:
    if len(line) > MAX_LINE_CHARS:
        return None
    for body in _row_candidates(line, shape):
        m = _ROW.match(body)
        if m is None:
            continue
        if median is not None and (m.group("median") is not None) != median:
            continue
        return m.group("name").rstrip(), (m.group("time"), m.group("avg"), m.group("median"), m.group("pct"))
    return None


_NUM_TEXT = re.compile(_NUM, re.I)


def _name_first_row(line: str, shape: tuple[str, ...], median: bool) -> tuple[str, tuple[str | None, ...]] | None:
    """A row of TensorRT 7.1-8.5's table (``<name right-aligned>  time  avg  [median]  pct``): the numbers are
    the last 3 (4 with a median column) fields, the name everything before them. Only after the header's
    prefix shape (a name may hold ``]`` or ``:``, so no other prefix end is tried)."""
    if len(line) > MAX_LINE_CHARS:
        return None
    body = strip_shape(line, shape) if any(shape) else line
    if body is None:
        return None
    fields = body.rsplit(None, 4 if median else 3)
    if len(fields) != (5 if median else 4) or not all(_NUM_TEXT.fullmatch(f) for f in fields[1:]):
        return None
    name = fields[0].strip()
    if not name:
        return None
    nums = fields[1:]
    return name, (nums[0], nums[1], nums[2] if median else None, nums[-1])


def profile_from_log(text: str, source: str | Path, warnings: list[str] | None = None) -> LayerProfile | None:
    """The last ``=== Profile (N iterations ) ===`` table in a log, whatever prefix its lines carry; None if
    there is none. Tables of several runs: the last one is used (with a warning).

    Two layouts: TensorRT 8.6+ prints ``Time(ms) Avg.(ms) Median(ms) Time(%) Layer`` (numbers first);
    7.1-8.5 print ``Layer Time (ms) Avg. Time (ms) [Median Time (ms)] Time %`` with the name first, right-aligned
    (the median column since 8.4)."""
    lines = log_lines(text)
    headers = []
    for i, raw in enumerate(lines):
        if "=== Profile (" in raw and len(raw) <= MAX_LINE_CHARS:
            m = _TABLE_HEADER.search(raw)
            if m:
                headers.append((i, m))
    if not headers:
        return None
    start, header = headers[-1]
    if len(headers) > 1 and warnings is not None:
        warnings.append(f"{source}: {len(headers)} profile tables in this log; using the last one")
    count: int | None = None
    try:
        count = positive_count(int(header.group("iters")))
    except ValueError as err:
        if warnings is not None:
            warnings.append(f"{source}: the profile table's iteration count is unusable ({err})")
    shape = prefix_shape(lines[start][: header.start()])
    i = start + 1
    median: bool | None = None
    name_first = False
    if i < len(lines) and len(lines[i]) <= MAX_LINE_CHARS:  # the column header
        column_header = lines[i]
        if "Time(ms)" in column_header:
            median = "Median" in column_header
            i += 1
        elif "Time (ms)" in column_header and "Layer" in column_header:
            median = "Median" in column_header
            name_first = True
            i += 1
    names: list[str] = []
    values: list[tuple[str | None, ...]] = []
    total = False
    for raw in lines[i:]:
        row = _name_first_row(raw, shape, bool(median)) if name_first else _row(raw, shape, median)
        if row is None:
            break
        if row[0] == "Total":
            total = True
            break
        names.append(row[0])
        values.append(row[1])
    if not names:
        return None
    if not total and warnings is not None:
        warnings.append(f"{source}: the profile table ends after {len(names)} rows without its Total row "
                        "(a truncated log, or a line trtscope cannot read as a row); using those rows")
    return _profile(names, count, _columns(values), source, warnings)
