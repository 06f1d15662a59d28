"""Writing a bundle so that it is valid at every moment.

The manifest is written first (status ``in_progress``) and rewritten atomically after every file, so a
capture killed at any point leaves a bundle that reads back as incomplete. ``with BundleWriter(...)`` marks it
``complete`` on success, ``interrupted`` on Ctrl-C and ``failed`` on any other exception (re-raised).
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import platform
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd

from trtscope._version import __version__
from trtscope.atomic import atomic_open, atomic_write, check_writable
from trtscope.bundle.manifest import BUNDLE_FORMAT, MANIFEST_NAME, RAW_KEYS, SCHEMA_VERSION, TABLE_KEYS
from trtscope.errors import OutputError


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


class BundleWriter:
    """Create ``path`` as a bundle and fill it; see the module docstring for the status life cycle."""

    def __init__(
        self,
        path: str | Path,
        *,
        kind: str = "capture",
        command: list[str] | None = None,
        force: bool = False,
    ) -> None:
        self.path = Path(path)
        check_writable(self.path, force=force)
        try:
            (self.path / "raw").mkdir(parents=True, exist_ok=True)
            (self.path / "tables").mkdir(exist_ok=True)
        except OSError as err:
            raise OutputError(self.path, f"cannot create bundle directory ({err.strerror or err})") from err
        self.manifest: dict[str, Any] = {
            "format": BUNDLE_FORMAT,
            "schema_version": SCHEMA_VERSION,
            "kind": kind,
            "status": "in_progress",
            "created_by": {
                "tool": "trtscope",
                "version": __version__,
                "command": list(sys.argv if command is None else command),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "started_at": now_iso(),
            "ended_at": None,
            "environment": {},
            "clock": {"name": "CLOCK_MONOTONIC", "unit": "ns"},
            "run": {},
            "artifacts": {},
            "tables": {},
            "notes": [],
        }
        self._flush()

    # -- content --------------------------------------------------------------------------------------------
    def write_raw(self, key: str, filename: str, data: bytes | str) -> Path:
        """Store a raw artifact verbatim under raw/ (``key`` in RAW_KEYS, or any other name)."""
        if "/" in filename or filename.startswith("."):
            raise ValueError(f"bad raw artifact file name {filename!r}")
        target = self.path / "raw" / filename
        atomic_write(target, data)
        self.manifest["artifacts"][key] = f"raw/{filename}"
        if key not in RAW_KEYS:
            self.manifest.setdefault("extra_artifacts", []).append(key)
        self._flush()
        return target

    def write_table(self, key: str, df: pd.DataFrame) -> Path:
        """Store a table as Parquet under tables/ (``key`` should be one of TABLE_KEYS)."""
        target = self.path / "tables" / f"{key}.parquet"
        buf = io.BytesIO()
        df.reset_index(drop=True).to_parquet(buf, index=False)
        with atomic_open(target, "wb") as fh:
            fh.write(buf.getvalue())
        self.manifest["tables"][key] = {
            "path": f"tables/{key}.parquet",
            "rows": len(df),
            "description": TABLE_KEYS.get(key, ""),
        }
        self._flush()
        return target

    def update(self, **fields: Any) -> None:
        """Merge top-level manifest fields (dicts are merged one level deep) and rewrite the manifest."""
        for k, v in fields.items():
            if isinstance(v, dict) and isinstance(self.manifest.get(k), dict):
                self.manifest[k].update(v)
            else:
                self.manifest[k] = v
        self._flush()

    def note(self, text: str) -> None:
        self.manifest["notes"].append(text)
        self._flush()

    def finish(self, status: str = "complete") -> None:
        self.manifest["status"] = status
        self.manifest["ended_at"] = now_iso()
        self._flush()

    # -- context manager ------------------------------------------------------------------------------------
    def __enter__(self) -> BundleWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            if self.manifest["status"] == "in_progress":
                self.finish("complete")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.manifest["notes"].append("capture interrupted (Ctrl-C); tables hold what was recorded so far")
            self.finish("interrupted")
        else:
            self.manifest["notes"].append(f"capture failed: {type(exc).__name__}: {exc}")
            self.finish("failed")

    def _flush(self) -> None:
        atomic_write(self.path / MANIFEST_NAME, json.dumps(self.manifest, indent=2, default=str) + "\n")
