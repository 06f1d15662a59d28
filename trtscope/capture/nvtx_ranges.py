"""trtscope's own NVTX ranges (domain ``trtscope``), also recorded host-side.

Each range is emitted through the ``nvtx`` package (imported lazily; a no-op when it is absent) so Nsight
Systems and CUPTI see it, and recorded here with ``time.monotonic_ns`` so a capture without CUPTI still has
its phases and iterations on the run clock. Start/end ranges are used rather than push/pop: a report
(GH NVIDIA/NVTX#111) saw push/pop ranges vanish after TensorRT created an execution context.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd

from trtscope.model.tables import NVTX_RANGE_COLUMNS, ensure_columns, frame

DOMAIN = "trtscope"


def _load_nvtx() -> Any:
    try:
        import nvtx

        return nvtx
    except Exception:  # absent or broken: ranges are still recorded host-side
        return None


class NvtxRanges:
    """Open/close named ranges; :meth:`table` gives them as NVTX_RANGE_COLUMNS (depth/parent filled)."""

    def __init__(self, *, emit: bool = True, clock: Callable[[], int] = time.monotonic_ns) -> None:
        self._nvtx = _load_nvtx() if emit else None
        self._clock = clock
        self._lock = threading.Lock()
        self._rows: list[list[Any]] = []
        self._pid = os.getpid()

    @property
    def emitting(self) -> bool:
        """Whether ranges reach NVTX (the ``nvtx`` package is importable)."""
        return self._nvtx is not None

    def start(self, name: str) -> int:
        """Open a range; returns a token for :meth:`end`."""
        handle = None
        if self._nvtx is not None:
            handle = self._nvtx.start_range(message=name, domain=DOMAIN)
        with self._lock:
            token = len(self._rows)
            self._rows.append([token, name, DOMAIN, self._clock(), None, self._pid, threading.get_native_id(), handle])
        return token

    def end(self, token: int) -> None:
        row = self._rows[token]
        if row[4] is not None:
            return
        row[4] = self._clock()
        if self._nvtx is not None and row[7] is not None:
            self._nvtx.end_range(row[7])

    @contextlib.contextmanager
    def range(self, name: str) -> Iterator[None]:
        token = self.start(name)
        try:
            yield
        finally:
            self.end(token)

    def table(self) -> pd.DataFrame:
        """Recorded ranges; ranges still open have ``end_ns`` None."""
        from trtscope.model.intervals import nest_ranges

        with self._lock:
            rows = [(r[0], r[1], r[2], r[3], r[4], r[5], r[6], None, None) for r in self._rows]
        df = frame(rows, NVTX_RANGE_COLUMNS)
        if len(df):
            for c in ("range_id", "start_ns", "end_ns", "pid", "tid"):
                df[c] = pd.array(df[c].to_numpy(dtype=object), dtype="Int64")
            df = ensure_columns(nest_ranges(df), NVTX_RANGE_COLUMNS)
        return df
