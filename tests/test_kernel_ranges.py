"""Kernel -> innermost NVTX range -> layer mapping (trtscope.analysis.kernel_ranges), against brute force."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trtscope.analysis.kernel_ranges import (
    BASIS_GRAPH_CAPTURE,
    BASIS_GRAPH_LEVEL,
    BASIS_GRAPH_UNRESOLVED,
    BASIS_LAUNCH,
    BASIS_NO_LAUNCH,
    LayerMatcher,
    assign_layers,
    assign_ranges,
    attribution_counts,
    nest_ranges,
)

REPO = Path(__file__).resolve().parents[1]


# --- helpers -------------------------------------------------------------------------------------------------
def ranges_frame(rows: list[tuple[int, str, int, int | None, int, int]], domain: str | None = None) -> pd.DataFrame:
    """rows: (range_id, name, start, end, pid, tid)."""
    return pd.DataFrame(
        {
            "range_id": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "domain": [domain] * len(rows),
            "start_ns": pd.array([r[2] for r in rows], dtype="Int64"),
            "end_ns": pd.array([r[3] for r in rows], dtype="Int64"),
            "pid": [r[4] for r in rows],
            "tid": [r[5] for r in rows],
        }
    )


def kernels_frame(calls: list[tuple[int, int, int, int]], **extra: list[object]) -> pd.DataFrame:
    """calls: (api_start, api_end, pid, tid) -> one kernel each."""
    df = pd.DataFrame(
        {
            "start_ns": [c[0] + 1000 for c in calls],
            "end_ns": [c[0] + 2000 for c in calls],
            "api_start_ns": pd.array([c[0] for c in calls], dtype="Int64"),
            "api_end_ns": pd.array([c[1] for c in calls], dtype="Int64"),
            "pid": pd.array([c[2] for c in calls], dtype="Int64"),
            "tid": pd.array([c[3] for c in calls], dtype="Int64"),
        }
    )
    for k, v in extra.items():
        df[k] = v
    return df


def brute_innermost(kernels: pd.DataFrame, ranges: pd.DataFrame) -> list[tuple[int, int] | None]:
    """The definition, literally: same pid+tid, start <= api_start, end >= api_end, latest start wins
    (then the shorter range). Returns the winner's (start, end) so equal twins compare equal."""
    out: list[tuple[int, int] | None] = []
    for k in kernels.itertuples():
        best = None
        for r in ranges.itertuples():
            end = float("inf") if pd.isna(r.end_ns) else r.end_ns
            if r.pid == k.pid and r.tid == k.tid and r.start_ns <= k.api_start_ns and end >= k.api_end_ns:
                key = (r.start_ns, -end)
                if best is None or key > best[0]:
                    best = (key, (r.start_ns, end))
        out.append(None if best is None else best[1])
    return out


def got_intervals(out: pd.DataFrame, ranges: pd.DataFrame) -> list[tuple[int, int] | None]:
    by_id = {r.range_id: (r.start_ns, float("inf") if pd.isna(r.end_ns) else r.end_ns) for r in ranges.itertuples()}
    return [None if pd.isna(x) else by_id[int(x)] for x in out["nvtx_range_id"]]


def random_nested(rng: np.random.Generator, threads: int = 3) -> pd.DataFrame:
    rows: list[tuple[int, str, int, int | None, int, int]] = []

    def fill(tid: int, lo: int, hi: int, depth: int) -> None:
        t = lo
        while t < hi and rng.random() < (0.98 if depth == 0 else 0.8):
            a = t + int(rng.integers(0, 4))
            b = a + int(rng.integers(0, max(2, (hi - lo) // 3)))  # zero-length ranges included
            if b > hi:
                return
            rows.append((len(rows) + 7, f"r{len(rows)}", a, b, 1, tid))
            if depth < 5:
                fill(tid, a, b, depth + 1)
            t = b + int(rng.integers(0, 3))  # adjacent siblings (end == next start) included

    for tid in range(threads):
        fill(tid, 0, 3000, 0)
    df = ranges_frame(rows)
    return df.sample(frac=1.0, random_state=int(rng.integers(0, 10**6))).reset_index(drop=True)


def random_calls(rng: np.random.Generator, n: int, tmax: int, threads: int) -> pd.DataFrame:
    s = rng.integers(-10, tmax + 10, n)
    return kernels_frame([(int(a), int(a + rng.integers(0, 8)), 1, int(rng.integers(0, threads + 1))) for a in s])


# --- innermost range -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(6))
def test_nested_ranges_match_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ranges = random_nested(rng)
    kernels = random_calls(rng, 400, 3000, 3)
    out = assign_ranges(kernels, ranges)
    assert got_intervals(out, ranges) == brute_innermost(kernels, ranges)
    assert out["nvtx_range_id"].notna().sum() > 100  # the case is not vacuous


@pytest.mark.parametrize("seed", range(4))
def test_crossing_ranges_match_brute_force(seed: int) -> None:
    """Start/end ranges and several domains need not nest; the answer must still be the latest-starting
    container."""
    rng = np.random.default_rng(100 + seed)
    m = 80
    s = rng.integers(0, 1000, m)
    rows = [(i, f"x{i}", int(a), int(a + rng.integers(0, 300)), 1, int(rng.integers(0, 2))) for i, a in enumerate(s)]
    ranges = ranges_frame(rows)
    kernels = random_calls(rng, 300, 1300, 1)
    out = assign_ranges(kernels, ranges)
    assert got_intervals(out, ranges) == brute_innermost(kernels, ranges)


def test_rank_compressed_times_give_the_same_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(11)
    ranges = random_nested(rng)
    kernels = random_calls(rng, 300, 3000, 3)
    normal = assign_ranges(kernels, ranges)["nvtx_range_id"]
    monkeypatch.setattr("trtscope.model.intervals._I64_LIMIT", 16)  # force the fallback for huge time spans
    compressed = assign_ranges(kernels, ranges)["nvtx_range_id"]
    assert normal.notna().sum() > 50
    pd.testing.assert_series_equal(normal, compressed)


def test_only_ranges_of_the_launching_thread_count() -> None:
    ranges = ranges_frame(
        [
            (1, "same tid, other pid", 0, 1000, 2, 10),
            (2, "other tid", 0, 1000, 1, 11),
            (3, "outer", 0, 1000, 1, 10),
        ]
    )
    out = assign_ranges(kernels_frame([(500, 510, 1, 10), (500, 510, 3, 99)]), ranges)
    assert out["nvtx_range"].tolist()[0] == "outer"
    assert pd.isna(out["nvtx_range"].tolist()[1])
    assert out["range_basis"].tolist() == [BASIS_LAUNCH, BASIS_LAUNCH]


def test_range_must_contain_the_whole_call() -> None:
    """A range that ends while the launch call is still running does not contain it; its parent does."""
    ranges = ranges_frame([(1, "iteration", 0, 1000, 1, 1), (2, "layer", 100, 200, 1, 1)])
    out = assign_ranges(kernels_frame([(150, 199, 1, 1), (150, 250, 1, 1), (199, 200, 1, 1)]), ranges)
    assert out["nvtx_range"].tolist() == ["layer", "iteration", "layer"]


def test_unclosed_range_is_open_ended_and_call_at_boundary() -> None:
    ranges = ranges_frame([(1, "never popped", 50, None, 1, 1), (2, "a", 100, 200, 1, 1), (3, "b", 200, 300, 1, 1)])
    out = assign_ranges(kernels_frame([(10**9, 10**9 + 5, 1, 1), (200, 200, 1, 1), (40, 45, 1, 1)]), ranges)
    # a call exactly at the boundary of two adjacent siblings belongs to the one that starts there
    assert out["nvtx_range"].tolist()[:2] == ["never popped", "b"]
    assert pd.isna(out["nvtx_range"].tolist()[2])


def test_epoch_scale_and_negative_timestamps_stay_exact() -> None:
    """CUPTI bundles use epoch ns (> 2**53): a float64 round trip would merge ranges 1 ns apart."""
    base = 1_767_225_600_123_456_789
    for t0 in (base, -20_182_384_393):
        ranges = ranges_frame([(1, "outer", t0, t0 + 10, 1, 1), (2, "inner", t0 + 3, t0 + 4, 1, 1)])
        out = assign_ranges(kernels_frame([(t0 + 3, t0 + 4, 1, 1), (t0 + 2, t0 + 4, 1, 1), (t0 + 4, t0 + 5, 1, 1)]),
                            ranges)
        assert out["nvtx_range"].tolist() == ["inner", "outer", "outer"]


def test_kernels_without_launch_record_are_marked() -> None:
    ranges = ranges_frame([(1, "r", 0, 100, 1, 1)])
    k = kernels_frame([(10, 20, 1, 1), (10, 20, 1, 1)])
    k.loc[1, "api_start_ns"] = pd.NA
    k.loc[1, "tid"] = pd.NA
    out = assign_ranges(k, ranges)
    assert out["range_basis"].tolist() == [BASIS_LAUNCH, BASIS_NO_LAUNCH]
    assert out["nvtx_range"].tolist()[0] == "r" and pd.isna(out["nvtx_range"].tolist()[1])


def test_empty_inputs() -> None:
    ranges = ranges_frame([])
    out = assign_ranges(kernels_frame([(10, 20, 1, 1)]), ranges)
    assert out["nvtx_range_id"].isna().all()
    out = assign_ranges(kernels_frame([]), ranges_frame([(1, "r", 0, 100, 1, 1)]))
    assert len(out) == 0 and "nvtx_range" in out


def test_input_frame_is_not_modified() -> None:
    k = kernels_frame([(10, 20, 1, 1)])
    before = k.copy()
    assign_ranges(k, ranges_frame([(1, "r", 0, 100, 1, 1)]))
    pd.testing.assert_frame_equal(k, before)


# --- nesting ---------------------------------------------------------------------------------------------------
def test_nest_ranges_depth_and_parent() -> None:
    ranges = ranges_frame(
        [
            (10, "iter", 0, 100, 1, 1),
            (11, "layer A", 10, 20, 1, 1),
            (12, "lib", 12, 15, 1, 1),
            (13, "layer B", 20, 30, 1, 1),  # starts where A ends: a sibling, not a child
            (14, "twin", 40, 50, 1, 1),
            (15, "twin", 40, 50, 1, 1),  # identical interval: nested under the first, deterministically
            (16, "other thread", 5, 95, 1, 2),
            (17, "crosses", 90, 150, 1, 1),  # not contained by "iter"
        ]
    ).sample(frac=1.0, random_state=3)
    out = nest_ranges(ranges).set_index("range_id")
    ids = [10, 11, 12, 13, 16, 17]
    assert out.loc[ids, "depth"].tolist() == [0, 1, 2, 1, 0, 0]
    assert [None if pd.isna(p) else int(p) for p in out.loc[ids, "parent_id"]] == [None, 10, 11, 10, None, None]
    # identical twins: one is the child of the other (which one follows input order)
    twins = out.loc[[14, 15]]
    assert sorted(twins["depth"].tolist()) == [1, 2]
    inner = twins[twins["depth"] == 2]
    outer_id = 14 if inner.index[0] == 15 else 15
    assert int(inner["parent_id"].iloc[0]) == outer_id and int(out.loc[outer_id, "parent_id"]) == 10


# --- CUDA graphs -----------------------------------------------------------------------------------------------
def graph_case() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    ranges = ranges_frame(
        [
            (1, "capture", 0, 1000, 1, 1),
            (2, "layer 2", 100, 200, 1, 1),
            (3, "layer 5", 300, 400, 1, 1),
            (4, "replay", 5000, 6000, 1, 1),
            (5, "layer 9", 5050, 5150, 1, 1),  # the graph launch call itself happens inside this range
        ]
    )
    nodes = pd.DataFrame(
        {
            # the first row is another process's node with a colliding id: node ids are per process
            "graph_node_id": pd.array([110, 10, 11, 110, 111, 210], dtype="Int64"),
            "original_graph_node_id": pd.array([None, None, None, 10, 11, 110], dtype="Int64"),
            "pid": [2, 1, 1, 1, 1, 1],
            "tid": [1, 1, 1, 1, 1, 1],
            "start_ns": [350, 150, 350, 2000, 2001, 3000],
            "end_ns": [360, 160, 360, 2005, 2006, 3005],
            "name": ["cudaLaunchKernel", "cudaLaunchKernel", "cudaLaunchKernel", "inst", "inst", "clone"],
        }
    )
    # kernels replayed by one cudaGraphLaunch at host time 5100 (inside "layer 9"), plus one orphan node
    kernels = kernels_frame(
        [(5100, 5110, 1, 1)] * 4, graph_node_id=pd.array([110, 111, 210, 77], dtype="Int64")
    )
    return kernels, ranges, nodes


def test_graph_kernels_follow_capture_provenance() -> None:
    kernels, ranges, nodes = graph_case()
    out = assign_ranges(kernels, ranges, nodes)
    # 110 -> 10 (captured in layer 2); 111 -> 11 (layer 5); 210 -> 110 -> 10 (a clone of a clone)
    assert out["nvtx_range"].tolist()[:3] == ["layer 2", "layer 5", "layer 2"]
    assert pd.isna(out["nvtx_range"].tolist()[3])  # never guessed from the cudaGraphLaunch call ("layer 9")
    assert out["range_basis"].tolist() == [BASIS_GRAPH_CAPTURE] * 3 + [BASIS_GRAPH_UNRESOLVED]


def test_graph_kernels_without_provenance_are_unattributed() -> None:
    kernels, ranges, _ = graph_case()
    out = assign_ranges(kernels, ranges)
    assert out["nvtx_range_id"].isna().all()
    assert set(out["range_basis"]) == {BASIS_GRAPH_UNRESOLVED}
    counts = attribution_counts(assign_layers(out, ["layer 2"], ranges))
    assert counts["kernels_graph_unattributed"] == 4 and counts["kernels_from_graphs"] == 4


def test_graph_level_rows_keep_their_launch_range_but_never_a_layer() -> None:
    ranges = ranges_frame([(1, "iteration 0", 0, 1000, 1, 1), (2, "conv", 100, 200, 1, 1)])
    k = kernels_frame([(150, 160, 1, 1), (150, 160, 1, 1)], graph_level=[False, True])
    out = assign_layers(assign_ranges(k, ranges), ["conv"], ranges)
    assert out["range_basis"].tolist() == [BASIS_LAUNCH, BASIS_GRAPH_LEVEL]
    assert out["layer_name"].tolist()[0] == "conv" and out["layer_name"].tolist()[1] is None
    counts = attribution_counts(out)
    assert counts["kernels"] == 1 and counts["graph_level_launches"] == 1 and counts["graph_level_gpu_ns"] == 1000


# --- layers ----------------------------------------------------------------------------------------------------
def test_layer_matcher_rules() -> None:
    m = LayerMatcher(["conv2", "conv2_bn", "Reformatting CopyNode for Input Tensor 0 to conv2", "3", "a\x1eb"])
    assert m.match("conv2") == "conv2"  # exact
    assert m.match("Reformatting CopyNode for Input Tensor 0 to conv2") == (
        "Reformatting CopyNode for Input Tensor 0 to conv2"
    )
    assert m.match('{"Name": "conv2_bn", "Inputs": [{"Name": "conv2"}]}') == "conv2_bn"  # JSON Name
    assert m.match("conv2_bn [tactic 0x1]") == "conv2_bn"  # longest prefix, not "conv2"
    assert m.match("layer=conv2_bn; inputs=2") == "conv2_bn"  # longest contained
    assert m.match("inputs=conv2; layer=conv2_bn") == "conv2_bn"  # longest, not leftmost
    assert m.match("inputs=conv2; tactic=0x3f") == "conv2"  # "3" inside a token is not the layer "3"
    assert m.match("32 [tactic]") is None and m.match("op 3, tactic 0x1") == "3"
    assert LayerMatcher(["conv2"]).match("conv2_bn [tactic]") is None  # prefix must end at a token boundary
    assert m.match("a\x1eb") == "a\x1eb"
    assert m.match("a\x1fb") is None  # bytes matter
    assert m.match("conv") is None and m.match("") is None
    assert LayerMatcher([]).match("conv2") is None


def test_innermost_range_naming_a_layer_wins() -> None:
    ranges = ranges_frame(
        [
            (1, "iteration 3", 0, 1000, 1, 1),
            (2, "conv2", 100, 400, 1, 1),
            (3, "cublasLtMatmul", 150, 200, 1, 1),
            (4, "conv2_bn", 250, 350, 1, 1),  # a layer range nested in a layer range: the inner one wins
        ]
    )
    ranges.loc[0, "domain"] = "trtscope"
    k = kernels_frame([(160, 170, 1, 1), (260, 270, 1, 1), (500, 510, 1, 1), (120, 130, 1, 1)])
    out = assign_layers(assign_ranges(k, ranges), ["conv2", "conv2_bn", "3"], ranges)
    assert out["nvtx_range"].tolist() == ["cublasLtMatmul", "conv2_bn", "iteration 3", "conv2"]
    # "iteration 3" contains the layer name "3" but is trtscope's own range: no layer
    assert out["layer_name"].tolist() == ["conv2", "conv2_bn", None, "conv2"]


def test_assign_layers_without_ranges_uses_innermost_text_and_domain() -> None:
    ranges = ranges_frame([(1, "iteration 3", 0, 1000, 1, 1), (2, "conv2 [detail]", 100, 200, 1, 1)])
    ranges.loc[0, "domain"] = "trtscope"
    mapped = assign_ranges(kernels_frame([(150, 160, 1, 1), (500, 510, 1, 1)]), ranges)
    out = assign_layers(mapped, ["conv2", "3"])
    assert out["layer_name"].tolist() == ["conv2", None]


# --- scale -----------------------------------------------------------------------------------------------------
def test_benchmark_generator_is_mapped_exactly() -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from bench_kernel_mapping import build  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    kernels, ranges, expected = build(20_000, 40_000, seed=5)
    got = assign_ranges(kernels, ranges)["nvtx_range_id"].to_numpy(dtype=np.int64, na_value=-1)
    assert (got == expected).all()


def test_mapping_is_vectorised() -> None:
    """A per-kernel Python loop over 200,000 kernels and 400,000 ranges takes far longer than this bound."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from bench_kernel_mapping import build
    finally:
        sys.path.pop(0)
    kernels, ranges, expected = build(200_000, 400_000, seed=1)
    t = time.perf_counter()
    out = assign_ranges(kernels, ranges)
    elapsed = time.perf_counter() - t
    assert (out["nvtx_range_id"].to_numpy(dtype=np.int64, na_value=-1) == expected).all()
    assert elapsed < 5.0, f"assign_ranges took {elapsed:.2f} s for 200k kernels"
