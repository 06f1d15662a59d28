"""Small engines of known outcome for the diff tests: an ONNX model (onnx.helper) plus a layer listing
(--exportLayerInfo form, with Metadata) and a per-layer profile (--exportProfile form), written to a folder."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import onnx
from onnx import TensorProto, helper

Node = tuple[str, str, list[str], list[str]]  # name, op type, inputs, outputs


@dataclass
class L:
    """One engine layer: name, LayerType, ONNX nodes (Metadata), output data type, mean ms, dims in/out."""

    name: str
    nodes: list[str] = field(default_factory=list)
    type: str = "CaskConvolution"
    dtype: str = "FP32"
    ms: float = 0.1
    dims_in: list[int] = field(default_factory=lambda: [1, 8, 8, 8])
    dims_out: list[int] = field(default_factory=lambda: [1, 8, 8, 8])


def save_model(path: Path, nodes: list[Node], inits: tuple[str, ...] = ()) -> None:
    made = [helper.make_node(op, ins, outs, name=name) for name, op, ins, outs in nodes]
    inits_t = [helper.make_tensor(n, TensorProto.FLOAT, [1], [1.0]) for n in inits]
    graph = helper.make_graph(made, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info(nodes[-1][3][0], TensorProto.FLOAT, None)], inits_t)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def write_engine(d: Path, layers: list[L], model: list[Node] | None = None, inits: tuple[str, ...] = (),
                 profile: bool = True) -> Path:
    """Write the folder: model.onnx (when given), engine.layers.json, engine.profile.json (when asked)."""
    d.mkdir(parents=True, exist_ok=True)
    if model is not None:
        save_model(d / "model.onnx", model, inits)
    entries = []
    for i, lay in enumerate(layers):
        fmt = f"Row major linear {lay.dtype}"
        e: dict[str, object] = {
            "Name": lay.name, "LayerType": lay.type,
            "Inputs": [{"Name": f"t{i}", "Dimensions": lay.dims_in, "Format/Datatype": fmt}],
            "Outputs": [{"Name": f"t{i + 1}", "Dimensions": lay.dims_out, "Format/Datatype": fmt}],
        }
        if lay.nodes:
            e["Metadata"] = "\x1f".join(f"[ONNX Layer: {n}]" for n in lay.nodes)
        entries.append(e)
    (d / "engine.layers.json").write_text(json.dumps({"Layers": entries, "Bindings": ["x", "y"]}))
    if profile:
        total = sum(lay.ms for lay in layers)
        prof: list[dict[str, object]] = [{"count": 10}]
        prof += [{"name": lay.name, "timeMs": lay.ms * 10, "averageMs": lay.ms, "medianMs": lay.ms,
                  "percentage": 100 * lay.ms / total} for lay in layers]
        (d / "engine.profile.json").write_text(json.dumps(prof))
    return d
