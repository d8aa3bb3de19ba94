"""The transfer queue: uploads, downloads and pins, kept in SQLite so none is ever lost.

Jobs survive a restart or a crash: a job that was running comes back queued and starts
again, and its bytes resume where they stopped (the server's upload offset, the partial
download the content cache kept). The queue is plain data; :mod:`transfer_runner` runs it.
"""

from __future__ import annotations

import contextlib
import enum
import json
import sqlite3
import threading
import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from desktop_app.client.sqlite_tx import enable_wal, immediate

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    title TEXT NOT NULL,
    spec TEXT NOT NULL,
    done_bytes INTEGER NOT NULL DEFAULT 0,
    total_bytes INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    result TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
"""


class JobKind(enum.StrEnum):
    UPLOAD = "upload"
    DOWNLOAD = "download"
    PIN = "pin"


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    WAITING = "waiting"  # the backend is unreachable; retried by itself
    FAILED = "failed"
    CANCELLED = "cancelled"
    DONE = "done"

    @property
    def finished(self) -> bool:
        return self in (JobState.FAILED, JobState.CANCELLED, JobState.DONE)


@dataclass(frozen=True)
class UploadSpec:
    """A new version from local files and folders (and, optionally, an earlier version's)."""

    sources: tuple[str, ...]
    project: str
    name: str
    type: str
    description: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    base_version_id: str | None = None  # start from this version's files


@dataclass(frozen=True)
class DownloadSpec:
    """A version's files (all, or the ``paths`` chosen) placed under ``root``."""

    version_id: str
    root: str
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class PinSpec:
    """Keep versions available offline (fetch into the cache, never evict), or release them."""

    version_ids: tuple[str, ...]
    pin: bool = True


Spec = UploadSpec | DownloadSpec | PinSpec
_KIND_OF: dict[type[Any], JobKind] = {
    UploadSpec: JobKind.UPLOAD,
    DownloadSpec: JobKind.DOWNLOAD,
    PinSpec: JobKind.PIN,
}


@dataclass(frozen=True)
class Job:
    """One entry of the queue, as it stands."""

    id: int
    kind: JobKind
    state: JobState
    title: str
    spec: Spec
    done_bytes: int = 0
    total_bytes: int = 0
    error: str | None = None
    result: str | None = None
    attempts: int = 0
    created_at: float = 0.0
    updated_at: float = 0.0


def spec_to_json(spec: Spec) -> str:
    return json.dumps(asdict(spec), sort_keys=True)


def spec_from_json(kind: JobKind, text: str) -> Spec:
    raw = json.loads(text)
    for key in ("sources", "aliases", "tags", "paths", "version_ids"):
        if key in raw:
            raw[key] = tuple(raw[key])
    if kind is JobKind.UPLOAD:
        return UploadSpec(**raw)
    if kind is JobKind.DOWNLOAD:
        return DownloadSpec(**raw)
    return PinSpec(**raw)


def _job(row: sqlite3.Row) -> Job:
    kind = JobKind(row["kind"])
    return Job(
        id=row["id"],
        kind=kind,
        state=JobState(row["state"]),
        title=row["title"],
        spec=spec_from_json(kind, row["spec"]),
        done_bytes=row["done_bytes"],
        total_bytes=row["total_bytes"],
        error=row["error"],
        result=row["result"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class TransferQueue:
    """The jobs in one SQLite file; safe to use from several threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        enable_wal(self._conn)
        self._synchronous = int(self._conn.execute("PRAGMA synchronous").fetchone()[0])
        self._conn.executescript(_SCHEMA)
        self.recover()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextlib.contextmanager
    def _tx(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction. ``durable=False`` commits without syncing the disk (WAL,
        ``synchronous=NORMAL``): safe from a crash of the app, not from a power cut, and it
        does not wait behind the transfer's own writes. Only what the user asked for (a
        new job, pause, resume, cancel, retry) is synced; the runner's own bookkeeping is
        redone after a power cut (a job left running is queued again and resumes)."""
        with self._lock:
            if not durable:
                self._conn.execute("PRAGMA synchronous = NORMAL")
            try:
                with immediate(self._conn) as conn:
                    yield conn
            finally:
                if not durable:
                    self._conn.execute(f"PRAGMA synchronous = {self._synchronous}")

    # -- reading -------------------------------------------------------------------------
    def jobs(self) -> list[Job]:
        """Every job, oldest first."""
        with self._lock:
            rows = self._conn.execute("SELECT * FROM jobs ORDER BY id").fetchall()
        return [_job(row) for row in rows]

    def get(self, job_id: int) -> Job:
        with self._lock:
            row = self._conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise LookupError(f"there is no transfer {job_id}")
        return _job(row)

    def pending_uploads(self) -> list[Job]:
        """Uploads not finished yet (shown as "pending upload" beside the versions)."""
        return [j for j in self.jobs() if j.kind is JobKind.UPLOAD and not j.state.finished]

    # -- adding and the user's controls -------------------------------------------------
    def add(self, spec: Spec, title: str) -> Job:
        now = time.time()
        with self._tx() as conn:
            cursor = conn.execute(
                "INSERT INTO jobs (kind, state, title, spec, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    _KIND_OF[type(spec)].value,
                    JobState.QUEUED.value,
                    title,
                    spec_to_json(spec),
                    now,
                    now,
                ),
            )
            job_id = cursor.lastrowid
        assert job_id is not None
        return self.get(job_id)

    def pause(self, job_id: int) -> Job:
        """A queued, waiting or running job stops where it is and waits for resume."""
        return self._move(
            job_id, (JobState.QUEUED, JobState.WAITING, JobState.RUNNING), JobState.PAUSED
        )

    def resume(self, job_id: int) -> Job:
        return self._move(job_id, (JobState.PAUSED,), JobState.QUEUED)

    def cancel(self, job_id: int) -> Job:
        return self._move(
            job_id,
            (JobState.QUEUED, JobState.WAITING, JobState.RUNNING, JobState.PAUSED),
            JobState.CANCELLED,
        )

    def retry(self, job_id: int) -> Job:
        """A failed or cancelled job goes back in the queue, keeping what it transferred."""
        return self._move(
            job_id, (JobState.FAILED, JobState.CANCELLED), JobState.QUEUED, clear_error=True
        )

    def remove_finished(self) -> int:
        """Forget done and cancelled jobs; returns how many."""
        with self._tx() as conn:
            gone = conn.execute(
                "DELETE FROM jobs WHERE state IN (?, ?)",
                (JobState.DONE.value, JobState.CANCELLED.value),
            )
        return gone.rowcount

    def _move(
        self,
        job_id: int,
        allowed: tuple[JobState, ...],
        to: JobState,
        *,
        clear_error: bool = False,
    ) -> Job:
        with self._tx() as conn:
            row = conn.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                raise LookupError(f"there is no transfer {job_id}")
            if JobState(row["state"]) in allowed:
                conn.execute(
                    "UPDATE jobs SET state = ?, updated_at = ?"
                    + (", error = NULL" if clear_error else "")
                    + " WHERE id = ?",
                    (to.value, time.time(), job_id),
                )
        return self.get(job_id)

    # -- the runner's side ---------------------------------------------------------------
    def recover(self) -> list[Job]:
        """After a restart or a crash: jobs left running (or waiting) are queued again."""
        with self._tx(durable=False) as conn:
            conn.execute(
                "UPDATE jobs SET state = ? WHERE state IN (?, ?)",
                (JobState.QUEUED.value, JobState.RUNNING.value, JobState.WAITING.value),
            )
        return [j for j in self.jobs() if j.state is JobState.QUEUED]

    def claim_next(
        self, *, include_waiting: bool = False, exclude: Collection[int] = ()
    ) -> Job | None:
        """Mark the oldest queued job running and return it (None when there is none).

        ``exclude``: jobs whose last run is still unwinding (paused and resumed at once);
        they wait for it instead of running twice side by side.
        """
        states = [JobState.QUEUED.value]
        if include_waiting:
            states.append(JobState.WAITING.value)
        skipped = list(exclude)
        with self._tx(durable=False) as conn:
            row = conn.execute(
                f"SELECT id FROM jobs WHERE state IN ({', '.join('?' * len(states))}) "
                f"AND id NOT IN ({', '.join('?' * len(skipped))}) ORDER BY id LIMIT 1",
                [*states, *skipped],
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE jobs SET state = ?, attempts = attempts + 1, updated_at = ? WHERE id = ?",
                (JobState.RUNNING.value, time.time(), row["id"]),
            )
        return self.get(row["id"])

    def set_progress(self, job_id: int, done: int, total: int) -> None:
        """Note how far a job got. Not synced to the disk: this runs on the transfer's own
        thread ten times a second, and a sync waits behind the transfer's writes (a GiB
        download lost a tenth of its speed to it). A crash loses the figure, not a job:
        the next durable write syncs it with everything before it."""
        with self._tx(durable=False) as conn:
            conn.execute(
                "UPDATE jobs SET done_bytes = ?, total_bytes = ?, updated_at = ? WHERE id = ?",
                (done, total, time.time(), job_id),
            )

    def settle(
        self, job_id: int, state: JobState, *, error: str | None = None, result: str | None = None
    ) -> Job:
        """Record how a run ended, unless the user paused or cancelled it meanwhile."""
        with self._tx(durable=False) as conn:
            row = conn.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is not None and JobState(row["state"]) is JobState.RUNNING:
                conn.execute(
                    "UPDATE jobs SET state = ?, error = ?, result = COALESCE(?, result), "
                    "updated_at = ? WHERE id = ?",
                    (state.value, error, result, time.time(), job_id),
                )
        return self.get(job_id)
