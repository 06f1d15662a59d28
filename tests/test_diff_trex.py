"""``trtscope diff`` on the real A100 ResNet-18 engines (TREx: FP32, FP16, QAT INT8 of one model; no ONNX files).

Every expectation is computed here from the raw ``*.graph.json`` files by the test's own method: layer counts
and reformat layers from the names and LayerTypes, precisions from the output formats, and the pairing of the
20 convolutions of FP32 and QAT from the engine order of their layers, checked against each layer's kernel,
stride, output maps and tensor dimensions.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import trtscope
from tests.conftest import shared_fixture
from trtscope.analysis.diff import diff
from trtscope.cli.main import main

_REFORMAT = re.compile(r"Reformatting CopyNode for (Input|Output) Tensor (\d+) to (.+)$")
_NODE = re.compile(r"\b(Conv|MaxPool|Gemm|GlobalAveragePool|Add|Relu)_\d+\b")
_CONV = re.compile(r"\bConv_\d+\b")


def _folder(name: str) -> Path:
    return shared_fixture("trex", f"a100-resnet18-{name}")


def _raw(name: str) -> list[dict[str, Any]]:
    (f,) = _folder(name).glob("*.graph.json")
    layers: list[dict[str, Any]] = json.loads(f.read_text())["Layers"]
    return layers


def _dtype(layer: dict[str, Any]) -> str:
    fmt = layer["Outputs"][0]["Format/Datatype"]
    for token, dtype in (("FP32", "Float"), ("FP16", "Half"), ("Int8", "Int8")):
        if token in fmt:
            return dtype
    raise AssertionError(fmt)


def _raw_reformats(layers: list[dict[str, Any]]) -> Counter[tuple[str, int, str, bool]]:
    """(direction, tensor, the first ONNX node named in the target layer (else the target), copies data)."""
    out: Counter[tuple[str, int, str, bool]] = Counter()
    for lay in layers:
        m = _REFORMAT.match(lay["Name"])
        if m:
            node = _NODE.search(m.group(3))
            target = node.group(0) if node and not m.group(3).startswith("reshape_") else m.group(3)
            out[(m.group(1).lower(), int(m.group(2)), target, lay["LayerType"] != "NoOp")] += 1
    return out


def _raw_convs(layers: list[dict[str, Any]]) -> list[tuple[str, tuple[Any, ...]]]:
    """(Conv node, (kernel, stride, out maps, input dims, output dims)) of each convolution layer, engine order."""
    out = []
    for lay in layers:
        found = _CONV.findall(lay["Name"])
        if found and lay["LayerType"] == "CaskConvolution":
            (conv,) = found
            geometry = (tuple(lay["Kernel"]), tuple(lay["Stride"]), lay["OutMaps"],
                        tuple(tuple(t["Dimensions"]) for t in lay["Inputs"]), tuple(lay["Outputs"][0]["Dimensions"]))
            out.append((conv, geometry))
    return out


@pytest.fixture(scope="module")
def loaded() -> dict[str, trtscope.analysis.session.Analysis]:
    return {k: trtscope.load(_folder(k)) for k in ("fp32", "fp16", "qat")}


@pytest.mark.parametrize(("a", "b"), [("fp32", "fp16"), ("fp32", "qat"), ("fp16", "qat")])
def test_layer_counts_and_kinds(loaded: dict[str, Any], a: str, b: str) -> None:
    d = diff(loaded[a], loaded[b], a, b)
    ra, rb = _raw(a), _raw(b)
    assert (d.summary.a.layers, d.summary.b.layers) == (len(ra), len(rb))
    kinds = d.layer_kinds.set_index("kind")
    n_ref = [sum(1 for x in r if _REFORMAT.match(x["Name"])) for r in (ra, rb)]
    assert (kinds.at["reformat", "layers_a"], kinds.at["reformat", "layers_b"]) == tuple(n_ref)
    # Q/DQ layers: TensorRT 8 names a quantize layer after its QuantizeLinear node alone
    n_q = [sum(1 for x in r if re.fullmatch(r"QuantizeLinear_\d+", x["Name"])) for r in (ra, rb)]
    got_q = tuple(int(kinds.at["qdq", c]) if "qdq" in kinds.index else 0 for c in ("layers_a", "layers_b"))
    assert got_q == tuple(n_q)
    assert int(d.layer_kinds[d.layer_kinds["kind"] != "myelin"]["delta"].sum()) == len(rb) - len(ra)


def test_reformats_added_and_removed_fp32_fp16(loaded: dict[str, Any]) -> None:
    d = diff(loaded["fp32"], loaded["fp16"], "fp32", "fp16")
    ra, rb = _raw_reformats(_raw("fp32")), _raw_reformats(_raw("fp16"))
    ca: Counter[tuple[str, int, str]] = Counter()
    cb: Counter[tuple[str, int, str]] = Counter()
    for k, v in ra.items():
        ca[k[:3]] += v
    for k, v in rb.items():
        cb[k[:3]] += v
    added, removed = cb - ca, ca - cb
    assert added and removed, "FP16 adds and drops reformats"
    got_added: Counter[tuple[str, int, str]] = Counter()
    got_removed: Counter[tuple[str, int, str]] = Counter()
    for r in d.reformats.itertuples(index=False):
        key = (r.direction, int(r.tensor), r.serves)
        if r.layers_b > r.layers_a:
            got_added[key] += r.layers_b - r.layers_a
        if r.layers_a > r.layers_b:
            got_removed[key] += r.layers_a - r.layers_b
    assert got_added == added and got_removed == removed
    assert d.summary.reformats_new == sum(added.values())
    assert d.summary.reformats_vanished == sum(removed.values())
    # copying reformats (not NoOp-typed): what the gate counts
    copy_a: Counter[tuple[str, int, str]] = Counter()
    copy_b: Counter[tuple[str, int, str]] = Counter()
    for src, dst in ((ra, copy_a), (rb, copy_b)):
        for k, v in src.items():
            if k[3]:
                dst[k[:3]] += v
    assert d.summary.reformats_new_copying == sum((copy_b - copy_a).values())


def test_precision_changes_fp32_fp16(loaded: dict[str, Any]) -> None:
    """Same names on both sides: every node of a layer that exists in both, with the layer's output type."""
    d = diff(loaded["fp32"], loaded["fp16"], "fp32", "fp16")
    la = {x["Name"]: x for x in _raw("fp32") if not _REFORMAT.match(x["Name"]) and x["LayerType"] != "NoOp"}
    lb = {x["Name"]: x for x in _raw("fp16") if not _REFORMAT.match(x["Name"]) and x["LayerType"] != "NoOp"}
    expected = {}
    for name in la.keys() & lb.keys():
        for node in (m.group(0) for m in _NODE.finditer(name)):
            expected[node] = (_dtype(la[name]), _dtype(lb[name]))
    assert expected, "the two engines share layer names"
    got = d.nodes.set_index("node_a")
    for node, (pa, pb) in expected.items():
        assert (got.at[node, "precision_a"], got.at[node, "precision_b"]) == (pa, pb), node
        assert bool(got.at[node, "precision_changed"]) == (pa != pb)
    assert d.summary.precision_changes == int(d.nodes["precision_changed"].sum())
    assert d.summary.match.exact == d.summary.match.matched == len(d.nodes)


def test_twenty_convolutions_fp32_qat_one_to_one(loaded: dict[str, Any]) -> None:
    ca, cb = _raw_convs(_raw("fp32")), _raw_convs(_raw("qat"))
    assert len(ca) == len(cb) == 20
    # the expected pairing: engine order, confirmed by identical geometry pair by pair
    assert [g for _, g in ca] == [g for _, g in cb]
    expected = {a: b for (a, _), (b, _) in zip(ca, cb, strict=True)}
    assert all(a != b for a, b in expected.items()), "the node names differ"
    d = diff(loaded["fp32"], loaded["qat"], "fp32", "qat")
    conv = d.nodes[(d.nodes["op_type"] == "Conv") & (d.nodes["presence"] == "matched")]
    assert dict(zip(conv["node_a"], conv["node_b"], strict=True)) == expected
    assert (conv["match"] == "structural").all()
    assert conv["confidence"].between(0.5, 1.0).all()
    assert not d.summary.match.names_shared
    # precisions of the paired convolutions, from their layers' output formats
    dt_a = {c: _dtype(x) for x in _raw("fp32") for c in _CONV.findall(x["Name"]) if x["LayerType"] != "NoOp"}
    dt_b = {c: _dtype(x) for x in _raw("qat") for c in _CONV.findall(x["Name"]) if x["LayerType"] != "NoOp"}
    for r in conv.itertuples(index=False):
        assert (r.precision_a, r.precision_b) == (dt_a[r.node_a], dt_b[r.node_b])
        assert r.precision_changed == (dt_a[r.node_a] != dt_b[r.node_b])
    # every QAT quantize node is only in B, with the Q/DQ reason
    q = d.nodes[d.nodes["op_type"] == "QuantizeLinear"]
    assert (q["presence"] == "only_b").all() and q["reason"].str.contains("Q/DQ").all()
    n_q = sum(len(re.findall(r"\bQuantizeLinear_\d+\b", x["Name"])) for x in _raw("qat"))
    assert len(q) == len({m for x in _raw("qat") for m in re.findall(r"\bQuantizeLinear_\d+\b", x["Name"])})
    assert n_q >= len(q)


def test_nodes_partition_both_sides(loaded: dict[str, Any]) -> None:
    d = diff(loaded["fp32"], loaded["qat"], "fp32", "qat")
    n = d.nodes
    assert sorted(n["node_a"].dropna()) == sorted(loaded["fp32"].onnx_nodes["name"])
    assert sorted(n["node_b"].dropna()) == sorted(loaded["qat"].onnx_nodes["name"])
    assert d.summary.match.matched + d.summary.match.only_a == len(loaded["fp32"].onnx_nodes)
    assert d.summary.match.matched + d.summary.match.only_b == len(loaded["qat"].onnx_nodes)
    assert (n.loc[n["presence"] != "matched", "reason"] != "").all()


@pytest.mark.parametrize("name", ["qat"])
def test_same_input_twice_is_no_change(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    folder = str(_folder(name))
    rc = main(["diff", folder, folder, "--json", "--fail-on", "coverage-drop=0,time-increase=0%,new-unfused,"
               "new-reformat,precision-fallback"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0
    s = doc["summary"]
    assert s["no_change"] and s["nodes_only_a"] == s["nodes_only_b"] == 0
    assert s["fusion_changes"] == s["precision_changes"] == 0 and s["total_ms_a"] == s["total_ms_b"]
    assert s["nodes_matched"] == s["nodes_exact"] == len(trtscope.load(folder).onnx_nodes)
    assert doc["changes"] == [] and doc["gate"]["passed"]
    assert main(["diff", folder, folder]) == 0
    assert "No change" in capsys.readouterr().out


def test_json_layer_index_is_the_raw_layer_position(capsys: pytest.CaptureFixture[str]) -> None:
    """``nodes[].a/b.layer_index`` is an integer (or null) naming the layer at that position of each side's raw
    layer list, also on a comparison with only-in-B nodes (a column holding missing values)."""
    assert main(["diff", str(_folder("fp16")), str(_folder("qat")), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    raw = {"a": [lay["Name"] for lay in _raw("fp16")], "b": [lay["Name"] for lay in _raw("qat")]}
    assert any(n["presence"] == "only_b" for n in doc["nodes"])
    checked = 0
    for n in doc["nodes"]:
        for side in ("a", "b"):
            idx, layer = n[side]["layer_index"], n[side]["layer"]
            if layer is None:
                assert idx is None
                continue
            assert type(idx) is int, (side, n[side])
            assert raw[side][idx] == layer
            checked += 1
    assert checked > 0


def test_a_side_without_profile_has_unknown_time_changes(capsys: pytest.CaptureFixture[str]) -> None:
    """A = the TensorRT-RTX ResNet-18 build (no per-layer times: fixtures/rtx-h200-resnet18-fp16/SOURCE.md, its
    20 Conv nodes), B = the A100 FP16 engine (profiled). A's time per op type is unknown, so no op type may show
    a time change (A's missing times were taken as 0: Conv "+0.85 ms"); a kind of layer A does not have costs A
    nothing (B's reformat time, from the raw profile, is the change). The console diff used to stop with an
    internal error on a reformat group with a direction and no tensor position."""
    from tests.conftest import own_fixture

    rtx = own_fixture("rtx-h200-resnet18-fp16")
    profile = json.loads(next(_folder("fp16").glob("*.profile.json")).read_text())
    reformat_ms = sum(e["averageMs"] for e in profile
                      if isinstance(e, dict) and str(e.get("name", "")).startswith("Reformatting CopyNode"))
    assert main(["diff", str(rtx), str(_folder("fp16"))]) == 0
    assert "Layers without ONNX work" in capsys.readouterr().out
    d = diff(trtscope.load(rtx), trtscope.load(_folder("fp16")))
    ops = d.op_types
    assert ops["ms_a"].isna().all() and ops["delta_ms"].isna().all() and ops["delta_share"].isna().all()
    assert int(ops.loc[ops["op_type"] == "Conv", "nodes_a"].iloc[0]) == 20
    kinds = d.layer_kinds.set_index("kind")
    assert kinds.loc["reformat", "layers_a"] == 0 and kinds.loc["reformat", "ms_a"] == 0.0
    assert kinds.loc["reformat", "delta_ms"] == pytest.approx(reformat_ms, abs=1e-9)
    assert np.isnan(kinds.loc["fused", "delta_ms"])  # A has fused layers, untimed
    g = d.inserted
    assert g.loc[g["layers_a"] > 0, "delta_ms"].isna().all()
    new = g[(g["layers_a"] == 0) & (g["kind"] == "reformat")]
    assert len(new) and (new["delta_ms"] == new["ms_b"]).all()
    assert g["tensor"].isna().any() and g["direction"].notna().any()  # the rows the console failed on


@pytest.mark.parametrize("order", ["engine_first", "capture_first"])
def test_a_side_without_layers_is_compared_not_crashed(loaded: dict[str, Any], order: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """The H100 torch capture has kernels and no layer information, so no ONNX nodes: against an engine every
    node of the engine is only on its side (the comparison stopped with an IndexError, exit 3). The engine's
    node names: every ONNX node its raw layer names reference."""
    from tests.conftest import own_fixture

    capture = own_fixture("h100-torch-capture.trtscope")
    engine = _folder("fp16")
    named = {m.group(0) for x in _raw("fp16") for m in _NODE.finditer(x["Name"])}
    a, b = (engine, capture) if order == "engine_first" else (capture, engine)
    assert main(["diff", str(a), str(b), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    side = "node_a" if order == "engine_first" else "node_b"
    only = "only_a" if order == "engine_first" else "only_b"
    assert {n[side] for n in doc["nodes"]} == named
    assert doc["summary"]["nodes_matched"] == 0 and doc["summary"][f"nodes_{only}"] == len(named)
    assert main(["diff", str(a), str(b)]) == 0
