"""The composition root: settings, mirror, worker thread and main window, wired once."""

from __future__ import annotations

import gc
import sys
from importlib.resources import files
from pathlib import Path

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QObject,
    QSettings,
    QTimer,
    QTranslator,
    Slot,
)
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QDialog

from desktop_app.client.mirror import Mirror, mirror_file
from desktop_app.client.paths import AppPaths
from desktop_app.client.session import Client, open_backend
from desktop_app.client.settings import Settings, load_settings
from desktop_app.gui.gil import use_switch_interval
from desktop_app.gui.i18n import install_translator, tr
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.settings_dialog import SettingsDialog
from desktop_app.gui.transfer_session import TransferSession
from desktop_app.gui.worker import BackendWorker, WorkerThread

ICONS_DIR = Path(str(files("desktop_app.resources") / "icons"))


def backend_label(settings: Settings, paths: AppPaths) -> str:
    if settings.backend_url:
        return tr("Server {url}").format(url=settings.backend_url)
    return tr("Embedded store {folder}").format(folder=paths.store_dir)


class AppSession(QObject):
    """Owns what lives as long as the window: the worker thread and the mirror reader."""

    def __init__(
        self,
        paths: AppPaths,
        settings: Settings,
        *,
        poll_ms: int = 2000,
        retry_ms: tuple[int, int] = (1000, 30_000),
        translator: QTranslator | None = None,
    ) -> None:
        super().__init__()
        self._translator = translator
        self.paths = paths
        self.settings = settings
        self._poll_ms = poll_ms
        self._retry_ms = retry_ms
        self._closed = False
        self.window_state = window_state = QSettings(
            str(paths.config_dir / "window.ini"), QSettings.Format.IniFormat, self
        )
        self.mirror = self._open_mirror()
        self.window = MainWindow(self.mirror, backend_label(settings, paths), window_state)
        self.setParent(self.window)  # the window owns the session and, through it, the thread
        self.window.closing.connect(self.shutdown)
        self.window.settings_requested.connect(self._on_window_settings_requested)
        self.worker_thread = self._start_worker()
        self.transfers = self._start_transfers()
        self.window.browse.refresh()
        # The worker's first sync step waits for this: the window's first pass through the
        # event loop, which shows and paints it.
        QTimer.singleShot(0, self.worker_thread.worker.note_window_caught_up)

    def _open_mirror(self) -> Mirror:
        return Mirror(mirror_file(self.paths.data_dir, self.settings.backend_url), readonly=True)

    def _start_worker(self) -> WorkerThread:
        paths, settings = self.paths, self.settings
        worker = BackendWorker(
            lambda: Client(
                paths=paths,
                settings=settings,
                backend=open_backend(settings, paths, background=True),
            ),
            self.mirror.path,
            poll_ms=self._poll_ms,
            retry_ms=self._retry_ms,
            paced=True,
        )
        window, detail, browse = self.window, self.window.detail, self.window.browse
        worker.status_changed.connect(window.status.on_worker_status_changed)
        worker.cache_size_changed.connect(window.status.on_worker_cache_size_changed)
        worker.mirror_changed.connect(browse.on_mirror_changed)
        worker.mirror_changed.connect(self._on_worker_mirror_changed)  # after the browser
        worker.version_loaded.connect(detail.on_worker_version_loaded)
        worker.files_cached.connect(detail.on_worker_files_cached)
        worker.runs_loaded.connect(detail.on_worker_runs_loaded)
        worker.preview_loaded.connect(detail.on_worker_preview_loaded)
        worker.failed.connect(window.on_worker_failed)
        worker.edit_refused.connect(window.on_worker_edit_refused)
        window.refresh_requested.connect(worker.sync_now)
        detail.version_load_requested.connect(worker.load_version)
        detail.runs_load_requested.connect(worker.load_runs)
        detail.preview_requested.connect(worker.load_preview)
        detail.edit_requested.connect(worker.edit_version)
        thread = WorkerThread(worker, self)
        thread.start()
        return thread

    def _start_transfers(self) -> TransferSession:
        return TransferSession(
            self.paths,
            self.settings,
            self.mirror,
            self.window,
            self.worker_thread.worker,
            self.window_state,
            retry_s=(self._retry_ms[0] / 1000, self._retry_ms[1] / 1000),
        )

    @Slot()
    def shutdown(self) -> None:
        """Stop transfers and the worker, close the mirror; called when the window closes."""
        if self._closed:
            return
        self._closed = True
        self.transfers.stop()
        self._stop_worker()
        self.mirror.close()
        if self._translator is not None:
            QCoreApplication.removeTranslator(self._translator)

    def _stop_worker(self) -> None:
        """Stop the worker thread and drop its replies that have not been delivered yet."""
        self.worker_thread.shutdown()
        window = self.window
        for receiver in (window, window.status, window.browse, window.detail):
            QCoreApplication.removePostedEvents(receiver, QEvent.Type.MetaCall)

    @Slot(object)
    def _on_worker_mirror_changed(self, _changed: object) -> None:
        """The browser has refreshed (it is told first); a zero timer fires after the
        repaint that refresh asked for, and then lets the sync go on."""
        QTimer.singleShot(0, self.worker_thread.worker.note_window_caught_up)

    @Slot()
    def _on_window_settings_requested(self) -> None:
        dialog = SettingsDialog(self.settings, self.paths, self.window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.apply_settings(dialog.apply())

    def apply_settings(self, settings: Settings) -> None:
        """Switch to new settings: a new worker (and mirror, when the backend changed)."""
        self.transfers.stop()
        self.transfers.deleteLater()
        self._stop_worker()
        self.settings = settings
        self.mirror.close()
        self.mirror = self._open_mirror()
        self.window.status.backend.setText(backend_label(settings, self.paths))
        self.window.browse.set_mirror(self.mirror)
        self.worker_thread = self._start_worker()
        self.transfers = self._start_transfers()


def ensure_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("Artifact Desk")
    app.setOrganizationName("Artifact Desk")
    app.setDesktopFileName("artifact-desk")
    app.setWindowIcon(QIcon(str(ICONS_DIR / "artifact-desk.svg")))
    return app


def build_main_window(
    paths: AppPaths | None = None,
    *,
    poll_ms: int = 2000,
    retry_ms: tuple[int, int] = (1000, 30_000),
) -> MainWindow:
    """The main window for the settings under ``ARTIFACT_DESK_HOME``, its worker running."""
    app = ensure_application()
    paths = (paths or AppPaths.from_env()).ensure()
    settings = load_settings(paths)
    translator = install_translator(app, settings.language)
    window = AppSession(
        paths, settings, poll_ms=poll_ms, retry_ms=retry_ms, translator=translator
    ).window
    # Worker threads share the interpreter lock with this one: see gui/gil.py.
    use_switch_interval(transferring=False)
    if gc.get_freeze_count() == 0:
        # What exists at startup lives as long as the app. Frozen, it is left out of the
        # cyclic collector's full passes, which otherwise hold the interpreter lock (and
        # stall the window) for tens of milliseconds whenever a sync churns objects.
        gc.collect()
        gc.freeze()
    return window


def run(argv: list[str] | None = None) -> int:
    """Open the window and run the event loop until it closes."""
    app = ensure_application(argv)
    window = build_main_window()
    window.show()
    return app.exec()


__all__ = ["AppSession", "build_main_window", "run"]
