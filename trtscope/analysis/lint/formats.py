"""Tensor layouts in a few letters, from the format text TensorRT writes.

TensorRT 8 writes prose (``"Thirty-two wide channel vectorized row major Int8 format"``), 10+ one-line logs a
bracketed layout (``"(NHWC) Channel major format"``), some versions the enum name (``kCHW32``), and 10+ JSON
often only the data type (``"Half"``: no layout). Findings name a transition as ``Int8 CHW32 → Half HWC8``, so
the layout is reduced to TensorRT's TensorFormat names without the ``k``.
"""

from __future__ import annotations

import re

_WIDTHS = {"two": 2, "four": 4, "eight": 8, "sixteen": 16, "thirty-two": 32}
_VECTOR = re.compile(r"\b(two|four|eight|sixteen|thirty-two) wide channel vectorized", re.I)
_CHANNEL_MOD = re.compile(r"channel\s*%\s*(\d+)\s*==\s*0", re.I)
_ENUM = re.compile(r"\bk((?:C?D?HWC|CD?HW)\d*|LINEAR|DLA_LINEAR|DLA_HWC4|HWC)\b")


def layout_of(fmt: object) -> str:
    """``CHW32``, ``HWC8``, ``HWC``, ``linear``, ``transposed``; ``""`` when the text names no layout."""
    if not isinstance(fmt, str) or not fmt:
        return ""
    m = _ENUM.search(fmt)
    if m:
        return m.group(1).lower() if m.group(1) == "LINEAR" else m.group(1)
    low = fmt.lower()
    m = _VECTOR.search(fmt)
    if m:
        return f"CHW{_WIDTHS[m.group(1).lower()]}"
    if "channel major" in low or "(nhwc)" in low:
        mod = _CHANNEL_MOD.search(fmt)
        return f"HWC{mod.group(1)}" if mod else "HWC"
    if "transposed" in low:
        return "transposed"
    if "linear" in low:
        return "linear"
    return ""


def describe(dtype: object, layout: str) -> str:
    """``Int8 CHW32`` (data type and layout, whichever are known)."""
    parts = [str(dtype) if isinstance(dtype, str) and dtype else "?", layout]
    return " ".join(p for p in parts if p)
