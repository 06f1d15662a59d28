"""``trtscope lint``: findings that explain why a node did not fuse or run fast, with evidence and advice.

    from trtscope.analysis.lint import lint, findings_for
    result = lint(analysis, select=["Q", "R001"])   # LintResult: findings worst first, skipped rules
    result.table()                                  # one row per finding (docs/data-model.md: lint_findings)
    findings_for(analysis)                          # one row per finding x layer / node (lint_targets)

Rules live in the ``rules_*`` modules of this package, one function each, registered with an id, a severity,
a one-line title and what they need; docs/lint/<ID>.md documents each with an example from a real engine.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from trtscope.analysis.lint import (  # noqa: F401 - importing a rule module registers its rules
    rules_fusion,
    rules_launch,
    rules_precision,
    rules_qdq,
    rules_reformat,
    rules_tensorcore,
    rules_trust,
)
from trtscope.analysis.lint.base import RANK, RULES, Evidence, Finding, Need, Rule
from trtscope.analysis.lint.runner import LintResult, resolve, run_rules
from trtscope.analysis.session import Analysis
from trtscope.model.vocabulary import Severity


def lint(a: Analysis, select: Sequence[str] | None = None, ignore: Sequence[str] | None = None) -> LintResult:
    """Run the selected rules (default: all) over one analysis; findings worst first."""
    return run_rules(a, resolve(select, ignore))


def findings_for(a: Analysis) -> pd.DataFrame:
    """Every rule's findings as LINT_TARGETS rows (``finding, rule, severity, title, layer_index, node, ms``): one
    row per finding and each layer or ONNX node it concerns, worst first. For views that mark layers or nodes:
    ``f[f.layer_index == i]`` are layer ``i``'s findings, the first row its worst."""
    return lint(a).targets()


__all__ = ["RANK", "RULES", "Evidence", "Finding", "LintResult", "Need", "Rule", "Severity", "findings_for", "lint"]
