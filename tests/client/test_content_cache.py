import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from desktop_app.client.content_cache import ContentCache
from desktop_app.core.digests import b64_to_hex, md5_b64
from desktop_app.core.errors import CancelledError, IntegrityError, ValidationError


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[ContentCache]:
    with ContentCache(tmp_path / "blobs", max_bytes=1 << 30) as content_cache:
        yield content_cache


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.name.startswith("index.")]


def test_put_stream_then_path_for(cache: ContentCache) -> None:
    data = b"hello world"
    digest = md5_b64(data)
    path = cache.put_stream(digest, [b"hello ", b"world"], size=len(data))
    hex_digest = b64_to_hex(digest)
    assert path == cache.root / hex_digest[:2] / hex_digest
    assert path.read_bytes() == data
    assert cache.contains(digest)
    assert cache.path_for(digest) == path
    assert cache.total_bytes() == len(data)


def test_put_file(cache: ContentCache, tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(b"z" * (3 << 20))
    seen: list[int] = []
    path = cache.put_file(md5_b64(src.read_bytes()), src, on_bytes=seen.append)
    assert path.read_bytes() == src.read_bytes()
    assert sum(seen) == 3 << 20


def test_missing_digest(cache: ContentCache) -> None:
    digest = md5_b64(b"absent")
    assert not cache.contains(digest)
    assert cache.path_for(digest) is None


def test_bad_digest_is_a_validation_error(cache: ContentCache) -> None:
    with pytest.raises(ValidationError):
        cache.put_stream("not-a-digest", [b"x"])


def test_mismatch_leaves_no_file_and_no_row(cache: ContentCache) -> None:
    digest = md5_b64(b"expected")
    with pytest.raises(IntegrityError) as info:
        cache.put_stream(digest, [b"something else"])
    assert digest in str(info.value)
    assert md5_b64(b"something else") in str(info.value)
    assert stored_files(cache.root) == []
    assert not cache.contains(digest)
    assert cache.total_bytes() == 0


def test_size_mismatch_is_an_integrity_error(cache: ContentCache) -> None:
    with pytest.raises(IntegrityError, match="5 bytes"):
        cache.put_stream(md5_b64(b"abc"), [b"abc"], size=5)
    assert stored_files(cache.root) == []


def test_cancel_leaves_nothing(cache: ContentCache) -> None:
    data = [b"a" * 10, b"b" * 10, b"c" * 10]
    seen: list[int] = []
    with pytest.raises(CancelledError):
        cache.put_stream(
            md5_b64(b"".join(data)), data, on_bytes=seen.append, is_cancelled=lambda: bool(seen)
        )
    assert seen == [10]
    assert stored_files(cache.root) == []
    assert cache.total_bytes() == 0


def test_source_failure_leaves_nothing(cache: ContentCache) -> None:
    def broken() -> Iterator[bytes]:
        yield b"partial"
        raise ConnectionError("network down")

    with pytest.raises(ConnectionError):
        cache.put_stream(md5_b64(b"partial and more"), broken())
    assert stored_files(cache.root) == []


def test_lru_eviction_order(tmp_path: Path) -> None:
    blobs = {name: name.encode() * 100 for name in ("a", "b", "c", "d")}
    digests = {name: md5_b64(data) for name, data in blobs.items()}
    with ContentCache(tmp_path / "c", max_bytes=300) as cache:
        for name in ("a", "b", "c"):
            cache.put_stream(digests[name], [blobs[name]])
        assert cache.path_for(digests["a"]) is not None  # "a" is now the most recent
        cache.put_stream(digests["d"], [blobs["d"]])  # over the cap: the LRU one ("b") goes
        assert cache.contains(digests["a"])
        assert not cache.contains(digests["b"])
        assert cache.contains(digests["c"])
        assert cache.contains(digests["d"])
        assert cache.total_bytes() == 300
        assert cache.evict(100) == 200  # then "c" and "a"
        assert not cache.contains(digests["c"])
        assert not cache.contains(digests["a"])
        assert cache.contains(digests["d"])


def test_pinned_blobs_are_never_evicted(tmp_path: Path) -> None:
    with ContentCache(tmp_path / "c", max_bytes=10**6) as cache:
        kept = md5_b64(b"k" * 100)
        loose = md5_b64(b"l" * 100)
        cache.put_stream(kept, [b"k" * 100])
        cache.put_stream(loose, [b"l" * 100])
        cache.pin("version-1", [kept])
        assert cache.pinned_digests() == {kept}
        assert cache.evict(0) == 100
        assert cache.contains(kept)
        assert not cache.contains(loose)
        cache.unpin("version-1")
        assert cache.pinned_digests() == set()
        assert cache.evict(0) == 100
        assert cache.total_bytes() == 0


def test_pin_shared_between_keys(cache: ContentCache) -> None:
    digest = md5_b64(b"shared")
    cache.put_stream(digest, [b"shared"])
    cache.pin("v1", [digest])
    cache.pin("v2", [digest])
    cache.unpin("v1")
    assert cache.evict(0) == 0
    assert cache.contains(digest)


def test_automatic_eviction_keeps_pinned_even_when_over_cap(tmp_path: Path) -> None:
    with ContentCache(tmp_path / "c", max_bytes=50) as cache:
        digest = md5_b64(b"p" * 100)
        cache.pin("v", [digest])
        cache.put_stream(digest, [b"p" * 100])
        assert cache.contains(digest)


def test_concurrent_puts_of_the_same_digest(cache: ContentCache) -> None:
    data = os.urandom(256 * 1024)
    digest = md5_b64(data)
    start = threading.Barrier(8, timeout=10)
    results: list[Path] = []
    errors: list[BaseException] = []

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(data), 4096):
            yield data[i : i + 4096]

    def put() -> None:
        try:
            start.wait()
            # Skip the "already cached" shortcut for most threads by racing from the start.
            results.append(cache.put_stream(digest, chunks(), size=len(data)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=put) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(results)) == 1
    assert results[0].read_bytes() == data
    assert cache.total_bytes() == len(data)
    assert list((cache.root / "tmp").iterdir()) == []


def test_verify_removes_a_corrupt_blob(cache: ContentCache) -> None:
    digest = md5_b64(b"good bytes")
    path = cache.put_stream(digest, [b"good bytes"])
    assert cache.verify(digest)
    path.write_bytes(b"bad bytes!")
    assert not cache.verify(digest)
    assert not path.exists()
    assert not cache.contains(digest)
    assert cache.total_bytes() == 0


def test_remove(cache: ContentCache) -> None:
    digest = md5_b64(b"gone")
    path = cache.put_stream(digest, [b"gone"])
    cache.remove(digest)
    assert not path.exists()
    assert cache.path_for(digest) is None


def test_index_survives_reopening(tmp_path: Path) -> None:
    digest = md5_b64(b"persist")
    with ContentCache(tmp_path / "c", max_bytes=1000) as cache:
        cache.put_stream(digest, [b"persist"])
        cache.pin("v", [digest])
    with ContentCache(tmp_path / "c", max_bytes=1000) as cache:
        assert cache.contains(digest)
        assert cache.pinned_digests() == {digest}
        assert cache.total_bytes() == len(b"persist")


def test_blob_deleted_behind_our_back_is_forgotten(cache: ContentCache) -> None:
    digest = md5_b64(b"vanishing")
    cache.put_stream(digest, [b"vanishing"]).unlink()
    assert cache.path_for(digest) is None
    assert cache.total_bytes() == 0


Fill = Callable[[Iterator[memoryview]], Iterator[memoryview]]


def fill_from(data: bytes, used: list[int]) -> Fill:
    """A ``read_blob_into`` stand-in: fills each lent buffer from ``data``."""

    def fill(buffers: Iterator[memoryview]) -> Iterator[memoryview]:
        position = 0
        while position < len(data):
            buffer = next(buffers)
            used.append(id(buffer.obj))
            count = min(len(buffer), len(data) - position)
            buffer[:count] = data[position : position + count]
            position += count
            yield buffer[:count]

    return fill


def test_put_into_writes_the_cache_and_the_copy_from_a_few_reused_buffers(
    cache: ContentCache, tmp_path: Path
) -> None:
    data = os.urandom(40 << 20) + b"tail that is not a whole block"
    used: list[int] = []
    with open(tmp_path / "copy.bin", "wb") as copy:
        path = cache.put_into(md5_b64(data), fill_from(data, used), size=len(data), copy_to=copy)
    assert path.read_bytes() == data
    assert (tmp_path / "copy.bin").read_bytes() == data
    assert len(used) == 41
    assert len(set(used)) < len(used)  # buffers came back and went round again


def test_put_into_a_mismatch_leaves_nothing(cache: ContentCache, tmp_path: Path) -> None:
    data = os.urandom(20 << 20)
    with (
        open(tmp_path / "copy.bin", "wb") as copy,
        pytest.raises(IntegrityError, match="does not match"),
    ):
        cache.put_into(md5_b64(b"other"), fill_from(data, []), size=len(data), copy_to=copy)
    assert stored_files(cache.root) == []
    assert cache.total_bytes() == 0


def test_put_into_a_cancel_midway_leaves_nothing(cache: ContentCache) -> None:
    data = os.urandom(20 << 20)
    seen: list[int] = []
    with pytest.raises(CancelledError):
        cache.put_into(
            md5_b64(data),
            fill_from(data, []),
            size=len(data),
            on_bytes=seen.append,
            is_cancelled=lambda: len(seen) >= 5,
        )
    assert stored_files(cache.root) == []


# -- put_resumable: partial bytes kept across a cancel, a failure or a crash ----------------

RESUMABLE = os.urandom(3 << 20) + b"end"


class Source:
    """``read_from(start)`` over RESUMABLE (or other bytes), recording each start."""

    def __init__(self, data: bytes = RESUMABLE, *, fail_at: int | None = None) -> None:
        self.data = data
        self.fail_at = fail_at
        self.starts: list[int] = []

    def __call__(self, start: int) -> Iterator[bytes]:
        self.starts.append(start)
        for offset in range(start, len(self.data), 1 << 20):
            if self.fail_at is not None and offset >= self.fail_at:
                raise ConnectionError("network down")
            yield self.data[offset : offset + (1 << 20)]


def put(cache: ContentCache, source: Source, **kwargs: object) -> Path:
    return cache.put_resumable(
        md5_b64(RESUMABLE),
        source,
        size=len(RESUMABLE),
        **kwargs,  # type: ignore[arg-type]
    )


def test_put_resumable_keeps_the_bytes_of_a_failure_and_goes_on_from_them(
    cache: ContentCache, tmp_path: Path
) -> None:
    with pytest.raises(ConnectionError):
        put(cache, Source(fail_at=2 << 20))
    partial = cache.partial_path(md5_b64(RESUMABLE))
    assert partial.stat().st_size == 2 << 20
    assert not cache.contains(md5_b64(RESUMABLE))

    source, seen = Source(), []
    with open(tmp_path / "copy.bin", "wb") as copy:
        path = put(cache, source, copy_to=copy, on_bytes=seen.append)

    assert source.starts == [2 << 20]
    assert path.read_bytes() == RESUMABLE
    assert (tmp_path / "copy.bin").read_bytes() == RESUMABLE  # the kept bytes copied too
    assert sum(seen) == len(RESUMABLE)
    assert not partial.exists()
    assert list((cache.root / "tmp").iterdir()) == []


def test_put_resumable_keeps_the_bytes_of_a_cancel(cache: ContentCache) -> None:
    seen: list[int] = []
    with pytest.raises(CancelledError):
        put(cache, Source(), on_bytes=seen.append, is_cancelled=lambda: len(seen) >= 2)
    assert cache.partial_path(md5_b64(RESUMABLE)).stat().st_size == 2 << 20

    source = Source()
    assert put(cache, source).read_bytes() == RESUMABLE
    assert source.starts == [2 << 20]


def test_put_resumable_with_a_complete_partial_asks_for_nothing(cache: ContentCache) -> None:
    cache.partial_path(md5_b64(RESUMABLE)).write_bytes(RESUMABLE)  # crashed before the rename
    source = Source()
    assert put(cache, source).read_bytes() == RESUMABLE
    assert source.starts == []


def test_put_resumable_discards_a_wrong_or_too_long_partial(cache: ContentCache) -> None:
    partial = cache.partial_path(md5_b64(RESUMABLE))
    partial.write_bytes(b"\0" * (1 << 20))  # zeros, as a machine crash can leave
    source = Source()
    assert put(cache, source).read_bytes() == RESUMABLE
    assert source.starts == [1 << 20, 0]

    cache.remove(md5_b64(RESUMABLE))
    partial.write_bytes(RESUMABLE + b"more")
    source = Source()
    assert put(cache, source).read_bytes() == RESUMABLE
    assert source.starts == [0]
    assert not partial.exists()


def test_put_resumable_from_a_bad_source_leaves_no_partial(cache: ContentCache) -> None:
    bad = Source(RESUMABLE[:-3] + b"END")
    with pytest.raises(IntegrityError):
        put(cache, bad)
    assert bad.starts == [0]
    assert stored_files(cache.root) == []


def test_put_resumable_uses_fill_from_zero_and_read_from_after(cache: ContentCache) -> None:
    digest = md5_b64(RESUMABLE)
    with pytest.raises(CancelledError):
        cache.put_resumable(
            digest,
            Source(),
            size=len(RESUMABLE),
            fill=fill_from(RESUMABLE, used := []),
            is_cancelled=lambda: len(used) >= 2,
        )
    kept = cache.partial_path(digest).stat().st_size
    assert 0 < kept < len(RESUMABLE)

    source = Source()
    path = cache.put_resumable(digest, source, size=len(RESUMABLE), fill=fill_from(RESUMABLE, []))
    assert path.read_bytes() == RESUMABLE
    assert source.starts == [kept]


def test_put_resumable_while_another_writer_holds_the_partial(cache: ContentCache) -> None:
    digest = md5_b64(RESUMABLE)
    partial = cache.partial_path(digest)
    inner: list[Path] = []

    class Reentrant(Source):
        def __call__(self, start: int) -> Iterator[bytes]:
            if not inner:  # a second writer of the same digest, while this one holds it
                inner.append(put(cache, Source()))
                assert not partial.exists() or partial.stat().st_size == 0
            yield from super().__call__(start)

    assert put(cache, Reentrant()).read_bytes() == RESUMABLE
    assert inner[0].read_bytes() == RESUMABLE
    assert list((cache.root / "tmp").iterdir()) == []


def test_a_stale_partial_goes_with_the_other_temp_files(tmp_path: Path) -> None:
    with ContentCache(tmp_path / "c", max_bytes=1 << 30) as cache:
        with pytest.raises(ConnectionError):
            put(cache, Source(fail_at=1 << 20))
        partial = cache.partial_path(md5_b64(RESUMABLE))
    day_ago = partial.stat().st_mtime - 2 * 24 * 3600
    os.utime(partial, (day_ago, day_ago))
    with ContentCache(tmp_path / "c", max_bytes=1 << 30):
        assert not partial.exists()


def test_a_shared_blob_is_trusted_until_its_file_changes_then_cached_afresh(
    cache: ContentCache, tmp_path: Path
) -> None:
    data = os.urandom(1 << 20)
    digest = md5_b64(data)
    cache.put_stream(digest, [data], size=len(data))
    shared = cache.share(digest)
    assert shared is not None
    path = shared.path
    assert shared.inode == path.stat().st_ino
    users_file = tmp_path / "model.bin"
    os.link(path, users_file)
    assert cache.share(digest) == shared  # sharing again changes nothing

    info = users_file.stat()
    os.utime(users_file, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000))

    assert not cache.contains(digest)
    assert cache.share(digest) is None
    assert cache.total_bytes() == 0
    assert users_file.read_bytes() == data  # the user's file stays

    again = cache.put_stream(digest, [data], size=len(data))  # a new file, its own
    assert again == path
    assert not os.path.samefile(again, users_file)
    assert cache.path_for(digest) == again
    assert cache.total_bytes() == len(data)


def test_share_of_a_blob_not_cached_is_none(cache: ContentCache) -> None:
    assert cache.share(md5_b64(b"absent")) is None


def test_trim_keeps_everything_without_a_limit(tmp_path: Path) -> None:
    with ContentCache(tmp_path / "unlimited", max_bytes=-1) as unlimited:
        unlimited.put_stream(md5_b64(b"kept"), [b"kept"])
        assert unlimited.trim() == 0
        assert unlimited.contains(md5_b64(b"kept"))
