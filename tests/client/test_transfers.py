"""The transfer queue on its own: jobs, their states and what survives a restart or a crash."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from desktop_app.client.transfers import (
    DownloadSpec,
    Job,
    JobKind,
    JobState,
    PinSpec,
    Spec,
    TransferQueue,
    UploadSpec,
    spec_from_json,
    spec_to_json,
)

UPLOAD = UploadSpec(
    sources=("/data/images", "/data/labels.csv"),
    project="vision",
    name="train-set",
    type="dataset",
    description="first cut",
    metadata={"rows": 3, "nested": {"split": [0.8, 0.2]}, "note": None},
    aliases=("best", "candidate"),
    tags=("raw",),
    base_version_id="0123456789abcdef0123456789abcdef",
)
DOWNLOAD = DownloadSpec(
    version_id="fedcba9876543210fedcba9876543210", root="/tmp/out", paths=("a.txt", "b/c.bin")
)
PIN = PinSpec(version_ids=("v1", "v2"), pin=False)


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[TransferQueue]:
    q = TransferQueue(tmp_path / "transfers.sqlite3")
    yield q
    q.close()


def upload(name: str = "data") -> UploadSpec:
    return UploadSpec(sources=("/x",), project="p", name=name, type="dataset")


# -- adding and reading --------------------------------------------------------------------


def test_added_jobs_are_queued_and_listed_oldest_first(queue: TransferQueue) -> None:
    first = queue.add(UPLOAD, "upload train-set")
    second = queue.add(DOWNLOAD, "download v3")
    third = queue.add(PIN, "unpin")

    assert [j.id for j in queue.jobs()] == [first.id, second.id, third.id]
    assert first.id < second.id < third.id
    assert [j.kind for j in queue.jobs()] == [JobKind.UPLOAD, JobKind.DOWNLOAD, JobKind.PIN]
    assert all(j.state is JobState.QUEUED for j in queue.jobs())
    assert queue.get(second.id) == second
    assert second.title == "download v3"
    assert (second.done_bytes, second.total_bytes, second.attempts) == (0, 0, 0)
    assert second.error is None
    assert second.result is None
    assert second.created_at > 0
    assert second.updated_at >= second.created_at


def test_an_unknown_job_is_a_lookup_error_naming_it(queue: TransferQueue) -> None:
    with pytest.raises(LookupError, match="there is no transfer 42"):
        queue.get(42)
    for action in (queue.pause, queue.resume, queue.cancel, queue.retry):
        with pytest.raises(LookupError, match="42"):
            action(42)


@pytest.mark.parametrize("spec", [UPLOAD, DOWNLOAD, PIN, upload(), DownloadSpec("v", "/r")])
def test_every_spec_survives_json_and_the_database(
    spec: Spec, queue: TransferQueue, tmp_path: Path
) -> None:
    kind = queue.add(spec, "t").kind
    assert spec_from_json(kind, spec_to_json(spec)) == spec
    assert queue.get(queue.jobs()[-1].id).spec == spec
    reopened = TransferQueue(tmp_path / "transfers.sqlite3")
    try:
        restored = reopened.jobs()[-1].spec
    finally:
        reopened.close()
    assert restored == spec
    assert type(restored) is type(spec)
    # Tuples stay tuples (a list would make the frozen spec unhashable and unequal).
    for name in ("sources", "aliases", "tags", "paths", "version_ids"):
        if hasattr(spec, name):
            assert isinstance(getattr(restored, name), tuple)


# -- the user's controls -------------------------------------------------------------------


def _in_state(queue: TransferQueue, state: JobState) -> Job:
    """A job brought into ``state`` the way the runner and the user would bring it there."""
    job = queue.add(upload(), "t")
    if state is JobState.QUEUED:
        return job
    if state is JobState.PAUSED:
        return queue.pause(job.id)
    if state is JobState.CANCELLED:
        return queue.cancel(job.id)
    claimed = queue.claim_next()
    assert claimed is not None
    assert claimed.id == job.id
    if state is JobState.RUNNING:
        return claimed
    return queue.settle(job.id, state, error="boom" if state is not JobState.DONE else None)


ALLOWED: dict[str, set[JobState]] = {
    "pause": {JobState.QUEUED, JobState.WAITING, JobState.RUNNING},
    "resume": {JobState.PAUSED},
    "cancel": {JobState.QUEUED, JobState.WAITING, JobState.RUNNING, JobState.PAUSED},
    "retry": {JobState.FAILED, JobState.CANCELLED},
}
TARGET = {
    "pause": JobState.PAUSED,
    "resume": JobState.QUEUED,
    "cancel": JobState.CANCELLED,
    "retry": JobState.QUEUED,
}


@pytest.mark.parametrize("state", list(JobState))
@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_controls_move_only_from_the_states_they_allow(
    queue: TransferQueue, action: str, state: JobState
) -> None:
    job = _in_state(queue, state)
    assert job.state is state
    moved = getattr(queue, action)(job.id)
    if state in ALLOWED[action]:
        assert moved.state is TARGET[action]
    else:  # refused quietly: the job stays as it was
        assert moved.state is state
        assert moved == queue.get(job.id)
        assert moved.updated_at == job.updated_at


def test_retry_clears_the_error_and_keeps_the_bytes_done(queue: TransferQueue) -> None:
    job = queue.add(upload(), "t")
    queue.claim_next()
    queue.set_progress(job.id, 300, 1000)
    failed = queue.settle(job.id, JobState.FAILED, error="disk full: /x")
    assert failed.error == "disk full: /x"

    retried = queue.retry(job.id)

    assert retried.state is JobState.QUEUED
    assert retried.error is None
    assert (retried.done_bytes, retried.total_bytes) == (300, 1000)


def test_progress_is_written_unsynced_and_state_changes_stay_durable(
    queue: TransferQueue,
) -> None:
    job = queue.add(upload(), "t")
    queue.claim_next()
    durable = queue._conn.execute("PRAGMA synchronous").fetchone()[0]
    assert durable >= 2  # FULL (or EXTRA): a committed job survives a power cut

    queue.set_progress(job.id, 300, 1000)

    # The progress is there for every reader (another process too), and the connection is
    # back to syncing each commit for the state changes that follow.
    assert queue._conn.execute("PRAGMA synchronous").fetchone()[0] == durable
    other = TransferQueue(queue.path)
    try:
        assert (other.get(job.id).done_bytes, other.get(job.id).total_bytes) == (300, 1000)
    finally:
        other.close()


def test_only_what_the_user_asked_for_waits_for_a_disk_sync(queue: TransferQueue) -> None:
    # Which commits sync the disk shows in the statements SQLite runs: the runner's own
    # bookkeeping (claim, progress, the end of a run, recovery) commits under
    # synchronous=NORMAL; a new job and the user's controls under the durable setting.
    # (Whether a commit really reached the disk cannot be seen without cutting the power.)
    statements: list[str] = []
    queue._conn.set_trace_callback(statements.append)
    setting = "NORMAL"

    def synced_by(action: Callable[[], object]) -> bool:
        statements.clear()
        action()
        begins = [i for i, s in enumerate(statements) if s.startswith("BEGIN")]
        assert begins, statements
        before = [s for s in statements[: begins[0]] if s.startswith("PRAGMA synchronous")]
        return not before or setting not in before[-1]

    job = queue.add(upload(), "t")
    assert synced_by(lambda: queue.add(upload("b"), "b"))
    assert not synced_by(queue.claim_next)
    assert not synced_by(lambda: queue.set_progress(job.id, 1, 2))
    assert not synced_by(lambda: queue.settle(job.id, JobState.DONE, result="x"))
    assert not synced_by(queue.recover)
    assert synced_by(lambda: queue.pause(job.id))
    assert synced_by(lambda: queue.retry(job.id))
    assert queue.get(job.id).state is JobState.DONE  # settled; retry leaves a done job alone
    other = TransferQueue(queue.path)  # what was committed unsynced is there for others
    try:
        assert other.get(job.id).state is JobState.DONE
    finally:
        other.close()


def test_finished_states() -> None:
    assert {s for s in JobState if s.finished} == {
        JobState.FAILED,
        JobState.CANCELLED,
        JobState.DONE,
    }


# -- the runner's side ---------------------------------------------------------------------


def test_claim_next_takes_the_oldest_queued_job_and_counts_attempts(queue: TransferQueue) -> None:
    paused = queue.add(upload("a"), "a")
    queue.pause(paused.id)
    first = queue.add(upload("b"), "b")
    second = queue.add(DOWNLOAD, "c")

    claimed = queue.claim_next()
    assert claimed is not None
    assert (claimed.id, claimed.state, claimed.attempts) == (first.id, JobState.RUNNING, 1)
    claimed = queue.claim_next()
    assert claimed is not None
    assert claimed.id == second.id
    assert queue.claim_next() is None  # the paused job is not taken
    assert queue.get(paused.id).state is JobState.PAUSED

    queue.settle(first.id, JobState.FAILED, error="x")
    queue.retry(first.id)
    again = queue.claim_next()
    assert again is not None
    assert (again.id, again.attempts) == (first.id, 2)


def test_claim_next_skips_the_jobs_it_is_told_to(queue: TransferQueue) -> None:
    first = queue.add(upload("a"), "a")
    second = queue.add(upload("b"), "b")

    claimed = queue.claim_next(exclude={first.id})
    assert claimed is not None
    assert claimed.id == second.id
    assert queue.claim_next(exclude=[first.id]) is None
    assert queue.get(first.id).state is JobState.QUEUED
    claimed = queue.claim_next(exclude=())
    assert claimed is not None
    assert claimed.id == first.id


def test_waiting_jobs_are_claimed_only_when_asked(queue: TransferQueue) -> None:
    job = queue.add(upload(), "t")
    queue.claim_next()
    queue.settle(job.id, JobState.WAITING, error="the server could not be reached")

    assert queue.claim_next() is None
    claimed = queue.claim_next(include_waiting=True)
    assert claimed is not None
    assert claimed.id == job.id
    assert claimed.state is JobState.RUNNING
    assert claimed.attempts == 2


def test_queued_jobs_come_before_older_waiting_ones_only_by_id(queue: TransferQueue) -> None:
    waiting = queue.add(upload("w"), "w")
    queue.claim_next()
    queue.settle(waiting.id, JobState.WAITING, error="offline")
    queued = queue.add(upload("q"), "q")

    # Without the retry being due only the queued job is taken; with it, the oldest first.
    claimed = queue.claim_next()
    assert claimed is not None
    assert claimed.id == queued.id
    claimed = queue.claim_next(include_waiting=True)
    assert claimed is not None
    assert claimed.id == waiting.id


def test_claims_from_several_threads_never_take_a_job_twice(queue: TransferQueue) -> None:
    ids = {queue.add(upload(f"n{i}"), "t").id for i in range(60)}
    claimed: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        while (job := queue.claim_next()) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(claimed) == sorted(ids)
    assert all(j.attempts == 1 for j in queue.jobs())


def test_progress_is_recorded(queue: TransferQueue) -> None:
    job = queue.add(upload(), "t")
    queue.set_progress(job.id, 5, 10)
    assert (queue.get(job.id).done_bytes, queue.get(job.id).total_bytes) == (5, 10)


def test_settle_records_how_a_run_ended(queue: TransferQueue) -> None:
    job = queue.add(upload(), "t")
    queue.claim_next()
    done = queue.settle(job.id, JobState.DONE, result="p/data:v0")
    assert (done.state, done.result, done.error) == (JobState.DONE, "p/data:v0", None)


@pytest.mark.parametrize(
    ("control", "expected"),
    [("pause", JobState.PAUSED), ("cancel", JobState.CANCELLED)],
)
def test_settle_keeps_a_pause_or_cancel_made_during_the_run(
    queue: TransferQueue, control: str, expected: JobState
) -> None:
    job = queue.add(upload(), "t")
    queue.claim_next()
    getattr(queue, control)(job.id)  # the user, while the run is still unwinding

    for state in (JobState.DONE, JobState.FAILED, JobState.WAITING, JobState.QUEUED):
        settled = queue.settle(job.id, state, error="late", result="late")
        assert settled.state is expected
        assert settled.error is None
        assert settled.result is None


def test_settle_of_a_forgotten_job_is_a_lookup_error(queue: TransferQueue) -> None:
    with pytest.raises(LookupError):
        queue.settle(7, JobState.DONE)


def test_pending_uploads_are_the_unfinished_uploads(queue: TransferQueue) -> None:
    # Claimed states first: _in_state claims the oldest queued job.
    by_state = {
        state: _in_state(queue, state)
        for state in (
            JobState.RUNNING,
            JobState.WAITING,
            JobState.FAILED,
            JobState.DONE,
            JobState.PAUSED,
            JobState.CANCELLED,
            JobState.QUEUED,
        )
    }
    queue.add(DOWNLOAD, "a download is no pending upload")
    queue.add(PIN, "nor is a pin")

    pending = queue.pending_uploads()

    assert [j.id for j in pending] == [
        by_state[s].id
        for s in (JobState.RUNNING, JobState.WAITING, JobState.PAUSED, JobState.QUEUED)
    ]
    assert {j.state for j in pending} == {
        JobState.RUNNING,
        JobState.WAITING,
        JobState.PAUSED,
        JobState.QUEUED,
    }


def test_remove_finished_forgets_done_and_cancelled_jobs_only(queue: TransferQueue) -> None:
    done = queue.add(upload("d"), "t")
    queue.claim_next()
    queue.settle(done.id, JobState.DONE)
    queue.cancel(queue.add(upload("c"), "t").id)
    failed = queue.add(upload("f"), "t")
    queue.claim_next()
    queue.settle(failed.id, JobState.FAILED, error="x")
    kept = queue.add(upload("q"), "t")

    assert queue.remove_finished() == 2
    assert [j.id for j in queue.jobs()] == [failed.id, kept.id]  # a failure waits for retry
    assert queue.remove_finished() == 0


# -- restarts and crashes ------------------------------------------------------------------


def test_reopening_requeues_running_and_waiting_jobs_and_keeps_the_others(
    tmp_path: Path,
) -> None:
    path = tmp_path / "transfers.sqlite3"
    queue = TransferQueue(path)
    running = queue.add(upload("running"), "t")
    waiting = queue.add(upload("waiting"), "t")
    paused = queue.add(upload("paused"), "t")
    queued = queue.add(DOWNLOAD, "t")
    queue.claim_next()
    queue.claim_next()
    queue.settle(waiting.id, JobState.WAITING, error="offline")
    queue.pause(paused.id)
    queue.set_progress(running.id, 4096, 10_000)
    queue.close()  # no settle: the app went away with the job running

    reopened = TransferQueue(path)
    try:
        states = {j.id: j.state for j in reopened.jobs()}
        assert states == {
            running.id: JobState.QUEUED,
            waiting.id: JobState.QUEUED,
            paused.id: JobState.PAUSED,
            queued.id: JobState.QUEUED,
        }
        back = reopened.get(running.id)
        assert (back.done_bytes, back.total_bytes, back.attempts) == (4096, 10_000, 1)
        assert [j.id for j in reopened.recover()] == [running.id, waiting.id, queued.id]
        claimed = reopened.claim_next()
        assert claimed is not None
        assert claimed.id == running.id
        assert claimed.attempts == 2
    finally:
        reopened.close()


def test_a_crashed_process_leaves_its_running_job_to_be_requeued(tmp_path: Path) -> None:
    """A real crash: another process claims the job and dies without closing anything."""
    path = tmp_path / "transfers.sqlite3"
    queue = TransferQueue(path)
    job = queue.add(UPLOAD, "upload train-set")
    queue.close()
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from desktop_app.client.transfers import TransferQueue
        queue = TransferQueue(Path({str(path)!r}))
        job = queue.claim_next()
        queue.set_progress(job.id, 123, 456)
        os._exit(9)
        """
    )
    crashed = subprocess.run([sys.executable, "-c", script], timeout=60, check=False)
    assert crashed.returncode == 9

    reopened = TransferQueue(path)
    try:
        back = reopened.get(job.id)
        assert back.state is JobState.QUEUED
        assert (back.done_bytes, back.total_bytes, back.attempts) == (123, 456, 1)
        assert back.spec == UPLOAD
    finally:
        reopened.close()


def test_the_queue_file_is_made_with_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "transfers.sqlite3"
    make: Callable[[Path], TransferQueue] = TransferQueue
    queue = make(path)
    queue.close()
    assert path.is_file()
