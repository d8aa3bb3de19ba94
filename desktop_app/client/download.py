"""Downloading a version: take what is local, fetch the rest in parallel, verify, place."""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO

from desktop_app.backends.protocol import Backend, ReadsBlobsInto
from desktop_app.client.content_cache import ContentCache
from desktop_app.client.hash_cache import HashCache
from desktop_app.client.hashing import run_parallel
from desktop_app.client.materialize import Fetch, FileToPlace, materialize
from desktop_app.client.progress import CancelCheck, ProgressCallback, Throttle, check_cancelled
from desktop_app.client.references import fetch_reference
from desktop_app.client.upload import SMALL_BLOB_BYTES, group_for_upload
from desktop_app.core.errors import ValidationError
from desktop_app.core.manifest import ManifestEntry
from desktop_app.core.paths import validate_entry_path
from desktop_app.core.records import VersionInfo


@dataclass(frozen=True)
class DownloadReport:
    """Where the files went and how many bytes had to be fetched."""

    root: Path
    files: int
    written: int
    skipped: int
    bytes_fetched: int


def version_entries(backend: Backend, version_id: str) -> list[ManifestEntry]:
    """All entries of a version, read page by page."""
    entries: list[ManifestEntry] = []
    cursor: str | None = None
    while True:
        page = backend.list_entries(version_id, cursor=cursor, limit=10_000)
        entries.extend(page.items)
        if page.next_cursor is None:
            return entries
        cursor = page.next_cursor


def select_entries(
    entries: Sequence[ManifestEntry], path_prefix: str | None
) -> list[ManifestEntry]:
    """The entries under ``path_prefix`` (a folder or a file path); all when None."""
    for entry in entries:
        validate_entry_path(entry.path)  # never trust a manifest from elsewhere
    if not path_prefix:
        return list(entries)
    prefix = path_prefix.rstrip("/")
    chosen = [e for e in entries if e.path == prefix or e.path.startswith(prefix + "/")]
    if not chosen:
        raise ValidationError(
            f"the version has no file or folder {path_prefix!r}; "
            "`artifact-desk files REF` lists its paths"
        )
    return chosen


def download_version(
    backend: Backend,
    version: VersionInfo,
    root: Path,
    cache: ContentCache,
    *,
    path_prefix: str | None = None,
    hash_cache: HashCache | None = None,
    workers: int = 4,
    on_progress: ProgressCallback | None = None,
    is_cancelled: CancelCheck | None = None,
) -> DownloadReport:
    """Place the version's files (or those under ``path_prefix``) under ``root``."""
    entries = select_entries(version_entries(backend, version.id), path_prefix)
    project = version.project
    references = [entry for entry in entries if entry.ref is not None]
    sizes = {entry.digest: entry.size or 0 for entry in entries if entry.ref is None}
    local = backend.local_blob_paths(project, sorted(sizes))
    to_fetch: dict[str, int] = {}
    for digest, size in sizes.items():
        if digest not in local:
            found = cache.path_for(digest)
            if found is not None:
                local[digest] = found
            else:
                to_fetch[digest] = size
    throttle = Throttle(on_progress, sum(to_fetch.values()) + sum(e.size or 0 for e in entries))
    placed = [FileToPlace(e.path, e.digest, e.size or 0) for e in entries if e.ref is None]
    for entry in references:
        digest, size, path = fetch_reference(entry, cache, is_cancelled=is_cancelled)
        local[digest] = path
        placed.append(FileToPlace(entry.path, digest, size))
    # A large blob placed once goes to the cache and to its file in one pass, hashed on the
    # side, instead of being copied out of the cache after the download (a second full
    # write that would wait for the first). Nothing becomes visible before it is verified.
    uses = Counter(file.digest for file in placed)
    streamed = {d for d, size in to_fetch.items() if size > SMALL_BLOB_BYTES and uses[d] == 1}

    def fetch_large(digest: str, should_stop: CancelCheck, copy_to: BinaryIO | None) -> None:
        if isinstance(backend, ReadsBlobsInto):
            local[digest] = cache.put_into(
                digest,
                partial(backend.read_blob_into, project, digest),
                size=to_fetch[digest],
                on_bytes=throttle.add,
                is_cancelled=should_stop,
                copy_to=copy_to,
            )
            return
        local[digest] = cache.put_stream(
            digest,
            backend.read_blob(project, digest),
            size=to_fetch[digest],
            on_bytes=throttle.add,
            is_cancelled=should_stop,
            copy_to=copy_to,
        )

    def fetch(group: list[str], should_stop: CancelCheck) -> None:
        check_cancelled(should_stop, "the download")
        if len(group) == 1 and to_fetch[group[0]] > SMALL_BLOB_BYTES:
            fetch_large(group[0], should_stop, None)
            return
        local.update(cache.put_many(list(backend.read_blobs(project, group))))
        throttle.add(sum(to_fetch[digest] for digest in group))

    def fetch_into(digest: str) -> Fetch:
        return lambda out, should_stop: fetch_large(digest, should_stop, out)

    groups = group_for_upload(sorted(to_fetch.keys() - streamed), to_fetch)
    run_parallel(groups, fetch, workers=workers, is_cancelled=is_cancelled)
    new_folders = [folder for folder in (root, *root.parents) if not folder.exists()]
    try:
        report = materialize(
            placed,
            root,
            local.__getitem__,
            on_progress=lambda done, _total: None,
            is_cancelled=is_cancelled,
            hash_cache=hash_cache,
            workers=workers,
            # Fetched into the cache and verified by this call: copied without hashing again.
            verified=set(to_fetch),
            fetches={digest: fetch_into(digest) for digest in streamed},
        )
    except BaseException:
        # A download that failed or was cancelled while placing leaves no empty folders,
        # as one that fails before placing does not create them.
        if new_folders:
            _remove_empty_folders(new_folders[-1])
        raise
    # Files that already held the right bytes were skipped; their blobs still go to the
    # cache, as every fetched blob does.
    skipped = [[digest] for digest in sorted(streamed - local.keys())]
    run_parallel(skipped, fetch, workers=workers, is_cancelled=is_cancelled)
    throttle.add(sum(f.size for f in placed))
    throttle.finish()
    return DownloadReport(
        root=root,
        files=len(placed),
        written=report.written,
        skipped=report.skipped,
        bytes_fetched=sum(to_fetch.values()),
    )


def _remove_empty_folders(top: Path) -> None:
    """Remove ``top`` and the folders under it that hold no file (never follows links)."""
    for folder, _dirs, _files in os.walk(top, topdown=False):
        with contextlib.suppress(OSError):
            os.rmdir(folder)  # fails, and so keeps it, when it is not empty
