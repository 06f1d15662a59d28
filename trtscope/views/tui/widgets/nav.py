"""The one-line navigation bar at the top of every screen: which screens exist, which one is shown."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

Screens = tuple[tuple[str, str, str], ...]

#: (key, mode, label) of the top-level screens, in key order.
SCREENS: Screens = (
    ("1", "overview", "Overview"),
    ("2", "layers", "Layers"),
    ("3", "fusion", "Fusion"),
    ("4", "hotspots", "Hotspots"),
    ("5", "kernels", "Kernels"),
    ("6", "timeline", "Timeline"),
    ("7", "lint", "Lint"),
)


class NavBar(Static):
    """``1 Overview  2 Layers ...``; the current screen is bracketed (not only coloured), items are clickable."""

    def __init__(self, current: str, available: set[str], crumb: str = "", screens: Screens = SCREENS) -> None:
        super().__init__(id="nav")
        self.current = current
        self.available = available
        self.crumb = crumb
        self.screens = screens  # another app's screens (the diff view's)

    def on_mount(self) -> None:
        self.update(self._content())

    def _content(self) -> Content:
        parts: list[Content] = []
        for key, mode, label in self.screens:
            if mode not in self.available:
                continue
            if mode == self.current:
                parts.append(Content.styled(f"[{key} {label}]", "bold reverse"))
            else:
                parts.append(Content.from_markup(f"[@click=app.show('{mode}')] {key} {label} [/]"))
        parts.append(Content.from_markup("[@click=app.help] ? help [/]"))
        line = Content(" ").join(parts)
        if self.crumb:
            line = line + Content(" › ") + Content.styled(self.crumb, "bold")
        return line
