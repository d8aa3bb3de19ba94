"""Contract: ``create_draft(..., commit=True)`` commits at once when every blob is held.

A client that sent the blobs first (or whose blobs the project already holds) saves the
commit round trip; when anything is missing the answer is an ordinary draft.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import pytest
from contract_helpers import Logger

from desktop_app.backends.protocol import Backend
from desktop_app.core.digests import md5_b64
from desktop_app.core.errors import ConflictError, NotFoundError
from desktop_app.core.manifest import Manifest
from desktop_app.core.records import Event, VersionState
from desktop_app.core.refs import ArtifactRef

P = "proj"

ManifestOf = Callable[..., Manifest]
ReadBytes = Callable[..., bytes]


def _send_batch(backend: Backend, project: str, files: Mapping[str, bytes]) -> None:
    """Send the bytes of ``files`` in one batch, before any draft names them."""
    backend.upload_blobs(project, [(md5_b64(data), data) for data in files.values()])


def _send_alone(backend: Backend, project: str, data: bytes) -> None:
    backend.upload_blob(project, md5_b64(data), len(data), [data])


def _last_seq(backend: Backend) -> int:
    events = backend.events()
    return events[-1].seq if events else 0


def _shape(event: Event) -> tuple[str, str, list[str]]:
    return event.kind, event.project, sorted(event.payload)


def test_commit_true_with_every_blob_held_returns_the_committed_version(
    backend: Backend, manifest_of: ManifestOf, read_blob_bytes: ReadBytes
) -> None:
    batch = {"a.txt": b"alpha", "dir/b.txt": b"beta"}
    alone = os.urandom(5000)  # sent on its own: a file of its own on every backend
    files = {**batch, "big.bin": alone}
    _send_batch(backend, P, batch)
    _send_alone(backend, P, alone)
    manifest = manifest_of(files)

    result = backend.create_draft(
        P,
        "data",
        "dataset",
        manifest,
        description="sent first",
        metadata={"rows": 2},
        aliases=["best"],
        tags=["raw"],
        commit=True,
    )

    assert result.committed
    assert not result.unchanged
    assert result.missing == ()
    version = result.version
    assert version.state is VersionState.COMMITTED
    assert version.index == 0
    assert set(version.aliases) == {"latest", "best"}
    assert set(version.tags) == {"raw"}
    assert version.digest == manifest.digest()
    assert (version.description, dict(version.metadata)) == ("sent first", {"rows": 2})
    fetched = backend.get_version(version.id)
    assert (fetched.state, fetched.index, set(fetched.aliases)) == (
        VersionState.COMMITTED,
        0,
        {"latest", "best"},
    )
    assert backend.resolve(ArtifactRef(P, "data", "latest")).id == version.id
    assert backend.resolve(ArtifactRef(P, "data", "best")).id == version.id
    assert [v.id for v in backend.list_versions(P, "data", include_deleted=True)] == [version.id]
    assert backend.get_manifest(version.id) == manifest
    assert read_blob_bytes(backend, P, md5_b64(alone)) == alone
    assert read_blob_bytes(backend, P, md5_b64(b"beta")) == b"beta"


def test_commit_true_with_a_missing_blob_stays_a_draft_until_commit(
    backend: Backend, manifest_of: ManifestOf
) -> None:
    files = {"held.txt": b"already here", "absent.txt": b"not sent yet"}
    _send_batch(backend, P, {"held.txt": files["held.txt"]})

    result = backend.create_draft(
        P, "data", "dataset", manifest_of(files), aliases=["best"], tags=["raw"], commit=True
    )

    assert not result.committed
    assert not result.unchanged
    assert result.missing == (md5_b64(b"not sent yet"),)
    assert result.version.state is VersionState.PENDING
    assert result.version.index is None
    assert backend.get_version(result.version.id).state is VersionState.PENDING
    for selector in ("latest", "best", "v0"):
        with pytest.raises(NotFoundError):
            backend.resolve(ArtifactRef(P, "data", selector))

    _send_batch(backend, P, {"absent.txt": files["absent.txt"]})
    committed = backend.commit(result.version.id)

    assert committed.id == result.version.id
    assert committed.state is VersionState.COMMITTED
    assert committed.index == 0
    assert set(committed.aliases) == {"latest", "best"}
    assert set(committed.tags) == {"raw"}


def test_commit_true_with_nothing_sent_lists_every_blob_like_a_plain_draft(
    backend: Backend, manifest_of: ManifestOf
) -> None:
    files = {"a": b"one", "b": b"two", "copy-of-a": b"one"}

    eager = backend.create_draft(P, "eager", "dataset", manifest_of(files), commit=True)
    plain = backend.create_draft(P, "plain", "dataset", manifest_of(files))

    assert (
        sorted(eager.missing) == sorted(plain.missing) == sorted({md5_b64(b"one"), md5_b64(b"two")})
    )
    assert (
        (eager.committed, eager.unchanged) == (plain.committed, plain.unchanged) == (False, False)
    )
    assert eager.version.state is plain.version.state is VersionState.PENDING


def test_commit_true_of_the_latest_content_is_unchanged_and_adds_no_version(
    backend: Backend, log: Logger, manifest_of: ManifestOf
) -> None:
    files = {"a.txt": b"one", "b.txt": b"two"}
    v0 = log(P, "data", files)
    cursor = _last_seq(backend)

    again = backend.create_draft(P, "data", "dataset", manifest_of(files), commit=True)

    assert again.unchanged
    assert again.version.id == v0.id
    assert again.version.index == 0
    assert again.missing == ()
    assert again.committed  # the existing version: nothing left to upload or commit
    assert [v.id for v in backend.list_versions(P, "data", include_deleted=True)] == [v0.id]
    assert backend.events(cursor) == []


def test_commit_true_emits_the_same_version_committed_event_as_a_commit(
    backend: Backend, log: Logger, manifest_of: ManifestOf
) -> None:
    plain_files = {"p": b"plain commit"}
    eager_files = {"e": b"eager commit"}
    start = _last_seq(backend)
    plain = log(P, "plain", plain_files)
    _send_batch(backend, P, eager_files)
    after_upload = _last_seq(backend)

    eager = backend.create_draft(P, "eager", "dataset", manifest_of(eager_files), commit=True)

    assert eager.committed
    plain_events = [e for e in backend.events(start) if e.seq <= after_upload]
    eager_events = backend.events(after_upload)
    assert [_shape(e) for e in eager_events] == [_shape(e) for e in plain_events]
    (event,) = eager_events
    assert event.kind == "version.committed"
    assert event.project == P
    assert dict(event.payload) == {
        "version_id": eager.version.id,
        "name": "eager",
        "type": "dataset",
        "index": 0,
        "digest": eager.version.digest,
        "aliases": ["latest"],
        "state": "COMMITTED",
    }
    assert plain_events[0].payload["version_id"] == plain.id


def test_commit_true_drafts_of_new_content_get_dense_numbers(
    backend: Backend, log: Logger, manifest_of: ManifestOf
) -> None:
    ids: list[str] = []
    indexes: list[int | None] = []
    for i in range(3):
        files = {"f.txt": f"content {i}".encode()}
        _send_batch(backend, P, files)
        result = backend.create_draft(P, "data", "dataset", manifest_of(files), commit=True)
        assert result.committed
        ids.append(result.version.id)
        indexes.append(result.version.index)
    after = log(P, "data", {"f.txt": b"content 3"})  # an ordinary commit continues the count

    assert indexes == [0, 1, 2]
    assert after.index == 3
    assert len(set(ids)) == 3
    assert sorted(v.index or 0 for v in backend.list_versions(P, "data")) == [0, 1, 2, 3]
    assert backend.resolve(ArtifactRef(P, "data", "v1")).id == ids[1]
    listed_latest = [v.id for v in backend.list_versions(P, "data") if "latest" in v.aliases]
    assert listed_latest == [after.id]


def test_commit_true_reuses_blobs_an_earlier_version_of_the_project_sent(
    backend: Backend, log: Logger, manifest_of: ManifestOf
) -> None:
    log(P, "first", {"shared.bin": b"shared bytes", "x": b"x"})

    result = backend.create_draft(
        P, "second", "model", manifest_of({"s.bin": b"shared bytes"}), commit=True
    )

    assert result.committed
    assert result.missing == ()
    assert result.version.index == 0


def test_commit_true_does_not_count_blobs_of_another_project(
    backend: Backend, log: Logger, manifest_of: ManifestOf
) -> None:
    files = {"s.bin": b"confidential"}
    log("team-a/secret", "data", files)

    result = backend.create_draft(
        "team-b/other", "data", "dataset", manifest_of(files), commit=True
    )

    assert not result.committed
    assert result.version.state is VersionState.PENDING
    assert result.missing == (md5_b64(b"confidential"),)
    with pytest.raises(ConflictError):
        backend.commit(result.version.id)
    _send_batch(backend, "team-b/other", files)
    assert backend.commit(result.version.id).index == 0


def test_commit_true_of_only_reference_entries_commits_without_upload(
    backend: Backend, manifest_of: ManifestOf
) -> None:
    manifest = manifest_of({}, refs={"r.csv": "s3://bucket/r.csv"})

    result = backend.create_draft(P, "refs", "dataset", manifest, commit=True)

    assert result.committed
    assert result.version.index == 0
    stored = backend.get_manifest(result.version.id).get("r.csv")
    assert stored is not None
    assert stored.ref == "s3://bucket/r.csv"


def test_an_older_draft_of_the_same_content_commits_to_the_commit_true_version(
    backend: Backend, manifest_of: ManifestOf
) -> None:
    files = {"a.txt": b"same bytes"}
    older = backend.create_draft(P, "data", "dataset", manifest_of(files))
    _send_batch(backend, P, files)

    eager = backend.create_draft(P, "data", "dataset", manifest_of(files), commit=True)
    retried = backend.commit(older.version.id)

    assert eager.committed
    assert retried.id == eager.version.id
    assert retried.index == 0
    assert [v.index for v in backend.list_versions(P, "data")] == [0]
