"""The Transfers dock: every upload, download and pin with its progress, and their actions.

The panel only asks (``*_requested`` signals with the job id); the queue decides and its
answer comes back through :meth:`TransfersPanel.on_job_changed`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, Qt, Signal, Slot
from PySide6.QtGui import QAction, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.client.transfers import Job, JobState
from desktop_app.gui.i18n import tr
from desktop_app.gui.models.transfers import Column, Role, TransferTableModel

_PAUSABLE = (JobState.QUEUED, JobState.RUNNING, JobState.WAITING)
_RETRYABLE = (JobState.FAILED, JobState.CANCELLED)
_CLEARABLE = (JobState.DONE, JobState.CANCELLED)


class ProgressDelegate(QStyledItemDelegate):
    """Draws ``Role.PROGRESS`` as a progress bar with the percentage on it."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        progress = index.data(Role.PROGRESS)
        if progress is None:
            super().paint(painter, option, index)
            return
        percent = round(float(progress) * 100)
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, option.palette.highlight())
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 3, -2, -3)
        bar.minimum = 0
        bar.maximum = 100
        bar.progress = percent
        bar.text = tr("{percent}%").format(percent=percent)
        bar.textVisible = True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        bar.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, widget)


def summary_text(jobs: Sequence[Job]) -> str:
    """``2 running, 3 queued, 1 failed``: the states with jobs in them, or that none are."""
    counts = Counter(job.state for job in jobs)
    parts = [
        text.format(n=counts[state])
        for state, text in (
            (JobState.RUNNING, tr("{n} running")),
            (JobState.QUEUED, tr("{n} queued")),
            (JobState.WAITING, tr("{n} waiting")),
            (JobState.PAUSED, tr("{n} paused")),
            (JobState.FAILED, tr("{n} failed")),
        )
        if counts[state]
    ]
    return ", ".join(parts) if parts else tr("No transfers in progress")


class TransfersPanel(QDockWidget):
    """A table of the transfer queue with pause, resume, cancel, retry and clear finished."""

    pause_requested = Signal(int)
    resume_requested = Signal(int)
    cancel_requested = Signal(int)
    retry_requested = Signal(int)
    clear_finished_requested = Signal()

    def __init__(self, parent: QWidget | None = None, *, model: TransferTableModel | None = None):
        super().__init__(tr("Transfers"), parent)
        self.setObjectName("transfersPanel")
        self.model = model if model is not None else TransferTableModel(self)

        self.table = QTableView()
        self.table.setObjectName("transfersTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.progress_delegate = ProgressDelegate(self.table)
        self.table.setItemDelegateForColumn(Column.PROGRESS, self.progress_delegate)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(Column.WHAT, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(Column.STATE, QHeaderView.ResizeMode.Stretch)
        # Wide enough for the longest sizes, so "9.8 KiB of 9.8 KiB" is not cut short.
        widest = tr("{done} of {total}").format(done="999.9 MiB", total="999.9 MiB")
        header.resizeSection(Column.BYTES, self.table.fontMetrics().horizontalAdvance(widest) + 16)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

        self.summary = QLabel()
        self.summary.setObjectName("transfersSummary")

        self.pause_action = self._action("pauseTransfer", tr("Pause"), self._on_pause)
        self.resume_action = self._action("resumeTransfer", tr("Resume"), self._on_resume)
        self.cancel_action = self._action("cancelTransfer", tr("Cancel"), self._on_cancel)
        self.retry_action = self._action("retryTransfer", tr("Retry"), self._on_retry)
        self.clear_action = self._action("clearFinished", tr("Clear finished"), self._on_clear)
        job_actions = (self.pause_action, self.resume_action, self.cancel_action, self.retry_action)

        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.summary, 1)
        for action in (*job_actions, self.clear_action):
            button = QToolButton()
            button.setObjectName(action.objectName())
            button.setDefaultAction(action)
            buttons.addWidget(button)

        self.context_menu = QMenu(self)
        self.context_menu.setObjectName("transfersContextMenu")
        self.context_menu.addActions(list(job_actions))
        self.context_menu.addSeparator()
        self.context_menu.addAction(self.clear_action)

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(buttons)
        layout.addWidget(self.table)
        self.setWidget(body)

        self.table.selectionModel().selectionChanged.connect(self._refresh)
        self.table.customContextMenuRequested.connect(self.on_table_context_menu_requested)
        # The buttons and the summary depend on the jobs' states only: they are redone when
        # rows come or go, and by on_job_changed when a state changes, not on progress.
        for signal in (self.model.rowsRemoved, self.model.modelReset):
            signal.connect(self._refresh)
        self._refresh()

    def _action(self, name: str, text: str, slot: Callable[[], None]) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        action.triggered.connect(slot)
        return action

    # -- what the queue reports ------------------------------------------------------------
    @Slot(object)
    def on_job_changed(self, job: Job) -> None:
        """A job was added or moved on: show it and what can be done with it now."""
        if self.model.upsert(job):
            self._refresh()

    @Slot(int)
    def on_job_removed(self, job_id: int) -> None:
        self.model.remove(job_id)

    @Slot(list)
    def on_jobs_loaded(self, jobs: list[Job]) -> None:
        self.model.set_jobs(jobs)

    # -- selection and actions -------------------------------------------------------------
    def selected_job(self) -> Job | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        job: Job | None = rows[0].data(Role.JOB)
        return job

    def select_job(self, job_id: int) -> None:
        row = self.model.row_for_id(job_id)
        if row < 0:
            self.table.clearSelection()
        else:
            self.table.selectRow(row)

    def _refresh(self) -> None:
        job = self.selected_job()
        state = job.state if job is not None else None
        self.pause_action.setEnabled(state in _PAUSABLE)
        self.resume_action.setEnabled(state is JobState.PAUSED)
        self.cancel_action.setEnabled(state is not None and not state.finished)
        self.retry_action.setEnabled(state in _RETRYABLE)
        jobs = self.model.jobs()
        self.clear_action.setEnabled(any(j.state in _CLEARABLE for j in jobs))
        self.summary.setText(summary_text(jobs))

    def _selected_id(self) -> int | None:
        job = self.selected_job()
        return job.id if job is not None else None

    def _on_pause(self) -> None:
        if (job_id := self._selected_id()) is not None:
            self.pause_requested.emit(job_id)

    def _on_resume(self) -> None:
        if (job_id := self._selected_id()) is not None:
            self.resume_requested.emit(job_id)

    def _on_cancel(self) -> None:
        if (job_id := self._selected_id()) is not None:
            self.cancel_requested.emit(job_id)

    def _on_retry(self) -> None:
        if (job_id := self._selected_id()) is not None:
            self.retry_requested.emit(job_id)

    def _on_clear(self) -> None:
        self.clear_finished_requested.emit()

    @Slot(QPoint)
    def on_table_context_menu_requested(self, pos: QPoint) -> None:
        """Select the row under the pointer and offer the actions for it."""
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        self.table.selectRow(index.row())
        self.context_menu.popup(self.table.viewport().mapToGlobal(pos))
