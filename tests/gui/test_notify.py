"""Notifications: only for long jobs that finish while the window is not active."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtWidgets import QMainWindow, QSystemTrayIcon
from pytestqt.qtbot import QtBot
from test_transfers_model import make_job

from desktop_app.client.transfers import Job, JobKind, JobState
from desktop_app.gui.notify import Notifier, notification_for


def finished(
    kind: JobKind,
    state: JobState,
    *,
    seconds: float = 60.0,
    error: str | None = None,
    result: str | None = None,
) -> Job:
    job = make_job(1, kind, state, error=error, result=result)
    return dataclasses.replace(job, created_at=1000.0, updated_at=1000.0 + seconds)


def make_notifier(qtbot: QtBot, **kwargs: object) -> tuple[QMainWindow, Notifier]:
    window = QMainWindow()
    qtbot.addWidget(window)
    kwargs.setdefault("tray_available", lambda: False)
    return window, Notifier(window, **kwargs)  # type: ignore[arg-type]


def test_a_long_job_finishing_in_the_background_is_announced(qtbot: QtBot) -> None:
    window, notifier = make_notifier(qtbot)
    assert not window.isActiveWindow()
    with qtbot.waitSignal(notifier.notified, timeout=1000) as blocker:
        notifier.job_finished(finished(JobKind.UPLOAD, JobState.DONE, result="raw:v3"))
    assert blocker.args == ["Upload finished", "job 1: raw:v3"]
    assert notifier.tray is None  # no system tray here: the signal is all there is


def test_a_short_job_is_not_announced(qtbot: QtBot) -> None:
    _, notifier = make_notifier(qtbot, min_seconds=30.0)
    with qtbot.assertNotEmitted(notifier.notified):
        notifier.job_finished(finished(JobKind.DOWNLOAD, JobState.DONE, seconds=29.0))
    with qtbot.waitSignal(notifier.notified, timeout=1000):
        notifier.job_finished(finished(JobKind.DOWNLOAD, JobState.DONE, seconds=31.0))


def test_nothing_is_announced_while_the_window_is_active(qtbot: QtBot) -> None:
    window, notifier = make_notifier(qtbot)
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    assert window.isActiveWindow()
    with qtbot.assertNotEmitted(notifier.notified):
        notifier.job_finished(finished(JobKind.UPLOAD, JobState.FAILED, error="boom"))


def test_a_cancelled_job_is_not_announced(qtbot: QtBot) -> None:
    _, notifier = make_notifier(qtbot)
    with qtbot.assertNotEmitted(notifier.notified):
        notifier.job_finished(finished(JobKind.UPLOAD, JobState.CANCELLED))


def test_a_failure_says_what_failed_and_what_to_do(qtbot: QtBot) -> None:
    _, notifier = make_notifier(qtbot)
    error = "connection refused.\nhttp://localhost:1 did not answer"
    with qtbot.waitSignal(notifier.notified, timeout=1000) as blocker:
        notifier.job_finished(finished(JobKind.DOWNLOAD, JobState.FAILED, error=error))
    title, message = blocker.args
    assert title == "Download failed"
    assert message == "job 1: connection refused. Retry it from the Transfers panel."


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        (finished(JobKind.DOWNLOAD, JobState.DONE, result="/tmp/out"), "Download finished"),
        (finished(JobKind.PIN, JobState.DONE), "Available offline"),
        (finished(JobKind.UPLOAD, JobState.FAILED), "Upload failed"),
        (finished(JobKind.PIN, JobState.FAILED, error="disk full"), "Keeping offline failed"),
    ],
)
def test_titles_per_kind_and_outcome(job: Job, expected: str) -> None:
    notification = notification_for(job)
    assert notification is not None
    assert notification[0] == expected
    assert notification[1].startswith("job 1")


def test_running_or_queued_jobs_have_no_notification() -> None:
    assert notification_for(make_job(state=JobState.RUNNING)) is None
    assert notification_for(make_job(state=JobState.QUEUED)) is None


def test_the_tray_icon_is_made_once_and_only_when_needed(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[tuple[str, str, QSystemTrayIcon.MessageIcon]] = []

    def show_message(
        tray: QSystemTrayIcon, title: str, message: str, icon: QSystemTrayIcon.MessageIcon
    ) -> None:
        shown.append((title, message, icon))

    monkeypatch.setattr(QSystemTrayIcon, "showMessage", show_message)
    monkeypatch.setattr(QSystemTrayIcon, "show", lambda tray: None)
    _, notifier = make_notifier(qtbot, tray_available=lambda: True)
    notifier.job_finished(finished(JobKind.UPLOAD, JobState.DONE, seconds=1.0))
    assert notifier.tray is None  # too short to announce: no icon made
    notifier.job_finished(finished(JobKind.UPLOAD, JobState.DONE, result="raw:v2"))
    tray = notifier.tray
    assert tray is not None
    assert not tray.icon().isNull()
    notifier.job_finished(finished(JobKind.DOWNLOAD, JobState.FAILED, error="boom"))
    assert notifier.tray is tray
    assert shown == [
        ("Upload finished", "job 1: raw:v2", QSystemTrayIcon.MessageIcon.Information),
        (
            "Download failed",
            "job 1: boom. Retry it from the Transfers panel.",
            QSystemTrayIcon.MessageIcon.Warning,
        ),
    ]
