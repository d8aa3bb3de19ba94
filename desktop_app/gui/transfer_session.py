"""Wires the transfer queue into the window: panel, actions, drops, dialogs, notices.

Built by the composition root next to the backend worker, and rebuilt with it when the
settings switch backends.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSettings, Signal, Slot
from PySide6.QtWidgets import QFileDialog

from desktop_app.client.mirror import Mirror
from desktop_app.client.paths import AppPaths
from desktop_app.client.session import Client
from desktop_app.client.settings import Settings
from desktop_app.client.transfers import Job, JobKind, JobState
from desktop_app.gui.drop import DropTarget, FileDropFilter
from desktop_app.gui.gil import use_switch_interval
from desktop_app.gui.i18n import tr
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.notify import Notifier
from desktop_app.gui.transfer_actions import TransferActions, ask_folder_with_dialog
from desktop_app.gui.transfers import TransferService, transfers_file
from desktop_app.gui.widgets.new_version_dialog import NewVersionDialog
from desktop_app.gui.worker import BackendWorker


class TransferSession(QObject):
    """The transfer side of one backend: queue service, actions and their connections."""

    sync_requested = Signal()

    def __init__(
        self,
        paths: AppPaths,
        settings: Settings,
        mirror: Mirror,
        window: MainWindow,
        worker: BackendWorker,
        window_state: QSettings,
        *,
        retry_s: tuple[float, float] = (1.0, 30.0),
    ) -> None:
        super().__init__(window)
        self._window = window
        self._worker = worker
        self._mirror = mirror
        self.service = TransferService(
            transfers_file(paths.data_dir, settings.backend_url),
            lambda: Client(paths=paths, settings=settings),
            max_jobs=min(2, settings.transfer_workers),
            retry_s=retry_s,
            parent=self,
        )
        self.actions = TransferActions(
            self.service,
            mirror,
            paths.cache_dir / "open",
            window_state,
            ask_folder=ask_folder_with_dialog(window),
            parent=self,
        )
        self.notifier = Notifier(window)
        self.notifier.setParent(self)
        self.dialog: NewVersionDialog | None = None
        self._stopped = False
        self._running: set[int] = set()  # jobs running now: see gui/gil.py
        self._connect()
        self.service.start()

    def _connect(self) -> None:
        window, panel, service, actions = (
            self._window,
            self._window.transfers,
            self.service,
            self.actions,
        )
        service.job_changed.connect(panel.on_job_changed)
        service.job_changed.connect(self._on_service_job_changed)
        service.jobs_listed.connect(self._on_service_jobs_listed)
        service.failed.connect(window.on_worker_failed)
        panel.pause_requested.connect(service.pause)
        panel.resume_requested.connect(service.resume)
        panel.cancel_requested.connect(service.cancel)
        panel.retry_requested.connect(service.retry)
        panel.clear_finished_requested.connect(service.clear_finished)
        actions.pending_uploads_changed.connect(window.browse.set_pending_uploads)
        actions.job_finished.connect(self._on_actions_job_finished)
        actions.message.connect(window.on_worker_failed)
        actions.local_files_changed.connect(self._on_actions_local_files_changed)
        self.notifier.notified.connect(self._on_notifier_notified)
        self.sync_requested.connect(self._worker.sync_now)
        # Connections to the window outlive this session unless undone: keep them to undo.
        menu = window.menu_actions
        self._links = [
            (menu.upload.triggered, self._on_upload_triggered),
            (menu.download.triggered, self._on_download_triggered),
            (menu.keep_offline.triggered, self._on_keep_offline_triggered),
            (menu.stop_offline.triggered, self._on_stop_offline_triggered),
            (menu.open_file.triggered, self._on_open_file_triggered),
            (menu.show_file.triggered, self._on_show_file_triggered),
            (menu.download_files.triggered, self._on_download_files_triggered),
            (window.version_activated, self._on_window_version_activated),
            (window.file_activated, actions.open_file),
        ]
        for signal, slot in self._links:
            signal.connect(slot)
        window.detail.files_view.drag_resolver = self._files_to_drag
        window.versions.drag_resolver = self._version_to_drag
        self.drop_filter = FileDropFilter(window.tree, self)
        self.drop_filter.watch(window.tree.viewport())
        self.drop_filter.watch(window)
        self.drop_filter.files_dropped.connect(self.start_upload)

    def stop(self) -> None:
        """Stop the transfers (they resume next time) and forget this session's wiring."""
        if self._stopped:
            return
        self._stopped = True
        window = self._window
        window.detail.files_view.drag_resolver = None
        window.versions.drag_resolver = None
        window.tree.viewport().removeEventFilter(self.drop_filter)
        window.removeEventFilter(self.drop_filter)
        for signal, slot in self._links:
            signal.disconnect(slot)
        if self.dialog is not None:
            self.dialog.reject()
        self.service.stop()
        for receiver in (self, self.actions, window.transfers, window.browse, window):
            QCoreApplication.removePostedEvents(receiver, QEvent.Type.MetaCall)
        self._running.clear()
        use_switch_interval(transferring=False)

    @Slot(object)
    def _on_service_job_changed(self, job: Job) -> None:
        if job.state is JobState.RUNNING:
            self._running.add(job.id)
        else:
            self._running.discard(job.id)
        use_switch_interval(transferring=bool(self._running))

    # -- uploads -------------------------------------------------------------------------
    @Slot(list, object)
    def start_upload(
        self, sources: list[Path], target: DropTarget | None = None
    ) -> NewVersionDialog:
        """Open the new-version dialog for dropped or chosen files; hashing starts at once."""
        if self.dialog is not None:
            self.dialog.reject()
        target = target or self._current_target()
        dialog = NewVersionDialog(
            sources,
            self._mirror,
            project=target.project,
            name=target.name,
            type_=target.type_,
            parent=self._window,
        )
        worker = self._worker
        dialog.plan_requested.connect(worker.plan_upload)
        worker.plan_progressed.connect(dialog.on_plan_progress)
        worker.upload_planned.connect(dialog.on_plan_ready)
        worker.upload_plan_failed.connect(dialog.on_plan_failed)
        dialog.accepted.connect(self._on_dialog_accepted)
        dialog.finished.connect(self._on_dialog_finished)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _current_target(self) -> DropTarget:
        version = self._window.detail.version
        if version is None:
            return DropTarget(None, None, None)
        return DropTarget(version.project, version.name, version.type)

    @Slot()
    def _on_dialog_accepted(self) -> None:
        if self.dialog is not None:
            self.actions.upload(self.dialog.spec())
            self._window.transfers.show()

    @Slot(int)
    def _on_dialog_finished(self, _result: int) -> None:
        dialog, self.dialog = self.dialog, None
        self._worker.cancel_plan()
        if dialog is not None:
            for signal, slot in (
                (self._worker.plan_progressed, dialog.on_plan_progress),
                (self._worker.upload_planned, dialog.on_plan_ready),
                (self._worker.upload_plan_failed, dialog.on_plan_failed),
            ):
                signal.disconnect(slot)
            dialog.deleteLater()

    @Slot()
    def _on_upload_triggered(self) -> None:
        names, _filter = QFileDialog.getOpenFileNames(self._window, tr("Files for a new version"))
        if names:
            self.start_upload([Path(n) for n in names])

    # -- downloads, pins, open -----------------------------------------------------------
    @Slot()
    def _on_download_triggered(self) -> None:
        for version_id in self._window.browse.selected_version_ids()[:1]:
            self.actions.download_version(version_id)

    @Slot(str)
    def _on_window_version_activated(self, version_id: str) -> None:
        self.actions.download_version(version_id)

    @Slot()
    def _on_keep_offline_triggered(self) -> None:
        self.actions.keep_offline(self._window.browse.selected_version_ids())

    @Slot()
    def _on_stop_offline_triggered(self) -> None:
        self.actions.keep_offline(self._window.browse.selected_version_ids(), keep=False)

    @Slot()
    def _on_open_file_triggered(self) -> None:
        version, paths = self._window.detail.version, self._window.detail.selected_paths()
        if version is not None:
            for path in paths[:1]:
                self.actions.open_file(version.id, path)

    @Slot()
    def _on_show_file_triggered(self) -> None:
        version, paths = self._window.detail.version, self._window.detail.selected_paths()
        if version is not None:
            for path in paths[:1]:
                self.actions.show_in_folder(version.id, path)

    @Slot()
    def _on_download_files_triggered(self) -> None:
        version, paths = self._window.detail.version, self._window.detail.selected_paths()
        if version is not None and paths:
            self.actions.download_version(version.id, paths)

    def _files_to_drag(self) -> list[Path] | None:
        version, paths = self._window.detail.version, self._window.detail.selected_paths()
        if version is None or not paths:
            return None
        return self.actions.export_for_drag(version.id, paths)

    def _version_to_drag(self) -> list[Path] | None:
        ids = self._window.browse.selected_version_ids()
        return self.actions.export_for_drag(ids[0]) if ids else None

    # -- job results ---------------------------------------------------------------------
    @Slot(list)
    def _on_service_jobs_listed(self, jobs: list[Job]) -> None:
        self._window.transfers.model.set_jobs(jobs)

    @Slot(object)
    def _on_actions_job_finished(self, job: Job) -> None:
        self.notifier.job_finished(job)
        if job.kind is JobKind.UPLOAD and job.state is JobState.DONE:
            self.sync_requested.emit()
        if job.state is JobState.FAILED:
            self._window.transfers.show()

    @Slot()
    def _on_actions_local_files_changed(self) -> None:
        version = self._window.detail.version
        if version is not None:
            self._window.detail.version_load_requested.emit(version.id)

    @Slot(str, str)
    def _on_notifier_notified(self, title: str, message: str) -> None:
        self._window.status.showMessage(f"{title}: {message}", 15_000)
