"""A time axis under the tracks: start, middle and end labels placed at the widget's real width."""

from __future__ import annotations

from textual.widget import Widget

from trtscope.views.tui.cells import seconds


class TimeAxis(Widget):
    DEFAULT_CSS = "TimeAxis { height: 1; margin: 0 1; }"

    def __init__(self, span_s: float = 0.0, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.span_s = span_s
        self.start_s = 0.0

    def set_span(self, span_s: float, start_s: float = 0.0) -> None:
        """The window shown: ``span_s`` long, starting ``start_s`` after the capture's first sample."""
        self.span_s, self.start_s = span_s, start_s
        self.refresh()

    def render(self) -> str:
        width = max(self.size.width, 20)
        left = "0" if self.start_s == 0 else seconds(self.start_s)
        mid, right = seconds(self.start_s + self.span_s / 2), seconds(self.start_s + self.span_s)
        line = [" "] * width
        for pos, text in ((0, left), ((width - len(mid)) // 2, mid), (width - len(right), right)):
            line[pos : pos + len(text)] = list(text)
        return "".join(line[:width])
