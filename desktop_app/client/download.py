"""Downloading a version: take what is local, fetch the rest in parallel, verify, place."""

from __future__ import annotations

import contextlib
import os
import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from desktop_app.backends.http import HttpBackend
from desktop_app.backends.protocol import Backend, ReadsBlobsInto
from desktop_app.client.blob_files import CopyTarget, SharedFile
from desktop_app.client.content_cache import ContentCache
from desktop_app.client.hash_cache import HashCache
from desktop_app.client.hashing import run_parallel
from desktop_app.client.materialize import Fetch, FileToPlace, Link, materialize
from desktop_app.client.progress import CancelCheck, ProgressCallback, Throttle, check_cancelled
from desktop_app.client.references import fetch_reference
from desktop_app.client.units import format_size
from desktop_app.client.upload import SMALL_BLOB_BYTES, group_for_upload
from desktop_app.core.errors import IntegrityError, NotFoundError, ValidationError
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
    entries: Sequence[ManifestEntry], paths: str | Collection[str] | None
) -> list[ManifestEntry]:
    """The entries at or under any of ``paths`` (file or folder paths); all when None or
    empty. A path that names no file or folder of the version is a ValidationError."""
    for entry in entries:
        validate_entry_path(entry.path)  # never trust a manifest from elsewhere
    if isinstance(paths, str):
        paths = [paths]
    if not paths:
        return list(entries)
    wanted = {path.rstrip("/"): path for path in paths}
    found: set[str] = set()
    chosen = []
    for entry in entries:
        # The entry itself and each folder above it, so the cost does not grow with paths.
        parts = entry.path.split("/")
        hits = [p for i in range(len(parts), 0, -1) if (p := "/".join(parts[:i])) in wanted]
        if hits:
            chosen.append(entry)
            found.update(hits)
    missing = [wanted[path] for path in wanted if path not in found]
    if missing:
        names = ", ".join(repr(path) for path in sorted(missing))
        what = "file or folder" if len(missing) == 1 else "files or folders"
        raise ValidationError(
            f"the version has no {what} {names}; `artifact-desk files REF` lists its paths"
        )
    return chosen


class _BlobFetcher:
    """Fetches blobs into the content cache, verified: small ones in batches, large ones
    streamed and resumable (their bytes survive a cancel, a failure or a crash)."""

    def __init__(
        self,
        backend: Backend,
        project: str,
        cache: ContentCache,
        sizes: Mapping[str, int],
        found: dict[str, Path],
        on_bytes: Callable[[int], None],
        *,
        evict: bool = True,
    ) -> None:
        self._backend = backend
        self._project = project
        self._cache = cache
        self._sizes = sizes
        self._found = found  # digest -> cached path, filled as blobs arrive
        self._on_bytes = on_bytes
        self._evict = evict  # False: the caller trims the cache once the blobs are placed
        self._checksums: dict[str, str] | None = None  # asked for once, when first needed
        self._checksums_lock = threading.Lock()

    def _checksum(self, digest: str) -> str | None:
        """The store's fast checksum of a large blob, to check it against instead of MD5."""
        with self._checksums_lock:
            if self._checksums is None:
                large = sorted(d for d, n in self._sizes.items() if n > SMALL_BLOB_BYTES)
                try:
                    self._checksums = self._backend.blob_checksums(self._project, large)
                except NotFoundError:  # a server from before checksums: MD5 it is
                    self._checksums = {}
            return self._checksums.get(digest)

    def large(
        self,
        digest: str,
        should_stop: CancelCheck,
        copy_to: CopyTarget | None,
        *,
        shared: bool = False,
    ) -> None:
        """Stream one blob into the cache (and into ``copy_to``, in the same pass).
        ``shared``: its file is to be linked into the user's folder (see ContentCache)."""
        backend, project = self._backend, self._project

        def read_from(start: int) -> Iterator[bytes]:
            return backend.read_blob(project, digest, start=start)

        self._found[digest] = self._cache.put_resumable(
            digest,
            read_from,
            size=self._sizes[digest],
            fill=(
                partial(backend.read_blob_into, project, digest)
                if isinstance(backend, ReadsBlobsInto)
                else None
            ),
            on_bytes=self._on_bytes,
            is_cancelled=should_stop,
            copy_to=copy_to,
            checksum=self._checksum(digest),
            shared=shared,
            evict=self._evict,
        )

    def linked(self, digest: str, should_stop: CancelCheck) -> SharedFile:
        """Fetch one blob into the cache and share its file, to be hard-linked as the
        user's file (see :data:`materialize.Link`)."""
        self.large(digest, should_stop, None, shared=True)
        shared = self._cache.share(digest)
        if shared is None:  # only something outside this call can take it away
            raise IntegrityError(
                f"the content {digest} left the download cache before it could be placed "
                "(was the cache cleared meanwhile?); download again"
            )
        return shared

    def group(self, group: list[str], should_stop: CancelCheck) -> None:
        """Fetch a group from :func:`group_for_upload`: one large blob or a batch of small."""
        check_cancelled(should_stop, "the download")
        if len(group) == 1 and self._sizes[group[0]] > SMALL_BLOB_BYTES:
            self.large(group[0], should_stop, None)
            return
        blobs = list(self._backend.read_blobs(self._project, group))
        # The HTTP backend checks every blob of a batch against its digest as it parses
        # the answer: the cache need not hash them again.
        verified = isinstance(self._backend, HttpBackend)
        self._found.update(self._cache.put_many(blobs, verified=verified, evict=self._evict))
        self._on_bytes(sum(self._sizes[digest] for digest in group))

    def fetch_all(
        self, digests: Collection[str], workers: int, is_cancelled: CancelCheck | None
    ) -> None:
        groups = group_for_upload(sorted(digests), dict(self._sizes))
        run_parallel(groups, self.group, workers=workers, is_cancelled=is_cancelled)


def _local_checksums(
    backend: Backend, project: str, local: Mapping[str, Path], sizes: Mapping[str, int]
) -> dict[str, str]:
    """The store's fast checksums of the large blobs it keeps on this machine: their copies
    are checked against them instead of against the MD5 (about 2 s a GiB on one core)."""
    large = sorted(digest for digest in local if sizes[digest] > SMALL_BLOB_BYTES)
    if not large:
        return {}
    try:
        return backend.blob_checksums(project, large)
    except NotFoundError:
        return {}


def _cached_or_missing(
    cache: ContentCache, sizes: Mapping[str, int], local: dict[str, Path]
) -> dict[str, int]:
    """Add what the cache holds to ``local``; returns the digests and sizes still missing."""
    local.update(cache.path_for_many(d for d in sizes if d not in local))  # marks them used
    return {digest: size for digest, size in sizes.items() if digest not in local}


def download_version(
    backend: Backend,
    version: VersionInfo,
    root: Path,
    cache: ContentCache,
    *,
    paths: Collection[str] | None = None,
    path_prefix: str | None = None,
    hash_cache: HashCache | None = None,
    workers: int = 4,
    on_progress: ProgressCallback | None = None,
    is_cancelled: CancelCheck | None = None,
) -> DownloadReport:
    """Place the version's files under ``root``: all of them, or those at or under any of
    ``paths`` (file or folder paths). ``path_prefix`` is one more such path.

    A large blob interrupted midway (cancel, failure, crash) continues from the bytes the
    cache kept on the next call, with an HTTP ``Range``, instead of from zero.
    """
    wanted = [*(paths or ()), *([path_prefix] if path_prefix else [])]
    entries = select_entries(version_entries(backend, version.id), wanted)
    project = version.project
    references = [entry for entry in entries if entry.ref is not None]
    sizes = {entry.digest: entry.size or 0 for entry in entries if entry.ref is None}
    local = backend.local_blob_paths(project, sorted(sizes))
    checksums = _local_checksums(backend, project, local, sizes)
    to_fetch = _cached_or_missing(cache, sizes, local)
    throttle = Throttle(on_progress, sum(to_fetch.values()) + sum(e.size or 0 for e in entries))
    placed = [FileToPlace(e.path, e.digest, e.size or 0) for e in entries if e.ref is None]
    for entry in references:
        digest, size, path = fetch_reference(entry, cache, is_cancelled=is_cancelled)
        local[digest] = path
        placed.append(FileToPlace(entry.path, digest, size))
    # A blob fetched for one file is written once: into the cache, and its file becomes
    # the user's file as well (a hard link; a link also costs the file system far less
    # than a new file, which counts with 10,000 small ones). A large one is placed as it
    # arrives. Where the cache is on another file system, a large blob goes to the cache
    # and to its file in one pass, hashed on the side, instead of being copied out of the
    # cache after the download (a second write that would wait for the first). Nothing is
    # placed before it is verified.
    uses = Counter(file.digest for file in placed)
    once = {d for d in to_fetch if uses[d] == 1}
    large = {d for d in once if to_fetch[d] > SMALL_BLOB_BYTES}
    can_link = _can_link(cache.root, root)
    linked, streamed = (large, set()) if can_link else (set(), large)
    # Nothing fetched is evicted before it is placed, even past the cache's limit: the
    # cache is trimmed once the files are in place.
    fetcher = _BlobFetcher(backend, project, cache, to_fetch, local, throttle.add, evict=False)

    def fetch_into(digest: str) -> Fetch:
        return lambda out, should_stop: fetcher.large(digest, should_stop, out)

    def link_from(digest: str) -> Link:
        return lambda should_stop: fetcher.linked(digest, should_stop)

    def link_to(shared: SharedFile) -> Link:
        return lambda _should_stop: shared

    try:
        fetcher.fetch_all(to_fetch.keys() - large, workers, is_cancelled)
        links = {digest: link_from(digest) for digest in linked}
        if can_link:  # the small ones fetched just now, recorded as shared in one go
            for digest, shared in cache.share_many(once - large).items():
                links[digest] = link_to(shared)
        with _no_empty_folders_left(root):
            report = materialize(
                placed,
                root,
                local.__getitem__,
                on_progress=lambda done, _total: None,
                is_cancelled=is_cancelled,
                hash_cache=hash_cache,
                workers=workers,
                # Fetched and verified by this call: copied without hashing again.
                verified=set(to_fetch),
                fetches={digest: fetch_into(digest) for digest in streamed},
                links=links,
                checksums=checksums,
            )
        # Files that already held the right bytes were skipped; their blobs still go to the
        # cache, as every fetched blob does.
        fetcher.fetch_all(large - local.keys(), workers, is_cancelled)
    finally:
        cache.trim()  # what was fetched was kept until placed, even past the limit
    throttle.add(sum(f.size for f in placed))
    throttle.finish()
    return DownloadReport(
        root=root,
        files=len(placed),
        written=report.written,
        skipped=report.skipped,
        bytes_fetched=sum(to_fetch.values()),
    )


def cache_version(
    backend: Backend,
    version: VersionInfo,
    cache: ContentCache,
    *,
    workers: int = 4,
    on_progress: ProgressCallback | None = None,
    is_cancelled: CancelCheck | None = None,
) -> set[str]:
    """Fetch the version's file contents into the cache without placing any file; returns
    every content digest of the version, for ``cache.pin(version.id, digests)``.

    Contents the backend keeps on this machine (the embedded store) are not copied: they
    are available offline already, and their digests are returned all the same.
    References (files outside the store, by URI) are not fetched; a download reads them.
    Raises ValidationError when the contents cannot fit under the cache's limit beside
    what other versions pin, since the first would be evicted before the pin is taken.
    """
    entries = select_entries(version_entries(backend, version.id), None)
    sizes = {entry.digest: entry.size or 0 for entry in entries if entry.ref is None}
    local = backend.local_blob_paths(version.project, sorted(sizes))
    remote = {digest: size for digest, size in sizes.items() if digest not in local}
    _check_room(cache, version, remote)
    to_fetch = _cached_or_missing(cache, remote, local)
    throttle = Throttle(on_progress, sum(to_fetch.values()))
    fetcher = _BlobFetcher(backend, version.project, cache, to_fetch, local, throttle.add)
    fetcher.fetch_all(to_fetch.keys(), workers, is_cancelled)
    throttle.finish()
    return set(sizes)


def _check_room(cache: ContentCache, version: VersionInfo, sizes: Mapping[str, int]) -> None:
    if cache.max_bytes < 0:
        return
    needed = sum(sizes.values())
    pinned = cache.pinned_bytes(exclude=sizes.keys())
    if needed + pinned > cache.max_bytes:
        raise ValidationError(
            f"keeping {version.qualified_name} offline needs {format_size(needed)} in the "
            f"download cache, but its limit is {format_size(cache.max_bytes)} and "
            f"{format_size(pinned)} of it is kept for other versions; raise the cache "
            "limit in Settings or stop keeping other versions offline"
        )


def _can_link(cache_root: Path, target: Path) -> bool:
    """Whether files of the cache can be hard-linked into ``target`` (one file system)."""
    existing = next((p for p in (target, *target.parents) if p.exists()), None)
    if existing is None:
        return False
    return os.stat(cache_root).st_dev == os.stat(existing).st_dev


@contextlib.contextmanager
def _no_empty_folders_left(root: Path) -> Iterator[None]:
    """A download that fails or is cancelled while placing leaves no empty folders, as one
    that fails before placing does not create them."""
    new_folders = [folder for folder in (root, *root.parents) if not folder.exists()]
    try:
        yield
    except BaseException:
        if new_folders:
            _remove_empty_folders(new_folders[-1])
        raise


def _remove_empty_folders(top: Path) -> None:
    """Remove ``top`` and the folders under it that hold no file (never follows links)."""
    for folder, _dirs, _files in os.walk(top, topdown=False):
        with contextlib.suppress(OSError):
            os.rmdir(folder)  # fails, and so keeps it, when it is not empty
