"""Pausing Python's cyclic garbage collector while a transfer builds many objects.

A put of 10,000 files makes hundreds of thousands of objects that live until it ends
(file records, manifest entries, digests). The collector counts them as they are
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

# A put of fewer files keeps the collector running: it makes few objects, and may take
# minutes (a few large files), while a window in the same process goes on making cycles.
PAUSE_GC_FROM_FILES = 1000

_lock = threading.Lock()
_paused = 0  # transfers inside paused_gc() now


def paused_gc() -> GcPause:
    """A pause of the collector for ``with``: see :class:`GcPause`."""
    return GcPause()


class GcPause:
    """No cyclic garbage collection until the last transfer inside one ends.

    ``only_for(files)`` ends it at once for a transfer of few files; ``release()`` ends it
    early whatever the reason.
    """

    def __init__(self) -> None:
        self._owner = False

    def __enter__(self) -> GcPause:
        global _paused
        with _lock:
            if _paused == 0 and not gc.isenabled():
                return self  # the program turned it off itself: leave it so
            self._owner = True
            _paused += 1
            gc.disable()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def only_for(self, files: int) -> None:
        """Keep the pause only for a transfer of ``files`` files or more."""
        if files < PAUSE_GC_FROM_FILES:
            self.release()

    def release(self) -> None:
        global _paused
        with _lock:
            if not self._owner:
                return
            self._owner = False
            _paused -= 1
            if _paused == 0:
                gc.enable()
