"""``e``: write the table in view as CSV. The path prompt starts with a free name in the current directory;
an existing file is only replaced after an explicit ``y``; the write is atomic (``trtscope.atomic``)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pandas as pd
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from trtscope.atomic import atomic_write, check_writable
from trtscope.errors import TrtscopeError
from trtscope.views.tui.data import to_csv


class ExportScreen(ModalScreen["Path | None"]):
    """Dismissed with the path written, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=True),
        Binding("y", "overwrite", "Overwrite", show=True),
        Binding("n", "keep", "Keep the file", show=True),
    ]

    def __init__(self, frame: pd.DataFrame, what: str, default: Path) -> None:
        super().__init__()
        self.frame = frame
        self.what = what
        self.default = default
        self.pending: Path | None = None  # an existing file waiting for y/n

    def compose(self) -> ComposeResult:
        with Vertical(id="export"):
            yield Static(f"Export {len(self.frame):,} rows of {self.what} as CSV to:", markup=False)
            yield Input(value=str(self.default), id="export-path")
            yield Static("Enter: write · Escape: cancel", id="export-message", markup=False)

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("overwrite", "keep"):
            return self.pending is not None
        return True

    def _say(self, text: str) -> None:
        self.query_one("#export-message", Static).update(text)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if not value:
            self._say("give a file name (Escape cancels)")
            return
        path = Path(value).expanduser()
        path = path if path.is_absolute() else Path.cwd() / path
        if path.is_dir():
            self._say(f"{path} is a directory: give a file name")
            return
        if path.exists():
            self.pending = path
            self._say(f"{path} exists. Overwrite it? y: overwrite · n: choose another name")
            self.set_focus(None)  # y / n go to this dialog, not into the path
            self.refresh_bindings()
            return
        self._write(path, force=False)

    def action_overwrite(self) -> None:
        if self.pending is not None:
            self._write(self.pending, force=True)

    def action_keep(self) -> None:
        self.pending = None
        self.refresh_bindings()
        self._say("not overwritten; give another name (Escape cancels)")
        self.query_one("#export-path", Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _write(self, path: Path, force: bool) -> None:
        try:
            check_writable(path, force=force)
            atomic_write(path, to_csv(self.frame))
        except TrtscopeError as err:
            self.pending = None
            self._say(f"not written: {err}")
            self.query_one("#export-path", Input).focus()
            return
        self.dismiss(path)
