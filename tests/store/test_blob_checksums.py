"""The checksums table (schema 3) on real databases: upgrade, garbage collection, re-uploads.

The store keeps the XXH3-128 of each blob uploaded on its own; these tests read the
``blob_checksums`` table directly, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import xxhash
from pg_support import postgres_schema
from sqlalchemy import create_engine, select, text

from desktop_app.core.digests import b64_to_hex, md5_b64
from desktop_app.core.manifest import Manifest, ManifestEntry
from desktop_app.core.records import VersionInfo
from desktop_app.store import Store
from desktop_app.store import schema as s

P = "team/checksums"


@contextlib.contextmanager
def _database(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'meta.sqlite3'}"
    else:
        with postgres_schema("checksums") as url:
            yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with _database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> Iterator[Store]:
    store = Store(db_url, tmp_path / "blobs", pack_small_blobs=True)  # as the server opens it
    try:
        yield store
    finally:
        store.close()


def _xxh3(data: bytes) -> str:
    return xxhash.xxh3_128(data).hexdigest()


def _log_alone(store: Store, name: str, files: dict[str, bytes], project: str = P) -> VersionInfo:
    """Draft, upload each missing blob on its own (as large files go), commit."""
    manifest = Manifest([ManifestEntry(p, md5_b64(d), len(d)) for p, d in files.items()])
    draft = store.create_draft(project, name, "dataset", manifest)
    by_digest = {md5_b64(d): d for d in files.values()}
    for digest in draft.missing:
        store.upload_blob(project, digest, len(by_digest[digest]), [by_digest[digest]])
    return store.commit(draft.version.id)


def _rows(store: Store) -> dict[str, str]:
    """The ``blob_checksums`` table: hex digest -> XXH3-128."""
    with store.engine.connect() as conn:
        return {row.digest: row.xxh3 for row in conn.execute(select(s.blob_checksums))}


def test_a_blob_uploaded_alone_gets_one_row_of_its_xxh3(store: Store) -> None:
    data = b"large enough to go on its own " * 100
    _log_alone(store, "data", {"big.bin": data})

    assert _rows(store) == {b64_to_hex(md5_b64(data)): _xxh3(data)}


def test_uploading_a_blob_again_keeps_one_row(store: Store) -> None:
    data = b"sent again and again " * 50
    digest = md5_b64(data)
    _log_alone(store, "data", {"a.bin": data})

    store.upload_blob(P, digest, len(data), [data])  # the same project sends it again
    _log_alone(store, "data", {"a.bin": data}, project="team/elsewhere")  # and another one
    store.upload_blob("team/elsewhere", digest, len(data), [data[:10], data[10:]])

    assert _rows(store) == {b64_to_hex(digest): _xxh3(data)}
    assert store.blob_checksums("team/elsewhere", [digest]) == {digest: _xxh3(data)}


def test_a_blob_first_sent_in_a_batch_gets_its_row_when_sent_alone(store: Store) -> None:
    data = b"first in a batch, then alone"
    digest = md5_b64(data)
    store.create_run(P)  # the project must exist
    store.upload_blobs(P, [(digest, data)])
    assert _rows(store) == {}

    store.upload_blob(P, digest, len(data), [data])

    assert _rows(store) == {b64_to_hex(digest): _xxh3(data)}
    assert store.blob_checksums(P, [digest]) == {digest: _xxh3(data)}


def test_gc_of_a_dead_blob_removes_its_row(store: Store) -> None:
    dead, kept = b"only in the deleted version " * 40, b"in both versions " * 40
    v0 = _log_alone(store, "data", {"dead.bin": dead, "kept.bin": kept})
    _log_alone(store, "keeper", {"kept.bin": kept})
    store.delete_version(v0.id)

    report = store.gc()

    assert report.blobs_removed == 1
    assert _rows(store) == {b64_to_hex(md5_b64(kept)): _xxh3(kept)}
    assert store.blob_checksums(P, [md5_b64(dead), md5_b64(kept)]) == {md5_b64(kept): _xxh3(kept)}
    _log_alone(store, "again", {"dead.bin": dead})  # sent again after gc: a fresh row
    assert _rows(store)[b64_to_hex(md5_b64(dead))] == _xxh3(dead)


def test_concurrent_uploads_of_the_same_blob_leave_one_row(store: Store) -> None:
    data = b"the same large file in three projects " * 200
    digest = md5_b64(data)
    projects = ("team/one", "team/two", "team/three")
    for project in projects:
        store.create_run(project)
    errors: list[BaseException] = []

    def send(project: str) -> None:
        try:
            store.upload_blob(project, digest, len(data), [data])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(p,)) for p in projects]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert _rows(store) == {b64_to_hex(digest): _xxh3(data)}
    for project in projects:
        assert store.blob_checksums(project, [digest]) == {digest: _xxh3(data)}


def test_a_schema_2_database_is_upgraded_and_its_old_blobs_have_no_checksum(
    db_url: str, tmp_path: Path
) -> None:
    old, new = b"stored before the upgrade " * 30, b"stored after the upgrade " * 30
    store = Store(db_url, tmp_path / "blobs", pack_small_blobs=True)
    _log_alone(store, "data", {"old.bin": old})
    store.close()
    # What schema 2 wrote: every table but blob_checksums, and version 2.
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE blob_checksums"))
        conn.execute(text("UPDATE schema_info SET version = 2"))

    store = Store(db_url, tmp_path / "blobs", pack_small_blobs=True)
    try:
        assert store.blob_checksums(P, [md5_b64(old)]) == {}  # held, but taken before
        assert store.missing_blobs(P, [md5_b64(old)]) == []
        _log_alone(store, "data", {"old.bin": old, "new.bin": new})  # needs the new table
        assert store.blob_checksums(P, [md5_b64(old), md5_b64(new)]) == {md5_b64(new): _xxh3(new)}
        store.upload_blob(P, md5_b64(old), len(old), [old])  # an old blob sent alone again
        assert _rows(store) == {
            b64_to_hex(md5_b64(old)): _xxh3(old),
            b64_to_hex(md5_b64(new)): _xxh3(new),
        }
    finally:
        store.close()
    with engine.begin() as conn:
        assert conn.execute(select(s.schema_info.c.version)).scalar_one() == s.SCHEMA_VERSION == 3
    engine.dispose()
