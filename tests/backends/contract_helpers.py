"""Helpers of the backend contract suite, shared by the fixtures and by worker processes.

The file name is unique in the test tree, so test modules can import it by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from desktop_app.backends.protocol import Backend
from desktop_app.core.digests import md5_b64
from desktop_app.core.manifest import Manifest, ManifestEntry
from desktop_app.core.records import VersionInfo


def make_manifest(files: Mapping[str, bytes], refs: Mapping[str, str] | None = None) -> Manifest:
    """A manifest of stored ``files`` (path -> bytes) and ``refs`` (path -> URI)."""
    entries = [ManifestEntry(path, md5_b64(data), len(data)) for path, data in files.items()]
    for path, uri in (refs or {}).items():
        entries.append(ManifestEntry(path, md5_b64(uri.encode()), None, ref=uri))
    return Manifest(entries)


def raw_manifest(entries: Iterable[ManifestEntry]) -> Manifest:
    """A manifest that skips client-side path checks, as an untrusted peer could send it."""
    manifest = Manifest()
    for entry in entries:
        manifest._entries[entry.path] = entry
    return manifest


def upload_missing(
    backend: Backend, project: str, files: Mapping[str, bytes], missing: Iterable[str]
) -> None:
    """Upload the bytes of every ``missing`` digest, taken from ``files``."""
    by_digest = {md5_b64(data): data for data in files.values()}
    for digest in missing:
        data = by_digest[digest]
        backend.upload_blob(project, digest, len(data), [data])


def read_all(backend: Backend, project: str, digest: str, start: int = 0) -> bytes:
    return b"".join(backend.read_blob(project, digest, start=start))


class Logger:
    """``log(project, name, files)``: draft, upload what is missing, commit."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def __call__(
        self,
        project: str,
        name: str,
        files: Mapping[str, bytes],
        *,
        type_: str = "dataset",
        refs: Mapping[str, str] | None = None,
        aliases: Sequence[str] = (),
        tags: Sequence[str] = (),
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        run_id: str | None = None,
    ) -> VersionInfo:
        draft = self.backend.create_draft(
            project,
            name,
            type_,
            make_manifest(files, refs),
            description=description,
            metadata=metadata,
            aliases=aliases,
            tags=tags,
            run_id=run_id,
        )
        if draft.unchanged:
            return draft.version
        upload_missing(self.backend, project, files, draft.missing)
        return self.backend.commit(draft.version.id)
