"""Pausing Python's cyclic garbage collector while a transfer builds many objects.

A put or get of 10,000 files makes hundreds of thousands of objects that live until it
ends (file records, manifest entries, digests). The collector counts them as they are
made and, every so often, walks every object in the process: in the benchmark's process
13 full collections during 11 puts took a second in all. In a training script the heap
is larger still. None of those objects form cycles, so nothing is gained by walking them.

The pause is process-wide, as the collector is. Overlapping transfers nest correctly:
only the one that found the collector enabled enables it again. Reference counting
still frees everything as usual; only cycles wait until the transfer ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# A put of fewer files keeps the collector running: it makes few objects, and may take
# minutes (a few large files), while a window in the same process goes on making cycles.
PAUSE_GC_FROM_FILES = 1000

_lock = threading.Lock()
_paused = 0  # transfers inside paused_gc() now


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection until the last transfer inside this one ends."""
    global _paused
    with _lock:
        if _paused == 0 and not gc.isenabled():
            owner = False  # the program turned it off itself: leave it so
        else:
            owner = True
            _paused += 1
            gc.disable()
    try:
        yield
    finally:
        if owner:
            with _lock:
                _paused -= 1
                if _paused == 0:
                    gc.enable()
