"""What the user's transfer gestures become: downloads, uploads, pins, open and show.

The window's buttons, menus, double clicks and drops call in here; everything slow becomes
a job in the transfer queue. Asking for a folder and opening a file with the system go
through two replaceable callables, so tests (and other platforms) can stand in for them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QWidget

from desktop_app.client.mirror import Mirror
from desktop_app.client.session import default_download_root
from desktop_app.client.transfers import DownloadSpec, Job, JobKind, JobState, PinSpec, UploadSpec
from desktop_app.gui.i18n import tr
from desktop_app.gui.transfers import TransferService

FolderAsker = Callable[[str, Path], Path | None]
UrlOpener = Callable[[QUrl], bool]


def ask_folder_with_dialog(parent: QWidget | None) -> FolderAsker:
    def ask(title: str, start: Path) -> Path | None:
        chosen = QFileDialog.getExistingDirectory(parent, title, str(start))
        return Path(chosen) if chosen else None

    return ask


@dataclass(frozen=True)
class PendingUpload:
    """An upload not committed yet, shown above the versions of its artifact."""

    job_id: int
    project: str
    name: str
    title: str
    state: JobState


@dataclass(frozen=True)
class _AfterStaging:
    action: str  # "open" or "show"
    path: Path


class TransferActions(QObject):
    """Turns requests into queue jobs and acts when staged files are ready."""

    pending_uploads_changed = Signal(list)  # PendingUpload rows
    job_finished = Signal(object)  # Job, done or failed
    message = Signal(str)
    local_files_changed = Signal()  # a download or pin finished: cached states may differ

    def __init__(
        self,
        service: TransferService,
        mirror: Mirror,
        staging_dir: Path,
        window_state: QSettings,
        *,
        ask_folder: FolderAsker,
        open_url: UrlOpener = QDesktopServices.openUrl,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._mirror = mirror
        self._staging = staging_dir
        self._state = window_state
        self.ask_folder = ask_folder
        self.open_url = open_url
        self._pending: dict[int, PendingUpload] = {}
        self._after: dict[tuple[str, str, str], _AfterStaging] = {}
        self._states: dict[int, JobState] = {}
        self._exported: set[str] = set()  # versions copied whole for dragging out
        self._exporting: dict[tuple[str, str], str] = {}
        service.job_changed.connect(self.on_service_job_changed)
        service.jobs_listed.connect(self.on_service_jobs_listed)

    def set_mirror(self, mirror: Mirror) -> None:
        self._mirror = mirror

    # -- downloads -----------------------------------------------------------------------
    def download_folder(self) -> Path:
        """The folder downloads went to last time (the user's Downloads at first)."""
        saved = self._state.value("downloadFolder")
        if isinstance(saved, str) and saved:
            return Path(saved)
        downloads = Path.home() / "Downloads"
        return downloads if downloads.is_dir() else Path.home()

    def download_version(self, version_id: str, paths: Sequence[str] = ()) -> bool:
        """Ask where, then queue the download into ``<folder>/<name>:vN/``."""
        info = self._mirror.version(version_id)
        if info is None:
            return False
        folder = self.ask_folder(
            tr("Download {name}:{version} into").format(name=info.name, version=info.version),
            self.download_folder(),
        )
        if folder is None:
            return False
        self._state.setValue("downloadFolder", str(folder))
        root = folder / default_download_root(info).name
        what = f"{info.name}:{info.version}"
        if paths:
            what += " " + (paths[0] if len(paths) == 1 else tr("({n} files)").format(n=len(paths)))
        self._service.enqueue(DownloadSpec(info.id, str(root), tuple(paths)), f"{what} → {root}")
        return True

    def keep_offline(self, version_ids: Sequence[str], *, keep: bool = True) -> None:
        names = [self._label(v) for v in version_ids]
        if not names:
            return
        verb = tr("Keep offline") if keep else tr("Stop keeping offline")
        self._service.enqueue(PinSpec(tuple(version_ids), keep), f"{verb}: {', '.join(names)}")

    def open_file(self, version_id: str, path: str) -> None:
        """Open a file with the system's application (after fetching it when needed)."""
        self._stage(version_id, path, "open")

    def show_in_folder(self, version_id: str, path: str) -> None:
        self._stage(version_id, path, "show")

    def _stage(self, version_id: str, path: str, action: str) -> None:
        root = self._staging / version_id
        target = root.joinpath(*path.split("/"))
        key = (version_id, str(root), path)
        self._after[key] = _AfterStaging(action, target)
        title = tr("Fetch {path} to open it").format(path=path)
        self._service.enqueue(DownloadSpec(version_id, str(root), (path,)), title)

    def export_for_drag(self, version_id: str, paths: Sequence[str] = ()) -> list[Path] | None:
        """Copies to drag out: the files (or the whole version as a folder) when they are
        ready; otherwise start fetching them, say so, and return None."""
        info = self._mirror.version(version_id)
        if info is None:
            return None
        if paths:
            root = self._staging / version_id
            targets = [root.joinpath(*p.split("/")) for p in paths]
            if all(t.is_file() for t in targets):
                return targets
            spec = DownloadSpec(version_id, str(root), tuple(paths))
        else:
            folder = self._staging / "versions" / version_id / default_download_root(info).name
            if version_id in self._exported:
                return [folder]
            spec = DownloadSpec(version_id, str(folder))
            self._exporting[(version_id, str(folder))] = version_id
        self._service.enqueue(
            spec,
            tr("Prepare {name}:{version} for dragging").format(
                name=info.name, version=info.version
            ),
        )
        self.message.emit(tr("Fetching the files first; drag again when the transfer is done"))
        return None

    # -- uploads -------------------------------------------------------------------------
    def upload(self, spec: UploadSpec) -> None:
        title = tr("{name} ← {count} item(s)").format(
            name=f"{spec.project}/{spec.name}", count=len(spec.sources)
        )
        self._service.enqueue(spec, title)

    # -- job changes ---------------------------------------------------------------------
    @Slot(list)
    def on_service_jobs_listed(self, jobs: list[Job]) -> None:
        self._pending.clear()
        for job in jobs:
            self._states[job.id] = job.state
            self._note_pending(job)
        self.pending_uploads_changed.emit(list(self._pending.values()))

    @Slot(object)
    def on_service_job_changed(self, job: Job) -> None:
        before = self._states.get(job.id)
        self._states[job.id] = job.state
        if self._note_pending(job):
            self.pending_uploads_changed.emit(list(self._pending.values()))
        if before == job.state or job.state not in (JobState.DONE, JobState.FAILED):
            return
        self.job_finished.emit(job)
        if job.kind is not JobKind.UPLOAD:
            self.local_files_changed.emit()
        spec = job.spec
        if isinstance(spec, DownloadSpec) and not spec.paths and job.state is JobState.DONE:
            exported = self._exporting.pop((spec.version_id, spec.root), None)
            if exported is not None:
                self._exported.add(exported)
        if isinstance(spec, DownloadSpec) and len(spec.paths) == 1:
            after = self._after.pop((spec.version_id, spec.root, spec.paths[0]), None)
            if after is not None and job.state is JobState.DONE:
                self._act(after)

    def _note_pending(self, job: Job) -> bool:
        """Keep the pending-upload list current; True when it changed."""
        spec = job.spec
        if not isinstance(spec, UploadSpec):
            return False
        if job.state.finished:
            return self._pending.pop(job.id, None) is not None
        row = PendingUpload(job.id, spec.project, spec.name, job.title, job.state)
        changed = self._pending.get(job.id) != row
        self._pending[job.id] = row
        return changed

    def _act(self, after: _AfterStaging) -> None:
        if not after.path.exists():
            self.message.emit(tr("{path} was not downloaded").format(path=after.path))
            return
        target = after.path if after.action == "open" else after.path.parent
        if not self.open_url(QUrl.fromLocalFile(os.fspath(target))):
            self.message.emit(
                tr("No application opens {path}; it is in {folder}").format(
                    path=after.path.name, folder=after.path.parent
                )
            )

    def _label(self, version_id: str) -> str:
        info = self._mirror.version(version_id)
        return f"{info.name}:{info.version}" if info else version_id
