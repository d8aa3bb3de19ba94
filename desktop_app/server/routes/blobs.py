"""Blobs: resumable single uploads, batched small uploads, ranged downloads."""

from __future__ import annotations

import contextlib
import re
import struct
from collections.abc import AsyncIterator, Generator, Iterator
from typing import Annotated

import anyio
import anyio.from_thread
import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect

from desktop_app.core.digests import b64_to_hex, hex_to_b64
from desktop_app.core.errors import NotFoundError, ValidationError
from desktop_app.server.config import ServerConfig
from desktop_app.server.deps import PrincipalDep, StoreDep, get_config, need_project
from desktop_app.server.keys import Role
from desktop_app.server.problems import ApiError, RangeError
from desktop_app.server.schemas import ChecksumsOut, FetchIn, MissingOut, Offset, UploadOut

router = APIRouter(tags=["blobs"])
ConfigDep = Annotated[ServerConfig, Depends(get_config)]

FRAME_HEADER = struct.Struct(">16sQ")  # raw MD5, big-endian size
_HEX = re.compile(r"[0-9a-f]{32}")
_RANGE = re.compile(r"bytes=(\d+)-(\d*)")
DOWNLOAD_CHUNK = 1 << 20
FRAMES_PIECE = 1 << 20  # bytes of frames joined into one piece of a batch download


def _digest(hex_digest: str) -> str:
    if not _HEX.fullmatch(hex_digest):
        raise ValidationError(
            f"blob id {hex_digest!r} is not 32 lowercase hex characters (an MD5 in hex)"
        )
    return hex_to_b64(hex_digest)


@router.get("/projects/{project}/blobs/{hex_digest}/offset", response_model=Offset)
def upload_offset(
    project: str, hex_digest: str, store: StoreDep, principal: PrincipalDep
) -> Offset:
    project = need_project(principal, project, Role.WRITE)
    return Offset(offset=store.upload_offset(project, _digest(hex_digest)))


@router.put("/projects/{project}/blobs/{hex_digest}", response_model=UploadOut)
async def upload_blob(
    project: str,
    hex_digest: str,
    request: Request,
    store: StoreDep,
    principal: PrincipalDep,
    size: Annotated[int, Query(ge=0)],
    offset: Annotated[int, Query(ge=0)] = 0,
) -> UploadOut:
    """Append the body to the blob from ``offset``; the store verifies the whole blob."""
    project = need_project(principal, project, Role.WRITE)
    digest = _digest(hex_digest)
    received = 0
    stream = request.stream().__aiter__()

    def chunks() -> Iterator[bytes]:
        nonlocal received
        while True:
            try:
                chunk = anyio.from_thread.run(_next, stream)
            except (StopAsyncIteration, ClientDisconnect):
                return  # a dropped client: keep what arrived, it resumes from the offset
            received += len(chunk)
            yield chunk

    await anyio.to_thread.run_sync(
        lambda: store.upload_blob(project, digest, size, chunks(), offset=offset)
    )
    complete = offset + received == size
    current = (
        size if complete else await anyio.to_thread.run_sync(store.upload_offset, project, digest)
    )
    return UploadOut(complete=complete, offset=current)


async def _next(stream: AsyncIterator[bytes]) -> bytes:
    while True:
        chunk = await stream.__anext__()
        if chunk:
            return chunk


@router.post("/projects/{project}/blobs", status_code=204)
async def upload_blobs(
    project: str,
    request: Request,
    store: StoreDep,
    principal: PrincipalDep,
    config: ConfigDep,
) -> Response:
    """Many small blobs in one body: frames of (16 raw MD5 bytes, 8-byte size, bytes)."""
    project = need_project(principal, project, Role.WRITE)
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        received += len(chunk)
        if received > config.max_batch_bytes:
            raise ApiError(
                413,
                "too_large",
                f"a batch may hold at most {config.max_batch_bytes} bytes; send smaller batches",
            )
    # Joined once, parsed and stored in a worker thread: 1,000 frames kept the event loop
    # busy for milliseconds, and a bytearray grown chunk by chunk copied the body twice.
    await anyio.to_thread.run_sync(
        lambda: store.store_blobs(project, parse_frames(b"".join(chunks)))
    )
    return Response(status_code=204)


@router.post("/projects/{project}/blobs/missing", response_model=MissingOut)
def missing_blobs(
    project: str, body: FetchIn, store: StoreDep, principal: PrincipalDep
) -> MissingOut:
    """Which of these blobs (hex MD5s, in order) the project lacks: a client sends them
    while it is still hashing, before the draft. Other projects' blobs count as missing."""
    project = need_project(principal, project, Role.READ)
    digests = [_digest(hex_digest) for hex_digest in body.digests]
    return MissingOut(missing=[b64_to_hex(d) for d in store.missing_blobs(project, digests)])


@router.post("/projects/{project}/blobs/checksums", response_model=ChecksumsOut)
def blob_checksums(
    project: str, body: FetchIn, store: StoreDep, principal: PrincipalDep
) -> ChecksumsOut:
    """The XXH3-128 checksums of these blobs (hex MD5s), taken when each was uploaded on its
    own and verified: a client checks a large download against one instead of hashing MD5
    again. Blobs the project cannot read, or stored without one, are left out."""
    project = need_project(principal, project, Role.READ)
    digests = [_digest(hex_digest) for hex_digest in body.digests]
    found = store.blob_checksums(project, digests)
    return ChecksumsOut(checksums={b64_to_hex(d): c for d, c in found.items()})


@router.post(
    "/projects/{project}/blobs/fetch",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download_blobs(
    project: str, body: FetchIn, store: StoreDep, principal: PrincipalDep, config: ConfigDep
) -> StreamingResponse:
    """Many small blobs in one answer, framed like uploads, in the order asked."""
    project = need_project(principal, project, Role.READ)
    digests = [_digest(hex_digest) for hex_digest in body.digests]
    extents = store.blob_extents(project, digests)
    missing = [d for d in body.digests if hex_to_b64(d) not in extents]
    if missing:
        raise NotFoundError(f"project {project!r} holds no blob {missing[0]}")
    total = sum(extents[d].size for d in digests)
    if total > config.max_batch_bytes:
        raise ApiError(
            413,
            "too_large",
            f"these blobs hold {total} bytes, more than a batch may ({config.max_batch_bytes}); "
            "ask for fewer at a time",
        )
    return StreamingResponse(
        _frames(store.read_blobs(project, digests)), media_type="application/octet-stream"
    )


def _frames(blobs: Iterator[tuple[str, bytes]]) -> Iterator[bytes]:
    """The frames joined into pieces of about FRAMES_PIECE bytes: each piece the response
    yields costs a hop to a worker thread and an HTTP chunk, too much per 4 KiB blob."""
    parts: list[bytes] = []
    pending = 0
    for digest, data in blobs:
        parts.append(FRAME_HEADER.pack(bytes.fromhex(b64_to_hex(digest)), len(data)))
        parts.append(data)
        pending += FRAME_HEADER.size + len(data)
        if pending >= FRAMES_PIECE:
            yield b"".join(parts)
            parts, pending = [], 0
    if parts:
        yield b"".join(parts)


def parse_frames(body: bytes) -> list[tuple[str, memoryview]]:
    """``(hex digest, bytes)`` of each frame; a malformed body is a clear error.

    The bytes are views into ``body``, not copies (10,000 small files are 40 MB).
    """
    blobs = []
    view = memoryview(body)
    position = 0
    header, unpack = FRAME_HEADER.size, FRAME_HEADER.unpack_from
    while position < len(body):
        if position + header > len(body):
            raise ValidationError(
                f"the batch body ends inside a frame header at byte {position}; each frame is "
                "16 MD5 bytes, an 8-byte big-endian size, then the bytes"
            )
        raw_md5, size = unpack(body, position)
        position += header
        if position + size > len(body):
            raise ValidationError(
                f"a frame announces {size} bytes but the body has only {len(body) - position} "
                "left; check the sizes"
            )
        blobs.append((raw_md5.hex(), view[position : position + size]))
        position += size
    if not blobs:
        raise ValidationError("the batch is empty; send at least one frame")
    return blobs


@router.get(
    "/projects/{project}/blobs/{hex_digest}",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}},
        206: {"content": {"application/octet-stream": {}}},
    },
)
def download_blob(
    project: str, hex_digest: str, request: Request, store: StoreDep, principal: PrincipalDep
) -> StreamingResponse:
    """The blob's bytes, all or from a ``Range``; streamed in 1 MiB chunks."""
    project = need_project(principal, project, Role.READ)
    digest = _digest(hex_digest)
    extent = store.blob_extents(project, [digest]).get(digest)
    if extent is None:
        raise NotFoundError(f"project {project!r} holds no blob {hex_digest}")
    total = extent.size
    start, end = _parse_range(request.headers.get("range"), total)
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start)}
    status = 200
    if request.headers.get("range") and total:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{total}"
    body = _limited(
        store.read_blob(project, digest, start=start, chunk_size=DOWNLOAD_CHUNK), end - start
    )
    return StreamingResponse(
        body,
        status_code=status,
        media_type="application/octet-stream",
        headers=headers,
        background=BackgroundTask(_close_quietly, body),
    )


def _parse_range(header: str | None, total: int) -> tuple[int, int]:
    """``[start, end)`` for ``bytes=N-`` or ``bytes=N-M`` (clamped to the blob, RFC 9110)."""
    if not header or total == 0:
        return 0, total  # no range, or nothing to cut: the whole (possibly empty) blob
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        raise RangeError(f"range {header!r} is not of the form bytes=N- or bytes=N-M", total)
    start = int(match.group(1))
    end = min(int(match.group(2)) + 1, total) if match.group(2) else total
    if start >= total or end <= start:
        raise RangeError(f"range {header!r} is outside the blob's {total} bytes", total)
    return start, end


def _close_quietly(body: Generator[bytes, None, None]) -> None:
    with contextlib.suppress(ValueError):  # still running in a thread: the GC closes it
        body.close()


def _limited(chunks: Iterator[bytes], length: int) -> Generator[bytes, None, None]:
    # Closing this generator (the response ends or the client goes away) closes the blob
    # file now, not whenever the garbage collector gets to it.
    with contextlib.closing(chunks) if isinstance(chunks, Generator) else contextlib.nullcontext():
        for chunk in chunks:
            if length <= 0:
                return
            yield chunk[:length]
            length -= len(chunk)
