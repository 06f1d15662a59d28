"""The diff view's other tables: time and fusion per ONNX op type (``diff.op_types``; Enter shows the op
type's nodes), the layers without ONNX work of their own grouped by where they sit (``diff.inserted``; changed
groups unless ``v``; Enter lists the group's layers on each side) and engine layers per kind
(``diff.layer_kinds``)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from textual.binding import Binding, BindingType
from textual.reactive import reactive

from trtscope.model.vocabulary import LayerKind
from trtscope.views.tui import diff_data
from trtscope.views.tui.columns import (
    DIFF_INSERTED_COLUMNS,
    DIFF_INSERTED_EXPORT,
    DIFF_KIND_COLUMNS,
    DIFF_KIND_EXPORT,
    DIFF_OP_COLUMNS,
    DIFF_OP_EXPORT,
)
from trtscope.views.tui.messages import Jump, JumpTo, OpenDetail
from trtscope.views.tui.screens.diff.base import DiffTableScreen
from trtscope.views.tui.screens.diff.detail import GroupScreen
from trtscope.views.tui.widgets import FrameTable

#: layer kinds that run no ONNX work of their own: what the Inserted screen groups
_NO_ONNX_WORK = frozenset({LayerKind.REFORMAT.value, LayerKind.QDQ.value, LayerKind.NOOP.value,
                           LayerKind.OTHER.value})


class OpTypesScreen(DiffTableScreen):
    MODE = "op-types"
    COLUMNS = DIFF_OP_COLUMNS
    EXPORT = DIFF_OP_EXPORT
    EXPORT_NAME = "diff-op-types"
    PLACEHOLDER = "op type…"
    HAY = ("label",)
    FLAG = None
    ROLES: ClassVar[dict[str, str]] = {"name": "label"}

    def build_frame(self) -> pd.DataFrame:
        return diff_data.op_types_frame(self.diff)

    def status_facts(self, table: FrameTable) -> list[str]:
        return [f"{table.total_count:,} op types, by |Δ ms| (derived: a fused layer's time goes to its anchor op)"]

    def on_frame_table_selected(self, event: FrameTable.Selected) -> None:
        kind = self.frame["layer_kind"].iloc[event.position]
        op = self.frame["op_type"].iloc[event.position]
        if isinstance(kind, str) and kind:
            self.post_message(JumpTo("inserted", Jump(query=f"kind:{kind}", why=f"Enter on [{kind} layers]")))
        elif isinstance(op, str):
            self.post_message(JumpTo("nodes", Jump(op_type=op)))


class InsertedScreen(DiffTableScreen):
    MODE = "inserted"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "toggle_all", "Unchanged groups too", show=True),
    ]
    COLUMNS = DIFF_INSERTED_COLUMNS
    EXPORT = DIFF_INSERTED_EXPORT
    EXPORT_NAME = "diff-inserted"
    PLACEHOLDER = "served node, kind…  kind:reformat"
    FIELDS: ClassVar[dict[str, str]] = {"kind": "kind"}
    HAY = ("serves", "serves_b", "kind_text", "where", "change_label")
    FLAGS = ("all_groups",)
    all_groups: reactive[bool] = reactive(False, init=False)

    def build_frame(self) -> pd.DataFrame:
        return diff_data.inserted_frame(self.diff)

    def watch_all_groups(self) -> None:
        self.apply_filter()

    def action_toggle_all(self) -> None:
        self.all_groups = not self.all_groups

    def extra_mask(self) -> np.ndarray | None:
        return None if self.all_groups else self.frame["changed"].to_numpy(dtype=bool)

    def clear_filters(self) -> None:
        self.all_groups = True

    def filter_chips(self) -> list[str]:
        return [*super().filter_chips(), *([] if self.all_groups else ["changed groups only (v: all)"])]

    def status_facts(self, table: FrameTable) -> list[str]:
        s = self.diff.summary
        return [f"{table.total_count:,} groups; reformat layers: {s.reformats_new:,} new "
                f"({s.reformats_new_copying:,} copying), {s.reformats_vanished:,} gone"]

    def apply_jump(self, jump: Jump) -> str:
        """A group from the change list (the node it serves, its kind), or a search (``kind:reformat``)."""
        if jump.node is not None:
            f = self.frame
            served = f["serves"].to_numpy(dtype=object)
            unnamed = f["serves"].isna().to_numpy() & (f"[{jump.op_type}]" == jump.node)  # changes' "[kind]"
            return self.locate(((served == jump.node) | unnamed) & (f["kind"].to_numpy(dtype=object) == jump.op_type)
                               & f["changed"].to_numpy(dtype=bool))
        return super().apply_jump(jump)

    def on_frame_table_selected(self, event: FrameTable.Selected) -> None:
        self.post_message(OpenDetail(GroupScreen(self.frame.iloc[event.position])))


class LayerKindsScreen(DiffTableScreen):
    MODE = "kinds"
    COLUMNS = DIFF_KIND_COLUMNS
    EXPORT = DIFF_KIND_EXPORT
    EXPORT_NAME = "diff-layer-kinds"
    PLACEHOLDER = "layer kind…"
    HAY = ("label", "kind")
    FLAG = None
    ROLES: ClassVar[dict[str, str]] = {"name": "label"}

    def build_frame(self) -> pd.DataFrame:
        return diff_data.layer_kinds_frame(self.diff)

    def status_facts(self, table: FrameTable) -> list[str]:
        s = self.diff.summary
        return [f"engine layers: A {s.a.layers:,}, B {s.b.layers:,}; the Myelin row counts layers inside Myelin "
                "regions, of any kind"]

    def on_frame_table_selected(self, event: FrameTable.Selected) -> None:
        kind = self.frame["kind"].iloc[event.position]
        if kind in _NO_ONNX_WORK:
            self.post_message(JumpTo("inserted", Jump(query=f"kind:{kind}", why=f"Enter on {kind}")))

