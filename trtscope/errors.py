"""User-facing errors.

Every problem a user can cause (a missing file, a malformed artifact, a mismatched pair of files, a missing
GPU library) is raised as a :class:`TrtscopeError`. The CLI prints it as one line and exits with code 2, so
no traceback ever reaches the user for bad input; anything else escaping is a bug in trtscope.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class TrtscopeError(Exception):
    """A problem the user can fix; ``str(err)`` is one line suitable for a terminal."""

    exit_code = 2


class InputError(TrtscopeError):
    """An input file (or directory) that trtscope cannot use, naming the file and the problem."""

    def __init__(self, path: str | Path | None, problem: str) -> None:
        self.path = None if path is None else str(path)
        self.problem = " ".join(str(problem).split())  # always one line
        super().__init__(f"{self.path}: {self.problem}" if self.path else self.problem)


class MissingDependencyError(TrtscopeError):
    """An optional dependency (TensorRT, NVML, CUPTI, a GPU) that a command needs is not available."""

    def __init__(self, what: str, how: str) -> None:
        self.what = what
        self.how = how
        super().__init__(f"{what} is not available: {how}")


class OutputError(TrtscopeError):
    """An output path that trtscope refuses to write (exists without --force, not writable)."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = " ".join(str(problem).split())  # always one line
        super().__init__(f"{self.path}: {self.problem}")



class ReaderFailure(InputError):
    """An input that made a reader fail in a way it does not check for explicitly (caught at the reader's
    boundary, see :func:`reading`); the original exception is its ``__cause__`` (shown with TRTSCOPE_DEBUG=1)."""


#: Programming errors: never disguised as bad input.
_BUGS = (NameError, ImportError, SyntaxError, AssertionError, NotImplementedError)


@contextmanager
def reading(path: str | Path | None, what: str) -> Iterator[None]:
    """The exception boundary of one reader: whatever the data makes the reader raise becomes a one-line
    :class:`InputError` naming the file (a :class:`ReaderFailure` when it was not checked for explicitly).

    Errors of trtscope itself (NameError, AssertionError...) pass through as they are: they are bugs.
    """
    try:
        yield
    except TrtscopeError:
        raise
    except RecursionError as err:
        raise ReaderFailure(path, f"{what}: nested too deeply to read") from err
    except MemoryError as err:
        raise ReaderFailure(path, f"{what}: too large to read in the memory available") from err
    except _BUGS:
        raise
    except Exception as err:
        detail = " ".join(str(err).split())[:200]
        raise ReaderFailure(path, f"cannot read {what} ({type(err).__name__}: {detail})") from err
