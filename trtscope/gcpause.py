"""Pausing Python's cyclic garbage collector around bulk parsing.

Reading a 20,000-layer engine allocates a few million containers (JSON objects, lists of names) that all stay
alive; each allocation burst makes the collector rescan the whole growing heap, for nothing — these objects
form no cycles. Pausing the collector while artifacts load and are analysed saves about 15 % of the time of
``trtscope report`` on large inputs. Reference counting still frees everything as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
