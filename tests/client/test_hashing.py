import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from desktop_app.client import hashing as hashing_module
from desktop_app.client.hash_cache import HashCache, hash_stable_file
from desktop_app.client.hashing import hash_files
from desktop_app.core.digests import md5_b64
from desktop_app.core.errors import CancelledError

MIB = 1 << 20


def make_files(root: Path, count: int, size: int) -> list[Path]:
    stamp = time.time_ns() - 60_000_000_000
    paths = []
    for i in range(count):
        path = root / f"f{i}.bin"
        path.write_bytes(bytes([i % 256]) * size + str(i).encode())
        os.utime(path, ns=(stamp, stamp))
        paths.append(path)
    return paths


def test_digests_in_order_with_final_progress(tmp_path: Path) -> None:
    paths = make_files(tmp_path, 6, MIB + 7)
    updates: list[tuple[int, int]] = []
    digests = hash_files(paths, None, workers=3, on_progress=lambda d, t: updates.append((d, t)))
    assert digests == [md5_b64(p.read_bytes()) for p in paths]
    total = sum(p.stat().st_size for p in paths)
    assert updates[-1] == (total, total)
    assert len(updates) < 12  # throttled, not one per chunk


def test_uses_the_cache(tmp_path: Path) -> None:
    paths = make_files(tmp_path, 3, 100)
    with HashCache(None) as cache:
        first = hash_files(paths, cache, workers=2)
        assert [cache.lookup(p) for p in paths] == first
        assert hash_files(paths, cache, workers=2) == first


def test_empty_list() -> None:
    assert hash_files([], None, workers=4) == []


def test_workers_run_at_the_same_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = make_files(tmp_path, 2, hashing_module.SERIAL_BELOW)
    barrier = threading.Barrier(2, timeout=10)

    def waiting(path: Path, **kwargs: Any) -> Any:
        barrier.wait()  # only passes when both files are being hashed at once
        return hash_stable_file(path, **kwargs)

    monkeypatch.setattr(hashing_module, "hash_stable_file", waiting)
    assert len(hash_files(paths, None, workers=2)) == 2


def test_tiny_files_are_hashed_on_one_thread_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Threads taking turns at the GIL make tiny files slower to hash, not faster."""
    (tmp_path / "tiny").mkdir()
    (tmp_path / "big").mkdir()
    tiny = make_files(tmp_path / "tiny", 40, 100)
    big = make_files(tmp_path / "big", 3, hashing_module.SERIAL_BELOW)
    threads: dict[Path, int] = {}

    def recording(path: Path, **kwargs: Any) -> Any:
        threads[path] = threading.get_ident()
        return hash_stable_file(path, **kwargs)

    monkeypatch.setattr(hashing_module, "hash_stable_file", recording)
    mixed = [big[0], *tiny[:20], big[1], *tiny[20:], big[2]]

    digests = hash_files(mixed, None, workers=4)

    assert digests == [md5_b64(p.read_bytes()) for p in mixed]
    assert len({threads[p] for p in tiny}) == 1


def test_cancel_stops_promptly_and_caches_nothing_half_done(tmp_path: Path) -> None:
    paths = make_files(tmp_path, 8, 4 * MIB)
    read = 0
    lock = threading.Lock()

    def progress(done: int, _total: int) -> None:
        nonlocal read
        with lock:
            read = done

    calls = 0

    def is_cancelled() -> bool:
        nonlocal calls
        calls += 1
        return calls > 6

    with HashCache(None) as cache, pytest.raises(CancelledError):
        hash_files(paths, cache, workers=2, on_progress=progress, is_cancelled=is_cancelled)
    total = sum(p.stat().st_size for p in paths)
    assert read < total / 2
    with HashCache(None) as fresh:
        assert all(fresh.lookup(p) is None for p in paths)


def test_cancel_before_start_hashes_nothing(tmp_path: Path) -> None:
    paths = make_files(tmp_path, 3, 10)
    with HashCache(None) as cache:
        with pytest.raises(CancelledError):
            hash_files(paths, cache, workers=2, is_cancelled=lambda: True)
        assert all(cache.lookup(p) is None for p in paths)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        hash_files([tmp_path / "nope"], None, workers=1)
