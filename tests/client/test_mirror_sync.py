"""The mirror kept current from real backends: the change feed in, offline edits out."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from backends.contract_helpers import Logger
from live_server import LiveServer

from desktop_app.backends.http import HttpBackend
from desktop_app.backends.local import LocalBackend
from desktop_app.backends.protocol import Backend
from desktop_app.client import mirror_sync
from desktop_app.client.content_cache import ContentCache
from desktop_app.client.mirror import CollectionRow, Mirror
from desktop_app.client.mirror_sync import (
    SyncStep,
    count_in,
    drain_outbox,
    load_runs,
    load_version_details,
    local_digests,
    sync_step,
    sync_until_caught_up,
)
from desktop_app.core.digests import md5_b64
from desktop_app.core.errors import BackendUnavailableError
from desktop_app.core.manifest import ManifestEntry
from desktop_app.core.records import VersionInfo, VersionState


@pytest.fixture(params=["local", "http"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """The embedded store, and the team server over a real socket."""
    made: Backend
    if request.param == "local":
        made = LocalBackend(tmp_path / "store")
    else:
        server: LiveServer = request.getfixturevalue("live_server")
        made = HttpBackend(server.url, server.key)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def local_backend(tmp_path: Path) -> Iterator[LocalBackend]:
    made = LocalBackend(tmp_path / "store")
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def http_backend(live_server: LiveServer) -> Iterator[HttpBackend]:
    with HttpBackend(live_server.url, live_server.key) as made:
        yield made


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[Mirror]:
    with Mirror(tmp_path / "mirror.sqlite3") as made:
        yield made


@pytest.fixture
def unreachable(tmp_path: Path) -> Iterator[HttpBackend]:
    """An HttpBackend to a port nothing listens on; retries do not sleep."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    made = HttpBackend(f"http://127.0.0.1:{port}", "no-key", sleep=lambda _s: None)
    try:
        yield made
    finally:
        made.close()


def _log_series(
    log: Logger, project: str, name: str, count: int, **kwargs: Any
) -> list[VersionInfo]:
    return [log(project, name, {"f.txt": f"{name}-{i}".encode()}, **kwargs) for i in range(count)]


def _seed(backend: Backend) -> dict[str, list[VersionInfo]]:
    """Two projects, three types, five artifacts, nine versions."""
    log = Logger(backend)
    made = {
        "images": _log_series(log, "vision", "images", 3),
        "resnet": _log_series(log, "vision", "resnet", 1, type_="model"),
        "corpus": _log_series(log, "nlp", "corpus", 2),
        "bert": _log_series(log, "nlp", "bert", 2, type_="model"),
        "eval": _log_series(log, "nlp", "eval", 1, type_="report"),
    }
    backend.add_alias(made["images"][1].id, "best")
    return made


def _snapshot(mirror: Mirror) -> dict[str, Any]:
    """Everything the mirror shows, through its read API."""
    versions = {
        (c.project, c.name): [
            (row.info, row.manifest_loaded, row.cached_files, row.pending_edits)
            for row in mirror.versions(c.project, c.name)
        ]
        for c in mirror.collections()
    }
    usages = {info.id: mirror.used_by(info.id) for rows in versions.values() for info, *_ in rows}
    return {
        "collections": mirror.collections(),
        "projects": mirror.projects(),
        "types": mirror.types(),
        "versions": versions,
        "usages": usages,
        "count": mirror.version_count(),
        "cursor": mirror.cursor,
    }


def _collection(mirror: Mirror, project: str, name: str) -> CollectionRow:
    (found,) = [c for c in mirror.collections() if (c.project, c.name) == (project, name)]
    return found


# -- the change feed in ---------------------------------------------------------------------


def test_initial_sync_fills_projects_types_collections_and_versions(
    backend: Backend, mirror: Mirror
) -> None:
    made = _seed(backend)

    applied = sync_until_caught_up(backend, mirror)

    assert applied == len(backend.events(0, limit=10_000))
    assert mirror.cursor == backend.events(0, limit=10_000)[-1].seq
    assert mirror.last_sync is not None
    assert mirror.projects() == ["nlp", "vision"]
    assert mirror.types() == ["dataset", "model", "report"]
    assert [(c.project, c.type, c.name, c.version_count) for c in mirror.collections()] == [
        ("nlp", "dataset", "corpus", 2),
        ("nlp", "model", "bert", 2),
        ("nlp", "report", "eval", 1),
        ("vision", "dataset", "images", 3),
        ("vision", "model", "resnet", 1),
    ]
    assert mirror.version_count() == 9
    rows = mirror.versions("vision", "images")
    assert [row.info.index for row in rows] == [2, 1, 0]
    assert [row.info.id for row in rows] == [v.id for v in reversed(made["images"])]
    assert [row.info.aliases for row in rows] == [("latest",), ("best",), ()]
    assert all(row.info.state is VersionState.COMMITTED for row in rows)
    assert not any(row.manifest_loaded or row.pending_edits for row in rows)
    assert mirror.version(made["bert"][1].id) == backend.get_version(made["bert"][1].id)


def test_incremental_sync_picks_up_a_new_commit(backend: Backend, mirror: Mirror) -> None:
    made = _seed(backend)
    sync_until_caught_up(backend, mirror)
    before = mirror.cursor

    new = Logger(backend)("vision", "resnet", {"w.bin": b"retrained"}, type_="model")
    step = sync_step(backend, mirror)

    assert step.caught_up
    assert step.events >= 1
    assert ("vision", "resnet") in step.collections
    assert new.id in step.versions
    assert mirror.cursor > before
    assert _collection(mirror, "vision", "resnet").version_count == 2
    rows = mirror.versions("vision", "resnet")
    assert [(r.info.id, r.info.aliases) for r in rows] == [
        (new.id, ("latest",)),
        (made["resnet"][0].id, ()),
    ]


def test_incremental_sync_moves_an_alias(backend: Backend, mirror: Mirror) -> None:
    made = _seed(backend)
    sync_until_caught_up(backend, mirror)
    old, new = made["images"][1], made["images"][0]
    assert "best" in mirror.version(old.id).aliases  # type: ignore[union-attr]

    backend.add_alias(new.id, "best")
    sync_until_caught_up(backend, mirror)

    assert "best" not in mirror.version(old.id).aliases  # type: ignore[union-attr]
    assert "best" in mirror.version(new.id).aliases  # type: ignore[union-attr]


def test_incremental_sync_picks_up_description_metadata_and_tags(
    backend: Backend, mirror: Mirror
) -> None:
    made = _seed(backend)
    sync_until_caught_up(backend, mirror)
    target = made["corpus"][1]

    backend.update_version(
        target.id, description="cleaned", metadata={"rows": 12}, tags=["gold", "en"]
    )
    sync_until_caught_up(backend, mirror)

    shown = mirror.version(target.id)
    assert shown is not None
    assert shown.description == "cleaned"
    assert dict(shown.metadata) == {"rows": 12}
    assert sorted(shown.tags) == ["en", "gold"]
    assert mirror.versions("nlp", "corpus")[0].info == shown


def test_incremental_sync_hides_a_soft_deleted_version(backend: Backend, mirror: Mirror) -> None:
    made = _seed(backend)
    sync_until_caught_up(backend, mirror)
    newest = made["images"][2]

    backend.delete_version(newest.id)
    sync_until_caught_up(backend, mirror)

    rows = mirror.versions("vision", "images")
    assert [r.info.index for r in rows] == [1, 0]
    assert _collection(mirror, "vision", "images").version_count == 2
    assert "latest" in rows[0].info.aliases  # latest moved back to v1 on the backend
    gone = mirror.version(newest.id)
    assert gone is not None
    assert gone.state is VersionState.DELETED


def test_deleting_the_only_version_hides_the_artifact(backend: Backend, mirror: Mirror) -> None:
    made = _seed(backend)
    sync_until_caught_up(backend, mirror)

    backend.delete_version(made["eval"][0].id)
    sync_until_caught_up(backend, mirror)

    assert ("nlp", "eval") not in {(c.project, c.name) for c in mirror.collections()}
    assert "report" not in [c.type for c in mirror.collections()]
    assert mirror.versions("nlp", "eval") == []


def test_sync_in_small_steps_equals_one_step(local_backend: LocalBackend, tmp_path: Path) -> None:
    made = _seed(local_backend)
    run = local_backend.create_run("vision", job_type="train")
    local_backend.use_version(run.id, made["images"][0].id)
    local_backend.update_version(made["bert"][0].id, description="first try")
    local_backend.delete_version(made["corpus"][0].id)
    total = len(local_backend.events(0, limit=10_000))
    steps: list[SyncStep] = []

    with (
        Mirror(tmp_path / "one.sqlite3") as one_step,
        Mirror(tmp_path / "many.sqlite3") as many_steps,
    ):
        assert sync_step(local_backend, one_step).caught_up
        applied = sync_until_caught_up(
            local_backend, many_steps, max_events=3, on_step=steps.append
        )

        assert applied == total
        assert len(steps) == total // 3 + 1
        assert all(s.events <= 3 for s in steps)
        assert [s.caught_up for s in steps] == [False] * (len(steps) - 1) + [True]
        assert _snapshot(many_steps) == _snapshot(one_step)
        assert many_steps.used_by(made["images"][0].id) == [run.id]


def test_cursor_survives_reopening_the_mirror(local_backend: LocalBackend, tmp_path: Path) -> None:
    _seed(local_backend)
    path = tmp_path / "mirror.sqlite3"
    with Mirror(path) as first:
        sync_until_caught_up(local_backend, first)
        cursor = first.cursor
        synced_at = first.last_sync
    assert cursor > 0

    new = Logger(local_backend)("nlp", "eval", {"r.md": b"v2"}, type_="report")
    with Mirror(path) as reopened:
        assert (reopened.cursor, reopened.last_sync) == (cursor, synced_at)
        step = sync_step(local_backend, reopened)

        assert step.events == len(local_backend.events(cursor, limit=10_000))
        assert step.versions == {new.id}
        assert [r.info.index for r in reopened.versions("nlp", "eval")] == [1, 0]
        assert reopened.versions("nlp", "eval")[0].info.id == new.id


def test_sync_against_an_unreachable_server_leaves_the_mirror_alone(
    local_backend: LocalBackend, mirror: Mirror, unreachable: HttpBackend
) -> None:
    _seed(local_backend)
    sync_until_caught_up(local_backend, mirror)
    before = _snapshot(mirror)
    synced_at = mirror.last_sync

    with pytest.raises(BackendUnavailableError, match="could not be reached"):
        sync_step(unreachable, mirror)
    with pytest.raises(BackendUnavailableError):
        sync_until_caught_up(unreachable, mirror)

    assert _snapshot(mirror) == before
    assert mirror.last_sync == synced_at


# -- details fetched on first view ----------------------------------------------------------


def test_load_version_details_pages_entries_and_counts_cached_files(
    http_backend: HttpBackend, mirror: Mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = http_backend  # a server's blobs are local only once in the content cache
    files = {f"dir/file-{i:02d}.txt": f"content {i}".encode() for i in range(7)}
    refs = {"remote/big.bin": "s3://bucket/big.bin"}
    version = Logger(backend)("vision", "images", files, refs=refs)
    sync_until_caught_up(backend, mirror)
    expected = list(backend.get_manifest(version.id))
    pages: list[str | None] = []
    real_list_entries = backend.list_entries

    def counting_list_entries(version_id: str, **kwargs: Any) -> Any:
        pages.append(kwargs.get("cursor"))
        return real_list_entries(version_id, **kwargs)

    monkeypatch.setattr(mirror_sync, "ENTRIES_PER_PAGE", 3)
    monkeypatch.setattr(backend, "list_entries", counting_list_entries)
    with ContentCache(tmp_path / "cache", max_bytes=1 << 20) as cache:
        cache.put_many(
            [(md5_b64(files[p]), files[p]) for p in ("dir/file-00.txt", "dir/file-03.txt")]
        )

        load_version_details(backend, mirror, cache, version.id)

        assert len(pages) == 3
        assert pages[0] is None
        entries = mirror.entries(version.id)
        assert [e.path for e in entries] == sorted([*files, *refs])
        assert entries == expected
        (row,) = mirror.versions("vision", "images")
        assert row.manifest_loaded
        assert row.cached_files == 2
        assert not row.available_offline

        # A second view recounts what the cache holds without fetching the manifest again.
        cache.put_many([(md5_b64(data), data) for data in files.values()])
        load_version_details(backend, mirror, cache, version.id)

    assert len(pages) == 3
    (row,) = mirror.versions("vision", "images")
    assert row.cached_files == len(files)  # the reference is never in the cache
    assert row.info.file_count == len(files) + 1


def test_files_with_the_same_contents_all_count_as_cached(
    http_backend: HttpBackend, mirror: Mirror, tmp_path: Path
) -> None:
    files = {"a.txt": b"same", "copy/a.txt": b"same", "b.txt": b"other"}
    version = Logger(http_backend)("vision", "images", files)
    sync_until_caught_up(http_backend, mirror)

    with ContentCache(tmp_path / "cache", max_bytes=1 << 20) as cache:
        cache.put_many([(md5_b64(data), data) for data in set(files.values())])
        local = load_version_details(http_backend, mirror, cache, version.id)

    assert local == {md5_b64(b"same"), md5_b64(b"other")}
    (row,) = mirror.versions("vision", "images")
    assert row.cached_files == 3
    assert row.available_offline


def test_embedded_store_files_count_as_local_without_a_cache(
    local_backend: LocalBackend, mirror: Mirror
) -> None:
    files = {"a.txt": b"a", "b.txt": b"b"}
    version = Logger(local_backend)("vision", "images", files, refs={"r": "s3://b/r"})
    sync_until_caught_up(local_backend, mirror)

    local = load_version_details(local_backend, mirror, None, version.id)

    assert local == {md5_b64(b"a"), md5_b64(b"b")}  # the reference is not on this machine
    (row,) = mirror.versions("vision", "images")
    assert (row.cached_files, row.info.file_count) == (2, 3)


def test_local_files_skip_references_and_count_copies(tmp_path: Path, backend: Backend) -> None:
    data = b"held"
    held = ManifestEntry("a", md5_b64(data), len(data))
    copy = ManifestEntry("a-copy", md5_b64(data), len(data))
    missing = ManifestEntry("b", md5_b64(b"not held"), 8)
    reference = ManifestEntry("c", md5_b64(data), None, ref="https://example.com/a")
    entries = [held, copy, missing, reference]

    with ContentCache(tmp_path / "cache", max_bytes=1 << 20) as cache:
        cache.put_many([(held.digest, data)])
        local = local_digests(backend, cache, "nowhere", entries)
        assert local == {held.digest}
        assert count_in(entries, local) == 2


def test_load_version_details_of_a_version_the_feed_has_not_brought(
    backend: Backend, mirror: Mirror
) -> None:
    version = Logger(backend)("nlp", "corpus", {"a.txt": b"a", "b.txt": b"b"})

    load_version_details(backend, mirror, None, version.id)

    assert mirror.version(version.id) == version
    assert [e.path for e in mirror.entries(version.id)] == ["a.txt", "b.txt"]
    assert mirror.manifest_loaded(version.id)


def test_load_version_details_fetches_runs_and_usages(backend: Backend, mirror: Mirror) -> None:
    log = Logger(backend)
    maker = backend.create_run("vision", job_type="prepare", name="prep-1")
    data = log("vision", "images", {"x": b"1"}, run_id=maker.id)
    trainer = backend.create_run("vision", job_type="train", name="train-1")
    evaluator = backend.create_run("vision", job_type="eval", name="eval-1")
    sync_until_caught_up(backend, mirror)
    # Usages recorded after the sync come from the backend, not from the feed.
    backend.use_version(trainer.id, data.id)
    backend.use_version(evaluator.id, data.id)
    assert mirror.used_by(data.id) == []

    load_version_details(backend, mirror, None, data.id)

    assert mirror.used_by(data.id) == sorted([trainer.id, evaluator.id])
    for run in (maker, trainer, evaluator):
        loaded = mirror.run(run.id)
        assert loaded is not None
        assert (loaded.job_type, loaded.name) == (run.job_type, run.name)


def test_load_runs_skips_runs_the_backend_does_not_know(backend: Backend, mirror: Mirror) -> None:
    run = backend.create_run("vision", job_type="train")

    load_runs(backend, mirror, ["no-such-run", run.id])

    assert mirror.run("no-such-run") is None
    assert mirror.run(run.id) is not None


def test_finished_runs_reach_the_mirror(backend: Backend, mirror: Mirror) -> None:
    run = backend.create_run("vision", job_type="train")
    load_runs(backend, mirror, [run.id])
    assert mirror.run(run.id).state != "crashed"  # type: ignore[union-attr]

    backend.finish_run(run.id, state="crashed")
    steps: list[SyncStep] = []
    sync_until_caught_up(backend, mirror, on_step=steps.append)

    assert mirror.run(run.id).state == "crashed"  # type: ignore[union-attr]
    # The step names the run, so the window redraws lineage that shows it.
    assert run.id in set().union(*(step.runs for step in steps))
    assert not any(step.collections for step in steps)


def test_lineage_links_producer_inputs_and_consumers(backend: Backend, mirror: Mirror) -> None:
    log = Logger(backend)
    prepare = backend.create_run("vision", job_type="prepare")
    raw = log("vision", "raw", {"r": b"raw"})
    backend.use_version(prepare.id, raw.id)
    images = log("vision", "images", {"x": b"1"}, run_id=prepare.id)
    train = backend.create_run("vision", job_type="train")
    backend.use_version(train.id, images.id)
    model = log("vision", "resnet", {"w": b"w"}, type_="model", run_id=train.id)
    evaluate = backend.create_run("vision", job_type="eval")
    backend.use_version(evaluate.id, images.id)
    unrelated = log("vision", "other", {"o": b"o"})
    sync_until_caught_up(backend, mirror)

    load_version_details(backend, mirror, None, images.id)
    graph = mirror.lineage(images.id, depth=1)

    assert set(graph.versions) == {images.id, raw.id, model.id}
    assert unrelated.id not in graph.versions
    assert set(graph.runs) == {prepare.id, train.id, evaluate.id}
    assert graph.runs[prepare.id].job_type == "prepare"  # type: ignore[union-attr]
    assert set(graph.edges) == {
        (raw.id, prepare.id),
        (prepare.id, images.id),
        (images.id, train.id),
        (train.id, model.id),
        (images.id, evaluate.id),
    }
    assert (images.id, prepare.id) not in graph.edges  # edges point from inputs to outputs


# -- offline edits out ----------------------------------------------------------------------


def test_queued_edits_show_at_once_and_drain_to_the_backend(
    backend: Backend, mirror: Mirror
) -> None:
    made = _seed(backend)
    sync_until_caught_up(backend, mirror)
    v0, v1 = made["images"][0], made["images"][1]

    mirror.queue_edit(v0.id, "description", "the first cut")
    mirror.queue_edit(v0.id, "add_alias", "best")
    mirror.queue_edit(v1.id, "remove_alias", "gone-already")

    rows = {r.info.id: r for r in mirror.versions("vision", "images")}
    assert rows[v0.id].pending_edits == 2
    assert rows[v1.id].pending_edits == 1
    assert rows[v0.id].info.description == "the first cut"
    assert "best" in rows[v0.id].info.aliases
    assert "best" not in rows[v1.id].info.aliases  # an alias names one version
    assert backend.get_version(v0.id).description is None

    outcomes = drain_outbox(backend, mirror)

    assert [o.problem for o in outcomes] == [None, None, None]
    assert mirror.pending_edits() == []
    assert backend.get_version(v0.id).description == "the first cut"
    assert "best" in backend.get_version(v0.id).aliases
    assert "best" not in backend.get_version(v1.id).aliases
    rows = {r.info.id: r for r in mirror.versions("vision", "images")}
    assert rows[v0.id].pending_edits == 0
    assert rows[v0.id].info == backend.get_version(v0.id)
    assert rows[v1.id].info.aliases == ()


def test_description_changed_elsewhere_is_a_conflict(backend: Backend, mirror: Mirror) -> None:
    made = _seed(backend)
    sync_until_caught_up(backend, mirror)
    target = made["bert"][1]
    mirror.queue_edit(target.id, "description", "mine")

    backend.update_version(target.id, description="theirs")
    (outcome,) = drain_outbox(backend, mirror)

    assert outcome.problem is not None
    assert "nlp/bert:v1" in outcome.problem
    assert "'theirs'" in outcome.problem
    assert "'mine'" in outcome.problem
    assert "Edit it again" in outcome.problem
    assert backend.get_version(target.id).description == "theirs"
    assert mirror.version(target.id).description == "theirs"  # type: ignore[union-attr]
    assert mirror.pending_edits() == []


def test_alias_on_a_version_deleted_meanwhile_is_reported_and_dropped(
    backend: Backend, mirror: Mirror
) -> None:
    made = _seed(backend)
    sync_until_caught_up(backend, mirror)
    target = made["corpus"][0]
    mirror.queue_edit(target.id, "add_alias", "golden")
    assert "golden" in mirror.version(target.id).aliases  # type: ignore[union-attr]

    backend.delete_version(target.id)
    (outcome,) = drain_outbox(backend, mirror)

    assert outcome.problem is not None
    assert "adding alias 'golden'" in outcome.problem
    assert "deleted" in outcome.problem
    assert mirror.pending_edits() == []
    assert target.id not in [r.info.id for r in mirror.versions("nlp", "corpus")]
    assert all("golden" not in r.info.aliases for r in mirror.versions("nlp", "corpus"))


def test_a_refused_alias_move_puts_the_alias_back_where_it_was(
    backend: Backend, mirror: Mirror
) -> None:
    made = _seed(backend)
    sync_until_caught_up(backend, mirror)
    old, newest = made["images"][0], made["images"][2]
    mirror.queue_edit(old.id, "add_alias", "latest")
    assert "latest" not in mirror.version(newest.id).aliases  # type: ignore[union-attr]

    (outcome,) = drain_outbox(backend, mirror)

    assert outcome.problem is not None
    assert "adding alias 'latest'" in outcome.problem
    assert "cannot be set by hand" in outcome.problem
    assert mirror.pending_edits() == []
    # No event follows a refused edit, so the mirror must undo the move itself.
    rows = mirror.versions("vision", "images")
    assert [r.info for r in rows] == backend.list_versions("vision", "images")[::-1]
    assert mirror.version(newest.id).aliases == ("latest",)  # type: ignore[union-attr]
    assert "latest" not in mirror.version(old.id).aliases  # type: ignore[union-attr]


def test_drain_against_an_unreachable_server_keeps_the_edits(
    local_backend: LocalBackend, mirror: Mirror, unreachable: HttpBackend
) -> None:
    made = _seed(local_backend)
    sync_until_caught_up(local_backend, mirror)
    target = made["resnet"][0]
    mirror.queue_edit(target.id, "description", "offline note")
    mirror.queue_edit(target.id, "add_alias", "prod")
    queued = mirror.pending_edits()

    with pytest.raises(BackendUnavailableError):
        drain_outbox(unreachable, mirror)

    assert mirror.pending_edits() == queued
    (row,) = mirror.versions("vision", "resnet")
    assert row.pending_edits == 2
    assert row.info.description == "offline note"
    assert "prod" in row.info.aliases

    # Back online, the same queue reaches the backend.
    assert [o.problem for o in drain_outbox(local_backend, mirror)] == [None, None]
    assert local_backend.get_version(target.id).description == "offline note"


def test_queue_edit_refuses_unknown_kinds_and_versions(mirror: Mirror) -> None:
    with pytest.raises(ValueError, match="unknown edit kind"):
        mirror.queue_edit("any", "rename", "x")
    with pytest.raises(LookupError, match="not in the mirror"):
        mirror.queue_edit("no-such-version", "description", "x")
    assert mirror.pending_edits() == []


def test_sync_gets_past_events_of_projects_the_key_cannot_read(
    live_server: LiveServer, mirror: Mirror
) -> None:
    with HttpBackend(live_server.url, live_server.key) as owner:
        _log_series(Logger(owner), "secret", "plans", 3)
        shared = Logger(owner)("open", "data", {"a": b"1"})
    reader_key = live_server.create_key("reader", [("open", "read")])

    with HttpBackend(live_server.url, reader_key) as reader:
        sync_until_caught_up(reader, mirror, max_events=2)

    assert [r.info.id for r in mirror.versions("open", "data")] == [shared.id]
