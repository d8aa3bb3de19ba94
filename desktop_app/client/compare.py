"""What changed between two versions of an artifact: files and metadata, without Qt."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from desktop_app.core.manifest import ManifestEntry
from desktop_app.core.records import VersionInfo


class Change(enum.StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True)
class FileDiff:
    """One file that differs; a size is ``None`` on the side that lacks the file, or when
    the manifest does not know it (a reference without a size)."""

    path: str
    change: Change
    old_size: int | None
    new_size: int | None


@dataclass(frozen=True)
class MetadataDiff:
    """One metadata value that differs, under its dotted key path (``train.lr``).

    ``old`` is meaningless for an added key and ``new`` for a removed one (``None`` there);
    read ``change`` to tell an absent value from a JSON ``null``.
    """

    key: str
    change: Change
    old: Any
    new: Any


@dataclass(frozen=True)
class VersionDiff:
    """From ``old`` to ``new``: the files and metadata values that differ, sorted by path."""

    old: VersionInfo
    new: VersionInfo
    files: tuple[FileDiff, ...]
    unchanged_files: int
    size_delta: int
    metadata: tuple[MetadataDiff, ...]

    def count(self, change: Change) -> int:
        """How many files were ``change``d."""
        return sum(1 for item in self.files if item.change == change)

    def metadata_count(self, change: Change) -> int:
        return sum(1 for item in self.metadata if item.change == change)


def compare_versions(
    a: VersionInfo,
    a_entries: Sequence[ManifestEntry],
    b: VersionInfo,
    b_entries: Sequence[ManifestEntry],
) -> VersionDiff:
    """The changes from ``a`` (the base) to ``b``.

    A file changed when its digest differs. The size delta is ``b.size - a.size``.
    Metadata is compared key by key through nested objects; a list is one value.
    """
    old_files = {entry.path: entry for entry in a_entries}
    new_files = {entry.path: entry for entry in b_entries}
    files: list[FileDiff] = []
    unchanged = 0
    for path in sorted(old_files.keys() | new_files.keys()):
        old, new = old_files.get(path), new_files.get(path)
        if old is None:
            assert new is not None
            files.append(FileDiff(path, Change.ADDED, None, new.size))
        elif new is None:
            files.append(FileDiff(path, Change.REMOVED, old.size, None))
        elif old.digest != new.digest:
            files.append(FileDiff(path, Change.CHANGED, old.size, new.size))
        else:
            unchanged += 1
    return VersionDiff(
        old=a,
        new=b,
        files=tuple(files),
        unchanged_files=unchanged,
        size_delta=b.size - a.size,
        metadata=tuple(diff_metadata(a.metadata, b.metadata)),
    )


def diff_metadata(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[MetadataDiff]:
    """The differing leaves of two metadata objects, sorted by key path."""
    old_leaves = dict(_leaves(old, ()))
    new_leaves = dict(_leaves(new, ()))
    found: list[MetadataDiff] = []
    # Keys are compared as tuples: {"a.b": 1} and {"a": {"b": 1}} are different keys.
    for path in sorted(old_leaves.keys() | new_leaves.keys()):
        key = ".".join(path)
        if path not in old_leaves:
            found.append(MetadataDiff(key, Change.ADDED, None, new_leaves[path]))
        elif path not in new_leaves:
            found.append(MetadataDiff(key, Change.REMOVED, old_leaves[path], None))
        elif not same_value(old_leaves[path], new_leaves[path]):
            found.append(MetadataDiff(key, Change.CHANGED, old_leaves[path], new_leaves[path]))
    return found


def _leaves(
    value: Mapping[str, Any], prefix: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], Any]]:
    for key, item in value.items():
        path = (*prefix, str(key))
        if isinstance(item, Mapping) and item:
            yield from _leaves(item, path)
        else:
            yield path, item


def same_value(a: Any, b: Any) -> bool:
    """Equal as JSON values: ``True`` is not ``1``, though ``1`` is ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping | list | tuple) or isinstance(b, Mapping | list | tuple):
        return False
    return bool(a == b)
