"""Opening the user's input files, with every OS failure turned into a one-line :class:`InputError`.

Only regular files are opened: a FIFO, socket or device named as an input (or met in a directory or a
bundle) would block or never end, so it is refused before any byte is read. Reads can be bounded by size.
Kept free of pandas so the earliest readers (the ONNX wire walker, the CLI) can use it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from trtscope.errors import InputError

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def open_input(path: str | Path, expected: str = "a file", *, max_bytes: int | None = None) -> BinaryIO:
    """``open(path, "rb")`` for a regular file only; a missing file, a directory, a FIFO / socket / device,
    an unreadable file or (with ``max_bytes``) a file larger than that is an InputError naming it.

    The file is opened non-blocking and checked with ``fstat`` on the open descriptor, so a FIFO never blocks
    and a file swapped between a check and the open is still checked.
    """
    p = Path(path)
    try:
        fd = os.open(p, _FLAGS)
    except FileNotFoundError as err:
        raise InputError(p, "no such file") from err
    except IsADirectoryError as err:
        raise InputError(p, f"is a directory, expected {expected}") from err
    except OSError as err:
        raise InputError(p, f"cannot read ({err.strerror or err})") from err
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(p, f"is {_kind(st.st_mode)}, expected {expected}")
        if max_bytes is not None and st.st_size > max_bytes:
            raise InputError(p, f"is {st.st_size:,} bytes, more than the {max_bytes:,} this reader accepts for "
                             f"{expected}")
        if _FLAGS & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_input(path: str | Path, limit: int = -1, expected: str = "a file", *, max_bytes: int | None = None) -> bytes:
    """The file's bytes (the first ``limit`` of them when ``limit`` >= 0), errors as in :func:`open_input`."""
    with open_input(path, expected, max_bytes=max_bytes) as fh:
        try:
            return fh.read(limit)
        except OSError as err:
            raise InputError(path, f"cannot read ({err.strerror or err})") from err


#: Suffixes of documents and code: never artifacts when met in a directory (named explicitly, they are read).
DOCUMENT_SUFFIXES = frozenset({
    ".md", ".markdown", ".rst", ".adoc", ".html", ".htm", ".pdf", ".py", ".sh", ".ipynb", ".cfg", ".toml",
    ".yaml", ".yml", ".ini", ".c", ".cc", ".cpp", ".h", ".hpp", ".png", ".jpg", ".jpeg", ".svg", ".csv",
})
#: Stems of project documents (``LICENSE``, ``README.txt``, ``SOURCE.md``...).
DOCUMENT_STEMS = frozenset({"license", "licence", "copying", "notice", "readme", "source", "authors",
                            "changelog", "changes", "contributing"})


def is_document(path: str | Path) -> bool:
    """A document or source file that a directory scan skips (decided by name: its content may well quote
    log lines)."""
    p = Path(path)
    stem = p.name.split(".")[0].lower()
    stem = stem.removesuffix("-apache-2").removesuffix("-apache-2.0")
    return p.suffix.lower() in DOCUMENT_SUFFIXES or stem in DOCUMENT_STEMS or stem.startswith(("license-",
                                                                                              "licence-"))
