"""The transfer table: rows inserted or updated in place, speed and time left, state texts."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QIcon
from PySide6.QtTest import QAbstractItemModelTester, QSignalSpy
from pytestqt.modeltest import ModelTester

from desktop_app.client.transfers import (
    DownloadSpec,
    Job,
    JobKind,
    JobState,
    PinSpec,
    UploadSpec,
)
from desktop_app.gui.models.transfers import (
    Column,
    Role,
    TransferTableModel,
    format_duration,
)

MIB = 1024 * 1024
GIB = 1024 * MIB


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_job(
    job_id: int = 1,
    kind: JobKind = JobKind.UPLOAD,
    state: JobState = JobState.QUEUED,
    *,
    done: int = 0,
    total: int = 0,
    error: str | None = None,
    result: str | None = None,
) -> Job:
    spec = {
        JobKind.UPLOAD: UploadSpec(("/data",), "vision", "raw", "dataset"),
        JobKind.DOWNLOAD: DownloadSpec("v1", "/tmp/out"),
        JobKind.PIN: PinSpec(("v1",)),
    }[kind]
    return Job(
        id=job_id,
        kind=kind,
        state=state,
        title=f"job {job_id}",
        spec=spec,
        done_bytes=done,
        total_bytes=total,
        error=error,
        result=result,
    )


def cell(model: TransferTableModel, row: int, column: Column, role: int = 0) -> object:
    return model.index(row, column).data(role or Qt.ItemDataRole.DisplayRole)


def test_the_table_passes_the_model_tester_through_inserts_updates_and_removes(
    qtmodeltester: ModelTester,
) -> None:
    model = TransferTableModel(clock=FakeClock())
    model.set_jobs([make_job(1), make_job(2, JobKind.DOWNLOAD, JobState.RUNNING, total=10)])
    qtmodeltester.check(model)
    # Kept in a name: PySide6 deletes an unreferenced tester at once, and it checks nothing.
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    model.upsert(make_job(3, JobKind.PIN))
    model.upsert(make_job(2, JobKind.DOWNLOAD, JobState.RUNNING, done=5, total=10))
    model.remove(1)
    model.remove(99)  # not there: nothing happens
    assert model.rowCount() == 2
    assert [model.job(r).id for r in range(2)] == [2, 3]  # type: ignore[union-attr]
    assert model.row_for_id(3) == 1
    assert model.row_for_id(1) == -1
    assert model.job(2) is None
    assert model.columnCount() == len(Column) == 7
    assert model.rowCount(model.index(0, 0)) == 0
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in Column]
    assert headers == ["What", "Direction", "Progress", "Bytes", "Speed", "Time left", "State"]
    del tester  # it watched every change above


def test_upsert_inserts_a_new_job_and_updates_a_known_one_with_one_data_change() -> None:
    model = TransferTableModel(clock=FakeClock())
    model.upsert(make_job(1))
    inserted, changed = QSignalSpy(model.rowsInserted), QSignalSpy(model.dataChanged)
    reset, removed = QSignalSpy(model.modelReset), QSignalSpy(model.rowsRemoved)

    assert model.upsert(make_job(2))  # new: what depends on states must be redone
    assert (inserted.count(), changed.count()) == (1, 0)
    first, last = inserted.at(0)[1:]
    assert (first, last) == (1, 1)  # appended at the end

    assert model.upsert(make_job(1, state=JobState.RUNNING, done=4, total=8))  # moved on
    assert (inserted.count(), changed.count()) == (1, 1)
    assert not model.upsert(make_job(1, state=JobState.RUNNING, done=6, total=8))  # progress
    assert (inserted.count(), changed.count()) == (1, 2)
    top_left, bottom_right = changed.at(0)[:2]
    assert (top_left.row(), top_left.column()) == (0, 0)
    assert (bottom_right.row(), bottom_right.column()) == (0, len(Column) - 1)
    assert (reset.count(), removed.count()) == (0, 0)
    assert cell(model, 0, Column.PROGRESS) == 75


def test_set_jobs_resets_and_remove_keeps_ids_and_rows_in_step() -> None:
    model = TransferTableModel(clock=FakeClock())
    reset = QSignalSpy(model.modelReset)
    model.set_jobs([make_job(i) for i in (5, 6, 7)])
    assert reset.count() == 1
    model.remove(6)
    assert model.row_for_id(7) == 1
    model.upsert(make_job(7, state=JobState.PAUSED))
    assert cell(model, 1, Column.STATE) == "Paused"
    assert cell(model, 0, Column.STATE) == "Queued"


def test_speed_and_time_left_come_from_the_last_seconds_of_progress() -> None:
    clock = FakeClock()
    model = TransferTableModel(clock=clock)
    total = 100 * MIB
    model.upsert(make_job(1, state=JobState.RUNNING, done=0, total=total))
    # One sample is no measurement yet.
    assert cell(model, 0, Column.SPEED) == ""
    assert cell(model, 0, Column.TIME_LEFT) == ""
    assert cell(model, 0, Column.SPEED, Role.SPEED) == 0.0
    assert cell(model, 0, Column.SPEED, Role.ETA) is None

    for second in range(1, 5):  # 2 MiB every second
        clock.now += 1
        model.upsert(make_job(1, state=JobState.RUNNING, done=2 * MIB * second, total=total))
    assert cell(model, 0, Column.SPEED, Role.SPEED) == pytest.approx(2 * MIB)
    assert cell(model, 0, Column.SPEED) == "2 MiB/s"
    # 92 MiB left at 2 MiB/s.
    assert cell(model, 0, Column.SPEED, Role.ETA) == pytest.approx(46)
    assert cell(model, 0, Column.TIME_LEFT) == "46 s"

    # It speeds up to 5 MiB/s; once the window has passed only the new rate counts.
    done = 8 * MIB
    for _ in range(10):
        clock.now += 1
        done += 5 * MIB
        model.upsert(make_job(1, state=JobState.RUNNING, done=done, total=5 * GIB))
    assert cell(model, 0, Column.SPEED, Role.SPEED) == pytest.approx(5 * MIB)
    eta = cell(model, 0, Column.SPEED, Role.ETA)
    assert eta == pytest.approx((5 * GIB - done) / (5 * MIB))
    # 5 GiB - 58 MiB at 5 MiB/s is 1012.4 s, rounded up.
    assert cell(model, 0, Column.TIME_LEFT) == "16 min 53 s"


def test_speed_is_blank_when_the_job_is_not_running_and_starts_over_after_a_pause() -> None:
    clock = FakeClock()
    model = TransferTableModel(clock=clock)
    model.upsert(make_job(1, state=JobState.RUNNING, done=0, total=10 * MIB))
    clock.now += 1
    model.upsert(make_job(1, state=JobState.RUNNING, done=MIB, total=10 * MIB))
    assert cell(model, 0, Column.SPEED) == "1 MiB/s"
    clock.now += 1
    model.upsert(make_job(1, state=JobState.PAUSED, done=MIB, total=10 * MIB))
    assert cell(model, 0, Column.SPEED) == ""
    assert cell(model, 0, Column.TIME_LEFT) == ""
    assert cell(model, 0, Column.SPEED, Role.SPEED) == 0.0
    # Resumed an hour later: the pause does not drag the speed down.
    clock.now += 3600
    model.upsert(make_job(1, state=JobState.RUNNING, done=MIB, total=10 * MIB))
    clock.now += 1
    model.upsert(make_job(1, state=JobState.RUNNING, done=4 * MIB, total=10 * MIB))
    assert cell(model, 0, Column.SPEED, Role.SPEED) == pytest.approx(3 * MIB)
    assert cell(model, 0, Column.TIME_LEFT) == "2 s"


def test_progress_starting_over_does_not_give_a_negative_speed() -> None:
    clock = FakeClock()
    model = TransferTableModel(clock=clock)
    model.upsert(make_job(1, state=JobState.RUNNING, done=8 * MIB, total=10 * MIB))
    clock.now += 1
    model.upsert(make_job(1, state=JobState.RUNNING, done=0, total=10 * MIB))
    assert cell(model, 0, Column.SPEED) == ""
    clock.now += 2
    model.upsert(make_job(1, state=JobState.RUNNING, done=2 * MIB, total=10 * MIB))
    assert cell(model, 0, Column.SPEED, Role.SPEED) == pytest.approx(MIB)


def test_unknown_total_has_no_time_left_but_shows_the_bytes_so_far() -> None:
    clock = FakeClock()
    model = TransferTableModel(clock=clock)
    model.upsert(make_job(1, state=JobState.RUNNING, done=0))
    clock.now += 2
    model.upsert(make_job(1, state=JobState.RUNNING, done=3 * MIB))
    assert cell(model, 0, Column.SPEED) == "1.5 MiB/s"
    assert cell(model, 0, Column.SPEED, Role.ETA) is None
    assert cell(model, 0, Column.TIME_LEFT) == ""
    assert cell(model, 0, Column.BYTES) == "3 MiB"
    assert cell(model, 0, Column.PROGRESS) == 0


@pytest.mark.parametrize(
    ("job", "text"),
    [
        (make_job(state=JobState.QUEUED), "Queued"),
        (make_job(state=JobState.RUNNING), "Running"),
        (make_job(state=JobState.PAUSED), "Paused"),
        (make_job(state=JobState.WAITING), "Waiting for the server (retrying)"),
        (
            make_job(state=JobState.FAILED, error="disk full\nwhile writing /tmp/out/a.bin"),
            "Failed: disk full",
        ),
        (make_job(state=JobState.FAILED), "Failed"),
        (make_job(state=JobState.CANCELLED), "Cancelled"),
        (make_job(state=JobState.DONE, result="raw:v3"), "Done: raw:v3"),
        (make_job(state=JobState.DONE), "Done"),
    ],
)
def test_state_texts(job: Job, text: str) -> None:
    model = TransferTableModel(clock=FakeClock())
    model.upsert(job)
    assert cell(model, 0, Column.STATE) == text


def test_the_state_tooltip_holds_the_whole_error() -> None:
    model = TransferTableModel(clock=FakeClock())
    error = "connection refused\nthe server at http://localhost:1 is not running"
    model.upsert(make_job(state=JobState.FAILED, error=error))
    assert cell(model, 0, Column.STATE, Qt.ItemDataRole.ToolTipRole) == error
    assert cell(model, 0, Column.STATE) == "Failed: connection refused"


def test_columns_roles_and_icons_per_kind() -> None:
    model = TransferTableModel(clock=FakeClock())
    jobs = [
        make_job(1, JobKind.UPLOAD, JobState.RUNNING, done=int(12.3 * MIB), total=GIB),
        make_job(2, JobKind.DOWNLOAD, JobState.DONE, done=GIB, total=GIB, result="ok"),
        make_job(3, JobKind.PIN, JobState.QUEUED),
    ]
    for job in jobs:
        model.upsert(job)
    assert [cell(model, r, Column.DIRECTION) for r in range(3)] == [
        "Upload",
        "Download",
        "Keep offline",
    ]
    assert cell(model, 0, Column.WHAT) == "job 1"
    assert cell(model, 0, Column.BYTES) == "12.3 MiB of 1 GiB"
    assert cell(model, 0, Column.PROGRESS) == 1
    assert cell(model, 1, Column.PROGRESS) == 100
    assert cell(model, 2, Column.BYTES) == ""
    assert cell(model, 0, Column.BYTES, Qt.ItemDataRole.TextAlignmentRole) == int(
        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    )
    icons = [cell(model, r, Column.WHAT, Qt.ItemDataRole.DecorationRole) for r in range(3)]
    assert all(isinstance(icon, QIcon) and not icon.isNull() for icon in icons)
    # Up, down and keep: three different pictures.
    images = [QIcon(icon).pixmap(16, 16).toImage() for icon in icons]  # type: ignore[call-overload]
    assert images[0] != images[1] != images[2] != images[0]
    assert cell(model, 0, Column.STATE, Qt.ItemDataRole.DecorationRole) is None

    assert cell(model, 0, Column.STATE, Role.JOB_ID) == 1
    assert cell(model, 1, Column.WHAT, Role.KIND) == JobKind.DOWNLOAD
    assert cell(model, 1, Column.WHAT, Role.STATE) == JobState.DONE
    assert cell(model, 0, Column.PROGRESS, Role.PROGRESS) == pytest.approx(12.3 * MIB / GIB)
    assert cell(model, 1, Column.PROGRESS, Role.PROGRESS) == 1.0
    assert cell(model, 2, Column.PROGRESS, Role.PROGRESS) == 0.0
    assert cell(model, 2, Column.WHAT, Role.JOB) == jobs[2]
    assert model.data(QModelIndex(), Role.JOB) is None


def test_an_update_replaces_the_job_the_role_returns() -> None:
    model = TransferTableModel(clock=FakeClock())
    job = make_job(1, state=JobState.RUNNING, total=10)
    model.upsert(job)
    later = dataclasses.replace(job, done_bytes=10, state=JobState.DONE, result="raw:v1")
    model.upsert(later)
    assert cell(model, 0, Column.WHAT, Role.JOB) == later
    assert model.jobs() == [later]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (11.2, "12 s"), (125, "2 min 5 s"), (3600 + 240, "1 h 4 min")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
