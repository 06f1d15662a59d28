"""What screens ask the App to do. Screens post these (Textual messages bubble from a screen to the App) and
the App handles them with ``@on``: screens never import or command the App, and the App never reaches into a
screen's internals; it hands the jump to the target screen's :meth:`~screens.base.BaseScreen.apply_jump`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from textual.screen import Screen


@dataclass(frozen=True)
class Jump:
    """Where a jump lands on a top-level screen: ``node`` (under ``layer_index``), an ``op_type``, a ``query``
    typed into the search box, a ``kernel``'s launch groups, or a ``layer_index`` to put the cursor on; in the
    diff view, ``node`` is named on ``side`` "a" or "b" (``op_type``: a group's layer kind)."""

    node: str | None = None
    layer_index: int | None = None
    op_type: str | None = None
    query: str | None = None
    kernel: str | None = None
    side: str | None = None  # which side's name ``node`` is ("a" / "b"; the diff view)
    why: str = ""  # said in a notification when the jump changes filters (e.g. "Enter on [reformat layers]")


class OpenLayer(Message):
    """Show layer ``index``'s detail over the current screen (``node``: the ONNX node to put the cursor on)."""

    def __init__(self, index: int, node: str | None = None) -> None:
        super().__init__()
        self.index = index
        self.node = node


class JumpTo(Message):
    """Switch to the top-level screen ``mode`` and land on ``jump`` there."""

    def __init__(self, mode: str, jump: Jump) -> None:
        super().__init__()
        self.mode = mode
        self.jump = jump


class GoBack(Message):
    """One step back along the jump history (Backspace anywhere, Escape in a detail)."""


class OpenDetail(Message):
    """Push ``screen`` (a detail page) over the current screen, remembering where it was opened from."""

    def __init__(self, screen: Screen[Any]) -> None:
        super().__init__()
        self.screen = screen
