"""Helpers for lint tests: an ONNX model built with onnx.helper and the engine layer listing, profile and
trtexec metadata TensorRT would write for an outcome stated up front by the test."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import onnx
from onnx import TensorProto, helper

Node = tuple[str, str, list[str], list[str]]  # (name, op_type, inputs, outputs)


def save_model(path: Path, nodes: Sequence[Node], inits: Sequence[str] = (), inputs: Sequence[str] = ("x",)) -> None:
    made = [helper.make_node(op, ins, outs, name=name) for name, op, ins, outs in nodes]
    init_t = [helper.make_tensor(n, TensorProto.FLOAT, [1], [1.0]) for n in inits]
    graph = helper.make_graph(
        made, "g", [helper.make_tensor_value_info(x, TensorProto.FLOAT, None) for x in inputs],
        [helper.make_tensor_value_info(nodes[-1][3][0], TensorProto.FLOAT, None)], init_t)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def tensor(name: str, fmt: str, dims: Sequence[int] = (1, 64, 8, 8)) -> dict[str, Any]:
    return {"Name": name, "Location": "Device", "Dimensions": list(dims), "Format/Datatype": fmt}


def layer(name: str, ltype: str, ins: Sequence[dict[str, Any]], outs: Sequence[dict[str, Any]],
          nodes: Sequence[str] = (), **extra: Any) -> dict[str, Any]:
    """A --exportLayerInfo layer entry (TensorRT 10 style: Metadata names the ONNX nodes)."""
    entry = {"Name": name, "LayerType": ltype, "Inputs": list(ins), "Outputs": list(outs),
             "Metadata": "\x1f".join(f"[ONNX Layer: {n}]" for n in nodes), **extra}
    return entry


def write_engine(d: Path, layers: Sequence[dict[str, Any]], times: dict[str, float] | None = None,
                 precision: str | None = None, cuda_graph: bool | None = None, count: int = 100,
                 bindings: Sequence[str] = ("x", "y")) -> Path:
    """Layer info (+ profile with ``times`` per layer name, + TREx-style build / profile metadata) in ``d``."""
    d.mkdir(parents=True, exist_ok=True)
    (d / "engine.layers.json").write_text(json.dumps({"Layers": list(layers), "Bindings": list(bindings)}))
    if times is not None:
        total = sum(times.values())
        prof: list[dict[str, Any]] = [{"count": count}]
        for x in layers:
            ms = times[x["Name"]]
            prof.append({"name": x["Name"], "timeMs": ms * count, "averageMs": ms, "medianMs": ms,
                         "percentage": 100 * ms / total if total else 0.0})
        (d / "engine.profile.json").write_text(json.dumps(prof))
    if precision is not None:
        (d / "engine.build.metadata.json").write_text(json.dumps({"build_options": {"Precision": precision}}))
    if cuda_graph is not None:
        (d / "engine.profile.metadata.json").write_text(json.dumps({
            "device_information": {"Selected Device": "test GPU"},
            "inference_options": {"CUDA Graph": "Enabled" if cuda_graph else "Disabled",
                                  "Separate profiling": "Enabled"}}))
    return d


I8 = "Thirty-two wide channel vectorized row major Int8 format"
H32 = "Thirty-two wide channel vectorized row major FP16 format"
H8 = "Channel major FP16 format where channel % 8 == 0"
F = "Row major linear FP32"
