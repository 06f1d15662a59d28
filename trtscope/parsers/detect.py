"""Recognising artifacts by content, not by file name.

Real files come as ``*.graph.json``, ``*.layers.json``, ``*.profile``, even ``*.log`` holding JSON; trtexec
logs hold layer listings and profile tables. :func:`sniff` reads a file once and returns every artifact it
holds, already parsed, so a directory is understood whatever its files are called.

No decision is taken from the first byte: a trtexec log line starts with ``[`` like a JSON list does. Text
that starts like JSON is parsed as JSON; if that fails it is read as a log, and only when neither yields an
artifact is the file refused, with both reasons. In a directory, documents (Markdown, licences, source code)
are skipped: a README quoting a log line is not a log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from trtscope.errors import InputError, reading
from trtscope.model.artifacts import LayerInfo, LayerProfile
from trtscope.parsers import jsonio
from trtscope.parsers.files import is_document, read_input
from trtscope.parsers.layer_info_json import layer_info_from_json, looks_like_layer_info
from trtscope.parsers.layer_info_text import layer_info_from_log
from trtscope.parsers.log_facts import facts_from_log
from trtscope.parsers.logtext import GZIP_MAGIC, MAX_LOG_BYTES, decode_text
from trtscope.parsers.onnx_wire import looks_like_onnx
from trtscope.parsers.profile import (
    looks_like_profile,
    profile_from_broken_json,
    profile_from_json,
    profile_from_log,
)
from trtscope.parsers.times import looks_like_times, times_from_json

__all__ = ["MAX_LOG_BYTES", "Sniffed", "is_document", "sniff"]

_BINARY_UTF16 = (b"\xff\xfe", b"\xfe\xff")


@dataclass
class Sniffed:
    """What one file turned out to contain."""

    path: Path
    kinds: list[str] = field(default_factory=list)  # layer_info, profile, times, onnx, log, metadata, nsys
    layer_info: LayerInfo | None = None
    profile: LayerProfile | None = None
    times: pd.DataFrame | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: how the file was read and why each reading found nothing ("JSON: invalid JSON at line 1 ...")
    tried: list[str] = field(default_factory=list)
    #: why the text, which starts like JSON, is not valid JSON (None when it is, or does not start like it)
    json_error: str | None = None


def _metadata_from_json(doc: Any) -> dict[str, Any] | None:
    """TREx side files: build/profile metadata parsed from trtexec logs, and CUDA device attributes."""
    if isinstance(doc, dict) and ("build_options" in doc or "model_options" in doc):
        out: dict[str, Any] = {}
        build = doc.get("build_options") or {}
        if isinstance(build, dict) and isinstance(build.get("Precision"), str) and build["Precision"]:
            out["precision"] = build["Precision"]
        dev = doc.get("device_information") or {}
        if isinstance(dev, dict) and isinstance(dev.get("Selected Device"), str) and dev["Selected Device"]:
            out["gpu"] = dev["Selected Device"]
        return out
    if isinstance(doc, dict) and ("performance_summary" in doc or "device_information" in doc):
        out = {}
        dev = doc.get("device_information") or {}
        if isinstance(dev, dict):
            if isinstance(dev.get("Selected Device"), str) and dev["Selected Device"]:
                out["gpu"] = dev["Selected Device"]
            if isinstance(dev.get("Compute Capability"), (str, int, float)):
                out["compute_capability"] = str(dev["Compute Capability"])
        perf = doc.get("performance_summary") or {}
        if isinstance(perf, dict) and perf:
            out["trtexec_performance_summary"] = perf
        opts = doc.get("inference_options") or {}
        if isinstance(opts, dict):  # how the end-to-end times were measured (lint's measurement-trust rules)
            for key, name in (("CUDA Graph", "cuda_graph"), ("Separate profiling", "separate_profiling")):
                v = opts.get(key)
                if isinstance(v, str) and v.lower() in ("enabled", "disabled"):
                    out[name] = v.lower() == "enabled"
        return out
    if isinstance(doc, list) and doc and isinstance(doc[0], dict) and "ComputeCapability" in doc[0]:
        d = doc[0]
        out = {"gpu": d["Name"]} if isinstance(d.get("Name"), str) else {}
        cc = d.get("ComputeCapability")
        if isinstance(cc, list) and len(cc) == 2 and all(isinstance(x, int) and 0 <= x < 1000 for x in cc):
            out["compute_capability"] = f"{cc[0]}.{cc[1]}"
        return out
    return None


def _is_sqlite(head: bytes) -> bool:
    return head.startswith(b"SQLite format 3\x00")


def sniff(path: str | Path, *, strict: bool = True) -> Sniffed:
    """Parse whatever artifacts ``path`` holds. ``strict``: a file that is none of them is an error."""
    p = Path(path)
    result = Sniffed(p)
    head = read_input(p, 4096)

    if _is_sqlite(head):
        from trtscope.parsers.nsys_sqlite import looks_like_nsys_export  # (sqlite3: only for SQLite files)

        result.kinds.append("nsys" if looks_like_nsys_export(p) else "sqlite")
        return _done(result, strict)
    if looks_like_onnx(head) or p.suffix.lower() == ".onnx":
        result.kinds.append("onnx")
        return result
    if b"\x00" in head and not head.startswith((GZIP_MAGIC, *_BINARY_UTF16)):
        result.tried.append("binary content (an engine plan, a weights file?)")
        return _done(result, strict)
    with reading(p, "the file"):
        data = read_input(p, max_bytes=jsonio.MAX_JSON_BYTES, expected="a JSON or text artifact")
        text = decode_text(data, p, max_bytes=MAX_LOG_BYTES)
        del data
        # only text starting so can be JSON, but a log may start with "[" too: JSON is tried, not assumed
        if text.lstrip()[:1] in ("{", "[") and _sniff_json(p, text, result):
            return _done(result, strict)
        _sniff_log(p, text, result)
    return _done(result, strict)


def _done(result: Sniffed, strict: bool) -> Sniffed:
    if strict and not result.kinds:
        if result.json_error is not None:  # it looked like JSON: that is the problem to name first
            raise InputError(result.path, f"{result.json_error} (nor is it a log with a layer listing or a "
                                          "profile table)")
        tried = f" (read as {'; as '.join(result.tried)})" if result.tried else ""
        raise InputError(
            result.path,
            "not a TensorRT artifact trtscope recognises (layer information, --exportProfile, --exportTimes, "
            f"a trtexec or build log, an ONNX model, a trtscope bundle or an nsys SQLite export){tried}",
        )
    if strict and result.kinds == ["sqlite"]:
        raise InputError(result.path, "an SQLite file that is not an Nsight Systems export (no StringIds/CUPTI tables)")
    return result


def _sniff_json(p: Path, text: str, result: Sniffed) -> bool:
    """Read ``text`` as JSON; True when that settled what the file is (an artifact, or valid JSON of
    another kind), False when it is not JSON and should be read as a log."""
    try:
        doc = jsonio.loads(text, p, result.warnings)
    except InputError as err:
        broken = profile_from_broken_json(text, p, result.warnings)
        if broken is None:
            result.tried.append(f"JSON: {err.problem}")
            result.json_error = err.problem
            return False
        result.kinds.append("profile")
        result.profile = broken
        result.warnings.append(
            f"{p}: not valid JSON (trtexec writes layer names unescaped); read it record by record"
        )
        return True
    if looks_like_layer_info(doc):
        result.kinds.append("layer_info")
        result.layer_info = layer_info_from_json(doc, p, warnings=result.warnings)
    elif looks_like_profile(doc):
        result.kinds.append("profile")
        result.profile = profile_from_json(doc, p, result.warnings)
    elif looks_like_times(doc):
        result.kinds.append("times")
        result.times = times_from_json(doc, p, result.warnings)
    else:
        meta = _metadata_from_json(doc)
        if meta is not None:
            result.kinds.append("metadata")
            result.metadata.update(meta)
        else:
            result.tried.append("JSON: valid JSON, but no TensorRT layer information, profile or times in it")
    return True


def _sniff_log(p: Path, text: str, result: Sniffed) -> None:
    info, warnings = layer_info_from_log(text, p)
    result.warnings.extend(warnings)
    if info is not None:
        result.kinds.append("layer_info")
        result.layer_info = info
    prof = profile_from_log(text, p, result.warnings)
    if prof is not None:
        result.kinds.append("profile")
        result.profile = prof
    facts = facts_from_log(text)
    if facts:
        result.metadata.update(facts)
        if not result.kinds:
            result.kinds.append("log")
    if not result.kinds:
        result.tried.append("a log: no layer listing, no profile table and no trtexec banner in it")
