"""Runs the transfer queue on background threads: a few jobs at a time, pause, cancel,
and patient retries while the backend cannot be reached.

Qt-free: the GUI wraps :class:`TransferRunner` and turns its ``on_change`` calls into
signals. Progress reaches ``on_change`` at most ~10 times a second per job, plus once when
the job's state changes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from desktop_app.client.session import Client
from desktop_app.client.transfer_jobs import run_job
from desktop_app.client.transfers import Job, JobState, Spec, TransferQueue
from desktop_app.core.errors import ArtifactDeskError, BackendUnavailableError, CancelledError

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.1

JobRunner = Callable[
    [Client, Job, Callable[[int, int], None], Callable[[], bool]],
    str,
]


class TransferRunner:
    """Claims queued jobs and runs up to ``max_jobs`` at once until :meth:`stop`."""

    def __init__(
        self,
        queue: TransferQueue,
        client: Client,
        *,
        max_jobs: int = 2,
        retry_s: tuple[float, float] = (1.0, 30.0),
        on_change: Callable[[Job], None] | None = None,
        job_runner: JobRunner = run_job,
    ) -> None:
        self.queue = queue
        self.client = client
        self._max_jobs = max(1, max_jobs)
        self._retry_first, self._retry_max = retry_s
        self._retry_delay = self._retry_first
        self._retry_at = 0.0
        self._on_change = on_change or (lambda job: None)
        self._job_runner = job_runner
        self._wake = threading.Condition()
        self._stopping = False
        self._running: dict[int, threading.Event] = {}
        self._pool = ThreadPoolExecutor(self._max_jobs, thread_name_prefix="transfer")
        self._dispatcher = threading.Thread(
            target=self._dispatch, name="transfer-dispatcher", daemon=True
        )

    # -- control (any thread) ------------------------------------------------------------
    def start(self) -> None:
        self._dispatcher.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop every running job where it is (they resume on the next start) and join."""
        with self._wake:
            self._stopping = True
            for event in self._running.values():
                event.set()
            self._wake.notify_all()
        if self._dispatcher.is_alive():
            self._dispatcher.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def wake(self) -> None:
        """Look at the queue again now (a job was added, resumed or retried)."""
        with self._wake:
            self._wake_locked()

    def _wake_locked(self) -> None:
        self._retry_at = 0.0
        self._retry_delay = self._retry_first
        self._wake.notify_all()

    # A job made claimable (added, resumed, retried) is told to ``on_change`` under the
    # lock the dispatcher claims under: its QUEUED state never arrives after its RUNNING.

    def submit(self, spec: Spec, title: str) -> Job:
        """Queue a new job and start it when a slot is free."""
        with self._wake:
            job = self.queue.add(spec, title)
            self._on_change(job)
            self._wake_locked()
        return job

    def pause(self, job_id: int) -> Job:
        job = self.queue.pause(job_id)
        self._interrupt(job_id)
        self._on_change(job)
        return job

    def cancel(self, job_id: int) -> Job:
        job = self.queue.cancel(job_id)
        self._interrupt(job_id)
        self._on_change(job)
        return job

    def resume(self, job_id: int) -> Job:
        with self._wake:
            job = self.queue.resume(job_id)
            self._on_change(job)
            self._wake_locked()
        return job

    def retry(self, job_id: int) -> Job:
        with self._wake:
            job = self.queue.retry(job_id)
            self._on_change(job)
            self._wake_locked()
        return job

    def _interrupt(self, job_id: int) -> None:
        with self._wake:
            event = self._running.get(job_id)
        if event is not None:
            event.set()

    # -- the dispatcher thread -----------------------------------------------------------
    def _dispatch(self) -> None:
        while True:
            with self._wake:
                if self._stopping:
                    return
                job = None
                if len(self._running) < self._max_jobs:
                    retry_due = time.monotonic() >= self._retry_at
                    job = self.queue.claim_next(
                        include_waiting=retry_due, exclude=tuple(self._running)
                    )
                if job is None:
                    timeout = None
                    if self._retry_at:
                        timeout = self._retry_at - time.monotonic()
                        if timeout <= 0:  # nothing was waiting after all
                            self._retry_at, timeout = 0.0, None
                    self._wake.wait(timeout)
                    continue
                event = threading.Event()
                self._running[job.id] = event
            self._on_change(job)
            self._pool.submit(self._run, job, event)

    def _run(self, job: Job, stop: threading.Event) -> None:
        last = 0.0

        def on_progress(done: int, total: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= PROGRESS_INTERVAL_S or done >= total:
                last = now
                self.queue.set_progress(job.id, done, total)
                self._on_change(self.queue.get(job.id))

        try:
            result = self._job_runner(self.client, job, on_progress, stop.is_set)
        except CancelledError:
            settled = self.queue.get(job.id)
            if settled.state is JobState.RUNNING:  # stopped by stop(): resume next time
                settled = self.queue.settle(job.id, JobState.QUEUED)
        except BackendUnavailableError as exc:
            settled = self.queue.settle(job.id, JobState.WAITING, error=str(exc))
            self._schedule_retry()
        except ArtifactDeskError as exc:
            settled = self.queue.settle(job.id, JobState.FAILED, error=str(exc))
        except OSError as exc:
            error = exc.strerror or str(exc)
            if exc.filename:  # not "No space left on device:" when no file is known
                error = f"{error}: {exc.filename}"
            settled = self.queue.settle(job.id, JobState.FAILED, error=error)
        except Exception as exc:  # never let a job take the runner down
            log.exception("transfer %s failed unexpectedly", job.id)
            settled = self.queue.settle(
                job.id, JobState.FAILED, error=f"unexpected error ({type(exc).__name__}: {exc})"
            )
        else:
            settled = self.queue.settle(job.id, JobState.DONE, result=result)
            with self._wake:
                self._retry_delay = self._retry_first
        finally:
            with self._wake:
                self._running.pop(job.id, None)
                self._wake.notify_all()
        self._on_change(settled)

    def _schedule_retry(self) -> None:
        with self._wake:
            self._retry_at = time.monotonic() + self._retry_delay
            self._retry_delay = min(self._retry_delay * 2, self._retry_max)
            self._wake.notify_all()
