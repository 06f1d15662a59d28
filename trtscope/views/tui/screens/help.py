"""``?``: every key, generated from the bindings themselves (app, the screen under it, tables, search box) so
the list cannot drift from what the keys do."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from trtscope.views.tui.widgets import FrameTable

SEARCH_SYNTAX = [
    ("text", "rows whose name (or type, tactic, op type, ONNX node) contains it; several words: all must match"),
    ("kind:K", "Layers: layer kind exactly (fused, single, myelin, reformat, noop, qdq, other)"),
    ("type:T  prec:P", "Layers: TensorRT LayerType / output precision exactly (e.g. type:Reformat prec:Half)"),
    ("op:T", "Fusion: ONNX op type exactly (e.g. op:Conv)"),
    ("layer:L  range:R", "Kernels: the kernel's layer / innermost NVTX range exactly"),
    ("Enter / Escape", "in the search box: keep the filter and go to the table / clear the search"),
]


def bindings_of(*classes: type, ours: bool = False) -> list[Binding]:
    """The described Binding objects the classes (and their bases) declare, subclass first, one per key;
    ``ours``: only those declared by trtscope's own classes (not Textual's base classes)."""
    seen: set[str] = set()
    out: list[Binding] = []
    for cls in classes:
        for klass in cls.__mro__:
            if ours and not klass.__module__.startswith("trtscope."):
                continue
            for b in klass.__dict__.get("BINDINGS", ()):
                if isinstance(b, Binding) and b.description and b.key not in seen:
                    seen.add(b.key)
                    out.append(b)
    return out


def key_rows(app: Any, bindings: Iterable[Binding]) -> list[tuple[str, str]]:
    rows = []
    for b in bindings:
        keys = " / ".join(app.get_key_display(Binding(k, b.action)) for k in b.key.split(","))
        rows.append((keys, b.description or b.action))
    return rows


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close help", show=True),
        Binding("question_mark", "close", "Close help", show=False),
    ]

    def __init__(self, under: Screen[Any]) -> None:
        super().__init__()
        self.under = under

    def sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        app = self.app
        out = [("Everywhere", [*key_rows(app, bindings_of(type(app), Screen)),
                               ("Ctrl+P", "command palette: every action of this screen, searchable")])]
        screen_rows = key_rows(app, bindings_of(type(self.under), ours=True))
        if screen_rows:
            out.append((f"This screen ({type(self.under).__name__.removesuffix('Screen')})", screen_rows))
        if self.under.query(FrameTable):
            out.append(("Tables", [*key_rows(app, bindings_of(FrameTable)),
                                   ("click header", "sort by that column (again: reverse)"),
                                   ("Tab / Shift+Tab", "next / previous table or panel"),
                                   ("(line below)", "the full name of the row under the cursor")]))
        out.append(("Search (/)", getattr(self.under, "SEARCH_SYNTAX", SEARCH_SYNTAX)))
        return out

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for title, rows in self.sections():
            table.add_row(Text(title, style="bold underline"), "")
            for k, what in rows:
                table.add_row(Text(k), Text(what))
            table.add_row("", "")
        with VerticalScroll(id="help"):
            yield Static("trtscope keys (Escape or ? closes)", classes="section-title", markup=False)
            yield Static(table, id="help-keys")

    def on_mount(self) -> None:
        self.query_one("#help").focus()

    def action_close(self) -> None:
        self.dismiss()
