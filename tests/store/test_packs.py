"""Pack files: small blobs sent in a batch kept together, on real files and real databases.

The server stores each batch of small blobs in one pack file; these tests drive the store
with packing on (as the server opens it), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_support import postgres_schema
from sqlalchemy import create_engine, insert, select, text

from desktop_app.core.digests import b64_to_hex, md5_b64
from desktop_app.core.errors import IntegrityError, NotFoundError, ValidationError
from desktop_app.core.manifest import Manifest, ManifestEntry
from desktop_app.core.records import VersionInfo
from desktop_app.store import Store
from desktop_app.store import schema as s

P = "team/packs"


@contextlib.contextmanager
def _sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(
        f"sqlite:///{tmp_path / 'meta.sqlite3'}", tmp_path / "blobs", pack_small_blobs=True
    )
    try:
        yield store
    finally:
        store.close()


@contextlib.contextmanager
def _postgres_store(tmp_path: Path) -> Iterator[Store]:
    with postgres_schema("packs") as url:
        store = Store(url, tmp_path / "blobs", pack_small_blobs=True)
        try:
            yield store
        finally:
            store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    make = _sqlite_store if request.param == "sqlite" else _postgres_store
    with make(tmp_path) as made:
        yield made


def _files(prefix: str, count: int, size: int = 300) -> dict[str, bytes]:
    return {
        f"{prefix}{i}.txt": (f"{prefix} file {i} ".encode() * size)[:size] for i in range(count)
    }


def _log(store: Store, name: str, files: dict[str, bytes], project: str = P) -> VersionInfo:
    """Draft, send the missing blobs in one batch (as the client does), commit."""
    manifest = Manifest([ManifestEntry(p, md5_b64(d), len(d)) for p, d in files.items()])
    draft = store.create_draft(project, name, "dataset", manifest)
    by_digest = {md5_b64(d): d for d in files.values()}
    if draft.missing:
        store.upload_blobs(project, [(d, by_digest[d]) for d in draft.missing])
    return store.commit(draft.version.id)


def _packs(store: Store) -> list[Path]:
    return sorted(store.blobs.packs.glob("*.pack"))


def _loose(store: Store) -> list[Path]:
    return [p for p in store.blobs.objects.rglob("*") if p.is_file()]


def test_a_batch_lands_in_one_pack_and_reads_back(store: Store) -> None:
    files = _files("a", 50)
    _log(store, "data", files)

    assert len(_packs(store)) == 1
    assert _loose(store) == []  # no file per blob
    assert _packs(store)[0].stat().st_size == sum(len(d) for d in files.values())
    digests = [md5_b64(d) for d in files.values()]
    wanted = [digests[7], digests[0], digests[49]]
    got = list(store.read_blobs(P, wanted))
    assert got == [(d, files[f"a{i}.txt"]) for d, i in zip(wanted, [7, 0, 49], strict=True)]
    whole = files["a3.txt"]
    assert b"".join(store.read_blob(P, digests[3])) == whole
    assert b"".join(store.read_blob(P, digests[3], start=100, chunk_size=7)) == whole[100:]
    assert b"".join(store.read_blob(P, digests[3], start=len(whole))) == b""
    extent = store.blob_extents(P, [digests[3]])[digests[3]]
    assert extent.packed
    assert extent.size == len(whole)
    assert store.local_blob_paths(P, digests) == {}  # packed blobs have no file of their own


def test_blobs_already_stored_are_not_packed_again(store: Store) -> None:
    files = _files("b", 20)
    _log(store, "data", files)
    before = _packs(store)

    store.upload_blobs(P, [(md5_b64(d), d) for d in files.values()])  # sent again anyway
    _log(store, "other", files, project="team/elsewhere")  # another project, same bytes

    assert _packs(store) == before
    assert b"".join(store.read_blob("team/elsewhere", md5_b64(files["b5.txt"]))) == files["b5.txt"]


def test_a_wrong_blob_in_a_batch_keeps_nothing(store: Store) -> None:
    good = b"good bytes" * 10
    store.create_run(P)  # the project must exist
    with pytest.raises(IntegrityError, match="hash to"):
        store.upload_blobs(P, [(md5_b64(good), good), (md5_b64(b"claimed"), b"sent instead")])

    assert _packs(store) == []
    assert store.blob_extents(P, [md5_b64(good)]) == {}


def test_a_lost_pack_is_reported_missing_and_sent_again(store: Store) -> None:
    files = _files("c", 10)
    _log(store, "data", files)
    _packs(store)[0].unlink()  # a disk fault, an admin's mistake

    manifest = Manifest([ManifestEntry(p, md5_b64(d), len(d)) for p, d in files.items()])
    draft = store.create_draft(P, "data-again", "dataset", manifest)
    assert sorted(draft.missing) == sorted(md5_b64(d) for d in files.values())
    store.upload_blobs(P, [(md5_b64(d), d) for d in files.values()])
    store.commit(draft.version.id)

    assert len(_packs(store)) == 1  # the newest copy wins
    assert b"".join(store.read_blob(P, md5_b64(files["c4.txt"]))) == files["c4.txt"]


def test_gc_rewrites_a_mostly_dead_pack_and_removes_a_dead_one(store: Store) -> None:
    keep = {"keep.txt": b"still used " * 30}
    doomed = _files("d", 9)
    v0 = _log(store, "mixed", {**keep, **doomed})  # one pack: 1 live blob of 10 after v0 goes
    _log(store, "keeper", keep)
    gone = _log(store, "gone", _files("e", 5))  # a pack of its own, all dead after delete
    assert len(_packs(store)) == 2
    store.delete_version(v0.id)
    store.delete_version(gone.id)

    report = store.gc()

    dead_bytes = sum(len(d) for d in doomed.values()) + 5 * 300
    assert report.blobs_removed == 14
    assert report.bytes_freed == dead_bytes
    (rewritten,) = _packs(store)
    assert rewritten.stat().st_size == len(keep["keep.txt"])
    assert b"".join(store.read_blob(P, md5_b64(keep["keep.txt"]))) == keep["keep.txt"]
    with pytest.raises(NotFoundError):
        b"".join(store.read_blob(P, md5_b64(doomed["d1.txt"])))
    assert store.gc().bytes_freed == 0


def test_gc_keeps_a_mostly_live_pack(store: Store) -> None:
    files = _files("f", 10)
    v0 = _log(store, "data", files)
    _log(store, "most", {k: files[k] for k in list(files)[:8]})
    store.delete_version(v0.id)

    report = store.gc()

    assert report.blobs_removed == 2
    assert report.bytes_freed == 0  # 80% live: not worth a rewrite yet
    assert len(_packs(store)) == 1


def test_a_read_opened_before_a_rewrite_finishes(store: Store) -> None:
    big = {"big.txt": b"x" * 5000}
    v0 = _log(store, "data", {**big, **_files("g", 30)})
    _log(store, "keep", big)
    stream = store.read_blob(P, md5_b64(big["big.txt"]), chunk_size=100)
    first = next(stream)
    store.delete_version(v0.id)

    store.gc()  # rewrites the pack under the open read and removes the old file

    assert first + b"".join(stream) == big["big.txt"]
    assert b"".join(store.read_blob(P, md5_b64(big["big.txt"]))) == big["big.txt"]


def test_a_pack_a_crash_left_unrecorded_is_removed_once_stale(store: Store) -> None:
    data = b"written, then the server died before recording it"
    pack, _offsets = store.blobs.write_pack([(b64_to_hex(md5_b64(data)), data)])
    path = store.blobs.pack_path(pack)

    assert store.gc().bytes_freed == 0  # it may be an upload finishing right now
    assert path.exists()
    old = time.time() - 3600
    os.utime(path, (old, old))
    assert store.gc(stale_upload_seconds=60).bytes_freed == len(data)
    assert not path.exists()


def test_concurrent_batches_with_the_same_blobs_both_succeed(store: Store) -> None:
    files = _files("h", 40)
    blobs = [(md5_b64(d), d) for d in files.values()]
    for project in ("team/one", "team/two", "team/three"):
        store.create_run(project)
    errors: list[BaseException] = []

    def send(project: str) -> None:
        try:
            store.upload_blobs(project, blobs)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=send, args=(p,)) for p in ("team/one", "team/two", "team/three")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    for project in ("team/one", "team/two", "team/three"):
        assert [d for d, _ in store.read_blobs(project, [b[0] for b in blobs])] == [
            b[0] for b in blobs
        ]


def test_an_older_database_is_upgraded_and_a_newer_one_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'meta.sqlite3'}"
    engine = create_engine(url)
    old_tables = [t for t in s.metadata_obj.sorted_tables if t is not s.packed_blobs]
    s.metadata_obj.create_all(engine, tables=old_tables)
    with engine.begin() as conn:
        conn.execute(insert(s.schema_info).values(id=1, version=1))
    store = Store(url, tmp_path / "blobs", pack_small_blobs=True)
    _log(store, "data", _files("i", 3))  # needs the new table
    store.close()
    with engine.begin() as conn:
        assert conn.execute(select(s.schema_info.c.version)).scalar_one() == s.SCHEMA_VERSION
        conn.execute(text("UPDATE schema_info SET version = 99"))
    engine.dispose()

    with pytest.raises(ValidationError, match=r"newer Artifact Desk.*upgrade"):
        Store(url, tmp_path / "blobs")


def test_a_read_that_finds_its_pack_just_rewritten_looks_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = {"big.txt": b"y" * 5000}
    v0 = _log(store, "data", {**big, **_files("j", 30)})
    _log(store, "keep", big)
    digest = md5_b64(big["big.txt"])
    stale = store.blob_extents(P, [digest])[digest]
    store.delete_version(v0.id)
    store.gc()  # the pack the lookup named is gone now
    real = store._extent
    answers = iter([stale])
    monkeypatch.setattr(store, "_extent", lambda p, d: next(answers, None) or real(p, d))

    assert b"".join(store.read_blob(P, digest)) == big["big.txt"]
    assert not stale.path.exists()
