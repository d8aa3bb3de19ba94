"""Tell the user a long transfer finished or failed while they were looking elsewhere."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QApplication, QStyle, QSystemTrayIcon, QWidget

from desktop_app.client.transfers import Job, JobKind, JobState
from desktop_app.gui.i18n import tr

# Jobs shorter than this finish while the user is still watching; no notification.
DEFAULT_MIN_SECONDS = 10.0


def first_line(text: str | None) -> str:
    stripped = (text or "").strip()
    return stripped.splitlines()[0] if stripped else ""


def notification_for(job: Job) -> tuple[str, str] | None:
    """The title and message for a finished job, or None for one that needs no word."""
    if job.state is JobState.DONE:
        title = {
            JobKind.UPLOAD: tr("Upload finished"),
            JobKind.DOWNLOAD: tr("Download finished"),
            JobKind.PIN: tr("Available offline"),
        }[job.kind]
        result = first_line(job.result)
        return title, (f"{job.title}: {result}" if result else job.title)
    if job.state is JobState.FAILED:
        title = {
            JobKind.UPLOAD: tr("Upload failed"),
            JobKind.DOWNLOAD: tr("Download failed"),
            JobKind.PIN: tr("Keeping offline failed"),
        }[job.kind]
        error = first_line(job.error) or tr("unknown error")
        message = tr("{title}: {error}. Retry it from the Transfers panel.").format(
            title=job.title, error=error.rstrip(".")
        )
        return title, message
    return None  # cancelled by the user, or not finished


class Notifier(QObject):
    """Announces finished jobs that ran long while the main window was not active.

    ``notified`` (title, message) is emitted for every such job, so the status bar can show
    it too; a desktop notification goes out as well when there is a system tray.
    """

    notified = Signal(str, str)

    def __init__(
        self,
        window: QWidget,
        *,
        min_seconds: float = DEFAULT_MIN_SECONDS,
        tray_available: Callable[[], bool] = QSystemTrayIcon.isSystemTrayAvailable,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._min_seconds = min_seconds
        self._tray_available = tray_available
        self._tray: QSystemTrayIcon | None = None

    @property
    def tray(self) -> QSystemTrayIcon | None:
        """The tray icon, once a notification needed it."""
        return self._tray

    @Slot(object)
    def job_finished(self, job: Job) -> None:
        """Notify about ``job`` if it ran at least ``min_seconds`` and the window is inactive."""
        if self._window.isActiveWindow():
            return
        if job.updated_at - job.created_at < self._min_seconds:
            return
        notification = notification_for(job)
        if notification is None:
            return
        title, message = notification
        self.notified.emit(title, message)
        tray = self._ensure_tray()
        if tray is not None:
            icon = (
                QSystemTrayIcon.MessageIcon.Warning
                if job.state is JobState.FAILED
                else QSystemTrayIcon.MessageIcon.Information
            )
            tray.showMessage(title, message, icon)

    def _ensure_tray(self) -> QSystemTrayIcon | None:
        if self._tray is None and self._tray_available():
            icon = self._window.windowIcon()
            if icon.isNull():
                icon = QApplication.style().standardIcon(QStyle.StandardPixmap.SP_ComputerIcon)
            self._tray = QSystemTrayIcon(icon, self)
            self._tray.setToolTip(tr("Artifact Desk"))
            self._tray.show()
        return self._tray
