"""Ctrl-C, SIGTERM and SIGHUP during a write: turned into exceptions so cleanup runs, deferred in critical sections.

Python turns Ctrl-C into KeyboardInterrupt, but SIGTERM / SIGHUP end the process on the spot, leaving a
half-written temporary. While :func:`interrupt_handlers` is active they raise :class:`Terminated` (a
KeyboardInterrupt) instead, and inside :func:`critical` any of the three waits for the block's end, so a rename
and the bookkeeping that goes with it happen together. Used by :mod:`trtscope.atomic`.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any


class Terminated(KeyboardInterrupt):
    """SIGTERM / SIGHUP arrived during a write: raised like Ctrl-C so every cleanup path runs."""


# --- signals ------------------------------------------------------------------------------------------------
_state = threading.local()  # critical-section depth of this thread
_pending: list[int] = []  # signals that arrived inside a critical section
_handler_depth = 0
_saved: dict[int, Any] = {}


def _in_critical() -> bool:
    return getattr(_state, "depth", 0) > 0


def _raise_for(signum: int) -> None:
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(f"terminated by signal {signum}")


def _raise_pending() -> None:
    if _pending:
        signum = _pending[0]
        _pending.clear()
        _raise_for(signum)


def _handler(signum: int, _frame: FrameType | None) -> None:
    if _in_critical():
        _pending.append(signum)  # raised when the critical section ends
        return
    _raise_for(signum)


@contextlib.contextmanager
def critical() -> Iterator[None]:
    """Defer Ctrl-C / SIGTERM / SIGHUP (while :func:`interrupt_handlers` is active) until the block ends, so a
    rename and its bookkeeping happen together or not at all."""
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        yield
    finally:
        _state.depth -= 1
    if not _state.depth:
        _raise_pending()


def _catchable() -> list[int]:
    names = ("SIGINT", "SIGTERM", "SIGHUP")
    return [getattr(signal, n) for n in names if hasattr(signal, n)]


@contextlib.contextmanager
def interrupt_handlers() -> Iterator[None]:
    """While writing, Ctrl-C, SIGTERM and SIGHUP raise (KeyboardInterrupt / :class:`Terminated`) instead of
    ending the process on the spot, so temporaries are removed. Only signals still at their default
    disposition are taken over (an application's own handlers stay), and only in the main thread; nested
    uses share one installation."""
    global _handler_depth
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if not _handler_depth:
        for sig in _catchable():
            current = signal.getsignal(sig)
            if current is (signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL):
                _saved[sig] = current
                signal.signal(sig, _handler)
    _handler_depth += 1
    ok = False
    try:
        yield
        ok = True
    finally:
        _handler_depth -= 1
        if not _handler_depth:
            for sig, old in _saved.items():
                signal.signal(sig, old)
            _saved.clear()
            if ok:
                _raise_pending()  # a signal deferred by a critical section that ended in an error
            _pending.clear()
