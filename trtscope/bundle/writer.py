"""Writing a bundle, in place (a live capture: valid at every moment) or staged (an import: all or nothing).

In place, the manifest is written first (status ``in_progress``) and rewritten atomically after every file, so
a capture killed at any point leaves a bundle that reads back as incomplete. ``with BundleWriter(...)`` marks it
``complete`` on success, ``interrupted`` on Ctrl-C (or SIGTERM) and ``failed`` on any other exception
(re-raised).

Staged (``staged=True``, what ``nsys import`` uses: its input stays available, so a half bundle is worth
nothing), the bundle is built in a hidden sibling directory and swapped in whole when it completes; a failure or
interrupt removes it and leaves the target as it was (see :mod:`trtscope.atomic`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import json
import os
import platform
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd

from trtscope._version import __version__
from trtscope.atomic import (
    TAG,
    Terminated,
    atomic_open,
    atomic_write,
    check_writable,
    interrupt_handlers,
    make_staging_dir,
    remove_path,
    swap_dir_into_place,
)
from trtscope.bundle.manifest import BUNDLE_FORMAT, MANIFEST_NAME, RAW_KEYS, SCHEMA_VERSION, TABLE_KEYS, is_bundle
from trtscope.errors import OutputError

#: What a bundle directory holds at its top level (besides trtscope's own temporaries).
BUNDLE_ENTRIES = frozenset({MANIFEST_NAME, "raw", "tables"})


def is_replaceable_bundle(path: Path) -> bool:
    """What ``--force`` may replace: an empty directory, or a trtscope bundle holding nothing but what a
    bundle holds (a user's own file put inside it is never deleted)."""
    if not path.is_dir():
        return False
    names = [n for n in os.listdir(path) if TAG not in n and not (n.startswith(".") and n.endswith(".tmp"))]
    if not names:
        return True
    return is_bundle(path) and set(names) <= BUNDLE_ENTRIES


def check_bundle_target(path: str | Path, *, force: bool, parent: bool = True) -> Path:
    """Refuse to write a bundle over anything but a previous bundle (and that only with ``force``)."""
    return check_writable(path, force=force, is_ours=is_replaceable_bundle, what="trtscope bundle", parent=parent)


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
        staged: bool = False,
    ) -> None:
        self.path = Path(path)
        self.staged = staged
        check_bundle_target(self.path, force=force)
        self._signals: contextlib.AbstractContextManager[None] | None = None
        # staged: the staging directory is made at the first write (inside the with-block, so that an
        # interrupt anywhere after it exists reaches __exit__, which removes it)
        self.dir = self.path
        self._made = not staged
        if not staged:
            self._make_dirs()
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
        if not staged:
            self._flush()

    def _make_dirs(self) -> None:
        try:
            if self.staged:
                self.dir = make_staging_dir(self.path)
            (self.dir / "raw").mkdir(parents=True, exist_ok=True)
            (self.dir / "tables").mkdir(exist_ok=True)
        except OSError as err:
            self._close(discard=True)
            raise OutputError(self.path, f"cannot create bundle directory ({err.strerror or err})") from err
        self._made = True

    # -- content --------------------------------------------------------------------------------------------
    def write_raw(self, key: str, filename: str, data: bytes | str) -> Path:
        """Store a raw artifact verbatim under raw/ (``key`` in RAW_KEYS, or any other name)."""
        if "/" in filename or filename.startswith("."):
            raise ValueError(f"bad raw artifact file name {filename!r}")
        if not self._made:
            self._make_dirs()
        target = self.dir / "raw" / filename
        atomic_write(target, data)
        self.manifest["artifacts"][key] = f"raw/{filename}"
        if key not in RAW_KEYS:
            self.manifest.setdefault("extra_artifacts", []).append(key)
        self._flush()
        return target

    def write_table(self, key: str, df: pd.DataFrame) -> Path:
        """Store a table as Parquet under tables/ (``key`` should be one of TABLE_KEYS)."""
        if not self._made:
            self._make_dirs()
        target = self.dir / "tables" / f"{key}.parquet"
        buf = io.BytesIO()
        _to_parquet(df.reset_index(drop=True), buf)
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
        """Mark the bundle ``status``. Staged: a complete bundle is swapped into place, any other is discarded
        (the target stays as it was)."""
        self.manifest["status"] = status
        self.manifest["ended_at"] = now_iso()
        if self.staged and status != "complete":
            self._close(discard=True)
            return
        try:
            self._flush(final=True)
            if self.staged:
                try:
                    swap_dir_into_place(self.dir, self.path)
                except OSError as err:
                    raise OutputError(self.path, f"cannot write ({err.strerror or err})") from err
                self.dir = self.path
        except BaseException:
            self._close(discard=True)
            raise
        self._close(discard=False)

    def _close(self, *, discard: bool) -> None:
        if discard and self.staged and getattr(self, "dir", self.path) != self.path:
            remove_path(self.dir)
            self.dir = self.path

    # -- context manager ------------------------------------------------------------------------------------
    def __enter__(self) -> BundleWriter:
        # SIGTERM / SIGHUP end the block like Ctrl-C: the bundle is marked interrupted, or the staging removed
        self._signals = interrupt_handlers()
        self._signals.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        signals, self._signals = self._signals, None
        try:
            if exc_type is None:
                if self.manifest["status"] == "in_progress":
                    self.finish("complete")
            elif self.manifest["status"] != "in_progress":
                self._close(discard=True)
            elif issubclass(exc_type, KeyboardInterrupt):
                why = "terminated (SIGTERM/SIGHUP)" if issubclass(exc_type, Terminated) else "interrupted (Ctrl-C)"
                self.manifest["notes"].append(f"capture {why}; tables hold what was recorded so far")
                self.finish("interrupted")
            else:
                self.manifest["notes"].append(f"capture failed: {type(exc).__name__}: {exc}")
                self.finish("failed")
        finally:
            if signals is not None:
                signals.__exit__(None, None, None)

    def _flush(self, *, final: bool = False) -> None:
        """Rewrite the manifest. Staged, only the final one is written: nobody reads a staging directory."""
        if self.staged and not final:
            return
        if not self._made:
            self._make_dirs()
        atomic_write(self.dir / MANIFEST_NAME, json.dumps(self.manifest, indent=2, default=str) + "\n")


def _to_parquet(df: pd.DataFrame, buf: io.BytesIO) -> None:
    """What ``df.to_parquet(buf, index=False)`` writes, byte for byte, converted on this thread: pyarrow's
    default converts columns in a pool of threads started per table, which costs more CPU than it saves
    (twice the conversion time for a 340,000-kernel table)."""
    if df.attrs:  # stored as pandas metadata: left to pandas
        df.to_parquet(buf, index=False)
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pandas(df, preserve_index=False, nthreads=1), buf, compression="snappy")
