"""Facts about the run that trtexec and TensorRT print in their logs (version, GPU, precision, command)."""

from __future__ import annotations

import re
from typing import Any

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("tensorrt_version", re.compile(r"TensorRT version: ([0-9][0-9.]*)")),
    ("tensorrt_version", re.compile(r"\[TensorRT v(\d+)\]")),
    ("gpu", re.compile(r"Selected Device: (.+?)\s*$", re.M)),
    ("compute_capability", re.compile(r"Compute Capability: ([0-9.]+)")),
    ("precision", re.compile(r"\] Precision: (.+?)\s*$", re.M)),
    ("trtexec_command",
     re.compile(r"^&&&& (?:RUNNING|PASSED) TensorRT\.trtexec \[[^\]]*\] (?:\[[^\]]*\] )?# (.+?)\s*$", re.M)),
    ("profiling_verbosity", re.compile(r"Profiling verbosity: (\S+)")),
)


def _version_from_code(code: str) -> str:
    """trtexec's banner writes 10.16.1 as ``v101601`` and 8.6.1 as ``v8601``."""
    if len(code) >= 5:
        major = code[:-4]
        return f"{int(major)}.{int(code[-4:-2])}.{int(code[-2:])}"
    return code


def facts_from_log(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    head = text[: 4 * 1024 * 1024]  # banners and option dumps are at the top; tables at the end are not needed
    for key, pattern in _PATTERNS:
        if key in out:
            continue
        m = pattern.search(head)
        if m:
            value = m.group(1)
            if key == "tensorrt_version" and pattern.pattern.startswith(r"\[TensorRT v"):
                value = _version_from_code(value)
            out[key] = value
    return out
