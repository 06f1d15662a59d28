"""Opening the user's input files, with every OS failure turned into a one-line :class:`InputError`.

Kept free of pandas so the earliest readers (the ONNX wire walker, the CLI) can use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from trtscope.errors import InputError


def open_input(path: str | Path, expected: str = "a file") -> BinaryIO:
    """``open(path, "rb")``; a missing file, a directory or an unreadable file is an InputError naming it."""
    p = Path(path)
    try:
        return open(p, "rb")
    except FileNotFoundError as err:
        raise InputError(p, "no such file") from err
    except IsADirectoryError as err:
        raise InputError(p, f"is a directory, expected {expected}") from err
    except OSError as err:
        raise InputError(p, f"cannot read ({err.strerror or err})") from err


def read_input(path: str | Path, limit: int = -1, expected: str = "a file") -> bytes:
    """The file's bytes (the first ``limit`` of them when ``limit`` >= 0), errors as in :func:`open_input`."""
    with open_input(path, expected) as fh:
        try:
            return fh.read(limit)
        except OSError as err:
            raise InputError(path, f"cannot read ({err.strerror or err})") from err
