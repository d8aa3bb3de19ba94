"""Contract: runs and lineage, and the change feed (``events``)."""

from __future__ import annotations

import pytest

from desktop_app.core.errors import NotFoundError

P = "proj"


def _ids(items):
    return sorted(item.id for item in items)


def _new_events(backend, since):
    events = backend.events(since)
    assert all(event.seq > since for event in events)
    return events


def test_run_lifecycle(backend):
    run = backend.create_run(P, job_type="train", name="happy-run", config={"lr": 0.1})

    assert (run.project, run.job_type, run.name) == (P, "train", "happy-run")
    assert dict(run.config) == {"lr": 0.1}
    assert run.finished_at is None
    fetched = backend.get_run(run.id)
    assert (fetched.id, fetched.job_type, fetched.state) == (run.id, "train", run.state)

    finished = backend.finish_run(run.id)

    assert finished.state == "finished"
    assert finished.finished_at is not None
    assert backend.get_run(run.id).state == "finished"
    with pytest.raises(NotFoundError):
        backend.get_run("no-such-run")


def test_logged_by_and_run_outputs(backend, log):
    run = backend.create_run(P, job_type="add-dataset")
    v0 = log(P, "data", {"a": b"0"}, run_id=run.id)
    v1 = log(P, "model", {"w": b"1"}, type_="model", run_id=run.id)
    stranger = log(P, "data", {"a": b"2"})

    assert v0.logged_by == run.id
    assert backend.get_version(v1.id).logged_by == run.id
    assert backend.logged_by(v0.id).id == run.id
    assert backend.logged_by(stranger.id) is None
    assert _ids(backend.run_outputs(run.id)) == sorted([v0.id, v1.id])


def test_uncommitted_draft_is_not_a_run_output(backend, manifest_of):
    run = backend.create_run(P, job_type="train")

    backend.create_draft(P, "data", "dataset", manifest_of({"a": b"0"}), run_id=run.id)

    assert backend.run_outputs(run.id) == []


def test_use_version_records_inputs_once(backend, log):
    producer = backend.create_run(P, job_type="add-dataset")
    version = log(P, "data", {"a": b"0"}, run_id=producer.id)
    consumer = backend.create_run(P, job_type="train")
    other = backend.create_run(P, job_type="eval")

    backend.use_version(consumer.id, version.id)
    backend.use_version(consumer.id, version.id)
    backend.use_version(other.id, version.id)

    assert _ids(backend.used_by(version.id)) == sorted([consumer.id, other.id])
    assert [v.id for v in backend.run_inputs(consumer.id)] == [version.id]
    assert backend.run_inputs(producer.id) == []
    assert backend.run_outputs(consumer.id) == []


def test_lineage_with_unknown_ids_is_not_found(backend, log, manifest_of):
    version = log(P, "data", {"a": b"0"})
    run = backend.create_run(P)

    with pytest.raises(NotFoundError):
        backend.use_version("no-such-run", version.id)
    with pytest.raises(NotFoundError):
        backend.use_version(run.id, "no-such-version")
    with pytest.raises(NotFoundError):
        backend.create_draft(P, "data", "dataset", manifest_of({"a": b"1"}), run_id="no-run")
    assert backend.used_by(version.id) == []


def test_event_seqs_grow_by_one(backend, log):
    run = backend.create_run(P, job_type="train")
    v0 = log(P, "data", {"a": b"0"}, run_id=run.id, aliases=["best"])
    log(P, "data", {"a": b"1"})
    backend.add_alias(v0.id, "gold")
    backend.finish_run(run.id)

    events = backend.events()

    assert len(events) >= 5
    seqs = [event.seq for event in events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert seqs[0] >= 1
    assert all(event.project == P for event in events)
    created = [event.created_at for event in events]
    assert created == sorted(created)


def test_each_change_appends_its_event(backend, log):
    cursor = 0

    def expect(kind, **payload):
        nonlocal cursor
        new = _new_events(backend, cursor)
        assert kind in [event.kind for event in new], [event.kind for event in new]
        matching = [event for event in new if event.kind == kind]
        for key, value in payload.items():
            assert any(event.payload.get(key) == value for event in matching), matching
        cursor = new[-1].seq

    run = backend.create_run(P, job_type="train")
    expect("run.created")
    version = log(P, "data", {"a": b"0"}, run_id=run.id)
    expect("version.committed", version_id=version.id)
    backend.add_alias(version.id, "best")
    expect("alias.set", version_id=version.id)
    backend.remove_alias(version.id, "best")
    expect("alias.removed", version_id=version.id)
    backend.update_version(version.id, description="now described")
    expect("version.updated", version_id=version.id)
    user = backend.create_run(P, job_type="eval")
    backend.use_version(user.id, version.id)
    expect("run.used_version", version_id=version.id)
    backend.finish_run(run.id)
    expect("run.finished")
    backend.delete_version(version.id)
    expect("version.deleted", version_id=version.id)
    assert backend.events(cursor) == []


def test_no_op_changes_append_no_events(backend, log, manifest_of, upload):
    files = {"a": b"0"}
    draft = backend.create_draft(P, "data", "dataset", manifest_of(files))
    upload(backend, P, files, draft.missing)
    backend.commit(draft.version.id)
    cursor = backend.events()[-1].seq

    backend.commit(draft.version.id)
    unchanged = backend.create_draft(P, "data", "dataset", manifest_of(files))

    assert unchanged.unchanged
    assert backend.events(cursor) == []


def test_events_page_with_since_and_limit(backend, log):
    for i in range(6):
        log(P, f"art-{i}", {"a": str(i).encode()})
    everything = backend.events()

    paged = []
    cursor = 0
    while True:
        page = backend.events(cursor, limit=2)
        assert len(page) <= 2
        if not page:
            break
        paged.extend(page)
        cursor = page[-1].seq

    assert [(e.seq, e.kind) for e in paged] == [(e.seq, e.kind) for e in everything]
    middle = everything[len(everything) // 2].seq
    assert [e.seq for e in backend.events(middle)] == [e.seq for e in everything if e.seq > middle]


def test_version_events_carry_the_project(backend, log):
    log("team/a", "data", {"a": b"0"})
    log("team/b", "data", {"a": b"1"})

    committed = [e for e in backend.events() if e.kind == "version.committed"]

    assert [e.project for e in committed] == ["team/a", "team/b"]
