"""The hash cache's background write (``store_many(wait=False)``) on a real SQLite file.

``hash_files`` hands the digests it computed to the cache and goes on; every other call on
the cache waits for that write first, so it never reads older rows than were stored.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from desktop_app.client import hashing as hashing_module
from desktop_app.client.hash_cache import FileIdentity, HashCache, hash_stable_file
from desktop_app.client.hashing import hash_files
from desktop_app.core.digests import md5_b64

Row = tuple[Path | str, FileIdentity, str, int]
WRITER = "hash-cache-write"
PATIENCE_S = 5.0  # far longer than any of these calls takes; only a hang reaches it


def _write_old(path: Path, data: bytes, age_s: int = 60) -> Path:
    """Write ``data`` dated in the past, out of the racy window (a fresh file's digest is
    not trusted: it may still change within the file system's timestamp granularity)."""
    path.write_bytes(data)
    stamp = time.time_ns() - age_s * 1_000_000_000
    os.utime(path, ns=(stamp, stamp))
    return path


def _old_files(root: Path, count: int, prefix: str = "f") -> list[Path]:
    return [
        _write_old(root / f"{prefix}{i}.bin", f"{prefix} bytes {i}".encode()) for i in range(count)
    ]


def _rows(paths: Sequence[Path]) -> list[Row]:
    """What ``hash_files`` hands the cache: digests of the files as hashed now."""
    rows: list[Row] = []
    for path in paths:
        hashed_at_ns = time.time_ns()
        digest, identity = hash_stable_file(path)
        rows.append((path, identity, digest, hashed_at_ns))
    return rows


def _expected(paths: Sequence[Path]) -> list[str | None]:
    return [md5_b64(path.read_bytes()) for path in paths]


def _cached(cache: HashCache, paths: Sequence[Path]) -> list[str | None]:
    return [digest for digest, _size in cache.lookup_many(paths)]


def _writers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == WRITER and t.is_alive()]


def _within(seconds: float, call: Callable[[], Any]) -> Any:
    """Run ``call`` on a helper thread; fail (instead of hanging the run) if it blocks."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(("value", call()))
        except BaseException as exc:  # handed back to the test below
            outcome.append(("error", exc))

    helper = threading.Thread(target=run, daemon=True)
    helper.start()
    helper.join(seconds)
    assert not helper.is_alive(), f"the call still blocks after {seconds} s"
    kind, value = outcome[0]
    if kind == "error":
        raise value
    return value


class OtherWriter:
    """A second connection that takes the cache database's write lock, as another Artifact
    Desk process writing the same cache does; the cache's own writes wait for it (SQLite's
    busy timeout) until it lets go. Keeps a background write pending for as long as a test
    needs, with no hook into the cache."""

    def __init__(self, db_path: Path) -> None:
        self._conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        self._timers: list[threading.Timer] = []

    def hold(self) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")

    def let_go(self) -> None:
        with self._lock:
            if self._conn.in_transaction:
                self._conn.execute("COMMIT")

    def let_go_after(self, seconds: float) -> None:
        timer = threading.Timer(seconds, self.let_go)
        self._timers.append(timer)
        timer.start()

    def count_rows(self) -> int:
        """Rows committed so far, as any other reader of the file sees them."""
        with self._lock:
            (count,) = self._conn.execute("SELECT COUNT(*) FROM file_digests").fetchone()
        return int(count)

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self.let_go()
        self._conn.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "hashes.sqlite3"


@pytest.fixture
def cache(db_path: Path) -> Iterator[HashCache]:
    with HashCache(db_path) as made:
        yield made


@pytest.fixture
def other_writer(cache: HashCache, db_path: Path) -> Iterator[OtherWriter]:
    """Another writer of ``cache``'s database (which exists once the cache is open)."""
    other = OtherWriter(db_path)
    try:
        yield other
    finally:
        other.close()  # also frees a write still waiting, if a test failed midway


def test_lookups_right_after_a_background_store_see_the_digests(
    tmp_path: Path, cache: HashCache
) -> None:
    paths = _old_files(tmp_path, 300)
    rows = _rows(paths)

    cache.store_many(rows, wait=False)

    assert _cached(cache, paths) == _expected(paths)
    assert cache.lookup(paths[7]) == md5_b64(paths[7].read_bytes())
    assert _writers() == []


def test_a_background_store_returns_while_another_writer_holds_the_database(
    tmp_path: Path, cache: HashCache, other_writer: OtherWriter
) -> None:
    paths = _old_files(tmp_path, 5)
    rows = _rows(paths)
    other_writer.hold()

    _within(PATIENCE_S, lambda: cache.store_many(rows, wait=False))

    assert len(_writers()) == 1
    assert other_writer.count_rows() == 0  # still waiting: nothing written yet
    other_writer.let_go()
    assert _cached(cache, paths) == _expected(paths)
    assert other_writer.count_rows() == 5


def test_lookup_many_and_lookup_wait_for_a_pending_background_store(
    tmp_path: Path, cache: HashCache, other_writer: OtherWriter
) -> None:
    first, second = _old_files(tmp_path, 5, "a"), _old_files(tmp_path, 5, "b")
    other_writer.hold()
    _within(PATIENCE_S, lambda: cache.store_many(_rows(first), wait=False))
    other_writer.let_go_after(0.1)  # the write goes through only after the lookup began

    assert _within(PATIENCE_S, lambda: _cached(cache, first)) == _expected(first)

    other_writer.hold()
    _within(PATIENCE_S, lambda: cache.store_many(_rows(second), wait=False))
    other_writer.let_go_after(0.1)
    assert _within(PATIENCE_S, lambda: cache.lookup(second[2])) == _expected(second)[2]


def test_a_second_background_store_while_the_first_is_pending_keeps_both(
    tmp_path: Path, cache: HashCache, other_writer: OtherWriter, db_path: Path
) -> None:
    first, second = _old_files(tmp_path, 40, "a"), _old_files(tmp_path, 40, "b")
    first_rows, second_rows = _rows(first), _rows(second)
    other_writer.hold()
    _within(PATIENCE_S, lambda: cache.store_many(first_rows, wait=False))
    assert len(_writers()) == 1
    other_writer.let_go_after(0.1)

    _within(PATIENCE_S, lambda: cache.store_many(second_rows, wait=False))

    assert _cached(cache, first + second) == _expected(first + second)
    cache.close()
    with HashCache(db_path) as reopened:
        assert _cached(reopened, first + second) == _expected(first + second)


def test_close_right_after_a_background_store_leaves_the_rows_on_disk(
    tmp_path: Path, cache: HashCache, other_writer: OtherWriter, db_path: Path
) -> None:
    paths = _old_files(tmp_path, 3)
    identity = FileIdentity(1, 1, 1, 1)
    filler: list[Row] = [
        (tmp_path / "gone" / f"x{i}", identity, md5_b64(str(i).encode()), time.time_ns())
        for i in range(2000)
    ]
    other_writer.hold()  # the write is certainly still pending when close() is called
    _within(PATIENCE_S, lambda: cache.store_many([*_rows(paths), *filler], wait=False))
    other_writer.let_go_after(0.1)

    _within(PATIENCE_S, cache.close)

    assert _writers() == []
    assert other_writer.count_rows() == 2003
    with HashCache(db_path) as reopened:
        assert _cached(reopened, paths) == _expected(paths)


def test_background_stores_from_two_threads_at_once_are_both_kept_on_close(
    tmp_path: Path, cache: HashCache, other_writer: OtherWriter, db_path: Path
) -> None:
    first, second = _old_files(tmp_path, 3, "a"), _old_files(tmp_path, 3, "b")
    other_writer.hold()  # both writes are certainly pending when close() is called
    callers = [
        threading.Thread(target=cache.store_many, args=(_rows(paths),), kwargs={"wait": False})
        for paths in (first, second)
    ]
    for caller in callers:
        caller.start()
    other_writer.let_go_after(0.2)
    for caller in callers:
        caller.join(PATIENCE_S)

    _within(PATIENCE_S, cache.close)

    assert _writers() == []
    with HashCache(db_path) as reopened:
        assert _cached(reopened, [*first, *second]) == _expected([*first, *second])


def test_a_refused_background_write_is_logged_and_the_cache_still_answers(
    tmp_path: Path, cache: HashCache, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="desktop_app.client.hash_cache")
    paths = _old_files(tmp_path, 2)
    # query_only makes SQLite refuse every write, as a read-only or full disk would, while
    # reads go on working. A read-only file cannot stand in: the connection is already
    # open, and the tests may run as root, whom file modes do not stop.
    cache._conn.execute("PRAGMA query_only = ON")

    cache.store_many(_rows(paths), wait=False)  # must not raise
    answers = _within(PATIENCE_S, lambda: cache.lookup_many(paths))

    assert answers == [(None, path.stat().st_size) for path in paths]  # nothing recorded
    warnings = [r for r in caplog.records if r.name == "desktop_app.client.hash_cache"]
    assert [(r.levelno, r.threadName) for r in warnings] == [(logging.WARNING, WRITER)]
    assert "could not record 2 file digests" in warnings[0].getMessage()
    assert warnings[0].exc_info is not None
    assert isinstance(warnings[0].exc_info[1], sqlite3.Error)
    cache._conn.execute("PRAGMA query_only = OFF")
    cache.store_many(_rows(paths))  # the cache is usable again
    assert _cached(cache, paths) == _expected(paths)


def test_a_background_write_to_a_dropped_table_logs_and_the_next_call_fails_cleanly(
    tmp_path: Path, cache: HashCache, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="desktop_app.client.hash_cache")
    paths = _old_files(tmp_path, 1)
    # A damaged cache database (the table gone) makes the write itself fail, not only a
    # read-only flag: the background thread must log it and let later calls go on.
    with cache._conn:
        cache._conn.execute("DROP TABLE file_digests")

    cache.store_many(_rows(paths), wait=False)

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        _within(PATIENCE_S, lambda: cache.lookup_many(paths))
    assert [r.threadName for r in caplog.records if r.levelno == logging.WARNING] == [WRITER]
    _within(PATIENCE_S, cache.close)


@pytest.fixture
def hash_calls(monkeypatch: pytest.MonkeyPatch) -> list[str | Path]:
    """Paths ``hash_files`` really hashes (the real function does the work)."""
    calls: list[str | Path] = []
    lock = threading.Lock()
    real = hash_stable_file

    def counting(path: str | Path, **kwargs: Any) -> Any:
        with lock:
            calls.append(path)
        return real(path, **kwargs)

    monkeypatch.setattr(hashing_module, "hash_stable_file", counting)
    return calls


def test_hash_files_gives_md5_digests_and_then_answers_from_the_cache(
    tmp_path: Path, cache: HashCache, hash_calls: list[str | Path]
) -> None:
    small = _old_files(tmp_path, 20)
    large = [
        _write_old(tmp_path / f"large{i}.bin", os.urandom((1 << 20) + 100 * i)) for i in range(2)
    ]
    paths: list[str | Path] = [*small, *(str(path) for path in large)]  # str paths too

    first = hash_files(paths, cache, workers=4)

    assert first == _expected([*small, *large])
    assert len(hash_calls) == len(paths)
    second = hash_files(paths, cache, workers=4)
    assert second == first
    assert len(hash_calls) == len(paths)  # nothing hashed the second time


def test_hash_files_leaves_the_cache_write_to_the_background(
    tmp_path: Path, cache: HashCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _old_files(tmp_path, 3)
    waits: list[bool] = []
    real = cache.store_many

    def recording(rows: Sequence[Row], *, wait: bool = True) -> None:
        waits.append(wait)
        real(rows, wait=wait)

    monkeypatch.setattr(cache, "store_many", recording)  # a spy: the real write still runs

    hash_files(paths, cache, workers=2)

    assert waits == [False]
    assert _cached(cache, paths) == _expected(paths)


@pytest.mark.parametrize("size", [100, (1 << 20) + 1], ids=["read-at-once", "streamed"])
def test_hash_stable_file_takes_a_str_path_like_a_path(tmp_path: Path, size: int) -> None:
    path = _write_old(tmp_path / "data.bin", os.urandom(size))
    kept_path: list[bytes] = []
    kept_str: list[bytes] = []

    by_path = hash_stable_file(path, keep=kept_path)
    by_str = hash_stable_file(str(path), keep=kept_str)

    assert by_str == by_path
    assert by_str[0] == md5_b64(path.read_bytes())
    assert by_str[1] == FileIdentity.of(os.stat(path))
    assert kept_str == kept_path
