"""Lint: `trtscope lint`'s findings (why a node did not fuse or run fast), worst first — severity, rule, title,
the layers and ONNX nodes concerned, time and share. The rules run once, in a worker, the first time this
screen (or a layer detail) needs them; ``/`` searches rule ids, titles, layer and node names; Enter opens the
finding's first layer, whose detail lists every finding on it with evidence and advice."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from textual.widget import Widget

from trtscope.views.tui import data
from trtscope.views.tui.columns import LINT_COLUMNS
from trtscope.views.tui.messages import OpenLayer
from trtscope.views.tui.screens.search import SearchScreen, StatusBar
from trtscope.views.tui.widgets import FrameTable, SearchBox


class LintScreen(SearchScreen):
    MODE = "lint"
    frame: pd.DataFrame | None = None
    _hay: pd.Series | None = None

    def body(self) -> Iterable[Widget]:
        yield SearchBox("rule, title, layer or ONNX node…  Q003  residual  Conv_34")
        yield StatusBar(id="status", markup=False)
        empty = pd.DataFrame({c.key: pd.Series([], dtype=object) for c in LINT_COLUMNS})
        yield FrameTable(LINT_COLUMNS, empty, export_name="lint-findings", id="main-table",
                         roles={"name": "layer_name", "node": "onnx_nodes"}, empty_text="no finding matches")

    def on_mount(self) -> None:
        self.table.focus()
        if data.lint_ready(self.analysis):
            self.show_findings()
        else:
            self.refresh_status()
            self.run_worker(self._run_rules, thread=True, exclusive=True, group="lint")

    def _run_rules(self) -> None:
        data.lint_result(self.analysis)
        self.app.call_from_thread(self.show_findings)

    def show_findings(self) -> None:
        self.frame = data.lint_frame(self.analysis)
        self._hay = None
        self.table.set_frame(self.frame)
        self.apply_filter()

    def apply_filter(self) -> None:
        if self.frame is None:
            return
        mask = None
        if self.query_text.strip():
            if self._hay is None:
                self._hay = data.lint_haystack(self.frame)
            mask = data.search_mask(self.query_text, self._hay, {"rule": self.frame["rule"],
                                                                 "sev": self.frame["severity"]})
        self.table.filter(mask)
        self.refresh_status()

    def status_facts(self, table: FrameTable) -> list[str]:
        if self.frame is None:
            return ["running the lint rules…"]
        res = data.lint_result(self.analysis)
        counts = ", ".join(f"{res.count(s):,} {s.value}{'s' if res.count(s) != 1 else ''}"
                           for s in sorted({f.severity for f in res.findings}, key=lambda s: s.value))
        return [f"{len(res.findings):,} findings ({counts or 'none'}); {len(res.ran)} rules ran, "
                f"{len(res.skipped)} skipped (the input lacks what they need)"]

    def on_frame_table_selected(self, event: FrameTable.Selected) -> None:
        if self.frame is None:
            return
        index = int(np.asarray(self.frame["first_layer"])[event.position])
        if index >= 0:
            self.post_message(OpenLayer(index))
        else:
            self.notify("this finding concerns no single layer", markup=False)
