"""download_version with a backend that streams into lent buffers: a large blob is written
once (its cached file becomes the user's file) or, with the cache on another file system, to
the cache and to its file in one pass; either way nothing shows up before it is verified."""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from md5_counter import md5_bytes_counted

from desktop_app.client.content_cache import ContentCache
from desktop_app.client.download import download_version
from desktop_app.core.digests import checksum_hasher, md5_b64
from desktop_app.core.errors import BackendUnavailableError, CancelledError, IntegrityError
from desktop_app.core.manifest import ManifestEntry
from desktop_app.core.records import Page

BIG = os.urandom((12 << 20) + 123)


class StreamingBackend:
    """Just what download_version asks of a server-like backend."""

    def __init__(self, files: dict[str, bytes], *, send: bytes | None = None) -> None:
        self.files = files
        self.digests = {path: md5_b64(data) for path, data in files.items()}  # hashed once
        self.send = send  # bytes sent instead of the right ones
        self.fail_after: int | None = None  # raise after this many buffers
        self.checksums: dict[str, str] = {}  # digest: XXH3-128, as a team server keeps them
        self.asked_checksums: list[list[str]] = []

    def list_entries(self, version_id: str, **_kwargs: Any) -> Page[ManifestEntry]:
        items = tuple(ManifestEntry(p, self.digests[p], len(d)) for p, d in self.files.items())
        return Page(items, None)

    def local_blob_paths(self, project: str, digests: Sequence[str]) -> dict[str, Path]:
        return {}

    def blob_checksums(self, project: str, digests: Sequence[str]) -> dict[str, str]:
        self.asked_checksums.append(list(digests))
        return {d: self.checksums[d] for d in digests if d in self.checksums}

    def _data(self, digest: str) -> bytes:
        data = next(self.files[p] for p, d in self.digests.items() if d == digest)
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


@pytest.fixture(params=["linked", "copied"])
def cache(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ContentCache]:
    """The cache beside the download (files linked) or on another file system (copied)."""
    with contextlib.ExitStack() as stack:
        root = tmp_path
        if request.param == "copied":
            shm = Path("/dev/shm")
            if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
                pytest.skip("needs /dev/shm on a file system of its own, as Linux mounts it")
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=shm)))
        yield stack.enter_context(ContentCache(root / "cache", max_bytes=1 << 30))


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
    linked = cached.stat().st_dev == (tmp_path / "out").stat().st_dev
    assert os.path.samefile(cached, tmp_path / "out" / "models" / "big.bin") == linked
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
    assert [p for p in cache.root.rglob("*.part")] == []


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


def xxh3(data: bytes) -> str:
    hasher = checksum_hasher()
    hasher.update(data)
    return hasher.hexdigest()


def test_a_large_blob_is_checked_against_the_stores_checksum(
    cache: ContentCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = StreamingBackend({"big.bin": BIG, "small.txt": b"hi"})
    big_digest = md5_b64(BIG)
    backend.checksums = {big_digest: xxh3(BIG)}
    # With the store's checksum at hand no MD5 of the large blob is computed: every MD5
    # hasher made from here on must stay unused (the small file is checked in its batch).
    with md5_bytes_counted(monkeypatch) as hashed:
        download_version(backend, VERSION, tmp_path / "out", cache)  # type: ignore[arg-type]

    assert (tmp_path / "out" / "big.bin").read_bytes() == BIG
    assert cache.path_for(big_digest) is not None
    assert backend.asked_checksums == [[big_digest]]  # once, for the large blob only
    assert sum(hashed) < len(BIG)


def test_bytes_that_miss_the_stores_checksum_leave_nothing(
    cache: ContentCache, tmp_path: Path
) -> None:
    backend = StreamingBackend({"models/big.bin": BIG}, send=BIG[:-1] + b"X")
    backend.checksums = {md5_b64(BIG): xxh3(BIG)}

    with pytest.raises(IntegrityError, match="XXH3-128"):
        download_version(backend, VERSION, tmp_path / "out", cache)  # type: ignore[arg-type]

    assert not (tmp_path / "out").exists()
    assert cache.path_for(md5_b64(BIG)) is None


def test_a_wrong_checksum_from_the_store_is_not_trusted_over_the_bytes(
    cache: ContentCache, tmp_path: Path
) -> None:
    # The right bytes with a wrong checksum fail as well: nothing unverified is kept.
    backend = StreamingBackend({"big.bin": BIG})
    backend.checksums = {md5_b64(BIG): "0" * 32}

    with pytest.raises(IntegrityError):
        download_version(backend, VERSION, tmp_path / "out", cache)  # type: ignore[arg-type]

    assert cache.path_for(md5_b64(BIG)) is None
