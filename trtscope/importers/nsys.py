"""Nsight Systems import: an ``nsys export --type sqlite`` file -> kernels -> NVTX ranges -> engine layers ->
a trtscope bundle.

The library side of ``trtscope nsys import`` (the CLI only turns arguments into this call and formats what it
returns): read the export, attribute every kernel to the innermost NVTX range around its launch on the
launching thread and, with the engine's layer names, to the layer a range names; store kernels, ranges, API
calls and graph nodes as Parquet, and the given layer information and ONNX model verbatim.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trtscope.analysis.kernel_ranges import attribution_counts, map_kernels
from trtscope.analysis.kernels import time_by
from trtscope.bundle import BundleWriter
from trtscope.errors import InputError
from trtscope.parsers.files import read_input

Progress = Callable[[str], None]
#: --layers / --onnx are copied into the bundle: ONNX protobufs stop at 2 GiB, layer JSON is smaller still
MAX_COPY_BYTES = 2 * 1024**3


@dataclass
class NsysImport:
    """What an import wrote: the bundle, the run facts stored in its manifest, notes, and GPU time by range /
    by layer (``name``, ``kernels``, ``gpu_ms`` records, largest first)."""

    bundle: Path
    run: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    top_ranges: list[dict[str, Any]] = field(default_factory=list)
    top_layers: list[dict[str, Any]] | None = None


def layer_names(path: Path) -> list[str]:
    """Engine layer names from a layer-info JSON (or a trtexec / build log with layer information), recognised
    by content (a log line starts with ``[`` like a JSON list does)."""
    from trtscope.loader import EMPTY_LAYER_INFO
    from trtscope.parsers.detect import sniff

    info = sniff(path).layer_info
    if info is None:
        raise InputError(path, "no layer information found (expected --exportLayerInfo JSON or a log with it)")
    if info.layers.empty:
        raise InputError(path, EMPTY_LAYER_INFO)
    return [str(n) for n in info.layers["name"].tolist()]


def raw_layers_name(path: Path, data: bytes) -> str:
    """``layers.json`` as capture bundles name it when the file is JSON; a log keeps its own (safe) name."""
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"[")):
        return "layers.json"
    name = path.name
    return name if name and not name.startswith(".") else "layers.log"


def import_nsys(report_path: Path, output: Path, *, layers: Path | None = None, onnx: Path | None = None,
                force: bool = False, progress: Progress | None = None) -> NsysImport:
    """Import ``report_path`` into the bundle ``output`` (see the module docstring)."""
    from trtscope.bundle.writer import check_bundle_target
    from trtscope.parsers.nsys_sqlite import read_report

    step = progress or (lambda _msg: None)
    check_bundle_target(output, force=force, parent=False)  # refuse before reading anything
    layers_raw = read_input(layers, max_bytes=MAX_COPY_BYTES) if layers else None
    onnx_raw = read_input(onnx, max_bytes=MAX_COPY_BYTES) if onnx else None
    names = layer_names(layers) if layers else None
    if onnx is not None:  # copied verbatim: what is copied must be a model the bundle's readers can read
        from trtscope.parsers.onnx_graph import PendingGraph

        PendingGraph(onnx).result()
    report = read_report(report_path, progress=step)
    step("mapping kernels to NVTX ranges and layers")
    kernels = map_kernels(report.kernels, report.nvtx_ranges, graph_nodes=report.graph_nodes, layer_names=names)
    counts = attribution_counts(kernels)
    notes = list(report.warnings)
    if counts["kernels_graph_unattributed"]:
        notes.append(f"{counts['kernels_graph_unattributed']} kernels replayed from CUDA graphs have no "
                     "capture-time node provenance: left unattributed")
    if names is not None and counts["kernels_in_range"] and not counts["kernels_on_layer"]:
        notes.append("no NVTX range names an engine layer: was the engine built with profiling verbosity "
                     "NONE, or is the layer information from another engine?")
    step("writing the bundle")
    meta = report.metadata
    run_info = {
        "source": "nsys",
        "source_file": str(Path(report_path).resolve()),
        "nsys_version": meta.get("nsys_version"),
        "nsys_schema_version": meta.get("nsys_schema_version"),
        "gpu": meta.get("gpu"),
        "gpus": meta.get("gpus", []),
        "command": meta.get("command"),
        "cuda_graph_trace": meta.get("cuda_graph_trace"),
        "counts": counts,
    }
    with BundleWriter(output, kind="nsys-import", force=force, staged=True) as w:
        # nsys SQLite times are nanoseconds on the report's session clock (not this machine's CLOCK_MONOTONIC)
        w.update(run=run_info, environment={"gpu": meta.get("gpu")}, nsys=meta,
                 clock={"name": "nsys session time", "unit": "ns"})
        w.write_table("kernels", kernels)
        w.write_table("nvtx_ranges", report.nvtx_ranges)
        w.write_table("api_calls", report.api_calls)
        if not report.graph_nodes.empty:
            w.write_table("graph_nodes", report.graph_nodes)
        if layers_raw is not None and layers is not None:
            w.write_raw("layers", raw_layers_name(layers, layers_raw), layers_raw)
        if onnx_raw is not None:
            w.write_raw("onnx", "model.onnx", onnx_raw)
        for note in notes:
            w.note(note)

    def records(column: str) -> list[dict[str, Any]]:
        df = time_by(kernels, column)
        return [{"name": n, "kernels": int(k), "gpu_ms": round(float(ms), 6)}
                for n, k, ms in zip(df["name"], df["kernels"], df["gpu_ms"], strict=True)]

    return NsysImport(bundle=Path(output), run=run_info, notes=notes, top_ranges=records("nvtx_range"),
                      top_layers=records("layer_name") if names is not None else None)
