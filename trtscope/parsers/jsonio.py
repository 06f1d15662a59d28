"""Reading JSON the way TensorRT writes it.

TensorRT and trtexec emit JSON that strict parsers reject: raw 0x1E/0x1F bytes inside strings (Metadata),
and layer names written without escaping (a quote or backslash in a name breaks the document). We parse with
``strict=False`` and turn every failure into an :class:`InputError` that names the file, line and column.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trtscope.errors import InputError
from trtscope.parsers.files import read_input

#: Files larger than this are not read as JSON artifacts (layer info / profiles of real engines are far smaller;
#: --exportTimes of a long run can reach a few hundred MB, still below this).
MAX_JSON_BYTES = 2 * 1024**3


def read_text(path: str | Path) -> str:
    """Read a text artifact; undecodable bytes are replaced (names are compared after the same decoding)."""
    data = read_input(path)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", errors="replace")


def loads(text: str, source: str | Path) -> Any:
    """Parse TensorRT-style JSON leniently (control bytes inside strings allowed)."""
    try:
        return json.loads(text, strict=False)
    except json.JSONDecodeError as err:
        raise InputError(source, f"invalid JSON at line {err.lineno} column {err.colno}: {err.msg}") from err
    except RecursionError as err:
        raise InputError(source, "JSON nested too deeply") from err


def load_json(path: str | Path) -> Any:
    return loads(read_text(path), path)
