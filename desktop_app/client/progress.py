"""Progress and cancellation callbacks shared by every slow client operation."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from desktop_app.core.errors import CancelledError

ProgressCallback = Callable[[int, int], None]
"""Called with ``(done_bytes, total_bytes)``."""

CancelCheck = Callable[[], bool]
"""Returns True once the user asked to stop."""

DEFAULT_INTERVAL = 0.1


def check_cancelled(is_cancelled: CancelCheck | None, what: str = "the operation") -> None:
    """Raise CancelledError when ``is_cancelled`` says the user asked to stop."""
    if is_cancelled is not None and is_cancelled():
        raise CancelledError(f"{what} was cancelled by the user")


class Throttle:
    """Forward progress at most once per ``interval`` seconds, plus one final update.

    Thread-safe: several workers may call :meth:`add` at once; the callback always sees
    a growing ``done`` value.
    """

    def __init__(
        self,
        callback: ProgressCallback | None,
        total: int,
        *,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._callback = callback
        self._total = total
        self._interval = interval
        self._clock = clock
        self._done = 0
        self._last_emit: float | None = None
        self._lock = threading.Lock()

    @property
    def done(self) -> int:
        """Bytes reported so far."""
        return self._done

    @property
    def total(self) -> int:
        """The total the callback is told about."""
        return self._total

    def add(self, n: int) -> None:
        """Count ``n`` more bytes; report if the interval has passed."""
        with self._lock:
            self._done += n
            if self._callback is None:
                return
            now = self._clock()
            if self._last_emit is None or now - self._last_emit >= self._interval:
                self._last_emit = now
                self._callback(self._done, self._total)

    def finish(self) -> None:
        """Always report the final state once."""
        with self._lock:
            if self._callback is not None:
                self._last_emit = self._clock()
                self._callback(self._done, self._total)
