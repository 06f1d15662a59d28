"""Benchmark: kernel -> innermost NVTX range mapping at TensorRT scale.

Builds 1,000,000 kernels and 2,000,000 nested NVTX ranges (iteration ranges holding per-layer ranges, every
third layer holding a library range, two host threads whose iterations overlap in time), times
:func:`trtscope.analysis.kernel_ranges.assign_ranges` (nesting included: the ranges carry no parent_id), and
compares it with a plain ``np.searchsorted`` of the same kernels into the same sorted range starts, measured in
the same run. Target: <= 3 s on 2 cores.

    python benchmarks/bench_kernel_mapping.py [--kernels N] [--ranges N] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trtscope.analysis.kernel_ranges import assign_ranges

TARGET_S = 3.0
LAYERS_PER_ITER = 150  # + 1 iteration range + 50 library ranges = 201 ranges per iteration
LIB_EVERY = 3


def build(n_kernels: int, n_ranges: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """(kernels, ranges, expected range id per kernel) — the expectation follows from the construction."""
    rng = np.random.default_rng(seed)
    per_iter = 1 + LAYERS_PER_ITER + LAYERS_PER_ITER // LIB_EVERY
    iters = max(1, n_ranges // per_iter)
    layer_ns, gap_ns = 1_000, 100
    iter_len = LAYERS_PER_ITER * (layer_ns + gap_ns) + gap_ns
    it = np.arange(iters, dtype=np.int64)
    tid = (it % 2).astype(np.int64)
    # two threads: iteration k of thread 1 overlaps iteration k-1 of thread 0 in time
    it_start = (it // 2) * (iter_len + 500) + tid * (iter_len // 2) - 10_000_000_000  # negative clock start
    lay = np.arange(LAYERS_PER_ITER, dtype=np.int64)
    l_start = it_start[:, None] + gap_ns + lay[None, :] * (layer_ns + gap_ns)
    l_end = l_start + layer_ns
    lib_idx = lay[lay % LIB_EVERY == 0]
    b_start = l_start[:, lib_idx] + 200
    b_end = b_start + 500

    n_it, n_l, n_b = iters, iters * LAYERS_PER_ITER, iters * len(lib_idx)
    ids = np.arange(n_it + n_l + n_b, dtype=np.int64)
    ranges = pd.DataFrame(
        {
            "range_id": ids,
            "name": np.concatenate(
                [
                    np.full(n_it, "iteration", dtype=object),
                    np.array([f"layer {i}" for i in range(LAYERS_PER_ITER)], dtype=object)[
                        np.tile(lay, iters)
                    ],
                    np.full(n_b, "cublasLtMatmul", dtype=object),
                ]
            ),
            "domain": "",
            "start_ns": np.concatenate([it_start, l_start.ravel(), b_start.ravel()]),
            "end_ns": np.concatenate([it_start + iter_len, l_end.ravel(), b_end.ravel()]),
            "pid": 4242,
            "tid": np.concatenate([tid, np.repeat(tid, LAYERS_PER_ITER), np.repeat(tid, len(lib_idx))]),
        }
    )
    ranges = ranges.sample(frac=1.0, random_state=seed).reset_index(drop=True)  # input order is arbitrary

    # kernels: launches inside layers (some inside library ranges) and a few in the gaps between layers
    it_k = rng.integers(0, iters, n_kernels)
    layer_k = rng.integers(0, LAYERS_PER_ITER, n_kernels)
    offset = rng.integers(0, layer_ns + gap_ns - 10, n_kernels)
    api_start = it_start[it_k] + gap_ns + layer_k * (layer_ns + gap_ns) + offset
    api_end = api_start + 5
    in_layer = offset + 5 <= layer_ns
    in_lib = in_layer & (layer_k % LIB_EVERY == 0) & (offset >= 200) & (offset + 5 <= 700)
    layer_id = n_it + it_k * LAYERS_PER_ITER + layer_k
    lib_id = n_it + n_l + it_k * len(lib_idx) + layer_k // LIB_EVERY
    expected = np.where(in_lib, lib_id, np.where(in_layer, layer_id, it_k))
    # a gap launch that straddles the next layer's start still belongs to the iteration only
    kernels = pd.DataFrame(
        {
            "start_ns": api_start + 3_000,
            "end_ns": api_start + 4_000,
            "pid": 4242,
            "tid": tid[it_k],
            "api_start_ns": api_start,
            "api_end_ns": api_end,
            "graph_node_id": pd.array([None] * n_kernels, dtype="Int64"),
        }
    )
    return kernels, ranges, expected


def baseline(kernels: pd.DataFrame, ranges: pd.DataFrame) -> float:
    """One sort of the range starts + one ``np.searchsorted`` of every kernel: the floor of any approach."""
    t = time.perf_counter()
    starts = np.sort(ranges["start_ns"].to_numpy())
    np.searchsorted(starts, kernels["api_start_ns"].to_numpy(), "right")
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernels", type=int, default=1_000_000)
    ap.add_argument("--ranges", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    t = time.perf_counter()
    kernels, ranges, expected = build(args.kernels, args.ranges)
    print(f"built {len(kernels):,} kernels and {len(ranges):,} ranges in {time.perf_counter() - t:.2f} s")
    best, base = float("inf"), float("inf")
    out = None
    for _ in range(args.repeat):
        base = min(base, baseline(kernels, ranges))
        t = time.perf_counter()
        out = assign_ranges(kernels, ranges)
        best = min(best, time.perf_counter() - t)
    assert out is not None
    got = out["nvtx_range_id"].to_numpy(dtype=np.int64, na_value=-1)
    wrong = int((got != expected).sum())
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"assign_ranges: {best:.2f} s (best of {args.repeat}) on {cores} cores; target <= {TARGET_S:.1f} s")
    print(f"baseline np.searchsorted: {base:.3f} s; ratio {best / base:.1f}x")
    print(f"wrong attributions: {wrong:,} of {len(kernels):,}")
    return 0 if wrong == 0 and best <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
