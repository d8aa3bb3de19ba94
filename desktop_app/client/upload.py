"""Uploading one version: hash, draft, send only the missing blobs, commit."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_app.backends.protocol import Backend
from desktop_app.client.files import LocalFile
from desktop_app.client.hash_cache import HashCache
from desktop_app.client.hashing import hash_files, run_parallel
from desktop_app.client.progress import CancelCheck, ProgressCallback, Throttle, check_cancelled
from desktop_app.core.digests import CHUNK_SIZE
from desktop_app.core.errors import ArtifactDeskError, IntegrityError
from desktop_app.core.manifest import Manifest, ManifestEntry
from desktop_app.core.records import VersionInfo


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
) -> tuple[Manifest, dict[str, Path]]:
    """Build the manifest of ``files`` and the map ``digest -> a local file with it``."""
    digests = hash_files(
        [f.local_path for f in files],
        hash_cache,
        workers=workers,
        on_progress=on_progress,
        is_cancelled=is_cancelled,
    )
    manifest = Manifest()
    sources: dict[str, Path] = {}
    for file, digest in zip(files, digests, strict=True):
        manifest.add(ManifestEntry(file.entry_path, digest, file.local_path.stat().st_size))
        sources.setdefault(digest, file.local_path)
    manifest.validate()
    return manifest, sources


def upload_version(
    backend: Backend,
    project: str,
    name: str,
    type_: str,
    manifest: Manifest,
    sources: Mapping[str, Path],
    *,
    description: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    aliases: Sequence[str] = (),
    tags: Sequence[str] = (),
    run_id: str | None = None,
    workers: int = 4,
    on_progress: ProgressCallback | None = None,
    is_cancelled: CancelCheck | None = None,
) -> UploadResult:
    """Log ``manifest`` as the next version of ``project/name``.

    Only blobs the backend lacks are sent, each resumed from the backend's offset. If the
    content equals the latest version, nothing is sent and that version is returned (with
    the requested aliases added). On failure or cancel the draft is discarded; partial blobs
    stay so that a retry resumes them.
    """
    draft = backend.create_draft(
        project,
        name,
        type_,
        manifest,
        description=description,
        metadata=metadata,
        aliases=aliases,
        tags=tags,
        run_id=run_id,
    )
    if draft.unchanged:
        version = draft.version
        for alias in aliases:
            if alias not in version.aliases:
                version = backend.add_alias(version.id, alias)
        return UploadResult(version, True, 0, 0)
    sizes = {e.digest: e.size or 0 for e in manifest if e.ref is None}
    missing = list(draft.missing)
    throttle = Throttle(on_progress, sum(sizes[d] for d in missing))

    def send(digest: str, should_stop: CancelCheck) -> None:
        send_blob(backend, project, digest, sizes[digest], sources[digest], throttle, should_stop)

    try:
        run_parallel(missing, send, workers=workers, is_cancelled=is_cancelled)
        throttle.finish()
        check_cancelled(is_cancelled, "the upload")
        version = backend.commit(draft.version.id)
    except BaseException:
        _discard_quietly(backend, draft.version.id)
        raise
    return UploadResult(version, False, len(missing), throttle.total)


def send_blob(
    backend: Backend,
    project: str,
    digest: str,
    size: int,
    source: Path,
    throttle: Throttle,
    should_stop: CancelCheck,
) -> None:
    """Send one blob from where the backend's copy stops."""
    offset = backend.upload_offset(project, digest)
    if offset > size:
        offset = 0
    throttle.add(offset)
    with open(source, "rb") as stream:
        if os.fstat(stream.fileno()).st_size != size:
            raise IntegrityError(f"{source} changed size since it was hashed; run the upload again")
        stream.seek(offset)
        backend.upload_blob(
            project, digest, size, _chunks(stream, throttle, should_stop), offset=offset
        )


def _chunks(stream: Any, throttle: Throttle, should_stop: CancelCheck) -> Iterator[bytes]:
    while True:
        check_cancelled(should_stop, "the upload")
        chunk = stream.read(CHUNK_SIZE)
        if not chunk:
            return
        throttle.add(len(chunk))
        yield chunk


def _discard_quietly(backend: Backend, version_id: str) -> None:
    # The draft is invisible anyway; the original error is what matters.
    with contextlib.suppress(ArtifactDeskError):
        backend.discard_draft(version_id)
