"""The folder blob store: one file per content digest, written so that none is ever partial.

A large upload streams into ``uploads/<scope>/<hex>.part`` while its MD5 is computed; only
when all the bytes are there and match is the file fsynced, renamed to ``objects/ab/<hex>``
and the folder fsynced. A ``.part`` file is the resumable state: its size is the upload's
offset. ``scope`` keeps one project's partial uploads invisible to another.

Small blobs arrive in batches: each is verified in memory, all are written, the file system
is synced once, then all are renamed into place and synced again. A store may instead keep
each batch in one pack file, ``packs/<id>.pack`` (the blobs one after another): one file
and one sync per batch instead of one per blob. Where a packed blob lies is kept in the
metadata database, which is what makes it readable; a pack that a crash left unrecorded
is removed by garbage collection.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import secrets
import shutil
import sys
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from desktop_app.core.digests import BackgroundMd5, checksum_hasher
from desktop_app.core.errors import IntegrityError, OffsetMismatchError

Bytes = bytes | memoryview
"""A blob's bytes: the server passes views into a batch's body rather than copies."""

if sys.platform != "win32":  # POSIX: lock a blob's upload across processes
    import fcntl

CHUNK_SIZE = 1 << 20


def fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_files(folder: Path, files: Sequence[Path]) -> None:
    """Make ``files`` (all under ``folder``) durable: one ``syncfs`` on Linux, else fsyncs."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(folder, os.O_RDONLY)
        try:
            if libc.syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    for path in files:  # pragma: no cover - other systems, or syncfs failed
        with open(path, "rb+") as stream:
            os.fsync(stream.fileno())
    for parent in {p.parent for p in files}:  # pragma: no cover
        fsync_dir(parent)


@dataclass(frozen=True)
class Extent:
    """Where a blob's bytes are: ``size`` bytes of the file ``path`` from ``offset``."""

    path: Path
    offset: int
    size: int
    packed: bool = False


class BlobStore:
    """Content-addressed files under ``root``, keyed by hex MD5."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.objects = root / "objects"
        self.uploads = root / "uploads"
        self.packs = root / "packs"
        self.objects.mkdir(parents=True, exist_ok=True)
        self.uploads.mkdir(parents=True, exist_ok=True)
        self.packs.mkdir(exist_ok=True)
        for prefix in range(256):  # all fan-out folders now, not a mkdir per blob later
            (self.objects / f"{prefix:02x}").mkdir(exist_ok=True)
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def path(self, hex_digest: str) -> Path:
        return self.objects / hex_digest[:2] / hex_digest

    def _part(self, scope: str, hex_digest: str) -> Path:
        return self.uploads / scope / f"{hex_digest}.part"

    def offset(self, scope: str, hex_digest: str) -> int:
        """Bytes an interrupted upload in ``scope`` already holds (0 when none)."""
        try:
            return self._part(scope, hex_digest).stat().st_size
        except FileNotFoundError:
            return 0

    def write(
        self,
        scope: str,
        hex_digest: str,
        size: int,
        chunks: Iterable[bytes],
        *,
        offset: int = 0,
    ) -> str | None:
        """Append ``chunks`` from ``offset``; once the verified blob is in place, return its
        fast checksum (see ``checksum_hasher``).

        Returns None when the chunks ended before ``size`` bytes (the part is kept, so a
        later call resumes from ``offset()``). Raises ``OffsetMismatchError`` for a wrong
        offset and ``IntegrityError`` (keeping nothing) when the bytes do not match.
        """
        part = self._part(scope, hex_digest)
        part.parent.mkdir(exist_ok=True)
        with self._lock(scope, hex_digest), self._file_lock(part):
            current = self.offset(scope, hex_digest)
            if offset != current:
                raise OffsetMismatchError(
                    f"upload of blob {hex_digest} was sent from byte {offset}, but the store "
                    f"holds {current} bytes of it; resume from byte {current}",
                    expected=current,
                )
            with BackgroundMd5() as hasher:
                return self._append(part, hex_digest, size, current, chunks, hasher)

    def _append(
        self,
        part: Path,
        hex_digest: str,
        size: int,
        current: int,
        chunks: Iterable[bytes],
        hasher: BackgroundMd5,
    ) -> str | None:
        """Hash what the part holds, append the new chunks, and place the blob when whole."""
        checksum = checksum_hasher()
        if current:
            with open(part, "rb") as done:
                while block := done.read(CHUNK_SIZE):
                    hasher.update(block)
                    checksum.update(block)
        written = current
        with open(part, "ab") as out:
            try:
                for chunk in chunks:
                    written += len(chunk)
                    if written > size:
                        raise IntegrityError(
                            f"blob {hex_digest} received more than the {size} bytes "
                            "announced; the upload was discarded, send it again"
                        )
                    out.write(chunk)
                    hasher.update(chunk)
                    checksum.update(chunk)
            except IntegrityError:
                out.close()
                part.unlink(missing_ok=True)
                raise
            out.flush()
            if written < size:
                return None
            os.fsync(out.fileno())
        got = hasher.hexdigest()
        if got != hex_digest:
            part.unlink(missing_ok=True)
            raise _mismatch(hex_digest, got)
        self._place(part, hex_digest)
        fsync_dir(self.path(hex_digest).parent)
        return checksum.hexdigest()

    def write_many(
        self, blobs: Sequence[tuple[str, Bytes]], *, recorded: Collection[str] = ()
    ) -> None:
        """Store small blobs ``(hex digest, bytes)``; all are verified before any is kept.

        Blobs in ``recorded`` (complete, known to the metadata database) are skipped. The
        rest are written straight to their final names when those are free: a blob is
        readable only once the database records it, after the sync below, so a file cut
        short by a crash is never served and is simply written again (through a temporary
        file and a rename, since the name is then taken).
        """
        verify_blobs(blobs)
        batch = self.uploads / f"batch-{secrets.token_hex(8)}"
        written: list[Path] = []
        renames: list[tuple[Path, str]] = []
        try:
            for hex_digest, data in blobs:
                if hex_digest in recorded:
                    continue
                final = self.path(hex_digest)
                try:
                    fd = os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                except FileExistsError:  # left by a crash, or another upload right now
                    batch.mkdir(exist_ok=True)
                    tmp = batch / hex_digest
                    tmp.write_bytes(data)
                    renames.append((tmp, hex_digest))
                    continue
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                written.append(final)
            if not written and not renames:
                return
            sync_files(self.root, written + [tmp for tmp, _ in renames])
            for tmp, hex_digest in renames:
                self._place(tmp, hex_digest)
            if renames:
                sync_files(self.root, [self.path(h) for _, h in renames])
        finally:
            shutil.rmtree(batch, ignore_errors=True)

    def write_pack(
        self, blobs: Sequence[tuple[str, Bytes]], *, verified: bool = False
    ) -> tuple[str, dict[str, int]]:
        """Store blobs ``(hex digest, bytes)`` together in a new pack file, synced.

        All are verified before anything is written (unless the caller just did). Returns
        the pack's id and where each blob starts in it (a digest given twice is stored once).
        """
        if not verified:
            verify_blobs(blobs)
        offsets: dict[str, int] = {}
        parts: list[Bytes] = []
        position = 0
        for hex_digest, data in blobs:
            if hex_digest not in offsets:
                offsets[hex_digest] = position
                parts.append(data)
                position += len(data)
        pack = secrets.token_hex(16)
        path = self.pack_path(pack)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            with os.fdopen(fd, "wb") as out:
                out.writelines(parts)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        fsync_dir(self.packs)
        return pack, offsets

    def pack_path(self, pack: str) -> Path:
        return self.packs / f"{pack}.pack"

    def loose_extent(self, hex_digest: str) -> Extent | None:
        """The blob's own file, or None when there is none."""
        path = self.path(hex_digest)
        try:
            return Extent(path, 0, path.stat().st_size)
        except FileNotFoundError:
            return None

    def pack_files(self) -> dict[str, tuple[int, float]]:
        """``pack id -> (size, mtime)`` of every pack file."""
        found = {}
        for path in self.packs.glob("*.pack"):
            with contextlib.suppress(FileNotFoundError):
                info = path.stat()
                found[path.stem] = (info.st_size, info.st_mtime)
        return found

    def delete_pack(self, pack: str) -> int:
        """Remove a pack file; return the bytes freed."""
        return _unlink(self.pack_path(pack))

    def read_extent(
        self, extent: Extent, *, start: int = 0, chunk_size: int = CHUNK_SIZE
    ) -> Iterator[bytes]:
        """Stream a blob's bytes from byte ``start``; the file is opened before this returns."""
        stream = open(extent.path, "rb")  # noqa: SIM115 - closed by the generator
        return _stream(stream, start, chunk_size, offset=extent.offset, size=extent.size)

    def read_extents(self, extents: Sequence[Extent]) -> list[bytes]:
        """The bytes of each extent, opening each file once."""
        by_file: dict[Path, list[int]] = {}
        for index, extent in enumerate(extents):
            by_file.setdefault(extent.path, []).append(index)
        found: list[bytes] = [b""] * len(extents)
        for path, indexes in by_file.items():
            with open(path, "rb") as stream:
                for index in sorted(indexes, key=lambda i: extents[i].offset):
                    extent = extents[index]
                    data = os.pread(stream.fileno(), extent.size, extent.offset)
                    if len(data) != extent.size:
                        raise IntegrityError(
                            f"{path} ends before the {extent.size} bytes at {extent.offset}; "
                            "the blob store is damaged, restore it from a backup"
                        )
                    found[index] = data
        return found

    def _place(self, tmp: Path, hex_digest: str) -> None:
        # Replacing a blob that is already there swaps identical bytes: harmless, and one
        # system call cheaper than checking first.
        os.replace(tmp, self.path(hex_digest))

    def delete(self, hex_digest: str) -> int:
        """Remove the blob; return the bytes freed."""
        return _unlink(self.path(hex_digest))

    def partial_uploads(self) -> list[tuple[Path, float]]:
        """``(path, mtime)`` of every partial upload and leftover lock or batch."""
        found = []
        for scope in self.uploads.iterdir():
            for path in scope.iterdir() if scope.is_dir() else [scope]:
                with contextlib.suppress(FileNotFoundError):
                    found.append((path, path.stat().st_mtime))
        return found

    def remove_partial(self, path: Path) -> int:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
            return 0
        return _unlink(path)

    def _lock(self, scope: str, hex_digest: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault((scope, hex_digest), threading.Lock())

    @contextlib.contextmanager
    def _file_lock(self, part: Path) -> Iterator[None]:
        if sys.platform == "win32":  # pragma: no cover - the in-process lock must do
            yield
            return
        # The lock file stays: unlinking it could let two processes lock different inodes.
        fd = os.open(part.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def verify_blobs(blobs: Iterable[tuple[str, Bytes]]) -> None:
    """Raise ``IntegrityError`` for the first blob whose bytes do not hash to its digest."""
    for hex_digest, data in blobs:
        got = hashlib.md5(data).hexdigest()
        if got != hex_digest:
            raise _mismatch(hex_digest, got)


def _mismatch(expected: str, got: str) -> IntegrityError:
    return IntegrityError(
        f"the bytes sent for blob {expected} hash to {got}; the file changed or was "
        "corrupted on the way. Nothing was kept; hash the file again and upload it"
    )


def _unlink(path: Path) -> int:
    try:
        size = path.stat().st_size
        path.unlink()
    except FileNotFoundError:
        return 0
    return size


def _stream(
    stream: BinaryIO, start: int, chunk_size: int, *, offset: int = 0, size: int | None = None
) -> Iterator[bytes]:
    """Chunks of ``stream`` from ``offset + start``, up to ``size`` bytes after ``offset``."""
    with stream:
        if offset + start:
            stream.seek(offset + start)
        left = None if size is None else max(size - start, 0)
        while left is None or left > 0:
            chunk = stream.read(chunk_size if left is None else min(chunk_size, left))
            if not chunk:
                if left:  # a pack or blob file cut short: never pass off fewer bytes as whole
                    raise IntegrityError(
                        f"the stored copy in {Path(stream.name).name} ends {left} bytes early; "
                        "it is damaged: upload the file again"
                    )
                return
            if left is not None:
                left -= len(chunk)
            yield chunk
