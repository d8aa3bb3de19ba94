"""The content cache's file writing: BlobFile.write_many and WriteBehind's batching.

Real files in the test's folder (O_DIRECT where its file system allows it, as the cache
uses it) and page-aligned buffers, as ``lend_buffers`` lends them.
"""

from __future__ import annotations

import errno
import mmap
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop_app.client import blob_files
from desktop_app.client.blob_files import BlobFile, WriteBehind
from desktop_app.core.digests import Chunk

BLOCK = 4096


def aligned(data: bytes) -> memoryview:
    """``data`` in a page-aligned buffer, as the cache's downloads fill them."""
    buffer = mmap.mmap(-1, max(len(data), 1))
    buffer[: len(data)] = data
    return memoryview(buffer)[: len(data)]


def blocks(count: int, seed: int = 0) -> list[bytes]:
    return [bytes([(seed + i) % 251]) * BLOCK * (1 + i % 3) for i in range(count)]


def test_write_many_writes_every_chunk_in_order(tmp_path: Path) -> None:
    target = tmp_path / "blob.tmp"
    chunks = blocks(6)
    with BlobFile(target, direct=True) as stream:
        stream.write_many([aligned(c) for c in chunks])
        stream.write_many([aligned(c) for c in blocks(2, seed=9)])
    assert target.read_bytes() == b"".join(chunks + blocks(2, seed=9))


def test_write_many_with_a_last_partial_block_leaves_direct_mode(tmp_path: Path) -> None:
    target = tmp_path / "blob.tmp"
    chunks = [*blocks(3), b"tail that is not a whole block"]
    with BlobFile(target, direct=True) as stream:
        stream.write_many([aligned(c) for c in chunks])
        assert not stream.direct  # the rest goes through the page cache
        stream.write_many([b"more"])
    assert target.read_bytes() == b"".join(chunks) + b"more"


def test_a_short_writev_is_finished_chunk_by_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A short write cannot be made to happen on a local disk on demand; this one replaces
    # os.writev by one that writes only the first chunk and a half (whole blocks).
    real_writev = os.writev
    calls: list[int] = []

    def short_writev(fd: int, views: list[memoryview]) -> int:
        calls.append(len(views))
        first = bytes(views[0]) + bytes(views[1][:BLOCK])
        return real_writev(fd, [aligned(first)])

    monkeypatch.setattr(blob_files.os, "writev", short_writev)
    chunks = [bytes([i]) * BLOCK * 2 for i in range(1, 5)]
    target = tmp_path / "blob.tmp"
    with BlobFile(target, direct=True) as stream:
        if not stream.direct:
            pytest.skip("this file system refuses O_DIRECT: write_many writes one by one")
        stream.write_many([aligned(c) for c in chunks])
    assert calls == [4]
    assert target.read_bytes() == b"".join(chunks)


def test_a_refused_writev_falls_back_to_single_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # EINVAL is what a device answers to sizes or buffers it cannot take past the page
    # cache; no disk here refuses these, so os.writev is replaced by one that says it.
    def refusing_writev(fd: int, views: list[memoryview]) -> int:
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(blob_files.os, "writev", refusing_writev)
    chunks = blocks(4, seed=3)
    target = tmp_path / "blob.tmp"
    with BlobFile(target, direct=True) as stream:
        stream.write_many([aligned(c) for c in chunks])
    assert target.read_bytes() == b"".join(chunks)


def test_other_writev_errors_are_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A full disk cannot be had on demand here: os.writev is replaced by one that says so.
    def full_writev(fd: int, views: list[memoryview]) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(blob_files.os, "writev", full_writev)
    with BlobFile(tmp_path / "blob.tmp", direct=True) as stream:
        if not stream.direct:
            pytest.skip("this file system refuses O_DIRECT: write_many writes one by one")
        with pytest.raises(OSError, match="No space left"):
            stream.write_many([aligned(c) for c in blocks(2)])


class GatedFile(BlobFile):
    """A BlobFile whose first write waits until the test opens the gate, so that the next
    chunks queue up behind it; it notes the size of every batch."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, direct=True)
        self.gate = threading.Event()
        self.batches: list[int] = []

    def write_many(self, chunks: list[Chunk]) -> None:
        self.gate.wait(10)
        self.batches.append(len(chunks))
        super().write_many(chunks)


def test_write_behind_writes_what_queued_up_in_one_batch(tmp_path: Path) -> None:
    target = tmp_path / "blob.tmp"
    chunks = blocks(7, seed=5)
    released: list[int] = []
    with GatedFile(target) as stream:
        behind = WriteBehind(stream, queue_chunks=8)
        for i, chunk in enumerate(chunks):
            behind.write(aligned(chunk), then(released, i))
        stream.gate.set()
        behind.finish()
        batches = stream.batches
    assert target.read_bytes() == b"".join(chunks)
    assert sorted(released) == list(range(7))  # every buffer handed back once
    assert sum(batches) == 7
    # Whatever the thread took before the gate opened, the rest queued up behind it.
    assert len(batches) <= 2


def test_write_behind_reports_an_error_and_still_hands_back_every_buffer(
    tmp_path: Path,
) -> None:
    class Failing(GatedFile):
        def write_many(self, chunks: list[Chunk]) -> None:
            self.gate.wait(10)
            raise OSError(errno.EIO, "Input/output error")

    released: list[int] = []
    with Failing(tmp_path / "blob.tmp") as stream:
        behind = WriteBehind(stream)
        for i, chunk in enumerate(blocks(5)):
            behind.write(aligned(chunk), then(released, i))
        stream.gate.set()
        with pytest.raises(OSError, match="Input/output error"):
            behind.finish()
    assert sorted(released) == list(range(5))


def then(released: list[int], i: int) -> Callable[[], None]:
    return lambda: released.append(i)
