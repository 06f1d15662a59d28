"""Atomic, kill-safe writes: a reader (or a crash) never sees half a file, and nothing is overwritten by accident.

Every file trtscope writes goes through :func:`atomic_open` / :func:`atomic_write`: the bytes land in a hidden
temporary sibling of the target (created 0600, given the usual permissions only once complete) and are moved
over the target with ``os.replace``. A directory (an export, an imported bundle) is staged the same way as a
hidden sibling directory and swapped in by :func:`swap_dir_into_place`.

Why the guarantees hold (docs/security.md states them for users):

* **Old or new, never partial.** ``os.replace`` of a file is atomic. A directory is swapped with
  ``renameat2(RENAME_EXCHANGE)`` on Linux (one atomic step); elsewhere, or where the file system refuses it, the
  old directory is renamed to a discoverable backup first, the new one renamed in, the backup removed — and the
  next write to that target (:func:`clean_leftovers`) puts the backup back if a kill struck between the renames.
* **No stray temporaries.** Temporary names are ``.{target}.trtscope-{pid}-{random}.tmp`` (``.old`` for a
  backup). Ctrl-C, SIGTERM and SIGHUP during a write are turned into an exception (:func:`interrupt_handlers`)
  so the temporary is removed; the bookkeeping steps run with those signals deferred (:func:`critical`). A
  SIGKILL cannot be caught: what it leaves is removed by the next write to the same target, once the
  process named in the temporary's name is gone.
* **Links are not followed.** A symbolic link at the output path is refused; the final rename replaces a
  directory entry, never the file a link points to.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from trtscope.errors import OutputError
from trtscope.interrupts import Terminated, critical, interrupt_handlers

__all__ = [
    "DIR_MODE", "FILE_MODE", "TAG", "Terminated", "atomic_open", "atomic_write", "check_writable",
    "clean_leftovers", "critical", "ensure_parent", "interrupt_handlers", "leftovers", "make_staging_dir",
    "refuse_symlink", "remove_path", "swap_dir_into_place", "temp_name", "write_dir_atomically",
    "write_file_atomically",
]

#: What marks trtscope's temporaries: ``.{target name}{TAG}{pid}-{random}.tmp`` / ``.old``.
TAG = ".trtscope-"
_LEFTOVER = re.compile(re.escape(TAG) + r"(\d+)-[A-Za-z0-9_]+\.(tmp|old)\Z")


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()
FILE_MODE = 0o666 & ~_UMASK  # what a plain open() would give a new file
DIR_MODE = 0o777 & ~_UMASK


# --- leftovers ----------------------------------------------------------------------------------------------
def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: a process of another user has that id
        return True
    return True


def temp_name(target: Path, suffix: str = "tmp") -> Path:
    """A fresh, discoverable hidden sibling of ``target`` (the caller creates it exclusively)."""
    return target.parent / f".{target.name}{TAG}{os.getpid()}-{os.urandom(6).hex()}.{suffix}"


#: Temporaries this process holds right now; removed at interpreter exit if a write was cut short somewhere
#: no handler could see (a safety net: the write paths remove their own).
_LIVE: set[Path] = set()


def _track(p: Path) -> Path:
    _LIVE.add(p)
    return p


@atexit.register
def _remove_live() -> None:
    mine = f"{TAG}{os.getpid()}-"
    for p in list(_LIVE):
        if mine in p.name:  # a forked child never removes its parent's temporaries
            _settle(p, p.parent / p.name[1:].split(TAG)[0])


def _settle(p: Path, target: Path) -> None:
    """Put a backup back when its target is missing; remove any other temporary."""
    with critical():
        if p.name.endswith(".old") and not os.path.lexists(target):
            with contextlib.suppress(OSError):
                os.rename(p, target)
                _LIVE.discard(p)
                return
        _remove(p)


def _remove(p: Path) -> None:
    """Delete a file, link or directory tree (never following a link); missing is fine."""
    _LIVE.discard(p)
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(p, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.unlink(p)


def remove_path(p: Path) -> None:
    """:func:`_remove` with interrupts deferred, so a temporary is removed whole or left for the next write."""
    with critical():
        _remove(p)


def leftovers(target: str | Path) -> list[Path]:
    """trtscope temporaries / backups of ``target`` whose writer process is gone (what a SIGKILL leaves)."""
    t = Path(target)
    prefix = f".{t.name}"
    found = []
    try:
        with os.scandir(t.parent) as it:
            for entry in it:
                if not entry.name.startswith(prefix):
                    continue
                m = _LEFTOVER.match(entry.name, len(prefix))
                if m and not _pid_alive(int(m.group(1))):
                    found.append(t.parent / entry.name)
    except OSError:
        return []
    return sorted(found)


def clean_leftovers(target: str | Path) -> None:
    """Finish what a killed writer of ``target`` left: a backup is put back when the target is missing (the kill
    fell between the two renames of a directory swap), every other temporary is removed."""
    t = Path(target)
    for p in leftovers(t):
        _settle(p, t)


# --- checks -------------------------------------------------------------------------------------------------
def refuse_symlink(p: Path) -> None:
    if p.is_symlink():
        raise OutputError(p, "is a symbolic link; trtscope does not write through links (give the real path, or "
                             "remove the link)")


def ensure_parent(p: Path) -> None:
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(p.parent, f"cannot create directory ({err.strerror or err})") from err


def check_writable(
    path: str | Path,
    *,
    force: bool,
    is_ours: Callable[[Path], bool] | None = None,
    what: str = "trtscope output",
    parent: bool = True,
) -> Path:
    """Refuse an existing output unless ``force``; with ``force`` replace only what ``is_ours`` recognises
    (default: any regular file, an empty directory or a trtscope bundle). Never follows a link. Leftovers of
    a killed earlier write are cleaned first (a lost target is restored). Touches nothing it refuses;
    ``parent``: create the parent directory for the write that follows."""
    p = Path(path)
    clean_leftovers(p)
    refuse_symlink(p)
    if p.exists():
        if not force:
            raise OutputError(p, "already exists; pass --force to overwrite it")
        ours = is_ours(p) if is_ours is not None else _default_ours(p)
        if not ours:
            if not (p.is_dir() or p.is_file()):
                raise OutputError(p, "is neither a file nor a directory (a FIFO, socket or device); refusing to "
                                     "overwrite it")
            kind = "a non-empty directory" if p.is_dir() else "a file"
            raise OutputError(p, f"is {kind} that is not a {what}; refusing to overwrite it")
    if parent:
        ensure_parent(p)
    return p


def _default_ours(p: Path) -> bool:
    if p.is_dir():
        from trtscope.bundle.manifest import is_bundle

        return not any(p.iterdir()) or is_bundle(p)
    return p.is_file()


# --- writing ------------------------------------------------------------------------------------------------
def _fsync_dir(d: Path) -> None:
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(d, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "wb", encoding: str | None = None) -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path``; on success it replaces ``path``, on any error or interrupt it is
    removed and ``path`` is untouched."""
    p = Path(path)
    tmp: Path | None = None
    with interrupt_handlers():
        try:
            with critical():
                clean_leftovers(p)
                fd, name = tempfile.mkstemp(prefix=f".{p.name}{TAG}{os.getpid()}-", suffix=".tmp", dir=p.parent)
                tmp = _track(Path(name))
            with os.fdopen(fd, mode, encoding=encoding if "b" not in mode else None) as fh:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
                os.fchmod(fh.fileno(), FILE_MODE)  # 0600 while incomplete; the usual mode once whole
            with critical():
                os.replace(tmp, p)
                _LIVE.discard(tmp)
                tmp = None
        except BaseException:
            if tmp is not None:
                with critical():
                    _remove(tmp)
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


def make_staging_dir(target: Path) -> Path:
    """A fresh hidden sibling directory (0700 until swapped in) to build ``target`` in."""
    with critical():
        clean_leftovers(target)
        try:
            return _track(Path(tempfile.mkdtemp(prefix=f".{target.name}{TAG}{os.getpid()}-", suffix=".tmp",
                                                dir=target.parent)))
        except OSError as err:
            raise OutputError(target.parent, f"cannot write ({err.strerror or err})") from err


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directory entries (Linux renameat2); False where unavailable or refused."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(rc == 0)


def swap_dir_into_place(staging: Path, target: Path, *, exchange: Callable[[Path, Path], bool] | None = None) -> None:
    """Move a complete ``staging`` directory to ``target``, replacing what is there, so that a kill at any point
    leaves the old target or the new one (see the module docstring); ``staging`` is gone afterwards."""
    exchange = exchange or _exchange
    os.chmod(staging, DIR_MODE)
    old: Path | None = None
    with critical():
        refuse_symlink(target)
        if not os.path.lexists(target):
            os.rename(staging, target)
        elif exchange(staging, target):
            old = staging  # now holds the previous target, under a temporary name
        else:
            old = _track(temp_name(target, "old"))
            os.rename(target, old)
            try:
                os.rename(staging, target)
            except BaseException:
                os.rename(old, target)
                _LIVE.discard(old)
                raise
        if old != staging:
            _LIVE.discard(staging)
    _fsync_dir(target.parent)
    if old is not None:
        remove_path(old)  # cut short here: a leftover with the old content, removed by the next write


def write_dir_atomically(out: Path, files: dict[str, Callable[[IO[bytes]], None]]) -> list[Path]:
    """Write every file into a staging directory, then swap it in (:func:`swap_dir_into_place`). A failure or
    interrupt anywhere removes the staging directory and leaves ``out`` as it was."""
    with interrupt_handlers():
        staging = make_staging_dir(out)
        try:
            for fname, writer in files.items():
                with atomic_open(staging / fname, "wb") as fh:
                    writer(fh)
            swap_dir_into_place(staging, out)
        except BaseException as err:
            with critical():
                _remove(staging)
            if isinstance(err, OSError):
                raise OutputError(out, f"cannot write ({err.strerror or err})") from err
            raise
    return [out / f for f in files]


def write_file_atomically(out: Path, writer: Callable[[IO[bytes]], None]) -> None:
    """``writer(fh)`` into a temporary sibling, then moved over ``out``; errors become one-line OutputErrors."""
    try:
        with atomic_open(out, "wb") as fh:
            writer(fh)
    except OSError as err:
        raise OutputError(out, f"cannot write ({err.strerror or err})") from err
