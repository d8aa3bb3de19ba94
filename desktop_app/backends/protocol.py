"""The ``Backend`` protocol: everything the SDK, the CLI and the GUI ask of a store.

Two implementations pass the same contract suite (``tests/backends``): ``LocalBackend``
(the embedded store in the user's data folder) and ``HttpBackend`` (the team server).
Every method is synchronous and may block; front ends call them off the GUI thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from desktop_app.core.manifest import Manifest, ManifestEntry
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


@runtime_checkable
class Backend(Protocol):
    """A place that keeps projects, runs, artifacts, versions and blobs."""

    # -- browsing ------------------------------------------------------------------------
    def list_projects(self) -> list[ProjectInfo]: ...

    def list_artifact_types(self, project: str) -> list[str]: ...

    def list_collections(self, project: str, type_: str | None = None) -> list[CollectionInfo]: ...

    def get_collection(self, project: str, name: str) -> CollectionInfo: ...

    def list_versions(
        self, project: str, name: str, *, include_deleted: bool = False
    ) -> list[VersionInfo]: ...

    def resolve(self, ref: ArtifactRef) -> VersionInfo:
        """The committed version ``ref`` names (``ref.project`` must be set)."""
        ...

    def get_version(self, version_id: str) -> VersionInfo: ...

    def get_manifest(self, version_id: str) -> Manifest: ...

    def list_entries(
        self, version_id: str, *, cursor: str | None = None, limit: int = 1000
    ) -> Page[ManifestEntry]:
        """The version's entries in path order, one page at a time."""
        ...

    def find_versions_with_file(
        self, project: str, path: str, *, limit: int = 5
    ) -> list[VersionInfo]:
        """Latest committed versions in ``project`` that hold an entry at ``path``."""
        ...

    # -- runs and lineage ----------------------------------------------------------------
    def create_run(
        self,
        project: str,
        *,
        job_type: str | None = None,
        name: str | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> RunInfo: ...

    def finish_run(self, run_id: str, *, state: str = "finished") -> RunInfo: ...

    def get_run(self, run_id: str) -> RunInfo: ...

    def use_version(self, run_id: str, version_id: str) -> None:
        """Record that the run used the version as an input."""
        ...

    def logged_by(self, version_id: str) -> RunInfo | None: ...

    def used_by(self, version_id: str) -> list[RunInfo]: ...

    def run_outputs(self, run_id: str) -> list[VersionInfo]: ...

    def run_inputs(self, run_id: str) -> list[VersionInfo]: ...

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
        """A draft of the next version, with the blobs the backend still needs.

        ``commit=True`` commits it at once when nothing is missing (the answer's
        ``committed`` is then true); a client that sent the blobs first saves a round trip.
        """
        ...

    def upload_offset(self, project: str, digest: str) -> int:
        """How many bytes of the blob an interrupted upload already stored."""
        ...

    def upload_blob(
        self,
        project: str,
        digest: str,
        size: int,
        chunks: Iterable[bytes],
        *,
        offset: int = 0,
    ) -> None:
        """Store the blob's bytes from ``offset`` on; verified against ``digest``."""
        ...

    def upload_blobs(self, project: str, blobs: Sequence[tuple[str, bytes]]) -> None:
        """Store several small blobs ``(digest, bytes)`` at once, each verified.

        Many small files cost one round trip and one file-system sync per batch instead of
        one each; a bad blob rejects the batch before any of it is kept. A project that does
        not exist yet is created (its first draft would create it a moment later).
        """
        ...

    def missing_blobs(self, project: str, digests: Sequence[str]) -> list[str]:
        """Those of ``digests`` whose bytes this project cannot read yet,
        in the order given; all of them when the project does not exist. Blobs of other
        projects count as missing: nothing is revealed across projects."""
        ...

    def blob_checksums(self, project: str, digests: Sequence[str]) -> dict[str, str]:
        """The XXH3-128 checksums (hex) that the store took of these blobs when each was
        uploaded on its own and verified against its digest; a large download is checked
        against one instead of hashing MD5 again. Blobs the project cannot read, and those
        stored without one (in a batch, or before the store kept them), are left out."""
        ...

    def commit(self, version_id: str) -> VersionInfo:
        """Give the draft its version number and move ``latest``; idempotent."""
        ...

    def discard_draft(self, version_id: str) -> None: ...

    # -- reading blobs -------------------------------------------------------------------
    def read_blob(
        self, project: str, digest: str, *, start: int = 0, chunk_size: int = 1 << 20
    ) -> Iterator[bytes]: ...

    def read_blobs(self, project: str, digests: Sequence[str]) -> Iterator[tuple[str, bytes]]:
        """Several small blobs ``(digest, bytes)`` in one round trip, in the order asked."""
        ...

    def local_blob_paths(self, project: str, digests: Sequence[str]) -> dict[str, Path]:
        """Files on this machine holding these blobs, for those the backend keeps locally."""
        ...

    # -- changing versions ---------------------------------------------------------------
    def add_alias(self, version_id: str, alias: str) -> VersionInfo:
        """Point ``alias`` at this version, moving it from any other version."""
        ...

    def remove_alias(self, version_id: str, alias: str) -> VersionInfo: ...

    def update_version(
        self,
        version_id: str,
        *,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        tags: Sequence[str] | None = None,
    ) -> VersionInfo:
        """Change what is given; ``None`` leaves a field as it is."""
        ...

    def delete_version(self, version_id: str) -> VersionInfo:
        """Soft delete: the version disappears from lists; its blobs wait for GC."""
        ...

    # -- change feed ---------------------------------------------------------------------
    def events(self, since: int = 0, *, limit: int = 1000) -> list[Event]:
        """Events with ``seq > since``, oldest first."""
        ...

    def feed(self, since: int = 0, *, limit: int = 1000) -> FeedPage:
        """Up to ``limit`` events after ``since`` and the cursor to continue from; caught
        up when no event comes back and the cursor stays at ``since``."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class ReadsBlobsInto(Protocol):
    """A backend that can also stream a blob into buffers its caller lends and reuses."""

    def read_blob_into(
        self, project: str, digest: str, buffers: Iterator[memoryview]
    ) -> Iterator[memoryview]:
        """Fill each buffer taken from ``buffers`` and yield it (the last one in part)."""
        ...
