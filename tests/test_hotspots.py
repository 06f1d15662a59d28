"""Hotspot rollups against the raw profiles (TREx TensorRT 8 sets with profiles and per-iteration times)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import shared_fixture
from trtscope import load

TREX_SETS = [
    "a100-resnet18-fp32", "a100-resnet18-fp16", "a100-resnet18-qat", "mobilenet-qat", "rtx3090-tf-resnet50-fp16",
]


def _raw(folder: str, suffix: str) -> list:
    return json.loads(next(shared_fixture("trex", folder).glob(f"*{suffix}")).read_text())


@pytest.mark.parametrize("folder", TREX_SETS)
def test_totals_and_shares(folder: str) -> None:
    prof = _raw(folder, ".profile.json")[1:]
    a = load(shared_fixture("trex", folder))
    total = sum(r["averageMs"] for r in prof)
    assert a.summary["total_ms"] == pytest.approx(total)
    assert a.layers["share"].sum() == pytest.approx(1.0)
    # the top hotspot is the slowest profiled layer
    slowest = max(prof, key=lambda r: r["averageMs"])
    assert a.hotspots.iloc[0]["name"] == slowest["name"]
    assert a.hotspots.iloc[0]["share"] == pytest.approx(slowest["averageMs"] / total)
    # per-node and per-op rollups add up to the layer total (nothing counted twice)
    assert a.op_hotspots["ms"].sum() == pytest.approx(total)
    mapped = a.layers[a.layers["n_onnx_nodes"] > 0]["mean_ms"].sum()
    assert a.onnx_nodes["attributed_ms"].sum() == pytest.approx(mapped)


@pytest.mark.parametrize("folder", TREX_SETS)
def test_unfused_hotspots_are_single_node_layers(folder: str) -> None:
    a = load(shared_fixture("trex", folder))
    u = a.unfused_hotspots
    assert (a.layers.set_index("index").loc[u["index"], "n_onnx_nodes"] == 1).all()
    assert list(u["mean_ms"]) == sorted(u["mean_ms"], reverse=True)


def test_reformat_cost_matches_raw() -> None:
    folder = "a100-resnet18-fp16"
    graph = json.loads(next(shared_fixture("trex", folder).glob("*.graph.json")).read_text())
    prof = {r["name"]: r["averageMs"] for r in _raw(folder, ".profile.json")[1:]}
    names = [x["Name"] for x in graph["Layers"] if x["Name"].startswith("Reformatting CopyNode")
             or x.get("Origin") == "REFORMAT"]
    a = load(shared_fixture("trex", folder))
    ref = a.summary["reformat"]
    assert ref["count"] == len(names)
    assert ref["total_ms"] == pytest.approx(sum(prof[n] for n in names))
    assert ref["elided_count"] == sum(1 for x in graph["Layers"] if x["Name"] in names and x["LayerType"] == "NoOp")


def test_end_to_end_from_times() -> None:
    folder = "mobilenet-qat"
    times = _raw(folder, ".timing.json")
    a = load(shared_fixture("trex", folder))
    e2e = a.summary["end_to_end"]
    assert e2e["iterations"] == len(times)
    assert e2e["compute"]["median_ms"] == pytest.approx(float(np.median([t["computeMs"] for t in times])))
    assert e2e["latency"]["p99_ms"] == pytest.approx(float(np.quantile([t["latencyMs"] for t in times], 0.99)))
    assert e2e["layer_sum_vs_compute"] == pytest.approx(a.summary["total_ms"] / e2e["compute"]["median_ms"])
