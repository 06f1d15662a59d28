"""Wall time and peak memory of ``trtscope diff A B --json`` on two 20,000-layer / 100,000-node inputs.

A is benchmarks/large_input.py's transformer-like engine. Two candidates are derived from it:

- **B (same names)**: every 7th block's QKV layer (MatMul + bias Add) split into two layers (fusion lost),
  a copying reformat added in front of every 9th block's attention layer, every layer 3 % slower;
- **C (renamed)**: B with every ONNX node renamed (``n<index>``) in the model and the layer Metadata, so no
  name is shared and every node is paired by structure (the matcher's slow path).

Printed beside a baseline measured in the same run: ``trtscope report --json`` of A and of B, one after the
other (loading and analysing both sides, which a diff must do too), so the ratio says what the comparison
itself costs and stays comparable across machines.

    python benchmarks/bench_diff.py [--blocks 4000] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_report import measure
from large_input import NODES_PER_BLOCK, bench_arguments, prepared_input

SPLIT_EVERY = 7
REFORMAT_EVERY = 9
SLOWER = 1.03


def _split_qkv(entry: dict[str, Any], profile: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The fused QKV layer as two layers (MatMul, then bias Add), each with half the time."""
    parts = entry["Metadata"].split("\x1f")
    out = []
    for k, md in enumerate(parts):
        e = dict(entry, Name=f"{entry['Name']}_part{k}", Metadata=md, LayerType="gemm" if k == 0 else "kgen")
        p = dict(profile, name=e["Name"], averageMs=profile["averageMs"] / 2, medianMs=profile["medianMs"] / 2,
                 timeMs=profile["timeMs"] / 2)
        out.append((e, p))
    return out


def make_candidate(a: Path, out: Path) -> None:
    """B from A (see the module docstring)."""
    out.mkdir(parents=True, exist_ok=True)
    layers = json.loads((a / "engine.layers.json").read_text())
    prof = json.loads((a / "engine.profile.json").read_text())
    head, rows = prof[0], prof[1:]
    new_layers, new_prof = [], []
    for e, p in zip(layers["Layers"], rows, strict=True):
        p = dict(p, averageMs=p["averageMs"] * SLOWER, medianMs=p["medianMs"] * SLOWER, timeMs=p["timeMs"] * SLOWER)
        name = e["Name"]
        block = _block(e)
        if name.endswith("_1") and e["LayerType"] == "gemm" and block % SPLIT_EVERY == 0:
            for pair in _split_qkv(e, p):
                new_layers.append(pair[0])
                new_prof.append(pair[1])
            continue
        if name.startswith("__myl_MatDivSoftMat_") and block % REFORMAT_EVERY == 0:
            r = {"Name": f"Reformatting CopyNode for Input Tensor 0 to {name}", "LayerType": "Reformat",
                 "Inputs": e["Inputs"], "Outputs": e["Inputs"]}
            new_layers.append(r)
            new_prof.append(dict(p, name=r["Name"], averageMs=0.002, medianMs=0.002, timeMs=0.2))
        new_layers.append(e)
        new_prof.append(p)
    (out / "engine.layers.json").write_text(json.dumps({"Layers": new_layers, "Bindings": layers["Bindings"]}))
    (out / "engine.profile.json").write_text(json.dumps([head, *new_prof]))
    shutil.copy(a / "engine.times.json", out / "engine.times.json")
    shutil.copy(a / "model.onnx", out / "model.onnx")


def _block(entry: dict[str, Any]) -> int:
    md = entry.get("Metadata") or ""
    i = md.find("/model/layers.")
    return int(md[i + 14:md.index("/", i + 14)]) if i >= 0 else -1


def make_renamed(b: Path, out: Path) -> None:
    """C: B with every node renamed in the model and the Metadata (no name shared with A)."""
    import onnx

    out.mkdir(parents=True, exist_ok=True)
    model = onnx.load(str(b / "model.onnx"))
    rename = {}
    for i, node in enumerate(model.graph.node):
        rename[node.name] = f"n{i}"
        node.name = f"n{i}"
    onnx.save(model, str(out / "model.onnx"))
    layers = json.loads((b / "engine.layers.json").read_text())
    for e in layers["Layers"]:
        md = e.get("Metadata")
        if md:
            e["Metadata"] = "\x1f".join(f"[ONNX Layer: {rename[p[13:-1]]}]" for p in md.split("\x1f"))
    (out / "engine.layers.json").write_text(json.dumps(layers))
    for f in ("engine.profile.json", "engine.times.json"):
        shutil.copy(b / f, out / f)


_NODE = re.compile(r"^/model/layers\.(\d+)/\w+?_(\d+)/")


def check_pairing(a: Path, c: Path, nodes: int) -> None:
    """The all-structural diff's pairs against the renaming that made C (node i of A is ``n<i>`` in C)."""
    out = subprocess.run([sys.executable, "-m", "trtscope", "diff", str(a), str(c), "--json"], capture_output=True,
                         check=True)
    doc = json.loads(out.stdout)
    right = 0
    for n in doc["nodes"]:
        m = _NODE.match(n["node_a"] or "")
        if m and n["node_b"] == f"n{int(m.group(1)) * NODES_PER_BLOCK + int(m.group(2))}":
            right += 1
    print(f"pairs of the all-structural diff checked against the renaming: {right:,} of {nodes:,} right "
          f"({doc['summary']['nodes_structural']:,} structural pairs, {doc['summary']['low_confidence_pairs']:,} "
          "below confidence 0.7)")


def main() -> None:
    args = bench_arguments(__doc__)
    d, tmp, sizes = prepared_input(args.keep, args.blocks, "trtscope-bench-diff-")
    b, c = d.parent / f"{d.name}-candidate", d.parent / f"{d.name}-renamed"
    if not (b / "engine.layers.json").exists():
        print(f"building candidates in {b} and {c} ...", file=sys.stderr)
        make_candidate(d, b)
        make_renamed(b, c)
    py = sys.executable
    baseline = [py, "-c", "import subprocess, sys\n"
                f"for p in ({str(d)!r}, {str(b)!r}):\n"
                f"    subprocess.run([{py!r}, '-m', 'trtscope', 'report', p, '--json'], check=True, "
                "stdout=subprocess.DEVNULL)"]
    runs: dict[str, list[dict[str, float]]] = {"base": [], "same": [], "renamed": []}
    for _ in range(args.repeat):  # alternate, so drift affects all alike
        runs["base"].append(measure(baseline))
        runs["same"].append(measure([py, "-m", "trtscope", "diff", str(d), str(b), "--json"]))
        runs["renamed"].append(measure([py, "-m", "trtscope", "diff", str(d), str(c), "--json"]))
    wall = {k: statistics.median(x["wall_s"] for x in v) for k, v in runs.items()}
    rss = {k: max(x["peak_rss_bytes"] for x in v) for k, v in runs.items()}
    print(f"input: {sizes['layers']} engine layers, {sizes['onnx_nodes']} ONNX nodes per side ({d})")
    print(f"baseline (report --json of A, then of B):   {wall['base']:.2f} s, peak {rss['base'] / 2**20:.0f} MiB "
          "(one report at a time)")
    for k, what in (("same", "diff A B --json (names shared):    "), ("renamed", "diff A C --json (all structural): ")):
        print(f"{what}      {wall[k]:.2f} s, peak {rss[k] / 2**20:.0f} MiB -> time {wall[k] / wall['base']:.2f}x, "
              f"memory {rss[k] / rss['base']:.2f}x of the baseline")
    check_pairing(d, c, sizes["onnx_nodes"])
    if tmp is not None:
        for p in (tmp, b, c):
            shutil.rmtree(p, ignore_errors=True)


if __name__ == "__main__":
    main()
