"""The client every front end shares: settings, the backend, the caches, put, get, verify."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_app.backends.local import LocalBackend
from desktop_app.backends.protocol import Backend
from desktop_app.client.content_cache import ContentCache
from desktop_app.client.credentials import load_key
from desktop_app.client.download import DownloadReport, download_version, version_entries
from desktop_app.client.early_upload import early_sender_for
from desktop_app.client.files import LocalFile, collect
from desktop_app.client.gc_pause import paused_gc
from desktop_app.client.hash_cache import HashCache
from desktop_app.client.paths import AppPaths
from desktop_app.client.progress import CancelCheck, ProgressCallback
from desktop_app.client.settings import Settings, load_settings
from desktop_app.client.upload import UploadResult, hash_local_files, upload_version
from desktop_app.core.errors import ValidationError
from desktop_app.core.paths import validate_entry_path
from desktop_app.core.records import VersionInfo
from desktop_app.core.refs import ArtifactRef, parse_ref


def open_backend(settings: Settings, paths: AppPaths, *, background: bool = False) -> Backend:
    """The backend the settings choose: a server when a URL is set, else the embedded store.

    ``background`` is for a front end that retries by itself (the GUI's worker, which says
    "Offline" and tries again later): a dead server then costs one quick attempt per call
    instead of several seconds of retries.
    """
    if settings.backend_url:
        from desktop_app.backends.http import HttpBackend
        from desktop_app.backends.http_transport import RetryPolicy, Timeouts

        key = settings.api_key or load_key(settings.backend_url, paths)
        if background:
            return HttpBackend(
                settings.backend_url,
                key,
                timeouts=Timeouts(connect=5.0, read=60.0),
                retry=RetryPolicy(attempts=2, base_delay=0.1, max_delay=1.0),
            )
        return HttpBackend(settings.backend_url, key)
    return LocalBackend(paths.store_dir)


def content_cache_dir(paths: AppPaths, settings: Settings) -> Path:
    """The content cache folder: the one the settings name, else the platform's."""
    return Path(settings.cache_dir).expanduser() if settings.cache_dir else paths.content_cache_dir


def default_download_root(version: VersionInfo) -> Path:
    """``./artifacts/<name>:v<N>/`` as in W&B (``-`` instead of ``:`` on Windows)."""
    separator = "-" if os.name == "nt" else ":"
    return Path("artifacts") / f"{version.name}{separator}{version.version}"


@dataclass(frozen=True)
class VerifyProblem:
    """One difference between a folder and a version."""

    path: str
    problem: str


class Client:
    """Settings, backend, hash cache and content cache, wired once for a front end."""

    def __init__(
        self,
        *,
        paths: AppPaths | None = None,
        settings: Settings | None = None,
        backend: Backend | None = None,
    ) -> None:
        self.paths = (paths or AppPaths.from_env()).ensure()
        self.settings = settings or load_settings(self.paths)
        self.backend = backend or open_backend(self.settings, self.paths)
        self.hash_cache = HashCache(self.paths.hash_cache_db)
        self.content_cache = ContentCache(
            content_cache_dir(self.paths, self.settings), self.settings.cache_max_bytes
        )

    def close(self) -> None:
        self.backend.close()
        self.hash_cache.close()
        self.content_cache.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- references ----------------------------------------------------------------------
    def resolve(self, ref: str | ArtifactRef, default_project: str | None = None) -> VersionInfo:
        parsed = parse_ref(ref, default_project) if isinstance(ref, str) else ref
        return self.backend.resolve(parsed)

    # -- upload --------------------------------------------------------------------------
    def put(
        self,
        local: Path | Sequence[LocalFile],
        project: str,
        name: str,
        type_: str,
        *,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        aliases: Sequence[str] = (),
        tags: Sequence[str] = (),
        run_id: str | None = None,
        on_hash_progress: ProgressCallback | None = None,
        on_progress: ProgressCallback | None = None,
        is_cancelled: CancelCheck | None = None,
        pause_gc: bool = True,
    ) -> UploadResult:
        """Hash ``local`` (a file, a folder or prepared files) and log it as a new version.

        ``pause_gc``: pause the cyclic garbage collector while 1,000 files or more are
        handled (see gc_pause); a window, which goes on making cycles, says False.
        """
        with paused_gc() as pause:  # files make no cycles worth a walk
            files = collect(local) if isinstance(local, Path) else list(local)
            pause.only_for(len(files) if pause_gc else 0)  # few files: few objects
            if not files:
                raise ValidationError(f"{local} holds no files; a version needs at least one file")
            # Small files go to the backend as they are hashed (see early_upload); those
            # that do not are kept as read, and sent after the draft without a second read.
            early = early_sender_for(
                self.backend,
                project,
                name,
                type_,
                (f.entry_path for f in files),
                description=description,
                metadata=metadata,
                aliases=aliases,
                tags=tags,
                run_id=run_id,
                workers=self.settings.transfer_workers,
                is_cancelled=is_cancelled,
            )
            contents: dict[str, bytes] = {}
            with early or contextlib.nullcontext():
                manifest, sources = hash_local_files(
                    files,
                    self.hash_cache,
                    workers=self.settings.hash_workers,
                    on_progress=on_hash_progress,
                    is_cancelled=is_cancelled,
                    contents=contents,
                    early=early,
                )
                if early is not None:
                    early.flush()
                return upload_version(
                    self.backend,
                    project,
                    name,
                    type_,
                    manifest,
                    sources,
                    description=description,
                    metadata=metadata,
                    aliases=aliases,
                    tags=tags,
                    run_id=run_id,
                    workers=self.settings.transfer_workers,
                    on_progress=on_progress,
                    contents=contents,
                    early=early,
                    is_cancelled=is_cancelled,
                )

    # -- download ------------------------------------------------------------------------
    def get(
        self,
        version: VersionInfo,
        root: Path | None = None,
        *,
        path_prefix: str | None = None,
        on_progress: ProgressCallback | None = None,
        is_cancelled: CancelCheck | None = None,
    ) -> DownloadReport:
        """Place the version's files under ``root`` (default ``./artifacts/<name>:vN``)."""
        with paused_gc() as pause:  # many files make many objects, as for put
            pause.only_for(version.file_count if path_prefix is None else 0)
            return download_version(
                self.backend,
                version,
                root if root is not None else default_download_root(version),
                self.content_cache,
                path_prefix=path_prefix,
                hash_cache=self.hash_cache,
                workers=self.settings.transfer_workers,
                on_progress=on_progress,
                is_cancelled=is_cancelled,
            )

    # -- verify --------------------------------------------------------------------------
    def verify(self, version: VersionInfo, root: Path) -> list[VerifyProblem]:
        """Differences between ``root`` and the version: missing, changed and extra files."""
        if not root.is_dir():
            raise ValidationError(f"{root} is not a folder; give the folder to check")
        problems: list[VerifyProblem] = []
        expected = {}
        for entry in version_entries(self.backend, version.id):
            validate_entry_path(entry.path)
            expected[entry.path] = entry
        for path, entry in expected.items():
            local = root.joinpath(*path.split("/"))
            if not local.is_file() or local.is_symlink():
                problems.append(VerifyProblem(path, "missing"))
            elif entry.ref is None and self.hash_cache.digest(local) != entry.digest:
                problems.append(VerifyProblem(path, "changed"))
        for file in collect(root):
            if file.entry_path not in expected:
                problems.append(VerifyProblem(file.entry_path, "not in the version"))
        return sorted(problems, key=lambda p: p.path)
