"""Concurrent commits to one artifact get dense, unique version numbers.

Processes and threads each open their own ``LocalBackend`` on one shared root, as several
SDK scripts on one machine would.
"""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path
from typing import Any

import pytest
from contract_helpers import Logger
from pg_support import postgres_schema

from desktop_app.backends.local import LocalBackend
from desktop_app.core.digests import md5_b64
from desktop_app.core.errors import OffsetMismatchError
from desktop_app.core.records import VersionState
from desktop_app.core.refs import ArtifactRef
from desktop_app.store import Store

PROJECT = "team/concurrent"
NAME = "shared-artifact"
WORKERS = 4
COMMITS_EACH = 5


def _open(root: str) -> Any:
    """``root`` is a folder (LocalBackend) or ``DB_URL|BLOB_FOLDER`` (the store on a server DB)."""
    if "|" in root:
        url, blobs = root.split("|")
        return Store(url, Path(blobs))
    return LocalBackend(Path(root))


def commit_versions(root: str, worker: int, commits: int) -> list[int]:
    """Commit ``commits`` versions with content only this worker writes; their indices."""
    backend = _open(root)
    try:
        log = Logger(backend)
        indices = []
        for i in range(commits):
            files = {"data.txt": f"worker {worker} commit {i}".encode()}
            version = log(PROJECT, NAME, files, metadata={"worker": worker, "i": i})
            assert version.state is VersionState.COMMITTED
            indices.append(version.index)
        return indices
    finally:
        backend.close()


def _check_store(root: Path | str, reported: list[int]) -> None:
    total = WORKERS * COMMITS_EACH
    assert sorted(reported) == list(range(total))
    backend = _open(str(root))
    try:
        versions = backend.list_versions(PROJECT, NAME)
        assert sorted(v.index for v in versions) == list(range(total))
        assert len({v.id for v in versions}) == total
        assert len({(v.metadata["worker"], v.metadata["i"]) for v in versions}) == total
        latest = backend.resolve(ArtifactRef(PROJECT, NAME))
        assert latest.index == total - 1
        assert [v.index for v in versions if "latest" in v.aliases] == [total - 1]
        assert backend.get_collection(PROJECT, NAME).version_count == total
        seqs = [e.seq for e in backend.events()]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        committed = [e for e in backend.events() if e.kind == "version.committed"]
        assert len(committed) == total
    finally:
        backend.close()


@pytest.mark.slow
def test_processes_committing_one_artifact(tmp_path):
    root = tmp_path / "store"
    LocalBackend(root).close()
    context = multiprocessing.get_context("spawn")

    with context.Pool(WORKERS) as pool:
        results = pool.starmap(
            commit_versions, [(str(root), worker, COMMITS_EACH) for worker in range(WORKERS)]
        )

    for indices in results:
        assert indices == sorted(indices)
    _check_store(root, [index for indices in results for index in indices])


@pytest.mark.slow
def test_processes_committing_one_artifact_on_postgresql(tmp_path):
    """The same race on PostgreSQL, where the artifact's row lock does the queueing."""
    with postgres_schema("concurrency") as url:
        root = f"{url}|{tmp_path / 'blobs'}"
        _open(root).close()
        with multiprocessing.get_context("spawn").Pool(WORKERS) as pool:
            results = pool.starmap(
                commit_versions, [(root, worker, COMMITS_EACH) for worker in range(WORKERS)]
            )
        _check_store(root, [index for indices in results for index in indices])


@pytest.mark.slow
def test_threads_committing_one_artifact(tmp_path):
    root = tmp_path / "store"
    LocalBackend(root).close()
    results: dict[int, list[int]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(WORKERS)

    def run(worker: int) -> None:
        try:
            start.wait()
            results[worker] = commit_versions(str(root), worker, COMMITS_EACH)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    _check_store(root, [index for indices in results.values() for index in indices])


@pytest.mark.slow
def test_threads_sharing_one_backend(tmp_path):
    backend = LocalBackend(tmp_path / "store")
    errors: list[BaseException] = []
    indices: list[int] = []
    lock = threading.Lock()

    def run(worker: int) -> None:
        try:
            log = Logger(backend)
            for i in range(COMMITS_EACH):
                version = log(PROJECT, NAME, {"f": f"{worker}-{i}".encode()})
                with lock:
                    indices.append(version.index)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(WORKERS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        assert sorted(indices) == list(range(WORKERS * COMMITS_EACH))
        assert backend.resolve(ArtifactRef(PROJECT, NAME)).index == WORKERS * COMMITS_EACH - 1
    finally:
        backend.close()


def test_threads_uploading_the_same_blob(tmp_path, manifest_of, read_blob_bytes):
    data = bytes(range(256)) * 400
    digest = md5_b64(data)
    backend = LocalBackend(tmp_path / "store")
    drafts = [
        backend.create_draft(PROJECT, f"art-{w}", "dataset", manifest_of({"f": data}))
        for w in range(WORKERS)
    ]
    errors: list[BaseException] = []
    start = threading.Barrier(WORKERS)

    def run() -> None:
        try:
            start.wait()
            chunks = [data[i : i + 4096] for i in range(0, len(data), 4096)]
            backend.upload_blob(PROJECT, digest, len(data), chunks)
        except OffsetMismatchError:
            pass  # another upload of the same blob is under way: a client would retry
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(WORKERS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        for draft in drafts:
            assert backend.commit(draft.version.id).index == 0
        assert read_blob_bytes(backend, PROJECT, digest) == data
    finally:
        backend.close()
