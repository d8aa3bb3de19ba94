"""GUI tests: real widgets on Qt's offscreen platform, each under its own ARTIFACT_DESK_HOME.

Qt warnings fail a test (``qt_log_level_fail`` in pyproject), and so does a thread or an
active timer that outlives it.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# gui_data builds on the backend contract helpers.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backends"))


@pytest.fixture(autouse=True)
def gui_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every path of the app (settings, mirror, caches, window state) under ``tmp_path``."""
    home = tmp_path / "home"
    monkeypatch.setenv("ARTIFACT_DESK_HOME", str(home))
    monkeypatch.setenv("ARTIFACT_DESK_KEYRING", "file")
    for name in ("ARTIFACT_DESK_URL", "ARTIFACT_DESK_API_KEY", "ARTIFACT_DESK_CACHE_MAX"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(autouse=True)
def no_leftover_threads_or_timers(qapp: object) -> Iterator[None]:
    """Fail a test that leaves a Python thread, a running QThread or an active QTimer behind."""
    from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer
    from PySide6.QtWidgets import QApplication
    from windows import close_open_windows

    before = set(threading.enumerate())
    yield
    close_open_windows()
    # pytest-qt has closed the test's widgets by now (closing the window stops its worker);
    # what they own is still there to be inspected.
    QCoreApplication.processEvents()
    roots: list[QObject] = [QCoreApplication.instance(), *QApplication.topLevelWidgets()]
    timers = [t for root in roots for t in root.findChildren(QTimer) if t.isActive()]
    threads = [t for root in roots for t in root.findChildren(QThread) if t.isRunning()]
    # A QThread that ran Python code shows up as a dummy thread; the QThread check covers it.
    new = [
        t
        for t in threading.enumerate()
        if t not in before and not isinstance(t, threading._DummyThread)
    ]
    for thread in new:
        thread.join(timeout=5)
    leftover = [t for t in new if t.is_alive() and not t.daemon]
    for widget in QApplication.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, 0)
    assert not timers, f"active timers left behind: {[t.objectName() for t in timers]}"
    assert not threads, f"running QThreads left behind: {threads}"
    assert not leftover, f"threads left behind: {leftover}"
