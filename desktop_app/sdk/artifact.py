"""``Artifact``: a version being built, or a logged version read back, as in W&B."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from desktop_app.client.download import version_entries
from desktop_app.client.files import LocalFile, collect
from desktop_app.client.gc_pause import paused_gc
from desktop_app.client.references import reference_entries
from desktop_app.client.session import Client
from desktop_app.client.upload import Source, upload_version
from desktop_app.core.errors import ConflictError, IntegrityError, ValidationError
from desktop_app.core.manifest import Manifest, ManifestEntry
from desktop_app.core.metadata import normalize_metadata
from desktop_app.core.names import (
    validate_artifact_name,
    validate_description,
    validate_tag,
    validate_type,
    validate_user_alias,
)
from desktop_app.core.paths import validate_entry_path
from desktop_app.core.records import VersionInfo, VersionState
from desktop_app.sdk import _context

if TYPE_CHECKING:
    from desktop_app.sdk.runs import Run


class Artifact:
    """A named, typed set of files; ``save`` or ``Run.log_artifact`` makes it a version."""

    def __init__(
        self,
        name: str,
        type: str = "unspecified",
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self._name = validate_artifact_name(name)
        self._type = validate_type(type)
        self._description = validate_description(description)
        self._metadata = normalize_metadata(metadata)
        self._manifest = Manifest()
        self._sources: dict[str, Source] = {}
        self._aliases: list[str] = []
        self._tags: list[str] = []
        self._info: VersionInfo | None = None
        self._manifest_loaded = True  # a logged artifact reads its manifest on first use
        self._tmp_dirs: list[tempfile.TemporaryDirectory[str]] = []
        self._base_project: str | None = None

    @classmethod
    def _from_version(cls, info: VersionInfo) -> Artifact:
        artifact = cls(info.name, info.type, info.description, info.metadata)
        artifact._bind(info)
        return artifact

    def _bind(self, info: VersionInfo) -> None:
        self._info = info
        self._description = info.description
        self._metadata = dict(info.metadata)
        self._aliases = [a for a in info.aliases]
        self._tags = list(info.tags)
        self._manifest = Manifest()
        self._manifest_loaded = False

    # == identity ========================================================================
    @property
    def name(self) -> str:
        """``name:vN`` once logged (as in W&B), else the bare name."""
        if self._info is not None and self._info.version is not None:
            return f"{self._name}:{self._info.version}"
        return self._name

    @property
    def source_name(self) -> str:
        return self.name

    @property
    def type(self) -> str:
        return self._type

    @property
    def id(self) -> str | None:
        return self._info.id if self._info else None

    @property
    def project(self) -> str | None:
        return self._info.project if self._info else None

    @property
    def qualified_name(self) -> str:
        return f"{self.project}/{self.name}" if self.project else self.name

    @property
    def version(self) -> str:
        if self._info is None or self._info.version is None:
            raise ConflictError(
                f"artifact {self._name!r} has no version yet; log it with run.log_artifact() "
                "or artifact.save() first"
            )
        return self._info.version

    @property
    def state(self) -> str:
        return self._info.state.value if self._info else VersionState.PENDING.value

    @property
    def digest(self) -> str:
        return self._info.digest if self._info else self._manifest.digest()

    @property
    def size(self) -> int:
        return self._info.size if self._info else self._manifest.size

    @property
    def file_count(self) -> int:
        return self._info.file_count if self._info else len(self._manifest)

    @property
    def created_at(self) -> float | None:
        return self._info.created_at if self._info else None

    # == editable fields =================================================================
    @property
    def description(self) -> str | None:
        return self._description

    @description.setter
    def description(self, value: str | None) -> None:
        self._description = validate_description(value)

    @property
    def metadata(self) -> dict[str, Any]:
        return self._metadata

    @metadata.setter
    def metadata(self, value: Mapping[str, Any]) -> None:
        self._metadata = normalize_metadata(value)

    @property
    def aliases(self) -> list[str]:
        """User aliases (and ``latest`` when this is the newest version)."""
        return self._aliases

    @aliases.setter
    def aliases(self, value: Sequence[str]) -> None:
        self._aliases = [a if a == "latest" else validate_user_alias(a) for a in value]

    @property
    def tags(self) -> list[str]:
        return self._tags

    @tags.setter
    def tags(self, value: Sequence[str]) -> None:
        self._tags = [validate_tag(t) for t in value]

    # == building a new version ==========================================================
    def _editable(self) -> None:
        if self._info is not None:
            raise ConflictError(
                f"{self.qualified_name} is logged and cannot change; call new_draft() to "
                "start a new version from it"
            )

    @property
    def manifest(self) -> Manifest:
        if self._info is not None and not self._manifest_loaded:
            client = _context.get_client()
            self._manifest = Manifest(version_entries(client.backend, self._info.id))
            self._manifest_loaded = True
        return self._manifest

    def add_file(
        self,
        local_path: str | Path,
        name: str | None = None,
        is_tmp: bool = False,
        skip_cache: bool = False,
        policy: str | None = None,
        overwrite: bool = False,
    ) -> ManifestEntry:
        """Add one file (as ``name``, default its file name); returns its entry."""
        self._editable()
        path = Path(local_path)
        if not path.is_file():
            raise ValidationError(f"{path} is not a file; add_dir() adds folders")
        entry_name = name if name is not None else path.name
        if is_tmp:
            stem, dot, suffix = entry_name.rpartition(".")
            entry_name = f"{stem}.{_short_digest(path)}.{suffix}" if dot else entry_name
        (entry,) = self._add_local(collect(path, entry_name), overwrite=overwrite)
        return entry

    def add_dir(
        self,
        local_path: str | Path,
        name: str | None = None,
        skip_cache: bool = False,
        policy: str | None = None,
        merge: bool = False,
    ) -> None:
        """Add every file under a folder, keeping relative paths (under ``name/``)."""
        self._editable()
        path = Path(local_path)
        if not path.is_dir():
            raise ValidationError(f"{path} is not a folder; add_file() adds single files")
        with paused_gc() as pause:  # a training process's heap is large: see gc_pause
            files = collect(path, name)
            pause.only_for(len(files))
            self._add_local(files, overwrite=merge)

    def _add_local(self, files: Sequence[LocalFile], *, overwrite: bool) -> list[ManifestEntry]:
        client = _context.get_client()
        from desktop_app.client.upload import hash_local_files

        manifest, sources = hash_local_files(
            files, client.hash_cache, workers=client.settings.hash_workers
        )
        added = [self._manifest.add(entry, overwrite=overwrite) for entry in manifest]
        self._manifest.validate()
        for digest, source in sources.items():
            self._sources.setdefault(digest, source)
        return added

    def add_reference(
        self,
        uri: str,
        name: str | None = None,
        checksum: bool = True,
        max_objects: int | None = None,
    ) -> list[ManifestEntry]:
        """Track external data (``file://``, ``http(s)://``) without uploading it."""
        self._editable()
        entries = reference_entries(uri, name, checksum=checksum)
        if max_objects is not None and len(entries) > max_objects:
            raise ValidationError(
                f"{uri} holds {len(entries)} files, more than max_objects={max_objects}; "
                "raise max_objects or reference a smaller folder"
            )
        added = [self._manifest.add(entry) for entry in entries]
        self._manifest.validate()
        return added

    @contextlib.contextmanager
    def new_file(
        self, name: str, mode: str = "x", encoding: str | None = None
    ) -> Iterator[IO[Any]]:
        """Write a new file into the artifact: ``with artifact.new_file("a.txt") as f``."""
        self._editable()
        name = validate_entry_path(name)
        if name in self._manifest:
            raise ValidationError(f"the artifact already has a file {name!r}")
        tmp = tempfile.TemporaryDirectory(prefix="artifact-desk-new-")
        self._tmp_dirs.append(tmp)
        path = Path(tmp.name) / Path(*name.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, mode, encoding=encoding) as stream:
            yield stream
        self.add_file(path, name=name)

    def remove(self, item: str | ManifestEntry) -> None:
        """Remove a file, or every file under a folder path."""
        self._editable()
        path = item.path if isinstance(item, ManifestEntry) else item.rstrip("/")
        under = [p for p in self._manifest.paths() if p == path or p.startswith(path + "/")]
        if not under:
            raise ValidationError(f"the artifact has no file or folder {path!r}")
        for each in under:
            self._manifest.remove(each)

    def new_draft(self) -> Artifact:
        """A new, unlogged artifact starting from this version's files and fields."""
        if self._info is None:
            raise ConflictError("new_draft() needs a logged artifact; this one is not logged yet")
        draft = Artifact(self._name, self._type, self._description, self._metadata)
        draft._manifest = self.manifest.copy()
        draft._base_project = self._info.project
        return draft

    def _inherited_sources(self, project: str) -> dict[str, Source]:
        """Local copies of files a draft inherited, when it is logged into another project.

        The bytes come from the base version's project (which may read them), through the
        content cache; the store then receives and verifies them like any upload.
        """
        base = self._base_project
        needed = {
            e.digest: e.size or 0
            for e in self._manifest
            if e.ref is None and e.digest not in self._sources
        }
        if base is None or base == project or not needed:
            return {}
        client = _context.get_client()
        found: dict[str, Source] = dict(client.backend.local_blob_paths(base, sorted(needed)))
        for digest, size in needed.items():
            if digest not in found:
                found[digest] = client.content_cache.path_for(digest) or (
                    client.content_cache.put_stream(
                        digest, client.backend.read_blob(base, digest), size=size
                    )
                )
        return found

    # == logging =========================================================================
    def save(self, project: str | None = None) -> Artifact:
        """Log the artifact with the current run, or persist edits of a logged one."""
        if self._info is not None:
            return self._save_edits()
        run = _context.current_run
        if run is not None and project in (None, run.project):
            run.log_artifact(self)
            return self
        from desktop_app.sdk.runs import Run

        target = project or self._base_project
        if target is None:
            raise ValidationError(
                "save() needs a project: call wandb.init(project=...) first or "
                "artifact.save(project=...)"
            )
        with Run.start(project=target, job_type="auto") as auto_run:
            auto_run.log_artifact(self)
        return self

    def _log(self, run: Run, aliases: Sequence[str], tags: Sequence[str]) -> Artifact:
        self._editable()
        if len(self._manifest) == 0:
            raise ValidationError(
                f"artifact {self._name!r} has no files; add files before logging it"
            )
        wanted = [validate_user_alias(a) for a in [*self._aliases, *aliases] if a != "latest"]
        client = _context.get_client()
        sources = {**self._inherited_sources(run.project), **self._sources}
        result = upload_version(
            client.backend,
            run.project,
            self._name,
            self._type,
            self._manifest,
            sources,
            description=self._description,
            metadata=self._metadata,
            aliases=sorted(set(wanted)),
            tags=sorted({*self._tags, *tags}),
            run_id=run.id,
            workers=client.settings.transfer_workers,
        )
        if result.unchanged:
            _context.say(
                f"{run.project}/{self._name}: same content as {result.version.version}; "
                "no new version was created"
            )
        self._bind(result.version)
        self._cleanup_new_files()
        return self

    def _save_edits(self) -> Artifact:
        assert self._info is not None
        backend = _context.get_client().backend
        before = backend.get_version(self._info.id)  # aliases may have moved since
        # Check everything before writing anything, so a bad alias leaves no half edit.
        if "latest" in self._aliases and "latest" not in before.aliases:
            validate_user_alias("latest")  # raises: latest moves by itself
        wanted = {validate_user_alias(a) for a in self._aliases if a != "latest"}
        tags = [validate_tag(t) for t in self._tags]
        info = before
        changed_description = self._description != before.description
        if changed_description or self._metadata != before.metadata or tags != list(before.tags):
            info = backend.update_version(
                before.id,
                description=(self._description or "") if changed_description else None,
                metadata=self._metadata,
                tags=tags,
            )
        current = {a for a in info.aliases if a != "latest"}
        for alias in sorted(wanted - current):
            info = backend.add_alias(info.id, alias)
        for alias in sorted(current - wanted):
            info = backend.remove_alias(info.id, alias)
        self._bind(info)
        return self

    def wait(self, timeout: float | None = None) -> Artifact:
        """Uploads finish inside ``log_artifact``; this only checks that it was logged."""
        if self._info is None:
            raise ConflictError(
                f"artifact {self._name!r} was not logged; call run.log_artifact() first"
            )
        return self

    def delete(self) -> None:
        assert self._info is not None, "only a logged artifact can be deleted"
        self._bind(_context.get_client().backend.delete_version(self._info.id))

    # == reading =========================================================================
    def files(self, names: Sequence[str] | None = None) -> list[ManifestEntry]:
        entries = list(self.manifest)
        if names is not None:
            wanted = set(names)
            entries = [e for e in entries if e.path in wanted]
        return entries

    def get_entry(self, name: str) -> ManifestEntry:
        entry = self.manifest.get(name)
        if entry is None:
            raise KeyError(f"the artifact has no file {name!r}")
        return entry

    get_path = get_entry

    def download(
        self,
        root: str | Path | None = None,
        path_prefix: str | None = None,
        allow_missing_references: bool = False,
        skip_cache: bool | None = None,
    ) -> str:
        """Download the version (default ``./artifacts/<name>:vN``); returns the folder."""
        info = self._require_logged("download")
        client = _context.get_client()
        report = client.get(info, None if root is None else Path(root), path_prefix=path_prefix)
        return str(report.root)

    def verify(self, root: str | Path | None = None) -> None:
        """Raise IntegrityError unless ``root`` holds exactly this version's files."""
        info = self._require_logged("verify")
        client: Client = _context.get_client()
        from desktop_app.client.session import default_download_root

        folder = Path(root) if root is not None else default_download_root(info)
        problems = client.verify(info, folder)
        if problems:
            listed = "; ".join(f"{p.path}: {p.problem}" for p in problems[:10])
            raise IntegrityError(
                f"{folder} does not match {info.qualified_name}: {listed}; download it again "
                "to restore the files"
            )

    def logged_by(self) -> Run | None:
        from desktop_app.sdk.runs import Run

        info = self._require_logged("logged_by")
        run = _context.get_client().backend.logged_by(info.id)
        return None if run is None else Run(run)

    def used_by(self) -> list[Run]:
        from desktop_app.sdk.runs import Run

        info = self._require_logged("used_by")
        return [Run(r) for r in _context.get_client().backend.used_by(info.id)]

    def _require_logged(self, action: str) -> VersionInfo:
        if self._info is None:
            raise ConflictError(
                f"{action}() needs a logged artifact; {self._name!r} is not logged yet"
            )
        return self._info

    def __repr__(self) -> str:
        return f"<Artifact {self.qualified_name} type={self._type}>"

    def _cleanup_new_files(self) -> None:
        for tmp in self._tmp_dirs:
            tmp.cleanup()
        self._tmp_dirs.clear()

    def __del__(self) -> None:
        if getattr(self, "_tmp_dirs", None):
            self._cleanup_new_files()


def _short_digest(path: Path) -> str:
    from desktop_app.core.digests import b64_to_hex, md5_file_b64

    return b64_to_hex(md5_file_b64(path))[:20]
