"""A large file is written once: the cache's copy and the user's file are one file (a hard
link), and the cache stops trusting it once the user changes it. Over a real server socket.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_server import LiveServer

from desktop_app.backends.http import HttpBackend
from desktop_app.client.blob_files import SharedFile
from desktop_app.client.content_cache import ContentCache
from desktop_app.client.download import download_version
from desktop_app.client.files import collect
from desktop_app.client.materialize import FileToPlace, materialize
from desktop_app.client.upload import hash_local_files, upload_version
from desktop_app.core.digests import md5_b64
from desktop_app.core.errors import CancelledError
from desktop_app.core.records import VersionInfo

MIB = 1 << 20
BIG = os.urandom(3 * MIB + 77)
DIGEST = md5_b64(BIG)


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[HttpBackend]:
    with HttpBackend(live_server.url, live_server.key) as backend:
        yield backend
    gc.collect()


@pytest.fixture
def version(http: HttpBackend, tmp_path: Path) -> VersionInfo:
    src = tmp_path / "src"
    (src / "weights").mkdir(parents=True)
    (src / "weights" / "model.bin").write_bytes(BIG)
    (src / "config.json").write_bytes(b'{"layers": 3}')
    manifest, sources = hash_local_files(collect(src), None, workers=2)
    return upload_version(http, "proj", "data", "model", manifest, sources).version


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[ContentCache]:
    with ContentCache(tmp_path / "cache", max_bytes=1 << 30) as content_cache:
        yield content_cache


@pytest.fixture
def other_file_system(tmp_path: Path) -> Iterator[Path]:
    """A folder on another file system than ``tmp_path`` (Linux's tmpfs at /dev/shm)."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs /dev/shm on a file system of its own, as Linux mounts it")
    folder = Path(tempfile.mkdtemp(dir=shm))
    yield folder
    shutil.rmtree(folder)


def change_in_place(path: Path, data: bytes) -> None:
    """What an editor or a script writing into the file does; a moment after the download,
    as a person would (file times can be as coarse as a few milliseconds)."""
    time.sleep(0.05)
    with open(path, "r+b") as stream:
        stream.write(data)


def test_each_file_fetched_is_one_file_with_the_cache(
    http: HttpBackend, version: VersionInfo, cache: ContentCache, tmp_path: Path
) -> None:
    report = download_version(http, version, tmp_path / "out", cache)

    placed = tmp_path / "out" / "weights" / "model.bin"
    cached = cache.path_for(DIGEST)
    assert placed.read_bytes() == BIG
    assert cached is not None
    assert os.path.samefile(placed, cached)
    assert placed.stat().st_nlink == 2
    small = tmp_path / "out" / "config.json"
    assert small.read_bytes() == b'{"layers": 3}'
    assert os.path.samefile(small, cache.blob_path(md5_b64(b'{"layers": 3}')))
    assert report.bytes_fetched == len(BIG) + len(b'{"layers": 3}')
    # No temp file is left in the user's folder or in the cache.
    leftovers = [p.name for p in (tmp_path / "out").rglob(".*")]
    assert leftovers == []
    assert list((tmp_path / "cache" / "tmp").iterdir()) == []


def test_a_file_changed_in_place_is_forgotten_by_the_cache_and_fetched_again(
    http: HttpBackend, version: VersionInfo, cache: ContentCache, tmp_path: Path
) -> None:
    download_version(http, version, tmp_path / "out", cache)
    placed = tmp_path / "out" / "weights" / "model.bin"
    change_in_place(placed, b"edited by the user")

    assert not cache.contains(DIGEST)
    assert cache.path_for(DIGEST) is None
    assert cache.path_for_many([DIGEST]) == {}
    # The user's file is theirs: forgetting the blob does not touch it.
    assert placed.read_bytes() == b"edited by the user" + BIG[len(b"edited by the user") :]

    again = download_version(http, version, tmp_path / "again", cache)

    assert again.bytes_fetched == len(BIG)  # from the server, not from the changed file
    assert (tmp_path / "again" / "weights" / "model.bin").read_bytes() == BIG
    assert placed.read_bytes().startswith(b"edited by the user")


def test_a_change_that_keeps_the_size_is_seen_by_its_time(
    http: HttpBackend, version: VersionInfo, cache: ContentCache, tmp_path: Path
) -> None:
    download_version(http, version, tmp_path / "out", cache)
    placed = tmp_path / "out" / "weights" / "model.bin"
    info = placed.stat()
    # Same size; the time moved by one nanosecond only (as a tool that sets it could).
    os.utime(placed, ns=(info.st_atime_ns, info.st_mtime_ns + 1))

    assert cache.path_for_many([DIGEST]) == {}
    assert cache.path_for(DIGEST) is None


def test_a_file_replaced_by_the_user_leaves_the_cache_copy_trusted(
    http: HttpBackend, version: VersionInfo, cache: ContentCache, tmp_path: Path
) -> None:
    download_version(http, version, tmp_path / "out", cache)
    placed = tmp_path / "out" / "weights" / "model.bin"
    # Saving through a new file and a rename (as most editors do) leaves the old file,
    # which the cache still holds, as it was.
    new = placed.with_name("model.bin.new")
    new.write_bytes(b"a new model")
    os.replace(new, placed)

    cached = cache.path_for(DIGEST)
    assert cached is not None
    assert cached.read_bytes() == BIG
    assert cached.stat().st_nlink == 1


def test_a_cache_on_another_file_system_gets_its_own_copy(
    http: HttpBackend, version: VersionInfo, other_file_system: Path, tmp_path: Path
) -> None:
    with ContentCache(other_file_system / "cache", max_bytes=1 << 30) as cache:
        download_version(http, version, tmp_path / "out", cache)
        cached = cache.path_for(DIGEST)

        placed = tmp_path / "out" / "weights" / "model.bin"
        assert placed.read_bytes() == BIG
        assert placed.stat().st_nlink == 1
        assert (tmp_path / "out" / "config.json").stat().st_nlink == 1
        assert cached is not None
        assert cached.read_bytes() == BIG
        change_in_place(placed, b"edited")
        assert cache.path_for(DIGEST) == cached  # its own copy: the change is not its


def test_a_small_file_changed_in_place_is_fetched_again(
    http: HttpBackend, version: VersionInfo, cache: ContentCache, tmp_path: Path
) -> None:
    download_version(http, version, tmp_path / "out", cache)
    config = tmp_path / "out" / "config.json"
    change_in_place(config, b'{"layers": 9}')

    again = download_version(http, version, tmp_path / "again", cache)

    assert again.bytes_fetched == len(b'{"layers": 3}')
    assert (tmp_path / "again" / "config.json").read_bytes() == b'{"layers": 3}'
    assert config.read_bytes() == b'{"layers": 9}'


def test_a_wrong_file_in_the_way_is_replaced_by_the_link(
    http: HttpBackend, version: VersionInfo, cache: ContentCache, tmp_path: Path
) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "config.json").write_bytes(b"an older config")

    report = download_version(http, version, tmp_path / "out", cache)

    config = tmp_path / "out" / "config.json"
    assert report.written == 2
    assert config.read_bytes() == b'{"layers": 3}'
    assert os.path.samefile(config, cache.blob_path(md5_b64(b'{"layers": 3}')))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["config.json", "weights"]


def test_files_with_the_same_bytes_get_copies_of_their_own(
    http: HttpBackend, cache: ContentCache, tmp_path: Path
) -> None:
    src = tmp_path / "twins"
    src.mkdir()
    for name in ("a.txt", "b.txt"):
        (src / name).write_bytes(b"the same bytes")
    manifest, sources = hash_local_files(collect(src), None, workers=2)
    twins = upload_version(http, "proj", "twins", "dataset", manifest, sources).version

    download_version(http, twins, tmp_path / "out", cache)

    a, b = tmp_path / "out" / "a.txt", tmp_path / "out" / "b.txt"
    assert a.read_bytes() == b.read_bytes() == b"the same bytes"
    # Linked together, a change to one would change the other.
    assert not os.path.samefile(a, b)
    assert a.stat().st_nlink == b.stat().st_nlink == 1


def test_a_blob_larger_than_the_cache_limit_is_placed_all_the_same(
    http: HttpBackend, version: VersionInfo, tmp_path: Path
) -> None:
    with ContentCache(tmp_path / "cache", max_bytes=MIB) as cache:
        download_version(http, version, tmp_path / "out", cache)

        assert (tmp_path / "out" / "weights" / "model.bin").read_bytes() == BIG
        assert cache.total_bytes() <= MIB
        assert cache.path_for(DIGEST) is None


@pytest.mark.parametrize("placement", ["linked", "copied"])
def test_small_files_beyond_the_cache_limit_are_placed_all_the_same(
    placement: str,
    http: HttpBackend,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    # 60 small files of 20 KB, a cache of 300 KB: the cache must not evict a file's bytes
    # before the file is placed (it did, and the download failed: FileNotFoundError).
    src = tmp_path / "many"
    src.mkdir()
    files = {f"f{i:02d}.bin": os.urandom(20_000) for i in range(60)}
    for name, data in files.items():
        (src / name).write_bytes(data)
    manifest, sources = hash_local_files(collect(src), None, workers=2)
    many = upload_version(http, "proj", "many", "dataset", manifest, sources).version
    root = tmp_path if placement == "linked" else request.getfixturevalue("other_file_system")

    with ContentCache(root / "cache", max_bytes=300_000) as cache:
        report = download_version(http, many, tmp_path / "out", cache)

        assert report.written == 60
        assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == files
        assert 0 < cache.total_bytes() <= 300_000


def test_a_cancelled_download_leaves_no_part_of_the_file_and_resumes(
    http: HttpBackend, version: VersionInfo, cache: ContentCache, tmp_path: Path
) -> None:
    partial = cache.partial_path(DIGEST)

    def stop_midway() -> bool:  # once some bytes are kept
        return partial.exists() and partial.stat().st_size > 0

    with pytest.raises(CancelledError):
        download_version(http, version, tmp_path / "out", cache, is_cancelled=stop_midway)
    assert not (tmp_path / "out" / "weights" / "model.bin").exists()
    assert [p for p in (tmp_path / "out").rglob(".*")] == []  # no temp file either
    kept = cache.partial_path(DIGEST).stat().st_size
    assert 0 < kept < len(BIG)

    report = download_version(http, version, tmp_path / "out", cache)

    placed = tmp_path / "out" / "weights" / "model.bin"
    assert placed.read_bytes() == BIG
    assert os.path.samefile(placed, cache.blob_path(DIGEST))
    assert (report.written, report.skipped) == (1, 1)  # config.json was placed before
    assert not cache.partial_path(DIGEST).exists()


def test_materialize_copies_where_the_file_system_cannot_link(
    other_file_system: Path, tmp_path: Path
) -> None:
    source = other_file_system / "blob"
    source.write_bytes(BIG)

    report = materialize(
        [FileToPlace("model.bin", DIGEST, len(BIG))],
        tmp_path / "out",
        lambda digest: source,
        links={DIGEST: lambda _should_stop: SharedFile(source, source.stat().st_ino)},
    )

    placed = tmp_path / "out" / "model.bin"
    assert report.written == 1
    assert placed.read_bytes() == BIG
    assert placed.stat().st_nlink == 1
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["model.bin"]


def test_a_file_another_download_linked_too_is_copied_not_linked(tmp_path: Path) -> None:
    source = tmp_path / "cache" / "blob"
    source.parent.mkdir()
    source.write_bytes(BIG)
    os.link(source, tmp_path / "another-folder-file")  # another download got there first

    materialize(
        [FileToPlace("model.bin", DIGEST, len(BIG))],
        tmp_path / "out",
        lambda digest: source,
        links={DIGEST: lambda _should_stop: SharedFile(source, source.stat().st_ino)},
    )

    placed = tmp_path / "out" / "model.bin"
    assert placed.read_bytes() == BIG
    assert not os.path.samefile(placed, source)  # changing one must not change the other
    assert source.stat().st_nlink == 2
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["model.bin"]


def test_a_cache_file_replaced_after_it_was_shared_is_copied_not_linked(tmp_path: Path) -> None:
    source = tmp_path / "cache" / "blob"
    source.parent.mkdir()
    source.write_bytes(BIG)
    shared = SharedFile(source, source.stat().st_ino)
    # Another process put its own verified copy in place after this one shared it.
    other = tmp_path / "cache" / "other"
    other.write_bytes(BIG)
    os.replace(other, source)

    materialize(
        [FileToPlace("model.bin", DIGEST, len(BIG))],
        tmp_path / "out",
        lambda digest: source,
        links={DIGEST: lambda _should_stop: shared},
    )

    placed = tmp_path / "out" / "model.bin"
    assert placed.read_bytes() == BIG
    assert not os.path.samefile(placed, source)
    assert source.stat().st_nlink == 1
