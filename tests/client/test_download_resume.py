"""An interrupted download continues from the bytes it kept, over a real server socket.

The first attempt is stopped midway, either cancelled by the user or by an exception from
inside the blob stream that stands for a crash of the app (nothing after it runs; only what
was on disk counts). The cache is then opened afresh, as after a restart.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import pytest
from live_server import LiveServer

from desktop_app.backends.http import HttpBackend
from desktop_app.backends.protocol import Backend
from desktop_app.client.content_cache import ContentCache
from desktop_app.client.download import cache_version, download_version
from desktop_app.client.files import collect
from desktop_app.client.upload import hash_local_files, upload_version
from desktop_app.core.digests import md5_b64
from desktop_app.core.errors import CancelledError
from desktop_app.core.records import VersionInfo

MIB = 1 << 20
BIG = os.urandom(24 * MIB + 321)
STOP_AFTER = 10 * MIB


class SimulatedCrashError(Exception):
    """Stands for the app dying mid-download: whatever was written stays, nothing else."""


class CountingBackend:
    """The real HttpBackend, counting the blob bytes the server sends for each request."""

    def __init__(self, inner: HttpBackend, *, crash_after: int | None = None) -> None:
        self.inner = inner
        self.crash_after = crash_after
        self.received = 0
        self.starts: list[int] = []  # the offset each blob request began at

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _count(self, count: int) -> None:
        self.received += count
        if self.crash_after is not None and self.received >= self.crash_after:
            raise SimulatedCrashError

    def read_blob(
        self, project: str, digest: str, *, start: int = 0, chunk_size: int = MIB
    ) -> Iterator[bytes]:
        self.starts.append(start)
        with contextlib.closing(
            self.inner.read_blob(project, digest, start=start, chunk_size=chunk_size)
        ) as chunks:
            for chunk in chunks:
                self._count(len(chunk))
                yield chunk

    def read_blob_into(
        self, project: str, digest: str, buffers: Iterator[memoryview]
    ) -> Iterator[memoryview]:
        self.starts.append(0)
        with contextlib.closing(self.inner.read_blob_into(project, digest, buffers)) as filled:
            for buffer in filled:
                self._count(len(buffer))
                yield buffer

    def read_blobs(self, project: str, digests: Sequence[str]) -> Iterator[tuple[str, bytes]]:
        for digest, data in self.inner.read_blobs(project, digests):
            self._count(len(data))
            yield digest, data


def publish(backend: Backend, files: dict[str, bytes], tmp_path: Path) -> VersionInfo:
    src = tmp_path / "src"
    for path, data in files.items():
        (src / path).parent.mkdir(parents=True, exist_ok=True)
        (src / path).write_bytes(data)
    manifest, sources = hash_local_files(collect(src), None, workers=2)
    return upload_version(backend, "proj", "data", "model", manifest, sources).version


@pytest.fixture
def server_leftovers_collected() -> Iterator[None]:
    yield
    gc.collect()


@pytest.fixture
def http(server_leftovers_collected: None, live_server: LiveServer) -> Iterator[HttpBackend]:
    with HttpBackend(live_server.url, live_server.key) as backend:
        yield backend


@pytest.fixture
def version(http: HttpBackend, tmp_path: Path) -> VersionInfo:
    return publish(http, {"model.bin": BIG, "config.json": b"{}"}, tmp_path)


def open_cache(tmp_path: Path) -> ContentCache:
    return ContentCache(tmp_path / "cache", max_bytes=1 << 30)


def partial_of(tmp_path: Path) -> Path:
    with open_cache(tmp_path) as cache:
        return cache.partial_path(md5_b64(BIG))


def crash_midway(http: HttpBackend, version: VersionInfo, out: Path, tmp_path: Path) -> int:
    """A first download that dies after STOP_AFTER bytes; returns the bytes kept."""
    crashing = CountingBackend(http, crash_after=STOP_AFTER)
    with open_cache(tmp_path) as cache, pytest.raises(SimulatedCrashError):
        download_version(cast(Backend, crashing), version, out, cache)
    kept = partial_of(tmp_path).stat().st_size
    assert STOP_AFTER - MIB <= kept < len(BIG)  # the chunk in hand when it stopped is lost
    return kept


def test_a_download_after_a_crash_asks_only_for_the_missing_bytes(
    http: HttpBackend, version: VersionInfo, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    kept = crash_midway(http, version, out, tmp_path)
    assert not (out / "model.bin").exists()  # nothing half-written is visible

    counting = CountingBackend(http)
    progress: list[tuple[int, int]] = []
    with open_cache(tmp_path) as cache:  # opened afresh, as after a restart
        download_version(
            cast(Backend, counting),
            version,
            out,
            cache,
            on_progress=lambda done, total: progress.append((done, total)),
        )
        cached = cache.path_for(md5_b64(BIG))
        assert cached is not None
        assert cached.read_bytes() == BIG

    assert counting.starts == [kept]  # one ranged request, from where the bytes stopped
    assert counting.received == len(BIG) - kept  # config.json came before the crash
    assert counting.received < len(BIG)
    assert (out / "model.bin").read_bytes() == BIG
    assert (out / "config.json").read_bytes() == b"{}"
    assert not partial_of(tmp_path).exists()
    assert progress[-1][0] == progress[-1][1]


def test_a_cancelled_download_resumes_where_it_stopped(
    http: HttpBackend, version: VersionInfo, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = CountingBackend(http)
    with open_cache(tmp_path) as cache, pytest.raises(CancelledError):
        download_version(
            cast(Backend, first),
            version,
            out,
            cache,
            is_cancelled=lambda: first.received >= STOP_AFTER,
        )
    kept = partial_of(tmp_path).stat().st_size
    assert STOP_AFTER - MIB <= kept < len(BIG)  # the chunk in hand when it stopped is lost
    assert not (out / "model.bin").exists()

    second = CountingBackend(http)
    with open_cache(tmp_path) as cache:
        download_version(cast(Backend, second), version, out, cache)

    assert second.starts == [kept]
    assert second.received < len(BIG)
    assert (out / "model.bin").read_bytes() == BIG


def test_a_corrupted_partial_is_discarded_and_the_download_still_succeeds(
    http: HttpBackend, version: VersionInfo, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    kept = crash_midway(http, version, out, tmp_path)
    with open(partial_of(tmp_path), "r+b") as partial:  # same length, wrong bytes
        partial.seek(kept // 2)
        partial.write(b"\0" * 4096)

    counting = CountingBackend(http)
    with open_cache(tmp_path) as cache:
        download_version(cast(Backend, counting), version, out, cache)
        cached = cache.path_for(md5_b64(BIG))
        assert cached is not None
        assert cached.read_bytes() == BIG

    assert counting.starts == [kept, 0]  # the rest, a mismatch, then all of it
    assert (out / "model.bin").read_bytes() == BIG
    assert not partial_of(tmp_path).exists()


def test_a_partial_longer_than_the_blob_is_discarded(
    http: HttpBackend, version: VersionInfo, tmp_path: Path
) -> None:
    partial = partial_of(tmp_path)
    partial.write_bytes(BIG + b"extra")

    counting = CountingBackend(http)
    with open_cache(tmp_path) as cache:
        download_version(cast(Backend, counting), version, tmp_path / "out", cache)

    assert counting.starts == [0]
    assert (tmp_path / "out" / "model.bin").read_bytes() == BIG
    assert not partial.exists()


def test_keeping_a_version_offline_resumes_too(
    http: HttpBackend, version: VersionInfo, tmp_path: Path
) -> None:
    checks = itertools.count()
    first = CountingBackend(http)
    with open_cache(tmp_path) as cache, pytest.raises(CancelledError):
        cache_version(
            cast(Backend, first),
            version,
            cache,
            is_cancelled=lambda: next(checks) > 0 and first.received >= STOP_AFTER,
        )
    kept = partial_of(tmp_path).stat().st_size
    assert STOP_AFTER - MIB <= kept < len(BIG)

    second = CountingBackend(http)
    with open_cache(tmp_path) as cache:
        digests = cache_version(cast(Backend, second), version, cache)
        cached = cache.path_for(md5_b64(BIG))
        assert cached is not None
        assert cached.read_bytes() == BIG

    assert md5_b64(BIG) in digests
    assert [start for start in second.starts if start] == [kept]
    assert second.received < len(BIG)
