"""Cell formatters for FrameTable columns (lazy: called only for the rows on screen)."""

from __future__ import annotations

import math
from typing import Any

from trtscope.presentation.diff_labels import signed_ms, signed_points
from trtscope.presentation.formatting import bar, ms, node_list, pct, printable
from trtscope.views.tui.names import kernel_label

BAR_WIDTH = 12


def is_missing(v: Any) -> bool:
    """None, NaN and pandas' NA (nullable Int64 columns of capture bundles)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return True
    try:
        return bool(v != v)  # NaN-like scalars (numpy floats, NaT)
    except TypeError:  # pd.NA: its comparison is NA, whose truth value raises
        return True
    except ValueError:  # an array: a value, not a missing one
        return False


def text_cell(v: Any) -> str:
    return "" if is_missing(v) else printable(v)


def int_cell(v: Any) -> str:
    """An integer with thousands separators (every count in the UI reads the same way)."""
    return "" if is_missing(v) else f"{int(v):,}"


def ms_cell(v: Any) -> str:
    return "—" if is_missing(v) else ms(v)


def delta_ms_cell(v: Any) -> str:
    """A time difference B - A with its sign (``+0.0123``), ``—`` when unknown."""
    return "—" if is_missing(v) else signed_ms(float(v))


def delta_int_cell(v: Any) -> str:
    """A count difference with its sign; ``=`` for none."""
    return "" if is_missing(v) else (f"{int(v):+,}" if int(v) else "=")


def points_cell(v: Any) -> str:
    """A change of a share in percentage points (``+2.0 pts``)."""
    return "—" if is_missing(v) else signed_points(float(v))


def conf_cell(v: Any) -> str:
    """A match confidence (0..1), two decimals."""
    return "" if is_missing(v) else f"{float(v):.2f}"


def us_cell(v: Any) -> str:
    return "—" if is_missing(v) else f"{float(v):,.1f}"


def pct_cell(v: Any) -> str:
    return "—" if is_missing(v) else pct(v)


def share_digits(v: float) -> int:
    """Decimals that give a percentage three significant digits (one at least, four at most): 23.4%, 1.23%,
    0.123%, 0.0051%. A 20,000-layer engine's layers are mostly below 0.05%: one decimal would say 0.0% for all."""
    p = abs(100.0 * v)
    if p == 0 or p >= 10:
        return 1
    return int(min(4, max(1, 2 - math.floor(math.log10(p)))))


def share_cell(v: Any) -> str:
    """A 0..1 share as a percentage with :func:`share_digits` decimals."""
    if is_missing(v):
        return "—"
    f = float(v)
    return f"{100 * f:.{share_digits(f)}f}%"


def bar_cell(v: Any) -> str:
    return "" if is_missing(v) else bar(v, BAR_WIDTH)


def nodes_cell(v: Any) -> str:
    return node_list(v, 2)


def count_cell(v: Any) -> str:
    """A count that is 0 shows as blank, so the non-zero ones stand out."""
    return "" if is_missing(v) or int(v) == 0 else f"{int(v):,}"


def kernel_cell(v: Any) -> str:
    """A kernel name as a short label (names.kernel_label); the full name stays in the data."""
    return "" if is_missing(v) else printable(kernel_label(str(v)))


def num_cell(v: Any) -> str:
    if is_missing(v):
        return "—"
    f = float(v)
    return f"{f:,.0f}" if abs(f) >= 100 else f"{f:.1f}"


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def seconds(s: float) -> str:
    """A time span in the unit that reads best (µs, ms or s)."""
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"
