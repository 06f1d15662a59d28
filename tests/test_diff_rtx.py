"""``trtscope diff`` on the project's own TensorRT-RTX pairs (fixtures/rtx-h200-*: model.onnx + the verbose
build log's ``Layers:`` listing; see each SOURCE.md). Expectations come from the raw files by this test's own
method: the ``Layers:`` lines (name, LayerType, output Datatype, ``[ONNX Layer: ...]`` Metadata entries) and
the ONNX models read with the ``onnx`` package."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import onnx
import pytest

import trtscope
from tests.conftest import own_fixture
from trtscope.analysis.diff import Diff, diff
from trtscope.cli.main import main

_ENTRY = re.compile(r"\[ONNX Layer: (.*?)\]")


def _folder(name: str) -> Path:
    return own_fixture(f"rtx-h200-{name}")


def _raw_layers(name: str) -> list[dict[str, Any]]:
    """The ``Layers:`` section of the build log: name, type, first output data type, ONNX nodes."""
    out: list[dict[str, Any]] = []
    inside = False
    for line in (_folder(name) / "build-verbose.log").read_text(encoding="utf-8").splitlines():
        if line.endswith("] Layers:"):
            inside = True
            continue
        if inside and not line.startswith("Name: "):
            break
        if inside:
            dtype = re.search(r"Datatype: (\w+)", line[line.index("Outputs: ["):])  # none: no outputs
            meta = line[line.index("Metadata:"):] if "Metadata:" in line else ""
            out.append({"name": line[6:line.index(", LayerType: ")],
                        "type": line.split("LayerType: ", 1)[1].split(",", 1)[0],
                        "dtype": dtype.group(1) if dtype else None,
                        "nodes": _ENTRY.findall(meta)})
    return out


def _onnx_nodes(name: str) -> list[onnx.NodeProto]:
    return list(onnx.load(str(_folder(name) / "model.onnx"), load_external_data=False).graph.node)


def _company(layers: list[dict[str, Any]]) -> dict[str, frozenset[str]]:
    """Each node listed by exactly one layer -> the other nodes of that layer."""
    seen: dict[str, list[frozenset[str]]] = {}
    for lay in layers:
        for n in lay["nodes"]:
            seen.setdefault(n, []).append(frozenset(lay["nodes"]) - {n})
    return {n: c[0] for n, c in seen.items() if len(c) == 1}


def _diff(a: str, b: str) -> Diff:
    return diff(trtscope.load(_folder(a)), trtscope.load(_folder(b)), a, b)


def _pairs(d: Diff) -> dict[str, str]:
    m = d.nodes[d.nodes["presence"] == "matched"]
    return dict(zip(m["node_a"], m["node_b"], strict=True))


def test_fp32_fp16_precisions() -> None:
    d = _diff("resnet18-fp32", "resnet18-fp16")
    ra, rb = _raw_layers("resnet18-fp32"), _raw_layers("resnet18-fp16")
    assert (d.summary.a.layers, d.summary.b.layers) == (len(ra), len(rb))
    assert d.summary.match.exact == d.summary.match.matched == len(_onnx_nodes("resnet18-fp32"))
    dt_a = {n: lay["dtype"] for lay in ra for n in lay["nodes"]}
    dt_b = {n: lay["dtype"] for lay in rb for n in lay["nodes"]}
    single = set(_company(ra)) & set(_company(rb))  # nodes in one layer on each side
    assert len(single) > 40
    by = d.nodes.set_index("node_a")
    for n in single:
        assert (by.at[n, "precision_a"], by.at[n, "precision_b"]) == (dt_a[n], dt_b[n]), n
    expected = {n for n in single if dt_a[n] != dt_b[n]}
    assert set(by.index[by["precision_changed"]]) & single == expected and expected
    assert d.summary.precision_fallbacks == 0  # Float -> Half is narrower
    ca, cb = _company(ra), _company(rb)
    assert d.summary.fusion_changes == sum(1 for n in single if ca[n] != cb[n]) == 0


def test_renamed_nodes_paired_by_structure() -> None:
    """Every node renamed ``<OpType>_<index>`` (numbering shifted by an inserted Identity): the expected pairs
    are the nodes that produce the same tensor (the renaming kept tensor names)."""
    a, b = _onnx_nodes("resnet18-fp32"), _onnx_nodes("resnet18-legacy-names")
    producer_b = {n.output[0]: n.name for n in b}
    expected = {n.name: producer_b[n.output[0]] for n in a}
    assert sum(1 for k, v in expected.items() if k == v) < len(a) / 2  # names mostly differ (some coincide)
    d = _diff("resnet18-fp32", "resnet18-legacy-names")
    assert not d.summary.match.names_shared
    assert _pairs(d) == expected
    only_b = d.nodes[d.nodes["presence"] == "only_b"]
    assert set(only_b["node_b"]) == {n.name for n in b} - set(expected.values())
    assert d.summary.match.low_confidence == 0
    assert d.summary.fusion_changes == d.summary.precision_changes == 0


def test_conv_relu_fusion_broken(capsys: pytest.CaptureFixture[str]) -> None:
    ra, rb = _raw_layers("convblock-fused"), _raw_layers("convblock-split")
    ca, cb = _company(ra), _company(rb)
    expected = {n for n in ca if ca[n] and n in cb and not cb[n]}  # fused with something in A, alone in B
    assert expected == {"/conv1/Conv", "/act/Relu"}
    d = _diff("convblock-fused", "convblock-split")
    assert set(d.nodes.loc[d.nodes["newly_unfused"], "node_a"]) == expected
    assert d.summary.newly_unfused == len(expected) and d.summary.match.exact == len(_onnx_nodes("convblock-fused"))
    assert list(d.changes["kind"][:2]) == ["newly_unfused"] * 2
    a, b = str(_folder("convblock-fused")), str(_folder("convblock-split"))
    assert main(["diff", a, b, "--fail-on", "new-unfused"]) == 1
    assert main(["diff", b, a, "--fail-on", "new-unfused"]) == 0  # the other way round fusion is gained
    assert main(["diff", a, a, "--fail-on", "new-unfused,coverage-drop=0,new-reformat"]) == 0
    capsys.readouterr()


def test_layernorm_one_op_against_decomposed() -> None:
    a = {n.name: n.op_type for n in _onnx_nodes("layernorm-op")}
    b = {n.name: n.op_type for n in _onnx_nodes("layernorm-decomposed")}
    d = _diff("layernorm-op", "layernorm-decomposed")
    assert d.summary.match.names_shared
    assert _pairs(d) == {n: n for n in a.keys() & b.keys()}
    assert set(d.nodes.loc[d.nodes["presence"] == "only_a", "node_a"]) == a.keys() - b.keys() \
        == {n for n, op in a.items() if op == "LayerNormalization"}
    assert set(d.nodes.loc[d.nodes["presence"] == "only_b", "node_b"]) == b.keys() - a.keys()
    only_a = d.nodes[d.nodes["presence"] == "only_a"]
    assert (only_a["reason"] == "B has no LayerNormalization node").all()


def test_static_against_dynamic_batch() -> None:
    ra, rb = _raw_layers("resnet18-batch8"), _raw_layers("resnet18-dynamic")
    d = _diff("resnet18-batch8", "resnet18-dynamic")
    assert (d.summary.a.layers, d.summary.b.layers) == (len(ra), len(rb))
    extra = [lay["name"] for lay in rb if lay["type"] == "shape_call"]
    assert len(extra) - sum(1 for lay in ra if lay["type"] == "shape_call") == 1
    kinds = d.layer_kinds.set_index("kind")
    assert kinds.at["noop", "delta"] == 1  # shape_call moves no data (analysis/fusion.py NOOP_TYPES)
    new = d.inserted[d.inserted["change"] == "new"]
    assert [n for names in new["layer_names_b"] for n in names] == extra
    assert d.summary.match.exact == d.summary.match.matched == len(_onnx_nodes("resnet18-batch8"))
    ca, cb = _company(ra), _company(rb)
    assert d.summary.fusion_changes == sum(1 for n in ca.keys() & cb.keys() if ca[n] != cb[n]) == 0
