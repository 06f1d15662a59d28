"""Nodes: every ONNX node of either side (``diff.nodes``): matched pairs in A's order, then the nodes only in A,
then those only in B. ``p`` cycles matched / only in A / only in B / all, ``d`` keeps changed nodes only
(status, fused-with set, precision, or one side only; a time change alone is not one: sort by Δ ms for that),
``/`` searches names, op types, layers (``op:Conv`` exactly). Enter shows the pair: both layers side by side,
the two fused-with lists, or why a node has no counterpart."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from textual.binding import Binding, BindingType
from textual.reactive import reactive

from trtscope.views.tui import diff_data
from trtscope.views.tui.cells import is_missing
from trtscope.views.tui.columns import DIFF_NODE_COLUMNS, DIFF_NODE_EXPORT
from trtscope.views.tui.messages import Jump, OpenDetail
from trtscope.views.tui.screens.diff.base import DiffTableScreen
from trtscope.views.tui.screens.diff.detail import PairScreen
from trtscope.views.tui.widgets import FrameTable


class NodesScreen(DiffTableScreen):
    MODE = "nodes"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "cycle_presence", "Matched / only A / only B / all", show=True),
        Binding("d", "toggle_changed", "Changed only", show=True),
    ]
    COLUMNS = DIFF_NODE_COLUMNS
    EXPORT = DIFF_NODE_EXPORT
    EXPORT_NAME = "diff-nodes"
    PLACEHOLDER = "node, op type, layer…  op:Conv  class:compute  match:structural  change:newly_unfused"
    FIELDS: ClassVar[dict[str, str]] = {"op": "op_type", "class": "node_class", "match": "match", "basis": "basis",
                                        "change": "change"}
    HAY = ("node_a", "node_b", "op_type", "layer_a", "layer_b", "status_text", "prec_text", "change_label")
    FLAGS = ("presence", "changed_only")
    presence: reactive[str | None] = reactive(None, init=False)
    changed_only: reactive[bool] = reactive(False, init=False)

    def build_frame(self) -> pd.DataFrame:
        return diff_data.nodes_frame(self.diff)

    def watch_presence(self) -> None:
        self.apply_filter()

    def watch_changed_only(self) -> None:
        self.apply_filter()

    def action_cycle_presence(self) -> None:
        cycle = diff_data.PRESENCE_CYCLE
        self.presence = cycle[(cycle.index(self.presence) + 1) % len(cycle)]

    def action_toggle_changed(self) -> None:
        self.changed_only = not self.changed_only

    def extra_mask(self) -> np.ndarray | None:
        mask = diff_data.presence_mask(self.frame, self.presence)
        if self.changed_only:
            changed = self.frame["changed"].to_numpy(dtype=bool)
            mask = changed if mask is None else mask & changed
        return mask

    def clear_filters(self) -> None:
        self.presence = None
        self.changed_only = False

    def filter_chips(self) -> list[str]:
        chips = super().filter_chips()
        if self.presence is not None:
            chips.append(diff_data.PRESENCE_LABELS[self.presence] + " only" if self.presence == "matched"
                         else diff_data.PRESENCE_LABELS[self.presence])
        if self.changed_only:
            chips.append("changed only")
        return chips

    def status_facts(self, table: FrameTable) -> list[str]:
        m = self.diff.summary.match
        return [f"{m.matched:,} matched ({m.exact:,} by name, {m.structural:,} by structure), {m.only_a:,} only in A, "
                f"{m.only_b:,} only in B"]

    def apply_jump(self, jump: Jump) -> str:
        """A node named on one side (the Overview's change list), or a search (``op:Conv`` from Op types)."""
        if jump.node is not None:
            column = "node_b" if jump.side == "b" else "node_a"
            return self.locate(self.frame[column].to_numpy(dtype=object) == jump.node)
        if jump.op_type is not None:
            self.clear_filters()
            self.set_query(f"op:{jump.op_type}")
            self.table.focus()
            return ""
        return super().apply_jump(jump)

    def on_frame_table_selected(self, event: FrameTable.Selected) -> None:
        self.post_message(OpenDetail(PairScreen(self.frame.iloc[event.position])))

    def side_layer(self, side: str) -> int | None:
        pos = self.table.cursor_position
        if pos is None:
            return None
        v = self.frame[f"layer_index_{side}"].iloc[pos]
        return None if is_missing(v) else int(v)
