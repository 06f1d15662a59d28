"""Reading JSON the way TensorRT writes it.

TensorRT and trtexec emit JSON that strict parsers reject: raw 0x1E/0x1F bytes inside strings (Metadata),
and layer names written without escaping (a quote or backslash in a name breaks the document). We parse with
``strict=False`` and turn every failure into an :class:`InputError` that names the file, line and column.

A string may also hold a lone UTF-16 surrogate escape (``"\\ud800"``): valid JSON, but not text any encoder
accepts, so every later step (printing, Parquet, CSV) would fail on it. Such code points are replaced by
U+FFFD here, once, with a warning.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from trtscope.errors import InputError
from trtscope.parsers.files import read_input
from trtscope.parsers.logtext import decode_text

#: Files larger than this are not read as JSON artifacts (layer info / profiles of real engines are far smaller;
#: --exportTimes of a long run reaches a few hundred MB). Parsing costs about 4x the file size in memory.
MAX_JSON_BYTES = 512 * 1024**2
#: A ``\uD800``-``\uDFFF`` escape in the text: only then can a parsed string hold a lone surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")


def read_text(path: str | Path, *, max_bytes: int = MAX_JSON_BYTES) -> str:
    """Read a text artifact (gzip, BOMs and bad bytes handled as in :func:`logtext.decode_text`)."""
    return decode_text(read_input(path, max_bytes=max_bytes, expected="a JSON or text artifact"), path,
                       max_bytes=max_bytes)


def loads(text: str, source: str | Path, warnings: list[str] | None = None) -> Any:
    """Parse TensorRT-style JSON leniently (control bytes inside strings allowed); lone surrogates become
    U+FFFD (reported in ``warnings``)."""
    try:
        doc = json.loads(text, strict=False)
    except json.JSONDecodeError as err:
        raise InputError(source, f"invalid JSON at line {err.lineno} column {err.colno}: {err.msg}") from err
    except RecursionError as err:
        raise InputError(source, "JSON nested too deeply") from err
    except ValueError as err:  # e.g. an integer literal longer than Python's digit limit
        raise InputError(source, f"invalid JSON ({str(err)[:120]})") from err
    if _SURROGATE_ESCAPE.search(text):
        doc, fixed = _replace_surrogates(doc)
        if fixed and warnings is not None:
            warnings.append(f"{source}: {fixed} strings held lone UTF-16 surrogate escapes (\\ud800-\\udfff), "
                            "not text; they were replaced by U+FFFD")
    return doc


def _fix(s: str) -> str:
    return _SURROGATE.sub("\ufffd", s)


def _bad(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _replace_surrogates(doc: Any) -> tuple[Any, int]:
    """Replace lone surrogates in every string (keys too), iteratively: no recursion, whatever the depth."""
    if isinstance(doc, str):
        return (_fix(doc), 1) if _bad(doc) else (doc, 0)
    fixed = 0
    stack: list[Any] = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for k in [k for k in node if _bad(k)]:
                node[_fix(k)] = node.pop(k)
                fixed += 1
        for k, v in list(node.items() if isinstance(node, dict) else enumerate(node)):
            if isinstance(v, str):
                if _bad(v):
                    node[k] = _fix(v)
                    fixed += 1
            elif isinstance(v, (list, dict)):
                stack.append(v)
    return doc, fixed


def load_json(path: str | Path, warnings: list[str] | None = None) -> Any:
    return loads(read_text(path), path, warnings)
