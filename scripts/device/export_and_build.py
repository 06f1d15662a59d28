"""Make the project's bundled real examples on a GPU machine: ONNX export + TensorRT(-RTX) build.

Exports torchvision ResNet-18 (random weights: nothing can be downloaded on the device) and a small
hand-written transformer (2 blocks of attention + MLP; torch 2.11's legacy exporter fails on
nn.TransformerEncoderLayer) to ONNX with the weights as external data, builds each through trtscope's own
``trt_backend`` at ProfilingVerbosity.DETAILED with every logger message kept, and tries to open the engine
(TensorRT-RTX's runtime refuses the H100: that failure is recorded, not hidden).

Usage (on the device, repository root): PYTHONPATH=. python3 scripts/device/export_and_build.py OUTDIR
Writes OUTDIR/rtx-h100-resnet18/ and OUTDIR/rtx-h100-transformer/ (model.onnx, model.onnx.data,
build-verbose.log, SOURCE.md) and prints one summary block per model.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import time
from pathlib import Path
from typing import Any

MAX_LOG_BYTES = 3_000_000


def resnet18() -> tuple[Any, Any, str]:
    import torch
    import torchvision

    torch.manual_seed(0)
    return (
        torchvision.models.resnet18(weights=None).eval(),
        torch.randn(1, 3, 224, 224),
        "torchvision resnet18",
    )


def transformer() -> tuple[Any, Any, str]:
    import torch
    from torch import nn

    class Attention(nn.Module):
        def __init__(self, d: int, heads: int) -> None:
            super().__init__()
            self.heads, self.dh = heads, d // heads
            self.qkv = nn.Linear(d, 3 * d)
            self.proj = nn.Linear(d, d)

        def forward(self, x: Any) -> Any:
            b, s, d = x.shape
            q, k, v = self.qkv(x).reshape(b, s, 3, self.heads, self.dh).permute(2, 0, 3, 1, 4)
            att = torch.softmax(q @ k.transpose(-2, -1) / self.dh**0.5, dim=-1)
            return self.proj((att @ v).transpose(1, 2).reshape(b, s, d))

    class Block(nn.Module):
        def __init__(self, d: int = 256, heads: int = 4, hidden: int = 1024) -> None:
            super().__init__()
            self.ln1, self.attn = nn.LayerNorm(d), Attention(d, heads)
            self.ln2 = nn.LayerNorm(d)
            self.mlp = nn.Sequential(nn.Linear(d, hidden), nn.GELU(), nn.Linear(hidden, d))

        def forward(self, x: Any) -> Any:
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    torch.manual_seed(0)
    model = nn.Sequential(Block(), Block()).eval()
    return (
        model,
        torch.randn(1, 128, 256),
        "2 x (LayerNorm, 4-head self-attention, LayerNorm, GELU MLP), d=256",
    )


def export(model: Any, example: Any, folder: Path) -> int:
    """torch.onnx.export (legacy exporter), then re-save with every initializer in model.onnx.data."""
    import onnx
    import torch

    tmp = folder / "tmp-export.onnx"
    with torch.no_grad():
        torch.onnx.export(
            model,
            (example,),
            str(tmp),
            dynamo=False,
            opset_version=17,
            input_names=["input"],
            output_names=["output"],
        )
    m = onnx.load(str(tmp))
    tmp.unlink()
    return save_graph(m, folder)


def save_graph(m: Any, folder: Path) -> int:
    """model.onnx with every initializer in model.onnx.data (only model.onnx goes in the repository)."""
    import onnx

    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(
        m,
        str(folder / "model.onnx"),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="model.onnx.data",
        size_threshold=0,
    )
    return len(m.graph.node)


def trim_log(text: str) -> tuple[str, bool]:
    """Keep header lines, every ``ForeignNode ... metadata:`` line and the whole ``Layers:`` section."""
    if len(text.encode()) <= MAX_LOG_BYTES:
        return text, False
    lines = text.splitlines()
    keep = []
    in_layers = False
    for i, line in enumerate(lines):
        is_msg = line.startswith("[") and "] [TRT] " in line[:40]
        if is_msg:
            in_layers = line.rstrip().endswith("Layers:")
        if i < 40 or in_layers or "metadata:" in line or "] [TRT] Name: " in line:
            keep.append(line)
    return "\n".join(keep) + "\n", True


def main(out: Path) -> int:
    import onnx
    import torch

    from trtscope.capture.backend import BuildOptions, RuntimeUnavailableError, format_log
    from trtscope.capture.trt_backend import TensorRTBackend

    gpu = torch.cuda.get_device_name(0)
    backend = TensorRTBackend("tensorrt_rtx")
    for name, make in (("rtx-h100-resnet18", resnet18), ("rtx-h100-transformer", transformer)):
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        model, example, what = make()
        nodes = export(model, example, folder)
        backend.log.clear()
        result = backend.build(folder / "model.onnx", BuildOptions())
        try:
            runner = backend.open(result.plan, {})
            runtime = "opened (unexpected on an H100)"
            runner.close()
        except RuntimeUnavailableError as err:
            runtime = f"refused: {err}"
        log, trimmed = trim_log(format_log(backend.log))
        (folder / "build-verbose.log").write_text(log, encoding="utf-8")
        n_layers = len(re.findall(r"(?:^|\] \[TRT\] )Name: ", log, flags=re.M))
        foreign = len(re.findall(r"ForeignNode .*metadata:", log))
        summary = {
            "model": what,
            "onnx_nodes": nodes,
            "plan_bytes": len(result.plan),
            "build_seconds": round(result.seconds, 3),
            "log_messages": len(backend.log),
            "log_bytes": len(log.encode()),
            "log_trimmed": trimmed,
            "layers_lines": n_layers,
            "foreignnode_metadata_lines": foreign,
            "runtime": runtime,
        }
        print(f"== {name}")
        for k, v in summary.items():
            print(f"  {k}: {v}")
        (folder / "SOURCE.md").write_text(
            source_md(name, what, summary, gpu, backend.version, onnx.__version__, torch.__version__),
            encoding="utf-8",
        )
    return 0


def source_md(name: str, what: str, s: dict[str, Any], gpu: str, rtx: str, onnx_v: str, torch_v: str) -> str:
    date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    trimmed = (
        "The full log was over 3 MB: kept the first 40 lines, every `ForeignNode ... metadata:` line and "
        "the whole `Layers:` section."
        if s["log_trimmed"]
        else "The log is complete (every message)."
    )
    return f"""# {name}: TensorRT-RTX {rtx} build on {gpu}

- Model: {what}; random weights (`torch.manual_seed(0)`; nothing can be downloaded on the build machine).
- Made by `scripts/device/export_and_build.py` (trtscope repository), run on the device machine as
  `PYTHONPATH=/tmp/site:$PWD python3 scripts/device/export_and_build.py /tmp/fx` (wheels installed in
  /tmp/site; docs/device-runs.md has the whole command), {date}.
- Versions: torch {torch_v} (legacy exporter `dynamo=False`, opset 17), onnx {onnx_v}, TensorRT-RTX
  (`tensorrt_rtx`, PyPI tensorrt-rtx-cu13 {rtx}), GPU {gpu}, Python {sys.version.split()[0]}.
- `model.onnx`: the graph with every initializer stored as external data in `model.onnx.data`
  (`save_as_external_data=True, all_tensors_to_one_file=True, size_threshold=0`). Only `model.onnx` is in
  the repository; the weights file is not ({s["onnx_nodes"]} ONNX nodes).
- `build-verbose.log`: every TensorRT logger message of the build (VERBOSE included), then those of the
  attempt to deserialize the engine (ending with the runtime's refusal, `[E]`), through trtscope's
  `trt_backend` (`create_network(0)`, `ProfilingVerbosity.DETAILED`), written in trtexec's
  `[date] [V] [TRT] msg` form; {s["log_messages"]} messages, {s["layers_lines"]} one-line layer entries in the
  `Layers:` section, {s["foreignnode_metadata_lines"]} `ForeignNode ... metadata:` lines. {trimmed}
- Build: {s["build_seconds"]} s, plan {s["plan_bytes"]} bytes (not kept).
- **No per-layer times, no inspector JSON**: TensorRT-RTX's runtime refuses this GPU's compute capability, so
  the engine could not be deserialized ({s["runtime"]}).
"""


if __name__ == "__main__":
    t0 = time.time()
    rc = main(Path(sys.argv[1] if len(sys.argv) > 1 else "out"))
    print(f"done in {time.time() - t0:.1f} s")
    sys.exit(rc)
