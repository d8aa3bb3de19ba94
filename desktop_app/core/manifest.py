"""The manifest (``path -> entry``) in W&B's ``wandb_manifest.json`` format (version 1)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop_app.core.digests import version_digest
from desktop_app.core.errors import ValidationError
from desktop_app.core.paths import check_path_set, validate_entry_path

MANIFEST_FILENAME = "wandb_manifest.json"
STORAGE_POLICY = "wandb-storage-policy-v1"
DEFAULT_POLICY_CONFIG: Mapping[str, Any] = {"storageLayout": "V2"}
# Keys W&B's own writers add to entries that describe the writer's machine, not the content.
_LOCAL_ONLY_KEYS = frozenset({"path", "local_path", "skip_cache"})
_KNOWN_KEYS = frozenset({"digest", "ref", "birthArtifactID", "size", "extra"})


@dataclass(frozen=True)
class ManifestEntry:
    """One file of a version: its digest and size, or a reference to external data."""

    path: str
    digest: str
    size: int | None = None
    ref: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    birth_artifact_id: str | None = None

    @property
    def is_reference(self) -> bool:
        return self.ref is not None

    def to_json(self) -> dict[str, Any]:
        """The entry as W&B writes it: fields in W&B's order, defaults left out."""
        out: dict[str, Any] = {"digest": self.digest}
        if self.ref is not None:
            out["ref"] = self.ref
        if self.birth_artifact_id is not None:
            out["birthArtifactID"] = self.birth_artifact_id
        if self.size is not None:
            out["size"] = self.size
        if self.extra:
            out["extra"] = dict(self.extra)
        return out

    @classmethod
    def from_json(cls, path: str, data: Mapping[str, Any]) -> ManifestEntry:
        """Read one entry, tolerating W&B's local-only keys; unknown keys are an error."""
        if not isinstance(data, Mapping):
            raise ValidationError(f"manifest entry {path!r} must be a JSON object")
        digest = data.get("digest")
        size = data.get("size")
        if len(data) == 2 and type(digest) is str and digest and type(size) is int and size >= 0:
            return cls(path, digest, size)  # {"digest", "size"}: nearly every entry
        unknown = set(data) - _KNOWN_KEYS - _LOCAL_ONLY_KEYS
        if unknown:
            raise ValidationError(
                f"manifest entry {path!r} has unknown keys {sorted(unknown)}; "
                f"an entry may hold {sorted(_KNOWN_KEYS)}"
            )
        if not isinstance(digest, str) or not digest:
            raise ValidationError(f"manifest entry {path!r} needs a non-empty string 'digest'")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise ValidationError(
                f"manifest entry {path!r} has size {size!r}; size is a whole number >= 0"
            )
        ref = data.get("ref")
        if ref is not None and not isinstance(ref, str):
            raise ValidationError(f"manifest entry {path!r} has a 'ref' that is not a string")
        if ref is None and size is None:
            raise ValidationError(f"manifest entry {path!r} stores a file but gives no 'size'")
        extra = data.get("extra") or {}
        if not isinstance(extra, Mapping):
            raise ValidationError(f"manifest entry {path!r} has an 'extra' that is not an object")
        birth = data.get("birthArtifactID")
        return cls(
            path=path,
            digest=digest,
            size=size,
            ref=ref,
            extra=dict(extra),
            birth_artifact_id=birth if isinstance(birth, str) else None,
        )


class Manifest:
    """An ordered map of validated entry paths to entries, with W&B's version digest."""

    def __init__(
        self,
        entries: Iterable[ManifestEntry] = (),
        *,
        storage_policy: str = STORAGE_POLICY,
        storage_policy_config: Mapping[str, Any] | None = None,
    ) -> None:
        self.storage_policy = storage_policy
        self.storage_policy_config = dict(
            DEFAULT_POLICY_CONFIG if storage_policy_config is None else storage_policy_config
        )
        self._entries: dict[str, ManifestEntry] = {}
        self._set_checked = False  # the path set passed validate() and has not changed since
        for entry in entries:
            self.add(entry)

    # -- mapping-like access -------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[ManifestEntry]:
        return iter(self._entries.values())

    def __contains__(self, path: object) -> bool:
        return path in self._entries

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Manifest):
            return NotImplemented
        return self._entries == other._entries

    def __repr__(self) -> str:
        return f"Manifest({len(self)} entries, digest={self.digest()})"

    @property
    def entries(self) -> Mapping[str, ManifestEntry]:
        return self._entries

    def get(self, path: str) -> ManifestEntry | None:
        return self._entries.get(path)

    def paths(self) -> list[str]:
        return list(self._entries)

    # -- changes -------------------------------------------------------------------------
    def add(self, entry: ManifestEntry, *, overwrite: bool = False) -> ManifestEntry:
        """Add ``entry`` after validating its path; a second entry at a path is an error.

        The path is kept exactly as given (W&B hashes it as given, so an NFD name from
        macOS keeps W&B's digest); paths made here from local files are NFC already, and
        :meth:`validate` refuses two paths that are equal after NFC.
        """
        path = entry.path
        validate_entry_path(path)
        if entry.size is not None and entry.size < 0:
            raise ValidationError(f"manifest entry {path!r} has a negative size {entry.size}")
        if path in self._entries and not overwrite and self._entries[path] != entry:
            raise ValidationError(
                f"the version already has a file at {path!r}; remove it first or choose "
                "another name"
            )
        self._entries[path] = entry
        self._set_checked = False
        return entry

    def remove(self, path: str) -> ManifestEntry:
        try:
            entry = self._entries.pop(path)
        except KeyError:
            raise ValidationError(f"the version has no file at {path!r}") from None
        self._set_checked = False
        return entry

    def validate(self) -> None:
        """Check the set of paths as a whole (case and NFC collisions, file/folder clashes).

        Once passed, it is not checked again until an entry is added or removed (the
        server's draft loads a manifest, then the store checks it again).
        """
        if not self._set_checked:
            check_path_set(self._entries)
            self._set_checked = True

    # -- digests and sizes ---------------------------------------------------------------
    def digest(self) -> str:
        return version_digest((path, entry.digest) for path, entry in self._entries.items())

    @property
    def size(self) -> int:
        return sum(entry.size or 0 for entry in self._entries.values())

    def stored_digests(self) -> set[str]:
        """Digests of the entries whose bytes the store holds (not references)."""
        return {entry.digest for entry in self._entries.values() if entry.ref is None}

    # -- JSON ----------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "storagePolicy": self.storage_policy,
            "storagePolicyConfig": dict(self.storage_policy_config),
            "contents": {path: entry.to_json() for path, entry in self._entries.items()},
        }

    def to_manifest_json(self) -> dict[str, Any]:
        """W&B's name for :meth:`to_json`."""
        return self.to_json()

    def copy(self) -> Manifest:
        return Manifest(
            self._entries.values(),
            storage_policy=self.storage_policy,
            storage_policy_config=self.storage_policy_config,
        )

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=4, ensure_ascii=False, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Manifest:
        """Load W&B's manifest JSON, validating every path; version 1 only."""
        if not isinstance(data, Mapping):
            raise ValidationError("a manifest must be a JSON object")
        version = data.get("version")
        if version != 1:
            raise ValidationError(
                f"manifest version {version!r} is not supported; only version 1 manifests "
                "(as written by wandb) can be read"
            )
        contents = data.get("contents", {})
        if not isinstance(contents, Mapping):
            raise ValidationError("the manifest's 'contents' must be a JSON object")
        policy = data.get("storagePolicy", STORAGE_POLICY)
        config = data.get("storagePolicyConfig", DEFAULT_POLICY_CONFIG)
        if not isinstance(policy, str) or not isinstance(config, Mapping):
            raise ValidationError("the manifest's storage policy fields are malformed")
        manifest = cls(storage_policy=policy, storage_policy_config=config)
        entries = manifest._entries  # a JSON object's keys are unique: no duplicate to check
        for path, raw in contents.items():
            validate_entry_path(path)
            entries[path] = ManifestEntry.from_json(path, raw)
        manifest.validate()
        return manifest

    @classmethod
    def loads(cls, text: str | bytes) -> Manifest:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ValidationError(f"the manifest is not valid JSON: {exc}") from exc
        return cls.from_json(data)

    @classmethod
    def load(cls, path: str | Path) -> Manifest:
        try:
            return cls.loads(Path(path).read_bytes())
        except ValidationError as exc:
            raise ValidationError(f"{path}: {exc}") from exc

    def dump(self, path: str | Path) -> None:
        Path(path).write_text(self.dumps(), encoding="utf-8")
