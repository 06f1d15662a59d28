"""What screens may read from the App that hosts them, as a Protocol: screens depend on this, not on the App
class (import-linter forbids screens and widgets to import ``views.tui.app``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from trtscope.analysis.diff import Diff
    from trtscope.analysis.diff.gate import FailOn, Violation
    from trtscope.analysis.session import Analysis


class Host(Protocol):
    analysis: Analysis
    source: str
    #: top-level screens this input has what they need for
    available_modes: set[str]

    def missing(self, mode: str) -> str:
        """Why ``mode`` is not available for this input ("" when it is)."""
        ...


class DiffHost(Protocol):
    """What the diff view's screens may read from the app that hosts them (``diff_app.DiffApp``)."""

    label_a: str
    label_b: str
    #: what each side was read from, as given on the command line
    sources: tuple[str, str]
    conditions: list[FailOn]
    violations: list[Violation]
    gate_error: str | None
    available_modes: set[str]

    @property
    def diff(self) -> Diff:
        ...

    def missing(self, mode: str) -> str:
        ...
