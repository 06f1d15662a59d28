"""The CI gate of ``trtscope diff``: conditions on a Diff, each either holding (the gate trips) or not.

A condition is ``NAME`` or ``NAME=VALUE``; several may be given at once separated by commas:

- ``coverage-drop=P``: fusion coverage fell by more than P percentage points (B below A);
- ``time-increase=P%``: the sum of layer times rose by more than P percent;
- ``latency-increase=P%``: the median end-to-end GPU compute time (or latency) rose by more than P percent;
- ``new-unfused[=N]``: more than N (default 0) compute nodes run unfused in B that did not in A;
- ``new-reformat[=N]``: B adds more than N (default 0) reformat layers that copy data (elided ones are free);
- ``precision-fallback[=N]``: more than N (default 0) nodes run in a wider data type in B than in A.

A condition that cannot be evaluated (a time condition without per-layer times on both sides) is an error
(exit 2), not a pass: a gate that silently cannot see is worse than none.
"""

from __future__ import annotations

from dataclasses import dataclass

from trtscope.errors import TrtscopeError
from trtscope.model.diff import DiffSummary
from trtscope.model.vocabulary import TextEnum


class Condition(TextEnum):
    COVERAGE_DROP = "coverage-drop"
    TIME_INCREASE = "time-increase"
    LATENCY_INCREASE = "latency-increase"
    NEW_UNFUSED = "new-unfused"
    NEW_REFORMAT = "new-reformat"
    PRECISION_FALLBACK = "precision-fallback"


#: Conditions whose value is a threshold that must be given (the others count events, default 0).
_NEEDS_VALUE = frozenset({Condition.COVERAGE_DROP, Condition.TIME_INCREASE, Condition.LATENCY_INCREASE})
_PERCENT = frozenset({Condition.TIME_INCREASE, Condition.LATENCY_INCREASE})


class GateError(TrtscopeError):
    """A malformed condition, or one the inputs cannot answer (exit 2)."""


@dataclass(frozen=True)
class FailOn:
    condition: Condition
    threshold: float
    text: str  # as the user wrote it


@dataclass(frozen=True)
class Violation:
    condition: Condition
    text: str  # the condition as given
    observed: float
    threshold: float
    message: str


def parse_fail_on(spec: str) -> list[FailOn]:
    """``"coverage-drop=2,new-unfused"`` -> conditions; GateError on anything malformed."""
    out = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        name, _, value = part.partition("=")
        name = name.strip().lower()
        try:
            cond = Condition(name)
        except ValueError:
            raise GateError(f"--fail-on {part!r}: unknown condition (one of {', '.join(Condition.values())})") \
                from None
        value = value.strip()
        if not value:
            if cond in _NEEDS_VALUE:
                example = "5%" if cond in _PERCENT else "2"
                raise GateError(f"--fail-on {part!r}: needs a threshold, e.g. {cond}={example}")
            out.append(FailOn(cond, 0.0, part))
            continue
        number = value[:-1] if value.endswith("%") else value
        if value.endswith("%") and cond not in _PERCENT:
            raise GateError(f"--fail-on {part!r}: a percentage applies only to "
                            f"{' / '.join(str(c) for c in sorted(_PERCENT))}")
        try:
            threshold = float(number)
        except ValueError:
            raise GateError(f"--fail-on {part!r}: {value!r} is not a number") from None
        if threshold < 0 or threshold != threshold:
            raise GateError(f"--fail-on {part!r}: the threshold must be a non-negative number")
        out.append(FailOn(cond, threshold, part))
    return out


def evaluate(s: DiffSummary, conditions: list[FailOn]) -> list[Violation]:
    """The conditions that hold (empty: the gate passes). GateError when one cannot be evaluated."""
    out = []
    for c in conditions:
        observed = _observed(s, c)
        if observed > c.threshold:
            out.append(Violation(c.condition, c.text, observed, c.threshold, _message(s, c, observed)))
    return out


def _observed(s: DiffSummary, c: FailOn) -> float:
    cond = c.condition
    if cond is Condition.COVERAGE_DROP:
        d = s.coverage_delta
        if d is None:
            missing = [x.label for x in (s.a, s.b) if x.fusion_coverage is None]
            raise GateError(f"--fail-on {c.text}: no fusion coverage for {' and '.join(missing)} "
                            "(no compute node runs in a layer)")
        return -100.0 * d
    if cond is Condition.TIME_INCREASE:
        ch = s.total_change
        if ch is None:
            missing = [x.label for x in (s.a, s.b) if x.total_ms is None] or [s.a.label]
            raise GateError(f"--fail-on {c.text}: no per-layer times for {' and '.join(missing)} "
                            "(give a profile for both sides)")
        return 100.0 * ch
    if cond is Condition.LATENCY_INCREASE:
        ch = s.e2e_change
        if ch is None:
            missing = [x.label for x in (s.a, s.b) if not x.e2e_median_ms] or [s.a.label]
            raise GateError(f"--fail-on {c.text}: no per-iteration times for {' and '.join(missing)} "
                            "(give --times for both sides)")
        return 100.0 * ch
    if cond is Condition.NEW_UNFUSED:
        return float(s.newly_unfused)
    if cond is Condition.NEW_REFORMAT:
        return float(s.reformats_new_copying)
    return float(s.precision_fallbacks)


def _message(s: DiffSummary, c: FailOn, observed: float) -> str:
    cond = c.condition
    if cond is Condition.COVERAGE_DROP:
        assert s.a.fusion_coverage is not None and s.b.fusion_coverage is not None
        return (f"fusion coverage dropped {observed:.1f} points ({100 * s.a.fusion_coverage:.1f}% -> "
                f"{100 * s.b.fusion_coverage:.1f}%), more than {c.threshold:g}")
    if cond is Condition.TIME_INCREASE:
        return (f"sum of layer times rose {observed:.1f}% ({s.a.total_ms:.4f} -> {s.b.total_ms:.4f} ms), "
                f"more than {c.threshold:g}%")
    if cond is Condition.LATENCY_INCREASE:
        return (f"median end-to-end time rose {observed:.1f}% ({s.a.e2e_median_ms:.4f} -> "
                f"{s.b.e2e_median_ms:.4f} ms), more than {c.threshold:g}%")
    what = {Condition.NEW_UNFUSED: "compute nodes newly unfused",
            Condition.NEW_REFORMAT: "new reformat layers that copy data",
            Condition.PRECISION_FALLBACK: "nodes fell back to a wider precision"}[cond]
    return f"{int(observed)} {what} (allowed: {c.threshold:g})"
