"""The transfer runner with real components: the embedded store, a real server over a
socket, the real client and its caches, and a queue file that outlives the runner.

Where a test must know exactly how far a transfer got, a :class:`Gate` holds blob bytes
back: :class:`GatedBackend` is a test double *around* the real backend that passes every
call through unchanged, except that blob chunks go on only as the gate allows.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
from live_server import LiveServer, run_live_server
from sqlalchemy import insert, select

from desktop_app.backends.http import HttpBackend
from desktop_app.backends.http_transport import RetryPolicy, Timeouts
from desktop_app.backends.local import LocalBackend
from desktop_app.backends.protocol import Backend
from desktop_app.client import download
from desktop_app.client.paths import AppPaths
from desktop_app.client.session import Client
from desktop_app.client.settings import Settings
from desktop_app.client.transfer_jobs import collect_sources, plan_upload, run_job
from desktop_app.client.transfer_runner import PROGRESS_INTERVAL_S, TransferRunner
from desktop_app.client.transfers import (
    DownloadSpec,
    Job,
    JobState,
    PinSpec,
    Spec,
    TransferQueue,
    UploadSpec,
)
from desktop_app.core.digests import CHUNK_SIZE, md5_b64
from desktop_app.core.errors import (
    BackendUnavailableError,
    CancelledError,
    NotFoundError,
    ValidationError,
)
from desktop_app.core.records import VersionInfo
from desktop_app.store import schema as store_schema

MIB = 1 << 20
PROJECT = "proj"


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def exists(store: LocalBackend, version_id: str) -> bool:
    try:
        store.get_version(version_id)
    except NotFoundError:
        return False
    return True


def wait_state(queue: TransferQueue, job_id: int, *states: JobState, timeout: float = 15) -> Job:
    wait_for(lambda: queue.get(job_id).state in states, f"job {job_id} to be {states}", timeout)
    return queue.get(job_id)


def write_files(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


def read_tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def blob_bytes(backend: Backend, version: VersionInfo) -> dict[str, bytes]:
    """Every file of a version as the backend holds it."""
    return {
        e.path: b"".join(backend.read_blob(version.project, e.digest))
        for e in download.version_entries(backend, version.id)
    }


# -- the gate ------------------------------------------------------------------------------


class Gate:
    """Lets blob chunks through while the bytes so far stay within ``budget`` (None: open).

    A chunk over the budget waits until the test raises it, or until the job running it is
    told to stop; then it goes on, and the job's own cancel check ends the transfer at the
    next chunk, as it would have without the gate.
    """

    def __init__(self, budget: int | None = None) -> None:
        self._cond = threading.Condition()
        self._budget = budget
        self.sent = 0
        self.held = False
        self.job_stopped: Callable[[], bool] = lambda: False

    def allow(self, budget: int | None) -> None:
        with self._cond:
            self._budget = budget
            self._cond.notify_all()

    def open(self) -> None:
        self.allow(None)

    def wait_held(self, at: int | None = None) -> None:
        wait_for(lambda: self.held and (at is None or self.sent == at), f"the gate to hold {at}")

    def pass_through(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            with self._cond:
                while (
                    self._budget is not None
                    and self.sent + len(chunk) > self._budget
                    and not self.job_stopped()
                ):
                    self.held = True
                    self._cond.wait(0.005)
                self.held = False
                self.sent += len(chunk)
            yield chunk

    def job_runner(
        self,
        client: Client,
        job: Job,
        on_progress: Callable[[int, int], None],
        is_cancelled: Callable[[], bool],
    ) -> str:
        """The real ``run_job``; the gate only learns when the runner stops the job."""
        self.job_stopped = is_cancelled
        return run_job(client, job, on_progress, is_cancelled)


class GatedBackend:
    """A test double around a real backend: every call goes to it unchanged, but blob
    bytes (upload and download) pass only as ``gate`` allows. It also records the drafts
    made and the upload offsets the backend answered. Downloads always stream (no local
    blob files, no reading into lent buffers), so a local store's bytes pass the gate too."""

    def __init__(self, inner: Backend, gate: Gate) -> None:
        self.inner = inner
        self.gate = gate
        self.drafts: list[str] = []
        self.offsets: list[int] = []
        self.upload_calls = 0
        self.before_upload: Callable[[int], None] = lambda call: None

    def __getattr__(self, name: str) -> Any:
        if name == "read_blob_into":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def create_draft(self, *args: Any, **kwargs: Any) -> Any:
        result = self.inner.create_draft(*args, **kwargs)
        self.drafts.append(result.version.id)
        return result

    def upload_offset(self, project: str, digest: str) -> int:
        offset = self.inner.upload_offset(project, digest)
        self.offsets.append(offset)
        return offset

    def upload_blob(
        self, project: str, digest: str, size: int, chunks: Iterable[bytes], *, offset: int = 0
    ) -> None:
        self.upload_calls += 1
        self.before_upload(self.upload_calls)
        self.inner.upload_blob(project, digest, size, self.gate.pass_through(chunks), offset=offset)

    def read_blob(
        self, project: str, digest: str, *, start: int = 0, chunk_size: int = 1 << 20
    ) -> Iterator[bytes]:
        def lazily() -> Iterator[bytes]:
            # Opened on the first read, as a server's stream is: a local store opens its file
            # at once, which a caller that never reads would leave to the garbage collector.
            yield from self.inner.read_blob(project, digest, start=start, chunk_size=chunk_size)

        return self.gate.pass_through(lazily())

    def local_blob_paths(self, project: str, digests: Sequence[str]) -> dict[str, Path]:
        return {}


# -- the rig -------------------------------------------------------------------------------


@dataclass
class Rig:
    """Builds clients, queues and runners under ``tmp_path``; all stop after the test."""

    tmp: Path
    paths: AppPaths
    stack: contextlib.ExitStack
    changes: list[Job] = field(default_factory=list)

    @property
    def queue_file(self) -> Path:
        return self.paths.data_dir / "transfers.sqlite3"

    def client(self, backend: Backend | GatedBackend) -> Client:
        settings = Settings(transfer_workers=2, hash_workers=1)
        client = Client(paths=self.paths, settings=settings, backend=cast(Backend, backend))
        self.stack.callback(client.close)
        return client

    def queue(self) -> TransferQueue:
        queue = TransferQueue(self.queue_file)
        self.stack.callback(queue.close)
        return queue

    def runner(self, queue: TransferQueue, client: Client, **kwargs: Any) -> TransferRunner:
        kwargs.setdefault("on_change", self.changes.append)
        runner = TransferRunner(queue, client, **kwargs)
        self.stack.callback(runner.stop)
        runner.start()
        return runner

    def wait_change(self, job_id: int, state: JobState) -> list[Job]:
        """The job's ``on_change`` calls once one has told of ``state`` (it comes right
        after the queue records the state, from the runner's thread)."""
        wait_for(
            lambda: any(j.id == job_id and j.state is state for j in self.changes),
            f"on_change to tell that job {job_id} is {state}",
        )
        return [j for j in self.changes if j.id == job_id]

    def submit(self, runner: TransferRunner, spec: Spec, title: str = "job") -> Job:
        return runner.submit(spec, title)


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    monkeypatch.setenv("ARTIFACT_DESK_HOME", str(tmp_path / "home"))
    with contextlib.ExitStack() as stack:
        yield Rig(tmp_path, AppPaths.from_env().ensure(), stack)
    left = [t.name for t in threading.enumerate() if t.name.startswith("transfer")]
    assert not left, f"threads left running: {left}"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalBackend]:
    backend = LocalBackend(tmp_path / "store")
    yield backend
    backend.close()


def upload_spec(*sources: Path, name: str = "data", **kwargs: Any) -> UploadSpec:
    return UploadSpec(
        sources=tuple(str(s) for s in sources),
        project=PROJECT,
        name=name,
        type="dataset",
        **kwargs,
    )


def put(backend: Backend, rig: Rig, files: dict[str, bytes], name: str = "data") -> VersionInfo:
    """A version made directly through the client, as the CLI would."""
    folder = write_files(rig.tmp / f"put-{name}-{len(os.listdir(rig.tmp))}", files)
    return rig.client(backend).put(folder, PROJECT, name, "dataset").version


def committed(backend: Backend, name: str = "data") -> list[VersionInfo]:
    try:
        return backend.list_versions(PROJECT, name)
    except NotFoundError:
        return []


# -- uploads -------------------------------------------------------------------------------


def test_an_upload_job_creates_the_version(rig: Rig, store: LocalBackend) -> None:
    files = {"a.txt": b"hello\n", "sub/big.bin": os.urandom(600 * 1024)}
    folder = write_files(rig.tmp / "drop", files)
    queue = rig.queue()
    runner = rig.runner(queue, rig.client(store))

    job = rig.submit(runner, upload_spec(folder, description="dropped", aliases=("best",)))
    done = wait_state(queue, job.id, JobState.DONE, JobState.FAILED)

    assert done.state is JobState.DONE, done.error
    (version,) = store.list_versions(PROJECT, "data")
    assert done.result == version.qualified_name == f"{PROJECT}/data:v0"
    assert version.description == "dropped"
    assert "best" in version.aliases
    assert blob_bytes(store, version) == files
    assert done.done_bytes == done.total_bytes == sum(len(d) for d in files.values())
    states = [j.state for j in rig.wait_change(job.id, JobState.DONE)]
    assert states[0] is JobState.QUEUED
    assert states[-1] is JobState.DONE
    assert JobState.RUNNING in states
    assert queue.pending_uploads() == []


def test_an_upload_of_small_files_sends_them_while_hashing_and_ends_at_full_progress(
    rig: Rig, store: LocalBackend
) -> None:
    """As a put does: the files go in early batches, the draft commits at once, and the
    progress the window last hears of is every byte."""
    files = {f"part-{i // 10}/f{i:02d}.bin": os.urandom(3000) for i in range(40)}
    folder = write_files(rig.tmp / "drop", files)
    drafts: list[dict[str, Any]] = []

    class Noting(GatedBackend):
        def create_draft(self, *args: Any, **kwargs: Any) -> Any:
            drafts.append(kwargs)
            return super().create_draft(*args, **kwargs)

    queue = rig.queue()
    runner = rig.runner(queue, rig.client(Noting(store, Gate(budget=1 << 40))))
    job = rig.submit(runner, upload_spec(folder))
    done = wait_state(queue, job.id, JobState.DONE, JobState.FAILED)

    assert done.state is JobState.DONE, done.error
    (version,) = store.list_versions(PROJECT, "data")
    assert blob_bytes(store, version) == files
    assert [d["commit"] for d in drafts] == [True]  # one draft, to commit at once if it can
    running = [j for j in rig.wait_change(job.id, JobState.DONE) if j.state is JobState.RUNNING]
    assert running[-1].done_bytes == running[-1].total_bytes == 40 * 3000
    assert done.done_bytes == done.total_bytes == 40 * 3000


def test_the_same_upload_again_reports_unchanged(rig: Rig, store: LocalBackend) -> None:
    folder = write_files(rig.tmp / "drop", {"a.txt": b"same"})
    queue = rig.queue()
    runner = rig.runner(queue, rig.client(store))

    first = rig.submit(runner, upload_spec(folder))
    assert wait_state(queue, first.id, JobState.DONE).result == f"{PROJECT}/data:v0"
    second = rig.submit(runner, upload_spec(folder))
    again = wait_state(queue, second.id, JobState.DONE, JobState.FAILED)

    assert again.result == f"{PROJECT}/data:v0 (unchanged)"
    assert len(store.list_versions(PROJECT, "data")) == 1


def test_an_upload_from_a_base_version_keeps_its_files_and_takes_the_dropped_ones(
    rig: Rig, store: LocalBackend
) -> None:
    base = put(store, rig, {"keep.txt": b"kept", "b.txt": b"old b", "d/e.txt": b"e"})
    dropped = write_files(rig.tmp / "drop", {"b.txt": b"new b", "c.txt": b"new c"})
    queue = rig.queue()
    runner = rig.runner(queue, rig.client(store))

    job = rig.submit(
        runner, upload_spec(dropped / "b.txt", dropped / "c.txt", base_version_id=base.id)
    )
    done = wait_state(queue, job.id, JobState.DONE, JobState.FAILED)

    assert done.state is JobState.DONE, done.error
    latest = store.list_versions(PROJECT, "data")[-1]
    assert done.result == latest.qualified_name == f"{PROJECT}/data:v1"
    assert blob_bytes(store, latest) == {
        "keep.txt": b"kept",
        "b.txt": b"new b",
        "c.txt": b"new c",
        "d/e.txt": b"e",
    }
    assert blob_bytes(store, base)["b.txt"] == b"old b"  # the base itself is untouched


def test_a_missing_source_fails_saying_what_and_how_and_a_retry_after_the_fix_works(
    rig: Rig, store: LocalBackend
) -> None:
    missing = rig.tmp / "gone" / "data.csv"
    queue = rig.queue()
    runner = rig.runner(queue, rig.client(store))

    job = rig.submit(runner, upload_spec(missing))
    failed = wait_state(queue, job.id, JobState.FAILED, JobState.DONE)

    assert failed.state is JobState.FAILED
    assert failed.error is not None
    assert str(missing) in failed.error
    assert "check the path" in failed.error
    assert store.list_projects() == []

    write_files(missing.parent, {"data.csv": b"a,b\n1,2\n"})
    runner.retry(job.id)
    done = wait_state(queue, job.id, JobState.DONE, JobState.FAILED)

    assert done.state is JobState.DONE, done.error
    assert done.error is None
    assert done.attempts == 2
    (version,) = store.list_versions(PROJECT, "data")
    assert blob_bytes(store, version) == {"data.csv": b"a,b\n1,2\n"}


def test_collect_sources_names_files_as_a_drop_would(tmp_path: Path) -> None:
    folder = write_files(tmp_path / "images", {"a.png": b"a", "sub/b.png": b"b"})
    single = write_files(tmp_path / "loose", {"labels.csv": b"l"}) / "labels.csv"

    assert sorted(f.entry_path for f in collect_sources([folder])) == ["a.png", "sub/b.png"]
    assert sorted(f.entry_path for f in collect_sources([folder, single])) == [
        "images/a.png",
        "images/sub/b.png",
        "labels.csv",
    ]
    assert [f.entry_path for f in collect_sources([single])] == ["labels.csv"]


def test_collect_sources_refuses_nothing_and_empty_folders(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no files were given; drop or choose"):
        collect_sources([])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValidationError, match=r"empty holds no files; a version needs one file"):
        collect_sources([tmp_path / "empty"])


def test_the_upload_plan_tells_what_the_version_will_be(rig: Rig, store: LocalBackend) -> None:
    base = put(store, rig, {"keep.txt": b"kept", "b.txt": b"old b"})
    dropped = write_files(rig.tmp / "drop", {"b.txt": b"new b!"}) / "b.txt"
    spec = upload_spec(dropped, base_version_id=base.id)
    client = rig.client(store)

    plan = plan_upload(client, spec)

    assert (plan.file_count, plan.total_bytes) == (2, len(b"kept") + len(b"new b!"))
    assert sorted(e.path for e in plan.manifest) == ["b.txt", "keep.txt"]
    assert plan.sources == {md5_b64(b"new b!"): str(dropped)}
    made = client.put(
        write_files(rig.tmp / "same", {"keep.txt": b"kept", "b.txt": b"new b!"}),
        PROJECT,
        "data",
        "dataset",
    )
    assert plan.digest == made.version.digest


# -- downloads and pins ---------------------------------------------------------------------


def test_a_download_job_lands_byte_exact_in_its_root(rig: Rig, store: LocalBackend) -> None:
    files = {"a.txt": b"alpha", "sub/big.bin": os.urandom(700 * 1024), "sub/c.txt": b"c"}
    version = put(store, rig, files)
    root = rig.tmp / "out" / "data:v0"
    queue = rig.queue()
    runner = rig.runner(queue, rig.client(store))

    job = rig.submit(runner, DownloadSpec(version.id, str(root)))
    done = wait_state(queue, job.id, JobState.DONE, JobState.FAILED)

    assert done.state is JobState.DONE, done.error
    assert done.result == str(root)
    assert read_tree(root) == files
    assert os.listdir(rig.tmp / "out") == ["data:v0"]


def test_a_download_job_of_chosen_paths_places_only_those(rig: Rig, store: LocalBackend) -> None:
    files = {"a.txt": b"alpha", "sub/b.txt": b"b", "sub/c.txt": b"c"}
    version = put(store, rig, files)
    root = rig.tmp / "out"
    queue = rig.queue()
    runner = rig.runner(queue, rig.client(store))

    job = rig.submit(runner, DownloadSpec(version.id, str(root), paths=("a.txt", "sub/c.txt")))
    done = wait_state(queue, job.id, JobState.DONE, JobState.FAILED)

    assert done.state is JobState.DONE, done.error
    assert read_tree(root) == {"a.txt": b"alpha", "sub/c.txt": b"c"}


def test_a_pin_job_pins_the_versions_digests_and_an_unpin_releases_them(
    rig: Rig, store: LocalBackend
) -> None:
    version = put(store, rig, {"a.txt": b"alpha", "big.bin": os.urandom(300 * 1024)})
    other = put(store, rig, {"z.txt": b"zeta"}, name="other")
    digests = {e.digest for e in download.version_entries(store, version.id)}
    queue = rig.queue()
    client = rig.client(GatedBackend(store, Gate()))  # no local blob files: fetched for real
    runner = rig.runner(queue, client)

    job = rig.submit(runner, PinSpec((version.id,)))
    done = wait_state(queue, job.id, JobState.DONE, JobState.FAILED)

    assert done.state is JobState.DONE, done.error
    assert done.result == version.qualified_name
    assert client.content_cache.pinned_digests() == digests
    assert all(client.content_cache.contains(d) for d in digests)
    assert not client.content_cache.contains(download.version_entries(store, other.id)[0].digest)

    unpin = rig.submit(runner, PinSpec((version.id,), pin=False))
    assert wait_state(queue, unpin.id, JobState.DONE, JobState.FAILED).state is JobState.DONE
    assert client.content_cache.pinned_digests() == set()


# -- pause, resume, cancel mid-transfer ----------------------------------------------------


def test_pause_mid_upload_stops_the_bytes_and_resume_finishes_byte_exact(
    rig: Rig, store: LocalBackend
) -> None:
    data = os.urandom(6 * CHUNK_SIZE + 123)
    folder = write_files(rig.tmp / "drop", {"big.bin": data})
    gate = Gate(budget=2 * CHUNK_SIZE)
    backend = GatedBackend(store, gate)
    queue = rig.queue()
    runner = rig.runner(queue, rig.client(backend), job_runner=gate.job_runner)

    job = rig.submit(runner, upload_spec(folder))
    gate.wait_held(at=2 * CHUNK_SIZE)
    runner.pause(job.id)
    paused = wait_state(queue, job.id, JobState.PAUSED)
    wait_for(lambda: not gate.held, "the held chunk to go")
    moved = gate.sent
    assert moved <= 3 * CHUNK_SIZE  # at most the chunk that was at the gate

    gate.open()
    time.sleep(0.2)  # a running transfer would move megabytes in this time
    assert gate.sent == moved
    assert queue.get(job.id).state is JobState.PAUSED
    assert paused.done_bytes < len(data)
    assert committed(store) == []
    stored = store.upload_offset(PROJECT, md5_b64(data))
    assert 0 < stored <= moved  # the part stays for the resume

    runner.resume(job.id)
    done = wait_state(queue, job.id, JobState.DONE, JobState.FAILED)

    assert done.state is JobState.DONE, done.error
    assert backend.offsets[-1] == stored  # resumed from the store's offset, not from zero
    assert gate.sent - moved == len(data) - stored
    (version,) = store.list_versions(PROJECT, "data")
    assert blob_bytes(store, version) == {"big.bin": data}
    assert len(backend.drafts) == 2
    with pytest.raises(NotFoundError):
        store.get_version(backend.drafts[0])  # the paused run's draft was discarded


def test_cancel_mid_upload_commits_nothing_and_discards_the_draft(
    rig: Rig, store: LocalBackend
) -> None:
    data = os.urandom(4 * CHUNK_SIZE)
    folder = write_files(rig.tmp / "drop", {"big.bin": data})
    gate = Gate(budget=CHUNK_SIZE)
    backend = GatedBackend(store, gate)
    queue = rig.queue()
    runner = rig.runner(queue, rig.client(backend), job_runner=gate.job_runner)

    job = rig.submit(runner, upload_spec(folder))
    gate.wait_held(at=CHUNK_SIZE)
    runner.cancel(job.id)
    cancelled = wait_state(queue, job.id, JobState.CANCELLED)
    wait_for(lambda: not gate.held, "the held chunk to go")
    gate.open()
    # The job shows as cancelled at once; its thread discards the draft once it is back
    # from the held chunk, which on a loaded machine takes a moment.
    (draft,) = backend.drafts
    wait_for(lambda: not exists(store, draft), "the draft to be discarded")

    assert queue.get(job.id).state is JobState.CANCELLED
    assert gate.sent <= 2 * CHUNK_SIZE
    assert cancelled.error is None
    with pytest.raises(NotFoundError):
        store.get_version(draft)
    assert committed(store) == []
    assert [j.state for j in rig.changes if j.id == job.id][-1] is JobState.CANCELLED
    assert queue.pending_uploads() == []


def test_pause_mid_download_then_resume_lands_byte_exact(rig: Rig, store: LocalBackend) -> None:
    data = os.urandom(5 * CHUNK_SIZE + 7)
    version = put(store, rig, {"big.bin": data, "small.txt": b"s"})
    root = rig.tmp / "out" / "v0"
    gate = Gate(budget=2 * CHUNK_SIZE)
    queue = rig.queue()
    runner = rig.runner(queue, rig.client(GatedBackend(store, gate)), job_runner=gate.job_runner)

    job = rig.submit(runner, DownloadSpec(version.id, str(root)))
    gate.wait_held(at=2 * CHUNK_SIZE)
    runner.pause(job.id)
    wait_state(queue, job.id, JobState.PAUSED)
    wait_for(lambda: not gate.held, "the held chunk to go")
    moved = gate.sent
    gate.open()
    time.sleep(0.2)
    assert gate.sent == moved
    assert not (root / "big.bin").exists()  # nothing half-written is visible

    runner.resume(job.id)
    done = wait_state(queue, job.id, JobState.DONE, JobState.FAILED)

    assert done.state is JobState.DONE, done.error
    assert read_tree(root) == {"big.bin": data, "small.txt": b"s"}
    # The bytes fetched before the pause were kept: the rest came, not the whole blob.
    assert gate.sent - moved <= len(data) - 2 * CHUNK_SIZE


def test_cancel_mid_download_leaves_no_file(rig: Rig, store: LocalBackend) -> None:
    version = put(store, rig, {"big.bin": os.urandom(4 * CHUNK_SIZE)})
    out = rig.tmp / "out"
    out.mkdir()
    gate = Gate(budget=CHUNK_SIZE)
    queue = rig.queue()
    runner = rig.runner(queue, rig.client(GatedBackend(store, gate)), job_runner=gate.job_runner)

    job = rig.submit(runner, DownloadSpec(version.id, str(out / "v0")))
    gate.wait_held(at=CHUNK_SIZE)
    runner.cancel(job.id)
    wait_state(queue, job.id, JobState.CANCELLED)
    wait_for(lambda: not gate.held, "the held chunk to go")
    gate.open()
    time.sleep(0.1)

    assert queue.get(job.id).state is JobState.CANCELLED
    assert read_tree(out) == {}


# -- restart, crash of the server ----------------------------------------------------------


def http_backend(server: LiveServer) -> HttpBackend:
    return HttpBackend(
        server.url,
        server.key,
        timeouts=Timeouts(connect=2.0, read=20.0),
        retry=RetryPolicy(attempts=2, base_delay=0.05, max_delay=0.1),
    )


@pytest.mark.slow
def test_a_restart_with_an_upload_half_done_resumes_from_the_servers_offset(
    rig: Rig, live_server: LiveServer
) -> None:
    data = os.urandom(8 * CHUNK_SIZE + 5)
    folder = write_files(rig.tmp / "drop", {"big.bin": data})
    first_gate = Gate(budget=3 * CHUNK_SIZE)
    queue = rig.queue()
    runner = rig.runner(
        queue,
        rig.client(GatedBackend(http_backend(live_server), first_gate)),
        job_runner=first_gate.job_runner,
    )
    job = rig.submit(runner, upload_spec(folder))
    first_gate.wait_held(at=3 * CHUNK_SIZE)

    runner.stop()  # the app closes with the upload half done
    assert queue.get(job.id).state is JobState.QUEUED
    queue.close()

    second_gate = Gate()
    backend = GatedBackend(http_backend(live_server), second_gate)
    queue = rig.queue()  # the same file, as the next start of the app opens it
    assert queue.get(job.id).state is JobState.QUEUED
    runner = rig.runner(queue, rig.client(backend))
    done = wait_state(queue, job.id, JobState.DONE, JobState.FAILED, timeout=30)

    assert done.state is JobState.DONE, done.error
    assert done.attempts == 2
    resumed_from = backend.offsets[0]
    assert 0 < resumed_from <= first_gate.sent
    assert second_gate.sent == len(data) - resumed_from < len(data)
    with http_backend(live_server) as check:
        (version,) = check.list_versions(PROJECT, "data")
        assert blob_bytes(check, version) == {"big.bin": data}


@pytest.mark.slow
def test_a_restart_with_a_download_half_done_fetches_only_the_rest(
    rig: Rig, live_server: LiveServer
) -> None:
    data = os.urandom(8 * CHUNK_SIZE + 5)
    version = put(http_backend(live_server), rig, {"big.bin": data, "small.txt": b"s"})
    root = rig.tmp / "out" / "data:v0"
    first_gate = Gate(budget=3 * CHUNK_SIZE)
    queue = rig.queue()
    runner = rig.runner(
        queue,
        rig.client(GatedBackend(http_backend(live_server), first_gate)),
        job_runner=first_gate.job_runner,
    )
    job = rig.submit(runner, DownloadSpec(version.id, str(root)))
    first_gate.wait_held(at=3 * CHUNK_SIZE)

    runner.stop()  # the app closes with the download half done
    assert queue.get(job.id).state is JobState.QUEUED
    assert not (root / "big.bin").exists()
    queue.close()

    second_gate = Gate()
    queue = rig.queue()
    runner = rig.runner(queue, rig.client(GatedBackend(http_backend(live_server), second_gate)))
    done = wait_state(queue, job.id, JobState.DONE, JobState.FAILED, timeout=30)

    assert done.state is JobState.DONE, done.error
    assert read_tree(root) == {"big.bin": data, "small.txt": b"s"}
    assert second_gate.sent <= len(data) - 3 * CHUNK_SIZE  # from the kept part on


@pytest.mark.slow
def test_a_job_waits_while_the_server_is_down_and_finishes_when_it_is_back(
    rig: Rig, tmp_path: Path
) -> None:
    """The server stops between two blob uploads of the job (uvicorn lets a request under
    way finish before it exits, so the cut falls between requests), then comes back on
    the same port with the same key."""
    files = {"a.bin": os.urandom(2 * CHUNK_SIZE), "b.bin": os.urandom(2 * CHUNK_SIZE)}
    folder = write_files(rig.tmp / "drop", files)
    data_dir = tmp_path / "server"
    server_down = threading.Event()

    def hold_second_upload(call: int) -> None:
        if call == 2:
            server_down.wait(20)

    with contextlib.ExitStack() as servers:
        server = servers.enter_context(run_live_server(data_dir))
        port = int(server.url.rsplit(":", 1)[1])
        backend = GatedBackend(http_backend(server), Gate())
        backend.before_upload = hold_second_upload
        queue = rig.queue()
        client = rig.client(backend)
        client.settings.transfer_workers = 1  # one blob after the other
        runner = rig.runner(queue, client, retry_s=(0.1, 0.3))
        job = rig.submit(runner, upload_spec(folder))
        wait_for(lambda: backend.upload_calls == 2, "the second blob upload")
        servers.close()  # the server stops
        server_down.set()

        waiting = wait_state(queue, job.id, JobState.WAITING, JobState.FAILED, timeout=20)
        assert waiting.state is JobState.WAITING, waiting.error
        assert waiting.error is not None
        assert server.url in waiting.error
        assert "try again" in waiting.error
        time.sleep(0.5)  # a few retries against the dead server: still waiting, not failed
        assert queue.get(job.id).state in (JobState.WAITING, JobState.RUNNING)
        assert queue.get(job.id).attempts >= 2

        sent_before = backend.gate.sent
        servers.enter_context(run_live_server(data_dir, port=port, key=server.key))
        done = wait_state(queue, job.id, JobState.DONE, JobState.FAILED, timeout=20)

        assert done.state is JobState.DONE, done.error
        assert done.error is None
        # Only the blob the server lacked went up again; the first one stayed stored.
        assert backend.gate.sent - sent_before == len(files["b.bin"])
        with http_backend(server) as check:
            (version,) = check.list_versions(PROJECT, "data")
            assert blob_bytes(check, version) == files
        runner.stop()


def test_a_malicious_manifest_fails_the_download_and_writes_nothing_outside_the_root(
    rig: Rig, live_server: LiveServer
) -> None:
    """The server's own database gets an entry ``../escaped.txt`` (written straight into
    its tables, as a compromised or buggy server would hold it)."""
    version = put(http_backend(live_server), rig, {"a.txt": b"harmless", "sub/b.txt": b"b"})
    server_store = live_server.app.state.store  # type: ignore[attr-defined]
    with server_store.engine.begin() as conn:
        row = (
            conn.execute(
                select(store_schema.entries).where(
                    store_schema.entries.c.version_id == version.id,
                    store_schema.entries.c.path == "a.txt",
                )
            )
            .mappings()
            .one()
        )
        conn.execute(insert(store_schema.entries).values({**row, "path": "../escaped.txt"}))
    parent = rig.tmp / "downloads"
    parent.mkdir()
    (parent / "other.txt").write_bytes(b"someone else's")
    root = parent / "data:v0"
    queue = rig.queue()
    runner = rig.runner(queue, rig.client(http_backend(live_server)))

    job = rig.submit(runner, DownloadSpec(version.id, str(root)))
    failed = wait_state(queue, job.id, JobState.FAILED, JobState.DONE)

    assert failed.state is JobState.FAILED
    assert failed.error is not None
    assert "../escaped.txt" in failed.error
    assert read_tree(parent) == {"other.txt": b"someone else's"}
    assert not (rig.tmp / "escaped.txt").exists()


# -- the runner itself ---------------------------------------------------------------------


@dataclass
class ScriptedJob:
    """A job runner the test drives: reports progress until told to finish."""

    seconds: float = 0.0
    finish: threading.Event = field(default_factory=threading.Event)
    started: list[int] = field(default_factory=list)
    running: list[int] = field(default_factory=list)  # one id per run under way
    most_at_once: int = 0
    ignore_stop: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(
        self,
        client: Client,
        job: Job,
        on_progress: Callable[[int, int], None],
        is_cancelled: Callable[[], bool],
    ) -> str:
        with self.lock:
            self.started.append(job.id)
            self.running.append(job.id)
            self.most_at_once = max(self.most_at_once, len(self.running))
        try:
            total = 1_000_000
            end = time.monotonic() + self.seconds
            done = 0
            while time.monotonic() < end or (self.seconds == 0 and not self.finish.is_set()):
                if is_cancelled() and not self.ignore_stop:
                    raise CancelledError("the job was cancelled by the user")
                done = min(total - 1, done + 1)
                on_progress(done, total)
                time.sleep(0.0005)
            self.finish.wait(20)
            on_progress(total, total)
            return f"job {job.id}"
        finally:
            with self.lock:
                self.running.remove(job.id)


def scripted_spec(i: int) -> UploadSpec:
    return UploadSpec(sources=(f"/nowhere/{i}",), project=PROJECT, name=f"n{i}", type="dataset")


def test_progress_reaches_on_change_at_most_ten_times_a_second_per_job(
    rig: Rig, store: LocalBackend
) -> None:
    seconds = 0.6
    scripted = ScriptedJob(seconds=seconds)
    scripted.finish.set()
    queue = rig.queue()
    runner = rig.runner(queue, rig.client(store), job_runner=scripted, max_jobs=2)
    rig.stack.callback(scripted.finish.set)  # before the runner stops, if the test fails

    jobs = [rig.submit(runner, scripted_spec(i)) for i in range(2)]
    for job in jobs:
        assert wait_state(queue, job.id, JobState.DONE).result == f"job {job.id}"

    for job in jobs:
        calls = rig.wait_change(job.id, JobState.DONE)
        progress = [j for j in calls if j.state is JobState.RUNNING and j.done_bytes > 0]
        # one per interval (and the first at once), plus the final one
        assert 3 <= len(progress) <= seconds / PROGRESS_INTERVAL_S + 3
        assert [j.state for j in calls if j not in progress] == [
            JobState.QUEUED,
            JobState.RUNNING,
            JobState.DONE,
        ]
        assert progress[-1].done_bytes == progress[-1].total_bytes == 1_000_000
        assert queue.get(job.id).done_bytes == 1_000_000


def test_a_job_is_told_queued_before_running_however_slow_the_listener(
    rig: Rig, store: LocalBackend
) -> None:
    # A listener that takes its time over QUEUED (a busy GUI thread, a preempted one):
    # the dispatcher, awake for the jobs before, must not claim the job and tell RUNNING
    # meanwhile, or a view showing the last state told would show a running job queued.
    told: list[Job] = []

    def slow_listener(job: Job) -> None:
        if job.state is JobState.QUEUED:
            time.sleep(0.02)
        told.append(job)

    scripted = ScriptedJob()
    scripted.finish.set()
    queue = rig.queue()
    runner = rig.runner(queue, rig.client(store), job_runner=scripted, on_change=slow_listener)

    jobs = [rig.submit(runner, scripted_spec(i)) for i in range(6)]
    for job in jobs:
        wait_state(queue, job.id, JobState.DONE)

    for job in jobs:
        wait_for(
            lambda job=job: any(j.id == job.id and j.state is JobState.DONE for j in told),
            f"on_change to tell that job {job.id} is done",
        )
        states = [j.state for j in told if j.id == job.id]
        assert states[0] is JobState.QUEUED, states
        assert states.count(JobState.QUEUED) == 1, states
        assert states[-1] is JobState.DONE, states


def test_progress_of_a_real_upload_is_throttled_too(rig: Rig, store: LocalBackend) -> None:
    """Thirty 1 MiB chunks let through one every 20 ms: about 0.6 s of transfer."""
    data = os.urandom(30 * CHUNK_SIZE)
    folder = write_files(rig.tmp / "drop", {"big.bin": data})
    gate = Gate(budget=0)
    queue = rig.queue()
    runner = rig.runner(queue, rig.client(GatedBackend(store, gate)), job_runner=gate.job_runner)

    job = rig.submit(runner, upload_spec(folder))
    started = time.monotonic()
    for n in range(1, 31):
        gate.allow(n * CHUNK_SIZE)
        time.sleep(0.02)
    gate.open()
    done = wait_state(queue, job.id, JobState.DONE, JobState.FAILED)
    elapsed = time.monotonic() - started

    assert done.state is JobState.DONE, done.error
    calls = rig.wait_change(job.id, JobState.DONE)
    progress = [j for j in calls if j.state is JobState.RUNNING and j.total_bytes]
    assert 2 <= len(progress) <= elapsed / PROGRESS_INTERVAL_S + 3
    assert len(calls) - len(progress) == 3  # queued, running, done


def test_no_more_than_max_jobs_run_at_once_and_all_finish(rig: Rig, store: LocalBackend) -> None:
    scripted = ScriptedJob()
    queue = rig.queue()
    runner = rig.runner(queue, rig.client(store), job_runner=scripted, max_jobs=2)
    rig.stack.callback(scripted.finish.set)  # before the runner stops, if the test fails

    jobs = [rig.submit(runner, scripted_spec(i)) for i in range(5)]
    wait_for(lambda: len(scripted.running) == 2, "two jobs running")
    time.sleep(0.1)
    assert [queue.get(j.id).state for j in jobs].count(JobState.RUNNING) == 2
    scripted.finish.set()
    for job in jobs:
        wait_state(queue, job.id, JobState.DONE)

    assert scripted.most_at_once == 2
    assert scripted.started == [j.id for j in jobs]  # oldest first


def test_a_job_paused_and_resumed_at_once_never_runs_twice_at_the_same_time(
    rig: Rig, store: LocalBackend
) -> None:
    """The first run is slow to notice the pause (a call under way); the resumed job must
    wait for it instead of starting a second run beside it."""
    scripted = ScriptedJob(ignore_stop=True)
    queue = rig.queue()
    runner = rig.runner(queue, rig.client(store), job_runner=scripted, max_jobs=2)
    rig.stack.callback(scripted.finish.set)  # before the runner stops, if the test fails

    job = rig.submit(runner, scripted_spec(0))
    wait_for(lambda: job.id in scripted.running, "the job to run")
    runner.pause(job.id)
    runner.resume(job.id)
    time.sleep(0.2)
    assert scripted.most_at_once == 1
    scripted.finish.set()
    done = wait_state(queue, job.id, JobState.DONE, JobState.FAILED)

    assert done.state is JobState.DONE
    assert scripted.most_at_once == 1
    assert scripted.started == [job.id, job.id]  # the resumed job ran again, after the first


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ValidationError("name 'x y' may only contain letters; rename it"), "rename it"),
        (FileNotFoundError(2, "No such file or directory", "/data/x.csv"), "/data/x.csv"),
        (OSError(28, "No space left on device"), "No space left on device"),
        (ZeroDivisionError("division by zero"), "unexpected error (ZeroDivisionError"),
    ],
)
def test_a_failing_job_fails_alone_with_a_message_and_the_runner_goes_on(
    rig: Rig, store: LocalBackend, error: Exception, expected: str
) -> None:
    def job_runner(client: Client, job: Job, *_callbacks: object) -> str:
        if job.spec == scripted_spec(0):
            raise error
        return "fine"

    queue = rig.queue()
    runner = rig.runner(queue, rig.client(store), job_runner=job_runner)

    bad = rig.submit(runner, scripted_spec(0))
    good = rig.submit(runner, scripted_spec(1))

    failed = wait_state(queue, bad.id, JobState.FAILED, JobState.DONE)
    assert failed.state is JobState.FAILED
    assert failed.error is not None
    assert expected in failed.error
    assert not failed.error.endswith(":")
    assert wait_state(queue, good.id, JobState.DONE).result == "fine"


def test_an_unreachable_backend_makes_the_job_wait_and_retry_with_growing_pauses(
    rig: Rig, store: LocalBackend
) -> None:
    calls: list[float] = []
    reachable = threading.Event()

    def job_runner(client: Client, job: Job, *_callbacks: object) -> str:
        calls.append(time.monotonic())
        if not reachable.is_set():
            raise BackendUnavailableError("the server at http://x could not be reached")
        return "sent"

    queue = rig.queue()
    runner = rig.runner(queue, rig.client(store), job_runner=job_runner, retry_s=(0.05, 0.2))
    job = rig.submit(runner, scripted_spec(0))

    waiting = wait_state(queue, job.id, JobState.WAITING)
    assert waiting.error == "the server at http://x could not be reached"
    wait_for(lambda: len(calls) >= 4, "four attempts")
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert gaps[0] >= 0.04
    assert gaps[2] >= 0.15
    assert all(gap < 1.0 for gap in gaps)

    runner.pause(job.id)  # a waiting job can be paused: no more attempts
    wait_state(queue, job.id, JobState.PAUSED)
    tried = len(calls)
    time.sleep(0.5)
    assert len(calls) <= tried + 1  # at most the attempt that was under way
    assert queue.get(job.id).state is JobState.PAUSED

    reachable.set()
    runner.resume(job.id)
    done = wait_state(queue, job.id, JobState.DONE)
    assert (done.result, done.error) == ("sent", None)


def test_stop_leaves_running_jobs_queued_for_the_next_start(rig: Rig, store: LocalBackend) -> None:
    scripted = ScriptedJob()
    queue = rig.queue()
    runner = rig.runner(queue, rig.client(store), job_runner=scripted)
    rig.stack.callback(scripted.finish.set)
    job = rig.submit(runner, scripted_spec(0))
    wait_for(lambda: job.id in scripted.running, "the job to run")

    runner.stop()

    assert queue.get(job.id).state is JobState.QUEUED
    assert not [t for t in threading.enumerate() if t.name.startswith("transfer")]
    scripted.finish.set()
    runner = rig.runner(queue, rig.client(store), job_runner=scripted)
    assert wait_state(queue, job.id, JobState.DONE).attempts == 2
