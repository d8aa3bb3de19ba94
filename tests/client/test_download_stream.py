"""download_version with a backend that streams into lent buffers: a large blob goes to the
cache and to its file in one pass, and nothing shows up before it is verified."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from desktop_app.client.content_cache import ContentCache
from desktop_app.client.download import download_version
from desktop_app.core.digests import md5_b64
from desktop_app.core.errors import BackendUnavailableError, CancelledError, IntegrityError
from desktop_app.core.manifest import ManifestEntry
from desktop_app.core.records import Page

BIG = os.urandom((12 << 20) + 123)


class StreamingBackend:
    """Just what download_version asks of a server-like backend."""

    def __init__(self, files: dict[str, bytes], *, send: bytes | None = None) -> None:
        self.files = files
        self.send = send  # bytes sent instead of the right ones
        self.fail_after: int | None = None  # raise after this many buffers

    def list_entries(self, version_id: str, **_kwargs: Any) -> Page[ManifestEntry]:
        items = tuple(ManifestEntry(p, md5_b64(d), len(d)) for p, d in self.files.items())
        return Page(items, None)

    def local_blob_paths(self, project: str, digests: Sequence[str]) -> dict[str, Path]:
        return {}

    def _data(self, digest: str) -> bytes:
        data = next(d for d in self.files.values() if md5_b64(d) == digest)
        return self.send if self.send is not None else data

    def read_blobs(self, project: str, digests: Sequence[str]) -> Iterator[tuple[str, bytes]]:
        for digest in digests:
            yield digest, self._data(digest)

    def read_blob_into(
        self, project: str, digest: str, buffers: Iterator[memoryview]
    ) -> Iterator[memoryview]:
        data, position, count = self._data(digest), 0, 0
        while position < len(data):
            if self.fail_after is not None and count >= self.fail_after:
                raise BackendUnavailableError("the server dropped the connection")
            buffer = next(buffers)
            size = min(len(buffer), len(data) - position)
            buffer[:size] = data[position : position + size]
            position, count = position + size, count + 1
            yield buffer[:size]


VERSION: Any = SimpleNamespace(id="v", project="proj")


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[ContentCache]:
    with ContentCache(tmp_path / "cache", max_bytes=1 << 30) as content_cache:
        yield content_cache


def test_a_large_blob_lands_in_the_folder_and_the_cache(
    cache: ContentCache, tmp_path: Path
) -> None:
    backend = StreamingBackend({"models/big.bin": BIG, "small.txt": b"hi"})
    progress: list[tuple[int, int]] = []

    report = download_version(
        backend,  # type: ignore[arg-type]
        VERSION,
        tmp_path / "out",
        cache,
        on_progress=lambda done, total: progress.append((done, total)),
    )

    assert (tmp_path / "out" / "models" / "big.bin").read_bytes() == BIG
    assert (tmp_path / "out" / "small.txt").read_bytes() == b"hi"
    cached = cache.path_for(md5_b64(BIG))
    assert cached is not None
    assert cached.read_bytes() == BIG
    assert report.bytes_fetched == len(BIG) + 2
    assert progress[-1][0] == progress[-1][1]


def test_a_corrupt_large_blob_leaves_no_file_and_no_folder(
    cache: ContentCache, tmp_path: Path
) -> None:
    backend = StreamingBackend({"models/big.bin": BIG}, send=BIG[:-1] + b"X")

    with pytest.raises(IntegrityError):
        download_version(backend, VERSION, tmp_path / "out", cache)  # type: ignore[arg-type]

    assert not (tmp_path / "out").exists()
    assert cache.path_for(md5_b64(BIG)) is None
    assert [p for p in (tmp_path / "cache").rglob("*.part")] == []


def test_a_failure_midway_keeps_what_was_there(cache: ContentCache, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "models").mkdir(parents=True)
    (out / "models" / "big.bin").write_bytes(b"old")
    backend = StreamingBackend({"models/big.bin": BIG})
    backend.fail_after = 3

    with pytest.raises(BackendUnavailableError):
        download_version(backend, VERSION, out, cache)  # type: ignore[arg-type]

    assert [p.name for p in (out / "models").iterdir()] == ["big.bin"]  # no temp file
    assert (out / "models" / "big.bin").read_bytes() == b"old"


def test_a_cancel_midway_leaves_nothing(cache: ContentCache, tmp_path: Path) -> None:
    backend = StreamingBackend({"big.bin": BIG})
    checks = itertools.count()

    with pytest.raises(CancelledError):
        download_version(
            backend,  # type: ignore[arg-type]
            VERSION,
            tmp_path / "out",
            cache,
            is_cancelled=lambda: next(checks) > 8,  # a few chunks in
        )

    assert not (tmp_path / "out").exists()
    assert cache.path_for(md5_b64(BIG)) is None


def test_a_file_already_in_place_is_kept_and_its_blob_still_cached(
    cache: ContentCache, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "big.bin").write_bytes(BIG)

    report = download_version(StreamingBackend({"big.bin": BIG}), VERSION, out, cache)  # type: ignore[arg-type]

    assert report.skipped == 1
    assert cache.path_for(md5_b64(BIG)) is not None
