"""Downloaded file contents by digest: verified atomic writes, a size cap, LRU eviction, pins."""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from desktop_app.client.progress import CancelCheck, check_cancelled
from desktop_app.core.digests import (
    CHUNK_SIZE,
    b64_of,
    b64_to_hex,
    md5_b64,
    md5_file_b64,
    md5_for,
)
from desktop_app.core.errors import IntegrityError

STALE_TEMP_SECONDS = 24 * 3600

_SCHEMA = """
CREATE TABLE IF NOT EXISTS blobs (
    digest TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    last_access INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS blobs_by_access ON blobs (last_access);
CREATE TABLE IF NOT EXISTS pins (
    pin_key TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (pin_key, digest)
);
CREATE INDEX IF NOT EXISTS pins_by_digest ON pins (digest);
"""


class ContentCache:
    """Blobs stored once per digest under ``root/ab/abcdef...`` with an SQLite index.

    Every blob is MD5-verified while it is written and only then moved into place, so a
    path returned by the cache always holds the right bytes. When the cache grows past
    ``max_bytes`` the least recently used blobs go, except pinned ones.
    """

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._tmp_dir = root / "tmp"
        self._tmp_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._last_access = 0
        self._conn = sqlite3.connect(
            root / "index.sqlite3", timeout=30, check_same_thread=False, isolation_level=None
        )
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(_SCHEMA)
        self._remove_stale_temp_files()

    def close(self) -> None:
        """Close the index."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> ContentCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- lookups ------------------------------------------------------------------------

    def blob_path(self, digest: str) -> Path:
        """Where the blob for ``digest`` lives (or would live)."""
        hex_digest = b64_to_hex(digest)
        return self.root / hex_digest[:2] / hex_digest

    def contains(self, digest: str) -> bool:
        """Whether the blob is in the cache (does not count as an access)."""
        with self._lock:
            row = self._conn.execute("SELECT 1 FROM blobs WHERE digest = ?", (digest,)).fetchone()
        return row is not None and self.blob_path(digest).is_file()

    def path_for(self, digest: str) -> Path | None:
        """The blob's path, marking it recently used; None when not cached."""
        path = self.blob_path(digest)
        with self._lock:
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                self._execute("DELETE FROM blobs WHERE digest = ?", (digest,))
                return None
            # A file without a row was moved into place (after verification) by a process
            # that stopped before recording it: adopt it.
            self._execute(
                "INSERT INTO blobs (digest, size, last_access) VALUES (?, ?, ?) "
                "ON CONFLICT (digest) DO UPDATE SET last_access = excluded.last_access",
                (digest, size, self._tick()),
            )
        return path

    def total_bytes(self) -> int:
        """Bytes held by the cached blobs."""
        with self._lock:
            row = self._conn.execute("SELECT COALESCE(SUM(size), 0) FROM blobs").fetchone()
        return int(row[0])

    # -- writing ------------------------------------------------------------------------

    def put_stream(
        self,
        digest: str,
        chunks: Iterable[bytes],
        *,
        size: int | None = None,
        on_bytes: Callable[[int], None] | None = None,
        is_cancelled: CancelCheck | None = None,
    ) -> Path:
        """Store the bytes of ``chunks`` as ``digest``, verified; returns the blob path.

        Raises IntegrityError if the bytes do not match and CancelledError if cancelled; in
        both cases nothing is left behind.
        """
        final = self.blob_path(digest)
        existing = self.path_for(digest)
        if existing is not None:
            return existing
        tmp = self._tmp_dir / f"{final.name}.{secrets.token_hex(8)}.part"
        try:
            written = 0
            with open(tmp, "xb") as stream, md5_for(size or 0) as hasher:
                for chunk in chunks:
                    check_cancelled(is_cancelled, f"caching {digest}")
                    stream.write(chunk)
                    hasher.update(chunk)
                    written += len(chunk)
                    if on_bytes is not None:
                        on_bytes(len(chunk))
                check_cancelled(is_cancelled, f"caching {digest}")
                got = b64_of(hasher)
                if got != digest or (size is not None and written != size):
                    expected_size = "" if size is None else f", {size} bytes"
                    raise IntegrityError(
                        f"downloaded content for digest {digest} does not match: expected "
                        f"{digest}{expected_size}, got {got}, {written} bytes; the source is "
                        "corrupt or changed, try the download again"
                    )
                # No fsync: this is a cache. Every entry was verified as it was written, and
                # a copy out of the cache is verified again unless it is that fresh.
                stream.flush()
            final.parent.mkdir(exist_ok=True)
            with self._lock:
                os.replace(tmp, final)
                self._execute(
                    "INSERT INTO blobs (digest, size, last_access) VALUES (?, ?, ?) "
                    "ON CONFLICT (digest) DO UPDATE SET size = excluded.size, "
                    "last_access = excluded.last_access",
                    (digest, written, self._tick()),
                )
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        if self.max_bytes >= 0 and self.total_bytes() > self.max_bytes:
            self.evict()
        return final

    def put_many(self, blobs: Sequence[tuple[str, bytes]]) -> dict[str, Path]:
        """Store many small blobs ``(digest, bytes)``, each verified, in one transaction."""
        for digest, data in blobs:
            if md5_b64(data) != digest:
                raise IntegrityError(
                    f"downloaded content for digest {digest} does not match it; the source is "
                    "corrupt or changed, try the download again"
                )
        staged: list[tuple[str, Path, int]] = []
        try:
            for digest, data in blobs:
                tmp = self._tmp_dir / f"{b64_to_hex(digest)}.{secrets.token_hex(8)}.part"
                tmp.write_bytes(data)
                staged.append((digest, tmp, len(data)))
            placed: dict[str, Path] = {}
            with self._lock:
                rows = []
                tick = self._tick()  # one query per batch; each row one tick later
                for offset, (digest, tmp, size) in enumerate(staged):
                    final = self.blob_path(digest)
                    final.parent.mkdir(exist_ok=True)
                    os.replace(tmp, final)
                    placed[digest] = final
                    rows.append((digest, size, tick + offset))
                self._last_access = tick + len(staged)
                self._conn.execute("BEGIN")
                self._conn.executemany(
                    "INSERT INTO blobs (digest, size, last_access) VALUES (?, ?, ?) "
                    "ON CONFLICT (digest) DO UPDATE SET size = excluded.size, "
                    "last_access = excluded.last_access",
                    rows,
                )
                self._conn.execute("COMMIT")
        finally:
            for _digest, tmp, _size in staged:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
        if self.max_bytes >= 0 and self.total_bytes() > self.max_bytes:
            self.evict()
        return placed

    def put_file(
        self,
        digest: str,
        src: Path,
        *,
        on_bytes: Callable[[int], None] | None = None,
        is_cancelled: CancelCheck | None = None,
    ) -> Path:
        """Copy the file ``src`` into the cache as ``digest``, verified."""
        with open(src, "rb") as stream:
            return self.put_stream(
                digest,
                _read_chunks(stream),
                size=os.fstat(stream.fileno()).st_size,
                on_bytes=on_bytes,
                is_cancelled=is_cancelled,
            )

    # -- pins and eviction --------------------------------------------------------------

    def pin(self, key: str, digests: Iterable[str]) -> None:
        """Keep ``digests`` from eviction until ``unpin(key)``; e.g. key = a version id."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT OR IGNORE INTO pins (pin_key, digest) VALUES (?, ?)",
                    ((key, digest) for digest in digests),
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def unpin(self, key: str) -> None:
        """Release the pins held under ``key``."""
        self._execute("DELETE FROM pins WHERE pin_key = ?", (key,))

    def pinned_digests(self) -> set[str]:
        """Every digest some key pins."""
        with self._lock:
            rows = self._conn.execute("SELECT DISTINCT digest FROM pins").fetchall()
        return {str(row[0]) for row in rows}

    def evict(self, target_bytes: int | None = None) -> int:
        """Remove least recently used unpinned blobs until at most ``target_bytes`` remain.

        ``target_bytes`` defaults to ``max_bytes``. Returns the bytes freed.
        """
        target = self.max_bytes if target_bytes is None else target_bytes
        freed = 0
        with self._lock:
            total = self.total_bytes()
            if total <= target:
                return 0
            candidates = self._conn.execute(
                "SELECT digest, size FROM blobs "
                "WHERE digest NOT IN (SELECT digest FROM pins) "
                "ORDER BY last_access, digest"
            ).fetchall()
            for digest, size in candidates:
                if total - freed <= target:
                    break
                self._remove_locked(str(digest))
                freed += int(size)
        return freed

    def remove(self, digest: str) -> None:
        """Drop one blob (pinned or not) from the cache."""
        with self._lock:
            self._remove_locked(digest)

    def verify(self, digest: str) -> bool:
        """Re-hash the cached blob; a corrupt one is removed. False if absent or corrupt."""
        path = self.blob_path(digest)
        try:
            ok = md5_file_b64(path) == digest
        except FileNotFoundError:
            ok = False
        if not ok:
            self.remove(digest)
        return ok

    # -- internals ----------------------------------------------------------------------

    def _remove_locked(self, digest: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.blob_path(digest).unlink()
        self._execute("DELETE FROM blobs WHERE digest = ?", (digest,))

    def _execute(self, sql: str, params: tuple[object, ...]) -> None:
        with self._lock:
            self._conn.execute(sql, params)

    def _tick(self) -> int:
        """A strictly increasing access time in nanoseconds (clocks can be coarse)."""
        with self._lock:
            row = self._conn.execute("SELECT COALESCE(MAX(last_access), 0) FROM blobs").fetchone()
            self._last_access = max(time.time_ns(), self._last_access + 1, int(row[0]) + 1)
            return self._last_access

    def _remove_stale_temp_files(self) -> None:
        cutoff = time.time() - STALE_TEMP_SECONDS
        for entry in self._tmp_dir.iterdir():
            with contextlib.suppress(OSError):
                if entry.stat().st_mtime < cutoff:
                    entry.unlink()


def _read_chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK_SIZE):
        yield chunk
