"""The lint vocabulary: severities, findings with their evidence, and rules.

A rule is a small function over a :class:`~trtscope.analysis.lint.context.LintContext` that yields
:class:`Finding` objects; it is registered with its id, default severity, one-line title, why it matters and
what it needs from the input (a profile, the ONNX graph, tensor descriptions...). Rules never recount a figure
the Analysis already holds (layer times, shares, kinds, statuses): they read it, and only compute new facts
(a tensor's producer, a pattern in the ONNX graph) from its tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trtscope.model.vocabulary import Severity, TextEnum

if TYPE_CHECKING:
    from trtscope.analysis.lint.context import LintContext

#: Where each rule's page lives (docs/lint/<ID>.md in the repository).
DOCS_BASE = "https://github.com/trtscope/trtscope/blob/main/docs/lint/"


#: 0 = worst; findings are listed in this order and ``--fail-on`` compares by it.
RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


class Need(TextEnum):
    """What a rule needs from the input; without it the rule is skipped (and says why)."""

    LAYERS = "layers"  # layer information (any detail)
    TENSORS = "tensors"  # per-layer tensor descriptions (detailed JSON or one-line logs)
    PROFILE = "profile"  # per-layer times
    ONNX = "onnx"  # the ONNX model (graph edges)
    TIMES = "times"  # per-iteration end-to-end times


@dataclass(frozen=True)
class Evidence:
    """One fact behind a finding: a line a person reads, and the same fact as JSON-safe data."""

    text: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """One thing a rule found: which layers and ONNX nodes, the evidence, its cost, and what to change."""

    rule: str
    severity: Severity
    title: str  # one line, specific to this finding
    layers: tuple[int, ...] = ()  # layers.index of every layer it concerns, the most relevant first
    onnx_nodes: tuple[str, ...] = ()  # the ONNX nodes to change (or that the layers run), most relevant first
    evidence: tuple[Evidence, ...] = ()
    ms: float | None = None  # time it costs or concerns (sum of the layers' mean times), None without a profile
    share: float | None = None  # ms / sum of layer times
    advice: str = ""  # what to change in the ONNX model or the build
    why: str = ""  # why it matters (the rule's, unless this finding has its own)


Check = Callable[["LintContext"], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str  # e.g. "Q002"
    name: str  # a slug, e.g. "int8-output-in-float"
    severity: Severity  # the default; a rule may lower or raise it per finding by a documented threshold
    title: str  # one line, what the rule looks for
    why: str  # why it matters
    needs: frozenset[Need]
    check: Check

    @property
    def docs(self) -> str:
        return f"{DOCS_BASE}{self.id}.md"


#: Every rule, by id, in registration order (registered by the rule modules on import).
RULES: dict[str, Rule] = {}


def rule(
    id: str, name: str, severity: Severity, title: str, why: str, needs: Iterable[Need] = (Need.LAYERS,)
) -> Callable[[Check], Check]:
    """Register ``check`` as a rule."""

    def register(check: Check) -> Check:
        if id in RULES:
            raise AssertionError(f"rule {id} registered twice")
        RULES[id] = Rule(id, name, Severity(severity), title, " ".join(why.split()), frozenset(needs), check)
        return check

    return register
