"""Kernel -> layer -> ONNX node attribution in the Analysis, on an nsys export built with a known truth."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from tests import nsys_synth
from trtscope import load


def _layer_file(path: Path) -> dict[str, list[str]]:
    """Layer information for the synthetic engine, each layer with ONNX nodes named after it."""
    nodes = {name: [f"onnx::{i}a", f"onnx::{i}b"] if " + " in name else [f"onnx::{i}"]
             for i, name in enumerate(nsys_synth.LAYERS)}
    layers = [{"Name": name, "LayerType": "CaskConvolution",
               "Metadata": "\x1e".join(f"[ONNX Layer: {n}]" for n in nodes[name])}
              for name in nsys_synth.LAYERS if not name.startswith("Reformatting")]
    layers.insert(0, {"Name": nsys_synth.LAYERS[0], "LayerType": "Reformat", "Origin": "REFORMAT", "Metadata": ""})
    nodes[nsys_synth.LAYERS[0]] = []
    path.write_text(json.dumps({"Layers": layers, "Bindings": ["x", "y"]}))
    return nodes


def test_nsys_export_loaded_directly_maps_kernels_to_onnx_nodes(tmp_path: Path) -> None:
    run = nsys_synth.build(tmp_path / "report.sqlite")
    nodes = _layer_file(tmp_path / "engine.layers.json")
    a = load(run.path, layers=tmp_path / "engine.layers.json")
    k = a.kernels
    truth = run.by_start()
    assert len(k) == len(run.kernels)
    for start, layer, onnx_nodes in zip(k["start_ns"], k["layer_name"], k["onnx_nodes"], strict=True):
        exp = truth[int(start)]
        assert layer == exp.layer
        assert list(onnx_nodes) == (nodes[exp.layer] if exp.layer else [])
    # per-layer kernel counts add up from the construction
    counts = Counter(e.layer for e in run.kernels if e.layer is not None)
    got = a.layers.set_index("name")["kernel_count"]
    for name, n in counts.items():
        assert got[name] == n
    s = a.summary.kernels
    assert s is not None
    assert s.count == len(run.kernels) and s.on_layer == sum(counts.values())
