"""Choosing what to download (several files and folders) and keeping a version offline,
against the embedded store and the real server over a socket."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_server import LiveServer

from desktop_app.backends.http import HttpBackend
from desktop_app.backends.local import LocalBackend
from desktop_app.backends.protocol import Backend
from desktop_app.client.content_cache import ContentCache
from desktop_app.client.download import cache_version, download_version
from desktop_app.client.files import collect
from desktop_app.client.upload import hash_local_files, upload_version
from desktop_app.core.digests import md5_b64
from desktop_app.core.errors import ValidationError
from desktop_app.core.records import VersionInfo

FILES = {
    "README.md": b"readme",
    "train/a.bin": b"a" * 1000,
    "train/b.bin": b"b" * 2000,
    "train/sub/c.bin": b"c" * 3000,
    "test/d.bin": os.urandom(3 << 20),  # a large blob: streamed, not batched
    "test/e.bin": b"e" * 10,
    "trainer.py": b"print('x')",  # shares the prefix "train" but is not under train/
}


def publish(backend: Backend, files: dict[str, bytes], tmp_path: Path) -> VersionInfo:
    src = tmp_path / "src"
    for path, data in files.items():
        (src / path).parent.mkdir(parents=True, exist_ok=True)
        (src / path).write_bytes(data)
    manifest, sources = hash_local_files(collect(src), None, workers=2)
    return upload_version(backend, "proj", "data", "dataset", manifest, sources).version


def placed(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(params=["local", "http"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "local":
        local = LocalBackend(tmp_path / "store")
        yield local
        local.close()
        return
    server: LiveServer = request.getfixturevalue("live_server")
    with HttpBackend(server.url, server.key) as http:
        yield http


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[ContentCache]:
    with ContentCache(tmp_path / "cache", max_bytes=1 << 30) as content_cache:
        yield content_cache


def test_several_files_and_folders_are_placed_and_nothing_else(
    backend: Backend, cache: ContentCache, tmp_path: Path
) -> None:
    version = publish(backend, FILES, tmp_path)
    out = tmp_path / "out"

    report = download_version(
        backend, version, out, cache, paths=["train", "test/d.bin", "README.md", "train/a.bin"]
    )

    wanted = ["README.md", "train/a.bin", "train/b.bin", "train/sub/c.bin", "test/d.bin"]
    assert placed(out) == {path: FILES[path] for path in wanted}
    assert report.files == len(wanted)  # train/a.bin twice (itself, under train/) is one file


def test_a_folder_given_with_a_trailing_slash_and_path_prefix_add_up(
    backend: Backend, cache: ContentCache, tmp_path: Path
) -> None:
    version = publish(backend, FILES, tmp_path)
    out = tmp_path / "out"

    download_version(backend, version, out, cache, paths=["train/sub/"], path_prefix="test")

    wanted = ["train/sub/c.bin", "test/d.bin", "test/e.bin"]
    assert placed(out) == {path: FILES[path] for path in wanted}


def test_path_prefix_alone_still_works(
    backend: Backend, cache: ContentCache, tmp_path: Path
) -> None:
    version = publish(backend, FILES, tmp_path)
    out = tmp_path / "out"

    download_version(backend, version, out, cache, path_prefix="train")

    assert sorted(placed(out)) == ["train/a.bin", "train/b.bin", "train/sub/c.bin"]


def test_unknown_paths_are_named_and_nothing_is_written(
    backend: Backend, cache: ContentCache, tmp_path: Path
) -> None:
    version = publish(backend, FILES, tmp_path)
    out = tmp_path / "out"

    with pytest.raises(ValidationError) as info:
        download_version(backend, version, out, cache, paths=["train", "nope", "tra", "test/x"])

    message = str(info.value)
    for unknown in ("'nope'", "'tra'", "'test/x'"):
        assert unknown in message
    assert "'train'" not in message
    assert "artifact-desk files" in message
    assert not out.exists()


def test_empty_paths_mean_the_whole_version(
    backend: Backend, cache: ContentCache, tmp_path: Path
) -> None:
    version = publish(backend, FILES, tmp_path)

    download_version(backend, version, tmp_path / "out", cache, paths=[])

    assert placed(tmp_path / "out") == FILES


def test_cache_version_over_http_fills_the_cache_and_places_nothing(
    live_server: LiveServer, cache: ContentCache, tmp_path: Path
) -> None:
    with HttpBackend(live_server.url, live_server.key) as backend:
        version = publish(backend, FILES, tmp_path)
        progress: list[tuple[int, int]] = []

        digests = cache_version(
            backend, version, cache, on_progress=lambda done, total: progress.append((done, total))
        )

    assert digests == {md5_b64(data) for data in FILES.values()}
    for data in FILES.values():
        path = cache.path_for(md5_b64(data))
        assert path is not None
        assert path.read_bytes() == data
    assert progress[-1] == (sum(map(len, FILES.values())),) * 2
    assert not (tmp_path / "artifacts").exists()
    cache.pin(version.id, digests)
    assert cache.evict(0) == 0  # pinned: nothing goes


def test_cache_version_fetches_only_what_the_cache_lacks(
    live_server: LiveServer, cache: ContentCache, tmp_path: Path
) -> None:
    with HttpBackend(live_server.url, live_server.key) as backend:
        version = publish(backend, FILES, tmp_path)
        cache.put_stream(md5_b64(FILES["test/d.bin"]), [FILES["test/d.bin"]])
        progress: list[tuple[int, int]] = []

        cache_version(
            backend, version, cache, on_progress=lambda done, total: progress.append((done, total))
        )

    assert progress[-1][1] == sum(map(len, FILES.values())) - len(FILES["test/d.bin"])


def test_cache_version_on_the_embedded_store_copies_nothing(
    cache: ContentCache, tmp_path: Path
) -> None:
    backend = LocalBackend(tmp_path / "store")
    version = publish(backend, FILES, tmp_path)

    digests = cache_version(backend, version, cache)
    backend.close()

    assert digests == {md5_b64(data) for data in FILES.values()}
    assert cache.total_bytes() == 0  # the store's own blobs are on this machine already


def test_cache_version_refuses_a_version_the_cache_limit_cannot_hold(
    live_server: LiveServer, tmp_path: Path
) -> None:
    with (
        ContentCache(tmp_path / "small-cache", max_bytes=1 << 20) as cache,
        HttpBackend(live_server.url, live_server.key) as backend,
    ):
        version = publish(backend, FILES, tmp_path)

        with pytest.raises(ValidationError, match="raise the cache limit"):
            cache_version(backend, version, cache)

        assert cache.total_bytes() == 0
