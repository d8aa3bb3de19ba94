"""Which files of a version the store reports missing, on real files and real databases.

``create_draft`` lists the blobs the project cannot read yet and ``commit`` refuses a
version with any; both rest on the store's check of the version's entries. The store is
opened with packing on (as the server opens it): small blobs sent in a batch share a pack
file, a blob sent alone gets a file of its own ("loose"). Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from pg_support import postgres_schema

from desktop_app.core.digests import b64_to_hex, md5_b64
from desktop_app.core.errors import ConflictError, IntegrityError
from desktop_app.core.manifest import Manifest, ManifestEntry
from desktop_app.core.records import VersionState
from desktop_app.store import Store

P = "team/unreadable"
OTHER = "team/elsewhere"
BIG = 300 * 1024  # a large file: sent on its own, as the client sends large files


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
    with postgres_schema("unreadable") as url:
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


def _small(prefix: str, count: int) -> dict[str, bytes]:
    return {f"{prefix}{i}.txt": f"{prefix} small file {i}".encode() * 5 for i in range(count)}


def _manifest(files: Mapping[str, bytes]) -> Manifest:
    return Manifest([ManifestEntry(p, md5_b64(d), len(d)) for p, d in files.items()])


def _send_batch(store: Store, files: Mapping[str, bytes], project: str = P) -> None:
    store.upload_blobs(project, [(md5_b64(d), d) for d in files.values()])


def _send_alone(store: Store, data: bytes, project: str = P) -> None:
    store.upload_blob(project, md5_b64(data), len(data), [data])


def _digests(files: Mapping[str, bytes]) -> list[str]:
    return sorted({md5_b64(d) for d in files.values()})


def _pack_of(store: Store, data: bytes, project: str = P) -> Path:
    extent = store.blob_extents(project, [md5_b64(data)])[md5_b64(data)]
    assert extent.packed
    return extent.path


def _loose_file(store: Store, data: bytes) -> Path:
    path = store.blobs.path(b64_to_hex(md5_b64(data)))
    assert path.is_file()
    return path


def _reads_back(store: Store, files: Mapping[str, bytes], project: str = P) -> None:
    for data in files.values():
        assert b"".join(store.read_blob(project, md5_b64(data))) == data


def test_of_packed_loose_and_unsent_blobs_only_the_unsent_one_is_missing(store: Store) -> None:
    packed = _small("p", 6)
    big = os.urandom(BIG)
    unsent = b"never uploaded"
    files = {**packed, "big.bin": big, "later/unsent.txt": unsent}
    _send_batch(store, packed)
    _send_alone(store, big)
    assert _pack_of(store, packed["p0.txt"]).is_file()
    assert not store.blob_extents(P, [md5_b64(big)])[md5_b64(big)].packed

    draft = store.create_draft(P, "mixed", "dataset", _manifest(files), commit=True)

    assert not draft.committed
    assert draft.missing == (md5_b64(unsent),)
    assert store.missing_blobs(P, _digests(files)) == [md5_b64(unsent)]
    with pytest.raises(ConflictError, match=r"1 file\(s\).*later/unsent\.txt") as refused:
        store.commit(draft.version.id)
    assert "big.bin" not in str(refused.value)
    assert "p0.txt" not in str(refused.value)
    _send_alone(store, unsent)
    assert store.commit(draft.version.id).index == 0
    _reads_back(store, files)


def test_a_version_of_held_packed_blobs_has_nothing_missing_and_commits(store: Store) -> None:
    first, second = _small("a", 20), _small("b", 20)
    _send_batch(store, first)
    _send_batch(store, second)
    assert _pack_of(store, first["a0.txt"]) != _pack_of(store, second["b0.txt"])
    files = {**first, **second, "copy-of-a3.txt": first["a3.txt"]}

    draft = store.create_draft(P, "packed", "dataset", _manifest(files))
    eager = store.create_draft(P, "packed-eager", "dataset", _manifest(files), commit=True)

    assert draft.missing == ()
    assert draft.version.state is VersionState.PENDING
    committed = store.commit(draft.version.id)
    assert (committed.state, committed.index, committed.file_count) == (
        VersionState.COMMITTED,
        0,
        41,
    )
    assert eager.committed
    assert eager.missing == ()
    _reads_back(store, files)


@pytest.mark.parametrize("damage", ["deleted", "truncated"])
def test_a_damaged_loose_blob_is_missing_until_sent_again(store: Store, damage: str) -> None:
    big = os.urandom(BIG)
    packed = _small("s", 3)
    files = {**packed, "big.bin": big}
    _send_batch(store, packed)
    _send_alone(store, big)
    pending = store.create_draft(P, "data", "dataset", _manifest(files))
    assert pending.missing == ()
    loose = _loose_file(store, big)
    if damage == "deleted":
        loose.unlink()
    else:
        with loose.open("r+b") as handle:
            handle.truncate(BIG // 2)

    with pytest.raises(ConflictError, match=r"big\.bin"):
        store.commit(pending.version.id)  # checked when it was drafted, gone since
    again = store.create_draft(P, "data-again", "dataset", _manifest(files), commit=True)

    assert store.get_version(pending.version.id).state is VersionState.PENDING
    assert not again.committed
    assert again.missing == (md5_b64(big),)
    assert store.missing_blobs(P, _digests(files)) == [md5_b64(big)]
    _send_alone(store, big)
    assert store.commit(pending.version.id).index == 0
    assert store.commit(again.version.id).index == 0  # another artifact: its own count
    _reads_back(store, files)


def _lose_a_pack(store: Store) -> tuple[dict[str, bytes], dict[str, bytes], dict[str, bytes]]:
    """Files in a pack now deleted, files in a pack still there, a loose one; all held."""
    lost, kept = _small("lost", 8), _small("kept", 8)
    loose = {"big.bin": os.urandom(BIG)}
    _send_batch(store, lost)
    _send_batch(store, kept)
    _send_alone(store, loose["big.bin"])
    lost_pack = _pack_of(store, lost["lost0.txt"])
    assert lost_pack != _pack_of(store, kept["kept0.txt"])
    lost_pack.unlink()  # a disk fault, an admin's mistake
    return lost, kept, loose


def test_a_deleted_pack_makes_exactly_its_blobs_missing(store: Store) -> None:
    lost, kept, loose = _lose_a_pack(store)
    files = {**lost, **kept, **loose}

    draft = store.create_draft(P, "data", "dataset", _manifest(files), commit=True)

    assert not draft.committed
    assert sorted(draft.missing) == _digests(lost)
    assert store.missing_blobs(P, _digests(files)) == _digests(lost)
    with pytest.raises(ConflictError, match=r"8 file\(s\)") as refused:
        store.commit(draft.version.id)
    assert "lost0.txt" in str(refused.value)
    assert "kept" not in str(refused.value)
    only_kept = store.create_draft(P, "kept-only", "dataset", _manifest({**kept, **loose}))
    assert only_kept.missing == ()


def test_blobs_of_a_deleted_pack_sent_again_in_a_batch_commit_and_read_back(
    store: Store,
) -> None:
    lost, kept, loose = _lose_a_pack(store)
    files = {**lost, **kept, **loose}
    draft = store.create_draft(P, "data", "dataset", _manifest(files))
    assert sorted(draft.missing) == _digests(lost)

    _send_batch(store, {p: lost[p] for p in sorted(lost)})

    new_pack = _pack_of(store, lost["lost0.txt"])
    assert new_pack.is_file()
    assert _pack_of(store, lost["lost7.txt"]) == new_pack
    committed = store.commit(draft.version.id)
    assert (committed.state, committed.index) == (VersionState.COMMITTED, 0)
    _reads_back(store, files)


def test_blobs_of_a_deleted_pack_sent_again_alone_commit_and_read_back(store: Store) -> None:
    lost, kept, loose = _lose_a_pack(store)
    files = {**lost, **kept, **loose}
    draft = store.create_draft(P, "data", "dataset", _manifest(files))
    assert sorted(draft.missing) == _digests(lost)
    first, *rest = sorted(lost)

    _send_alone(store, lost[first])  # now a loose file; its record still names the lost pack

    after_one = store.create_draft(P, "data", "dataset", _manifest(files))
    assert sorted(after_one.missing) == sorted(md5_b64(lost[p]) for p in rest)
    for path in rest:
        _send_alone(store, lost[path])
    eager = store.create_draft(P, "data", "dataset", _manifest(files), commit=True)
    assert eager.committed
    assert eager.version.index == 0
    assert store.commit(draft.version.id).id == eager.version.id  # same content, same version
    _reads_back(store, files)


def test_a_blob_held_only_by_another_project_is_missing_here(store: Store) -> None:
    theirs = _small("t", 4)
    big = os.urandom(BIG)
    _send_batch(store, theirs, project=OTHER)
    _send_alone(store, big, project=OTHER)
    store.commit(
        store.create_draft(
            OTHER, "data", "dataset", _manifest({**theirs, "big.bin": big})
        ).version.id
    )
    files = {**theirs, "big.bin": big}

    draft = store.create_draft(P, "data", "dataset", _manifest(files), commit=True)

    assert not draft.committed
    assert sorted(draft.missing) == _digests(files)
    with pytest.raises(ConflictError, match=r"5 file\(s\)"):
        store.commit(draft.version.id)
    _send_batch(store, theirs)  # already stored: only granted to this project
    _send_alone(store, big)
    assert store.commit(draft.version.id).index == 0
    _reads_back(store, files)


def test_in_a_pack_shared_with_another_project_only_the_blobs_not_held_are_missing(
    store: Store,
) -> None:
    shared = _small("x", 6)
    _send_batch(store, shared, project=OTHER)  # one pack, all six blobs
    held = {p: shared[p] for p in ("x0.txt", "x2.txt", "x4.txt")}
    _send_batch(store, held)  # already in the pack: this project is granted them
    assert _pack_of(store, shared["x0.txt"]) == _pack_of(store, shared["x1.txt"], OTHER)

    draft = store.create_draft(P, "data", "dataset", _manifest(shared), commit=True)

    assert not draft.committed
    assert sorted(draft.missing) == sorted(
        md5_b64(shared[p]) for p in ("x1.txt", "x3.txt", "x5.txt")
    )
    assert store.create_draft(P, "held", "dataset", _manifest(held), commit=True).committed


def test_a_read_from_a_pack_cut_short_is_an_error_not_fewer_bytes(store: Store) -> None:
    files = _small("cut", 3)
    _send_batch(store, files)
    last = max(files.values(), key=lambda data: _extent_offset(store, data))
    pack = _pack_of(store, last)
    os.truncate(pack, pack.stat().st_size - 10)  # the pack's last blob loses its tail

    with pytest.raises(IntegrityError, match="ends 10 bytes early"):
        b"".join(store.read_blob(P, md5_b64(last)))


def _extent_offset(store: Store, data: bytes) -> int:
    return store.blob_extents(P, [md5_b64(data)])[md5_b64(data)].offset
