"""Remember file digests by (size, mtime, inode) so unchanged files are not hashed again."""

from __future__ import annotations

import hashlib
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


def hash_stable_file(
    path: Path,
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
    """
    for _attempt in range(HASH_ATTEMPTS):
        check_cancelled(is_cancelled, f"hashing {path}")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            before = FileIdentity.of(os.fstat(fd))
            data = b""
            if before.size <= SMALL_FILE_BYTES:
                data = os.read(fd, before.size + 1)  # one byte more shows a file that grew
                hasher = hashlib.md5(data)
                read = len(data)
                if on_bytes is not None:
                    on_bytes(read)
            else:
                hasher, read = _hash_stream(fd, path, on_bytes, is_cancelled)
            after = FileIdentity.of(os.fstat(fd))
        finally:
            os.close(fd)
        if before == after and read == after.size:
            if keep is not None and len(data) == read:
                keep.append(data)
            return b64_of(hasher), after
    raise IntegrityError(
        f"file {path} changed while being read; wait until the program writing it is "
        "done, then try again"
    )


def _hash_stream(
    fd: int,
    path: Path,
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
        """Close the database."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> HashCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def lookup(self, path: Path) -> str | None:
        """The cached digest of ``path`` if the file is unchanged since it was hashed."""
        key = os.path.abspath(path)
        identity = FileIdentity.of(os.stat(key))
        return self._lookup(key, identity)

    def lookup_many(
        self,
        paths: Sequence[str | Path],
        identities: Sequence[tuple[int, int, int, int] | None] | None = None,
    ) -> list[tuple[str | None, int]]:
        """``(cached digest or None, size)`` for each path: one query per 500 paths.

        ``identities`` (size, mtime_ns, inode, device) saves a stat per file when the caller
        has just seen them (a folder walk).
        """
        keys = [p if os.path.isabs(p := os.fspath(path)) else os.path.abspath(p) for path in paths]
        given = identities or [None] * len(keys)
        current = [
            FileIdentity(*seen) if seen is not None else FileIdentity.of(os.stat(key))
            for key, seen in zip(keys, given, strict=True)
        ]
        rows: dict[str, tuple[Any, ...]] = {}
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

    def _lookup(self, key: str, identity: FileIdentity) -> str | None:
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
        key = os.path.abspath(path)
        current = FileIdentity.of(os.stat(key))
        cached = self._lookup(key, current)
        if cached is not None:
            if on_bytes is not None:
                on_bytes(current.size)
            return cached
        hashed_at_ns = time.time_ns()
        digest, identity = hash_stable_file(Path(key), on_bytes=on_bytes, is_cancelled=is_cancelled)
        self.store(key, identity, digest, hashed_at_ns=hashed_at_ns)
        return digest

    def store(
        self, path: Path | str, identity: FileIdentity, digest: str, *, hashed_at_ns: int
    ) -> None:
        """Record ``digest`` for ``path`` as it was when hashing started at ``hashed_at_ns``."""
        self.store_many([(path, identity, digest, hashed_at_ns)])

    def store_many(self, rows: Sequence[tuple[Path | str, FileIdentity, str, int]]) -> None:
        """Record many ``(path, identity, digest, hashed_at_ns)`` in one transaction."""
        with self._lock, self._conn:
            self._conn.executemany(
                "INSERT OR REPLACE INTO file_digests "
                "(path, size, mtime_ns, inode, device, digest, hashed_at_ns) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (os.path.abspath(path), *identity, digest, hashed_at_ns)
                    for path, identity, digest, hashed_at_ns in rows
                ],
            )

    def forget(self, path: Path) -> None:
        """Drop the entry for ``path``."""
        with self._lock, self._conn:
            self._conn.execute("DELETE FROM file_digests WHERE path = ?", (os.path.abspath(path),))
