"""What each kind of transfer job does: plain functions with progress and cancel callbacks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from desktop_app.client.download import cache_version, download_version, version_entries
from desktop_app.client.files import LocalFile, collect
from desktop_app.client.progress import CancelCheck, ProgressCallback
from desktop_app.client.session import Client
from desktop_app.client.transfers import DownloadSpec, Job, PinSpec, UploadSpec
from desktop_app.client.upload import UploadResult, hash_local_files, upload_version
from desktop_app.core.errors import ValidationError
from desktop_app.core.manifest import Manifest


def collect_sources(sources: Sequence[Path]) -> list[LocalFile]:
    """The files a drop (or a put) names: one folder gives its contents, anything else
    keeps its own name (``a.txt``, ``images/…``)."""
    if not sources:
        raise ValidationError("no files were given; drop or choose at least one file")
    if len(sources) == 1 and sources[0].is_dir():
        files = collect(sources[0])
    else:
        files = [f for source in sources for f in collect(source, name=source.name)]
    if not files:
        raise ValidationError(
            f"{', '.join(str(s) for s in sources)} holds no files; a version needs one file"
        )
    return files


@dataclass(frozen=True)
class UploadPlan:
    """A version before it is sent: its manifest, where each content is, what is new."""

    manifest: Manifest
    sources: dict[str, str]
    digest: str
    total_bytes: int
    file_count: int


def plan_upload(
    client: Client,
    spec: UploadSpec,
    *,
    on_progress: ProgressCallback | None = None,
    is_cancelled: CancelCheck | None = None,
) -> UploadPlan:
    """Hash the sources (through the hash cache) and merge them over the base version."""
    files = collect_sources([Path(s) for s in spec.sources])
    manifest, sources = hash_local_files(
        files,
        client.hash_cache,
        workers=client.settings.hash_workers,
        on_progress=on_progress,
        is_cancelled=is_cancelled,
    )
    if spec.base_version_id:
        dropped = {entry.path for entry in manifest}
        merged = Manifest()
        for entry in version_entries(client.backend, spec.base_version_id):
            if entry.path not in dropped:
                merged.add(entry)
        for entry in manifest:
            merged.add(entry)
        merged.validate()
        manifest = merged
    entries = list(manifest)
    return UploadPlan(
        manifest=manifest,
        sources={d: str(p) for d, p in sources.items()},
        digest=manifest.digest(),
        total_bytes=sum(e.size or 0 for e in entries),
        file_count=len(entries),
    )


def run_upload(
    client: Client,
    spec: UploadSpec,
    on_progress: ProgressCallback | None,
    is_cancelled: CancelCheck | None,
) -> str:
    if not spec.base_version_id:
        # A put: small files go while the rest are hashed (see early_upload), and are not
        # read a second time. The collector keeps running: a window makes cycles meanwhile.
        result = client.put(
            collect_sources([Path(s) for s in spec.sources]),
            spec.project,
            spec.name,
            spec.type,
            description=spec.description,
            metadata=spec.metadata,
            aliases=spec.aliases,
            tags=spec.tags,
            on_progress=on_progress,
            is_cancelled=is_cancelled,
            pause_gc=False,
        )
        return _uploaded(result)
    plan = plan_upload(client, spec, is_cancelled=is_cancelled)
    result = upload_version(
        client.backend,
        spec.project,
        spec.name,
        spec.type,
        plan.manifest,
        {d: Path(p) for d, p in plan.sources.items()},
        description=spec.description,
        metadata=spec.metadata,
        aliases=spec.aliases,
        tags=spec.tags,
        workers=client.settings.transfer_workers,
        on_progress=on_progress,
        is_cancelled=is_cancelled,
    )
    return _uploaded(result)


def _uploaded(result: UploadResult) -> str:
    name = result.version.qualified_name
    return f"{name} (unchanged)" if result.unchanged else name


def run_download(
    client: Client,
    spec: DownloadSpec,
    on_progress: ProgressCallback | None,
    is_cancelled: CancelCheck | None,
) -> str:
    version = client.backend.get_version(spec.version_id)
    download_version(
        client.backend,
        version,
        Path(spec.root),
        client.content_cache,
        paths=spec.paths or None,
        hash_cache=client.hash_cache,
        workers=client.settings.transfer_workers,
        on_progress=on_progress,
        is_cancelled=is_cancelled,
    )
    return spec.root


def run_pin(
    client: Client,
    spec: PinSpec,
    on_progress: ProgressCallback | None,
    is_cancelled: CancelCheck | None,
) -> str:
    names: list[str] = []
    for version_id in spec.version_ids:
        version = client.backend.get_version(version_id)
        names.append(version.qualified_name)
        if not spec.pin:
            client.content_cache.unpin(version_id)
            continue
        digests = cache_version(
            client.backend,
            version,
            client.content_cache,
            workers=client.settings.transfer_workers,
            on_progress=on_progress,
            is_cancelled=is_cancelled,
        )
        client.content_cache.pin(version_id, digests)
    return ", ".join(names)


def run_job(
    client: Client,
    job: Job,
    on_progress: ProgressCallback | None = None,
    is_cancelled: CancelCheck | None = None,
) -> str:
    """Do the job; returns a line saying what it made (a version, a folder, pinned names)."""
    spec = job.spec
    if isinstance(spec, UploadSpec):
        return run_upload(client, spec, on_progress, is_cancelled)
    if isinstance(spec, DownloadSpec):
        return run_download(client, spec, on_progress, is_cancelled)
    return run_pin(client, spec, on_progress, is_cancelled)
