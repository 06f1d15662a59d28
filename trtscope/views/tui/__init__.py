"""The terminal UI (``trtscope tui``): a Textual app over an :class:`~trtscope.analysis.session.Analysis`.

Layout follows Textual's own: ``app.py`` (the App, key bindings, navigation), ``screens/`` (one module per
screen), ``widgets/`` (the virtualised table and small building blocks), ``app.tcss`` (all styling) and
``data.py`` (the pandas view-model: pure functions, no Textual, so they are tested and timed on their own).
Importing this package does not import Textual; only :func:`run` and the modules below it do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trtscope.analysis.session import Analysis


def run(analysis: Analysis, source: str = "") -> None:
    """Run the app in this terminal until the user quits."""
    from trtscope.views.tui.app import TrtscopeApp

    TrtscopeApp(analysis, source=source).run()
