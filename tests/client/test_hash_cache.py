import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from desktop_app.client import hash_cache as hash_cache_module
from desktop_app.client.hash_cache import HashCache
from desktop_app.core.digests import md5_b64
from desktop_app.core.errors import CancelledError, IntegrityError


def write_old(path: Path, data: bytes, age_s: int = 60) -> None:
    """Write ``data`` and date it in the past, out of the racy window."""
    path.write_bytes(data)
    stamp = time.time_ns() - age_s * 1_000_000_000
    os.utime(path, ns=(stamp, stamp))


@pytest.fixture
def hash_calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []
    real = hash_cache_module.hash_stable_file

    def counting(path: Path, **kwargs: Any) -> Any:
        calls.append(path)
        return real(path, **kwargs)

    monkeypatch.setattr(hash_cache_module, "hash_stable_file", counting)
    return calls


@pytest.fixture
def cache(tmp_path: Path) -> Any:
    with HashCache(tmp_path / "db" / "hashes.sqlite3") as hash_cache:
        yield hash_cache


def test_unchanged_file_is_not_hashed_again(
    tmp_path: Path, cache: HashCache, hash_calls: list[Path]
) -> None:
    path = tmp_path / "a.bin"
    write_old(path, b"hello")
    assert cache.digest(path) == md5_b64(b"hello")
    assert cache.digest(path) == md5_b64(b"hello")
    assert len(hash_calls) == 1


def test_cache_hit_still_reports_the_bytes(tmp_path: Path, cache: HashCache) -> None:
    path = tmp_path / "a.bin"
    write_old(path, b"x" * 10)
    cache.digest(path)
    seen: list[int] = []
    cache.digest(path, on_bytes=seen.append)
    assert sum(seen) == 10


def test_persists_across_instances(tmp_path: Path, hash_calls: list[Path]) -> None:
    path = tmp_path / "a.bin"
    write_old(path, b"hello")
    with HashCache(tmp_path / "h.sqlite3") as first:
        first.digest(path)
    with HashCache(tmp_path / "h.sqlite3") as second:
        assert second.digest(path) == md5_b64(b"hello")
    assert len(hash_calls) == 1


def test_touch_causes_rehash(tmp_path: Path, cache: HashCache, hash_calls: list[Path]) -> None:
    path = tmp_path / "a.bin"
    write_old(path, b"hello")
    cache.digest(path)
    stamp = time.time_ns() - 30_000_000_000
    os.utime(path, ns=(stamp, stamp))
    assert cache.digest(path) == md5_b64(b"hello")
    assert len(hash_calls) == 2


def test_content_change_causes_rehash(
    tmp_path: Path, cache: HashCache, hash_calls: list[Path]
) -> None:
    path = tmp_path / "a.bin"
    write_old(path, b"hello", age_s=60)
    cache.digest(path)
    write_old(path, b"HELLO", age_s=30)
    assert cache.digest(path) == md5_b64(b"HELLO")
    assert len(hash_calls) == 2


def test_replaced_file_with_same_size_and_mtime_is_rehashed(
    tmp_path: Path, cache: HashCache, hash_calls: list[Path]
) -> None:
    path = tmp_path / "a.bin"
    write_old(path, b"hello")
    cache.digest(path)
    mtime = path.stat().st_mtime_ns
    other = tmp_path / "b.bin"
    other.write_bytes(b"world")
    os.utime(other, ns=(mtime, mtime))
    os.replace(other, path)  # a new inode with the same size and mtime
    assert cache.digest(path) == md5_b64(b"world")
    assert len(hash_calls) == 2


def test_recently_written_file_is_checked_again(
    tmp_path: Path, cache: HashCache, hash_calls: list[Path]
) -> None:
    path = tmp_path / "fresh.bin"
    path.write_bytes(b"just written")
    cache.digest(path)
    cache.digest(path)
    assert len(hash_calls) == 2  # mtime too close to the hash time to be trusted


def test_file_changed_while_hashing_is_read_again(tmp_path: Path, cache: HashCache) -> None:
    path = tmp_path / "a.bin"
    write_old(path, b"old content")
    changed = False

    def change_once(_n: int) -> None:
        nonlocal changed
        if not changed:
            changed = True
            write_old(path, b"new content, longer")

    assert cache.digest(path, on_bytes=change_once) == md5_b64(b"new content, longer")
    assert cache.lookup(path) == md5_b64(b"new content, longer")


def test_file_that_keeps_changing_is_an_error_and_not_cached(
    tmp_path: Path, cache: HashCache
) -> None:
    path = tmp_path / "a.bin"
    write_old(path, b"0")
    counter = iter(range(1, 100))

    def always_change(_n: int) -> None:
        write_old(path, str(next(counter)).encode() * 3)

    with pytest.raises(IntegrityError, match="changed while being read"):
        cache.digest(path, on_bytes=always_change)
    write_old(path, path.read_bytes())
    assert cache.lookup(path) is None


def test_cancel_stores_nothing(tmp_path: Path, cache: HashCache) -> None:
    path = tmp_path / "a.bin"
    write_old(path, b"x" * (3 << 20))
    seen: list[int] = []
    with pytest.raises(CancelledError, match="cancelled by the user"):
        cache.digest(path, on_bytes=seen.append, is_cancelled=lambda: len(seen) >= 1)
    assert sum(seen) == 1 << 20
    assert cache.lookup(path) is None


def test_in_memory_cache(tmp_path: Path, hash_calls: list[Path]) -> None:
    path = tmp_path / "a.bin"
    write_old(path, b"hello")
    with HashCache(None) as memory:
        memory.digest(path)
        assert memory.digest(path) == md5_b64(b"hello")
    assert len(hash_calls) == 1


def test_threads_share_one_cache(tmp_path: Path, cache: HashCache) -> None:
    files = []
    for i in range(20):
        path = tmp_path / f"f{i}.bin"
        write_old(path, f"content {i}".encode())
        files.append(path)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for path in files:
                assert cache.digest(path) == md5_b64(path.read_bytes())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_relative_and_absolute_paths_share_an_entry(
    tmp_path: Path, cache: HashCache, hash_calls: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_old(tmp_path / "a.bin", b"hello")
    monkeypatch.chdir(tmp_path)
    cache.digest(Path("a.bin"))
    cache.digest(tmp_path / "a.bin")
    assert len(hash_calls) == 1


def test_a_file_in_a_folder_whose_name_is_not_utf8_is_cached(
    tmp_path: Path, cache: HashCache, hash_calls: list[Path]
) -> None:
    # Linux allows any bytes in a name; Python hands such a name over with surrogates,
    # which SQLite's text cannot hold.
    folder = Path(os.fsdecode(os.fsencode(tmp_path) + b"/donn\xe9es"))
    folder.mkdir()
    write_old(folder / "a.bin", b"hello")

    assert cache.digest(folder / "a.bin") == md5_b64(b"hello")
    assert cache.lookup_many([folder / "a.bin"]) == [(md5_b64(b"hello"), 5)]
    assert cache.digest(folder / "a.bin") == md5_b64(b"hello")
    assert len(hash_calls) == 1
    cache.forget(folder / "a.bin")
    assert cache.lookup(folder / "a.bin") is None
