"""Timing statistics and per-layer aggregation, checked against hand-computed values."""

from __future__ import annotations

import pytest

from trtscope.capture import stats
from trtscope.capture.backend import LaunchTiming


def test_latency_summary() -> None:
    s = stats.latency_summary([4.0, 1.0, 3.0, 2.0, None])  # type: ignore[list-item]
    assert s["count"] == 4 and s["min"] == 1.0 and s["max"] == 4.0
    assert s["mean"] == 2.5 and s["median"] == 2.5
    assert s["p90"] == pytest.approx(3.7)  # linear interpolation: 1 + 0.9 * 3 positions
    assert stats.latency_summary([]) == {"count": 0}


def test_layer_tables_count_repeated_names_separately() -> None:
    launches = [
        [("a", 1.0), ("b", 2.0), ("a", 3.0)],
        [("a", 2.0), ("b", 4.0), ("a", 5.0)],
        [("a", 3.0), ("b", 9.0), ("a", 4.0)],
    ]
    samples = stats.layer_samples_table(launches)
    assert samples["occurrence"].tolist() == [0, 0, 1] * 3
    assert samples["iteration"].tolist() == [0] * 3 + [1] * 3 + [2] * 3
    t = stats.layer_times_table(samples)
    rows = {(r.name, r.occurrence): r for r in t.itertuples()}
    assert rows["a", 0].total_ms == 6.0 and rows["a", 0].median_ms == 2.0 and rows["a", 0].mean_ms == 2.0
    assert rows["a", 1].total_ms == 12.0 and rows["a", 1].median_ms == 4.0
    assert rows["b", 0].total_ms == 15.0 and rows["b", 0].median_ms == 4.0 and rows["b", 0].count == 3
    assert rows["b", 0].percentage == pytest.approx(15 / 33 * 100)
    assert t["name"].tolist() == ["a", "b", "a"]  # order of first report


def test_export_forms_match_trtexec() -> None:
    t = stats.layer_times_table(stats.layer_samples_table([[("x", 1.0)], [("x", 3.0)]]))
    doc = stats.export_profile(t, 2)
    assert doc == [{"count": 2}, {"name": "x", "timeMs": 4.0, "averageMs": 2.0, "medianMs": 2.0, "percentage": 100.0}]
    timing = LaunchTiming(enqueue_start_ns=5_000_000, enqueue_end_ns=5_100_000, end_ns=7_500_000, gpu_ms=2.25)
    (rec,) = stats.export_times([timing])
    assert rec["startEnqMs"] == 5.0 and rec["endEnqMs"] == pytest.approx(5.1)
    assert rec["computeMs"] == 2.25 and rec["latencyMs"] == 2.5 and rec["h2dMs"] == 0.0
    assert rec["endComputeMs"] == pytest.approx(7.25)
    it = stats.iterations_table([timing])
    assert it.loc[0, "latency_ms"] == 2.5 and it.loc[0, "compute_ms"] == 2.25
    assert it.loc[0, "enqueue_ms"] == pytest.approx(0.1) and it.loc[0, "h2d_ms"] is None


def test_profiling_perturbation() -> None:
    p = stats.profiling_perturbation([1.0, 1.0, 1.0], [1.5, 1.2, 1.3], 1.1)
    assert p["overhead_pct"] == pytest.approx(30.0)
    assert p["layer_sum_over_clean_pct"] == pytest.approx(10.0)
    assert "overhead_pct" not in stats.profiling_perturbation([], [1.0], None)
