"""The mirror file itself: where it lives, who may write it, and what its read API shows."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from backends.contract_helpers import Logger

from desktop_app.backends.local import LocalBackend
from desktop_app.client.mirror import Mirror, mirror_file
from desktop_app.client.mirror_sync import load_version_details, sync_until_caught_up
from desktop_app.core.records import CollectionInfo, VersionInfo

P = "proj"


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[LocalBackend]:
    made = LocalBackend(tmp_path / "store")
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def log(backend: LocalBackend) -> Logger:
    return Logger(backend)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "mirror" / "m.sqlite3"


@pytest.fixture
def mirror(path: Path) -> Iterator[Mirror]:
    with Mirror(path) as made:
        yield made


# -- where the file lives -------------------------------------------------------------------


def test_mirror_file_is_one_per_server(tmp_path: Path) -> None:
    one = mirror_file(tmp_path, "http://127.0.0.1:8000")
    other = mirror_file(tmp_path, "http://127.0.0.1:8001")
    team = mirror_file(tmp_path, "https://desk.example.com/team")

    assert len({one, other, team}) == 3
    assert mirror_file(tmp_path, "http://127.0.0.1:8000/") == one
    assert mirror_file(tmp_path, "https://desk.example.com/team/") == team
    assert all(p.parent == tmp_path / "mirror" and p.suffix == ".sqlite3" for p in (one, team))
    assert mirror_file(tmp_path, None) == mirror_file(tmp_path, "")
    assert mirror_file(tmp_path, None) not in {one, other, team}


def test_cursor_and_last_sync_persist_in_the_file(path: Path) -> None:
    with Mirror(path) as first:
        assert (first.cursor, first.last_sync) == (0, None)
        first.replace_collections([], cursor=42)
        first.mark_synced(1234.5)

    with Mirror(path) as again, Mirror(path, readonly=True) as reader:
        assert (again.cursor, again.last_sync) == (42, 1234.5)
        assert (reader.cursor, reader.last_sync) == (42, 1234.5)


# -- one writer, many readers ---------------------------------------------------------------


def test_reader_sees_the_writers_commits(
    backend: LocalBackend, log: Logger, mirror: Mirror, path: Path
) -> None:
    with Mirror(path, readonly=True) as reader:
        assert reader.collections() == []

        first = log(P, "data", {"a": b"1"})
        sync_until_caught_up(backend, mirror)
        assert [r.info.id for r in reader.versions(P, "data")] == [first.id]

        second = log(P, "data", {"a": b"2"})
        backend.add_alias(first.id, "best")
        sync_until_caught_up(backend, mirror)
        assert [(r.info.id, r.info.aliases) for r in reader.versions(P, "data")] == [
            (second.id, ("latest",)),
            (first.id, ("best",)),
        ]
        assert reader.cursor == mirror.cursor
        assert reader.last_sync == mirror.last_sync


def test_reader_refuses_every_write(backend: LocalBackend, log: Logger, path: Path) -> None:
    version = log(P, "data", {"a": b"1"})
    with Mirror(path) as writer:
        sync_until_caught_up(backend, writer)

    with Mirror(path, readonly=True) as reader:
        writes = [
            lambda: reader.mark_synced(),
            lambda: reader.queue_edit(version.id, "description", "x"),
            lambda: reader.put_version(replace(version, description="x")),
            lambda: reader.set_cached_files(version.id, 1),
            lambda: reader.replace_collections([], cursor=99),
            lambda: reader.put_usages(version.id, ["run"]),
            lambda: reader.drop_edit(1),
        ]
        for write in writes:
            with pytest.raises(RuntimeError, match="read-only"):
                write()
        assert reader.pending_edits() == []
        assert reader.version(version.id) == version
        assert reader.cursor != 99


def test_reader_of_a_missing_file_gets_an_empty_mirror(tmp_path: Path) -> None:
    path = tmp_path / "new" / "mirror.sqlite3"

    with Mirror(path, readonly=True) as reader:
        assert path.exists()
        assert (reader.projects(), reader.collections(), reader.cursor) == ([], [], 0)
        assert reader.version_count() == 0


def test_a_read_does_not_wait_for_a_sync_in_progress(
    backend: LocalBackend, log: Logger, mirror: Mirror, path: Path
) -> None:
    old = log(P, "data", {"a": b"1"})
    sync_until_caught_up(backend, mirror)
    new = log(P, "data", {"a": b"2"})
    collection = backend.get_collection(P, "data")
    seen_during_write: list[tuple[list[str], float]] = []

    with Mirror(path, readonly=True) as reader:

        def items() -> Iterator[tuple[CollectionInfo | None, str, str, list[VersionInfo]]]:
            yield collection, P, "data", backend.list_versions(P, "data")
            # The writer's transaction is open here, with the new version written.
            started = time.monotonic()
            ids = [r.info.id for r in reader.versions(P, "data")]
            seen_during_write.append((ids, time.monotonic() - started))

        mirror.replace_collections(items(), cursor=mirror.cursor + 1)

        ((ids, waited),) = seen_during_write
        assert ids == [old.id]  # the reader sees the last committed state
        assert waited < 1.0
        assert [r.info.id for r in reader.versions(P, "data")] == [new.id, old.id]


# -- what the read API shows ----------------------------------------------------------------


def test_queue_edit_shows_the_edit_and_keeps_the_file_state(
    backend: LocalBackend, log: Logger, mirror: Mirror
) -> None:
    v0 = log(P, "data", {"a": b"1"}, aliases=["best", "keep"])
    v1 = log(P, "data", {"a": b"2"})
    sync_until_caught_up(backend, mirror)
    load_version_details(backend, mirror, None, v1.id)
    mirror.set_cached_files(v1.id, 1)

    description = mirror.queue_edit(v1.id, "description", "new words")
    mirror.queue_edit(v1.id, "add_alias", "best")
    mirror.queue_edit(v0.id, "remove_alias", "keep")

    assert description.base is None
    assert [(e.version_id, e.kind, e.value) for e in mirror.pending_edits()] == [
        (v1.id, "description", "new words"),
        (v1.id, "add_alias", "best"),
        (v0.id, "remove_alias", "keep"),
    ]
    assert [e.kind for e in mirror.pending_edits(v0.id)] == ["remove_alias"]
    newest, oldest = mirror.versions(P, "data")
    assert newest.info.description == "new words"
    assert newest.info.aliases == ("latest", "best")
    assert oldest.info.aliases == ()  # 'best' moved, 'keep' removed
    assert (newest.pending_edits, oldest.pending_edits) == (2, 1)
    assert newest.manifest_loaded
    assert newest.cached_files == 1
    assert newest.available_offline

    mirror.drop_edit(description.id)
    assert [e.kind for e in mirror.pending_edits(v1.id)] == ["add_alias"]
    assert mirror.versions(P, "data")[0].pending_edits == 1


def test_a_second_description_edit_builds_on_the_first(
    backend: LocalBackend, log: Logger, mirror: Mirror
) -> None:
    version = log(P, "data", {"a": b"1"}, description="original")
    sync_until_caught_up(backend, mirror)

    first = mirror.queue_edit(version.id, "description", "draft one")
    second = mirror.queue_edit(version.id, "description", "draft two")

    assert (first.base, second.base) == ("original", "draft one")
    assert mirror.version(version.id).description == "draft two"  # type: ignore[union-attr]


def test_an_artifact_gone_from_the_backend_leaves_the_mirror(
    backend: LocalBackend, log: Logger, mirror: Mirror
) -> None:
    version = log(P, "data", {"a": b"1"})
    kept = log(P, "other", {"b": b"2"})
    sync_until_caught_up(backend, mirror)
    load_version_details(backend, mirror, None, version.id)
    assert mirror.entries(version.id) != []

    mirror.replace_collection(None, P, "data", [])

    assert [c.name for c in mirror.collections()] == ["other"]
    assert mirror.version(version.id) is None
    assert mirror.entries(version.id) == []
    assert not mirror.manifest_loaded(version.id)
    assert mirror.version(kept.id) == kept


def test_lineage_reaches_two_run_steps_by_default(
    backend: LocalBackend, log: Logger, mirror: Mirror
) -> None:
    prepare = backend.create_run(P, job_type="prepare")
    raw = log(P, "raw", {"r": b"r"})
    backend.use_version(prepare.id, raw.id)
    data = log(P, "data", {"d": b"d"}, run_id=prepare.id)
    train = backend.create_run(P, job_type="train")
    backend.use_version(train.id, data.id)
    model = log(P, "model", {"w": b"w"}, type_="model", run_id=train.id)
    deploy = backend.create_run(P, job_type="deploy")
    backend.use_version(deploy.id, model.id)
    report = log(P, "report", {"x": b"x"}, type_="report", run_id=deploy.id)
    sync_until_caught_up(backend, mirror)

    near = mirror.lineage(raw.id, depth=1)
    far = mirror.lineage(raw.id)

    assert set(near.versions) == {raw.id, data.id}
    assert set(near.runs) == {prepare.id}
    assert near.runs[prepare.id] is None  # runs not fetched yet: known by id only
    assert set(far.versions) == {raw.id, data.id, model.id}
    assert set(far.runs) == {prepare.id, train.id}
    assert (data.id, train.id) in far.edges
    assert (train.id, model.id) in far.edges
    assert report.id not in far.versions
    missing = mirror.lineage("no-such-version")
    assert (missing.versions, missing.runs, missing.edges) == ({}, {}, ())


def test_lineage_leaves_out_deleted_versions(
    backend: LocalBackend, log: Logger, mirror: Mirror
) -> None:
    train = backend.create_run(P, job_type="train")
    data = log(P, "data", {"d": b"d"})
    backend.use_version(train.id, data.id)
    model = log(P, "model", {"w": b"w"}, type_="model", run_id=train.id)
    sync_until_caught_up(backend, mirror)
    assert model.id in mirror.lineage(data.id).versions

    backend.delete_version(model.id)
    sync_until_caught_up(backend, mirror)

    graph = mirror.lineage(data.id)
    assert model.id not in graph.versions
    assert (train.id, model.id) not in graph.edges
    assert (data.id, train.id) in graph.edges
