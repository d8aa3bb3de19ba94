"""The worker thread: every backend call, sync step, manifest fetch and preview runs here.

``BackendWorker`` lives on its own ``QThread``; the window asks through queued signals and
hears back through signals, so the GUI thread never waits on the network or the disk.
Long syncs go one feed page at a time and yield to the thread's event loop between pages,
so a request (open a version, edit an alias) is served within one page, not after the sync.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from desktop_app.backends.http_transport import AuthenticationError
from desktop_app.client.mirror import Mirror
from desktop_app.client.mirror_sync import (
    FeedSync,
    count_in,
    drain_outbox,
    load_runs,
    load_version_details,
    local_digests,
)
from desktop_app.client.preview import load_preview
from desktop_app.client.session import Client
from desktop_app.client.transfer_jobs import plan_upload
from desktop_app.client.transfers import UploadSpec
from desktop_app.client.upload_preview import summarize_upload
from desktop_app.core.errors import ArtifactDeskError, BackendUnavailableError, CancelledError
from desktop_app.gui.i18n import tr

log = logging.getLogger(__name__)

ONLINE = "online"
OFFLINE = "offline"
SYNCING = "syncing"
REFUSED = "refused"

CHANGED_INTERVAL_S = 0.5
REFRESH_PAUSE_MS = 40
# A long sync runs in slices of about SLICE_S, with SLICE_PAUSE_MS between them. The window
# calls Python (its models) for every row it paints, and each call must take the
# interpreter lock; in the pauses the lock is free, so a busy sync never stalls it long.
SLICE_S = 0.008
SLICE_PAUSE_MS = 4
# Events the window's sync reads per page. Reading a page is one step that cannot be cut
# into slices, and 5,000 events (the CLI's page) held the interpreter lock long enough to
# stall the window by 60 ms as it opened; 1,000 synced 100,000 versions no slower.
FEED_PAGE_EVENTS = 1000
# After answering the window (a version's details for a click), the sync waits this long.
INTERACTION_PAUSE_MS = 150
# A worker paced by the window (``paced=True``) also waits, after telling it what changed,
# until the window says it has applied and painted the change, or this long at most. A
# fixed pause alone is too short on a slow machine: the refresh then shares the
# interpreter lock with a sync step, and every call Qt makes into Python waits its turn.
REFRESH_WAIT_MAX_S = 1.0


class BackendWorker(QObject):
    """Owns the client (backend and caches) and the writable mirror; runs on one QThread."""

    status_changed = Signal(str, float)  # state, time of the last sync (0 when never)
    # What changed in the mirror: a frozenset of (project, artifact name), or None when
    # anything may have (an edit, a refused offline edit).
    mirror_changed = Signal(object)
    version_loaded = Signal(str)
    files_cached = Signal(str, object)  # version id, frozenset of cached digests
    runs_loaded = Signal()
    preview_loaded = Signal(str, str, object)  # version id, path, Preview
    cache_size_changed = Signal(int)
    edit_refused = Signal(str)
    plan_progressed = Signal(object, object)  # bytes hashed, bytes to hash (may pass 2 GiB)
    upload_planned = Signal(object)  # UploadSummary
    upload_plan_failed = Signal(str)
    failed = Signal(str)
    stopped = Signal()

    def __init__(
        self,
        open_client: Callable[[], Client],
        mirror_path: Path,
        *,
        poll_ms: int = 2000,
        retry_ms: tuple[int, int] = (1000, 30_000),
        events_per_step: int = FEED_PAGE_EVENTS,
        paced: bool = False,
    ) -> None:
        super().__init__()
        self._open_client = open_client
        self._mirror_path = mirror_path
        self._poll_ms = poll_ms
        self._retry_first_ms, self._retry_max_ms = retry_ms
        self._retry_ms = self._retry_first_ms
        self._events_per_step = events_per_step
        self._client: Client | None = None
        self._mirror: Mirror | None = None
        self._timer: QTimer | None = None
        self._state = ""
        self._local: ThreadPoolExecutor | None = None
        self._feed: FeedSync | None = None
        self._plan_cancel = threading.Event()
        # Artifacts synced that the window has not been told about yet.
        self._changed: set[tuple[str, str]] = set()
        self._runs_changed = False  # lineage synced that the window has not been told of
        self._told_at = 0.0
        self._paced = paced
        self._window_caught_up = threading.Event()
        if not paced:  # else the window is opening: the first sync step waits for it
            self._window_caught_up.set()
        self._waiting_since = 0.0

    # -- lifecycle (called in the worker thread) -----------------------------------------
    @Slot()
    def start(self) -> None:
        self._local = ThreadPoolExecutor(max_workers=1, thread_name_prefix="local-files")
        self._mirror = Mirror(self._mirror_path)
        self._timer = QTimer(self)
        self._timer.setObjectName("syncTimer")
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._sync_tick)
        try:
            self._client = self._open_client()
        except ArtifactDeskError as exc:
            self.failed.emit(str(exc))
            self._set_state(OFFLINE)
            return
        self._emit_cache_size()
        self._waiting_since = time.monotonic()  # for the window's first pass, when paced
        self._timer.start(0)

    @Slot()
    def stop(self) -> None:
        if self._local is not None:
            self._local.shutdown(wait=True, cancel_futures=True)
            self._local = None
        if self._timer is not None:
            self._timer.stop()
            self._timer.deleteLater()
            self._timer = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._mirror is not None:
            self._mirror.close()
            self._mirror = None
        self.stopped.emit()
        thread = QThread.currentThread()
        thread.quit()

    # -- requests ------------------------------------------------------------------------
    @Slot()
    def sync_now(self) -> None:
        if self._timer is not None and self._client is not None:
            self._retry_ms = self._retry_first_ms
            self._timer.start(0)

    @Slot(str)
    def load_version(self, version_id: str) -> None:
        try:
            self._load_version(version_id)
        finally:
            self._give_way()

    def _load_version(self, version_id: str) -> None:
        client, mirror = self._client, self._mirror
        if client is None or mirror is None:
            return
        cache = client.content_cache
        try:
            local = load_version_details(client.backend, mirror, cache, version_id)
        except BackendUnavailableError:
            self._went_offline()
            info = mirror.version(version_id)
            if info is None or not mirror.manifest_loaded(version_id):
                return
            local = local_digests(client.backend, cache, info.project, mirror.entries(version_id))
            mirror.set_cached_files(version_id, count_in(mirror.entries(version_id), local))
        except ArtifactDeskError as exc:
            self.failed.emit(str(exc))
            return
        self.version_loaded.emit(version_id)
        self.files_cached.emit(version_id, frozenset(local))

    @Slot(list)
    def load_runs(self, run_ids: list[str]) -> None:
        client, mirror = self._client, self._mirror
        if client is None or mirror is None:
            return
        try:
            load_runs(client.backend, mirror, run_ids)
        except BackendUnavailableError:
            self._went_offline()
        except ArtifactDeskError as exc:
            self.failed.emit(str(exc))
        self.runs_loaded.emit()
        self._give_way()

    @Slot(str, str, str)
    def edit_version(self, version_id: str, kind: str, value: str) -> None:
        """Queue the edit in the mirror (shown at once), then try to apply it."""
        mirror = self._mirror
        if mirror is None:
            return
        try:
            mirror.queue_edit(version_id, kind, value)
        except (LookupError, ValueError) as exc:
            self.failed.emit(str(exc))
            return
        self.mirror_changed.emit(None)
        self.version_loaded.emit(version_id)
        self._drain()

    @Slot(str, str, str)
    def load_preview(self, version_id: str, path: str, digest: str) -> None:
        """Preview a cached file on the local pool: it never waits behind a slow network."""
        client, local, mirror = self._client, self._local, self._mirror
        if client is None or local is None or mirror is None:
            return
        cache = client.content_cache
        info = mirror.version(version_id)
        in_store = (
            None
            if info is None or cache.contains(digest)
            else client.backend.local_blob_paths(info.project, [digest]).get(digest)
        )

        def job() -> None:
            found = in_store or cache.path_for(digest)
            preview = None if found is None else load_preview(found, path)
            self.preview_loaded.emit(version_id, path, preview)

        local.submit(job)

    def cancel_plan(self) -> None:
        """Stop hashing for a new-version dialog (called from the GUI thread)."""
        self._plan_cancel.set()

    @Slot(object)
    def plan_upload(self, spec: UploadSpec) -> None:
        """Hash what a new version would hold and say what uploading it would send."""
        client, mirror = self._client, self._mirror
        if client is None or mirror is None:
            return
        self._plan_cancel = cancel = threading.Event()
        try:
            plan = plan_upload(
                client,
                spec,
                on_progress=self.plan_progressed.emit,
                is_cancelled=cancel.is_set,
            )
            local = client.backend.local_blob_paths(spec.project, sorted(plan.sources))
        except CancelledError:
            return
        except BackendUnavailableError:
            self._went_offline()
            self.upload_plan_failed.emit(
                tr("The server cannot be reached: the upload will wait in the queue.")
            )
            return
        except ArtifactDeskError as exc:
            self.upload_plan_failed.emit(str(exc))
            return
        except OSError as exc:
            self.upload_plan_failed.emit(f"{exc.strerror or exc}: {exc.filename or ''}")
            return
        self.upload_planned.emit(
            summarize_upload(plan, mirror, spec.project, spec.name, local_digests=local)
        )

    # -- syncing -------------------------------------------------------------------------
    @Slot()
    def _sync_tick(self) -> None:
        client, mirror = self._client, self._mirror
        if client is None or mirror is None or self._timer is None:
            return
        if self._window_still_refreshing():
            self._timer.start(SLICE_PAUSE_MS)
            return
        try:
            if not self._drain():
                return
            if self._feed is None:
                self._feed = FeedSync(client.backend, mirror, max_events=self._events_per_step)
            step = self._feed.step(SLICE_S)
        except BackendUnavailableError:
            self._went_offline()
            return
        except AuthenticationError as exc:
            self.failed.emit(str(exc))
            self._set_state(REFUSED)
            return
        except ArtifactDeskError as exc:
            log.warning("sync failed: %s", exc)
            self.failed.emit(str(exc))
            self._timer.start(self._poll_ms)
            return
        # The window re-reads the mirror on mirror_changed: at most twice a second while a
        # long sync runs, then once when it is done. After telling it, pause a moment so
        # its refresh runs alone: Python threads share one lock, and a refresh that runs
        # against a busy sync step stalls the window several times as long.
        self._changed.update(step.collections)
        self._runs_changed = self._runs_changed or bool(step.versions or step.runs)
        now = time.monotonic()
        told = (bool(self._changed) or self._runs_changed) and (
            step.caught_up or now - self._told_at >= CHANGED_INTERVAL_S
        )
        if told:
            self._tell_changed()
            self._told_at = now
        if step.caught_up:
            mirror.mark_synced()
            self._retry_ms = self._retry_first_ms
            self._set_state(ONLINE)
            self._timer.start(self._poll_ms)
        else:
            self._set_state(SYNCING)
            self._timer.start(REFRESH_PAUSE_MS if told else SLICE_PAUSE_MS)

    def _give_way(self) -> None:
        """Hold the sync back a moment after answering the window: the user just clicked,
        and the window's repaint should not share the interpreter lock with a sync step."""
        timer = self._timer
        if timer is not None and timer.isActive() and timer.remainingTime() < INTERACTION_PAUSE_MS:
            timer.start(INTERACTION_PAUSE_MS)

    def _drain(self) -> bool:
        """Apply queued offline edits; False when the backend could not be reached."""
        client, mirror = self._client, self._mirror
        if client is None or mirror is None or not mirror.pending_edits():
            return client is not None
        try:
            outcomes = drain_outbox(client.backend, mirror)
        except BackendUnavailableError:
            self._went_offline()
            return False
        for outcome in outcomes:
            if outcome.problem:
                self.edit_refused.emit(outcome.problem)
            self.version_loaded.emit(outcome.edit.version_id)
        if outcomes:
            self.mirror_changed.emit(None)
        return True

    def _tell_changed(self) -> None:
        changed, self._changed = frozenset(self._changed), set()
        self._runs_changed = False
        if self._paced:
            self._wait_for_window()
        self.mirror_changed.emit(changed)

    def _wait_for_window(self) -> None:
        self._window_caught_up.clear()
        self._waiting_since = time.monotonic()

    def note_window_caught_up(self) -> None:
        """The window has applied (and painted) the last change it was told of; called
        from the GUI thread, so it only sets a flag the next sync tick looks at."""
        self._window_caught_up.set()

    def _window_still_refreshing(self) -> bool:
        return (
            not self._window_caught_up.is_set()
            and time.monotonic() - self._waiting_since < REFRESH_WAIT_MAX_S
        )

    def _went_offline(self) -> None:
        if self._changed or self._runs_changed:  # show what arrived before the connection broke
            self._tell_changed()
        self._set_state(OFFLINE)
        if self._timer is not None and not self._timer.isActive():
            self._timer.start(self._retry_ms)
            self._retry_ms = min(self._retry_ms * 2, self._retry_max_ms)

    def _set_state(self, state: str) -> None:
        mirror = self._mirror
        last = (mirror.last_sync if mirror is not None else None) or 0.0
        if state != self._state or state == ONLINE:
            self._state = state
            self.status_changed.emit(state, last)
        if state == ONLINE:
            self._emit_cache_size()

    def _emit_cache_size(self) -> None:
        if self._client is not None:
            self.cache_size_changed.emit(self._client.content_cache.total_bytes())


class WorkerThread(QObject):
    """Starts a :class:`BackendWorker` on its own thread and stops it cleanly."""

    stop_requested = Signal()

    def __init__(self, worker: BackendWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.qthread = QThread(self)
        self.qthread.setObjectName("backendWorker")
        worker.moveToThread(self.qthread)
        self.qthread.started.connect(worker.start)
        self.stop_requested.connect(worker.stop)

    def start(self) -> None:
        self.qthread.start()

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Ask the worker to stop, wait for its thread to end; True when it did."""
        if not self.qthread.isRunning():
            return True
        self.stop_requested.emit()
        deadline = time.monotonic() + timeout_ms / 1000
        finished = bool(self.qthread.wait(timeout_ms))
        if not finished:
            log.error("the worker did not stop within %.0f s", deadline - time.monotonic())
        return finished


def status_text(state: str, last_sync: float) -> str:
    """What the status bar says for a connection state."""
    when = time.strftime("%H:%M", time.localtime(last_sync)) if last_sync else tr("never")
    if state == ONLINE:
        return tr("Online · synced {when}").format(when=when)
    if state == SYNCING:
        return tr("Syncing…")
    if state == REFUSED:
        return tr("API key refused · run artifact-desk login")
    if state == OFFLINE:
        return tr("Offline · last synced {when} · retrying").format(when=when)
    return tr("Connecting…")
