"""Layer entries (dicts shaped like the inspector's JSON objects) -> :class:`LayerInfo`.

Every layer-info reader (JSON, one-line log, legacy log) first produces such entries, so the table is built
in exactly one place whatever the source format — and checked in one place: values of the wrong type are
dropped (with a warning naming the file and the layers), so nothing downstream meets a list where it expects
a name or a 20-digit stream id.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trtscope.errors import InputError
from trtscope.model.artifacts import LayerInfo
from trtscope.model.names import myelin_parts
from trtscope.model.tables import LAYER_COLUMNS
from trtscope.model.tensors import output_dtypes, precision_of

#: Real engines have up to a few hundred thousand layers; more is not an engine (and would need many GB).
MAX_LAYERS = 2_000_000
#: Longest layer name accepted (fused names of big regions reach a few KB).
MAX_NAME_CHARS = 1024**2
#: StreamId is a small stream index; anything outside int32 is not one.
_MAX_STREAM_ID = 2**31 - 1
_TEXT_KEYS = ("LayerType", "ParameterType", "Origin", "TacticName", "TacticValue")
_TENSOR_KEYS = ("Inputs", "Outputs", "Constants")
_TENSOR_TEXT = ("Name", "Location", "Format/Datatype", "Format", "Datatype")
_DIM_KEYS = ("Dimensions", "Strides", "StrideOrder")


def _text(v: Any) -> str | None:
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v) if abs(v) < 10**30 else None
    return None


def _dims(v: Any) -> Any:
    if isinstance(v, str):
        return v
    if isinstance(v, list) and all(
        isinstance(d, str) or (isinstance(d, int) and not isinstance(d, bool) and abs(d) < 2**63) for d in v
    ):
        return v
    return None


def _tensor_ok(t: dict[str, Any]) -> bool:
    for k in _TENSOR_TEXT:
        v = t.get(k)
        if v is not None and type(v) is not str:
            return False
    for k in _DIM_KEYS:
        v = t.get(k)
        if v is not None and _dims(v) is None:
            return False
    return True


def _tensor(t: Any) -> tuple[dict[str, Any] | None, bool]:
    """(the tensor descriptor with fields of the expected types or None, whether a value was lost)."""
    if not isinstance(t, dict):
        return None, True
    if _tensor_ok(t):
        return t, False
    out = dict(t)
    lost = _coerce(out, _TENSOR_TEXT, _text)
    if out.get("Name") is None and "Name" in out:
        out["Name"] = ""
    lost = _coerce(out, _DIM_KEYS, _dims) or lost
    return out, lost


def _coerce(d: dict[str, Any], keys: tuple[str, ...], convert: Callable[[Any], Any]) -> bool:
    """Convert ``d``'s values under ``keys`` in place; True when a value had to be dropped (became None)."""
    lost = False
    for k in keys:
        if d.get(k) is not None:
            d[k] = convert(d[k])
            lost = lost or d[k] is None
    return lost


def _entry_ok(e: dict[str, Any]) -> bool:
    for k in _TEXT_KEYS:
        v = e.get(k)
        if v is not None and type(v) is not str:
            return False
    m = e.get("Metadata")
    if m is not None and type(m) is not str:
        return False
    sid = e.get("StreamId")
    if sid is not None and not (type(sid) is int and 0 <= sid <= _MAX_STREAM_ID):
        return False
    for k in _TENSOR_KEYS:
        ts = e.get(k)
        if ts is None:
            continue
        if type(ts) is not list or not all(type(t) is dict and _tensor_ok(t) for t in ts):
            return False
    return True


_NONE: type = type(None)
_TEXT_TYPES: frozenset[type] = frozenset({str, _NONE})
_LIST_TYPES: frozenset[type] = frozenset({list, _NONE})
_DIMS_TYPES: frozenset[type] = frozenset({list, str, _NONE})
_DIM_TYPES: frozenset[type] = frozenset({int, str})


def _column_ok(values: list[Any], allowed: frozenset[type] | set[type]) -> bool:
    return set(map(type, values)) <= allowed


def _dims_ok(values: list[Any]) -> bool:
    """Every value None, a string or a list of strings and integers within int64 (what :func:`_dims` keeps)."""
    if not _column_ok(values, _DIMS_TYPES):
        return False
    flat = list(chain.from_iterable(v for v in values if type(v) is list))
    kinds = set(map(type, flat))
    if not kinds <= _DIM_TYPES:
        return False
    ints = flat if kinds == {int} else [d for d in flat if type(d) is int]
    return not ints or (min(ints) > -(2**63) and max(ints) < 2**63)


def _all_ok(entries: list[dict[str, Any]], columns: dict[str, list[Any]]) -> bool:
    """``all(_entry_ok(e) for e in entries)``, column by column: the type checks run in C (``set(map(type,
    ...))``) instead of a Python call per field, which on a 20,000-layer engine was most of the parse.
    ``columns``: the entry-level values under each of _TEXT_KEYS, "Metadata" and "StreamId" (built once, for
    this check and for the table)."""
    for k in (*_TEXT_KEYS, "Metadata"):
        if not _column_ok(columns[k], _TEXT_TYPES):
            return False
    sids = columns["StreamId"]
    kinds = set(map(type, sids))
    if not kinds <= {int, _NONE}:
        return False
    if int in kinds:
        ints = [s for s in sids if s is not None]
        if min(ints) < 0 or max(ints) > _MAX_STREAM_ID:
            return False
    tensors: list[Any] = []
    for k in _TENSOR_KEYS:
        lists = [e.get(k) for e in entries]
        if not _column_ok(lists, _LIST_TYPES):
            return False
        tensors.extend(chain.from_iterable(ts for ts in lists if ts is not None))
    if not _column_ok(tensors, frozenset({dict})):
        return False
    present = set().union(*tensors)  # (keys no tensor has need no look at every tensor)
    for k in _TENSOR_TEXT:
        if k in present and not _column_ok([t.get(k) for t in tensors], _TEXT_TYPES):
            return False
    return all(_dims_ok([t.get(k) for t in tensors]) for k in _DIM_KEYS if k in present)


def _normalise(entry: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """(the entry with every field trtscope reads of the expected type, whether anything was dropped)."""
    if _entry_ok(entry):
        return entry, False
    e = dict(entry)
    dropped = _coerce(e, _TEXT_KEYS, _text)
    if "Metadata" in e and not isinstance(e["Metadata"], str):
        dropped = dropped or e["Metadata"] is not None
        e["Metadata"] = None
    sid = e.get("StreamId")
    if sid is not None and not (isinstance(sid, int) and not isinstance(sid, bool) and 0 <= sid <= _MAX_STREAM_ID):
        e["StreamId"] = None
        dropped = True
    for k in _TENSOR_KEYS:
        if k not in e:
            continue
        ts = e[k]
        if not isinstance(ts, list):
            e[k] = []
            dropped = dropped or ts is not None
            continue
        results = [_tensor(t) for t in ts]
        e[k] = [x for x, _ in results if x is not None]
        dropped = dropped or any(lost for _, lost in results)
    return e, dropped


_PROFILE_TAG = re.compile(r" \[profile (\d{1,9})\]")


def _profile_tag(name: str) -> tuple[int, str] | None:
    """``conv [profile 1]`` (8.x) or ``node_conv2d [profile 1]_myl1_2`` (10+, before the Myelin suffix) ->
    ``(1, name without the tag)``; None when the name has no tag."""
    if " [profile " not in name:
        return None
    m = _PROFILE_TAG.search(name)
    return (int(m.group(1)), name[: m.start()] + name[m.end() :]) if m else None


def select_profile(entries: list[dict[str, Any]], opt_profile: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The entries of one optimization profile (names without their tag) and how many others were dropped.

    An engine with several profiles lists its layers once per profile; the copies of profile N >= 1 carry
    `` [profile N]`` in their names. TensorRT 10's Myelin-internal layers (``__myl_Move_myl1_1``) carry no tag:
    they belong to the profile of the tagged layers of the same Myelin region."""
    tags = [_profile_tag(e["Name"]) if isinstance(e.get("Name"), str) else None for e in entries]
    if not any(tags) and opt_profile == 0:
        return entries, 0
    region_profile: dict[int, int] = {}
    for tag in tags:
        if tag is not None and (myl := myelin_parts(tag[1])) is not None:
            region_profile.setdefault(myl[1], tag[0])
    kept: list[dict[str, Any]] = []
    for entry, tag in zip(entries, tags, strict=True):
        if tag is not None:
            prof = tag[0]
            entry = {**entry, "Name": tag[1]}
        else:
            plain = entry.get("Name")
            myl = myelin_parts(plain) if isinstance(plain, str) else None
            prof = region_profile.get(myl[1], 0) if myl is not None else 0
        if prof == opt_profile:
            kept.append(entry)
    return kept, len(entries) - len(kept)


def layer_info_from_entries(
    entries: list[dict[str, Any]],
    source: str | Path,
    detail: str,
    *,
    bindings: list[str] | None = None,
    foreign: dict[str, list[str]] | None = None,
    dropped_profiles: int = 0,
    warnings: list[str] | None = None,
) -> LayerInfo:
    """The layers table (LAYER_COLUMNS) from entries; ``warnings`` receives what was dropped as malformed."""
    if len(entries) > MAX_LAYERS:
        raise InputError(source, f"{len(entries):,} layers, more than the {MAX_LAYERS:,} trtscope accepts")
    names: list[Any] = [raw.get("Name") for raw in entries]
    if not _column_ok(names, {str}) or (names and max(map(len, names)) > MAX_NAME_CHARS):
        for i, name in enumerate(names):
            if not isinstance(name, str):
                raise InputError(source, f"layer entry {i} has no \"Name\" string")
            if len(name) > MAX_NAME_CHARS:
                raise InputError(source, f"layer entry {i} has a name of {len(name):,} characters, more than "
                                         f"the {MAX_NAME_CHARS:,} trtscope accepts")
    # Column by column (list comprehensions), not row tuples: 20,000-layer engines are common. The same lists
    # serve the type checks and the table.
    present = set().union(*entries)  # (a key no entry has is a column of None, not a look at every entry)
    columns = {k: [e.get(k) for e in entries] if k in present else [None] * len(entries)
               for k in (*_TEXT_KEYS, "Metadata", "StreamId")}
    bad: list[str] = []
    if not _all_ok(entries, columns):  # the rare file with a malformed field: find and fix the entries one by one
        checked = []
        for raw in entries:
            e, dropped = _normalise(raw)
            if dropped:
                bad.append(raw["Name"])
            checked.append(e)
        entries = checked
        columns = {k: [e.get(k) for e in entries] for k in columns}
    if bad and warnings is not None:
        shown = ", ".join(repr(n[:80]) for n in bad[:3]) + (" …" if len(bad) > 3 else "")
        warnings.append(f"{source}: {len(bad)} layers have fields of an unexpected type or range (ignored): {shown}")

    def text(key: str) -> pd.Series:
        return pd.Series(columns[key], dtype=object)

    layers = pd.DataFrame(
        {
            "index": np.arange(len(entries), dtype=np.int64),
            "name": pd.Series(names, dtype=object),
            "type": pd.Series([t or "" for t in columns["LayerType"]], dtype=object),
            "parameter_type": text("ParameterType"),
            "origin": text("Origin"),
            "tactic": text("TacticName"),
            "tactic_value": text("TacticValue"),
            "stream_id": text("StreamId"),
            "metadata": pd.Series([m or None for m in columns["Metadata"]], dtype=object),
            "precision": pd.Series([precision_of(output_dtypes(e)) for e in entries], dtype=object),
        },
        columns=list(LAYER_COLUMNS),
    )
    return LayerInfo(
        layers=layers,
        bindings=bindings or [],
        detail=detail,
        source=str(source),
        raw=entries if detail != "names" else [],
        foreign_nodes=foreign or {},
        dropped_profiles=dropped_profiles,
    )
