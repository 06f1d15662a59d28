"""``e``: export. The table in view as CSV (the rows shown, filter and sort applied), or the whole analysis in
any format ``trtscope export`` writes: the choices come from ``trtscope.exporters.formats.EXPORT_FORMATS``, so
a format added there appears here. The path prompt starts with a free name in the current directory; an
existing file or directory is only replaced after an explicit ``y`` (and, for a directory, only a previous
trtscope export); every write is atomic (``trtscope.atomic`` and the exporters' own staging)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import pandas as pd
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from trtscope.atomic import atomic_write, check_writable
from trtscope.errors import TrtscopeError
from trtscope.exporters.formats import EXPORT_FORMATS, write_export
from trtscope.views.tui.data import free_path, to_csv

if TYPE_CHECKING:
    from trtscope.analysis.session import Analysis

TABLE = "table"


@dataclass(frozen=True)
class ExportChoice:
    key: str  # TABLE or an EXPORT_FORMATS name
    label: str
    default: Path
    write: Callable[[Path, bool], str]


def table_choice(frame: pd.DataFrame, what: str, cwd: Path) -> ExportChoice:
    """The table in view (``frame``: its rows shown, in order) as CSV."""
    def write_table(path: Path, force: bool) -> str:
        check_writable(path, force=force)
        atomic_write(path, to_csv(frame))
        return f"wrote {len(frame):,} rows to {path}"

    return ExportChoice(TABLE, f"this table: {len(frame):,} rows of {what} as CSV", free_path(cwd, f"trtscope-{what}"),
                        write_table)


def choices(a: Analysis, frame: pd.DataFrame | None, what: str, cwd: Path) -> list[ExportChoice]:
    """This table as CSV (when there is one), then every format of ``trtscope export``."""
    out = [table_choice(frame, what, cwd)] if frame is not None else []
    for f in EXPORT_FORMATS.values():
        stem, dot, suffix = f.default_name.partition(".")
        default = free_path(cwd, stem, dot + suffix if dot else "")

        def write(path: Path, force: bool, fmt: str = f.name) -> str:
            return write_export(a, fmt, path, force=force)

        out.append(ExportChoice(f.name, f"whole analysis, {f.name}: {f.summary}", default, write))
    return out


class ExportScreen(ModalScreen["str | None"]):
    """Dismissed with what was written (one line), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=True),
        Binding("y", "overwrite", "Overwrite", show=True),
        Binding("n", "keep", "Keep it", show=True),
    ]

    def __init__(self, options: list[ExportChoice]) -> None:
        super().__init__()
        self.options = options
        self.choice = options[0]
        self.pending: Path | None = None  # an existing target waiting for y/n

    def compose(self) -> ComposeResult:
        with Vertical(id="export"):
            yield Static("Export (↑/↓ choose, Tab to the path, Enter writes)", markup=False)
            yield OptionList(*[Option(c.label, id=c.key) for c in self.options], id="export-what")
            yield Static("to:", markup=False)
            yield Input(value=str(self.choice.default), id="export-path")
            yield Static("Enter: write · Escape: cancel", id="export-message", markup=False)

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = 0
        self.query_one("#export-path", Input).focus()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self.choose(str(event.option.id))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.choose(str(event.option.id))
        self.query_one("#export-path", Input).focus()

    def choose(self, key: str) -> None:
        """Pick what to export; the path follows unless the user edited it."""
        new = next(c for c in self.options if c.key == key)
        path = self.query_one("#export-path", Input)
        if path.value == str(self.choice.default):
            path.value = str(new.default)
        self.choice = new
        self.pending = None
        self.refresh_bindings()

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
        directory = self.choice.key in EXPORT_FORMATS and EXPORT_FORMATS[self.choice.key].target == "directory"
        if path.is_dir() and not directory:
            self._say(f"{path} is a directory: give a file name")
            return
        if path.exists() and not (directory and path.is_dir() and not any(path.iterdir())):
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
            said = self.choice.write(path, force)
        except TrtscopeError as err:
            self.pending = None
            self.refresh_bindings()
            self._say(f"not written: {err}")
            self.query_one("#export-path", Input).focus()
            return
        self.dismiss(said)
