"""A put sends small files with the bytes it hashed, instead of reading each file twice."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.backends.local import LocalBackend
from desktop_app.client import hashing, upload
from desktop_app.client.files import collect
from desktop_app.client.paths import AppPaths
from desktop_app.client.session import Client
from desktop_app.client.settings import Settings
from desktop_app.core.digests import md5_b64


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    home = tmp_path / "home"
    paths = AppPaths(home / "config", home / "data", home / "cache", home / "logs")
    with Client(paths=paths, settings=Settings(), backend=LocalBackend(tmp_path / "store")) as c:
        yield c


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the upload reads again to send them."""
    seen: list[str] = []
    real = upload._read_whole

    def counting(source: upload.Source, size: int) -> bytes:
        seen.append(str(source))
        return real(source, size)

    monkeypatch.setattr(upload, "_read_whole", counting)
    return seen


def _files(root: Path, count: int, size: int) -> dict[str, bytes]:
    root.mkdir(parents=True)
    contents = {f"f{i:03d}.bin": os.urandom(size) for i in range(count)}
    for name, data in contents.items():
        (root / name).write_bytes(data)
    return contents


def _stored(client: Client, version_id: str) -> dict[str, bytes]:
    backend = client.backend
    entries = backend.list_entries(version_id).items
    project = backend.get_version(version_id).project
    found = dict(backend.read_blobs(project, [e.digest for e in entries]))
    return {e.path: found[e.digest] for e in entries}


def test_small_files_are_sent_as_they_were_hashed(
    client: Client, tmp_path: Path, reads: list[str]
) -> None:
    contents = _files(tmp_path / "data", 40, 3000)

    result = client.put(tmp_path / "data", "p", "set", "dataset")

    assert reads == []  # every file read once, to hash it
    assert result.uploaded_files == 40
    assert _stored(client, result.version.id) == contents


def test_past_the_budget_files_are_read_again_and_still_right(
    client: Client, tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without an early sender (a put whose artifact has another type, or a queued upload),
    # the bytes wait for the draft: only KEEP_BYTES of them are kept.
    contents = _files(tmp_path / "data", 40, 3000)
    monkeypatch.setattr(hashing, "KEEP_BYTES", 10 * 3000)  # room for 10 of the 40
    kept: dict[str, bytes] = {}
    manifest, sources = upload.hash_local_files(
        collect(tmp_path / "data"), None, workers=2, contents=kept
    )
    assert len(kept) == 10

    result = upload.upload_version(
        client.backend, "p", "set", "dataset", manifest, sources, contents=kept
    )

    assert len(reads) == 30
    assert _stored(client, result.version.id) == contents


def test_a_file_known_to_the_hash_cache_is_read_to_be_sent(
    client: Client, tmp_path: Path, reads: list[str]
) -> None:
    # Hashed by an earlier put into another project: the hash cache answers, nothing is
    # kept, and the bytes are read when they are sent.
    contents = _files(tmp_path / "data", 5, 100)
    an_hour_ago = os.stat(tmp_path / "data").st_mtime - 3600
    for name in contents:  # the hash cache trusts only files not written just now
        os.utime(tmp_path / "data" / name, (an_hour_ago, an_hour_ago))
    client.put(tmp_path / "data", "first", "set", "dataset")
    assert reads == []

    result = client.put(tmp_path / "data", "second", "set", "dataset")

    assert sorted(Path(r).name for r in reads) == sorted(contents)
    assert _stored(client, result.version.id) == contents
    assert {md5_b64(d) for d in contents.values()} == {
        e.digest for e in client.backend.list_entries(result.version.id).items
    }
