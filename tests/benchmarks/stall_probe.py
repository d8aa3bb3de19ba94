"""How long the GUI thread's event loop stalls: a precise timer that notes each tick.

A stall is the longest gap between two ticks minus the interval. Shared by the GUI
benchmarks; import it by name (``tests/benchmarks`` holds a conftest, so it is on the path).
"""

from __future__ import annotations

import itertools
import statistics
import time

from PySide6.QtCore import QObject, Qt, QTimer

TICK_MS = 5


class TickRecorder(QObject):
    """A precise timer in the GUI thread that notes when each tick really came."""

    def __init__(self, interval_ms: int = TICK_MS) -> None:
        super().__init__()
        self.interval_s = interval_ms / 1000
        self._timer = QTimer(self)
        self._timer.setObjectName("stallProbe")
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._ticks: list[float] = []

    def start(self) -> None:
        self._ticks = [time.perf_counter()]
        self._timer.start()

    def stop(self) -> list[float]:
        """Stop and return the gaps between ticks, in seconds."""
        self._timer.stop()
        ticks = self._ticks
        return [b - a for a, b in itertools.pairwise(ticks)]

    @property
    def ticks(self) -> list[float]:
        """When each tick came (``perf_counter``), the start included."""
        return list(self._ticks)

    def _on_timer_timeout(self) -> None:
        self._ticks.append(time.perf_counter())


def stall(gaps: list[float], interval_s: float) -> float:
    """The longest gap beyond the interval (0 without ticks)."""
    return max(gaps) - interval_s if gaps else 0.0


def split_at_call(ticks: list[float], start: float, end: float) -> tuple[float, list[float]]:
    """``(response, other gaps)`` around a call the GUI thread made itself, such as a click.

    ``response`` runs from the call's ``start`` to the first tick after its ``end``: the
    loop serves timers again only once the repaint the call asked for is done. The other
    gaps are those that do not span the call.
    """
    after = [tick for tick in ticks if tick >= end]
    response = (after[0] if after else end) - start
    others = [b - a for a, b in itertools.pairwise(ticks) if b <= start or a >= end]
    return response, others


def p99(gaps: list[float]) -> float:
    return statistics.quantiles(gaps, n=100)[98] if len(gaps) > 1 else 0.0
