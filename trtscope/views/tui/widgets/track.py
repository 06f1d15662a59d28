"""A one-line time track: values in eighth-block glyphs on a fixed scale (``lo``..``hi``), one cell per time
bucket, the time cursor's cell in reverse video. Unlike Textual's Sparkline (scaled to each series' own
min..max), the scale is the caller's: relative (the window's min..max) or absolute (0..a physical maximum)."""

from __future__ import annotations

import math

import numpy as np
from rich.style import Style
from rich.text import Text
from textual.widget import Widget

BLOCKS = " ▁▂▃▄▅▆▇█"


def glyphs(values: np.ndarray, lo: float, hi: float) -> str:
    """One glyph per value: empty below ``lo``, a full block at ``hi``; NaN as a blank."""
    span = hi - lo
    out = []
    for v in values.tolist():
        if v is None or math.isnan(v):
            out.append(" ")
            continue
        f = 1.0 if span <= 0 else min(1.0, max(0.0, (v - lo) / span))
        out.append(BLOCKS[max(1, round(f * 8))] if v > lo or span <= 0 else BLOCKS[1])
    return "".join(out)


class Track(Widget):
    DEFAULT_CSS = "Track { height: 1; margin: 0 1; }"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.values = np.zeros(0)
        self.lo = 0.0
        self.hi = 1.0
        self.cursor: int | None = None

    def show(self, values: np.ndarray, lo: float, hi: float, cursor: int | None) -> None:
        self.values, self.lo, self.hi, self.cursor = values, lo, hi, cursor
        self.refresh()

    @property
    def text(self) -> str:
        return glyphs(self.values, self.lo, self.hi)

    def render(self) -> Text:
        text = Text(self.text)
        if self.cursor is not None and 0 <= self.cursor < len(text):
            text.stylize(Style(reverse=True), self.cursor, self.cursor + 1)
        return text
