"""``s``: the sort picker. Lists the orders a table offers (its columns, or the Fusion screen's group orders),
marks the current one; Enter sorts (numbers largest first, text A→Z), ``r`` in the list sorts the other way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


@dataclass(frozen=True)
class SortChoice:
    key: str | None  # frame column / order key; None: the original order
    label: str
    descending_first: bool


class SortPicker(ModalScreen["tuple[SortChoice, bool] | None"]):
    """Dismissed with (choice, descending), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=True),
        Binding("r", "reverse", "Sort the other way", show=True),
    ]

    def __init__(self, choices: list[SortChoice], current: str | None, descending: bool) -> None:
        super().__init__()
        self.choices = choices
        self.current = current
        self.descending = descending

    def compose(self) -> ComposeResult:
        options = []
        for i, c in enumerate(self.choices):
            mark = (" ▼" if self.descending else " ▲") if c.key == self.current and c.key is not None else ""
            way = "" if c.key is None else (" (largest first)" if c.descending_first else " (A→Z)")
            options.append(Option(f"{c.label}{way}{mark}", id=str(i)))
        with Vertical(id="sort-picker"):
            yield Static("Sort by (Enter: sort · r: the other way · Escape: cancel)", markup=False)
            yield OptionList(*options, id="sort-options")

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        at = next((i for i, c in enumerate(self.choices) if c.key == self.current), 0)
        ol.highlighted = at
        ol.focus()

    def _choice(self) -> SortChoice | None:
        at = self.query_one(OptionList).highlighted
        return self.choices[at] if at is not None else None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        c = self.choices[int(event.option.id or 0)]
        self.dismiss((c, c.descending_first))

    def action_reverse(self) -> None:
        c = self._choice()
        if c is not None:
            self.dismiss((c, not c.descending_first))

    def action_cancel(self) -> None:
        self.dismiss(None)
