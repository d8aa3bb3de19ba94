"""Many clients committing to ONE artifact through a real server get dense version numbers.

8 spawned processes, each with its own ``HttpBackend`` and content only it writes, commit
25 versions each to one artifact of a server started with ``artifact-desk serve`` (SQLite
with 1 and 2 uvicorn workers, PostgreSQL with 2). Afterwards the versions are exactly
0..199, ``latest`` is on 199, and no request failed: the clients do not retry (a retry
could hide a 503), any ``BackendUnavailableError`` counts as a failure, and the server's
access log must show no 5xx.
"""

from __future__ import annotations

import multiprocessing
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pg_support import postgres_schema
from server_process import ServerPool, log_files, server_pool

from desktop_app.backends.http import HttpBackend, RetryPolicy, Timeouts
from desktop_app.core.errors import BackendUnavailableError
from desktop_app.core.records import VersionState
from desktop_app.core.refs import ArtifactRef

pytestmark = pytest.mark.slow

PROJECT = "team/server-race"
NAME = "shared-artifact"
PROCESSES = 8
COMMITS_EACH = 25
TOTAL = PROCESSES * COMMITS_EACH
NO_RETRY = RetryPolicy(attempts=1)  # a retried 503 must not pass as a success


def commit_versions(url: str, key: str, worker: int, commits: int) -> dict[str, Any]:
    """Commit ``commits`` versions with this worker's own content; indices and failures."""
    indices: list[int] = []
    failures: list[str] = []
    started = time.monotonic()
    with HttpBackend(url, key, retry=NO_RETRY, timeouts=Timeouts(connect=10, read=60)) as backend:
        for i in range(commits):
            files = {
                "data.txt": f"worker {worker} commit {i}\n".encode(),
                f"worker-{worker}/part-{i}.bin": bytes([worker, i]) * (64 + i),
            }
            try:
                version = log_files(
                    backend, PROJECT, NAME, files, metadata={"worker": worker, "i": i}
                )
            except BackendUnavailableError as exc:
                failures.append(f"unavailable at commit {i}: {exc}")
                break
            except Exception:
                failures.append(f"commit {i}: {traceback.format_exc()}")
                break
            if version.state is not VersionState.COMMITTED or version.index is None:
                failures.append(f"commit {i} came back as {version.state} {version.index}")
                break
            indices.append(version.index)
    return {"worker": worker, "indices": indices, "failures": failures,
            "seconds": time.monotonic() - started}  # fmt: skip


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[ServerPool]:
    with server_pool(tmp_path) as pool:
        yield pool


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A fresh, empty schema in the test database, dropped afterwards."""
    with postgres_schema("server_race") as url:
        yield url


def _race(pool: ServerPool, *, workers: int, db_url: str | None = None) -> None:
    server, key = pool.start(db_url=db_url, workers=workers)
    context = multiprocessing.get_context("spawn")
    started = time.monotonic()
    with context.Pool(PROCESSES) as processes:
        results = processes.starmap(
            commit_versions, [(server.url, key, w, COMMITS_EACH) for w in range(PROCESSES)]
        )
    elapsed = time.monotonic() - started

    failures = [f"worker {r['worker']}: {f}" for r in results for f in r["failures"]]
    assert failures == [], "\n".join(failures) + "\nserver log:\n" + server.log_tail()
    reported = [index for r in results for index in r["indices"]]
    for r in results:
        assert r["indices"] == sorted(r["indices"]), f"worker {r['worker']} went backwards"
    assert sorted(reported) == list(range(TOTAL)), "duplicate or missing version numbers"

    with HttpBackend(server.url, key, retry=NO_RETRY) as backend:
        versions = backend.list_versions(PROJECT, NAME)
        assert [v.index for v in versions] == list(range(TOTAL))
        assert len({v.id for v in versions}) == TOTAL
        assert len({v.digest for v in versions}) == TOTAL
        assert {(v.metadata["worker"], v.metadata["i"]) for v in versions} == {
            (w, i) for w in range(PROCESSES) for i in range(COMMITS_EACH)
        }
        assert all(v.state is VersionState.COMMITTED for v in versions)
        assert [v.index for v in versions if "latest" in v.aliases] == [TOTAL - 1]
        assert backend.resolve(ArtifactRef(PROJECT, NAME)).index == TOTAL - 1
        assert backend.get_collection(PROJECT, NAME).version_count == TOTAL
        committed = [e for e in backend.events(limit=10_000) if e.kind == "version.committed"]
        assert len(committed) == TOTAL
        seqs = [e.seq for e in backend.events(limit=10_000)]
        assert seqs == sorted(set(seqs))

    assert server.server_errors() == [], "the server answered 5xx or logged a traceback"
    print(f"{TOTAL} commits from {PROCESSES} processes, {workers} worker(s): {elapsed:.1f} s")


def test_sqlite_one_worker(servers: ServerPool) -> None:
    _race(servers, workers=1)


def test_sqlite_two_workers(servers: ServerPool) -> None:
    """Two uvicorn processes over one SQLite file: the file lock must do the queueing."""
    _race(servers, workers=2)


def test_postgresql_two_workers(servers: ServerPool, postgres_schema_url: str) -> None:
    _race(servers, workers=2, db_url=postgres_schema_url)
