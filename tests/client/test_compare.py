from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from record_factory import make_version

from desktop_app.client.compare import (
    Change,
    FileDiff,
    MetadataDiff,
    compare_versions,
    diff_metadata,
    same_value,
)
from desktop_app.core.manifest import ManifestEntry
from desktop_app.core.records import VersionInfo


def version(index: int, size: int = 0, metadata: Mapping[str, Any] | None = None) -> VersionInfo:
    return make_version(index=index, size=size, metadata=metadata or {})


def entry(path: str, digest: str, size: int | None = 10) -> ManifestEntry:
    return ManifestEntry(path=path, digest=digest, size=size)


def test_files_added_removed_changed_and_unchanged() -> None:
    old = [entry("a.txt", "A"), entry("b.txt", "B", 5), entry("c.txt", "C"), entry("d.txt", "D")]
    new = [
        entry("d.txt", "D"),
        entry("c.txt", "C2", 30),
        entry("e.txt", "E", 7),
        entry("a.txt", "A"),
    ]
    diff = compare_versions(version(1, 100), old, version(2, 132), new)
    assert diff.files == (
        FileDiff("b.txt", Change.REMOVED, 5, None),
        FileDiff("c.txt", Change.CHANGED, 10, 30),
        FileDiff("e.txt", Change.ADDED, None, 7),
    )
    assert diff.unchanged_files == 2
    assert (diff.count(Change.ADDED), diff.count(Change.REMOVED), diff.count(Change.CHANGED)) == (
        1,
        1,
        1,
    )
    assert diff.size_delta == 32
    assert diff.old.index == 1
    assert diff.new.index == 2


def test_a_file_with_the_same_digest_but_another_size_is_unchanged() -> None:
    # The digest is the content; a size recorded differently is not a change of the file.
    diff = compare_versions(version(1), [entry("x", "X", 1)], version(2), [entry("x", "X", 2)])
    assert diff.files == ()
    assert diff.unchanged_files == 1


def test_shrinking_gives_a_negative_delta_and_identical_versions_no_changes() -> None:
    files = [entry("a", "A"), entry("b", "B")]
    diff = compare_versions(version(3, 500), files, version(4, 200), files)
    assert diff.size_delta == -300
    assert diff.files == ()
    assert diff.metadata == ()
    assert diff.unchanged_files == 2


def test_references_without_a_size_keep_none() -> None:
    diff = compare_versions(
        version(1), [entry("s3", "etag1", None)], version(2), [entry("s3", "etag2", None)]
    )
    assert diff.files == (FileDiff("s3", Change.CHANGED, None, None),)


def test_metadata_is_compared_by_dotted_key_paths() -> None:
    old = {"train": {"lr": 0.1, "epochs": 3}, "name": "x", "tags": ["a"]}
    new = {"train": {"lr": 0.01, "epochs": 3, "optimizer": {"kind": "adam"}}, "tags": ["a", "b"]}
    diff = compare_versions(version(1, metadata=old), [], version(2, metadata=new), [])
    assert diff.metadata == (
        MetadataDiff("name", Change.REMOVED, "x", None),
        MetadataDiff("tags", Change.CHANGED, ["a"], ["a", "b"]),
        MetadataDiff("train.lr", Change.CHANGED, 0.1, 0.01),
        MetadataDiff("train.optimizer.kind", Change.ADDED, None, "adam"),
    )
    assert diff.metadata_count(Change.CHANGED) == 2


def test_metadata_null_is_a_value_and_true_is_not_one() -> None:
    found = diff_metadata({"flag": 1, "n": 1, "gone": None}, {"flag": True, "n": 1.0, "new": None})
    assert found == [
        MetadataDiff("flag", Change.CHANGED, 1, True),
        MetadataDiff("gone", Change.REMOVED, None, None),
        MetadataDiff("new", Change.ADDED, None, None),
    ]


def test_a_dotted_key_and_a_nested_key_are_different_keys() -> None:
    found = diff_metadata({"a.b": 1}, {"a": {"b": 1}})
    assert [(d.key, d.change) for d in found] == [("a.b", Change.ADDED), ("a.b", Change.REMOVED)]


def test_an_empty_object_is_a_value_and_a_type_change_shows_both_sides() -> None:
    assert diff_metadata({"cfg": {}}, {}) == [MetadataDiff("cfg", Change.REMOVED, {}, None)]
    found = diff_metadata({"x": 1}, {"x": {"y": 1}})
    assert [(d.key, d.change) for d in found] == [("x", Change.REMOVED), ("x.y", Change.ADDED)]


def test_same_value_compares_nested_json() -> None:
    assert same_value({"a": [1, {"b": 2.0}]}, {"a": [1, {"b": 2}]})
    assert not same_value({"a": [1, True]}, {"a": [1, 1]})
    assert not same_value([1, 2], [1, 2, 3])
    assert not same_value({"a": 1}, {"b": 1})
    assert not same_value([1], {"0": 1})
    assert not same_value("1", 1)
    assert same_value(None, None)
