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
@pytest.mark.parametrize("rule", ["anchor", "split"])
def test_totals_and_shares(folder: str, rule: str) -> None:
    prof = _raw(folder, ".profile.json")[1:]
    a = load(shared_fixture("trex", folder), attribution=rule)
    total = sum(r["averageMs"] for r in prof)
    assert a.summary.total_ms == pytest.approx(total)
    assert a.summary.op_type_attribution == rule
    assert a.layers["share"].sum() == pytest.approx(1.0)
    # the top hotspot is the slowest profiled layer
    slowest = max(prof, key=lambda r: r["averageMs"])
    assert a.hotspots.iloc[0]["name"] == slowest["name"]
    assert a.hotspots.iloc[0]["share"] == pytest.approx(slowest["averageMs"] / total)
    # per-op rows (op types plus layers without ONNX work, by kind) add up to the layer total: nothing counted
    # twice, nothing lost; the derived per-node times are the part of it spent in layers that run ONNX work
    assert a.op_hotspots["ms"].sum() == pytest.approx(total)
    assert a.op_hotspots["share"].sum() == pytest.approx(1.0)
    kind_rows = a.op_hotspots[a.op_hotspots["layer_kind"].notna()]
    assert a.onnx_nodes["derived_ms"].sum() + kind_rows["ms"].sum() == pytest.approx(total)
    # reformat time stays under [reformat layers]: the rows by kind hold every reformat layer's time
    raw_reformat = sum(r["averageMs"] for r in prof if r["name"].startswith("Reformatting CopyNode"))
    got = kind_rows.loc[kind_rows["layer_kind"] == "reformat", "ms"].sum()
    assert got == pytest.approx(raw_reformat) or got >= raw_reformat


@pytest.mark.parametrize("folder", TREX_SETS)
def test_unfused_hotspots_agree_with_unfused_time_by_op(folder: str) -> None:
    """One definition of unfused: the unfused hotspot layers, summed per op type, are the op table's unfused ms."""
    a = load(shared_fixture("trex", folder))
    u = a.unfused_hotspots
    nodes = a.onnx_nodes.set_index("name")
    assert (nodes.loc[u["onnx_node"], "status"] == "unfused").all()
    assert (nodes.loc[u["onnx_node"], "node_class"] == "compute").all()
    assert list(u["mean_ms"]) == sorted(u["mean_ms"], reverse=True)
    per_op = u.groupby("op_type")["mean_ms"].sum()
    table = a.op_hotspots[a.op_hotspots["op_type"].notna()].set_index("op_type")["unfused_ms"]
    for op, ms_ in table.items():
        assert ms_ == pytest.approx(per_op.get(op, 0.0)), op


@pytest.mark.parametrize("folder", ["a100-resnet18-qat", "mobilenet-qat"])
def test_qdq_time_is_only_the_time_of_qdq_layers(folder: str) -> None:
    """Anchor attribution: weight quantizers folded into convolutions get none of the convolutions' time, so
    Q/DQ time by op type is at most the time of the layers made only of Q/DQ nodes (read from the raw names)."""
    graph = json.loads(next(shared_fixture("trex", folder).glob("*.graph.json")).read_text())
    prof = {r["name"]: r["averageMs"] for r in _raw(folder, ".profile.json")[1:]}
    qdq_only = [x["Name"] for x in graph["Layers"]
                if all(p.startswith(("QuantizeLinear_", "DequantizeLinear_")) for p in x["Name"].split(" + "))]
    assert qdq_only
    a = load(shared_fixture("trex", folder))
    ops = a.op_hotspots.set_index("op_type", drop=False)
    qdq_ms = sum(ops.loc[op, "ms"] for op in ("QuantizeLinear", "DequantizeLinear") if op in ops.index)
    assert qdq_ms <= sum(prof[n] for n in qdq_only) + 1e-9
    # and every convolution layer's time is convolution time
    conv_layers = [x["Name"] for x in graph["Layers"] if any(p.startswith("Conv_") for p in x["Name"].split(" + "))]
    assert ops.loc["Conv", "ms"] == pytest.approx(sum(prof[n] for n in conv_layers))
    # split attribution would have given part of them to the quantizers
    split = load(shared_fixture("trex", folder), attribution="split").op_hotspots.set_index("op_type", drop=False)
    assert split.loc["QuantizeLinear", "ms"] > qdq_ms


def test_reformat_cost_matches_raw() -> None:
    folder = "a100-resnet18-fp16"
    graph = json.loads(next(shared_fixture("trex", folder).glob("*.graph.json")).read_text())
    prof = {r["name"]: r["averageMs"] for r in _raw(folder, ".profile.json")[1:]}
    names = [x["Name"] for x in graph["Layers"] if x["Name"].startswith("Reformatting CopyNode")
             or x.get("Origin") == "REFORMAT"]
    a = load(shared_fixture("trex", folder))
    ref = a.summary.reformat
    assert ref.count == len(names)
    assert ref.total_ms == pytest.approx(sum(prof[n] for n in names))
    assert ref.elided_count == sum(1 for x in graph["Layers"] if x["Name"] in names and x["LayerType"] == "NoOp")
    assert ref.copying_count + ref.elided_count == ref.count
    assert a.reformat_layers["mean_ms"].sum() == pytest.approx(ref.total_ms)


def test_end_to_end_from_times() -> None:
    folder = "mobilenet-qat"
    times = _raw(folder, ".timing.json")
    a = load(shared_fixture("trex", folder))
    e2e = a.summary.end_to_end
    assert e2e is not None and e2e.compute is not None and e2e.latency is not None
    assert e2e.iterations == len(times)
    assert e2e.compute.median_ms == pytest.approx(float(np.median([t["computeMs"] for t in times])))
    assert e2e.latency.p99_ms == pytest.approx(float(np.quantile([t["latencyMs"] for t in times], 0.99)))
    assert e2e.layer_sum_vs_compute == pytest.approx(a.summary.total_ms / e2e.compute.median_ms)
