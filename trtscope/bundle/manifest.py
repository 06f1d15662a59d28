"""The bundle manifest: what a bundle holds, where it came from, and whether the capture finished."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trtscope.errors import InputError

BUNDLE_FORMAT = "trtscope-bundle"
SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.json"

#: Status values. A reader accepts all of them; anything but "complete" is reported as incomplete.
STATUSES = ("in_progress", "complete", "interrupted", "failed")

#: Table keys a bundle may hold under tables/ (Parquet), and their meaning.
TABLE_KEYS = {
    "iterations": "per-iteration latencies of the clean timing run (ITERATION_COLUMNS)",
    "layer_times": "per-layer summary of the profiling run (PROFILE_COLUMNS)",
    "layer_samples": "per-iteration per-layer times from IProfiler (LAYER_SAMPLE_COLUMNS)",
    "nvml": "NVML samples (NVML_SAMPLE_COLUMNS)",
    "kernels": "CUDA kernels with their launching API call and NVTX range (KERNEL_COLUMNS)",
    "nvtx_ranges": "NVTX push/pop and start/end ranges (NVTX_RANGE_COLUMNS)",
    "api_calls": "CUDA runtime/driver API calls (API_CALL_COLUMNS: correlation id, thread, host interval)",
    "graph_nodes": "CUDA graph node creation, capture-time host interval per node (GRAPH_NODE_COLUMNS)",
}

#: Raw artifact keys under raw/, stored verbatim as TensorRT (or nsys) produced them.
RAW_KEYS = ("layers", "profile", "times", "build_log", "onnx")


def is_bundle(path: str | Path) -> bool:
    """A directory with a manifest naming the bundle format."""
    p = Path(path) / MANIFEST_NAME
    if not p.is_file():
        return False
    try:
        with open(p, encoding="utf-8") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return BUNDLE_FORMAT in head


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Parse and validate a bundle's manifest; errors name the manifest file."""
    p = Path(path) / MANIFEST_NAME
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise InputError(p, "missing: not a trtscope bundle") from err
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(p, f"cannot read ({err})") from err
    except json.JSONDecodeError as err:
        raise InputError(p, f"invalid JSON at line {err.lineno} column {err.colno}: {err.msg}") from err
    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        raise InputError(p, f"not a trtscope bundle manifest (no \"format\": \"{BUNDLE_FORMAT}\")")
    version = data.get("schema_version")
    if not isinstance(version, int) or version < 1:
        raise InputError(p, f"invalid schema_version {version!r}")
    if version > SCHEMA_VERSION:
        raise InputError(
            p, f"bundle schema_version {version} is newer than this trtscope understands ({SCHEMA_VERSION}); "
            "upgrade trtscope",
        )
    if data.get("status") not in STATUSES:
        raise InputError(p, f"invalid status {data.get('status')!r} (expected one of {', '.join(STATUSES)})")
    return data
