"""What the diff view's screens share: the navigation bar of the diff view, its search syntax, the Diff from
the app (through the ``DiffHost`` protocol, never the app class), and one table screen pattern (a searchable
FrameTable over a view-model frame, Enter handled per screen)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar, cast

import numpy as np
import pandas as pd
from textual.widget import Widget

from trtscope.analysis.diff import Diff
from trtscope.views.tui import data
from trtscope.views.tui.host import DiffHost
from trtscope.views.tui.messages import Jump
from trtscope.views.tui.screens.base import BaseScreen
from trtscope.views.tui.screens.diff import DIFF_SCREENS
from trtscope.views.tui.screens.search import SearchScreen, StatusBar
from trtscope.views.tui.widgets import FrameTable, SearchBox
from trtscope.views.tui.widgets.frame_table import Column

SEARCH_SYNTAX = [
    ("text", "rows whose node names, op type, layers, statuses, precisions or change contain it; several words: "
             "all must match"),
    ("op:T", "Nodes: ONNX op type exactly (e.g. op:Conv)"),
    ("class:C  match:M", "Nodes: node class (compute, shape, constant, qdq) / match (exact, structural)"),
    ("basis:B  change:K", "Nodes: match basis (name, neighbour, op+shape, ...) / change kind (newly_unfused, "
                          "precision, fusion, time, only_a, ...)"),
    ("kind:K", "Inserted: layer kind exactly (reformat, qdq, noop, other)"),
    ("Enter / Escape", "in the search box: keep the filter and go to the table / clear the search"),
]


class DiffScreen(BaseScreen):
    """A screen of the diff view."""

    NAV = DIFF_SCREENS
    SEARCH_SYNTAX: ClassVar[list[tuple[str, str]]] = SEARCH_SYNTAX

    @property
    def dhost(self) -> DiffHost:
        return cast(DiffHost, self.app)

    @property
    def diff(self) -> Diff:
        return self.dhost.diff

    def side_layer(self, side: str) -> int | None:
        """The layer of side ``side`` ("a" / "b") the row under the cursor stands for (``a`` / ``b`` open that
        side there); None when there is none."""
        return None


class DiffTableScreen(DiffScreen, SearchScreen):
    """One searchable table over a view-model frame. Subclasses set the columns and build the frame; filters
    beyond the search add a reactive attribute (listed in ``FLAGS``) and extend :meth:`extra_mask`."""

    COLUMNS: ClassVar[Sequence[Column]] = ()
    EXPORT: ClassVar[Sequence[str]] = ()
    EXPORT_NAME: ClassVar[str] = "table"
    PLACEHOLDER: ClassVar[str] = "search…"
    #: search fields (``field:value``) -> frame column
    FIELDS: ClassVar[dict[str, str]] = {}
    #: the frame columns a plain search term matches
    HAY: ClassVar[tuple[str, ...]] = ("name",)
    FLAG: ClassVar[str | None] = "regression"
    ROLES: ClassVar[dict[str, str]] = {"name": "name"}
    FLAGS: ClassVar[tuple[str, ...]] = ()
    frame: pd.DataFrame
    _hay: pd.Series | None = None

    def build_frame(self) -> pd.DataFrame:
        raise NotImplementedError

    def body(self) -> Iterable[Widget]:
        yield SearchBox(self.PLACEHOLDER)
        yield StatusBar(id="status", markup=False)
        yield FrameTable(self.COLUMNS, flag=self.FLAG, export_name=self.EXPORT_NAME, export_columns=self.EXPORT,
                         id="main-table", roles=self.ROLES, empty_text="no row matches")

    def on_mount(self) -> None:
        self.frame = self.build_frame()
        self.table.set_frame(self.frame)
        self.apply_filter()
        self.table.focus()

    def haystack(self) -> pd.Series:
        if self._hay is None:  # built on the first search
            parts = [self.frame[c].astype(object).where(self.frame[c].notna(), "").astype(str) for c in self.HAY]
            hay = parts[0]
            for p in parts[1:]:
                hay = hay + "\x00" + p
            self._hay = hay.str.lower()
        return self._hay

    def extra_mask(self) -> np.ndarray | None:
        """The filters besides the search (None: none active)."""
        return None

    def apply_filter(self) -> None:
        if not hasattr(self, "frame"):
            return
        mask = None
        if self.query_text.strip():
            fields = {k: self.frame[v] for k, v in self.FIELDS.items()}
            mask = data.search_mask(self.query_text, self.haystack(), fields)
        extra = self.extra_mask()
        if extra is not None:
            mask = extra if mask is None else mask & extra
        self.table.filter(mask)
        self.refresh_status()

    def locate(self, hit: np.ndarray) -> str:
        """Put the cursor on the first row where ``hit`` (one bool per frame row) holds, clearing the filters
        that hide it; returns what had to be cleared ("" if nothing)."""
        rows = np.flatnonzero(hit)
        if not len(rows):
            return ""
        said = ""
        if not self.table.move_cursor_to(int(rows[0])):
            self.clear_filters()
            self.set_query("")
            said = "cleared the filters that hid it"
            self.table.move_cursor_to(int(rows[0]))
        self.table.focus()
        return said

    def clear_filters(self) -> None:
        """Reset the filters besides the search (subclasses with filters override)."""

    def apply_jump(self, jump: Jump) -> str:
        if jump.query is not None:
            self.clear_filters()
            self.set_query(jump.query)
            self.table.focus()
        return ""
