"""Formatting shared by the console report and the TUI: numbers, shares, names made printable."""

from __future__ import annotations

import math
from typing import Any

_CONTROL = {0x1E: "␞", 0x1F: "␟", 0x0A: "⏎", 0x0D: "␍", 0x09: "␉"}


def printable(name: object) -> str:
    """A layer/node name safe to show: control bytes made visible (the data keeps the exact bytes)."""
    s = str(name)
    if not any(ord(c) < 0x20 or c == "\x7f" for c in s):
        return s
    return "".join(_CONTROL.get(ord(c), f"\\x{ord(c):02x}") if ord(c) < 0x20 or c == "\x7f" else c for c in s)


def is_missing(v: Any) -> bool:
    """None, NaN, pd.NA or NaT (nullable integer columns of bundles hold pd.NA)."""
    if v is None:
        return True
    if isinstance(v, float):
        return math.isnan(v)
    import pandas as pd  # (here: the TUI's first frame is drawn before pandas is imported)

    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):  # list-likes
        return False


def ms(v: Any, digits: int = 4) -> str:
    """Milliseconds, or an em dash when unknown."""
    if is_missing(v):
        return "—"
    f = float(v)
    if f != 0 and abs(f) < 10 ** (-digits):
        return f"{f:.2e}"
    return f"{f:.{digits}f}"


def pct(v: Any, digits: int = 1) -> str:
    """A 0..1 share as a percentage."""
    if is_missing(v):
        return "—"
    return f"{100 * float(v):.{digits}f}%"


def truncate(s: str, width: int) -> str:
    return s if len(s) <= width else s[: max(1, width - 1)] + "…"


def middle_truncate(s: str, width: int) -> str:
    """Keep both ends of a long name: ONNX paths differ at the end (``/layer3/.../Conv``), fused names at both."""
    if len(s) <= width:
        return s
    if width < 5:
        return s[:width]
    head = (width - 1) // 2
    return s[:head] + "…" + s[len(s) - (width - 1 - head):]


def bar(share: Any, width: int = 20) -> str:
    """A horizontal bar for a 0..1 share, in eighth-blocks."""
    if is_missing(share):
        return ""
    cells = max(0.0, min(1.0, float(share))) * width
    full = int(cells)
    rest = round((cells - full) * 8)
    if rest == 8:
        full, rest = full + 1, 0
    return "█" * full + ("▏▎▍▌▋▊▉"[rest - 1] if rest else "")


def node_list(nodes: Any, limit: int = 3) -> str:
    if not isinstance(nodes, (list, tuple)) or not nodes:
        return ""
    shown = ", ".join(printable(n) for n in list(nodes)[:limit])
    return shown + (f" +{len(nodes) - limit}" if len(nodes) > limit else "")
