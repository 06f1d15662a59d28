"""``c``: copy the name, the ONNX node(s) or the kernel of the row under the cursor. Each value is shown in full
(terminal text selection works on it too); Enter copies the highlighted one."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from trtscope.presentation.formatting import printable

#: role -> what it is called
ROLES = {"name": "name", "node": "ONNX node", "kernel": "kernel"}


class CopyScreen(ModalScreen["str | None"]):
    """Dismissed with the role chosen, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=True)]

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__()
        self.values = values

    def compose(self) -> ComposeResult:
        with Vertical(id="copy"):
            yield Static("Copy to the clipboard (Enter), Escape cancels:", markup=False)
            yield OptionList(*[Option(f"{ROLES[r]}: {printable(v)}", id=r) for r, v in self.values.items()],
                             id="copy-what")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(str(event.option.id))

    def action_cancel(self) -> None:
        self.dismiss(None)
