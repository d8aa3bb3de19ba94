"""Contract: drafts, commits, version numbers, dedup, deletion and browsing."""

from __future__ import annotations

import math

import pytest

from desktop_app.core.digests import md5_b64
from desktop_app.core.errors import ConflictError, NotFoundError
from desktop_app.core.records import VersionState
from desktop_app.core.refs import ArtifactRef

P = "proj"


def test_first_draft_is_pending_and_lists_each_missing_digest_once(backend, manifest_of):
    files = {"a.txt": b"alpha", "b.txt": b"beta", "copy-of-a.txt": b"alpha"}
    manifest = manifest_of(files)

    draft = backend.create_draft(P, "data", "dataset", manifest)

    assert not draft.unchanged
    assert draft.version.state is VersionState.PENDING
    assert draft.version.index is None
    assert draft.version.digest == manifest.digest()
    assert draft.version.file_count == 3
    assert draft.version.size == len(b"alpha") * 2 + len(b"beta")
    assert sorted(draft.missing) == sorted({md5_b64(b"alpha"), md5_b64(b"beta")})


def test_commits_get_dense_numbers_and_latest_follows(backend, log):
    versions = [log(P, "data", {"f.txt": f"content {i}".encode()}) for i in range(4)]

    assert [v.index for v in versions] == [0, 1, 2, 3]
    assert all(v.state is VersionState.COMMITTED for v in versions)
    assert len({v.id for v in versions}) == 4
    listed = backend.list_versions(P, "data")
    assert sorted(v.index for v in listed) == [0, 1, 2, 3]
    latest = backend.resolve(ArtifactRef(P, "data", "latest"))
    assert latest.id == versions[-1].id
    assert "latest" in latest.aliases
    assert [v.id for v in listed if "latest" in v.aliases] == [versions[-1].id]
    assert backend.resolve(ArtifactRef(P, "data", "v1")).id == versions[1].id


def test_commit_is_idempotent(backend, manifest_of, upload):
    files = {"a.txt": b"one"}
    draft = backend.create_draft(P, "data", "dataset", manifest_of(files))
    upload(backend, P, files, draft.missing)

    first = backend.commit(draft.version.id)
    second = backend.commit(draft.version.id)

    assert first.index == second.index == 0
    assert first.id == second.id == draft.version.id
    assert second.state is VersionState.COMMITTED
    assert len(backend.list_versions(P, "data")) == 1
    nxt = backend.create_draft(P, "data", "dataset", manifest_of({"a.txt": b"two"}))
    upload(backend, P, {"a.txt": b"two"}, nxt.missing)
    assert backend.commit(nxt.version.id).index == 1


def test_same_content_as_latest_is_unchanged_and_changes_nothing(backend, log, manifest_of):
    v0 = log(P, "data", {"a.txt": b"one", "b.txt": b"two"})
    cursor = backend.events()[-1].seq

    again = backend.create_draft(
        P, "data", "dataset", manifest_of({"b.txt": b"two", "a.txt": b"one"})
    )

    assert again.unchanged
    assert again.version.id == v0.id
    assert again.version.index == 0
    assert again.missing == ()
    assert [v.id for v in backend.list_versions(P, "data", include_deleted=True)] == [v0.id]
    assert backend.events(cursor) == []


def test_unchanged_compares_with_latest_only(backend, log):
    v0 = log(P, "data", {"a.txt": b"A"})
    log(P, "data", {"a.txt": b"B"})

    v2 = log(P, "data", {"a.txt": b"A"})

    assert v2.index == 2
    assert v2.id != v0.id
    assert v2.digest == v0.digest


def test_draft_fields_are_applied_at_commit(backend, manifest_of, upload):
    files = {"a.txt": b"x"}
    draft = backend.create_draft(
        P,
        "data",
        "dataset",
        manifest_of(files),
        description="first cut",
        metadata={"rows": 3, "score": 0.5, "nested": {"k": [1, 2]}},
        aliases=["best", "candidate"],
        tags=["raw", "from-s3"],
    )
    upload(backend, P, files, draft.missing)

    committed = backend.commit(draft.version.id)

    fetched = backend.get_version(committed.id)
    for version in (committed, fetched):
        assert version.description == "first cut"
        assert dict(version.metadata) == {"rows": 3, "score": 0.5, "nested": {"k": [1, 2]}}
        assert set(version.aliases) == {"best", "candidate", "latest"}
        assert set(version.tags) == {"raw", "from-s3"}
    assert backend.resolve(ArtifactRef(P, "data", "best")).id == committed.id


def test_metadata_nan_is_stored_as_none(backend, log):
    version = log(P, "data", {"a": b"1"}, metadata={"loss": math.nan, "ok": 1.5})

    assert dict(backend.get_version(version.id).metadata) == {"loss": None, "ok": 1.5}


def test_commit_with_missing_blobs_names_the_missing_files(backend, manifest_of, upload):
    files = {"present.txt": b"here", "absent/file.bin": b"not yet"}
    draft = backend.create_draft(P, "data", "dataset", manifest_of(files))
    upload(backend, P, {"present.txt": b"here"}, [md5_b64(b"here")])

    with pytest.raises(ConflictError, match=r"absent/file\.bin") as caught:
        backend.commit(draft.version.id)

    assert "present.txt" not in str(caught.value)
    assert backend.get_version(draft.version.id).state is VersionState.PENDING
    with pytest.raises(NotFoundError):
        backend.resolve(ArtifactRef(P, "data", "latest"))
    upload(backend, P, files, [md5_b64(b"not yet")])
    assert backend.commit(draft.version.id).index == 0


def test_second_draft_of_same_content_commits_to_the_existing_version(backend, manifest_of, upload):
    files = {"a.txt": b"same"}
    first = backend.create_draft(P, "data", "dataset", manifest_of(files))
    second = backend.create_draft(P, "data", "dataset", manifest_of(files))
    assert not first.unchanged
    assert not second.unchanged
    upload(backend, P, files, set(first.missing) | set(second.missing))

    v0 = backend.commit(first.version.id)
    again = backend.commit(second.version.id)

    assert again.id == v0.id
    assert again.index == 0
    assert [v.index for v in backend.list_versions(P, "data")] == [0]
    # A client whose answer got lost retries the commit: same answer again.
    assert backend.commit(second.version.id).id == v0.id


def test_blobs_are_deduplicated_within_a_project(backend, log, manifest_of):
    log(P, "data", {"shared.bin": b"shared bytes", "a": b"a"})

    draft = backend.create_draft(
        P, "other-artifact", "model", manifest_of({"s.bin": b"shared bytes", "n": b"new"})
    )

    assert list(draft.missing) == [md5_b64(b"new")]


def test_dedup_never_leaks_across_projects(backend, log, manifest_of):
    log("team-a/secret", "data", {"s.bin": b"confidential"})

    draft = backend.create_draft(
        "team-b/other", "data", "dataset", manifest_of({"x": b"confidential"})
    )

    assert list(draft.missing) == [md5_b64(b"confidential")]
    with pytest.raises(ConflictError):
        backend.commit(draft.version.id)


def test_reference_entries_are_never_missing(backend, manifest_of):
    manifest = manifest_of(
        {"local.txt": b"stored"},
        refs={"remote.csv": "s3://bucket/remote.csv", "page": "https://example.com/x"},
    )

    draft = backend.create_draft(P, "refs", "dataset", manifest)
    assert list(draft.missing) == [md5_b64(b"stored")]
    backend.upload_blob(P, md5_b64(b"stored"), 6, [b"stored"])
    committed = backend.commit(draft.version.id)

    assert committed.file_count == 3
    stored = backend.get_manifest(committed.id)
    assert stored.get("remote.csv").ref == "s3://bucket/remote.csv"
    assert stored.get("page").ref == "https://example.com/x"


def test_only_reference_entries_commit_without_upload(backend, manifest_of):
    draft = backend.create_draft(
        P, "refs", "dataset", manifest_of({}, refs={"r": "file:///data/r.bin"})
    )

    assert draft.missing == ()
    assert backend.commit(draft.version.id).index == 0


def test_get_manifest_round_trips(backend, log, manifest_of):
    files = {"dir/b.txt": b"bee", "a.txt": b"ay", "dir/sub/c.bin": b"\x00\x01"}
    version = log(P, "data", files, refs={"r.csv": "https://example.com/r.csv"})

    stored = backend.get_manifest(version.id)

    assert stored == manifest_of(files, refs={"r.csv": "https://example.com/r.csv"})
    assert stored.digest() == version.digest
    assert version.size == 3 + 2 + 2
    assert version.file_count == 4


def test_one_name_has_one_type_per_project(backend, log, manifest_of):
    log(P, "data", {"a": b"1"}, type_="dataset")

    with pytest.raises(ConflictError, match="dataset"):
        backend.create_draft(P, "data", "model", manifest_of({"a": b"2"}))

    assert [v.index for v in backend.list_versions(P, "data")] == [0]
    assert backend.get_collection(P, "data").type == "dataset"
    # The same name in another project may have another type.
    assert log("elsewhere", "data", {"a": b"2"}, type_="model").type == "model"


def test_soft_delete_hides_the_version_and_never_reuses_its_number(backend, log):
    v0 = log(P, "data", {"a": b"0"})
    v1 = log(P, "data", {"a": b"1"}, aliases=["best"])

    deleted = backend.delete_version(v1.id)

    assert deleted.state is VersionState.DELETED
    assert deleted.aliases == ()
    assert [v.id for v in backend.list_versions(P, "data")] == [v0.id]
    everything = backend.list_versions(P, "data", include_deleted=True)
    assert {v.id: v.state for v in everything} == {
        v0.id: VersionState.COMMITTED,
        v1.id: VersionState.DELETED,
    }
    latest = backend.resolve(ArtifactRef(P, "data", "latest"))
    assert latest.id == v0.id
    for selector in ("v1", "best"):
        with pytest.raises(NotFoundError):
            backend.resolve(ArtifactRef(P, "data", selector))
    v2 = log(P, "data", {"a": b"2"})
    assert v2.index == 2


def test_deleting_the_only_version_leaves_no_latest(backend, log):
    v0 = log(P, "data", {"a": b"0"})

    backend.delete_version(v0.id)

    with pytest.raises(NotFoundError):
        backend.resolve(ArtifactRef(P, "data", "latest"))
    assert backend.list_versions(P, "data") == []
    assert log(P, "data", {"a": b"0"}).index == 1


def test_deleted_latest_is_not_the_base_for_unchanged(backend, log, manifest_of):
    log(P, "data", {"a": b"0"})
    v1 = log(P, "data", {"a": b"1"})
    backend.delete_version(v1.id)

    again = backend.create_draft(P, "data", "dataset", manifest_of({"a": b"1"}))

    assert not again.unchanged


def test_discarded_draft_uses_no_number(backend, manifest_of, log):
    draft = backend.create_draft(P, "data", "dataset", manifest_of({"a": b"gone"}))

    backend.discard_draft(draft.version.id)

    assert log(P, "data", {"a": b"kept"}).index == 0
    with pytest.raises((NotFoundError, ConflictError)):
        backend.commit(draft.version.id)


def test_discarded_first_draft_does_not_fix_the_type(backend, manifest_of, log):
    draft = backend.create_draft(P, "data", "model", manifest_of({"a": b"oops"}))
    backend.discard_draft(draft.version.id)

    assert backend.list_collections(P) == []
    assert log(P, "data", {"a": b"right"}, type_="dataset").type == "dataset"


def test_list_entries_pages_in_path_order(backend, log):
    files = {f"d{i % 3}/f{i}.txt": str(i).encode() for i in range(25)}
    files["a.txt"] = b"top"
    files["z"] = b"last"
    version = log(P, "data", files)

    seen = []
    cursor = None
    pages = 0
    while True:
        page = backend.list_entries(version.id, cursor=cursor, limit=7)
        assert len(page.items) <= 7
        seen.extend(page.items)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
        assert pages < 20

    assert pages in (4, 5)  # 27 entries: 3 full pages and a short one (or an empty end)
    assert [entry.path for entry in seen] == sorted(files)
    for entry in seen:
        assert entry.digest == md5_b64(files[entry.path])
        assert entry.size == len(files[entry.path])


def test_list_entries_of_unknown_version_is_not_found(backend):
    with pytest.raises(NotFoundError):
        backend.list_entries("no-such-version")
    with pytest.raises(NotFoundError):
        backend.get_version("no-such-version")


def test_find_versions_with_file(backend, log):
    log(P, "first", {"data/x.csv": b"1"})
    a1 = log(P, "first", {"data/x.csv": b"2"})
    b0 = log(P, "second", {"data/x.csv": b"3", "other": b"o"})
    log(P, "third", {"data/y.csv": b"4"})
    log("another-project", "fourth", {"data/x.csv": b"5"})

    found = backend.find_versions_with_file(P, "data/x.csv")

    assert sorted(v.id for v in found) == sorted([a1.id, b0.id])
    for version in found:
        assert version.state is VersionState.COMMITTED
        assert backend.get_manifest(version.id).get("data/x.csv") is not None
    limited = backend.find_versions_with_file(P, "data/x.csv", limit=1)
    assert len(limited) == 1
    assert limited[0].id in {a1.id, b0.id}
    assert backend.find_versions_with_file(P, "nowhere.txt") == []


def test_find_versions_with_file_skips_deleted_versions(backend, log):
    only = log(P, "data", {"x.csv": b"1"})
    backend.delete_version(only.id)

    assert backend.find_versions_with_file(P, "x.csv") == []


def test_projects_types_and_collections(backend, log):
    log(P, "images", {"a": b"1"}, type_="dataset")
    log(P, "images", {"a": b"2"}, type_="dataset")
    log(P, "resnet", {"w": b"3"}, type_="model")
    log("team/other", "tables", {"t": b"4"}, type_="eval")

    projects = {p.name: p for p in backend.list_projects()}
    assert set(projects) == {P, "team/other"}
    assert projects[P].artifact_count == 2
    assert sorted(backend.list_artifact_types(P)) == ["dataset", "model"]
    assert {c.name for c in backend.list_collections(P)} == {"images", "resnet"}
    assert [c.name for c in backend.list_collections(P, "model")] == ["resnet"]
    images = backend.get_collection(P, "images")
    assert (images.project, images.type, images.version_count) == (P, "dataset", 2)
    with pytest.raises(NotFoundError):
        backend.get_collection(P, "nothing-here")


def test_update_version_changes_only_what_is_given(backend, log):
    version = log(P, "data", {"a": b"1"}, description="old", metadata={"k": 1}, tags=["t1"])

    changed = backend.update_version(version.id, description="new")
    assert changed.description == "new"
    assert dict(changed.metadata) == {"k": 1}
    assert changed.tags == ("t1",)

    changed = backend.update_version(version.id, metadata={"k": 2, "nan": math.nan}, tags=[])
    assert changed.description == "new"
    assert dict(changed.metadata) == {"k": 2, "nan": None}
    assert changed.tags == ()
    fetched = backend.get_version(version.id)
    assert (fetched.description, dict(fetched.metadata), fetched.digest, fetched.index) == (
        "new",
        {"k": 2, "nan": None},
        version.digest,
        0,
    )
