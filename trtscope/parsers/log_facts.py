"""Facts about the run that trtexec and TensorRT print in their logs (version, GPU, precision, command).

Each fact is a known payload (``Selected Device: …``) found after whatever prefix the logger wrote (see
:mod:`trtscope.parsers.logtext`); values are bounded in length and checked for shape, so a 5,000-digit
version banner or a sentence quoting a log line in prose yields nothing rather than a wrong fact.
"""

from __future__ import annotations

import re
from typing import Any

from trtscope.parsers.logtext import log_lines, payload

#: Banners and option dumps are at the top of a log; tables at the end are not needed.
HEAD_CHARS = 4 * 1024 * 1024
#: A fact's value longer than this is not the value trtexec printed.
MAX_VALUE_CHARS = 200
_VERSION = re.compile(r"\d{1,3}(?:\.\d{1,4}){0,3}")
_BANNER_CODE = re.compile(r"\[TensorRT v(\d{3,9})\]")
_CC = re.compile(r"\d{1,3}\.\d{1,3}")
_COMMAND = re.compile(r"&&&& (?:RUNNING|PASSED) TensorRT\.trtexec \[[^\]\n]{0,80}\] (?:\[[^\]\n]{0,80}\] )?# ")
#: (fact, the payload that introduces it, a check of the value's shape or None)
_FACTS: tuple[tuple[str, str, re.Pattern[str] | None], ...] = (
    ("tensorrt_version", "TensorRT version: ", _VERSION),
    ("gpu", "Selected Device: ", None),
    ("compute_capability", "Compute Capability: ", _CC),
    ("precision", "Precision: ", None),
    ("profiling_verbosity", "Profiling verbosity: ", re.compile(r"\S{1,40}")),
)


def _version_from_code(code: str) -> str:
    """trtexec's banner writes 10.16.1 as ``v101601`` (major*10000 + minor*100 + patch) and 8.6.1 as ``v8601``
    (TensorRT 8: major*1000 + minor*100 + patch)."""
    if len(code) >= 5:
        return f"{int(code[:-4])}.{int(code[-4:-2])}.{int(code[-2:])}"
    if len(code) == 4:
        return f"{code[0]}.{code[1]}.{int(code[2:])}"
    return code


def facts_from_log(text: str) -> dict[str, Any]:
    """Version, GPU, compute capability, precision, profiling verbosity and trtexec command line. The
    ``Key: value`` facts count only after a trtexec section header (``=== Device Information ===``): prose
    that mentions ``Selected Device: X`` is not a trtexec log."""
    out: dict[str, Any] = {}
    in_section = False
    for line in log_lines(text[:HEAD_CHARS]):
        if "=== " in line and line.rstrip().endswith(" ===") and payload(line, "=== ") is not None:
            in_section = True
        if "&&&& " in line and "trtexec_command" not in out:
            m = _COMMAND.search(line, 0, 512)
            if m:
                out["trtexec_command"] = line[m.end() :].strip()
                if "tensorrt_version" not in out:
                    code = _BANNER_CODE.search(line, 0, m.end())
                    if code:
                        out["tensorrt_version"] = _version_from_code(code.group(1))
        if not in_section or ": " not in line:
            continue
        for key, marker, shape in _FACTS:
            if key in out or marker not in line:
                continue
            body = payload(line, marker)
            if body is None:
                continue
            value = body[len(marker) :].strip()
            if not value or len(value) > MAX_VALUE_CHARS or (shape is not None and not shape.fullmatch(value)):
                continue
            out[key] = value
        if len(out) == len(_FACTS) + 1:
            break
    return out
