"""Reading a bundle back into :class:`Artifacts` (what ``report``, ``tui`` and ``export`` consume)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from trtscope.bundle.manifest import ENVIRONMENT_KEYS, Manifest, open_manifest
from trtscope.bundle.tables import CONTRACTS, read_table
from trtscope.model.artifacts import Artifacts, LayerProfile, SourceFile
from trtscope.model.tables import (
    GRAPH_NODE_COLUMNS,
    ITERATION_COLUMNS,
    KERNEL_COLUMNS,
    NVML_SAMPLE_COLUMNS,
    NVTX_RANGE_COLUMNS,
    PROFILE_COLUMNS,
    ensure_columns,
)
from trtscope.parsers.detect import sniff
from trtscope.parsers.files import open_input
from trtscope.parsers.onnx_graph import PendingGraph
from trtscope.parsers.values import checked, listing, valid_kernel_intervals

#: Raw artifacts are TensorRT's JSON files and logs; the parsers bound each kind further.
MAX_RAW_BYTES = 2 * 1024**3


def _table(m: Manifest, key: str, warnings: list[str]) -> tuple[pd.DataFrame, Path] | None:
    entry = m.tables.get(key)
    if entry is None:
        return None
    rel = entry["path"]
    real = m.member(rel, f"tables.{key}.path")
    shown = m.root / rel
    df = read_table(real, key, shown)
    declared = entry.get("rows")
    if declared is not None and declared != len(df):
        warnings.append(f"{shown}: holds {len(df):,} rows, the bundle manifest says {declared:,}")
    return df, shown


def read_bundle(path: str | Path, *, onnx: bool = True) -> Artifacts:
    """A bundle as Artifacts. The manifest is untrusted: see :mod:`trtscope.bundle.manifest`.

    ``onnx``: also read the ONNX model the bundle holds (``artifacts.onnx``, e.g. ``nsys import --onnx``); the
    loader passes False when the user named another one."""
    m = open_manifest(path)
    root, manifest = m.root, m.data
    art = Artifacts()
    status = manifest.get("status")
    if status != "complete":
        art.warnings.append(
            f"bundle {root} is marked {status}: the capture did not finish; tables hold what was recorded"
        )
    env = manifest.get("environment") or {}
    for key in ENVIRONMENT_KEYS:
        if env.get(key) is not None:
            art.metadata[key] = env[key]
    art.metadata["bundle"] = {
        "path": str(root),
        "kind": manifest.get("kind"),
        "status": status,
        "started_at": manifest.get("started_at"),
        "ended_at": manifest.get("ended_at"),
        "run": manifest.get("run") or {},
        "notes": manifest.get("notes") or [],
        # what an export needs to put the bundle's times on another tool's clock (NVTXT ClockMonotonicRaw)
        "clock": manifest.get("clock") or {},
        "clock_alignment": manifest.get("clock_alignment") or {},
    }
    art.sources.append(SourceFile(str(root), "bundle", f"{manifest.get('kind')} bundle, {status}"))

    artifacts = m.artifacts
    for key in ("layers", "build_log", "profile", "times"):
        rel = artifacts.get(key)
        if rel is None:
            continue
        p = m.member(rel, f"artifacts.{key}")
        open_input(p, "a raw artifact", max_bytes=MAX_RAW_BYTES).close()  # size and file type, before parsing
        s = sniff(p, strict=False)
        art.warnings.extend(s.warnings)
        if s.layer_info is not None and art.layer_info is None:
            art.layer_info = s.layer_info
            art.sources.append(SourceFile(str(p), "layer_info", f"{len(s.layer_info.layers)} layers"))
        if s.profile is not None and art.profile is None:
            art.profile = s.profile
            art.sources.append(SourceFile(str(p), "profile", f"{len(s.profile.times)} layers"))
        if s.times is not None and art.iterations is None:
            art.iterations, art.iterations_source = s.times, str(p)
        for k, v in s.metadata.items():
            art.metadata.setdefault(k, v)

    rel = artifacts.get("onnx")
    if onnx and rel is not None:
        p = m.member(rel, "artifacts.onnx")
        art.onnx = PendingGraph(p).result()
        art.warnings.extend(art.onnx.warnings)
        art.sources.append(SourceFile(str(p), "onnx", f"{len(art.onnx.nodes)} nodes"))

    tables = {key: t for key in CONTRACTS if (t := _table(m, key, art.warnings)) is not None}
    if "iterations" in tables:
        df, shown = tables["iterations"]
        art.iterations = ensure_columns(df, ITERATION_COLUMNS)
        art.iterations_source = str(shown)
    if art.profile is None and "layer_times" in tables:
        df, shown = tables["layer_times"]
        lt = ensure_columns(df, PROFILE_COLUMNS).copy()
        for col in ("total_ms", "mean_ms", "median_ms"):  # negative or absurd times are no measurement
            values, bad = checked(pd.to_numeric(lt[col], errors="coerce").to_numpy(dtype="float64"))
            if bad.any():
                art.warnings.append(f"{shown}: {listing(lt['name'].tolist(), bad)} have a {col} that is negative, "
                                    "not finite or absurd; left out")
                lt[col] = values
        counts = pd.to_numeric(lt["count"], errors="coerce")
        count = int(counts.max()) if counts.notna().any() else None
        art.profile = LayerProfile(times=lt, count=count, source=str(shown))
    if art.profile is not None and "layer_samples" in tables:
        art.profile.samples = tables["layer_samples"][0]
    for key, cols, attr in (
        ("kernels", KERNEL_COLUMNS, "kernels"),
        ("nvtx_ranges", NVTX_RANGE_COLUMNS, "nvtx_ranges"),
        ("nvml", NVML_SAMPLE_COLUMNS, "nvml"),
        ("graph_nodes", GRAPH_NODE_COLUMNS, "graph_nodes"),
    ):
        if key in tables:
            df, shown = tables[key]
            if key == "kernels" and len(df):  # a kernel ending before it starts is no measurement
                df = valid_kernel_intervals(df, shown, art.warnings)
            setattr(art, attr, ensure_columns(df, cols))
    if "api_calls" in tables:
        art.metadata["api_call_count"] = len(tables["api_calls"][0])
    return art
