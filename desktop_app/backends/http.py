"""The team-server backend: the ``Backend`` protocol over the HTTP API (``server/API.md``).

It behaves like ``LocalBackend``: the same records, the same exceptions, the same checks
on input. Blob transfers stream in chunks; downloads resume with ``Range`` when a
connection drops, uploads resume from the server's offset on the next attempt.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import requests
import urllib3.exceptions

from desktop_app.backends.http_records import (
    collection_from_json,
    draft_from_json,
    entry_from_json,
    event_from_json,
    items_of,
    offset_from_json,
    optional_run_from_json,
    page_of,
    project_from_json,
    run_from_json,
    version_from_json,
)
from desktop_app.backends.http_transport import (
    AuthenticationError,
    Retry,
    RetryPolicy,
    StreamedBody,
    Timeouts,
    Transport,
    project_path,
    segment,
)
from desktop_app.core.digests import b64_to_hex, hex_to_b64
from desktop_app.core.errors import (
    ArtifactDeskError,
    IntegrityError,
    NotFoundError,
    ValidationError,
)
from desktop_app.core.manifest import Manifest, ManifestEntry
from desktop_app.core.metadata import normalize_metadata
from desktop_app.core.names import (
    validate_artifact_name,
    validate_project,
    validate_user_alias,
)
from desktop_app.core.records import (
    CollectionInfo,
    DraftResult,
    Event,
    FeedPage,
    Page,
    ProjectInfo,
    RunInfo,
    VersionInfo,
)
from desktop_app.core.refs import ArtifactRef

__all__ = ["AuthenticationError", "HttpBackend", "RetryPolicy", "Timeouts"]

T = TypeVar("T")
PAGE_LIMIT = 1000
MAX_BATCH_BYTES = 64 * 1024 * 1024
MAX_DIGESTS_PER_CALL = 10_000
_FRAME_HEADER_BYTES = 16 + 8
# What a body read may raise when the connection drops mid-stream.
_STREAM_ERRORS = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
)


def _id(value: str, what: str) -> str:
    """A version or run id as a URL segment; ids the server cannot hold are not found."""
    if not isinstance(value, str) or value in ("", ".", ".."):
        raise NotFoundError(f"{what} {value!r} does not exist")
    return quote(value, safe="")


def _project(project: str) -> str:
    return project_path(validate_project(project))


def _artifact(project: str, name: str) -> str:
    name_segment = segment(validate_artifact_name(name), "artifact name")
    return f"/projects/{_project(project)}/artifacts/{name_segment}"


_CHECKSUM = re.compile(r"[0-9a-f]{32}")


def _blob_path(project: str, digest: str) -> str:
    return f"/projects/{_project(project)}/blobs/{b64_to_hex(digest)}"


class HttpBackend:
    """A ``Backend`` that talks to an Artifact Desk server with one pooled session.

    ``url`` is the server's base URL (``https://host[:port]``); ``api_key`` is sent only in
    the ``Authorization`` header. Safe to share between threads.
    """

    def __init__(
        self,
        url: str,
        api_key: str | None,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        pool_size: int = 16,
        resume_attempts: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._t = Transport(
            url, api_key, timeouts=timeouts, retry=retry, pool_size=pool_size, sleep=sleep
        )
        self._resume_attempts = resume_attempts
        self._sleep = sleep

    @property
    def url(self) -> str:
        """The server's normalized base URL."""
        return self._t.base_url

    def __repr__(self) -> str:
        return f"HttpBackend({self.url!r})"

    def __enter__(self) -> HttpBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._t.close()

    def health(self) -> dict[str, Any]:
        """The server's ``{"status": "ok", "version": ...}``; needs no key."""
        answer = self._t.call("GET", "/health")
        if not isinstance(answer, dict) or answer.get("status") != "ok":
            raise ValidationError(
                f"{self.url} did not answer like an Artifact Desk server; check the URL"
            )
        return answer

    # -- helpers -------------------------------------------------------------------------
    def _all_pages(
        self,
        path: str,
        parse: Callable[[object], T],
        what: str,
        params: Mapping[str, Any] | None = None,
    ) -> list[T]:
        items: list[T] = []
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            query = {**(params or {}), "limit": PAGE_LIMIT}
            if cursor is not None:
                query["cursor"] = cursor
            page = page_of(self._t.call("GET", path, params=query), parse, what)
            items.extend(page.items)
            if page.next_cursor is None:
                return items
            if page.next_cursor in seen:
                raise ValidationError(
                    f"the server at {self.url} sent the same page of {what} twice; "
                    "tell its admin (the listing would never end)"
                )
            seen.add(page.next_cursor)
            cursor = page.next_cursor

    def _versions(self, path: str) -> list[VersionInfo]:
        return items_of(self._t.call("GET", path), version_from_json, "versions")

    def _runs(self, path: str) -> list[RunInfo]:
        return items_of(self._t.call("GET", path), run_from_json, "runs")

    # -- browsing ------------------------------------------------------------------------
    def list_projects(self) -> list[ProjectInfo]:
        return self._all_pages("/projects", project_from_json, "projects")

    def list_artifact_types(self, project: str) -> list[str]:
        answer = self._t.call("GET", f"/projects/{_project(project)}/types")
        return items_of(answer, _type_name, "artifact types")

    def list_collections(self, project: str, type_: str | None = None) -> list[CollectionInfo]:
        params = {} if type_ is None else {"type": type_}
        path = f"/projects/{_project(project)}/artifacts"
        return self._all_pages(path, collection_from_json, "artifacts", params)

    def get_collection(self, project: str, name: str) -> CollectionInfo:
        return collection_from_json(self._t.call("GET", _artifact(project, name)))

    def list_versions(
        self, project: str, name: str, *, include_deleted: bool = False
    ) -> list[VersionInfo]:
        params = {"include_deleted": "true" if include_deleted else "false"}
        path = f"{_artifact(project, name)}/versions"
        return self._all_pages(path, version_from_json, "versions", params)

    def resolve(self, ref: ArtifactRef) -> VersionInfo:
        """The committed version ``ref`` names (``ref.project`` must be set)."""
        if ref.project is None:
            raise ValidationError(
                f"reference {str(ref)!r} names no project; write it as "
                f"project/{ref.name}:{ref.selector}"
            )
        path = f"{_artifact(ref.project, ref.name)}/versions/{segment(ref.selector, 'alias')}"
        return version_from_json(self._t.call("GET", path))

    def get_version(self, version_id: str) -> VersionInfo:
        return version_from_json(self._t.call("GET", f"/versions/{_id(version_id, 'version id')}"))

    def get_manifest(self, version_id: str) -> Manifest:
        entries: list[ManifestEntry] = []
        cursor: str | None = None
        while True:
            page = self.list_entries(version_id, cursor=cursor, limit=10_000)
            entries.extend(page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        manifest = Manifest(entries)  # validates every path again, and duplicates
        manifest.validate()
        return manifest

    def list_entries(
        self, version_id: str, *, cursor: str | None = None, limit: int = 1000
    ) -> Page[ManifestEntry]:
        """The version's entries in path order; every path is validated on arrival."""
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        path = f"/versions/{_id(version_id, 'version id')}/entries"
        return page_of(self._t.call("GET", path, params=params), entry_from_json, "entries")

    def find_versions_with_file(
        self, project: str, path: str, *, limit: int = 5
    ) -> list[VersionInfo]:
        answer = self._t.call(
            "GET", f"/projects/{_project(project)}/files", params={"path": path, "limit": limit}
        )
        return items_of(answer, version_from_json, "versions")

    # -- runs and lineage ----------------------------------------------------------------
    def create_run(
        self,
        project: str,
        *,
        job_type: str | None = None,
        name: str | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> RunInfo:
        body = {"job_type": job_type, "name": name, "config": normalize_metadata(config)}
        path = f"/projects/{_project(project)}/runs"
        return run_from_json(self._t.call("POST", path, body=body, retry=Retry.UNSENT))

    def finish_run(self, run_id: str, *, state: str = "finished") -> RunInfo:
        path = f"/runs/{_id(run_id, 'run')}/finish"
        return run_from_json(self._t.call("POST", path, body={"state": state}, retry=Retry.UNSENT))

    def get_run(self, run_id: str) -> RunInfo:
        return run_from_json(self._t.call("GET", f"/runs/{_id(run_id, 'run')}"))

    def use_version(self, run_id: str, version_id: str) -> None:
        """Record that the run used the version as an input."""
        body = {"version_id": version_id}
        self._t.call("POST", f"/runs/{_id(run_id, 'run')}/uses", body=body, retry=Retry.UNSENT)

    def logged_by(self, version_id: str) -> RunInfo | None:
        path = f"/versions/{_id(version_id, 'version id')}/logged-by"
        return optional_run_from_json(self._t.call("GET", path))

    def used_by(self, version_id: str) -> list[RunInfo]:
        return self._runs(f"/versions/{_id(version_id, 'version id')}/used-by")

    def run_outputs(self, run_id: str) -> list[VersionInfo]:
        return self._versions(f"/runs/{_id(run_id, 'run')}/outputs")

    def run_inputs(self, run_id: str) -> list[VersionInfo]:
        return self._versions(f"/runs/{_id(run_id, 'run')}/inputs")

    # -- writing versions ----------------------------------------------------------------
    def create_draft(
        self,
        project: str,
        name: str,
        type_: str,
        manifest: Manifest,
        *,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        aliases: Sequence[str] = (),
        tags: Sequence[str] = (),
        run_id: str | None = None,
        commit: bool = False,
    ) -> DraftResult:
        body: dict[str, Any] = {
            "type": type_,
            "manifest": manifest.to_json(),
            "description": description,
            "metadata": normalize_metadata(metadata),
            "aliases": list(aliases),
            "tags": list(tags),
            "run_id": run_id,
            "commit": commit,
        }
        path = f"{_artifact(project, name)}/drafts"
        return draft_from_json(self._t.call("POST", path, body=body, retry=Retry.UNSENT))

    def upload_offset(self, project: str, digest: str) -> int:
        """How many bytes of the blob an interrupted upload already stored."""
        return offset_from_json(self._t.call("GET", f"{_blob_path(project, digest)}/offset"))

    def upload_blob(
        self,
        project: str,
        digest: str,
        size: int,
        chunks: Iterable[bytes],
        *,
        offset: int = 0,
    ) -> None:
        """Stream the blob's bytes from ``offset`` on; the server verifies the digest.

        Sent again automatically only if the connection failed before the first byte
        left; otherwise the caller resumes from :meth:`upload_offset`.
        """
        path = _blob_path(project, digest)
        if size < 0 or offset < 0 or offset > size:
            raise ValidationError(
                f"upload of {digest}: offset {offset} and size {size} do not fit; the offset "
                "must be between 0 and the size"
            )
        body = StreamedBody(chunks)
        try:
            response = self._t.send(
                "PUT",
                path,
                params={"size": size, "offset": offset},
                data=body,
                headers={"Content-Type": "application/octet-stream", "Accept": "application/json"},
            )
        except ArtifactDeskError:
            if body.error is not None:
                raise body.error from None  # the cause (a cancel, a read error) comes first
            raise
        with response:
            if body.error is not None:
                raise body.error
            offset_from_json(_json_of(response), "upload answer")

    def upload_blobs(self, project: str, blobs: Sequence[tuple[str, bytes]]) -> None:
        """Small blobs in frames (16 MD5 bytes, 8-byte size, bytes), one POST per 64 MiB."""
        path = f"/projects/{_project(project)}/blobs"
        headers = {"Content-Type": "application/octet-stream"}
        for body in _frame_batches(blobs):
            self._t.send("POST", path, data=body, headers=headers).close()

    def missing_blobs(self, project: str, digests: Sequence[str]) -> list[str]:
        """Asked in requests of at most 10,000 digests (the server's limit)."""
        path = f"/projects/{_project(project)}/blobs/missing"
        hexed = [b64_to_hex(digest) for digest in digests]
        lacking: set[str] = set()
        for start in range(0, len(hexed), MAX_DIGESTS_PER_CALL):
            asked = hexed[start : start + MAX_DIGESTS_PER_CALL]
            answer = self._t.call("POST", path, body={"digests": asked})
            missing = answer.get("missing") if isinstance(answer, dict) else None
            if not isinstance(missing, list) or not set(missing) <= set(asked):
                raise ValidationError(
                    f"the server at {self.url} answered which blobs it lacks with other "
                    "digests than it was asked about; tell the server's admin"
                )
            lacking.update(missing)
        return [d for d, h in zip(digests, hexed, strict=True) if h in lacking]

    def blob_checksums(self, project: str, digests: Sequence[str]) -> dict[str, str]:
        """Asked in requests of at most 10,000 digests (the server's limit)."""
        path = f"/projects/{_project(project)}/blobs/checksums"
        hexed = {b64_to_hex(digest): digest for digest in digests}
        asked_all = sorted(hexed)
        found: dict[str, str] = {}
        for start in range(0, len(asked_all), MAX_DIGESTS_PER_CALL):
            asked = asked_all[start : start + MAX_DIGESTS_PER_CALL]
            answer = self._t.call("POST", path, body={"digests": asked})
            checksums = answer.get("checksums") if isinstance(answer, dict) else None
            asked_here = set(asked)
            if not isinstance(checksums, dict) or not all(
                h in asked_here and isinstance(c, str) and _CHECKSUM.fullmatch(c)
                for h, c in checksums.items()
            ):
                raise ValidationError(
                    f"the server at {self.url} answered with checksums for other blobs than "
                    "it was asked about, or checksums that are not 32 hex digits; tell the "
                    "server's admin"
                )
            found.update((hexed[h], c) for h, c in checksums.items())
        return found

    def commit(self, version_id: str) -> VersionInfo:
        """Give the draft its version number and move ``latest``; idempotent, so retried."""
        path = f"/versions/{_id(version_id, 'version id')}/commit"
        return version_from_json(self._t.call("POST", path))

    def discard_draft(self, version_id: str) -> None:
        self._t.call("DELETE", f"/versions/{_id(version_id, 'version id')}/draft")

    # -- reading blobs -------------------------------------------------------------------
    def read_blobs(self, project: str, digests: Sequence[str]) -> Iterator[tuple[str, bytes]]:
        """Small blobs in one POST; each frame's bytes are checked against its digest."""
        wanted = [b64_to_hex(digest) for digest in digests]
        path = f"/projects/{_project(project)}/blobs/fetch"
        body = json.dumps({"digests": wanted}).encode()
        response = self._t.send(
            "POST", path, data=body, headers={"Content-Type": "application/json"}
        )
        with response:
            payload = response.content
        found = list(_parse_frames(payload))
        if [hex_digest for hex_digest, _data in found] != wanted:
            raise IntegrityError(
                f"the server at {self.url} answered a batch download with other blobs than "
                "asked for; tell the server's admin"
            )
        for hex_digest, data in found:
            if hashlib.md5(data).hexdigest() != hex_digest:
                raise IntegrityError(
                    f"blob {hex_digest} arrived corrupted from {self.url}; try again"
                )
            yield hex_to_b64(hex_digest), data

    def read_blob(
        self, project: str, digest: str, *, start: int = 0, chunk_size: int = 1 << 20
    ) -> Iterator[bytes]:
        """Stream the blob from byte ``start``, resuming with ``Range`` after a drop."""
        path = _blob_path(project, digest)
        if start < 0 or chunk_size < 1:
            raise ValidationError(
                f"cannot read blob {digest} from byte {start} in chunks of {chunk_size}; "
                "start at 0 or later and use chunks of at least 1 byte"
            )
        return self._stream_blob(path, digest, start, chunk_size)

    def _stream_blob(self, path: str, digest: str, start: int, chunk_size: int) -> Iterator[bytes]:
        position = start
        failures = 0
        while True:
            headers = {"Accept-Encoding": "identity"}
            if position:
                headers["Range"] = f"bytes={position}-"
            response = self._t.send("GET", path, headers=headers, stream=True, ok={416})
            with response:
                if response.status_code == 416:
                    return  # nothing after ``position``, as reading past the end locally
                skip = _bytes_to_skip(response, position, digest)
                try:
                    # Straight from the socket into one new bytes object per chunk (the body
                    # is asked for without encoding); ``iter_content`` would copy each chunk
                    # once more through urllib3's decoding buffer.
                    while chunk := response.raw.read(chunk_size, decode_content=False):
                        if skip:
                            dropped = min(skip, len(chunk))
                            chunk, skip = chunk[dropped:], skip - dropped
                            if not chunk:
                                continue
                        position += len(chunk)
                        failures = 0
                        yield chunk
                    return
                except _STREAM_ERRORS as exc:
                    failures += 1
                    if failures > self._resume_attempts:
                        raise self._t.unavailable(exc, "GET", path) from exc
            self._sleep(self._t.retry.delay(failures - 1))

    def read_blob_into(
        self, project: str, digest: str, buffers: Iterator[memoryview]
    ) -> Iterator[memoryview]:
        """Stream the blob into buffers the caller lends, resuming with ``Range`` after a drop.

        Each buffer taken from ``buffers`` is filled up (the last one as far as the blob
        goes) and yielded; the next is taken once the caller is back. Reused buffers spare
        the memory of a new object per chunk, whose page faults cost more than the copy.
        """
        return self._stream_blob_into(_blob_path(project, digest), digest, buffers)

    def _stream_blob_into(
        self, path: str, digest: str, buffers: Iterator[memoryview]
    ) -> Iterator[memoryview]:
        buffer, filled, done = next(buffers), 0, 0  # ``done``: bytes yielded before ``buffer``
        failures = 0
        while True:
            offset = done + filled
            headers = {"Accept-Encoding": "identity"}
            if offset:
                headers["Range"] = f"bytes={offset}-"
            response = self._t.send("GET", path, headers=headers, stream=True, ok={416})
            with response:
                if response.status_code == 416:
                    break  # nothing after ``offset``, as reading past the end locally
                skip = _bytes_to_skip(response, offset, digest)
                left = _body_length(response)
                readinto = _body_readinto(response)
                try:
                    while True:
                        # Bytes before ``offset`` (a server ignoring Range) are read and
                        # dropped in the free part of the buffer.
                        room = buffer[filled : filled + skip] if skip else buffer[filled:]
                        if not (count := readinto(room)):
                            break
                        if left is not None:
                            left -= count
                        if skip:
                            skip -= count
                            continue
                        filled += count
                        failures = 0
                        if filled == len(buffer):
                            yield buffer
                            buffer, filled, done = next(buffers), 0, done + filled
                    if left:
                        raise http.client.IncompleteRead(b"", left)
                    _release_connection(response)
                    break
                except _STREAM_ERRORS as exc:
                    failures += 1
                    if failures > self._resume_attempts:
                        raise self._t.unavailable(exc, "GET", path) from exc
            self._sleep(self._t.retry.delay(failures - 1))
        if filled:
            yield buffer[:filled]

    def local_blob_paths(self, project: str, digests: Sequence[str]) -> dict[str, Path]:
        """None: a server's blobs are never on this machine."""
        return {}

    # -- changing versions ---------------------------------------------------------------
    def add_alias(self, version_id: str, alias: str) -> VersionInfo:
        """Point ``alias`` at this version, moving it from any other version."""
        alias = validate_user_alias(alias)  # it becomes a URL segment, so check it first
        path = f"/versions/{_id(version_id, 'version id')}/aliases/{segment(alias, 'alias')}"
        return version_from_json(self._t.call("PUT", path))

    def remove_alias(self, version_id: str, alias: str) -> VersionInfo:
        alias = validate_user_alias(alias)
        path = f"/versions/{_id(version_id, 'version id')}/aliases/{segment(alias, 'alias')}"
        return version_from_json(self._t.call("DELETE", path))

    def update_version(
        self,
        version_id: str,
        *,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        tags: Sequence[str] | None = None,
    ) -> VersionInfo:
        """Change what is given; ``None`` leaves a field as it is."""
        body: dict[str, Any] = {}
        if description is not None:
            body["description"] = description
        if metadata is not None:
            body["metadata"] = normalize_metadata(metadata)
        if tags is not None:
            body["tags"] = list(tags)
        path = f"/versions/{_id(version_id, 'version id')}"
        return version_from_json(self._t.call("PATCH", path, body=body))

    def delete_version(self, version_id: str) -> VersionInfo:
        """Soft delete: the version disappears from lists; its blobs wait for GC."""
        path = f"/versions/{_id(version_id, 'version id')}"
        return version_from_json(self._t.call("DELETE", path))

    # -- change feed ---------------------------------------------------------------------
    def events(self, since: int = 0, *, limit: int = 1000, wait: float = 0) -> list[Event]:
        """Events with ``seq > since``; ``wait`` seconds (0-30) long-polls for new ones."""
        return list(self._feed(since, limit, wait).events)

    def feed(self, since: int = 0, *, limit: int = 1000) -> FeedPage:
        return self._feed(since, limit, 0)

    def _feed(self, since: int, limit: int, wait: float) -> FeedPage:
        params: dict[str, Any] = {"since": since, "limit": limit}
        if wait:
            params["wait"] = wait
        answer = self._t.call(
            "GET", "/events", params=params, read_timeout=self._t.timeouts.read + wait
        )
        events = items_of(answer, event_from_json, "events")
        raw_cursor = answer.get("next_cursor") if isinstance(answer, dict) else None
        try:
            cursor = int(raw_cursor) if raw_cursor is not None else since
        except (TypeError, ValueError):
            raise ValidationError(
                f"the server sent a feed cursor that is not a number: {raw_cursor!r}"
            ) from None
        if events:
            cursor = max(cursor, events[-1].seq)
        return FeedPage(tuple(events), max(cursor, since))


def _type_name(item: object) -> str:
    if not isinstance(item, str):
        raise ValidationError(f"the server sent an artifact type that is not a string: {item!r}")
    return item


def _json_of(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ValidationError(
            f"the server answered {response.request.method} with something that is not JSON; "
            "check that the URL points at an Artifact Desk server"
        ) from None


def _bytes_to_skip(response: requests.Response, position: int, digest: str) -> int:
    """Bytes at the start of the answer that precede ``position``."""
    if response.status_code != 206:
        return position  # the server sent the whole blob
    content_range = response.headers.get("Content-Range", "")
    try:
        first = int(content_range.split(" ", 1)[1].split("-", 1)[0])
    except (IndexError, ValueError):
        raise IntegrityError(
            f"the server answered a ranged read of blob {digest} without a valid "
            f"Content-Range ({content_range!r}); tell the server's admin"
        ) from None
    if first > position:
        raise IntegrityError(
            f"the server sent blob {digest} from byte {first} when byte {position} was asked "
            "for; tell the server's admin"
        )
    return position - first


def _body_length(response: requests.Response) -> int | None:
    """The bytes the answer's body should hold, when the server said (``Content-Length``)."""
    value = response.headers.get("Content-Length", "")
    return int(value) if value.isdigit() else None


def _body_readinto(response: requests.Response) -> Callable[[memoryview], int]:
    """``readinto`` of the answer's body, straight from the connection where possible."""
    # urllib3 keeps the standard library's response here; its own ``readinto`` reads into
    # a new object and copies that.
    body = getattr(response.raw, "_fp", None)
    if isinstance(body, http.client.HTTPResponse):
        return body.readinto
    return response.raw.readinto


def _release_connection(response: requests.Response) -> None:
    """Give a fully read connection back to the pool, as urllib3 does after its own reads."""
    body = getattr(response.raw, "_fp", None)
    if isinstance(body, http.client.HTTPResponse) and body.isclosed():
        response.raw.release_conn()


def _parse_frames(body: bytes) -> Iterator[tuple[str, bytes]]:
    """``(hex digest, bytes)`` of each frame of a batch download."""
    position = 0
    while position < len(body):
        if position + _FRAME_HEADER_BYTES > len(body):
            raise IntegrityError("a batch download ended inside a frame header; try again")
        hex_digest = body[position : position + 16].hex()
        size = int.from_bytes(body[position + 16 : position + 24], "big")
        position += _FRAME_HEADER_BYTES
        if position + size > len(body):
            raise IntegrityError("a batch download ended inside a blob; try again")
        yield hex_digest, body[position : position + size]
        position += size


def _frame_batches(blobs: Sequence[tuple[str, bytes]]) -> Iterator[bytes]:
    """Request bodies of at most 64 MiB; digests are checked before anything is sent."""
    # Header and bytes are joined once per body, not copied into a frame each first.
    frames = [
        (bytes.fromhex(b64_to_hex(digest)) + len(data).to_bytes(8, "big"), data)
        for digest, data in blobs
    ]
    batch: list[bytes] = []
    batch_bytes = 0
    for header, data in frames:
        size = _FRAME_HEADER_BYTES + len(data)
        if batch and batch_bytes + size > MAX_BATCH_BYTES:
            yield b"".join(batch)
            batch, batch_bytes = [], 0
        batch += (header, data)
        batch_bytes += size
    if batch or not frames:
        yield b"".join(batch)
