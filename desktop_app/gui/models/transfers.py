"""The transfer queue as a table: what, direction, progress, bytes, speed, time left, state.

Speed and time left are worked out here from the progress the queue reports, not by the
worker: each update of a running job adds a ``(time, done_bytes)`` sample, and the speed is
the slope over the last few seconds of samples. The clock is injected so tests can drive it.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QApplication, QStyle

from desktop_app.client.transfers import Job, JobKind, JobState
from desktop_app.client.units import format_size
from desktop_app.gui.i18n import tr
from desktop_app.gui.models.row_table import RowTableModel

Index = QModelIndex | QPersistentModelIndex
Clock = Callable[[], float]

# Seconds of (time, done_bytes) samples the speed is measured over.
SPEED_WINDOW = 5.0


class Role(enum.IntEnum):
    JOB_ID = Qt.ItemDataRole.UserRole + 1
    KIND = enum.auto()  # JobKind
    STATE = enum.auto()  # JobState
    PROGRESS = enum.auto()  # float, 0..1
    SPEED = enum.auto()  # float, bytes per second (0.0 when not known)
    ETA = enum.auto()  # float seconds, or None when not known
    JOB = enum.auto()  # the Job itself


class Column(enum.IntEnum):
    WHAT = 0
    DIRECTION = 1
    PROGRESS = 2
    BYTES = 3
    SPEED = 4
    TIME_LEFT = 5
    STATE = 6


_HEADERS = {
    Column.WHAT: "What",
    Column.DIRECTION: "Direction",
    Column.PROGRESS: "Progress",
    Column.BYTES: "Bytes",
    Column.SPEED: "Speed",
    Column.TIME_LEFT: "Time left",
    Column.STATE: "State",
}
_RIGHT_ALIGNED = {Column.BYTES, Column.SPEED, Column.TIME_LEFT}
_ICONS = {
    JobKind.UPLOAD: QStyle.StandardPixmap.SP_ArrowUp,
    JobKind.DOWNLOAD: QStyle.StandardPixmap.SP_ArrowDown,
    JobKind.PIN: QStyle.StandardPixmap.SP_DriveHDIcon,  # kept on this disk
}


def direction_text(kind: JobKind) -> str:
    return {
        JobKind.UPLOAD: tr("Upload"),
        JobKind.DOWNLOAD: tr("Download"),
        JobKind.PIN: tr("Keep offline"),
    }[kind]


def first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


def state_text(job: Job) -> str:
    """The state in words, with the first line of the error or the result."""
    state = job.state
    if state is JobState.QUEUED:
        return tr("Queued")
    if state is JobState.RUNNING:
        return tr("Running")
    if state is JobState.PAUSED:
        return tr("Paused")
    if state is JobState.WAITING:
        return tr("Waiting for the server (retrying)")
    if state is JobState.FAILED:
        error = first_line(job.error)
        return tr("Failed: {error}").format(error=error) if error else tr("Failed")
    if state is JobState.CANCELLED:
        return tr("Cancelled")
    result = first_line(job.result)
    return tr("Done: {result}").format(result=result) if result else tr("Done")


def format_duration(seconds: float) -> str:
    """``12 s``, ``2 min 5 s`` or ``1 h 4 min``, rounded up to the next whole second."""
    total = max(0, int(-(-seconds // 1)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return tr("{h} h {m} min").format(h=hours, m=minutes)
    if minutes:
        return tr("{m} min {s} s").format(m=minutes, s=secs)
    return tr("{s} s").format(s=secs)


def format_speed(bytes_per_second: float) -> str:
    return tr("{size}/s").format(size=format_size(int(bytes_per_second)))


def progress_of(job: Job) -> float:
    """The share of the job done, 0..1; a done job is whole even when its size was unknown."""
    if job.state is JobState.DONE:
        return 1.0
    if job.total_bytes <= 0:
        return 0.0
    return min(1.0, max(0.0, job.done_bytes / job.total_bytes))


@dataclass
class _Row:
    job: Job
    samples: deque[tuple[float, int]] = field(default_factory=deque)
    speed: float | None = None


class TransferTableModel(RowTableModel):
    """Every job of the transfer queue as a row, updated in place as progress arrives."""

    def __init__(self, parent: QObject | None = None, *, clock: Clock = time.monotonic) -> None:
        super().__init__(parent)
        self._clock = clock
        self._rows: list[_Row] = []
        self._row_of: dict[int, int] = {}

    # -- filling ---------------------------------------------------------------------------
    def set_jobs(self, jobs: Sequence[Job]) -> None:
        """Show exactly ``jobs`` (speed measurements start over)."""
        self.beginResetModel()
        self._rows = []
        for job in jobs:
            row = _Row(job)
            self._sample(row)
            self._rows.append(row)
        self._reindex()
        self.endResetModel()

    def upsert(self, job: Job) -> bool:
        """Add ``job`` as a new last row, or update its row (one ``dataChanged``).

        Returns whether the job is new or its state changed: progress alone (ten times a
        second while a transfer runs) changes nothing that depends on states.
        """
        position = self._row_of.get(job.id)
        if position is None:
            position = len(self._rows)
            self.beginInsertRows(QModelIndex(), position, position)
            row = _Row(job)
            self._sample(row)
            self._rows.append(row)
            self._row_of[job.id] = position
            self.endInsertRows()
            return True
        row = self._rows[position]
        state_changed = row.job.state is not job.state
        row.job = job
        self._sample(row)
        self.dataChanged.emit(self.index(position, 0), self.index(position, len(Column) - 1))
        return state_changed

    def remove(self, job_id: int) -> None:
        """Drop the row of ``job_id``; nothing happens when there is none."""
        position = self._row_of.get(job_id)
        if position is None:
            return
        self.beginRemoveRows(QModelIndex(), position, position)
        del self._rows[position]
        self._reindex()
        self.endRemoveRows()

    def _reindex(self) -> None:
        self._row_of = {row.job.id: i for i, row in enumerate(self._rows)}

    def _sample(self, row: _Row) -> None:
        """Record progress of a running job and measure its speed over the recent window."""
        job = row.job
        if job.state is not JobState.RUNNING:
            row.samples.clear()
            row.speed = None
            return
        now = self._clock()
        samples = row.samples
        if samples and job.done_bytes < samples[-1][1]:
            samples.clear()  # started over (e.g. the server lost a partial upload)
        samples.append((now, job.done_bytes))
        # Keep one sample at or before the window's start so the window is covered whole.
        while len(samples) > 2 and samples[1][0] <= now - SPEED_WINDOW:
            samples.popleft()
        first_time, first_bytes = samples[0]
        elapsed = now - first_time
        if elapsed > 0:
            row.speed = (job.done_bytes - first_bytes) / elapsed
        elif len(samples) == 1:
            row.speed = None

    # -- looking up ------------------------------------------------------------------------
    def job(self, row: int) -> Job | None:
        return self._rows[row].job if 0 <= row < len(self._rows) else None

    def row_for_id(self, job_id: int) -> int:
        return self._row_of.get(job_id, -1)

    def jobs(self) -> list[Job]:
        return [row.job for row in self._rows]

    def speed(self, row: int) -> float | None:
        """Bytes per second of a running job, None when not running or not measured yet."""
        return self._rows[row].speed if 0 <= row < len(self._rows) else None

    def eta(self, row: int) -> float | None:
        """Seconds left for a running job of known size at its current speed."""
        if not 0 <= row < len(self._rows):
            return None
        entry = self._rows[row]
        job = entry.job
        if job.state is not JobState.RUNNING or not entry.speed or job.total_bytes <= 0:
            return None
        return max(0, job.total_bytes - job.done_bytes) / entry.speed

    # -- the model interface ---------------------------------------------------------------
    def headers(self) -> list[str]:
        return [tr(_HEADERS[column]) for column in Column]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        job = self._rows[index.row()].job
        column = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(index.row(), column)
        if role == Qt.ItemDataRole.DecorationRole and column is Column.WHAT:
            return QApplication.style().standardIcon(_ICONS[job.kind])
        if role == Qt.ItemDataRole.ToolTipRole:
            if column is Column.STATE:
                return job.error or job.result or state_text(job)
            if column is Column.WHAT:
                return job.title
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and column in _RIGHT_ALIGNED:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return self._role_data(index.row(), role)

    def _display(self, row: int, column: Column) -> object:
        job = self._rows[row].job
        if column is Column.WHAT:
            return job.title
        if column is Column.DIRECTION:
            return direction_text(job.kind)
        if column is Column.PROGRESS:
            return round(progress_of(job) * 100)
        if column is Column.BYTES:
            if job.total_bytes <= 0:
                return format_size(job.done_bytes) if job.done_bytes else ""
            return tr("{done} of {total}").format(
                done=format_size(job.done_bytes), total=format_size(job.total_bytes)
            )
        if column is Column.SPEED:
            speed = self.speed(row)
            return format_speed(speed) if speed is not None else ""
        if column is Column.TIME_LEFT:
            eta = self.eta(row)
            return format_duration(eta) if eta is not None else ""
        return state_text(job)

    def _role_data(self, row: int, role: int) -> object:
        job = self._rows[row].job
        if role == Role.JOB_ID:
            return job.id
        if role == Role.KIND:
            return job.kind
        if role == Role.STATE:
            return job.state
        if role == Role.PROGRESS:
            return progress_of(job)
        if role == Role.SPEED:
            return self.speed(row) or 0.0
        if role == Role.ETA:
            return self.eta(row)
        if role == Role.JOB:
            return job
        return None
