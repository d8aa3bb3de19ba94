"""The Transfers dock: buttons follow the selected job, ask with its id, and bars are drawn."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QLabel, QMenu, QTableView, QToolButton
from pytestqt.qtbot import QtBot
from test_transfers_model import GIB, MIB, make_job

from desktop_app.client.transfers import JobKind, JobState
from desktop_app.gui.models.transfers import Column
from desktop_app.gui.widgets import transfers_panel
from desktop_app.gui.widgets.transfers_panel import ProgressDelegate, TransfersPanel

BUTTONS = ("pauseTransfer", "resumeTransfer", "cancelTransfer", "retryTransfer")


def make_panel(qtbot: QtBot) -> TransfersPanel:
    panel = TransfersPanel()
    qtbot.addWidget(panel)
    return panel


def button(panel: TransfersPanel, name: str) -> QToolButton:
    found = panel.findChild(QToolButton, name)
    assert found is not None, name
    return found


def enabled(panel: TransfersPanel) -> dict[str, bool]:
    return {name: button(panel, name).isEnabled() for name in (*BUTTONS, "clearFinished")}


def test_the_panel_is_a_dock_with_a_plain_row_table(qtbot: QtBot) -> None:
    panel = make_panel(qtbot)
    assert panel.objectName() == "transfersPanel"
    assert panel.windowTitle() == "Transfers"
    table = panel.findChild(QTableView, "transfersTable")
    assert table is panel.table
    assert table.model() is panel.model
    assert not table.showGrid()
    assert table.selectionBehavior() == QTableView.SelectionBehavior.SelectRows
    assert isinstance(table.itemDelegateForColumn(Column.PROGRESS), ProgressDelegate)
    assert not isinstance(table.itemDelegateForColumn(Column.WHAT), ProgressDelegate)
    # Nothing selected, nothing to clear: every button is off.
    assert not any(enabled(panel).values())
    assert panel.summary.text() == "No transfers in progress"


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (JobState.QUEUED, {"pauseTransfer", "cancelTransfer"}),
        (JobState.RUNNING, {"pauseTransfer", "cancelTransfer"}),
        (JobState.WAITING, {"pauseTransfer", "cancelTransfer"}),
        (JobState.PAUSED, {"resumeTransfer", "cancelTransfer"}),
        (JobState.FAILED, {"retryTransfer"}),
        (JobState.CANCELLED, {"retryTransfer", "clearFinished"}),
        (JobState.DONE, {"clearFinished"}),
    ],
)
def test_buttons_follow_the_selected_jobs_state(
    qtbot: QtBot, state: JobState, expected: set[str]
) -> None:
    panel = make_panel(qtbot)
    panel.on_job_changed(make_job(7, state=state))
    assert not any(enabled(panel)[name] for name in BUTTONS)  # nothing selected yet
    panel.select_job(7)
    assert {name for name, on in enabled(panel).items() if on} == expected


def test_buttons_change_when_the_selected_job_moves_on(qtbot: QtBot) -> None:
    panel = make_panel(qtbot)
    panel.on_job_changed(make_job(1, state=JobState.RUNNING, total=10))
    panel.select_job(1)
    assert button(panel, "pauseTransfer").isEnabled()
    panel.on_job_changed(make_job(1, state=JobState.FAILED, total=10, error="boom"))
    assert not button(panel, "pauseTransfer").isEnabled()
    assert button(panel, "retryTransfer").isEnabled()
    panel.select_job(99)  # gone: the selection is cleared
    assert not button(panel, "retryTransfer").isEnabled()


@pytest.mark.parametrize(
    ("state", "name", "signal"),
    [
        (JobState.RUNNING, "pauseTransfer", "pause_requested"),
        (JobState.PAUSED, "resumeTransfer", "resume_requested"),
        (JobState.WAITING, "cancelTransfer", "cancel_requested"),
        (JobState.FAILED, "retryTransfer", "retry_requested"),
    ],
)
def test_clicking_a_button_asks_for_the_selected_job(
    qtbot: QtBot, state: JobState, name: str, signal: str
) -> None:
    panel = make_panel(qtbot)
    panel.on_job_changed(make_job(3))
    panel.on_job_changed(make_job(42, state=state))
    panel.select_job(42)
    with qtbot.waitSignal(getattr(panel, signal), timeout=1000) as blocker:
        qtbot.mouseClick(button(panel, name), Qt.MouseButton.LeftButton)
    assert blocker.args == [42]


def test_a_disabled_button_asks_nothing(qtbot: QtBot) -> None:
    panel = make_panel(qtbot)
    panel.on_job_changed(make_job(1, state=JobState.DONE))
    panel.select_job(1)
    with (
        qtbot.assertNotEmitted(panel.pause_requested),
        qtbot.assertNotEmitted(panel.cancel_requested),
    ):
        qtbot.mouseClick(button(panel, "pauseTransfer"), Qt.MouseButton.LeftButton)
        qtbot.mouseClick(button(panel, "cancelTransfer"), Qt.MouseButton.LeftButton)


def test_the_context_menu_selects_the_row_and_offers_the_same_actions(qtbot: QtBot) -> None:
    panel = make_panel(qtbot)
    panel.show()
    qtbot.waitExposed(panel)
    panel.on_job_changed(make_job(1, state=JobState.RUNNING))
    panel.on_job_changed(make_job(2, state=JobState.PAUSED))
    menu = panel.findChild(QMenu, "transfersContextMenu")
    assert menu is panel.context_menu
    # The offscreen platform warns about any popup, so record where it would open instead.
    shown_at: list[QPoint] = []
    menu.popup = shown_at.append  # type: ignore[method-assign,assignment]

    center = panel.table.visualRect(panel.model.index(1, Column.STATE)).center()
    panel.table.customContextMenuRequested.emit(center)
    assert shown_at == [panel.table.viewport().mapToGlobal(center)]
    names = [a.objectName() for a in menu.actions() if not a.isSeparator()]
    assert names == [*BUTTONS, "clearFinished"]
    assert panel.selected_job() == make_job(2, state=JobState.PAUSED)
    by_name = {a.objectName(): a for a in menu.actions()}
    assert by_name["resumeTransfer"].isEnabled()
    assert not by_name["pauseTransfer"].isEnabled()
    with qtbot.waitSignal(panel.resume_requested, timeout=1000) as blocker:
        by_name["resumeTransfer"].trigger()
    assert blocker.args == [2]

    # Below the last row there is no job, so no menu.
    panel.table.clearSelection()
    panel.on_table_context_menu_requested(panel.table.viewport().rect().bottomLeft())
    assert len(shown_at) == 1
    assert panel.selected_job() is None


def test_clear_finished_asks_and_turns_off_once_the_rows_are_gone(qtbot: QtBot) -> None:
    panel = make_panel(qtbot)
    running = make_job(1, state=JobState.RUNNING)
    panel.on_jobs_loaded(
        [running, make_job(2, state=JobState.DONE), make_job(3, state=JobState.CANCELLED)]
    )
    clear = button(panel, "clearFinished")
    assert clear.isEnabled()
    with qtbot.waitSignal(panel.clear_finished_requested, timeout=1000):
        qtbot.mouseClick(clear, Qt.MouseButton.LeftButton)
    panel.on_job_removed(2)
    assert clear.isEnabled()  # the cancelled one is still there
    panel.on_job_removed(3)
    assert not clear.isEnabled()
    assert panel.model.jobs() == [running]


def test_the_summary_counts_jobs_by_state(qtbot: QtBot) -> None:
    panel = make_panel(qtbot)
    states = [JobState.RUNNING] * 2 + [JobState.QUEUED] * 3 + [JobState.FAILED, JobState.DONE]
    for job_id, state in enumerate(states):
        panel.on_job_changed(make_job(job_id, state=state))
    summary = panel.findChild(QLabel, "transfersSummary")
    assert summary is panel.summary
    assert panel.summary.text() == "2 running, 3 queued, 1 failed"
    panel.on_job_changed(make_job(0, state=JobState.DONE))
    assert panel.summary.text() == "1 running, 3 queued, 1 failed"


def test_progress_alone_does_not_redo_the_summary_and_buttons(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten progress updates a second reach the panel during a transfer: they repaint the
    row, while the summary and the buttons, which depend on states only, stay as they are."""
    panel = make_panel(qtbot)
    panel.on_job_changed(make_job(1, state=JobState.RUNNING, done=0, total=GIB))
    panel.table.selectRow(0)
    refreshes: list[None] = []
    # _refresh may be reached through a signal connected to the bound method: what it
    # calls is counted instead, looked up by name at each call.
    original = transfers_panel.summary_text
    monkeypatch.setattr(
        transfers_panel, "summary_text", lambda jobs: (refreshes.append(None), original(jobs))[1]
    )
    for done in range(1, 11):
        panel.on_job_changed(make_job(1, state=JobState.RUNNING, done=done * MIB, total=GIB))
    assert refreshes == []
    assert panel.model.data(panel.model.index(0, Column.PROGRESS)) == 1  # 10 MiB of 1 GiB
    panel.on_job_changed(make_job(1, state=JobState.PAUSED, done=10 * MIB, total=GIB))
    assert len(refreshes) == 1
    assert panel.summary.text() == "1 paused"
    assert enabled(panel)["resumeTransfer"]


def _cell_image(panel: TransfersPanel, row: int) -> QImage:
    rect = panel.table.visualRect(panel.model.index(row, Column.PROGRESS))
    origin = panel.table.viewport().mapTo(panel, rect.topLeft())
    return panel.grab(rect.translated(origin - rect.topLeft())).toImage()


def _filled_share(image: QImage, color: QColor) -> float:
    """The share of the image's columns whose middle pixel is close to ``color``."""
    y = image.height() // 2
    close = 0
    for x in range(image.width()):
        pixel = image.pixelColor(x, y)
        if (
            abs(pixel.red() - color.red())
            + abs(pixel.green() - color.green())
            + abs(pixel.blue() - color.blue())
            < 90
        ):
            close += 1
    return close / max(1, image.width())


def test_the_progress_delegate_draws_a_bar_that_grows(qtbot: QtBot) -> None:
    panel = make_panel(qtbot)
    panel.resize(900, 300)
    panel.show()
    qtbot.waitExposed(panel)
    for job_id, done in ((1, 0), (2, GIB // 2), (3, GIB)):
        panel.on_job_changed(
            make_job(job_id, JobKind.DOWNLOAD, JobState.RUNNING, done=done, total=GIB)
        )
    panel.on_job_changed(make_job(4, JobKind.PIN, JobState.RUNNING, done=MIB, total=GIB))
    panel.select_job(4)  # a selected row is drawn too
    assert not panel.grab().isNull()
    highlight = panel.table.palette().highlight().color()
    filled = [_filled_share(_cell_image(panel, row), highlight) for row in range(3)]
    # The cell's margins and the bar's frame take a few columns off a full bar.
    assert filled[0] < 0.05
    assert 0.3 < filled[1] < 0.6
    assert filled[2] > 0.7
    assert filled[2] > filled[1] + 0.3


def test_the_bytes_column_shows_its_sizes_whole(qtbot: QtBot) -> None:
    panel = make_panel(qtbot)
    wide = 1000 * MIB - 100 * 1024  # about as wide as a size gets
    job = make_job(1, JobKind.DOWNLOAD, JobState.RUNNING, done=wide, total=wide)
    panel.model.set_jobs([job])
    text = panel.model.index(0, Column.BYTES).data()
    assert text == "1000 MiB of 1000 MiB"
    needed = panel.table.fontMetrics().horizontalAdvance(text)
    assert panel.table.horizontalHeader().sectionSize(Column.BYTES) > needed
