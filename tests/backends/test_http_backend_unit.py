"""HttpBackend against a scripted HTTP server on a real socket: what the contract suite
cannot show (dropped connections, resumed downloads, refused keys, hostile answers)."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from desktop_app.backends.http import AuthenticationError, HttpBackend, RetryPolicy, Timeouts
from desktop_app.core.digests import md5_b64
from desktop_app.core.errors import (
    BackendUnavailableError,
    CancelledError,
    IntegrityError,
    NotFoundError,
    OffsetMismatchError,
    ValidationError,
)
from desktop_app.core.manifest import Manifest, ManifestEntry
from desktop_app.core.refs import parse_ref

KEY = "adk_very_secret_key_123"
VERSION_ID = "0" * 32
VERSION = {
    "id": VERSION_ID,
    "project": "proj",
    "name": "data",
    "type": "dataset",
    "index": 0,
    "version": "v0",
    "digest": "d" * 32,
    "size": 3,
    "file_count": 1,
    "state": "COMMITTED",
    "description": None,
    "metadata": {},
    "aliases": ["latest"],
    "tags": [],
    "logged_by": None,
    "created_at": 1.0,
    "committed_at": 2.0,
}
BLOB = bytes(range(256)) * 1200  # 307,200 bytes
BLOB_DIGEST = md5_b64(BLOB)
BLOB_DIGEST_HEX = hashlib.md5(BLOB).hexdigest()

Action = Callable[["Handler"], None]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Script:
    actions: list[Action]
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    script: Script

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _handle(self) -> None:
        with self.script.lock:
            action = self.script.actions.pop(0) if self.script.actions else not_scripted
        action(self)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _handle  # noqa: N815 (http.server names)

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                line = self.rfile.readline()
                if not line:  # the client stopped mid-body (a cancelled upload)
                    return b"".join(parts)
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def record(self) -> Seen:
        seen = Seen(self.command, self.path, dict(self.headers), self.read_body())
        self.script.seen.append(seen)
        return seen

    def reply(
        self, status: int, body: Any = None, *, headers: dict[str, str] | None = None
    ) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        kind = "application/problem+json" if status >= 400 else "application/json"
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def drop(self) -> None:
        """Close the connection without an answer."""
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)


def not_scripted(handler: Handler) -> None:
    handler.record()
    handler.reply(500, {"code": "internal", "detail": "test server: request not scripted"})


def answer(status: int, body: Any = None, **headers: str) -> Action:
    def act(handler: Handler) -> None:
        handler.record()
        handler.reply(status, body, headers=headers)

    return act


def problem(status: int, code: str, detail: str, **extra: Any) -> Action:
    body = {"type": "about:blank", "status": status, "code": code, "detail": detail}
    return answer(status, {**body, **extra})


def drop_connection(handler: Handler) -> None:
    handler.record()
    handler.drop()


def send_blob_part(data: bytes, cut_at: int) -> Action:
    """Answer a blob GET (honouring Range) but cut the connection after ``cut_at`` bytes."""

    def act(handler: Handler) -> None:
        seen = handler.record()
        start = 0
        if "Range" in seen.headers:
            start = int(seen.headers["Range"].removeprefix("bytes=").rstrip("-"))
        body = data[start:]
        handler.send_response(206 if start else 200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Length", str(len(body)))
        if start:
            handler.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        handler.end_headers()
        handler.wfile.write(body[:cut_at])
        handler.wfile.flush()
        if cut_at < len(body):
            handler.drop()

    return act


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script(actions=[])
    handler = type("ScriptedHandler", (Handler,), {"script": script})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_backend(sleeps: list[float]) -> Iterator[Callable[..., HttpBackend]]:
    made: list[HttpBackend] = []

    def make(url: str, **options: Any) -> HttpBackend:
        options.setdefault("timeouts", Timeouts(connect=2, read=5))
        backend = HttpBackend(url, KEY, sleep=sleeps.append, **options)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


# -- retries -------------------------------------------------------------------------------
def test_a_get_is_retried_after_a_dropped_connection(server, make_backend, sleeps) -> None:
    url, script = server
    script.actions += [drop_connection, answer(200, VERSION)]

    version = make_backend(url).get_version(VERSION_ID)

    assert version.id == VERSION_ID
    assert [s.path for s in script.seen] == [f"/api/v1/versions/{VERSION_ID}"] * 2
    assert len(sleeps) == 1


def test_a_get_is_retried_on_503_and_gives_up_after_the_attempts(
    server, make_backend, sleeps
) -> None:
    url, script = server
    unavailable = problem(503, "internal", "overloaded")
    script.actions += [unavailable, answer(200, VERSION)]
    backend = make_backend(url, retry=RetryPolicy(attempts=3, base_delay=0.01))

    assert backend.get_version(VERSION_ID).id == VERSION_ID

    script.actions += [unavailable] * 3
    with pytest.raises(BackendUnavailableError, match="overloaded"):
        backend.get_version(VERSION_ID)
    assert len(script.seen) == 5


def test_a_creating_post_is_not_sent_again_once_it_reached_the_server(server, make_backend) -> None:
    url, script = server
    script.actions += [drop_connection, answer(200, {})]

    with pytest.raises(BackendUnavailableError, match=r"127\.0\.0\.1") as caught:
        make_backend(url).create_run("proj", job_type="train")

    assert len(script.seen) == 1  # a second POST could create a second run
    assert KEY not in str(caught.value)


def test_a_creating_post_is_retried_when_it_never_left(make_backend, sleeps) -> None:
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = make_backend(f"http://127.0.0.1:{port}", retry=RetryPolicy(attempts=3))

    with pytest.raises(BackendUnavailableError, match="could not be reached"):
        backend.create_run("proj")

    assert len(sleeps) == 2


def test_commit_is_idempotent_so_it_is_retried(server, make_backend) -> None:
    url, script = server
    script.actions += [drop_connection, answer(200, VERSION)]

    assert make_backend(url).commit(VERSION_ID).index == 0
    assert [s.method for s in script.seen] == ["POST", "POST"]


# -- downloads -----------------------------------------------------------------------------
def test_a_download_cut_mid_stream_resumes_with_range(server, make_backend, sleeps) -> None:
    url, script = server
    script.actions += [send_blob_part(BLOB, 100_000), send_blob_part(BLOB, len(BLOB))]

    chunks = list(make_backend(url).read_blob("proj", BLOB_DIGEST, chunk_size=16_384))

    assert b"".join(chunks) == BLOB
    first, second = script.seen
    assert "Range" not in first.headers
    resumed_at = int(second.headers["Range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= 100_000
    assert second.path == first.path == f"/api/v1/projects/proj/blobs/{BLOB_DIGEST_HEX}"
    assert len(sleeps) == 1


def test_a_download_from_an_offset_asks_for_that_range(server, make_backend) -> None:
    url, script = server
    script.actions += [send_blob_part(BLOB, len(BLOB))]

    data = b"".join(make_backend(url).read_blob("proj", BLOB_DIGEST, start=1234))

    assert data == BLOB[1234:]
    assert script.seen[0].headers["Range"] == "bytes=1234-"


def test_a_download_that_keeps_breaking_gives_up(server, make_backend) -> None:
    url, script = server
    script.actions += [send_blob_part(BLOB, 0)] + [drop_connection] * 20
    backend = make_backend(url, resume_attempts=2, retry=RetryPolicy(attempts=2))

    with pytest.raises(BackendUnavailableError):
        b"".join(backend.read_blob("proj", BLOB_DIGEST))


def whole_blob(handler: Handler) -> None:
    """Answer with the whole blob, whatever Range asks for."""
    handler.record()
    handler.send_response(200)
    handler.send_header("Content-Length", str(len(BLOB)))
    handler.end_headers()
    handler.wfile.write(BLOB)


def test_a_server_ignoring_range_is_handled(server, make_backend) -> None:
    url, script = server
    script.actions += [whole_blob]
    data = b"".join(make_backend(url).read_blob("proj", BLOB_DIGEST, start=5000))

    assert data == BLOB[5000:]


def lent_buffers(size: int) -> Iterator[memoryview]:
    """Buffers for ``read_blob_into``, each a fresh one so the test can keep what it got."""
    while True:
        yield memoryview(bytearray(size))


def test_reading_into_lent_buffers_fills_each_and_resumes_after_a_cut(
    server, make_backend, sleeps
) -> None:
    url, script = server
    script.actions += [send_blob_part(BLOB, 100_000), send_blob_part(BLOB, len(BLOB))]

    views = list(make_backend(url).read_blob_into("proj", BLOB_DIGEST, lent_buffers(65_536)))

    assert b"".join(views) == BLOB
    assert [len(view) for view in views[:-1]] == [65_536] * (len(views) - 1)  # all full
    resumed_at = int(script.seen[1].headers["Range"].removeprefix("bytes=").rstrip("-"))
    assert resumed_at == 100_000  # the part of a buffer that arrived is kept
    assert len(sleeps) == 1


def test_reading_into_lent_buffers_from_a_server_ignoring_range(server, make_backend) -> None:
    url, script = server
    script.actions += [send_blob_part(BLOB, 70_000), whole_blob]

    views = list(make_backend(url).read_blob_into("proj", BLOB_DIGEST, lent_buffers(50_000)))

    assert b"".join(views) == BLOB


def test_reading_into_lent_buffers_gives_up_when_it_keeps_breaking(server, make_backend) -> None:
    url, script = server
    script.actions += [send_blob_part(BLOB, 1000)] + [drop_connection] * 20
    backend = make_backend(url, resume_attempts=2, retry=RetryPolicy(attempts=2))

    with pytest.raises(BackendUnavailableError):
        list(backend.read_blob_into("proj", BLOB_DIGEST, lent_buffers(4096)))


def test_reading_past_the_end_gives_nothing_like_the_local_store(server, make_backend) -> None:
    url, script = server
    script.actions += [problem(416, "invalid", "range not satisfiable")]

    assert list(make_backend(url).read_blob("proj", BLOB_DIGEST, start=len(BLOB))) == []


def test_a_missing_blob_is_not_found(server, make_backend) -> None:
    url, script = server
    script.actions += [problem(404, "not_found", "project 'proj' holds no such file")]

    with pytest.raises(NotFoundError, match="no such file"):
        b"".join(make_backend(url).read_blob("proj", BLOB_DIGEST))


# -- uploads -------------------------------------------------------------------------------
def test_upload_streams_chunks_with_size_and_offset(server, make_backend) -> None:
    url, script = server
    script.actions += [answer(200, {"complete": True, "offset": len(BLOB)})]

    pieces = [BLOB[:1000], BLOB[1000:200_000], BLOB[200_000:]]
    make_backend(url).upload_blob("proj", BLOB_DIGEST, len(BLOB), iter(pieces))

    (seen,) = script.seen
    assert seen.method == "PUT"
    assert seen.path == f"/api/v1/projects/proj/blobs/{BLOB_DIGEST_HEX}?size={len(BLOB)}&offset=0"
    assert seen.headers["Transfer-Encoding"] == "chunked"
    assert seen.body == BLOB


def test_an_offset_mismatch_says_where_to_resume(server, make_backend) -> None:
    url, script = server
    script.actions += [problem(409, "offset_mismatch", "resume from byte 4096", expected=4096)]

    with pytest.raises(OffsetMismatchError, match="4096") as caught:
        make_backend(url).upload_blob("proj", BLOB_DIGEST, len(BLOB), [BLOB[10:]], offset=10)

    assert caught.value.expected == 4096


def test_an_integrity_problem_is_an_integrity_error(server, make_backend) -> None:
    url, script = server
    script.actions += [problem(400, "integrity", "the bytes hash to something else")]

    with pytest.raises(IntegrityError, match="hash to"):
        make_backend(url).upload_blob("proj", BLOB_DIGEST, 3, [b"abc"])


def test_cancelling_inside_the_body_stops_the_upload(server, make_backend) -> None:
    url, script = server
    script.actions += [answer(200, {"complete": False, "offset": 1000}), drop_connection]

    def chunks() -> Iterator[bytes]:
        yield BLOB[:1000]
        raise CancelledError("the upload was cancelled")

    backend = make_backend(url)
    with pytest.raises(CancelledError):
        backend.upload_blob("proj", BLOB_DIGEST, len(BLOB), chunks())
    # The body ended cleanly, so the server keeps the 1000 bytes for a later resume.
    assert script.seen[0].body == BLOB[:1000]

    with pytest.raises(CancelledError):  # the cause wins over the dropped connection
        backend.upload_blob("proj", BLOB_DIGEST, len(BLOB), chunks())


def test_small_blobs_travel_in_frames(server, make_backend) -> None:
    url, script = server
    script.actions += [answer(204)]
    blobs = [(md5_b64(b"one"), b"one"), (md5_b64(b""), b"")]

    make_backend(url).upload_blobs("proj", blobs)

    (seen,) = script.seen
    expected = b"".join(
        hashlib.md5(data).digest() + len(data).to_bytes(8, "big") + data for _d, data in blobs
    )
    assert (seen.method, seen.path, seen.body) == ("POST", "/api/v1/projects/proj/blobs", expected)


# -- keys ----------------------------------------------------------------------------------
def test_the_key_travels_only_in_the_authorization_header(server, make_backend) -> None:
    url, script = server
    script.actions += [answer(200, VERSION)]

    make_backend(url).get_version(VERSION_ID)

    (seen,) = script.seen
    assert seen.headers["Authorization"] == f"Bearer {KEY}"
    assert KEY not in seen.path


def test_401_is_an_authentication_error_without_the_key(server, make_backend) -> None:
    url, script = server
    script.actions += [problem(401, "unauthorized", f"unknown API key {KEY}")]

    with pytest.raises(AuthenticationError) as caught:
        make_backend(url).list_projects()

    message = str(caught.value)
    assert KEY not in message
    assert "artifact-desk login" in message
    assert caught.value.code == "unauthorized"
    assert caught.value.exit_code == 7


def test_403_is_an_authentication_error_naming_the_fix(server, make_backend) -> None:
    url, script = server
    script.actions += [problem(403, "forbidden", "write access needed")]

    with pytest.raises(AuthenticationError, match="write access needed"):
        make_backend(url).commit(VERSION_ID)


# -- hostile or broken answers ---------------------------------------------------------------
@pytest.mark.parametrize(
    "path", ["../../etc/passwd", "/etc/passwd", "a/../../b", "C:/Windows/x", "ok\x00.txt"]
)
def test_an_entry_path_escaping_the_folder_is_refused(server, make_backend, path) -> None:
    url, script = server
    entry = {"path": path, "digest": md5_b64(b"abc"), "size": 3}
    script.actions += [answer(200, {"items": [entry], "next_cursor": None})] * 2
    backend = make_backend(url)

    with pytest.raises(ValidationError, match="entry path"):
        backend.list_entries(VERSION_ID)
    with pytest.raises(ValidationError, match="entry path"):
        backend.get_manifest(VERSION_ID)


def test_entries_colliding_on_case_are_refused_in_a_manifest(server, make_backend) -> None:
    url, script = server
    entries = [{"path": p, "digest": md5_b64(b"x"), "size": 1} for p in ("A.txt", "a.txt")]
    script.actions += [answer(200, {"items": entries, "next_cursor": None})]

    with pytest.raises(ValidationError, match="differ only in case"):
        make_backend(url).get_manifest(VERSION_ID)


def test_lists_follow_every_page(server, make_backend) -> None:
    url, script = server
    project = {"name": "p", "artifact_count": 1, "created_at": 1.0}
    script.actions += [
        answer(200, {"items": [project], "next_cursor": "p"}),
        answer(200, {"items": [{**project, "name": "q"}], "next_cursor": None}),
    ]

    names = [p.name for p in make_backend(url).list_projects()]

    assert names == ["p", "q"]
    assert script.seen[1].path == "/api/v1/projects?limit=1000&cursor=p"


def test_a_malformed_record_is_a_clear_error(server, make_backend) -> None:
    url, script = server
    script.actions += [answer(200, {**VERSION, "size": "big"})]

    with pytest.raises(ValidationError, match="'size' should be a whole number"):
        make_backend(url).get_version(VERSION_ID)


def test_names_are_checked_before_they_reach_a_url(make_backend) -> None:
    backend = make_backend("http://127.0.0.1:9")  # never contacted
    with pytest.raises(ValidationError, match="my/data"):
        backend.get_collection("proj", "my/data")
    with pytest.raises(ValidationError, match="names no project"):
        backend.resolve(parse_ref("data:best"))
    with pytest.raises(NotFoundError):
        backend.get_version("..")


def test_create_draft_sends_the_wandb_manifest(server, make_backend) -> None:
    url, script = server
    draft = {"version": {**VERSION, "index": None, "state": "PENDING"}, "missing": ["x"]}
    script.actions += [answer(200, draft)]
    manifest = Manifest([ManifestEntry("a.txt", md5_b64(b"abc"), 3)])

    result = make_backend(url).create_draft(
        "team/proj", "data", "dataset", manifest, metadata={"n": 1}, aliases=["best"]
    )

    assert result.missing == ("x",)
    assert not result.unchanged
    assert result.version.index is None
    (seen,) = script.seen
    assert seen.path == "/api/v1/projects/team:proj/artifacts/data/drafts"
    body = json.loads(seen.body)
    assert body["manifest"] == manifest.to_json()
    assert (body["type"], body["metadata"], body["aliases"]) == ("dataset", {"n": 1}, ["best"])
