"""Getting many small files: batch answers in large pieces, the cache's batch paths, and
placing small files with one read, without giving up a check."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_server import LiveServer

from desktop_app.backends.http import HttpBackend
from desktop_app.client import content_cache as content_cache_module
from desktop_app.client import materialize as materialize_module
from desktop_app.client.content_cache import ContentCache
from desktop_app.client.download import download_version
from desktop_app.client.files import collect
from desktop_app.client.materialize import FileToPlace, materialize
from desktop_app.client.upload import hash_local_files, upload_version
from desktop_app.core.digests import b64_to_hex, md5_b64
from desktop_app.core.errors import IntegrityError
from desktop_app.server.routes.blobs import FRAME_HEADER, FRAMES_PIECE, _frames, parse_frames


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[ContentCache]:
    with ContentCache(tmp_path / "blobs", max_bytes=1 << 30) as content_cache:
        yield content_cache


def small_blobs(count: int, size: int = 4096) -> list[tuple[str, bytes]]:
    return [(md5_b64(data), data) for data in (os.urandom(size) for _ in range(count))]


def hexed(blobs: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """What the server's parser gives: hex digests (its bytes are views that compare equal)."""
    return [(b64_to_hex(digest), data) for digest, data in blobs]


def leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith((".part", ".artifact-desk-tmp"))]


# -- the server's batch answer ----------------------------------------------------------


def test_frames_are_joined_into_pieces_that_parse_into_the_same_blobs() -> None:
    blobs = small_blobs(600)  # about 2.4 MiB
    pieces = list(_frames(iter(blobs)))
    assert len(pieces) == 3
    assert all(len(piece) >= FRAMES_PIECE for piece in pieces[:-1])
    assert all(len(piece) < FRAMES_PIECE + FRAME_HEADER.size + 4096 for piece in pieces)
    assert parse_frames(b"".join(pieces)) == hexed(blobs)


def test_frames_of_empty_and_large_blobs_keep_their_bytes() -> None:
    blobs = [(md5_b64(b""), b""), *small_blobs(1, FRAMES_PIECE * 2), (md5_b64(b"x"), b"x")]
    pieces = list(_frames(iter(blobs)))
    assert len(pieces) == 2  # the large blob closes a piece of its own
    assert parse_frames(b"".join(pieces)) == hexed(blobs)
    assert list(_frames(iter([]))) == []


# -- the content cache ------------------------------------------------------------------


def test_path_for_many_finds_adopts_and_forgets(cache: ContentCache) -> None:
    (a, data_a), (b, data_b), (c, data_c) = small_blobs(3)
    cache.put_many([(a, data_a), (b, data_b)])
    # A file without a row (moved in by a process that stopped before recording it).
    orphan = cache.blob_path(c)
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(data_c)
    cache.blob_path(b).unlink()  # a row whose file is gone
    absent = md5_b64(b"never cached")

    found = cache.path_for_many([a, b, c, absent])

    assert found == {a: cache.blob_path(a), c: orphan}
    rows = dict(cache._conn.execute("SELECT digest, size FROM blobs").fetchall())
    assert rows == {a: len(data_a), c: len(data_c)}
    assert cache.path_for_many([]) == {}


def test_path_for_many_marks_blobs_used_so_others_are_evicted_first(
    cache: ContentCache,
) -> None:
    blobs = small_blobs(4, 1000)
    for blob in blobs:
        cache.put_many([blob])  # one after another: blobs[0] is the oldest
    wanted = [blobs[1][0], blobs[0][0]]
    cache.path_for_many(wanted)
    cache.evict(2000)
    assert [cache.contains(d) for d, _data in blobs] == [True, True, False, False]
    # Within the batch the order given is the order of use: blobs[1] first.
    cache.evict(1000)
    assert [cache.contains(d) for d, _data in blobs] == [True, False, False, False]


def test_cache_index_commits_without_waiting_for_the_disk(cache: ContentCache) -> None:
    assert cache._conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert cache._conn.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL


def test_put_many_checks_digests_unless_told_they_were_verified(
    cache: ContentCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = small_blobs(3)
    bad = (md5_b64(b"expected"), b"something else")
    with pytest.raises(IntegrityError, match="does not match"):
        cache.put_many([*good, bad])
    assert leftovers(cache.root) == []
    assert cache.path_for_many(d for d, _data in good) == {}

    def no_hashing(_data: bytes) -> str:
        raise AssertionError("hashed again")

    monkeypatch.setattr(content_cache_module, "md5_b64", no_hashing)
    placed = cache.put_many(good, verified=True)
    assert {digest: path.read_bytes() for digest, path in placed.items()} == dict(good)
    assert cache.total_bytes() == 3 * 4096
    assert leftovers(cache.root) == []


def test_put_many_failing_midway_leaves_no_temp_files(
    cache: ContentCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = small_blobs(5)
    real_replace = os.replace
    third = b64_to_hex(blobs[2][0])

    def failing_replace(src: str, dst: str) -> None:
        if third in str(src):
            raise OSError("disk trouble")
        real_replace(src, dst)

    monkeypatch.setattr(content_cache_module.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk trouble"):
        cache.put_many(blobs)
    monkeypatch.undo()
    assert leftovers(cache.root) == []
    # The two renamed in hold the right bytes; a later lookup adopts them.
    assert set(cache.path_for_many(d for d, _data in blobs)) == {blobs[0][0], blobs[1][0]}


def test_put_many_recreates_a_removed_prefix_folder(cache: ContentCache) -> None:
    blob = small_blobs(1)[0]
    path = cache.put_many([blob])[blob[0]]
    path.unlink()
    path.parent.rmdir()
    cache.path_for_many([blob[0]])  # forgets the row
    assert cache.put_many([blob])[blob[0]].read_bytes() == blob[1]


# -- placing small files ----------------------------------------------------------------


class Folder:
    """Blob files by digest, standing in for the cache."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir()

    def add(self, path: str, data: bytes) -> FileToPlace:
        digest = md5_b64(data)
        (self.root / digest.replace("/", "_")).write_bytes(data)
        return FileToPlace(path, digest, len(data))

    def source_for(self, digest: str) -> Path:
        return self.root / digest.replace("/", "_")


def test_small_sources_of_the_wrong_size_are_caught_even_when_fresh(tmp_path: Path) -> None:
    blobs = Folder(tmp_path / "blobs")
    short = blobs.add("a.bin", b"a" * 100)
    long = blobs.add("b.bin", b"b" * 100)
    blobs.source_for(short.digest).write_bytes(b"a" * 99)
    blobs.source_for(long.digest).write_bytes(b"b" * 101)
    for file in (short, long):
        target = tmp_path / f"out-{file.path}"
        with pytest.raises(IntegrityError, match="bytes, expected 100"):
            materialize([file], target, blobs.source_for, verified={file.digest})
        assert list(target.iterdir()) == []


def test_small_sources_not_fresh_are_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = Folder(tmp_path / "blobs")
    file = blobs.add("a.bin", b"a" * 100)
    blobs.source_for(file.digest).write_bytes(b"A" * 100)  # same size, other bytes
    with pytest.raises(IntegrityError, match="do not match"):
        materialize([file], tmp_path / "out", blobs.source_for)
    assert list((tmp_path / "out").iterdir()) == []
    # A fresh source is trusted: no hashing, only the size check.
    blobs.source_for(file.digest).write_bytes(b"a" * 100)
    monkeypatch.setattr(materialize_module, "md5_b64", lambda _data: "hashed")
    materialize([file], tmp_path / "out", blobs.source_for, verified={file.digest})
    assert (tmp_path / "out" / "a.bin").read_bytes() == b"a" * 100


def test_many_small_files_replace_what_differs_and_skip_what_matches(tmp_path: Path) -> None:
    blobs = Folder(tmp_path / "blobs")
    files = [blobs.add(f"d{i % 3}/f{i}.bin", os.urandom(512)) for i in range(30)]
    target = tmp_path / "out"
    (target / "d0").mkdir(parents=True)
    (target / "d0" / "f0.bin").write_bytes(blobs.source_for(files[0].digest).read_bytes())
    (target / "d0" / "f3.bin").write_bytes(b"old")
    os.symlink(tmp_path / "elsewhere", target / "d0" / "f6.bin")
    report = materialize(files, target, blobs.source_for, workers=4)
    assert (report.written, report.skipped) == (29, 1)
    for file in files:
        path = target / file.path
        assert not path.is_symlink()
        assert md5_b64(path.read_bytes()) == file.digest
    assert not (tmp_path / "elsewhere").exists()
    assert leftovers(target) == []


# -- a download over HTTP ---------------------------------------------------------------


def test_small_files_over_http_are_hashed_once_and_found_in_the_cache_later(
    tmp_path: Path, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    files = {f"part-{i % 4}/f{i}.bin": os.urandom(300 + i) for i in range(40)}
    for path, data in files.items():
        (src / path).parent.mkdir(parents=True, exist_ok=True)
        (src / path).write_bytes(data)
    with HttpBackend(live_server.url, live_server.key) as backend:
        manifest, sources = hash_local_files(collect(src), None, workers=2)
        version = upload_version(backend, "proj", "data", "dataset", manifest, sources).version

        def no_hashing(_data: bytes) -> str:
            raise AssertionError("the cache hashed a blob the backend had verified")

        monkeypatch.setattr(content_cache_module, "md5_b64", no_hashing)
        with ContentCache(tmp_path / "cache", max_bytes=1 << 30) as cache:
            first = download_version(backend, version, tmp_path / "out1", cache)
            assert first.bytes_fetched == sum(len(d) for d in files.values())
            second = download_version(backend, version, tmp_path / "out2", cache)
            assert second.bytes_fetched == 0  # every blob found by path_for_many
    for out in ("out1", "out2"):
        got = {
            p.relative_to(tmp_path / out).as_posix(): p.read_bytes()
            for p in (tmp_path / out).rglob("*")
            if p.is_file()
        }
        assert got == files
