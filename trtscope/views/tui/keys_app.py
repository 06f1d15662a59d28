"""The keys every trtscope app answers the same way, whatever it browses: copy (``y`` and the ``c`` menu),
help (``?``) and the theme (``t``). The single-engine app (``app.TrtscopeApp``) and the base of the diff view
(``browsing.BrowsingApp``) both derive from ``KeysApp``, so these behave identically in both.

Screen modules are imported when a key is pressed, not with this module: the single-engine app draws its first
frame before pandas (which the screens' tables need) is imported."""

from __future__ import annotations

from typing import TypeVar

from textual.app import App

from trtscope.atomic import atomic_write
from trtscope.errors import TrtscopeError

R = TypeVar("R")


class KeysApp(App[R]):
    #: the last text copied (tests and the status line read it)
    last_copy: str | None = None

    def _row_values(self) -> dict[str, str]:
        """The copyable values of the row under the cursor, by role (none when no table row is current)."""
        from trtscope.views.tui.screens.base import BaseScreen
        from trtscope.views.tui.screens.copy import ROLES

        screen = self.screen
        row = screen.current_row() if isinstance(screen, BaseScreen) else None
        if row is None:
            return {}
        return {role: v for role in ROLES if (v := row.get(role))}

    def action_copy(self, role: str) -> None:
        from trtscope.views.tui.screens.copy import ROLES

        values = self._row_values()
        if role not in values:
            self.notify(f"nothing to copy: no {ROLES[role]} on this row", markup=False)
            return
        self.copy_text(values[role], ROLES[role])

    def action_copy_menu(self) -> None:
        from trtscope.views.tui.screens.copy import ROLES, CopyScreen

        values = self._row_values()
        if not values:
            self.notify("nothing to copy here: put the cursor on a row of a table", markup=False)
            return

        def chosen(role: str | None) -> None:
            if role is not None:
                self.copy_text(values[role], ROLES[role])

        self.push_screen(CopyScreen(values), chosen)

    def copy_text(self, text: str, what: str) -> None:
        """OSC 52 (Textual's copy_to_clipboard), and the same text in a file for terminals without OSC 52."""
        from trtscope.views.tui import app as single_app  # (looked up at call time: tests redirect the file)

        self.copy_to_clipboard(text)
        self.last_copy = text
        where = single_app.clipboard_file()
        try:
            atomic_write(where, text + "\n")
            also = f"; also in {where}"
        except (TrtscopeError, OSError):
            also = ""
        shown = text if len(text) <= 60 else text[:59] + "…"
        self.notify(f"copied {what}: {shown} (OSC 52{also})", markup=False)

    def action_help(self) -> None:
        from trtscope.views.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        self.push_screen(HelpScreen(self.screen))

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"
