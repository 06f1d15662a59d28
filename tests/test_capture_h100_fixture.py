"""The real captures made on an H100 and an H200 (fixtures/h100-torch-capture.trtscope,
fixtures/h200-torch-capture.trtscope; scripts/device/torch_capture.py). The H200 one was traced through the raw
CUPTI buffer path (numpy decoding) and records the CLOCK_MONOTONIC -> CLOCK_MONOTONIC_RAW pairs.

Expected values come from how the workload was built (40 iterations x 6 named layers, one CUDA graph of one
iteration replayed 5 times, NVML at 50 Hz) and from the bundle's raw tables (API calls, NVTX ranges), never
from trtscope's own kernel attribution, which is recomputed here by brute force and compared.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import own_fixture

LAYERS = ("fc1", "relu", "fc2", "gelu", "norm", "residual")
ITERATIONS, REPLAYS = 40, 5


GPUS = {"h100-torch-capture.trtscope": "NVIDIA H100", "h200-torch-capture.trtscope": "NVIDIA H200"}


@pytest.fixture(scope="module", params=sorted(GPUS))
def bundle(request: pytest.FixtureRequest) -> Path:
    return own_fixture(request.param)


@pytest.fixture(scope="module")
def tables(bundle: Path) -> dict[str, pd.DataFrame]:
    return {
        t: pd.read_parquet(bundle / "tables" / f"{t}.parquet") for t in ("kernels", "api_calls", "nvtx_ranges", "nvml")
    }


def test_manifest_says_what_it_is(bundle: Path) -> None:
    m = json.loads((bundle / "manifest.json").read_text())
    assert m["status"] == "complete" and m["kind"] == "torch-capture"
    assert m["clock"] == {"name": "CLOCK_MONOTONIC", "unit": "ns"}
    assert any("NOT a TensorRT capture" in n for n in m["notes"])
    assert m["environment"]["gpu"].startswith(GPUS[bundle.name]) and m["environment"]["nvtx_injection"] is True
    for key, entry in m["tables"].items():
        assert len(pd.read_parquet(bundle / entry["path"])) == entry["rows"], key


def test_workload_ranges_as_built(tables: dict[str, pd.DataFrame]) -> None:
    r = tables["nvtx_ranges"]
    work = r[r["domain"] == "workload"]
    # every iteration's 6 layer ranges, plus the 6 recorded while the graph was captured
    assert len(work) == (ITERATIONS + 1) * len(LAYERS)
    assert work["name"].value_counts().to_dict() == {n: ITERATIONS + 1 for n in LAYERS}
    iters = r[(r["domain"] == "trtscope") & r["name"].str.startswith("iteration ")]
    assert sorted(iters["name"]) == sorted(f"iteration {i}" for i in range(ITERATIONS))
    assert (r["end_ns"] >= r["start_ns"]).all()


def _brute_force_ranges(k: pd.DataFrame, api: pd.DataFrame, r: pd.DataFrame) -> list[object]:
    """Kernel -> widest API record with its correlation id -> innermost range on that thread covering it."""
    calls = api.groupby("correlation_id").agg(s=("start_ns", "min"), e=("end_ns", "max"), tid=("tid", "first"))
    out: list[object] = []
    for corr in k["correlation_id"]:
        if corr not in calls.index:
            out.append(None)
            continue
        c = calls.loc[corr]
        cover = r[(r["tid"] == c["tid"]) & (r["start_ns"] <= c["s"]) & (r["end_ns"] >= c["e"])]
        out.append(None if cover.empty else int(cover.sort_values("start_ns").iloc[-1]["range_id"]))
    return out


def test_kernel_attribution_matches_brute_force(tables: dict[str, pd.DataFrame]) -> None:
    k, api, r = tables["kernels"], tables["api_calls"], tables["nvtx_ranges"]
    expected = _brute_force_ranges(k, api, r)
    stored = [None if pd.isna(x) else int(x) for x in k["nvtx_range_id"]]
    replayed = (k["graph_node_id"].fillna(0) != 0).to_list()
    for exp, got, graph in zip(expected, stored, replayed, strict=True):
        if graph:
            assert got is None  # replays were launched by cudaGraphLaunch, outside the layer ranges
        else:
            assert got == exp


def test_kernels_per_layer_as_built(tables: dict[str, pd.DataFrame]) -> None:
    k, r = tables["kernels"], tables["nvtx_ranges"]
    graph = k["graph_node_id"].fillna(0) != 0
    assert int(graph.sum()) == REPLAYS * len(LAYERS)  # one kernel per layer in this workload
    names = r.set_index("range_id")["name"]
    layer_of_range = k.loc[~graph, "nvtx_range_id"].map(names)
    counts = layer_of_range[layer_of_range.isin(LAYERS)].value_counts().to_dict()
    assert counts == {n: ITERATIONS for n in LAYERS}
    assert k.loc[k["layer_name"].notna(), "layer_name"].value_counts().to_dict() == counts


def test_layer_order_inside_each_iteration(tables: dict[str, pd.DataFrame]) -> None:
    k, r = tables["kernels"], tables["nvtx_ranges"]
    names = r.set_index("range_id")["name"]
    parents = r.set_index("range_id")["parent_id"]
    k = k[k["graph_node_id"].fillna(0) == 0].copy()
    k["layer"] = k["nvtx_range_id"].map(names)
    k["iteration"] = k["nvtx_range_id"].map(parents).map(names)
    k = k[k["layer"].isin(LAYERS)]
    for it, group in k.sort_values("start_ns").groupby("iteration"):
        assert tuple(group["layer"]) == LAYERS, it


def test_clocks_are_consistent(tables: dict[str, pd.DataFrame]) -> None:
    k, api, nvml = tables["kernels"], tables["api_calls"], tables["nvml"]
    launch = api.groupby("correlation_id")["start_ns"].min()
    # GPU execution starts after its host launch call started (GPU and host timestamps on one clock)
    assert (k["start_ns"].to_numpy() > k["correlation_id"].map(launch).to_numpy()).all()
    assert (k["end_ns"] > k["start_ns"]).all()
    # NVML ran in a helper process on CLOCK_MONOTONIC, before and after the traced phase
    assert nvml["timestamp_ns"].min() < k["start_ns"].min() and k["end_ns"].max() < nvml["timestamp_ns"].max()


def test_nvml_rate_and_busy_phase(bundle: Path, tables: dict[str, pd.DataFrame]) -> None:
    m = json.loads((bundle / "manifest.json").read_text())
    nvml, r = tables["nvml"], tables["nvtx_ranges"]
    gaps = nvml["timestamp_ns"].diff().dropna()
    assert gaps.median() == pytest.approx(1e9 / m["run"]["nvml_hz"], rel=0.1)
    busy = r[r["name"] == "busy (untraced)"].iloc[0]
    inside = nvml[(nvml["timestamp_ns"] > busy["start_ns"] + 300_000_000) & (nvml["timestamp_ns"] < busy["end_ns"])]
    before = nvml[nvml["timestamp_ns"] < r["start_ns"].min()]
    assert len(inside) > 20 and len(before) > 0
    assert inside["gpu_util_pct"].median() >= 90  # back-to-back 8192^3 matmuls
    assert inside["power_w"].median() > 2 * before["power_w"].median()


def test_bundle_reader_round_trip(bundle: Path, tables: dict[str, pd.DataFrame]) -> None:
    reader = pytest.importorskip("trtscope.bundle.reader")
    art = reader.read_bundle(bundle)
    assert len(art.kernels) == len(tables["kernels"]) and len(art.nvml) == len(tables["nvml"])
    assert len(art.nvtx_ranges) == len(tables["nvtx_ranges"])
    assert not [w for w in art.warnings if "did not finish" in w]


def test_h200_raw_clock_pairs() -> None:
    """CLOCK_MONOTONIC -> CLOCK_MONOTONIC_RAW: offset and drift follow from the two recorded pairs, and every
    timestamp of the capture lies between them."""
    b = own_fixture("h200-torch-capture.trtscope")
    m = json.loads((b / "manifest.json").read_text())
    raw = m["clock_alignment"]["monotonic_raw"]
    s, e = raw["start"], raw["stop"]
    assert raw["offset_ns"] == s["monotonic_raw_ns"] - s["monotonic_ns"]
    dm, dr = e["monotonic_ns"] - s["monotonic_ns"], e["monotonic_raw_ns"] - s["monotonic_raw_ns"]
    assert raw["drift_ppm"] == pytest.approx((dr - dm) / dm * 1e6, abs=1e-3)
    assert raw["uncertainty_ns"] == max(s["half_width_ns"], e["half_width_ns"]) < 10_000
    k = pd.read_parquet(b / "tables" / "kernels.parquet")
    nvml = pd.read_parquet(b / "tables" / "nvml.parquet")
    assert s["monotonic_ns"] < k["start_ns"].min() and k["end_ns"].max() < e["monotonic_ns"]
    assert s["monotonic_ns"] < nvml["timestamp_ns"].min()
    assert m["run"]["kernel_trace"]["decode"] == "raw" and m["run"]["kernel_trace"]["dropped"] == 0
