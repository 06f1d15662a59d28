"""A time axis under the sparklines: start, middle and end labels placed at the widget's real width."""

from __future__ import annotations

from textual.widget import Widget

from trtscope.views.tui.cells import seconds


class TimeAxis(Widget):
    DEFAULT_CSS = "TimeAxis { height: 1; }"

    def __init__(self, span_s: float = 0.0, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.span_s = span_s

    def set_span(self, span_s: float) -> None:
        self.span_s = span_s
        self.refresh()

    def render(self) -> str:
        width = max(self.size.width, 20)
        left, mid, right = "0", seconds(self.span_s / 2), seconds(self.span_s)
        line = [" "] * width
        for pos, text in ((0, left), ((width - len(mid)) // 2, mid), (width - len(right), right)):
            line[pos : pos + len(text)] = list(text)
        return "".join(line[:width])
