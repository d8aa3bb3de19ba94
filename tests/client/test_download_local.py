"""Downloads from the embedded store: copies of its large blobs are checked against the
store's XXH3-128 checksum, and a blob damaged on disk is caught all the same."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from md5_counter import md5_bytes_counted

from desktop_app.backends.local import LocalBackend
from desktop_app.client.content_cache import ContentCache
from desktop_app.client.download import download_version
from desktop_app.client.files import collect
from desktop_app.client.upload import hash_local_files, upload_version
from desktop_app.core.digests import md5_b64
from desktop_app.core.errors import IntegrityError
from desktop_app.core.records import VersionInfo

BIG = os.urandom((3 << 20) + 5)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalBackend]:
    backend = LocalBackend(tmp_path / "store")
    yield backend
    backend.close()


@pytest.fixture
def version(store: LocalBackend, tmp_path: Path) -> VersionInfo:
    src = tmp_path / "src"
    src.mkdir()
    (src / "model.bin").write_bytes(BIG)
    (src / "notes.txt").write_bytes(b"trained for 3 epochs")
    manifest, sources = hash_local_files(collect(src), None, workers=2)
    return upload_version(store, "proj", "model", "model", manifest, sources).version


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[ContentCache]:
    with ContentCache(tmp_path / "cache", max_bytes=1 << 30) as content_cache:
        yield content_cache


def test_a_large_copy_is_checked_against_the_stores_checksum_not_md5(
    store: LocalBackend,
    version: VersionInfo,
    cache: ContentCache,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with md5_bytes_counted(monkeypatch) as hashed:
        download_version(store, version, tmp_path / "out", cache)

    assert (tmp_path / "out" / "model.bin").read_bytes() == BIG
    assert (tmp_path / "out" / "notes.txt").read_bytes() == b"trained for 3 epochs"
    assert sum(hashed) < len(BIG)  # the small file is still checked against its MD5


def test_a_large_blob_damaged_in_the_store_is_caught_and_nothing_placed(
    store: LocalBackend, version: VersionInfo, cache: ContentCache, tmp_path: Path
) -> None:
    blob = store.local_blob_paths("proj", [md5_b64(BIG)])[md5_b64(BIG)]
    os.chmod(blob, 0o644)
    with open(blob, "r+b") as stream:  # one byte flipped, the size kept
        stream.seek(1 << 20)
        byte = stream.read(1)
        stream.seek(1 << 20)
        stream.write(bytes([byte[0] ^ 0xFF]))

    with pytest.raises(IntegrityError, match="XXH3-128"):
        download_version(store, version, tmp_path / "out", cache)

    assert not (tmp_path / "out" / "model.bin").exists()
    assert [p.name for p in (tmp_path / "out").rglob(".*")] == []
