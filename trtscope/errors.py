"""User-facing errors.

Every problem a user can cause (a missing file, a malformed artifact, a mismatched pair of files, a missing
GPU library) is raised as a :class:`TrtscopeError`. The CLI prints it as one line and exits with code 2, so
no traceback ever reaches the user for bad input; anything else escaping is a bug in trtscope.
"""

from __future__ import annotations

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
