"""Reading a bundle back into :class:`Artifacts` (what ``report``, ``tui`` and ``export`` consume)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from trtscope.bundle.manifest import read_manifest
from trtscope.errors import InputError
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


def _table(root: Path, manifest: dict[str, Any], key: str) -> pd.DataFrame | None:
    entry = manifest.get("tables", {}).get(key)
    if not entry:
        return None
    rel = entry["path"] if isinstance(entry, dict) else str(entry)
    p = root / rel
    try:
        return pd.read_parquet(p)
    except FileNotFoundError as err:
        raise InputError(p, "listed in the bundle manifest but missing") from err
    except Exception as err:  # pyarrow raises several types for corrupt files
        raise InputError(p, f"unreadable Parquet table ({type(err).__name__}: {err})") from err


def read_bundle(path: str | Path) -> Artifacts:
    root = Path(path)
    manifest = read_manifest(root)
    art = Artifacts()
    status = manifest.get("status")
    if status != "complete":
        art.warnings.append(
            f"bundle {root} is marked {status}: the capture did not finish; tables hold what was recorded"
        )
    env = manifest.get("environment") or {}
    for key in ("gpu", "tensorrt_version", "cuda_driver_version", "driver_version", "cuda_runtime_version"):
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

    artifacts = manifest.get("artifacts") or {}
    for key in ("layers", "build_log", "profile", "times"):
        rel = artifacts.get(key)
        if not rel:
            continue
        p = root / rel
        if not p.exists():
            raise InputError(p, "listed in the bundle manifest but missing")
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

    iterations = _table(root, manifest, "iterations")
    if iterations is not None:
        art.iterations = ensure_columns(iterations, ITERATION_COLUMNS)
        art.iterations_source = str(root / "tables" / "iterations.parquet")
    layer_times = _table(root, manifest, "layer_times")
    samples = _table(root, manifest, "layer_samples")
    if art.profile is None and layer_times is not None:
        lt = ensure_columns(layer_times, PROFILE_COLUMNS)
        count = int(lt["count"].max()) if len(lt) and lt["count"].notna().any() else None
        art.profile = LayerProfile(times=lt, count=count, source=str(root / "tables" / "layer_times.parquet"))
    if art.profile is not None and samples is not None:
        art.profile.samples = samples
    for key, cols, attr in (
        ("kernels", KERNEL_COLUMNS, "kernels"),
        ("nvtx_ranges", NVTX_RANGE_COLUMNS, "nvtx_ranges"),
        ("nvml", NVML_SAMPLE_COLUMNS, "nvml"),
    ):
        t = _table(root, manifest, key)
        if t is not None:
            setattr(art, attr, ensure_columns(t, cols))
    api = _table(root, manifest, "api_calls")
    if api is not None:
        art.metadata["api_call_count"] = len(api)
    graph_nodes = _table(root, manifest, "graph_nodes")
    if graph_nodes is not None:
        art.graph_nodes = ensure_columns(graph_nodes, GRAPH_NODE_COLUMNS)
    return art
