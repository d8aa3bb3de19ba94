"""A worker paced by the window waits, after telling it what changed, until it has caught up.

The window's refresh and repaint call into Python row by row; a sync step running beside
them takes the interpreter lock between those calls and stretches the refresh. The worker
runs on its own thread as in the app, on a real embedded store and a real mirror; what it
tells arrives on the test's thread, queued, as it reaches the window.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Slot
from pytestqt.qtbot import QtBot

from desktop_app.backends.local import LocalBackend
from desktop_app.client.mirror import Mirror
from desktop_app.client.paths import AppPaths
from desktop_app.client.session import Client
from desktop_app.core.manifest import Manifest, ManifestEntry
from desktop_app.gui import worker as worker_module
from desktop_app.gui.worker import BackendWorker, WorkerThread

ARTIFACTS = 6


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """An embedded store with one version in each of ARTIFACTS artifacts."""
    root = tmp_path / "store"
    backend = LocalBackend(root)
    try:
        for index in range(ARTIFACTS):
            manifest = Manifest(
                [ManifestEntry("data.bin", f"{index:032x}", size=10, ref=f"s3://b/{index}")]
            )
            draft = backend.create_draft("proj", f"data-{index}", "dataset", manifest)
            backend.commit(draft.version.id)
    finally:
        backend.close()
    return root


class Window(QObject):
    """Stands in for the window: notes when it was told of a change and how many versions
    the mirror held then, and answers only when the test says so."""

    def __init__(self, mirror: Mirror) -> None:
        super().__init__()
        self.mirror = mirror
        self.told: list[tuple[float, int]] = []

    @Slot(object)
    def on_mirror_changed(self, _changed: object) -> None:
        self.told.append((time.monotonic(), self.mirror.version_count()))


@pytest.fixture
def paced(store: Path, tmp_path: Path, qtbot: QtBot) -> Iterator[tuple[BackendWorker, Window]]:
    """A paced worker syncing one event per step on its own thread, and the stand-in
    window it tells (which never answers by itself)."""
    mirror_path = tmp_path / "mirror.sqlite3"
    paths = AppPaths.from_env()
    worker = BackendWorker(
        lambda: Client(paths=paths, backend=LocalBackend(store)),
        mirror_path,
        poll_ms=60_000,
        events_per_step=1,
        paced=True,
    )
    Mirror(mirror_path).close()  # the worker's own connection creates it; read it at once
    window = Window(Mirror(mirror_path, readonly=True))
    worker.mirror_changed.connect(window.on_mirror_changed)
    thread = WorkerThread(worker)
    thread.start()
    try:
        yield worker, window
    finally:
        assert thread.shutdown()
        window.mirror.close()


def test_the_sync_waits_until_the_window_has_caught_up(
    paced: tuple[BackendWorker, Window], qtbot: QtBot
) -> None:
    worker, window = paced
    qtbot.waitUntil(lambda: len(window.told) == 1, timeout=5000)
    qtbot.wait(400)  # many sync ticks' worth: none may apply an event
    assert len(window.told) == 1
    told_at_count = window.told[0][1]
    assert window.mirror.version_count() == told_at_count < ARTIFACTS

    worker.note_window_caught_up()
    qtbot.waitUntil(lambda: window.mirror.version_count() > told_at_count, timeout=5000)


def test_without_an_answer_the_sync_goes_on_after_a_while(
    paced: tuple[BackendWorker, Window], qtbot: QtBot
) -> None:
    """A window that never answers (closing, or busy for a long time) only slows the sync:
    it goes on REFRESH_WAIT_MAX_S after each change it told."""
    _worker, window = paced
    qtbot.waitUntil(lambda: window.mirror.version_count() == ARTIFACTS, timeout=20_000)
    qtbot.waitUntil(lambda: window.told and window.told[-1][1] == ARTIFACTS, timeout=5000)
    assert len(window.told) >= 2
    times = [at for at, _count in window.told]
    wait = worker_module.REFRESH_WAIT_MAX_S
    assert all(b - a >= wait * 0.9 for a, b in itertools.pairwise(times))


def test_the_window_answers_every_change_it_is_told(
    store: Path, gui_home: Path, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's own wiring: the window's session answers the worker after each refresh,
    so the sync never waits out REFRESH_WAIT_MAX_S (set here far beyond the test's waits)."""
    from windows import open_main_window

    from desktop_app.gui.app import AppSession
    from desktop_app.gui.worker import ONLINE

    monkeypatch.setattr(worker_module, "REFRESH_WAIT_MAX_S", 600.0)
    (gui_home / "data").mkdir(parents=True)
    (gui_home / "data" / "store").symlink_to(store, target_is_directory=True)
    window = open_main_window()
    window.show()
    worker = window.findChild(AppSession).worker_thread.worker
    # Without the answers, the first step would wait 600 s for the window's first pass.
    qtbot.waitUntil(lambda: window.status.state == ONLINE, timeout=10_000)
    assert window.browse.tree_model.rowCount() == 1  # the project, synced
    qtbot.waitUntil(worker._window_caught_up.is_set, timeout=5000)  # the last tell answered
    window.close()
