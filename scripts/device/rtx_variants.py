"""Build the ONNX model variants of scripts/device/onnx_variants.py with TensorRT-RTX: real engine listings for
``trtscope diff`` pairs and ``trtscope lint`` rules (issues 11 and 12).

Each variant is exported (torch legacy exporter, then ONNX-level edits where the variant is about the graph),
saved with its weights as external data, parsed and built through trtscope's own ``trt_backend``
(``TensorRTBackend("tensorrt_rtx")``: ``create_network(0)`` — TensorRT-RTX is strongly typed, the ONNX types
decide precisions —, ``ProfilingVerbosity.DETAILED``, one optimization profile where the input is dynamic)
with every logger message kept. TensorRT-RTX's runtime refuses compute capability 9.0, so there are no
per-layer times: only the build log with its ``Layers:`` listing. A variant whose build fails keeps its log
(if under 3 MB) and, where it has one, its fallback is built too (FP8 Q/DQ when INT8 Q/DQ is refused).

Usage (device, repository root): PYTHONPATH=/tmp/site:$PWD python3 scripts/device/rtx_variants.py OUTDIR [names]
Writes OUTDIR/rtx-h200-<name>/ (model.onnx, model.onnx.data, build-verbose.log, SOURCE.md), OUTDIR/summary.json.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from export_and_build import MAX_LOG_BYTES, save_graph, trim_log
from onnx_variants import FALLBACKS, VARIANTS, Variant

LAYER_LINE = re.compile(r"(?:^|\] \[TRT\] )Name: .*?, LayerType: ([^,]+),", re.M)


def build(backend: Any, v: Variant, out: Path) -> dict[str, Any]:
    from trtscope.capture.backend import BuildOptions, ShapeSpec, format_log

    folder = out / f"rtx-h200-{v.name}"
    t0 = time.perf_counter()
    model = v.make()
    nodes = save_graph(model, folder)
    ops = Counter(n.op_type for n in model.graph.node)
    opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    backend.log.clear()
    shapes = {k: ShapeSpec(*s) for k, s in v.shapes.items()}
    error = None
    try:
        result = backend.build(folder / "model.onnx", BuildOptions(shapes=shapes))
        plan_bytes, seconds = len(result.plan), round(result.seconds, 3)
    except Exception as err:  # kept: what TensorRT-RTX said is the result
        error, plan_bytes, seconds = f"{type(err).__name__}: {err}", None, None
    log, trimmed = trim_log(format_log(backend.log))
    keep_log = error is None or len(log.encode()) < MAX_LOG_BYTES
    if keep_log:
        (folder / "build-verbose.log").write_text(log, encoding="utf-8")
    types = Counter(m.strip() for m in LAYER_LINE.findall(log))
    s = {
        "name": v.name,
        "what": v.what,
        "role": v.role,
        "onnx_nodes": nodes,
        "onnx_ops": dict(sorted(ops.items())),
        "opset": opset,
        "shapes": {k: [list(x) for x in s] for k, s in v.shapes.items()},
        "error": error,
        "plan_bytes": plan_bytes,
        "build_seconds": seconds,
        "log_messages": len(backend.log),
        "log_bytes": len(log.encode()),
        "log_kept": keep_log,
        "log_trimmed": trimmed,
        "layers_lines": sum(types.values()),
        "layer_types": dict(types.most_common()),
        "foreignnode_metadata_lines": len(re.findall(r"ForeignNode .*metadata:", log)),
        "seconds_total": round(time.perf_counter() - t0, 2),
    }
    return s


def source_md(s: dict[str, Any], env: dict[str, str]) -> str:
    profile = ", ".join(f"{k}: min {a} / opt {b} / max {c}" for k, (a, b, c) in s["shapes"].items())
    shapes = f"; one optimization profile {profile}" if s["shapes"] else ""
    types = ", ".join(f"{k} {n}" for k, n in s["layer_types"].items()) or "none"
    ops = ", ".join(f"{k} {n}" for k, n in s["onnx_ops"].items())
    if s["error"]:
        result = (
            f"**The build failed**: {s['error']}\n- `build-verbose.log`: "
            + ("the whole log of the failed build." if s["log_kept"] else "not kept (over 3 MB).")
        )
    else:
        result = (
            f"Build: {s['build_seconds']} s, plan {s['plan_bytes']} bytes (not kept).\n"
            f"- `build-verbose.log`: every TensorRT-RTX logger message of the build (VERBOSE included) in trtexec's "
            f"`[date] [V] [TRT] msg` form: {s['log_messages']} messages, {s['layers_lines']} one-line layer entries in "
            f"the `Layers:` section, {s['foreignnode_metadata_lines']} `ForeignNode ... metadata:` lines. "
            + (
                "Trimmed to the header, the metadata lines and the `Layers:` section (over 3 MB)."
                if s["log_trimmed"]
                else "Complete."
            )
            + f"\n- Engine layer types (`LayerType` in `Layers:`): {types}."
        )
    return f"""# rtx-h200-{s["name"]}: TensorRT-RTX {env["rtx"]} build on {env["gpu"]}

- Model: {s["what"]}; random weights (`torch.manual_seed(0)`). Role: {s["role"]}.
- Made by `scripts/device/rtx_variants.py` (models in `scripts/device/onnx_variants.py`, trtscope repository)
  on the device machine, {env["date"]}; docs/device-runs.md has the command.
- Versions: torch {env["torch"]} (legacy exporter `dynamo=False`, opset {s["opset"]}), onnx {env["onnx"]},
  TensorRT-RTX `tensorrt_rtx` {env["rtx"]} (PyPI tensorrt-rtx-cu13), GPU {env["gpu"]}, Python {env["python"]}.
- `model.onnx`: the graph only; its {s["onnx_nodes"]} nodes ({ops}) with every initializer saved as external data
  in `model.onnx.data` (`save_as_external_data=True, all_tensors_to_one_file=True, size_threshold=0`), which is
  not in the repository.
- Builder: trtscope's `trt_backend` — `create_network(0)` (TensorRT-RTX is strongly typed: the ONNX tensor types
  decide precisions; no precision flags), `ProfilingVerbosity.DETAILED`, default optimization level{shapes}.
- {result}
- **No per-layer times, no inspector JSON**: TensorRT-RTX's runtime refuses compute capability 9.0 (see
  docs/device-runs.md), so the engine was not deserialized.
"""


def main(out: Path, names: list[str]) -> int:
    import onnx
    import torch

    from trtscope.capture.trt_backend import TensorRTBackend

    backend = TensorRTBackend("tensorrt_rtx")
    env = {
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU",
        "rtx": backend.version,
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "python": sys.version.split()[0],
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    print("env:", env)
    by_name = {v.name: v for v in VARIANTS + FALLBACKS}
    todo = [by_name[n] for n in names] if names else list(VARIANTS)
    summary = []
    while todo:
        v = todo.pop(0)
        try:
            s = build(backend, v, out)
        except Exception as err:  # export failed: say so and go on
            s = {"name": v.name, "error": f"export: {type(err).__name__}: {err}"}
            print(f"== {v.name}: {s['error']}")
            summary.append(s)
            continue
        (out / f"rtx-h200-{v.name}" / "SOURCE.md").write_text(source_md(s, env), encoding="utf-8")
        summary.append(s)
        brief = {k: s[k] for k in ("onnx_nodes", "error", "build_seconds", "log_bytes", "layers_lines", "layer_types")}
        print(f"== {v.name}: {json.dumps(brief)}")
        if s["error"] and v.fallback:
            todo.insert(0, by_name[v.fallback])
    (out / "summary.json").write_text(json.dumps({"env": env, "variants": summary}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    t0 = time.time()
    rc = main(Path(sys.argv[1] if len(sys.argv) > 1 else "out"), sys.argv[2:])
    print(f"done in {time.time() - t0:.1f} s")
    sys.exit(rc)
