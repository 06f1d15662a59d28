"""Atomic file writes: a reader (or a crash) never sees half a file, and nothing is overwritten by accident.

Every file trtscope writes goes through :func:`atomic_write`: the bytes land in a temporary file in the same
directory and are moved over the target with ``os.replace`` only once complete.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from trtscope.errors import OutputError


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def check_writable(path: str | Path, *, force: bool) -> Path:
    """Refuse an existing output unless ``force``; make sure the parent directory exists."""
    p = Path(path)
    if p.exists() and not force:
        raise OutputError(p, "already exists; pass --force to overwrite it")
    # --force replaces files, never silently merges into or deletes a user's directory
    if p.is_dir() and not p.is_symlink() and force and any(p.iterdir()) and not (p / "manifest.json").exists():
        raise OutputError(p, "is a non-empty directory that is not a trtscope bundle; refusing to overwrite")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(p.parent, f"cannot create directory ({err.strerror or err})") from err
    return p


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "wb", encoding: str | None = None) -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path``; on success it replaces ``path``, on error it is removed."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; outputs get the usual permissions
        with os.fdopen(fd, mode, encoding=encoding if "b" not in mode else None) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write(path: str | Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` atomically (text as UTF-8)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        with atomic_open(path, "wb") as fh:
            fh.write(data)
    except OSError as err:
        raise OutputError(path, f"cannot write ({err.strerror or err})") from err
