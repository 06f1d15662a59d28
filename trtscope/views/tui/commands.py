"""The command palette (Ctrl+P): every action of the app, generated from the key bindings themselves (the
App's, then the screen's and its focused widget's, as they are active where the palette was opened), plus a
"Go to" entry per screen. Nothing to keep in sync by hand: a new binding is a new command."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from trtscope.views.tui.widgets.nav import SCREENS


class TrtscopeCommands(Provider):
    def entries(self) -> Iterator[tuple[str, str, Callable[[], Any]]]:
        """(name, help, callback) of every command available on the screen the palette was opened from."""
        app: Any = self.app
        available: set[str] = getattr(app, "available_modes", set())
        screens = getattr(app, "NAV", SCREENS)  # the diff view has screens of its own
        for key, mode, label in screens:
            if mode in available:
                yield f"Go to {label}", f"screen {key}", partial(app.run_action, f"show('{mode}')")
        seen = {f"show('{m}')" for _, m, _ in screens}
        for active in self.screen.active_bindings.values():
            b = active.binding
            if not b.description or b.action in seen or not active.enabled:
                continue
            seen.add(b.action)
            yield b.description, f"key {app.get_key_display(b)}", partial(app.run_action, b.action, active.node)

    async def discover(self) -> Hits:
        for name, help_text, callback in self.entries():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self.entries():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
