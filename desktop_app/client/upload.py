"""Uploading one version: hash, draft, send only the missing blobs, commit."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_app.backends.protocol import Backend
from desktop_app.client.early_upload import (
    BATCH_BYTES,
    BATCH_FILES,
    NOTHING_EARLY,
    EarlySender,
)
from desktop_app.client.files import LocalFile
from desktop_app.client.hash_cache import HashCache
from desktop_app.client.hashing import hash_files, run_parallel
from desktop_app.client.progress import CancelCheck, ProgressCallback, Throttle, check_cancelled
from desktop_app.core.digests import CHUNK_SIZE
from desktop_app.core.errors import (
    ArtifactDeskError,
    BackendUnavailableError,
    IntegrityError,
    NotFoundError,
    OffsetMismatchError,
    ValidationError,
)
from desktop_app.core.manifest import Manifest, ManifestEntry
from desktop_app.core.records import DraftResult, VersionInfo
from desktop_app.core.refs import ArtifactRef

Source = str | Path
"""Where a blob's bytes are on this machine."""

# Blobs up to this size travel in batches (one call, one sync; BATCH_FILES and BATCH_BYTES
# at most); larger ones alone, resumable.
SMALL_BLOB_BYTES = 256 * 1024


@dataclass(frozen=True)
class UploadResult:
    """What an upload did: the version, whether it was unchanged, and the bytes sent."""

    version: VersionInfo
    unchanged: bool
    uploaded_files: int
    uploaded_bytes: int


def hash_local_files(
    files: Sequence[LocalFile],
    hash_cache: HashCache | None,
    *,
    workers: int,
    on_progress: ProgressCallback | None = None,
    is_cancelled: CancelCheck | None = None,
    contents: dict[str, bytes] | None = None,
    early: EarlySender | None = None,
) -> tuple[Manifest, dict[str, Source]]:
    """Build the manifest of ``files`` and the map ``digest -> a local file with it``.

    ``contents`` receives the bytes of small files as they were hashed (digest: bytes), for
    :func:`upload_version` to send without reading the files again; with ``early`` they
    go to it instead, to be sent while the rest are hashed.
    """
    kept: dict[int, bytes] | None = {} if contents is not None else None
    digests = hash_files(
        [f.path for f in files],
        hash_cache,
        workers=workers,
        identities=[f.identity for f in files],
        on_progress=on_progress,
        is_cancelled=is_cancelled,
        kept=kept,
        keep_below=SMALL_BLOB_BYTES,
        on_small=early.add if early is not None else None,
    )
    manifest = Manifest()
    sources: dict[str, Source] = {}
    for file, digest in zip(files, digests, strict=True):
        manifest.add(ManifestEntry(file.entry_path, digest, file.size))
        sources.setdefault(digest, file.path)
    if contents is not None and kept:
        for index, data in kept.items():
            contents.setdefault(digests[index], data)
    # No manifest.validate() here: collect() checked the path set, and the store checks it
    # again before it writes a draft (an unchanged re-put writes nothing).
    return manifest, sources


def upload_version(
    backend: Backend,
    project: str,
    name: str,
    type_: str,
    manifest: Manifest,
    sources: Mapping[str, Source],
    *,
    description: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    aliases: Sequence[str] = (),
    tags: Sequence[str] = (),
    run_id: str | None = None,
    workers: int = 4,
    on_progress: ProgressCallback | None = None,
    is_cancelled: CancelCheck | None = None,
    contents: Mapping[str, bytes] | None = None,
    early: EarlySender | None = None,
) -> UploadResult:
    """Log ``manifest`` as the next version of ``project/name``.

    ``contents``: bytes of small blobs already read (see :func:`hash_local_files`), sent
    as they are instead of being read from ``sources`` again. ``early``: the
    :class:`EarlySender` that sent blobs while they were hashed; the draft goes out while
    its last batches are still on their way, and what they sent counts in the result.

    Only blobs the backend lacks are sent, each resumed from the backend's offset. If the
    content equals the latest version, nothing is sent and that version is returned (with
    the requested aliases added). On failure or cancel the draft is discarded; partial blobs
    stay so that a retry resumes them.
    """

    def _draft(same: VersionInfo | None) -> DraftResult:
        if same is not None:
            return DraftResult(same, (), unchanged=True)
        return backend.create_draft(
            project,
            name,
            type_,
            manifest,
            description=description,
            metadata=metadata,
            aliases=aliases,
            tags=tags,
            run_id=run_id,
            commit=True,  # at once when every blob is there already
        )

    # Where the artifact did not exist moments ago, asking again costs a round trip for
    # nothing: should an equal version have been logged since, the draft reports it.
    new = early is not None and early.new_artifact
    same = (
        None
        if run_id is not None or new
        else _latest_if_same(backend, project, name, type_, manifest)
    )
    draft = _draft(same)  # on an error, the caller's ``with early`` stops the early batches
    # The draft overlapped the early batches still in flight; they are done now.
    sent = early.finish() if early is not None else NOTHING_EARLY
    if draft.unchanged:
        version = draft.version
        for alias in aliases:
            if alias not in version.aliases:
                version = backend.add_alias(version.id, alias)
        return UploadResult(version, True, sent.files, sent.bytes)
    if draft.committed:
        if on_progress is not None:  # everything went early: all of it is done
            on_progress(sent.bytes, sent.bytes)
        return UploadResult(draft.version, False, sent.files, sent.bytes)
    sizes = {e.digest: e.size or 0 for e in manifest if e.ref is None}
    # Blobs an early batch delivered while the draft was checked count as missing there.
    held = early.held if early is not None else frozenset()
    missing = [digest for digest in draft.missing if digest not in held]
    no_source = set(missing).difference(sources)
    unsourced = [e.path for e in manifest if e.digest in no_source]
    if unsourced:
        _discard_quietly(backend, draft.version.id)
        raise ValidationError(
            f"the bytes of {unsourced[0]!r} are neither on this machine nor in project "
            f"{project!r}; add the file again from a local copy"
        )
    throttle = Throttle(on_progress, sent.bytes + sum(sizes[d] for d in missing))
    throttle.add(sent.bytes)

    def send(group: list[str], should_stop: CancelCheck) -> None:
        if len(group) == 1 and sizes[group[0]] > SMALL_BLOB_BYTES:
            digest = group[0]
            send_blob(
                backend, project, digest, sizes[digest], sources[digest], throttle, should_stop
            )
        else:
            send_small_blobs(
                backend, project, group, sizes, sources, throttle, should_stop, contents
            )

    try:
        run_parallel(
            group_for_upload(missing, sizes), send, workers=workers, is_cancelled=is_cancelled
        )
        throttle.finish()
        check_cancelled(is_cancelled, "the upload")
        version = backend.commit(draft.version.id)
    except BaseException:
        _discard_quietly(backend, draft.version.id)
        raise
    return UploadResult(version, False, sent.files + len(missing), throttle.total)


def _latest_if_same(
    backend: Backend, project: str, name: str, type_: str, manifest: Manifest
) -> VersionInfo | None:
    """The latest version when it holds exactly ``manifest``: an unchanged put then costs
    one small lookup instead of sending the whole manifest to be compared (10,000 entries
    took a server a third of a second to read and check)."""
    try:
        latest = backend.resolve(ArtifactRef(project, name))
    except NotFoundError:
        return None
    if latest.type != type_ or latest.digest != manifest.digest():
        return None  # the draft reports a type clash, or logs the new content
    return latest


def group_for_upload(digests: Sequence[str], sizes: Mapping[str, int]) -> list[list[str]]:
    """Large blobs alone (resumable); small ones in batches, largest work first."""
    large = [[d] for d in digests if sizes[d] > SMALL_BLOB_BYTES]
    groups: list[list[str]] = []
    current: list[str] = []
    current_bytes = 0
    for digest in (d for d in digests if sizes[d] <= SMALL_BLOB_BYTES):
        if current and (len(current) >= BATCH_FILES or current_bytes >= BATCH_BYTES):
            groups.append(current)
            current, current_bytes = [], 0
        current.append(digest)
        current_bytes += sizes[digest]
    if current:
        groups.append(current)
    large.sort(key=lambda group: -sizes[group[0]])
    return large + groups


def send_small_blobs(
    backend: Backend,
    project: str,
    digests: Sequence[str],
    sizes: Mapping[str, int],
    sources: Mapping[str, Source],
    throttle: Throttle,
    should_stop: CancelCheck,
    contents: Mapping[str, bytes] | None = None,
) -> None:
    """Send a batch of small blobs in one call (those in ``contents`` as they are there)."""
    blobs = []
    kept = contents or {}
    for digest in digests:
        check_cancelled(should_stop, "the upload")
        data = kept.get(digest)
        blobs.append(
            (digest, data if data is not None else _read_whole(sources[digest], sizes[digest]))
        )
    backend.upload_blobs(project, blobs)
    throttle.add(sum(len(data) for _digest, data in blobs))


def _read_whole(source: Source, size: int) -> bytes:
    """A small file's bytes in one read (pathlib's ``read_bytes`` costs three times more)."""
    fd = os.open(source, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        data = os.read(fd, size + 1)  # one byte more shows a file that grew
    finally:
        os.close(fd)
    if len(data) != size:
        raise IntegrityError(f"{source} changed size since it was hashed; run the upload again")
    return data


RESUME_ATTEMPTS = 5
RESUME_PAUSE_S = 0.5


def send_blob(
    backend: Backend,
    project: str,
    digest: str,
    size: int,
    source: Source,
    throttle: Throttle,
    should_stop: CancelCheck,
) -> None:
    """Send one blob from where the backend's copy stops; after a dropped connection or a
    wrong offset, ask the backend where it stands and go on from there."""
    reported = 0  # bytes of this blob already counted in the progress

    def advance_to(position: int) -> None:
        nonlocal reported
        if position > reported:
            throttle.add(position - reported)
            reported = position

    with open(source, "rb") as stream:
        if os.fstat(stream.fileno()).st_size != size:
            raise IntegrityError(f"{source} changed size since it was hashed; run the upload again")
        for attempt in range(RESUME_ATTEMPTS):
            offset = backend.upload_offset(project, digest)
            if offset > size:
                offset = 0
            advance_to(offset)
            stream.seek(offset)
            try:
                backend.upload_blob(
                    project, digest, size, _chunks(stream, advance_to, should_stop), offset=offset
                )
                return
            except (BackendUnavailableError, OffsetMismatchError):
                if attempt == RESUME_ATTEMPTS - 1:
                    raise
                check_cancelled(should_stop, "the upload")
                # The server may still be storing what arrived before the cut; let it settle.
                time.sleep(RESUME_PAUSE_S * (attempt + 1))


def _chunks(
    stream: Any, advance_to: Callable[[int], None], should_stop: CancelCheck
) -> Iterator[bytes]:
    while True:
        check_cancelled(should_stop, "the upload")
        chunk = stream.read(CHUNK_SIZE)
        if not chunk:
            return
        advance_to(stream.tell())
        yield chunk


def _discard_quietly(backend: Backend, version_id: str) -> None:
    # The draft is invisible anyway; the original error is what matters.
    with contextlib.suppress(ArtifactDeskError):
        backend.discard_draft(version_id)
