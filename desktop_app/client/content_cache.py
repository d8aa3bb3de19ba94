"""Downloaded file contents by digest: verified atomic writes, a size cap, LRU eviction, pins."""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from desktop_app.client.blob_files import (
    BlobFile,
    CopyTarget,
    Countdown,
    PartialClaim,
    SharedFile,
    WriteBehind,
    lend_buffers,
    read_chunks,
    read_prefix,
)
from desktop_app.client.progress import CancelCheck, check_cancelled
from desktop_app.client.sqlite_tx import enable_wal, immediate
from desktop_app.core.digests import (
    BackgroundMd5,
    Chunk,
    Md5Like,
    b64_of,
    b64_to_hex,
    checksum_hasher,
    md5_b64,
    md5_file_b64,
    md5_for,
)
from desktop_app.core.errors import IntegrityError

STALE_TEMP_SECONDS = 24 * 3600
_QUERY_BATCH = 500  # digests per IN (...) query, well under SQLite's limit on parameters
_OPEN_BINARY = getattr(os, "O_BINARY", 0)

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
CREATE TABLE IF NOT EXISTS shared (
    digest TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL
);
"""
# ``shared``: blobs whose file is also a file in a user's folder (a hard link, see
# :meth:`ContentCache.share`), with the size and modification time they had then.


class ContentCache:
    """Blobs stored once per digest under ``root/ab/abcdef...`` with an SQLite index.

    Every blob is MD5-verified while it is written and only then moved into place, so a
    path returned by the cache always holds the right bytes. A blob whose file was shared
    with a user's folder (:meth:`share`) counts as cached only while its size and
    modification time are those it had when it was shared: a change made to the user's
    file in place shows there, and the cache forgets the blob. When the cache grows past
    ``max_bytes`` the least recently used blobs go, except pinned ones.
    """

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._tmp_dir = root / "tmp"
        self._tmp_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._claimed: set[Path] = set()  # partials a put_resumable of this object writes
        self._last_access = 0
        self._conn = sqlite3.connect(
            root / "index.sqlite3", timeout=30, check_same_thread=False, isolation_level=None
        )
        with self._lock:
            enable_wal(self._conn)
            # With WAL, NORMAL stays consistent after any crash and skips an fsync per
            # commit; a power cut can lose the last rows, and path_for adopts their files.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
        self._temp_names = f"{os.getpid()}-{secrets.token_hex(4)}"  # + a counter per file
        self._temp_count = itertools.count()
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
            if row is None:
                return False
            try:
                info = os.stat(self.blob_path(digest))
            except FileNotFoundError:
                return False
            if self._changed_locked(digest, info):
                self._remove_locked(digest)
                return False
        return stat.S_ISREG(info.st_mode)

    def path_for(self, digest: str) -> Path | None:
        """The blob's path, marking it recently used; None when not cached."""
        path = self.blob_path(digest)
        with self._lock:
            try:
                info = path.stat()
            except FileNotFoundError:
                self._remove_locked(digest)
                return None
            if self._changed_locked(digest, info):
                self._remove_locked(digest)
                return None
            size = info.st_size
            # A file without a row was moved into place (after verification) by a process
            # that stopped before recording it: adopt it.
            self._execute(
                "INSERT INTO blobs (digest, size, last_access) VALUES (?, ?, ?) "
                "ON CONFLICT (digest) DO UPDATE SET last_access = excluded.last_access",
                (digest, size, self._tick()),
            )
        return path

    def path_for_many(self, digests: Iterable[str]) -> dict[str, Path]:
        """:meth:`path_for` for many digests: the cached ones' paths, all marked recently
        used (in the order given) in one transaction."""
        found, gone = self._files_of(digests)
        if not found and not gone:
            return {}
        with self._lock:
            self._drop_changed_locked(found)
            tick = self._tick(len(found))
            with immediate(self._conn) as conn:
                conn.executemany("DELETE FROM blobs WHERE digest = ?", gone)
                conn.executemany("DELETE FROM shared WHERE digest = ?", gone)
                conn.executemany(
                    "INSERT INTO blobs (digest, size, last_access) VALUES (?, ?, ?) "
                    "ON CONFLICT (digest) DO UPDATE SET last_access = excluded.last_access",
                    [
                        (digest, info.st_size, tick + n)
                        for n, (digest, (_path, info)) in enumerate(found.items())
                    ],
                )
        return {digest: Path(path) for digest, (path, _info) in found.items()}

    def share(self, digest: str) -> SharedFile | None:
        """The blob's file, to be hard-linked into a user's folder; None when not cached.

        From now on the cache trusts the file only while its size and modification time
        stay what they are now: the user may change their file in place, which changes
        this one. Call it before making the link, so a crash cannot leave a link the cache
        does not know about.
        """
        return self.share_many([digest]).get(digest)

    def share_many(self, digests: Iterable[str]) -> dict[str, SharedFile]:
        """:meth:`share` for many blobs, in one transaction: the files of those cached."""
        found, gone = self._files_of(digests)
        with self._lock:
            self._drop_changed_locked(found)
            with immediate(self._conn) as conn:
                conn.executemany("DELETE FROM blobs WHERE digest = ?", gone)
                conn.executemany("DELETE FROM shared WHERE digest = ?", gone)
                conn.executemany(
                    "INSERT OR IGNORE INTO shared (digest, size, mtime_ns) VALUES (?, ?, ?)",
                    [(d, info.st_size, info.st_mtime_ns) for d, (_path, info) in found.items()],
                )
        return {d: SharedFile(Path(path), info.st_ino) for d, (path, info) in found.items()}

    def _files_of(
        self, digests: Iterable[str]
    ) -> tuple[dict[str, tuple[str, os.stat_result]], list[tuple[str]]]:
        """Each digest's file (a plain string: three Path objects per blob cost as much as
        the rest) with its stat, where there is one; and the digests without a file."""
        root = str(self.root)
        found: dict[str, tuple[str, os.stat_result]] = {}
        gone: list[tuple[str]] = []
        for digest in digests:
            hex_digest = b64_to_hex(digest)
            path = f"{root}/{hex_digest[:2]}/{hex_digest}"
            try:
                found[digest] = (path, os.stat(path))
            except FileNotFoundError:
                gone.append((digest,))
        return found, gone

    def _drop_changed_locked(self, found: dict[str, tuple[str, os.stat_result]]) -> None:
        """Forget, and take out of ``found``, the shared blobs whose file has changed."""
        infos = {digest: info for digest, (_path, info) in found.items()}
        for digest in self._changed_many_locked(infos):
            del found[digest]
            self._remove_locked(digest)

    def total_bytes(self) -> int:
        """Bytes held by the cached blobs."""
        with self._lock:
            row = self._conn.execute("SELECT COALESCE(SUM(size), 0) FROM blobs").fetchone()
        return int(row[0])

    # -- writing ------------------------------------------------------------------------

    def put_stream(
        self,
        digest: str,
        chunks: Iterable[Chunk],
        *,
        size: int | None = None,
        on_bytes: Callable[[int], None] | None = None,
        is_cancelled: CancelCheck | None = None,
        copy_to: CopyTarget | None = None,
        release: Callable[[Chunk], object] | None = None,
        direct: bool = False,
        checksum: str | None = None,
        evict: bool = True,
    ) -> Path:
        """Store the bytes of ``chunks`` as ``digest``, verified; returns the blob path.

        Raises IntegrityError if the bytes do not match and CancelledError if cancelled; in
        both cases nothing is left behind. ``copy_to``, a file the caller opened, receives
        every chunk as well, so the same bytes land in a second place in the same pass; they
        are verified once this returns (on an error the caller discards that file). Without
        it, a blob already in the cache is returned without reading ``chunks``.
        ``release(chunk)`` runs once a chunk is written and hashed: its buffer is free again.
        ``direct`` writes the cache file past the page cache where it can (see BlobFile).
        ``checksum``: the XXH3-128 (hex) the store took of the digest's verified bytes; the
        bytes are checked against it instead of against the MD5, which costs far more.
        ``evict=False`` leaves the cache over its limit (the caller calls :meth:`trim`), so
        the blob stays at least until the caller has used it.
        """
        final = self.blob_path(digest)
        existing = self.path_for(digest) if copy_to is None else None
        if existing is not None:
            return existing
        tmp = self._temp_path(final.name)
        try:
            with BlobFile(tmp, direct) as stream:
                written = self._write_verified(
                    digest,
                    stream,
                    chunks,
                    size,
                    on_bytes,
                    is_cancelled,
                    copy_to,
                    release,
                    checksum=checksum,
                )
            self._install(digest, tmp, written, evict=evict)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return final

    def _write_verified(
        self,
        digest: str,
        stream: BlobFile,
        chunks: Iterable[Chunk],
        size: int | None,
        on_bytes: Callable[[int], None] | None,
        is_cancelled: CancelCheck | None,
        copy_to: CopyTarget | None,
        release: Callable[[Chunk], object] | None,
        *,
        done: Iterable[bytes] = (),
        checksum: str | None = None,
    ) -> int:
        """Write ``chunks`` to ``stream`` (and ``copy_to``) and check the digest (or the
        store's ``checksum`` of its bytes); returns the byte count. ``done``: bytes the file
        already holds, hashed (and copied) first."""
        written = 0
        hashing: contextlib.AbstractContextManager[Md5Like] = (
            md5_for(size or 0) if checksum is None else contextlib.nullcontext(checksum_hasher())
        )
        with hashing as hasher:
            for kept in done:
                check_cancelled(is_cancelled, f"caching {digest}")
                if copy_to is not None:
                    copy_to.write(kept)
                hasher.update(kept)
                written += len(kept)
                if on_bytes is not None:
                    on_bytes(len(kept))
            with contextlib.ExitStack() as finish:
                # Stopped early (cancel, error): end the source now, which closes its
                # connection, rather than whenever the garbage collector gets to it.
                close = getattr(chunks, "close", None)
                if close is not None:
                    finish.callback(close)
                # A large blob written past the page cache: the writes wait for the disk
                # on a thread of their own, as the hashing does, while this one reads the
                # next chunk (and copies it to ``copy_to``, through the page cache).
                behind = None
                if stream.direct and (checksum is not None or isinstance(hasher, BackgroundMd5)):
                    behind = WriteBehind(stream)
                    finish.callback(behind.finish)
                for chunk in chunks:
                    check_cancelled(is_cancelled, f"caching {digest}")
                    # The chunk's buffer is free again once the threads are done with
                    # it; this loop is done with it before it asks for the next chunk.
                    countdown = Countdown(1 + (behind is not None), release, chunk)
                    if behind is None:
                        stream.write(chunk)
                    else:
                        behind.write(chunk, countdown)
                    if copy_to is not None:
                        copy_to.write(chunk)
                    if isinstance(hasher, BackgroundMd5):
                        hasher.update(chunk, countdown)
                    else:
                        hasher.update(chunk)
                        countdown()
                    written += len(chunk)
                    if on_bytes is not None:
                        on_bytes(len(chunk))
            check_cancelled(is_cancelled, f"caching {digest}")
            if checksum is None:
                expected, got = digest, b64_of(hasher)
            else:
                expected, got = f"XXH3-128 {checksum}", f"XXH3-128 {hasher.hexdigest()}"
        if got != expected or (size is not None and written != size):
            expected_size = "" if size is None else f", {size} bytes"
            raise IntegrityError(
                f"downloaded content for digest {digest} does not match: expected "
                f"{expected}{expected_size}, got {got}, {written} bytes; the source is "
                "corrupt or changed, try the download again"
            )
        # No fsync: this is a cache. Every entry was verified as it was written, and a
        # copy out of the cache is verified again unless it is that fresh.
        return written

    def _install(self, digest: str, tmp: Path, size: int, *, evict: bool = True) -> None:
        """Move a verified temp file into place and record it; evict if over the cap."""
        final = self.blob_path(digest)
        final.parent.mkdir(exist_ok=True)
        with self._lock:
            os.replace(tmp, final)
            tick = self._tick()
            with immediate(self._conn) as conn:
                conn.execute(
                    "INSERT INTO blobs (digest, size, last_access) VALUES (?, ?, ?) "
                    "ON CONFLICT (digest) DO UPDATE SET size = excluded.size, "
                    "last_access = excluded.last_access",
                    (digest, size, tick),
                )
                conn.execute("DELETE FROM shared WHERE digest = ?", (digest,))  # a new file
        if evict and self.max_bytes >= 0 and self.total_bytes() > self.max_bytes:
            self.evict()

    def put_into(
        self,
        digest: str,
        fill: Callable[[Iterator[memoryview]], Iterable[memoryview]],
        *,
        size: int | None = None,
        on_bytes: Callable[[int], None] | None = None,
        is_cancelled: CancelCheck | None = None,
        copy_to: CopyTarget | None = None,
    ) -> Path:
        """:meth:`put_stream` for a source that fills buffers it is lent (``read_blob_into``).

        A few buffers go round between the source, the files and the hasher, instead of a
        new object per chunk: at a GiB per second, the page faults of fresh memory cost
        more than the copies.
        """
        chunks, give_back = lend_buffers(fill)
        return self.put_stream(
            digest,
            chunks,
            size=size,
            on_bytes=on_bytes,
            is_cancelled=is_cancelled,
            copy_to=copy_to,
            release=give_back,
            direct=True,
        )

    def partial_path(self, digest: str) -> Path:
        """Where :meth:`put_resumable` keeps the bytes of ``digest`` received so far."""
        return self._tmp_dir / f"{b64_to_hex(digest)}.partial"

    def put_resumable(
        self,
        digest: str,
        read_from: Callable[[int], Iterable[Chunk]],
        *,
        size: int,
        fill: Callable[[Iterator[memoryview]], Iterable[memoryview]] | None = None,
        on_bytes: Callable[[int], None] | None = None,
        is_cancelled: CancelCheck | None = None,
        copy_to: CopyTarget | None = None,
        checksum: str | None = None,
        shared: bool = False,
        evict: bool = True,
    ) -> Path:
        """:meth:`put_stream` whose bytes survive a cancel, a failure or a crash.

        The bytes go to ``tmp/<hex>.partial`` (one name per digest), which stays when the
        transfer stops; the next call for the digest hashes what it holds and asks
        ``read_from(offset)`` only for the rest (an HTTP ``Range``). ``fill``, when given,
        is used instead of ``read_from(0)`` for a transfer that starts from zero (as
        :meth:`put_into`). The whole blob is verified before it becomes visible; a partial
        longer than ``size``, or one that ends in a mismatch, is discarded and the blob
        fetched again from zero, once. A bad source (a mismatch from zero) leaves no
        partial. ``copy_to`` receives every byte, those of the partial first. When another
        writer (thread or process) holds the partial, this works as :meth:`put_stream`.
        Partials nobody finishes go with the other stale temp files after a day.
        ``shared``: the file is to become a user's file as well (:meth:`share`), so it is
        written through the page cache, as any file the user reads next. ``evict`` as for
        :meth:`put_stream`.
        """
        if copy_to is None and (existing := self.path_for(digest)) is not None:
            return existing
        with PartialClaim(self.partial_path(digest), self._claimed, self._lock) as claim:
            if not claim.held:
                chunks, release = (read_from(0), None) if fill is None else lend_buffers(fill)
                return self.put_stream(
                    digest,
                    chunks,
                    size=size,
                    on_bytes=on_bytes,
                    is_cancelled=is_cancelled,
                    copy_to=copy_to,
                    release=release,
                    direct=fill is not None and not shared,
                    checksum=checksum,
                    evict=evict,
                )
            start = claim.size()
            if start > size:
                start = 0  # not this blob's bytes: truncated below
            try:
                return self._finish_partial(
                    digest,
                    claim.path,
                    start,
                    read_from,
                    fill,
                    size,
                    on_bytes,
                    is_cancelled,
                    copy_to,
                    checksum,
                    shared=shared,
                    evict=evict,
                )
            except IntegrityError:
                if start == 0:
                    claim.discard()
                    raise
            # The kept bytes were wrong (a crash of the machine can leave zeros): from zero,
            # into the same file (truncated), which this claim still locks.
            if copy_to is not None:
                copy_to.seek(0)
                copy_to.truncate()
            try:
                return self._finish_partial(
                    digest,
                    claim.path,
                    0,
                    read_from,
                    fill,
                    size,
                    on_bytes,
                    is_cancelled,
                    copy_to,
                    checksum,
                    shared=shared,
                    evict=evict,
                )
            except IntegrityError:
                claim.discard()
                raise

    def _finish_partial(
        self,
        digest: str,
        path: Path,
        start: int,
        read_from: Callable[[int], Iterable[Chunk]],
        fill: Callable[[Iterator[memoryview]], Iterable[memoryview]] | None,
        size: int,
        on_bytes: Callable[[int], None] | None,
        is_cancelled: CancelCheck | None,
        copy_to: CopyTarget | None,
        checksum: str | None,
        *,
        shared: bool,
        evict: bool,
    ) -> Path:
        release: Callable[[Chunk], object] | None = None
        chunks: Iterable[Chunk]
        if start == size:
            chunks = ()  # all there: a crash came between the last write and the rename
        elif start == 0 and fill is not None:
            chunks, release = lend_buffers(fill)
        else:
            chunks = read_from(start)
        with BlobFile(path, direct=start == 0 and not shared, keep=start) as stream:
            written = self._write_verified(
                digest,
                stream,
                chunks,
                size,
                on_bytes,
                is_cancelled,
                copy_to,
                release,
                done=read_prefix(path, start),
                checksum=checksum,
            )
        self._install(digest, path, written, evict=evict)
        return self.blob_path(digest)

    def put_many(
        self, blobs: Sequence[tuple[str, bytes]], *, verified: bool = False, evict: bool = True
    ) -> dict[str, Path]:
        """Store many small blobs ``(digest, bytes)``, each verified, in one transaction.

        ``verified``: the caller has just checked every blob's bytes against its digest
        (as ``HttpBackend.read_blobs`` does), so they are not hashed a second time.
        ``evict`` as for :meth:`put_stream`.
        """
        if not verified:
            for digest, data in blobs:
                if md5_b64(data) != digest:
                    raise IntegrityError(
                        f"downloaded content for digest {digest} does not match it; the "
                        "source is corrupt or changed, try the download again"
                    )
        # Plain strings for the file names: three Path objects per 4 KiB blob cost about
        # as much as writing it.
        root, tmp_dir = str(self.root), str(self._tmp_dir)
        staged: list[tuple[str, str, str, int]] = []
        placed: dict[str, Path] = {}
        renamed = 0
        try:
            for digest, data in blobs:
                hex_digest = b64_to_hex(digest)
                tmp = f"{tmp_dir}/{hex_digest}.{self._temp_suffix()}"
                _write_new(tmp, data)
                staged.append((digest, hex_digest, tmp, len(data)))
            rows = []
            # Each file was checked before it is renamed in, so a crash leaves only right
            # bytes in place (without a row: path_for adopts them); no lock needed.
            for digest, hex_digest, tmp, size in staged:
                final = f"{root}/{hex_digest[:2]}/{hex_digest}"
                try:
                    os.replace(tmp, final)
                except FileNotFoundError:  # the first blob under this prefix (or no tmp)
                    os.makedirs(f"{root}/{hex_digest[:2]}", exist_ok=True)
                    os.replace(tmp, final)
                renamed += 1
                placed[digest] = Path(final)
                rows.append((digest, size))
            with self._lock:
                tick = self._tick(len(rows))  # one query per batch; each row one tick later
                with immediate(self._conn) as conn:
                    conn.executemany(
                        "INSERT INTO blobs (digest, size, last_access) VALUES (?, ?, ?) "
                        "ON CONFLICT (digest) DO UPDATE SET size = excluded.size, "
                        "last_access = excluded.last_access",
                        [(digest, size, tick + n) for n, (digest, size) in enumerate(rows)],
                    )
                    if self._any_shared_locked():  # files renamed over shared ones are new
                        conn.executemany(
                            "DELETE FROM shared WHERE digest = ?", [(d,) for d, _n in rows]
                        )
        finally:
            for _digest, _hex, tmp, _size in staged[renamed:]:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        if evict:
            self.trim()
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
                read_chunks(stream),
                size=os.fstat(stream.fileno()).st_size,
                on_bytes=on_bytes,
                is_cancelled=is_cancelled,
            )

    # -- pins and eviction --------------------------------------------------------------

    def pin(self, key: str, digests: Iterable[str]) -> None:
        """Keep ``digests`` from eviction until ``unpin(key)``; e.g. key = a version id."""
        with self._lock, immediate(self._conn) as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO pins (pin_key, digest) VALUES (?, ?)",
                ((key, digest) for digest in digests),
            )

    def unpin(self, key: str) -> None:
        """Release the pins held under ``key``."""
        self._execute("DELETE FROM pins WHERE pin_key = ?", (key,))

    def pinned_digests(self) -> set[str]:
        """Every digest some key pins."""
        with self._lock:
            rows = self._conn.execute("SELECT DISTINCT digest FROM pins").fetchall()
        return {str(row[0]) for row in rows}

    def pinned_bytes(self, exclude: Iterable[str] = ()) -> int:
        """Bytes of the cached blobs some key pins, leaving out the ``exclude`` digests."""
        skip = set(exclude)
        with self._lock:
            rows = self._conn.execute(
                "SELECT digest, size FROM blobs WHERE digest IN (SELECT digest FROM pins)"
            ).fetchall()
        return sum(int(size) for digest, size in rows if digest not in skip)

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

    def trim(self) -> int:
        """Evict down to ``max_bytes`` when over it (a negative limit: no limit); returns
        the bytes freed."""
        return 0 if self.max_bytes < 0 else self.evict()

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
            self.blob_path(digest).unlink()  # a user's file linked to it stays
        with immediate(self._conn) as conn:
            conn.execute("DELETE FROM blobs WHERE digest = ?", (digest,))
            conn.execute("DELETE FROM shared WHERE digest = ?", (digest,))

    def _any_shared_locked(self) -> bool:
        return self._conn.execute("SELECT 1 FROM shared LIMIT 1").fetchone() is not None

    def _changed_locked(self, digest: str, info: os.stat_result) -> bool:
        """Whether the blob's file was shared and has changed since (see :meth:`share`)."""
        row = self._conn.execute(
            "SELECT size, mtime_ns FROM shared WHERE digest = ?", (digest,)
        ).fetchone()
        return row is not None and (row[0], row[1]) != (info.st_size, info.st_mtime_ns)

    def _changed_many_locked(self, infos: dict[str, os.stat_result]) -> list[str]:
        """:meth:`_changed_locked` for many blobs, a few queries in all."""
        if not infos or not self._any_shared_locked():
            return []
        changed = []
        digests = list(infos)
        for start in range(0, len(digests), _QUERY_BATCH):
            batch = digests[start : start + _QUERY_BATCH]
            marks = ",".join("?" * len(batch))
            rows = self._conn.execute(
                f"SELECT digest, size, mtime_ns FROM shared WHERE digest IN ({marks})", batch
            ).fetchall()
            for digest, size, mtime_ns in rows:
                info = infos[digest]
                if (size, mtime_ns) != (info.st_size, info.st_mtime_ns):
                    changed.append(str(digest))
        return changed

    def _execute(self, sql: str, params: tuple[object, ...]) -> None:
        with self._lock:
            self._conn.execute(sql, params)

    def _tick(self, count: int = 1) -> int:
        """A strictly increasing access time in nanoseconds (clocks can be coarse); the
        ``count`` times from the one returned are reserved for the caller."""
        with self._lock:
            row = self._conn.execute("SELECT COALESCE(MAX(last_access), 0) FROM blobs").fetchone()
            first = max(time.time_ns(), self._last_access + 1, int(row[0]) + 1)
            self._last_access = first + max(count, 1) - 1
            return first

    def _temp_path(self, name: str) -> Path:
        """A new temp file for ``name`` (``tmp/<name>.<suffix>``)."""
        return self._tmp_dir / f"{name}.{self._temp_suffix()}"

    def _temp_suffix(self) -> str:
        """Unique per process and cache object, without asking the system for random
        bytes per file; next() on a count is atomic."""
        return f"{self._temp_names}-{next(self._temp_count)}.part"

    def _remove_stale_temp_files(self) -> None:
        cutoff = time.time() - STALE_TEMP_SECONDS
        for entry in self._tmp_dir.iterdir():
            with contextlib.suppress(OSError):
                if entry.stat().st_mtime < cutoff:
                    entry.unlink()


def _write_new(path: str, data: bytes) -> None:
    """Create ``path`` (it must not exist) holding ``data``: three system calls, where
    ``Path.write_bytes`` makes a few more per file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _OPEN_BINARY, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
