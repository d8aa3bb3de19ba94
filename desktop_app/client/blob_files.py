"""Files behind the content cache: temp files written with or without O_DIRECT, writing
on a helper thread, claims on kept partial downloads, and lent buffers."""

from __future__ import annotations

import contextlib
import errno
import mmap
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple, Protocol

from desktop_app.core.digests import (
    CHUNK_SIZE,
    Chunk,
)
from desktop_app.core.errors import IntegrityError

# Buffers lent to a source by put_into: more than a background hasher queues (8), plus
# the one being filled and the one being hashed.
POOL_BUFFERS = 12
_O_DIRECT = getattr(os, "O_DIRECT", 0)
_DIRECT_BLOCK = 4096  # O_DIRECT wants lengths in whole blocks of the device (512 or 4096)
_OPEN_BINARY = getattr(os, "O_BINARY", 0)


class SharedFile(NamedTuple):
    """A cached blob's file as it was when it was shared with a user's folder: a link made
    to ``path`` is that file only while the link's inode is ``inode``."""

    path: Path
    inode: int


class CopyTarget(Protocol):
    """Where a download's bytes also go, in the same pass as into the cache."""

    def write(self, chunk: Chunk, /) -> object: ...

    def seek(self, offset: int, /) -> object: ...

    def truncate(self) -> object: ...


class BlobFile:
    """The temp file of a blob being cached, written with plain ``write`` calls.

    With ``direct`` (on Linux, where the file system allows it) the writes bypass the
    page cache (O_DIRECT) while the chunks are whole 4 KiB blocks in page-aligned buffers,
    as :meth:`ContentCache.put_into` lends them; the first chunk that is not (the last one)
    goes through the page cache, as does everything after it. A cached copy is read again
    rarely, if ever, and the pages it would take (a GiB for a GiB) are what the copy in the
    user's folder needs; on virtual machines that hand free memory back to the host, new
    pages are slower to fill than a disk is to write.
    """

    def __init__(self, path: Path, direct: bool, *, keep: int | None = None) -> None:
        if keep is None:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _OPEN_BINARY, 0o666)
        else:
            # A partial: the first ``keep`` bytes stay, writing goes on after them.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | _OPEN_BINARY, 0o666)
            try:
                os.ftruncate(fd, keep)
                os.lseek(fd, keep, os.SEEK_SET)
            except BaseException:
                os.close(fd)
                raise
        self._use(fd, direct, owned=True)

    @classmethod
    def over(cls, fd: int) -> BlobFile:
        """Write to a file the caller opened and closes (a download's file in the user's
        folder), through the page cache as any copy tool writes it."""
        self = cls.__new__(cls)
        self._use(fd, False, owned=False)
        return self

    def _use(self, fd: int, direct: bool, *, owned: bool) -> None:
        self._fd, self._owned = fd, owned
        self._direct = False
        if direct and _O_DIRECT and sys.platform.startswith("linux"):
            with contextlib.suppress(OSError):  # e.g. EINVAL where the file system cannot
                self._set_direct(True)
                self._direct = True

    def __enter__(self) -> BlobFile:
        return self

    @property
    def direct(self) -> bool:
        """Whether writes still bypass the page cache."""
        return self._direct

    def __exit__(self, *exc_info: object) -> None:
        if self._owned:
            os.close(self._fd)

    def seek(self, offset: int) -> None:
        os.lseek(self._fd, offset, os.SEEK_SET)

    def truncate(self) -> None:
        """Cut the file at the current position (to write it again from there)."""
        os.ftruncate(self._fd, os.lseek(self._fd, 0, os.SEEK_CUR))

    def write(self, chunk: Chunk) -> None:
        view = memoryview(chunk).cast("B")
        if self._direct and len(view) % _DIRECT_BLOCK:
            self._stop_direct()
        while view:
            try:
                count = os.write(self._fd, view)
            except OSError as exc:
                if not (self._direct and exc.errno == errno.EINVAL):
                    raise
                self._stop_direct()  # a buffer or block size the device refuses
                continue
            view = view[count:]

    def write_many(self, chunks: list[Chunk]) -> None:
        """Write ``chunks`` in order: one ``writev`` for a run of whole blocks (a disk
        written past the page cache takes one large write faster than many small ones)."""
        views = [memoryview(chunk).cast("B") for chunk in chunks]
        if not self._direct or len(views) == 1 or any(len(v) % _DIRECT_BLOCK for v in views):
            for view in views:
                self.write(view)
            return
        total = sum(len(view) for view in views)
        try:
            count = os.writev(self._fd, views)
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
            count = 0  # a buffer or block size the device refuses: one by one, below
        if count == total:
            return
        for view in views:  # what a short write left, through write's own rules
            if count >= len(view):
                count -= len(view)
                continue
            self.write(view[count:])
            count = 0

    def _stop_direct(self) -> None:
        self._set_direct(False)
        self._direct = False

    def _set_direct(self, on: bool) -> None:
        import fcntl

        flags = fcntl.fcntl(self._fd, fcntl.F_GETFL)
        flags = flags | _O_DIRECT if on else flags & ~_O_DIRECT
        fcntl.fcntl(self._fd, fcntl.F_SETFL, flags)


class Countdown:
    """Calls ``release(chunk)`` (if given) on the ``count``-th call."""

    def __init__(self, count: int, release: Callable[[Chunk], object] | None, chunk: Chunk):
        self._left = count
        self._lock = threading.Lock()
        self._release = release
        self._chunk = chunk

    def __call__(self) -> None:
        with self._lock:
            self._left -= 1
            last = self._left == 0
        if last and self._release is not None:
            self._release(self._chunk)


class WriteBehind:
    """Writes the chunks to a file on a thread of its own; ``finish`` raises its error."""

    def __init__(self, stream: BlobFile, queue_chunks: int = 8) -> None:
        self._stream = stream
        self._queue: queue.Queue[tuple[Chunk, Callable[[], None]] | None] = queue.Queue(
            maxsize=queue_chunks
        )
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="cache-write", daemon=True)
        self._thread.start()
        self._finished = False

    def _run(self) -> None:
        # Whatever has queued up while the disk took the last write goes in one writev:
        # when the disk is the slower side, the writes grow and this thread wakes less.
        ending = False
        while not ending:
            item = self._queue.get()
            batch: list[tuple[Chunk, Callable[[], None]]] = []
            while item is not None:
                batch.append(item)
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            else:
                ending = True
            if batch and self._error is None:  # after an error, only hand the buffers back
                try:
                    self._stream.write_many([chunk for chunk, _ in batch])
                except BaseException as exc:  # raised by finish()
                    self._error = exc
            for _, then in batch:
                then()

    def write(self, chunk: Chunk, then: Callable[[], None]) -> None:
        """Write ``chunk`` (which must not change until then), then call ``then()``."""
        if self._error is not None:
            self.finish()
        self._queue.put((chunk, then))

    def finish(self) -> None:
        """Wait for the queued writes; raise the first error one of them met."""
        if not self._finished:
            self._finished = True
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error


class PartialClaim:
    """The right to write one partial file: only one writer per digest at a time.

    Threads of this process see each other in ``claimed``; other processes through an
    exclusive ``flock`` on the file where there is one (on other systems a second process
    may write the same partial, and its digest check then fails and starts over).
    """

    def __init__(self, path: Path, claimed: set[Path], lock: threading.RLock) -> None:
        self.path = path
        self._claimed = claimed
        self._lock = lock
        self._fd: int | None = None
        self.held = False

    def __enter__(self) -> PartialClaim:
        with self._lock:
            if self.path in self._claimed:
                return self
            self._claimed.add(self.path)
        self.held = True
        try:
            self._lock_file()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _lock_file(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: threads of this process only
            return
        fd = os.open(self.path, os.O_RDONLY | os.O_CREAT | _OPEN_BINARY, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # The holder before us may have renamed its file into the cache meanwhile.
            if os.fstat(fd).st_ino != os.stat(self.path).st_ino:
                raise BlockingIOError
        except OSError:
            os.close(fd)
            self.release()
            return
        self._fd = fd

    def size(self) -> int:
        """Bytes the partial holds (0 when there is none)."""
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def discard(self) -> None:
        """Remove the partial's bytes (they are not the blob's)."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def release(self) -> None:
        with self._lock:
            self._claimed.discard(self.path)
        self.held = False

    def __exit__(self, *exc_info: object) -> None:
        if not self.held:
            return
        if self.size() == 0:
            self.discard()  # nothing received: no empty file left behind
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self.release()


def lend_buffers(
    fill: Callable[[Iterator[memoryview]], Iterable[memoryview]],
) -> tuple[Iterable[memoryview], Callable[[Chunk], None]]:
    """The chunks ``fill`` yields into a few lent buffers, and the call giving one back."""
    free: queue.SimpleQueue[memoryview] = queue.SimpleQueue()
    for _ in range(POOL_BUFFERS):
        free.put(memoryview(mmap.mmap(-1, CHUNK_SIZE)))  # page-aligned, for O_DIRECT

    def lend() -> Iterator[memoryview]:
        while True:
            yield free.get()  # waits while every buffer is still being hashed

    def give_back(chunk: Chunk) -> None:
        if isinstance(chunk, memoryview):
            free.put(memoryview(chunk.obj))  # the whole buffer, not the filled part

    return fill(lend()), give_back


def read_prefix(path: Path, length: int) -> Iterator[bytes]:
    """The first ``length`` bytes of ``path``, in chunks."""
    if length == 0:
        return
    with open(path, "rb") as stream:
        left = length
        while left and (chunk := stream.read(min(CHUNK_SIZE, left))):
            left -= len(chunk)
            yield chunk
    if left:
        raise IntegrityError(f"the partial download {path} shrank while it was read; try again")


def read_chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK_SIZE):
        yield chunk
