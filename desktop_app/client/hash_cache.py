"""Remember file digests by (size, mtime, inode) so unchanged files are not hashed again."""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from desktop_app.client.progress import CancelCheck, check_cancelled
from desktop_app.client.sqlite_tx import enable_wal
from desktop_app.core.digests import CHUNK_SIZE, b64_of
from desktop_app.core.errors import IntegrityError

log = logging.getLogger(__name__)

# Timestamps have coarse granularity on some file systems (2 s on FAT, 1 s on HFS+), so a
# file written again within that window of being hashed can keep its mtime. Entries hashed
# that soon after the last write are "racy" and are checked again (the same idea as git's
# racily-clean index entries).
DEFAULT_RACY_WINDOW_NS = 2_000_000_000
HASH_ATTEMPTS = 3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS file_digests (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    device INTEGER NOT NULL,
    digest TEXT NOT NULL,
    hashed_at_ns INTEGER NOT NULL
)
"""


class FileIdentity(NamedTuple):
    """What must stay the same for a cached digest to remain valid."""

    size: int
    mtime_ns: int
    inode: int
    device: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileIdentity:
        """The identity of a stat result."""
        return cls(st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)


SMALL_FILE_BYTES = 1 << 20  # read in one call: most of a small file's cost is per call


def _key(path: str | Path) -> str | bytes:
    """The row key of ``path``: its absolute path as text, or as the file system's bytes
    where the name is not UTF-8 (Linux allows any bytes in a name; SQLite's text must be
    UTF-8, and such a name arrives with surrogates in it)."""
    key = os.fspath(path)
    if not os.path.isabs(key):
        key = os.path.abspath(key)
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(key)
    return key


def hash_stable_file(
    path: str | Path,
    *,
    on_bytes: Callable[[int], None] | None = None,
    is_cancelled: CancelCheck | None = None,
    keep: list[bytes] | None = None,
) -> tuple[str, FileIdentity]:
    """Hash ``path`` and return the digest with the identity it was computed for.

    The open file is stat'ed before and after reading; if it changed in between it is read
    again, and after a few attempts IntegrityError says the file keeps changing. ``keep``
    receives the bytes hashed, when the file was read in one call (up to
    ``SMALL_FILE_BYTES``), so that a caller about to send them need not read them again.

    Written for 10,000 small files a second: no Path objects, no message built unless it
    is raised.
    """
    for _attempt in range(HASH_ATTEMPTS):
        if is_cancelled is not None and is_cancelled():
            check_cancelled(is_cancelled, f"hashing {path}")
        fd = os.open(path, _READ_FLAGS)
        try:
            st = os.fstat(fd)
            before = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)
            data = b""
            if st.st_size <= SMALL_FILE_BYTES:
                data = os.read(fd, st.st_size + 1)  # one byte more shows a file that grew
                hasher = hashlib.md5(data)
                read = len(data)
                if on_bytes is not None:
                    on_bytes(read)
            else:
                hasher, read = _hash_stream(fd, path, on_bytes, is_cancelled)
            st = os.fstat(fd)
        finally:
            os.close(fd)
        after = FileIdentity(st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)
        if before == after and read == after.size:
            if keep is not None and len(data) == read:
                keep.append(data)
            return b64_of(hasher), after
    raise IntegrityError(
        f"file {path} changed while being read; wait until the program writing it is "
        "done, then try again"
    )


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)


def _hash_stream(
    fd: int,
    path: str | Path,
    on_bytes: Callable[[int], None] | None,
    is_cancelled: CancelCheck | None,
) -> tuple[Any, int]:
    """MD5 of the rest of an open file, chunk by chunk; hashlib releases the GIL on each."""
    hasher = hashlib.md5()
    read = 0
    with open(fd, "rb", closefd=False) as stream:
        while chunk := stream.read(CHUNK_SIZE):
            check_cancelled(is_cancelled, f"hashing {path}")
            hasher.update(chunk)
            read += len(chunk)
            if on_bytes is not None:
                on_bytes(len(chunk))
    return hasher, read


class HashCache:
    """A thread-safe SQLite cache of file digests (W&B base64 MD5), keyed by absolute path.

    ``db_path=None`` keeps the cache in memory for the life of the object.
    """

    def __init__(
        self, db_path: Path | None, *, racy_window_ns: int = DEFAULT_RACY_WINDOW_NS
    ) -> None:
        self._racy_window_ns = racy_window_ns
        self._lock = threading.Lock()
        self._writer: threading.Thread | None = None  # see store_many(wait=False)
        self._writer_lock = threading.Lock()
        if db_path is None:
            self._conn = sqlite3.connect(":memory:", check_same_thread=False)
        else:
            db_path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(db_path, timeout=30, check_same_thread=False)
            enable_wal(self._conn)
            self._conn.execute("PRAGMA synchronous=NORMAL")
        with self._lock, self._conn:
            self._conn.execute(_SCHEMA)

    def close(self) -> None:
        """Close the database (after a write still under way)."""
        self._join_writer()
        with self._lock:
            self._conn.close()

    def __enter__(self) -> HashCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def lookup(self, path: Path) -> str | None:
        """The cached digest of ``path`` if the file is unchanged since it was hashed."""
        identity = FileIdentity.of(os.stat(path))
        return self._lookup(_key(path), identity)

    def lookup_many(
        self,
        paths: Sequence[str | Path],
        identities: Sequence[tuple[int, int, int, int] | None] | None = None,
    ) -> list[tuple[str | None, int]]:
        """``(cached digest or None, size)`` for each path: one query per 500 paths.

        ``identities`` (size, mtime_ns, inode, device) saves a stat per file when the caller
        has just seen them (a folder walk).
        """
        self._join_writer()
        keys = [_key(path) for path in paths]
        given = identities or [None] * len(keys)
        current = [
            FileIdentity(*seen) if seen is not None else FileIdentity.of(os.stat(path))
            for path, seen in zip(paths, given, strict=True)
        ]
        rows: dict[str | bytes, tuple[Any, ...]] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                batch = keys[start : start + 500]
                marks = ",".join("?" * len(batch))
                for row in self._conn.execute(
                    "SELECT path, size, mtime_ns, inode, device, digest, hashed_at_ns "
                    f"FROM file_digests WHERE path IN ({marks})",
                    batch,
                ):
                    rows[row[0]] = row[1:]
        return [
            (self._trusted(rows.get(key), identity), identity.size)
            for key, identity in zip(keys, current, strict=True)
        ]

    def _trusted(self, row: tuple[Any, ...] | None, identity: FileIdentity) -> str | None:
        if row is None or row[:4] != identity:  # a NamedTuple equals the plain tuple
            return None
        digest, hashed_at_ns = str(row[4]), int(row[5])
        if hashed_at_ns - identity.mtime_ns < self._racy_window_ns:
            return None
        return digest

    def _lookup(self, key: str | bytes, identity: FileIdentity) -> str | None:
        self._join_writer()
        with self._lock:
            row = self._conn.execute(
                "SELECT size, mtime_ns, inode, device, digest, hashed_at_ns "
                "FROM file_digests WHERE path = ?",
                (key,),
            ).fetchone()
        if row is None or FileIdentity(*row[:4]) != identity:
            return None
        digest, hashed_at_ns = str(row[4]), int(row[5])
        if hashed_at_ns - identity.mtime_ns < self._racy_window_ns:
            return None
        return digest

    def digest(
        self,
        path: Path,
        *,
        on_bytes: Callable[[int], None] | None = None,
        is_cancelled: CancelCheck | None = None,
    ) -> str:
        """The digest of ``path``: from the cache when the file is unchanged, else hashed."""
        current = FileIdentity.of(os.stat(path))
        cached = self._lookup(_key(path), current)
        if cached is not None:
            if on_bytes is not None:
                on_bytes(current.size)
            return cached
        hashed_at_ns = time.time_ns()
        digest, identity = hash_stable_file(path, on_bytes=on_bytes, is_cancelled=is_cancelled)
        self.store(path, identity, digest, hashed_at_ns=hashed_at_ns)
        return digest

    def store(
        self, path: Path | str, identity: FileIdentity, digest: str, *, hashed_at_ns: int
    ) -> None:
        """Record ``digest`` for ``path`` as it was when hashing started at ``hashed_at_ns``."""
        self.store_many([(path, identity, digest, hashed_at_ns)])

    def store_many(
        self, rows: Sequence[tuple[Path | str, FileIdentity, str, int]], *, wait: bool = True
    ) -> None:
        """Record many ``(path, identity, digest, hashed_at_ns)`` in one transaction.

        ``wait=False`` writes them on a thread of its own and returns at once (a put sends
        its draft meanwhile: 10,000 rows take 30-50 ms). Every other call waits for that
        write first, so what it reads is never older than what was stored. A failed
        background write is logged; the files are hashed again next time.
        """
        with self._writer_lock:  # callers in turn: each writer is waited for by the next
            self._join_writer_locked()
            if wait:
                self._write(rows)
                return
            writer = threading.Thread(
                target=self._write_quietly, args=(rows,), name="hash-cache-write", daemon=True
            )
            self._writer = writer
            writer.start()

    def _join_writer(self) -> None:
        with self._writer_lock:
            self._join_writer_locked()

    def _join_writer_locked(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.join()

    def _write_quietly(self, rows: Sequence[tuple[Path | str, FileIdentity, str, int]]) -> None:
        try:
            self._write(rows)
        except (sqlite3.Error, OSError):
            log.warning(
                "could not record %d file digests in the hash cache", len(rows), exc_info=True
            )

    def _write(self, rows: Sequence[tuple[Path | str, FileIdentity, str, int]]) -> None:
        with self._lock, self._conn:
            self._conn.executemany(
                "INSERT OR REPLACE INTO file_digests "
                "(path, size, mtime_ns, inode, device, digest, hashed_at_ns) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (_key(path), *identity, digest, hashed_at_ns)
                    for path, identity, digest, hashed_at_ns in rows
                ],
            )

    def forget(self, path: Path) -> None:
        """Drop the entry for ``path``."""
        self._join_writer()
        with self._lock, self._conn:
            self._conn.execute("DELETE FROM file_digests WHERE path = ?", (_key(path),))
