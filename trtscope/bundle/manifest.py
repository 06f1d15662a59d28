"""The bundle manifest: what a bundle holds, where it came from, and whether the capture finished.

A bundle travels (attached to bug reports, copied between machines), so its manifest is untrusted input: every
field is type-checked before use, and every path it names must be relative, stay inside the bundle directory
once symbolic links are resolved, and name a regular file (:func:`member`). Nothing outside the bundle is
opened on a manifest's say-so. docs/bundle-format.md and docs/security.md describe the rules.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from trtscope.errors import InputError
from trtscope.parsers.files import _kind, read_input  # _kind: one wording for "a FIFO (named pipe)"...

BUNDLE_FORMAT = "trtscope-bundle"
SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.json"
#: A manifest is a few kilobytes; anything near this is not one.
MAX_MANIFEST_BYTES = 16 * 1024**2

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

#: environment fields the reader copies into the report's metadata: each must be text or a number.
ENVIRONMENT_KEYS = ("gpu", "tensorrt_version", "cuda_driver_version", "driver_version", "cuda_runtime_version")


@dataclass(frozen=True)
class Manifest:
    """A validated manifest of the bundle at ``root`` (``real``: the bundle directory, links resolved)."""

    root: Path
    real: Path
    path: Path  # the manifest file, as the user would name it
    data: dict[str, Any]

    @property
    def tables(self) -> dict[str, dict[str, Any]]:
        """Known table keys -> their (checked) entries; unknown keys are ignored."""
        t = self.data.get("tables") or {}
        return {k: v for k, v in t.items() if k in TABLE_KEYS}

    @property
    def artifacts(self) -> dict[str, str]:
        return {k: v for k, v in (self.data.get("artifacts") or {}).items() if v is not None}

    def member(self, rel: object, field: str) -> Path:
        """The regular file a manifest field names (see :func:`member`)."""
        return member(self.root, self.real, rel, field, self.path)


# --- paths --------------------------------------------------------------------------------------------------
def member(root: Path, real: Path, rel: object, field: str, manifest: Path | None = None) -> Path:
    """The path ``rel`` (from a manifest field) as a regular file inside the bundle: relative, without ``..``,
    inside ``real`` once links are resolved. Returns the resolved path (what to open); anything else is an
    InputError naming the bundle path and the field. Opens nothing."""
    where = manifest or root / MANIFEST_NAME
    if not isinstance(rel, str) or not rel.strip():
        raise InputError(where, f"{field}: expected a relative path inside the bundle, got {_short(rel)}")
    shown = root / rel
    if "\x00" in rel or "\\" in rel:
        raise InputError(where, f"{field}: path {_short(rel)} holds a NUL byte or a backslash; bundle paths are "
                                "relative POSIX paths")
    try:
        os.fsencode(rel)
    except UnicodeEncodeError as err:
        raise InputError(where, f"{field}: path {_short(rel)} is not valid text (a lone surrogate escape)") from err
    pure = PurePosixPath(rel)
    if pure.is_absolute() or os.path.isabs(rel):
        raise InputError(where, f"{field}: absolute path {_short(rel)}; bundle paths are relative to the bundle")
    if ".." in pure.parts:
        raise InputError(where, f"{field}: path {_short(rel)} leads out of the bundle (\"..\")")
    parts = [p for p in pure.parts if p not in (".", "")]
    if not parts:
        raise InputError(where, f"{field}: path {_short(rel)} names the bundle directory itself, not a file")
    resolved = Path(os.path.realpath(real.joinpath(*parts)))
    if resolved == real or real not in resolved.parents:
        raise InputError(shown, f"leads out of the bundle (a symbolic link to {resolved}); refusing to read it")
    try:
        st = os.lstat(resolved)
    except FileNotFoundError as err:
        raise InputError(shown, "listed in the bundle manifest but missing") from err
    except OSError as err:
        raise InputError(shown, f"cannot read ({err.strerror or err})") from err
    if not stat.S_ISREG(st.st_mode):
        raise InputError(shown, f"is {_kind(st.st_mode)}, expected a file ({field} in the bundle manifest)")
    return resolved


def _short(v: object, limit: int = 80) -> str:
    text = repr(v)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bundle_dir(path: str | Path) -> tuple[Path, Path]:
    root = Path(path)
    return root, Path(os.path.realpath(root))


def is_bundle(path: str | Path) -> bool:
    """A directory with a manifest naming the bundle format — or with a ``manifest.json`` that is a link out
    of the directory or not a regular file, so that reading it as a bundle refuses it instead of the
    directory walk following it."""
    root, real = _bundle_dir(path)
    if not os.path.lexists(root / MANIFEST_NAME):
        return False
    try:
        p = member(root, real, MANIFEST_NAME, "manifest")
        head = read_input(p, 4096, "a bundle manifest")
    except InputError:
        return True
    return BUNDLE_FORMAT.encode() in head


# --- the manifest -------------------------------------------------------------------------------------------
def _type_name(v: object) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(
        type(v), "a number" if isinstance(v, (int, float)) else type(v).__name__)


def _expect(where: Path, field: str, v: object, types: tuple[type, ...], what: str) -> None:
    if not isinstance(v, types) or (isinstance(v, bool) and bool not in types):
        raise InputError(where, f"field {field}: expected {what}, got {_type_name(v)}")


def _check_fields(where: Path, data: dict[str, Any]) -> None:
    """Types of every field a reader uses; unknown fields are left alone (newer writers may add some)."""
    opt_obj = (dict, type(None))
    opt_text = (str, type(None))
    for key in ("environment", "run", "created_by", "clock", "artifacts", "tables"):
        _expect(where, key, data.get(key), opt_obj, "an object")
    for key in ("kind", "started_at", "ended_at"):
        _expect(where, key, data.get(key), opt_text, "text")
    notes = data.get("notes")
    _expect(where, "notes", notes, (list, type(None)), "a list of text")
    for i, n in enumerate(notes or []):
        _expect(where, f"notes[{i}]", n, (str,), "text")
    env = data.get("environment") or {}
    for key in ENVIRONMENT_KEYS:
        _expect(where, f"environment.{key}", env.get(key), (str, int, float, type(None)), "text or a number")
    for key, rel in (data.get("artifacts") or {}).items():
        _expect(where, f"artifacts.{key}", rel, opt_text, "a relative path (text)")
    for key, entry in (data.get("tables") or {}).items():
        if key not in TABLE_KEYS:
            continue
        _expect(where, f"tables.{key}", entry, (dict,), 'an object with a "path"')
        if "path" not in entry:
            raise InputError(where, f'field tables.{key}: no "path"')
        _expect(where, f"tables.{key}.path", entry["path"], (str,), "a relative path (text)")
        _expect(where, f"tables.{key}.rows", entry.get("rows"), (int, type(None)), "a row count")


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Parse and validate a bundle's manifest; errors name the manifest file."""
    return open_manifest(path).data


def open_manifest(path: str | Path) -> Manifest:
    """The bundle's manifest, read (bounded, regular file inside the bundle) and validated."""
    root, real = _bundle_dir(path)
    where = root / MANIFEST_NAME
    if not os.path.lexists(where):
        raise InputError(where, "missing: not a trtscope bundle")
    raw = read_input(member(root, real, MANIFEST_NAME, "manifest"), expected="a bundle manifest",
                     max_bytes=MAX_MANIFEST_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(where, f"not UTF-8 text (byte 0x{raw[err.start]:02x} at offset {err.start}); a bundle "
                                "manifest is UTF-8 JSON") from err
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(where, f"invalid JSON at line {err.lineno} column {err.colno}: {err.msg}") from err
    except (ValueError, RecursionError) as err:
        raise InputError(where, f"invalid JSON ({type(err).__name__}: {str(err)[:120]})") from err
    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        raise InputError(where, f"not a trtscope bundle manifest (no \"format\": \"{BUNDLE_FORMAT}\")")
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InputError(where, f"invalid schema_version {_short(version)} (expected a whole number from 1)")
    if version > SCHEMA_VERSION:
        raise InputError(where, f"made by a newer trtscope (schema {version}); this version reads up to "
                                f"{SCHEMA_VERSION}: upgrade trtscope to read this bundle")
    status = data.get("status")
    if not isinstance(status, str) or status not in STATUSES:
        raise InputError(where, f"invalid status {_short(status)} (expected one of {', '.join(STATUSES)})")
    _check_fields(where, data)
    return Manifest(root, real, where, data)
