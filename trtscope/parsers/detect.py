"""Recognising artifacts by content, not by file name.

Real files come as ``*.graph.json``, ``*.layers.json``, ``*.profile``, even ``*.log`` holding JSON; trtexec
logs hold layer listings and profile tables. :func:`sniff` reads a file once and returns every artifact it
holds, already parsed, so a directory is understood whatever its files are called.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from trtscope.errors import InputError
from trtscope.model.artifacts import LayerInfo, LayerProfile
from trtscope.parsers import jsonio
from trtscope.parsers.files import read_input
from trtscope.parsers.layer_info_json import layer_info_from_json, looks_like_layer_info
from trtscope.parsers.layer_info_text import layer_info_from_log
from trtscope.parsers.log_facts import facts_from_log
from trtscope.parsers.nsys_sqlite import looks_like_nsys_export
from trtscope.parsers.onnx_wire import looks_like_onnx
from trtscope.parsers.profile import (
    looks_like_profile,
    profile_from_broken_json,
    profile_from_json,
    profile_from_log,
)
from trtscope.parsers.times import looks_like_times, times_from_json

#: Text files larger than this are not scanned as logs (verbose build logs of big models reach tens of MB).
MAX_LOG_BYTES = 512 * 1024**2


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


def _metadata_from_json(doc: Any) -> dict[str, Any] | None:
    """TREx side files: build/profile metadata parsed from trtexec logs, and CUDA device attributes."""
    if isinstance(doc, dict) and ("build_options" in doc or "model_options" in doc):
        out: dict[str, Any] = {}
        build = doc.get("build_options") or {}
        if isinstance(build, dict) and build.get("Precision"):
            out["precision"] = build["Precision"]
        dev = doc.get("device_information") or {}
        if isinstance(dev, dict) and dev.get("Selected Device"):
            out["gpu"] = dev["Selected Device"]
        return out
    if isinstance(doc, dict) and ("performance_summary" in doc or "device_information" in doc):
        out = {}
        dev = doc.get("device_information") or {}
        if isinstance(dev, dict):
            if dev.get("Selected Device"):
                out["gpu"] = dev["Selected Device"]
            if dev.get("Compute Capability") is not None:
                out["compute_capability"] = dev["Compute Capability"]
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
        out = {"gpu": d.get("Name")}
        cc = d.get("ComputeCapability")
        if isinstance(cc, list) and len(cc) == 2:
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
        result.kinds.append("nsys" if looks_like_nsys_export(p) else "sqlite")
        return _done(result, strict)
    if looks_like_onnx(head) or p.suffix.lower() == ".onnx":
        result.kinds.append("onnx")
        return result
    if b"\x00" in head:  # binary we do not know (an engine plan, a weights file...)
        return _done(result, strict)

    stripped = head.lstrip()
    if stripped[:1] in (b"{", b"["):
        _sniff_json(p, result)
        if result.kinds:
            return _done(result, strict)
    try:
        size = p.stat().st_size
    except OSError:
        size = 0
    if size <= MAX_LOG_BYTES:
        _sniff_log(p, result)
    return _done(result, strict)


def _done(result: Sniffed, strict: bool) -> Sniffed:
    if strict and not result.kinds:
        raise InputError(
            result.path,
            "not a TensorRT artifact trtscope recognises (layer information, --exportProfile, --exportTimes, "
            "a trtexec or build log, an ONNX model, a trtscope bundle or an nsys SQLite export)",
        )
    if strict and result.kinds == ["sqlite"]:
        raise InputError(result.path, "an SQLite file that is not an Nsight Systems export (no StringIds/CUPTI tables)")
    return result


def _sniff_json(p: Path, result: Sniffed) -> None:
    text = jsonio.read_text(p)
    try:
        doc = jsonio.loads(text, p)
    except InputError as err:
        broken = profile_from_broken_json(text, p)
        if broken is None:
            if "\n" in text.strip() and _looks_like_log_text(text):
                return  # a log that happens to start with a bracket: let the log sniffer have it
            raise err
        result.kinds.append("profile")
        result.profile = broken
        result.warnings.append(
            f"{p}: not valid JSON (trtexec writes layer names unescaped); read it record by record"
        )
        return
    if looks_like_layer_info(doc):
        result.kinds.append("layer_info")
        result.layer_info = layer_info_from_json(doc, p)
    elif looks_like_profile(doc):
        result.kinds.append("profile")
        result.profile = profile_from_json(doc, p)
    elif looks_like_times(doc):
        result.kinds.append("times")
        result.times = times_from_json(doc, p)
    else:
        meta = _metadata_from_json(doc)
        if meta is not None:
            result.kinds.append("metadata")
            result.metadata.update(meta)


def _looks_like_log_text(text: str) -> bool:
    return "&&&& RUNNING" in text or "] [I] " in text or "] [V] " in text


def _sniff_log(p: Path, result: Sniffed) -> None:
    text = jsonio.read_text(p)
    info, warnings = layer_info_from_log(text, p)
    result.warnings.extend(warnings)
    if info is not None:
        result.kinds.append("layer_info")
        result.layer_info = info
    prof = profile_from_log(text, p)
    if prof is not None:
        result.kinds.append("profile")
        result.profile = prof
    facts = facts_from_log(text)
    if facts:
        result.metadata.update(facts)
        if not result.kinds:
            result.kinds.append("log")
