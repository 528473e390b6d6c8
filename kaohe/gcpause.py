"""Pausing Python's cyclic garbage collector around large, acyclic bulk work.

A 100k-row import or a 30,000-unit recompute allocates hundreds of thousands of short-lived, acyclic
objects (rows, records, lists) that reference counting frees on its own; meanwhile the cyclic collector,
triggered by the allocation count, walks the whole growing heap again and again (0.3 s per import,
~1.5 s per recompute, measured). `paused()` turns it off for the duration; nested and concurrent uses
share one count, and the collector comes back with the last one out. Entered and left on one thread
(the event loop's).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_holders = 0


@contextlib.contextmanager
def paused() -> Iterator[None]:
    global _holders
    if _holders == 0 and not gc.isenabled():  # disabled by someone else: not ours to re-enable
        yield
        return
    _holders += 1
    gc.disable()
    try:
        yield
    finally:
        _holders -= 1
        if _holders == 0:
            gc.enable()
