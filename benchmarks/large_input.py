"""A realistic large input: a transformer-like engine of 20,000 layers over an ONNX graph of 100,000 nodes.

Shape of the data (per transformer block of 25 ONNX nodes -> 5 engine layers, TensorRT 10 style):
  LayerNorm decomposed (9 nodes)        -> one Myelin kgen layer   (Metadata entries joined by 0x1F)
  QKV MatMul + bias Add                 -> one Myelin gemm layer   (every 5th block: MatMul alone, plain name)
  Reshape/Transpose x4                  -> folded (no layer)
  QK MatMul, scale Div, Softmax, AV MatMul -> one Myelin kgen layer
  out MatMul + bias Add + residual Add  -> one gemm layer
  FFN MatMul + Gelu + MatMul            -> one kgen layer          (every 10th block: fused into the previous
                                                                     layer and replaced by a reformat layer)
Writes model.onnx (onnx package needed: it is a dev dependency), engine.layers.json (--exportLayerInfo form),
engine.profile.json (--exportProfile form) and engine.times.json (--exportTimes form).

    python benchmarks/large_input.py OUT_DIR [--blocks 4000]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

SEP_MYELIN = "\x1f"
OPS = [
    "ReduceMean",
    "Sub",
    "Pow",
    "ReduceMean",
    "Add",
    "Sqrt",
    "Div",
    "Mul",
    "Add",  # 0-8 LayerNorm
    "MatMul",
    "Add",  # 9-10 QKV
    "Reshape",
    "Transpose",  # 11-12 folded
    "MatMul",
    "Div",
    "Softmax",
    "MatMul",  # 13-16 attention
    "Transpose",
    "Reshape",  # 17-18 folded
    "MatMul",
    "Add",
    "Add",  # 19-21 out proj + residual
    "MatMul",
    "Gelu",
    "MatMul",  # 22-24 FFN
]
NODES_PER_BLOCK = len(OPS)
SIZES = "sizes.json"  # layer and node counts, written beside the artifacts


def node_name(block: int, i: int) -> str:
    return f"/model/layers.{block}/{OPS[i].lower()}_{i}/{OPS[i]}"


def block_layers(b: int) -> list[tuple[str, str, list[int]]]:
    """(layer name, LayerType, node positions) for block ``b``."""
    r = f"myl{b}"
    qkv: list[int] = [9, 10]
    attn = [13, 14, 15, 16]
    out = [19, 20, 21]
    ffn: list[int] | None = [22, 23, 24]
    layers: list[tuple[str, str, list[int]]] = [
        (f"__myl_ReduSubPowReduAddSqrtDivMulAdd_{r}_0", "kgen", list(range(9)))
    ]
    if b % 5 == 0:
        layers.append((node_name(b, 9), "CaskGemmMatrixMultiply", [9]))
        attn = [10, *attn]
    else:
        layers.append((f"{node_name(b, 9)}_{r}_1", "gemm", qkv))
    layers.append((f"__myl_MatDivSoftMat_{r}_2", "kgen", attn))
    if b % 10 == 0:
        layers.append((f"{node_name(b, 19)}_{r}_3", "gemm", [*out, 22, 23, 24]))
        ffn = None
        layers.append(
            (
                f"Reformatting CopyNode for Input Tensor 0 to __myl_ReduSubPowReduAddSqrtDivMulAdd_myl{b + 1}_0",
                "Reformat",
                [],
            )
        )
    else:
        layers.append((f"{node_name(b, 19)}_{r}_3", "gemm", out))
    if ffn is not None:
        layers.append((f"__myl_MatGeluMat_{r}_4", "kgen", ffn))
    return layers


def make_large_input(out: Path, blocks: int = 4000, seed: int = 0) -> dict[str, Path]:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    # --- ONNX graph --------------------------------------------------------------------------------------------
    nodes = []
    inits = [numpy_helper.from_array(np.zeros((4,), np.float32), "w")]
    prev = "input"
    for b in range(blocks):
        for i, op in enumerate(OPS):
            name = node_name(b, i)
            outp = f"{name}_output_0"
            inputs = [prev, "w"] if op in ("MatMul", "Add", "Sub", "Mul", "Div", "Pow") else [prev]
            nodes.append(helper.make_node(op, inputs, [outp], name=name))
            prev = outp
    graph = helper.make_graph(
        nodes,
        "large",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info(prev, TensorProto.FLOAT, [1, 4])],
        inits,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), out / "model.onnx")

    # --- layer info, profile, times --------------------------------------------------------------------------
    layers = []
    profile: list[dict[str, object]] = [{"count": 100}]
    for b in range(blocks):
        for name, ltype, positions in block_layers(b):
            meta = SEP_MYELIN.join(f"[ONNX Layer: {node_name(b, i)}]" for i in positions)
            tensor = {"Name": f"{name}:out", "Dimensions": [1, 128, 768], "Format/Datatype": "Half"}
            layers.append(
                {
                    "Name": name,
                    "LayerType": ltype,
                    "Inputs": [dict(tensor, Name=f"{name}:in")],
                    "Outputs": [tensor],
                    "TacticName": f"sm90_xmma_gemm_f16f16_f16f32_f32_tn_n_tilesize{64 + 64 * (b % 3)}x128x64",
                    "StreamId": 0,
                    "Metadata": meta,
                }
            )
            mean = rng.lognormvariate(-4.0, 0.8)
            profile.append(
                {
                    "name": name,
                    "timeMs": mean * 100,
                    "averageMs": mean,
                    "medianMs": mean * rng.uniform(0.95, 1.0),
                    "percentage": 0.0,
                }
            )
    means = [float(str(p["averageMs"])) for p in profile[1:]]
    total = sum(means)
    for p in profile[1:]:
        p["percentage"] = 100.0 * float(p["averageMs"]) / total  # type: ignore[arg-type]
    (out / "engine.layers.json").write_text(json.dumps({"Layers": layers, "Bindings": ["input", prev]}))
    (out / "engine.profile.json").write_text(json.dumps(profile, indent=0))
    times = []
    t = 0.0
    for _ in range(2000):
        c = total * rng.uniform(0.9, 1.1)
        times.append(
            {
                "startEnqMs": t,
                "endEnqMs": t + 0.05,
                "startH2dMs": t,
                "endH2dMs": t,
                "startComputeMs": t,
                "endComputeMs": t + c,
                "startD2hMs": t + c,
                "endD2hMs": t + c,
                "h2dMs": 0,
                "computeMs": c,
                "d2hMs": 0,
                "latencyMs": c,
            }
        )
        t += c
    (out / "engine.times.json").write_text(json.dumps(times))
    (out / SIZES).write_text(json.dumps({"layers": len(layers), "onnx_nodes": len(nodes)}))
    return {
        "dir": out,
        "onnx": out / "model.onnx",
        "layers": out / "engine.layers.json",
        "profile": out / "engine.profile.json",
        "times": out / "engine.times.json",
    }


def bench_arguments(description: str | None, repeat: int = 3) -> argparse.Namespace:
    """The options every benchmark on this input takes: --blocks, --repeat, --keep."""
    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--blocks", type=int, default=4000)
    ap.add_argument("--repeat", type=int, default=repeat)
    ap.add_argument("--keep", type=Path, help="write the input here (and reuse it if present)")
    return ap.parse_args()


def prepared_input(keep: Path | None, blocks: int, prefix: str) -> tuple[Path, Path | None, dict[str, int]]:
    """(input directory, temporary directory to delete afterwards or None, {"layers", "onnx_nodes"} counts):
    ``keep`` is reused when it already holds an input, else the input is built there (or in a new temporary
    directory)."""
    import sys
    import tempfile

    if keep is None or not (keep / SIZES).exists():
        d = keep or Path(tempfile.mkdtemp(prefix=prefix))
        print(f"building input in {d} ...", file=sys.stderr)
        make_large_input(d, blocks)
    else:
        d = keep
    sizes = json.loads((d / SIZES).read_text())
    return d, (d if keep is None else None), sizes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument(
        "--blocks", type=int, default=4000, help="transformer blocks (4000 -> 20,000 layers, 100,000 nodes)"
    )
    args = ap.parse_args()
    paths = make_large_input(args.out, args.blocks)
    print(json.dumps({k: str(v) for k, v in paths.items()}))


if __name__ == "__main__":
    main()
