"""The transfer queue seen from the window: a thin Qt shell around the Qt-free runner.

Every queue operation (add, pause, resume, …) runs on one small control thread, so the
window never waits on the queue's database; the runner's own threads move the bytes. Job
changes come back through ``job_changed`` (emitted from those threads, delivered queued).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop_app.client.session import Client
from desktop_app.client.transfer_runner import TransferRunner
from desktop_app.client.transfers import Job, Spec, TransferQueue

log = logging.getLogger(__name__)


def transfers_file(data_dir: Path, backend_url: str | None) -> Path:
    """One queue per backend: a job names versions of one backend only."""
    if not backend_url:
        return data_dir / "transfers" / "embedded.sqlite3"
    key = hashlib.sha256(backend_url.rstrip("/").encode("utf-8")).hexdigest()[:16]
    return data_dir / "transfers" / f"server-{key}.sqlite3"


class TransferService(QObject):
    """Starts the runner, forwards the user's controls, reports every job change."""

    job_changed = Signal(object)  # Job
    jobs_listed = Signal(list)  # every job, at start and after clearing finished ones
    failed = Signal(str)

    def __init__(
        self,
        queue_path: Path,
        open_client: Callable[[], Client],
        *,
        max_jobs: int = 2,
        retry_s: tuple[float, float] = (1.0, 30.0),
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._queue_path = queue_path
        self._open_client = open_client
        self._max_jobs = max_jobs
        self._retry_s = retry_s
        self._control = ThreadPoolExecutor(1, thread_name_prefix="transfer-control")
        self._queue: TransferQueue | None = None
        self._client: Client | None = None
        self._runner: TransferRunner | None = None

    def start(self) -> None:
        self._submit(self._start)

    def _start(self) -> None:
        self._queue = TransferQueue(self._queue_path)
        self._client = self._open_client()
        self._runner = TransferRunner(
            self._queue,
            self._client,
            max_jobs=self._max_jobs,
            retry_s=self._retry_s,
            on_change=self.job_changed.emit,
        )
        self.jobs_listed.emit(self._queue.jobs())
        self._runner.start()

    def stop(self) -> None:
        """Stop every transfer where it stands (they resume next time) and the threads."""
        self._submit(self._stop).result()
        self._control.shutdown(wait=True)

    def _stop(self) -> None:
        if self._runner is not None:
            self._runner.stop()
        if self._client is not None:
            self._client.close()
        if self._queue is not None:
            self._queue.close()
        self._runner = self._client = self._queue = None

    # -- the user's requests -------------------------------------------------------------
    def enqueue(self, spec: Spec, title: str) -> None:
        self._submit(lambda: self._runner_call(lambda r: r.submit(spec, title)))

    def pause(self, job_id: int) -> None:
        self._submit(lambda: self._runner_call(lambda r: r.pause(job_id)))

    def resume(self, job_id: int) -> None:
        self._submit(lambda: self._runner_call(lambda r: r.resume(job_id)))

    def cancel(self, job_id: int) -> None:
        self._submit(lambda: self._runner_call(lambda r: r.cancel(job_id)))

    def retry(self, job_id: int) -> None:
        self._submit(lambda: self._runner_call(lambda r: r.retry(job_id)))

    def clear_finished(self) -> None:
        def clear(runner: TransferRunner) -> None:
            runner.queue.remove_finished()
            self.jobs_listed.emit(runner.queue.jobs())

        self._submit(lambda: self._runner_call(clear))

    def _runner_call(self, call: Callable[[TransferRunner], object]) -> None:
        if self._runner is None:
            self.failed.emit("the transfer queue is not running; restart Artifact Desk")
            return
        try:
            call(self._runner)
        except LookupError as exc:
            self.failed.emit(str(exc))

    def _submit(self, call: Callable[[], object]) -> Future[None]:
        def guarded() -> None:
            try:
                call()
            except Exception as exc:  # a queue failure must reach the user, not kill a thread
                log.exception("transfer queue operation failed")
                self.failed.emit(f"the transfer queue failed: {exc}")

        return self._control.submit(guarded)


__all__ = ["Job", "TransferService", "transfers_file"]
