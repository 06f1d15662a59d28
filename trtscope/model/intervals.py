"""Nesting of host-side intervals (NVTX ranges) per thread: the canonical depth / parent of a range table.

Every producer of NVTX range tables (the Nsight Systems reader, the CUPTI tracer) and every consumer that
needs containment (kernel -> range attribution, trace exports) shares this one vectorised implementation:
ranges are sorted per thread and each range's container is found with a stack-free sweep, so millions of
ranges nest in about a second.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trtscope.model.tables import ensure_columns

_I64_LIMIT = 1 << 62


# --- small column helpers ----------------------------------------------------------------------------------
IntColumn = tuple[np.ndarray, np.ndarray]  # (values, valid)


def int_column(s: pd.Series | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(int64 values with 0 for missing, validity mask) of a possibly nullable integer column.

    Never goes through float64: nanosecond timestamps on an epoch clock exceed its 53-bit mantissa.
    """
    if s is None:
        return np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    if not pd.api.types.is_integer_dtype(s.dtype):
        s = pd.Series(pd.array(s.to_numpy(dtype=object), dtype="Int64"), index=s.index)
    valid = np.asarray(s.notna(), dtype=bool)
    return s.to_numpy(dtype=np.int64, na_value=0), valid


def column(df: pd.DataFrame, name: str) -> pd.Series | None:
    return df[name] if name in df.columns else None


def thread_codes(pids: list[IntColumn], tids: list[IntColumn]) -> list[np.ndarray]:
    """Dense codes for (pid, tid) pairs shared by several tables (-1 where pid or tid is missing)."""
    sizes = [len(p[0]) for p in pids]
    pid = np.concatenate([p[0] for p in pids]) if sizes else np.zeros(0, np.int64)
    tid = np.concatenate([t[0] for t in tids]) if sizes else np.zeros(0, np.int64)
    ok = np.concatenate([p[1] & t[1] for p, t in zip(pids, tids, strict=True)]) if sizes else np.zeros(0, bool)
    if len(pid) and pid.min() >= 0 and tid.min() >= 0 and pid.max() < (1 << 31) and tid.max() < (1 << 31):
        combined = (pid << 31) | tid  # one hash pass instead of three
    else:
        pc, _ = pd.factorize(pid)
        tc, _ = pd.factorize(tid)
        combined = pc.astype(np.int64) * max(1, int(tc.max(initial=0)) + 1) + tc
    codes, _ = pd.factorize(combined)
    codes = np.where(ok, codes, -1).astype(np.int64)
    return list(np.split(codes, np.cumsum(sizes)[:-1]))


# --- the nesting forest --------------------------------------------------------------------------------------
@dataclass
class Forest:
    """Ranges sorted by (thread, start, end descending), with their containment parent.

    Times are shifted and doubled (``2 * (t - t0)``, +1 on the end of zero-length ranges) so that a range
    ending at t is a sibling of one starting at t, and a zero-length range still contains its own instant.
    """

    order: np.ndarray  # sorted position -> row of the ranges frame
    skey: np.ndarray  # thread * m + start2, ascending
    thread: np.ndarray
    end2: np.ndarray
    parent: np.ndarray  # sorted position of the parent, -1 for none
    t0: int
    m: int
    uniq: np.ndarray | None = None  # sorted distinct times when times were compressed to ranks

    def query_keys(self, qs: np.ndarray, qe: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Encode query intervals like the ranges: start <= qs <=> start2 <= qs2, end >= qe <=> end2 >= qe2."""
        if self.uniq is None:
            return 2 * (qs - self.t0), 2 * (qe - self.t0)
        qs2 = 2 * (np.searchsorted(self.uniq, qs, "right") - 1)
        return qs2, 2 * np.searchsorted(self.uniq, qe, "left")


def time_span(arrays: Iterable[np.ndarray]) -> tuple[int, int]:
    lo, hi = None, None
    for a in arrays:
        if len(a):
            amin, amax = int(a.min()), int(a.max())
            lo = amin if lo is None else min(lo, amin)
            hi = amax if hi is None else max(hi, amax)
    return (0, 0) if lo is None else (lo, hi)  # type: ignore[return-value]


def build_forest(
    thread: np.ndarray, start: np.ndarray, end: np.ndarray, end_ok: np.ndarray, t0: int, t1: int
) -> Forest:
    """Sort the ranges and find each one's parent (the latest-starting range that contains it)."""
    n = len(start)
    open_end = t1 + 1  # a range never closed (push without pop) lasts to the end of the capture
    end = np.where(end_ok, np.maximum(end, start), open_end)
    start2 = 2 * (start - t0)
    end2 = 2 * (end - t0) + (end == start)
    m = 2 * (open_end - t0) + 2
    nthreads = int(thread.max(initial=-1)) + 1
    uniq = None
    if nthreads * m >= _I64_LIMIT:  # absurd spans: compress times to ranks (slower, always fits)
        uniq = np.unique(np.concatenate([start, end]))
        start2 = 2 * np.searchsorted(uniq, start)
        end2 = 2 * np.searchsorted(uniq, end) + (end == start)
        m = 2 * len(uniq) + 2
    skey_raw = thread * m + start2
    if n > 1 and bool(np.all(skey_raw[1:] > skey_raw[:-1])):
        order = np.arange(n, dtype=np.int64)  # already sorted (the nsys reader emits this order)
    else:
        order = np.argsort(skey_raw)
    skey = skey_raw[order]
    if n > 1 and bool(np.any(skey[1:] == skey[:-1])):
        # equal starts: the longer range (the container) first, then input order
        order = np.argsort(-end2, kind="stable")
        order = order[np.argsort(skey_raw[order], kind="stable")]
        skey = skey_raw[order]
    th = skey // m
    e2 = end2[order]
    parent = _previous_container(th, e2)
    return Forest(order, skey, th, e2, parent, t0, m, uniq)


def _previous_container(th: np.ndarray, e2: np.ndarray) -> np.ndarray:
    """For rows sorted by (thread, start, end descending): the nearest earlier row of the same thread whose
    end is >= mine, i.e. the latest-starting range that contains me (-1: none).

    This is the "previous greater element", found by pointer jumping: every row starts at its predecessor and
    jumps to that row's current candidate while the candidate ends before it. Rows skipped over always end
    before the row that skipped them, so the answer is exact for any intervals (nested or crossing), and the
    candidates double their reach each round (~log2(n) rounds).
    """
    n = len(e2)
    cand = np.arange(-1, n - 1, dtype=np.int64)
    if n:
        first = np.ones(n, dtype=bool)
        first[1:] = th[1:] != th[:-1]
        cand[first] = -1
    active = (cand >= 0) & (e2[np.maximum(cand, 0)] < e2)
    while active.any():
        idx = np.nonzero(active)[0]
        nxt = cand[cand[idx]]
        cand[idx] = nxt
        active[idx] = (nxt >= 0) & (e2[np.maximum(nxt, 0)] < e2[idx])
    return cand


def _chain_depth(parent: np.ndarray) -> np.ndarray:
    """Number of ancestors of every node (pointer jumping: log(depth) vectorised rounds)."""
    d = (parent >= 0).astype(np.int64)
    a = parent.copy()
    while True:
        live = a >= 0
        if not live.any():
            return d
        nd = d.copy()
        na = a.copy()
        nd[live] = d[live] + d[a[live]]
        na[live] = a[a[live]]
        d, a = nd, na


def range_arrays(
    ranges: pd.DataFrame,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, IntColumn, IntColumn]:
    n = len(ranges)
    start, s_ok = int_column(column(ranges, "start_ns"), n)
    end, e_ok = int_column(column(ranges, "end_ns"), n)
    pid = int_column(column(ranges, "pid"), n)
    tid = int_column(column(ranges, "tid"), n)
    return start, s_ok, end, e_ok, pid, tid


def nest_ranges(ranges: pd.DataFrame) -> pd.DataFrame:
    """Fill ``depth`` (0 = outermost on its thread) and ``parent_id`` of NVTX ranges, per (pid, tid).

    The parent is the latest-starting range of the same thread that contains the range. Ranges without a
    start or thread get depth 0 and no parent.
    """
    out = ensure_columns(ranges.copy(deep=False), ("range_id", "depth", "parent_id"))
    n = len(out)
    if n == 0:
        out["depth"] = pd.array([], dtype="Int64")
        out["parent_id"] = pd.array([], dtype="Int64")
        return out
    start, s_ok, end, e_ok, pid, tid = range_arrays(out)
    (thread,) = thread_codes([pid], [tid])
    use = s_ok & (thread >= 0)
    idx = np.nonzero(use)[0]
    t0, t1 = time_span([start[idx], end[idx][e_ok[idx]]])
    forest = build_forest(thread[idx], start[idx], end[idx], e_ok[idx], t0, t1)
    ids, _ = int_column(out["range_id"], n)
    rows = idx[forest.order]
    depth = np.zeros(n, dtype=np.int64)
    depth[rows] = _chain_depth(forest.parent)
    parent_row = np.full(n, -1, dtype=np.int64)
    has = forest.parent >= 0
    parent_row[rows[has]] = rows[forest.parent[has]]
    out["depth"] = pd.array(depth, dtype="Int64")
    pid_vals = pd.array(ids[np.maximum(parent_row, 0)], dtype="Int64")
    pid_vals[parent_row < 0] = pd.NA
    out["parent_id"] = pid_vals
    return out
