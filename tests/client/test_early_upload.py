"""A put sends small files while it is still hashing, and its draft then commits at once.

The backends are real (the embedded store, and the team server over a loopback socket).
``Recording`` only wraps one to note which calls a put made, in order, and can make a
call fail once the way a dropped connection does; everything else goes to the backend.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live_server import run_live_server

from desktop_app.backends.http import HttpBackend
from desktop_app.backends.local import LocalBackend
from desktop_app.backends.protocol import Backend
from desktop_app.client import session as session_module
from desktop_app.client.early_upload import EarlySender, early_sender_for
from desktop_app.client.paths import AppPaths
from desktop_app.client.session import Client
from desktop_app.client.settings import Settings
from desktop_app.core.digests import md5_b64
from desktop_app.core.errors import (
    BackendUnavailableError,
    CancelledError,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from desktop_app.core.records import DraftResult, VersionState


class Recording:
    """The backend, with a list of the calls made through it (``name``, ``kwargs``)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[str] = []  # digests given to upload_blobs, in order
        self.fail_next: set[str] = set()  # method names that fail once, as if cut off
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        real = getattr(self.backend, name)
        if not callable(real):
            return real

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.calls.append((name, kwargs))
                failing = name in self.fail_next
                self.fail_next.discard(name)
            if failing:
                raise BackendUnavailableError("the connection dropped (made up by the test)")
            if name == "upload_blobs":
                with self._lock:
                    self.sent.extend(digest for digest, _data in args[1])
            return real(*args, **kwargs)

        return call

    def names(self) -> list[str]:
        return [name for name, _kwargs in self.calls]


@pytest.fixture(params=["local", "http"])
def recording(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Recording]:
    if request.param == "local":
        local = LocalBackend(tmp_path / "store")
        try:
            yield Recording(local)
        finally:
            local.close()
        return
    with run_live_server(tmp_path / "server") as server:
        http = HttpBackend(server.url, server.key)
        try:
            yield Recording(http)
        finally:
            http.close()


def _client(tmp_path: Path, backend: Any, home: str = "home") -> Client:
    root = tmp_path / home
    paths = AppPaths(root / "config", root / "data", root / "cache", root / "logs")
    return Client(paths=paths, settings=Settings(), backend=backend)


def _folder(root: Path, count: int, size: int = 2000) -> dict[str, bytes]:
    contents = {f"part-{i // 10}/f{i:03d}.bin": os.urandom(size) for i in range(count)}
    for name, data in contents.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    an_hour_ago = time.time() - 3600  # so that the hash cache trusts what it hashed
    for name in contents:
        os.utime(root / name, (an_hour_ago, an_hour_ago))
    return contents


def _stored(backend: Backend, version_id: str) -> dict[str, bytes]:
    entries = backend.list_entries(version_id).items
    project = backend.get_version(version_id).project
    found = dict(backend.read_blobs(project, [e.digest for e in entries]))
    return {e.path: found[e.digest] for e in entries}


def test_small_files_go_in_early_batches_and_not_again_after_the_draft(
    recording: Recording, tmp_path: Path
) -> None:
    contents = _folder(tmp_path / "data", 60)
    with _client(tmp_path, recording) as client:
        result = client.put(tmp_path / "data", "team", "set", "dataset", aliases=["best"])

    names = recording.names()
    draft_at = names.index("create_draft")
    assert recording.calls[draft_at][1]["commit"] is True
    assert names.count("upload_blobs") == 1  # the early batch, never again after the draft
    assert sorted(recording.sent) == sorted(md5_b64(data) for data in contents.values())
    assert result.version.state is VersionState.COMMITTED
    assert result.version.version == "v0"
    assert set(result.version.aliases) == {"latest", "best"}
    assert (result.uploaded_files, result.uploaded_bytes) == (60, 60 * 2000)
    assert _stored(recording.backend, result.version.id) == contents


def test_a_full_batch_leaves_while_files_are_still_being_added(tmp_path: Path) -> None:
    local = LocalBackend(tmp_path / "store")
    recording = Recording(local)
    blobs = [os.urandom(100) for _ in range(5)]
    with EarlySender(recording, "team", workers=2, batch_files=2) as sender:
        for data in blobs:  # as the hashing thread does; no flush, no finish yet
            sender.add(md5_b64(data), data)
        deadline = time.monotonic() + 10
        while len(recording.sent) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(recording.sent) == 4  # two full batches went; the fifth blob waits
        assert sender.finish().files == 5
    assert sorted(recording.sent) == sorted(md5_b64(data) for data in blobs)
    local.close()


def test_a_draft_whose_blobs_are_all_there_commits_in_the_same_call(
    recording: Recording, tmp_path: Path
) -> None:
    contents = _folder(tmp_path / "data", 30)
    with _client(tmp_path, recording, "first") as client:
        client.put(tmp_path / "data", "team", "set", "dataset")
    recording.calls.clear()
    recording.sent.clear()

    with _client(tmp_path, recording, "second") as fresh:  # the same bytes, another artifact
        result = fresh.put(tmp_path / "data", "team", "copy", "dataset", tags=["again"])

    assert recording.sent == []
    assert "commit" not in recording.names()  # the draft committed: no second call
    assert result.version.version == "v0"
    assert result.version.tags == ("again",)
    assert (result.uploaded_files, result.uploaded_bytes) == (0, 0)
    assert _stored(recording.backend, result.version.id) == contents


def test_an_unchanged_folder_hashed_again_sends_no_bytes(
    recording: Recording, tmp_path: Path
) -> None:
    _folder(tmp_path / "data", 30)
    with _client(tmp_path, recording, "first") as client:
        first = client.put(tmp_path / "data", "team", "set", "dataset")
    recording.calls.clear()
    recording.sent.clear()

    with _client(tmp_path, recording, "second") as fresh:  # empty hash cache: hashes all
        again = fresh.put(tmp_path / "data", "team", "set", "dataset")

    assert again.unchanged
    assert again.version.id == first.version.id
    assert (again.uploaded_files, again.uploaded_bytes) == (0, 0)
    assert "missing_blobs" in recording.names()  # asked, and told nothing is missing
    assert recording.sent == []


def test_files_with_the_same_bytes_are_sent_once(recording: Recording, tmp_path: Path) -> None:
    data = tmp_path / "data"
    _folder(data, 5)
    for name in ("copy-a.bin", "copy-b.bin", "copy-c.bin"):
        (data / name).write_bytes(b"the same bytes" * 100)
    with _client(tmp_path, recording) as client:
        result = client.put(data, "team", "set", "dataset")

    assert len(recording.sent) == len(set(recording.sent)) == 6
    assert result.uploaded_files == 6
    assert len(recording.backend.list_entries(result.version.id).items) == 8


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"aliases": ["v3"]}, "alias"),
        ({"tags": ["a/b"]}, "tag"),
        ({"metadata": {"loss": {1, 2}}}, "loss"),
        ({"name": "bad name!"}, "bad name!"),
        ({"type_": ""}, "type"),
    ],
)
def test_a_put_the_draft_would_refuse_stores_nothing(
    tmp_path: Path, arguments: dict[str, Any], problem: str
) -> None:
    _folder(tmp_path / "data", 10)
    local = LocalBackend(tmp_path / "store")
    recording = Recording(local)
    put: dict[str, Any] = {"name": "set", "type_": "dataset", **arguments}
    with _client(tmp_path, recording) as client, pytest.raises(ValidationError) as raised:
        client.put(tmp_path / "data", "team", put.pop("name"), put.pop("type_"), **put)

    assert problem in str(raised.value)
    assert "upload_blobs" not in recording.names()
    assert local.list_projects() == []  # sending early would have created the project
    local.close()


def test_case_twins_are_refused_before_a_byte_is_sent(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "Data.csv").write_bytes(b"a")
    (data / "data.csv").write_bytes(b"b")
    local = LocalBackend(tmp_path / "store")
    recording = Recording(local)
    with _client(tmp_path, recording) as client, pytest.raises(ValidationError, match=r"Data\.csv"):
        client.put(data, "team", "set", "dataset")

    assert recording.sent == []
    assert local.list_projects() == []
    local.close()


def test_a_run_that_does_not_exist_stores_nothing(tmp_path: Path) -> None:
    _folder(tmp_path / "data", 10)
    local = LocalBackend(tmp_path / "store")
    recording = Recording(local)
    with _client(tmp_path, recording) as client, pytest.raises(NotFoundError):
        client.put(tmp_path / "data", "team", "set", "dataset", run_id="no-such-run")

    assert recording.sent == []
    assert local.list_projects() == []
    local.close()


def test_an_artifact_of_another_type_sends_nothing_early(
    recording: Recording, tmp_path: Path
) -> None:
    _folder(tmp_path / "first", 5)
    _folder(tmp_path / "second", 5)
    with _client(tmp_path, recording) as client:
        client.put(tmp_path / "first", "team", "set", "dataset")
        recording.calls.clear()
        recording.sent.clear()
        with pytest.raises(ConflictError, match="dataset"):
            client.put(tmp_path / "second", "team", "set", "model")

    assert "missing_blobs" not in recording.names()
    assert recording.sent == []


def test_a_failed_early_batch_is_sent_after_the_draft(recording: Recording, tmp_path: Path) -> None:
    contents = _folder(tmp_path / "data", 40)
    recording.fail_next.add("upload_blobs")
    with _client(tmp_path, recording) as client:
        result = client.put(tmp_path / "data", "team", "set", "dataset")

    names = recording.names()
    draft_at = names.index("create_draft")
    # The early batch failed, so the draft found the blobs missing and did not commit:
    # the upload sent them and committed, as a put did before sending early.
    assert "upload_blobs" in names[draft_at:]
    assert [name for name in names if name != "close"][-1] == "commit"
    assert result.uploaded_files == 40
    assert _stored(recording.backend, result.version.id) == contents


def test_a_put_cancelled_while_hashing_commits_nothing(tmp_path: Path) -> None:
    _folder(tmp_path / "data", 200, size=100)
    local = LocalBackend(tmp_path / "store")
    recording = Recording(local)
    asked = [0]

    def is_cancelled() -> bool:
        asked[0] += 1
        return asked[0] > 50  # part of the way through hashing

    with _client(tmp_path, recording) as client, pytest.raises(CancelledError):
        client.put(tmp_path / "data", "team", "set", "dataset", is_cancelled=is_cancelled)

    assert "create_draft" not in recording.names()
    with pytest.raises(NotFoundError):
        local.list_versions("team", "set")
    local.close()


def test_hashing_waits_while_too_many_bytes_wait_to_be_sent(tmp_path: Path) -> None:
    local = LocalBackend(tmp_path / "store")
    gate = threading.Event()

    class Gated(Recording):
        def upload_blobs(self, project: str, blobs: list[tuple[str, bytes]]) -> None:
            gate.wait(10)
            self.backend.upload_blobs(project, blobs)

    gated = Gated(local)
    blobs = [os.urandom(1000) for _ in range(10)]
    added = threading.Event()
    with EarlySender(gated, "team", workers=1, batch_files=2, pending_bytes=3000) as sender:

        def add_all() -> None:
            for data in blobs:
                sender.add(md5_b64(data), data)
            added.set()

        adder = threading.Thread(target=add_all)
        adder.start()
        # 3,000 bytes may wait: the fourth blob has to wait for the first batch to go.
        assert not added.wait(0.3)
        gate.set()
        assert added.wait(10)
        adder.join()
        sent = sender.finish()

    assert (sent.files, sent.bytes) == (10, 10_000)
    assert local.missing_blobs("team", [md5_b64(data) for data in blobs]) == []
    local.close()


def test_an_artifact_that_exists_with_the_same_type_gets_a_sender(tmp_path: Path) -> None:
    local = LocalBackend(tmp_path / "store")
    _folder(tmp_path / "data", 3)
    with _client(tmp_path, local) as client:
        client.put(tmp_path / "data", "team", "set", "dataset")
    same = early_sender_for(local, "team", "set", "dataset", ["a.txt"], workers=1)
    other = early_sender_for(local, "team", "set", "model", ["a.txt"], workers=1)

    assert isinstance(same, EarlySender)
    assert other is None
    with same:
        assert same.finish().files == 0
    local.close()


def test_blobs_that_arrive_while_the_draft_is_checked_are_not_sent_twice(
    tmp_path: Path,
) -> None:
    # The early batch is held back until the draft has been answered, so the draft surely
    # finds its blobs missing; the upload then waits for the batch instead of sending them.
    contents = _folder(tmp_path / "data", 20)
    local = LocalBackend(tmp_path / "store")
    drafted = threading.Event()

    class Late(Recording):
        def upload_blobs(self, project: str, blobs: list[tuple[str, bytes]]) -> None:
            assert drafted.wait(10)
            self.calls.append(("upload_blobs", {}))
            self.backend.upload_blobs(project, blobs)

        def create_draft(self, *args: Any, **kwargs: Any) -> Any:
            self.calls.append(("create_draft", kwargs))
            try:
                return self.backend.create_draft(*args, **kwargs)
            finally:
                drafted.set()

    late = Late(local)
    with _client(tmp_path, late) as client:
        result = client.put(tmp_path / "data", "team", "set", "dataset")

    names = [name for name in late.names() if name != "close"]
    assert names.count("upload_blobs") == 1  # the early batch only
    assert names.index("create_draft") < names.index("upload_blobs") < names.index("commit")
    assert result.uploaded_files == 20
    assert _stored(local, result.version.id) == contents
    local.close()


def test_into_a_new_project_batches_go_without_asking_and_into_an_old_one_they_ask(
    recording: Recording, tmp_path: Path
) -> None:
    first = _folder(tmp_path / "first", 12)
    second = _folder(tmp_path / "second", 12)
    with _client(tmp_path, recording) as client:
        client.put(tmp_path / "first", "team", "set", "dataset")
        assert "missing_blobs" not in recording.names()  # a new project holds nothing
        assert sorted(recording.sent) == sorted(md5_b64(data) for data in first.values())
        recording.calls.clear()
        recording.sent.clear()

        result = client.put(tmp_path / "second", "team", "other", "dataset")

    assert "missing_blobs" in recording.names()  # the project exists: it may hold some
    assert sorted(recording.sent) == sorted(md5_b64(data) for data in second.values())
    assert _stored(recording.backend, result.version.id) == second


def test_a_new_artifact_is_looked_up_once_and_an_existing_one_twice(
    recording: Recording, tmp_path: Path
) -> None:
    """The early sender learns the artifact is new; the put does not ask again before its
    draft. For an artifact that exists, the put compares with its latest version."""
    _folder(tmp_path / "data", 12)
    with _client(tmp_path, recording) as client:
        client.put(tmp_path / "data", "team", "set", "dataset")
        assert recording.names().count("resolve") == 1
        (tmp_path / "data" / "part-0" / "f000.bin").write_bytes(b"changed")
        recording.calls.clear()
        client.put(tmp_path / "data", "team", "set", "dataset")
        assert recording.names().count("resolve") == 2


def test_an_equal_version_logged_while_a_new_artifact_was_hashed_is_reported_unchanged(
    recording: Recording, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The put does not look the artifact up again; its draft finds the equal version."""
    _folder(tmp_path / "data", 12)
    real = early_sender_for

    def looked_up_earlier(*args: Any, **kwargs: Any) -> EarlySender | None:
        sender = real(*args, **kwargs)
        if sender is not None:
            sender.new_artifact = True  # as if asked before the other client logged it
        return sender

    with _client(tmp_path, recording, "home-a") as first:
        logged = first.put(tmp_path / "data", "team", "set", "dataset")
    monkeypatch.setattr(session_module, "early_sender_for", looked_up_earlier)
    with _client(tmp_path, recording, "home-b") as second:
        again = second.put(tmp_path / "data", "team", "set", "dataset")

    assert "resolve" in recording.names()  # the sender's own look-up, and only that one
    assert again.unchanged
    assert again.version.id == logged.version.id
    assert again.version.version == "v0"


def test_the_last_progress_of_a_put_sent_early_is_every_byte_sent(
    recording: Recording, tmp_path: Path
) -> None:
    """Whether the draft committed at once or the commit came after, the caller last hears
    that every byte sent is done (a window's progress bar ends full)."""
    contents = _folder(tmp_path / "data", 30)
    heard: list[tuple[int, int]] = []
    real_draft = recording.backend.create_draft

    def draft_once_the_batch_is_in(*args: Any, **kwargs: Any) -> DraftResult:
        wait_for = time.monotonic() + 10
        while len(recording.sent) < 30 and time.monotonic() < wait_for:
            time.sleep(0.01)
        time.sleep(0.2)  # the batch's call returns after it is stored
        return real_draft(*args, **kwargs)

    recording.backend.create_draft = draft_once_the_batch_is_in  # type: ignore[method-assign]
    with _client(tmp_path, recording) as client:
        result = client.put(
            tmp_path / "data", "team", "set", "dataset", on_progress=lambda *a: heard.append(a)
        )
    sent = sum(len(data) for data in contents.values())
    assert result.uploaded_bytes == sent
    assert "commit" not in recording.names()  # the draft committed in the same call
    assert heard[-1] == (sent, sent)
