"""Transfers through the real window: drops become versions, clicks become downloads,
pins fill the cache, and an upload made offline goes up when the server is back."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from drop_events import center_of, drop_files
from gui_data import PROJECT, Workspace, seed_workspace
from live_server import run_live_server
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QLabel, QPushButton, QToolButton
from pytestqt.qtbot import QtBot
from test_offline import log_in
from windows import open_main_window

from desktop_app.backends.http import HttpBackend
from desktop_app.backends.local import LocalBackend
from desktop_app.client.content_cache import ContentCache
from desktop_app.client.download import version_entries
from desktop_app.client.paths import AppPaths
from desktop_app.client.transfers import JobState, TransferQueue, UploadSpec
from desktop_app.gui.gil import EVENT_LOOP_SWITCH_S, TRANSFER_SWITCH_S
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.transfer_session import TransferSession
from desktop_app.gui.transfers import transfers_file
from desktop_app.gui.widgets.new_version_dialog import NewVersionDialog


@pytest.fixture
def workspace() -> Iterator[tuple[LocalBackend, Workspace]]:
    paths = AppPaths.from_env().ensure()
    backend = LocalBackend(paths.store_dir)
    yield backend, seed_workspace(backend, raw_versions=2)
    backend.close()


def open_window(qtbot: QtBot) -> MainWindow:
    window = open_main_window(poll_ms=100, retry_ms=(100, 400))
    window.show()
    qtbot.waitExposed(window)
    status = window.findChild(QLabel, "connectionStatus")
    qtbot.waitUntil(lambda: status.text().startswith("Online"), timeout=10_000)
    return window


def transfers_of(window: MainWindow) -> TransferSession:
    session = window.findChild(TransferSession)
    assert session is not None
    return session


def wait_for_job(qtbot: QtBot, window: MainWindow, state: JobState, count: int = 1) -> None:
    model = window.transfers.model
    qtbot.waitUntil(
        lambda: sum(1 for job in model.jobs() if job.state is state) >= count, timeout=20_000
    )


def folder_to_drop(tmp_path: Path) -> Path:
    folder = tmp_path / "new-images"
    (folder / "images").mkdir(parents=True)
    (folder / "images" / "100.png").write_bytes(b"\x89PNG new image")
    (folder / "labels.csv").write_text("file,label\n100.png,dog\n")
    return folder


def test_dropping_a_folder_on_an_artifact_makes_its_next_version(
    qtbot: QtBot, tmp_path: Path, workspace: tuple[LocalBackend, Workspace]
) -> None:
    backend, _ws = workspace
    window = open_window(qtbot)
    folder = folder_to_drop(tmp_path)
    viewport = window.tree.viewport()
    window.tree.expandAll()
    drop_files(viewport, [folder], center_of(window.tree, (PROJECT, "dataset", "raw-images")))

    dialog = window.findChild(NewVersionDialog, "newVersionDialog")
    assert dialog is not None
    summary = dialog.findChild(QLabel, "uploadSummary")
    qtbot.waitUntil(lambda: "2 files" in summary.text(), timeout=10_000)
    assert "new" in summary.text()
    upload = dialog.findChild(QPushButton, "newVersionUpload")
    assert upload.isEnabled()
    upload.click()

    wait_for_job(qtbot, window, JobState.DONE)
    versions = backend.list_versions(PROJECT, "raw-images")
    assert [v.index for v in versions] == [0, 1, 2]
    newest = versions[-1]
    assert sorted(e.path for e in version_entries(backend, newest.id)) == [
        "images/100.png",
        "labels.csv",
    ]
    # The window syncs by itself and lists the new version first.
    window.browse.select_artifact(PROJECT, "raw-images")
    qtbot.waitUntil(lambda: window.browse.version_model.rowCount() == 3, timeout=10_000)
    window.close()


def test_dropping_files_on_a_type_makes_a_new_artifact_of_that_type(
    qtbot: QtBot, tmp_path: Path, workspace: tuple[LocalBackend, Workspace]
) -> None:
    backend, _ws = workspace
    window = open_window(qtbot)
    weights = tmp_path / "weights.safetensors"
    weights.write_bytes(b"w" * 5000)
    window.tree.expandAll()
    drop_files(window.tree.viewport(), [weights], center_of(window.tree, (PROJECT, "model")))
    dialog = window.findChild(NewVersionDialog, "newVersionDialog")
    assert dialog is not None
    assert dialog.spec().type == "model"
    assert dialog.spec().project == PROJECT
    assert dialog.spec().name == "weights"
    dialog.accept()
    wait_for_job(qtbot, window, JobState.DONE)
    made = backend.list_versions(PROJECT, "weights")
    assert len(made) == 1
    assert made[0].type == "model"
    window.close()


def test_identical_content_is_announced_before_upload(
    qtbot: QtBot, tmp_path: Path, workspace: tuple[LocalBackend, Workspace]
) -> None:
    backend, ws = workspace
    window = open_window(qtbot)
    corpus = ws.versions["corpus:v0"]
    again = tmp_path / "text.txt"
    again.write_bytes(b"hello world\n" * 10)  # the same bytes as corpus:v0
    window.browse.select_version(corpus.id)
    dialog = transfers_of(window).start_upload([again])
    summary = dialog.findChild(QLabel, "uploadSummary")
    qtbot.waitUntil(lambda: "identical to v0" in summary.text(), timeout=10_000)
    dialog.accept()
    wait_for_job(qtbot, window, JobState.DONE)
    assert len(backend.list_versions("nlp", "corpus")) == 1
    window.close()


def test_download_and_selected_files_land_in_the_chosen_folder(
    qtbot: QtBot, tmp_path: Path, workspace: tuple[LocalBackend, Workspace]
) -> None:
    _backend, ws = workspace
    window = open_window(qtbot)
    session = transfers_of(window)
    target = tmp_path / "downloads"
    target.mkdir()
    asked: list[Path] = []

    def ask(_title: str, start: Path) -> Path:
        asked.append(start)
        return target

    session.actions.ask_folder = ask
    split = ws.versions["train-split:v1"]
    window.browse.select_version(split.id)
    window.menu_actions.download.trigger()
    wait_for_job(qtbot, window, JobState.DONE)
    root = target / "train-split:v1"
    assert sorted(p.name for p in root.iterdir()) == ["train.jsonl", "val.jsonl"]
    assert (root / "train.jsonl").read_bytes() == b'{"n": 1}' * 20
    # Only the chosen folder was touched.
    assert sorted(p.name for p in target.iterdir()) == ["train-split:v1"]

    # Selected files, from the Files tab; the folder asked for starts where the last one was.
    qtbot.waitUntil(lambda: window.detail.files_model.rowCount() == 2, timeout=10_000)
    window.detail.select_file("val.jsonl")
    window.menu_actions.download_files.trigger()
    wait_for_job(qtbot, window, JobState.DONE, count=2)
    assert asked[-1] == target
    window.close()


def test_open_fetches_the_file_and_hands_it_to_the_system(
    qtbot: QtBot, workspace: tuple[LocalBackend, Workspace]
) -> None:
    _backend, ws = workspace
    window = open_window(qtbot)
    opened: list[QUrl] = []
    transfers_of(window).actions.open_url = lambda url: opened.append(url) or True
    report = ws.versions["eval-report:v0"]
    window.browse.select_version(report.id)
    qtbot.waitUntil(lambda: window.detail.files_model.rowCount() == 1, timeout=10_000)
    index = window.detail.select_file("report.json")
    window.detail.files_view.doubleClicked.emit(index)
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=20_000)
    path = Path(opened[0].toLocalFile())
    assert path.name == "report.json"
    assert path.read_bytes() == b'{"accuracy": 0.81, "f1": 0.79}'
    window.close()


def test_keep_offline_pins_a_server_version_and_uploads_wait_while_offline(
    qtbot: QtBot, tmp_path: Path
) -> None:
    server_dir = tmp_path / "server"
    with contextlib.ExitStack() as first:
        server = first.enter_context(run_live_server(server_dir))
        url, key = server.url, server.key
        with HttpBackend(url, key) as backend:
            ws = seed_workspace(backend, raw_versions=1)
        paths = log_in(url, key)
        window = open_window(qtbot)
        model = ws.versions["resnet50:v1"]
        window.browse.select_version(model.id)
        window.menu_actions.keep_offline.trigger()
        wait_for_job(qtbot, window, JobState.DONE)
        with ContentCache(paths.content_cache_dir, 1 << 30) as cache:
            with HttpBackend(url, key) as backend:
                wanted = {e.digest for e in version_entries(backend, model.id)}
            assert wanted <= cache.pinned_digests()
            assert all(cache.contains(d) for d in wanted)

    # Offline now: an upload waits in the queue and shows as pending beside its artifact.
    status = window.findChild(QLabel, "connectionStatus")
    qtbot.waitUntil(lambda: status.text().startswith("Offline"), timeout=10_000)
    new_file = tmp_path / "model.pt"
    new_file.write_bytes(b"retrained" * 1000)
    window.browse.select_artifact(PROJECT, "resnet50")
    dialog = transfers_of(window).start_upload([new_file])
    dialog.accept()
    wait_for_job(qtbot, window, JobState.WAITING)
    versions = window.browse.version_model
    qtbot.waitUntil(lambda: "pending upload" in str(versions.index(0, 7).data()), timeout=10_000)

    port = int(url.rsplit(":", 1)[1])
    with run_live_server(server_dir, port=port, key=key):
        wait_for_job(qtbot, window, JobState.DONE, count=2)
        with HttpBackend(url, key) as backend:
            assert len(backend.list_versions(PROJECT, "resnet50")) == 4
        qtbot.waitUntil(lambda: versions.rowCount() == 4, timeout=15_000)
        assert versions.index(0, 0).data() == "v3"
        window.close()


def test_a_paused_upload_survives_closing_the_window_and_finishes_after_resume(
    qtbot: QtBot, tmp_path: Path, workspace: tuple[LocalBackend, Workspace]
) -> None:
    backend, _ws = workspace
    data = tmp_path / "big.bin"
    data.write_bytes(os.urandom(4 << 20))
    # A job paused in an earlier session, written where the app keeps its queue.
    paths = AppPaths.from_env()
    queue = TransferQueue(transfers_file(paths.data_dir, None))
    job = queue.add(UploadSpec((str(data),), PROJECT, "big", "dataset"), "big ← 1 item(s)")
    queue.pause(job.id)
    queue.close()

    for _session in range(2):  # it stays paused across a restart of the window
        window = open_window(qtbot)
        wait_for_any_job(qtbot, window)
        (shown,) = window.transfers.model.jobs()
        assert (shown.id, shown.state) == (job.id, JobState.PAUSED)
        pending = window.browse
        pending.select_artifact(PROJECT, "raw-images")  # not the paused upload's artifact
        window.close()

    window = open_window(qtbot)
    wait_for_any_job(qtbot, window)
    panel = window.transfers
    panel.select_job(job.id)
    resume = panel.findChild(QToolButton, "resumeTransfer")
    assert resume.isEnabled()
    resume.click()
    wait_for_job(qtbot, window, JobState.DONE)
    assert [v.index for v in backend.list_versions(PROJECT, "big")] == [0]
    window.close()


def wait_for_any_job(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.transfers.model.rowCount() > 0, timeout=10_000)


def test_files_and_versions_drag_out_once_fetched_and_show_in_folder(
    qtbot: QtBot, workspace: tuple[LocalBackend, Workspace]
) -> None:
    _backend, ws = workspace
    window = open_window(qtbot)
    session = transfers_of(window)
    opened: list[QUrl] = []
    session.actions.open_url = lambda url: opened.append(url) or True
    split = ws.versions["train-split:v1"]
    window.browse.select_version(split.id)
    qtbot.waitUntil(lambda: window.detail.files_model.rowCount() == 2, timeout=10_000)
    window.detail.select_file("train.jsonl")

    # The first drag starts fetching a copy and says so; once it is there, it drags.
    resolve_files = window.detail.files_view.drag_resolver
    assert resolve_files is not None
    assert resolve_files() is None
    wait_for_job(qtbot, window, JobState.DONE)
    (dragged,) = resolve_files() or []
    assert dragged.name == "train.jsonl"
    assert dragged.read_bytes() == b'{"n": 1}' * 20

    resolve_version = window.versions.drag_resolver
    assert resolve_version is not None
    assert resolve_version() is None
    wait_for_job(qtbot, window, JobState.DONE, count=2)
    (folder,) = resolve_version() or []
    assert folder.name == "train-split:v1"
    assert sorted(p.name for p in folder.iterdir()) == ["train.jsonl", "val.jsonl"]

    window.menu_actions.show_file.trigger()
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=20_000)
    assert Path(opened[0].toLocalFile()) == dragged.parent
    window.close()


def test_threads_take_turns_less_often_while_a_transfer_runs(
    qtbot: QtBot, tmp_path: Path, workspace: tuple[LocalBackend, Workspace]
) -> None:
    # See gui/gil.py: 5 ms while a job runs (the transfer's threads give way less often),
    # 0.2 ms otherwise (a sync's refresh is not stretched). Python keeps the interval in
    # whole microseconds, so it reads back as a near float.
    window = open_window(qtbot)
    assert sys.getswitchinterval() == pytest.approx(EVENT_LOOP_SWITCH_S)
    session = transfers_of(window)
    seen: list[tuple[JobState, float]] = []
    # Connected after the session's own slot, so it sees the interval that slot set.
    session.service.job_changed.connect(
        lambda job: seen.append((job.state, sys.getswitchinterval()))
    )
    weights = tmp_path / "weights.bin"
    weights.write_bytes(os.urandom(300_000))

    session.service.enqueue(UploadSpec((str(weights),), PROJECT, "weights", "model"), "weights")
    wait_for_job(qtbot, window, JobState.DONE)

    assert (JobState.RUNNING, pytest.approx(TRANSFER_SWITCH_S)) in seen
    assert seen[-1] == (JobState.DONE, pytest.approx(EVENT_LOOP_SWITCH_S))
    assert sys.getswitchinterval() == pytest.approx(EVENT_LOOP_SWITCH_S)
    window.close()
    assert sys.getswitchinterval() == pytest.approx(EVENT_LOOP_SWITCH_S)
