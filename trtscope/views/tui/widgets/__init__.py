"""Widgets of the TUI: the virtualised FrameTable, the navigation bar, the search box, key/value panels."""

from trtscope.views.tui.widgets.frame_table import Column, FrameTable
from trtscope.views.tui.widgets.kv import KeyValues, kv_table
from trtscope.views.tui.widgets.nav import NavBar
from trtscope.views.tui.widgets.search import SearchBox

__all__ = ["Column", "FrameTable", "KeyValues", "NavBar", "SearchBox", "kv_table"]
