"""The folder blob store: one file per content digest, written so that none is ever partial.

An upload streams into ``uploads/<hex>.part`` while its MD5 is computed; only when all the
bytes are there and match is the file fsynced, renamed to ``objects/ab/<hex>`` and the
folder fsynced. A ``.part`` file is the resumable state: its size is the upload's offset.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from desktop_app.core.errors import IntegrityError, NotFoundError, OffsetMismatchError

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


class BlobStore:
    """Content-addressed files under ``root``, keyed by hex MD5."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.objects = root / "objects"
        self.uploads = root / "uploads"
        self.objects.mkdir(parents=True, exist_ok=True)
        self.uploads.mkdir(parents=True, exist_ok=True)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def path(self, hex_digest: str) -> Path:
        return self.objects / hex_digest[:2] / hex_digest

    def exists(self, hex_digest: str) -> bool:
        return self.path(hex_digest).is_file()

    def size(self, hex_digest: str) -> int:
        return self.path(hex_digest).stat().st_size

    def _part(self, hex_digest: str) -> Path:
        return self.uploads / f"{hex_digest}.part"

    def offset(self, hex_digest: str) -> int:
        """Bytes an interrupted upload already holds (0 when none)."""
        try:
            return self._part(hex_digest).stat().st_size
        except FileNotFoundError:
            return 0

    def write(
        self, hex_digest: str, size: int, chunks: Iterable[bytes], *, offset: int = 0
    ) -> bool:
        """Append ``chunks`` from ``offset``; return True once the verified blob is in place.

        Returns False when the chunks ended before ``size`` bytes (the part is kept, so a
        later call resumes from ``offset()``). Raises ``OffsetMismatchError`` for a wrong
        offset and ``IntegrityError`` (keeping nothing) when the bytes do not match.
        """
        with self._lock(hex_digest), self._file_lock(hex_digest):
            part = self._part(hex_digest)
            current = self.offset(hex_digest)
            if offset != current:
                raise OffsetMismatchError(
                    f"upload of blob {hex_digest} was sent from byte {offset}, but the store "
                    f"holds {current} bytes of it; resume from byte {current}",
                    expected=current,
                )
            hasher = hashlib.md5()
            if current:
                with open(part, "rb") as done:
                    while block := done.read(CHUNK_SIZE):
                        hasher.update(block)
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
                except IntegrityError:
                    out.close()
                    part.unlink(missing_ok=True)
                    raise
                out.flush()
                if written < size:
                    return False
                os.fsync(out.fileno())
            if hasher.hexdigest() != hex_digest:
                part.unlink(missing_ok=True)
                raise IntegrityError(
                    f"the bytes sent for blob {hex_digest} hash to {hasher.hexdigest()}; "
                    "the file changed or was corrupted on the way. Nothing was kept; "
                    "hash the file again and upload it"
                )
            target = self.path(hex_digest)
            target.parent.mkdir(exist_ok=True)
            if target.exists():
                part.unlink()
            else:
                os.replace(part, target)
                fsync_dir(target.parent)
            return True

    def read(
        self, hex_digest: str, *, start: int = 0, chunk_size: int = CHUNK_SIZE
    ) -> Iterator[bytes]:
        """Stream the blob from byte ``start``."""
        try:
            stream = open(self.path(hex_digest), "rb")  # noqa: SIM115 - closed by the generator
        except FileNotFoundError:
            raise NotFoundError(f"blob {hex_digest} is not in the store") from None
        return _stream(stream, start, chunk_size)

    def delete(self, hex_digest: str) -> int:
        """Remove the blob and any partial upload; return the bytes freed."""
        freed = 0
        for path in (self.path(hex_digest), self._part(hex_digest)):
            with contextlib.suppress(FileNotFoundError):
                freed += path.stat().st_size
                path.unlink()
        return freed

    def partial_uploads(self) -> list[tuple[str, float]]:
        """``(hex digest, mtime)`` of every partial upload."""
        found = []
        for part in self.uploads.glob("*.part"):
            with contextlib.suppress(FileNotFoundError):
                found.append((part.name.removesuffix(".part"), part.stat().st_mtime))
        return found

    def _lock(self, hex_digest: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(hex_digest, threading.Lock())

    @contextlib.contextmanager
    def _file_lock(self, hex_digest: str) -> Iterator[None]:
        if sys.platform == "win32":  # pragma: no cover - the in-process lock must do
            yield
            return
        lock_path = self.uploads / f"{hex_digest}.lock"
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            # The lock file stays: unlinking it could let two processes lock different inodes.
            os.close(fd)


def _stream(stream: BinaryIO, start: int, chunk_size: int) -> Iterator[bytes]:
    with stream:
        if start:
            stream.seek(start)
        while chunk := stream.read(chunk_size):
            yield chunk
