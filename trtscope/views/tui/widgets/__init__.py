"""Widgets of the TUI: the virtualised FrameTable, the navigation bar, the search box, key/value panels.

Imported on first use (PEP 562): the loading Overview's widgets do not need pandas, which the FrameTable
imports, so the first frame is drawn before it is imported."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trtscope.views.tui.widgets.frame_table import Column, FrameTable
    from trtscope.views.tui.widgets.kv import KeyValues, kv_table
    from trtscope.views.tui.widgets.nav import NavBar
    from trtscope.views.tui.widgets.search import SearchBox

_WHERE = {"Column": "frame_table", "FrameTable": "frame_table", "KeyValues": "kv", "kv_table": "kv",
          "NavBar": "nav", "SearchBox": "search"}

__all__ = ["Column", "FrameTable", "KeyValues", "NavBar", "SearchBox", "kv_table"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
