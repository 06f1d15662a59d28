"""The search box: hidden until ``/``, filters the screen's table as you type."""

from __future__ import annotations

from textual.widgets import Input


class SearchBox(Input):
    """A one-line Input; the screen owning it filters on ``Input.Changed`` and refocuses its table on Enter."""

    def __init__(self, placeholder: str) -> None:
        super().__init__(placeholder=placeholder, compact=True, id="search")

    def open(self) -> None:
        self.display = True
        self.focus()

    def close(self) -> None:
        """Empty and hide it (the owner sees the resulting ``Changed`` and shows every row again)."""
        self.value = ""
        self.display = False
