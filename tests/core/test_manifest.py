"""Tests for the manifest in W&B's ``wandb_manifest.json`` format (version 1)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop_app.core.digests import md5_b64, version_digest
from desktop_app.core.errors import ValidationError
from desktop_app.core.manifest import (
    MANIFEST_FILENAME,
    STORAGE_POLICY,
    Manifest,
    ManifestEntry,
)

HELLO = md5_b64(b"hello")
EMPTY = md5_b64(b"")
WANDB_ENTRY_KEY_ORDER = ["digest", "ref", "birthArtifactID", "size", "extra"]

# -- strategies -------------------------------------------------------------------------
# Lowercase-only names: no case collisions. Folders start with "d_" and files with
# "f<index>_", so a file never shares a name with a folder and every path is unique.
_NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-é中ü", min_size=1, max_size=8)
_FOLDERS = st.lists(_NAME.map(lambda s: f"d_{s}"), max_size=3)
_DIGESTS = st.binary(min_size=16, max_size=16).map(lambda b: base64.b64encode(b).decode())
_SIZES = st.integers(min_value=0, max_value=2**53)
_JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
)
_JSON = st.recursive(
    _JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
_EXTRA = st.dictionaries(st.text(min_size=1, max_size=6), _JSON, max_size=3)
_REFS = st.sampled_from(
    [
        "s3://bucket/key.bin",
        "gs://bucket/a/b",
        "https://example.com/data.csv",
        "file:///mnt/share/é.txt",
        "wandb-artifact://abc123/x.txt",
    ]
)
_BIRTH = st.none() | st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123456789=", min_size=4)


@st.composite
def _entry_fields(draw: st.DrawFn) -> dict[str, Any]:
    is_ref = draw(st.booleans())
    if is_ref:
        ref = draw(_REFS)
        digest = draw(_DIGESTS | st.just(ref) | st.text(alphabet="0123456789abcdef", min_size=1))
        size = draw(st.none() | _SIZES)
    else:
        ref, digest, size = None, draw(_DIGESTS), draw(_SIZES)
    return {
        "digest": digest,
        "size": size,
        "ref": ref,
        "extra": draw(_EXTRA),
        "birth_artifact_id": draw(_BIRTH),
    }


@st.composite
def manifests(draw: st.DrawFn) -> Manifest:
    count = draw(st.integers(min_value=0, max_value=8))
    entries = []
    for index in range(count):
        folders = draw(_FOLDERS)
        path = "/".join([*folders, f"f{index}_{draw(_NAME)}"])
        entries.append(ManifestEntry(path=path, **draw(_entry_fields())))
    config = draw(st.sampled_from([None, {"storageLayout": "V1"}, {"storageLayout": "V2"}]))
    return Manifest(entries, storage_policy_config=config)


def _doc(contents: Any, **top: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "version": 1,
        "storagePolicy": STORAGE_POLICY,
        "storagePolicyConfig": {"storageLayout": "V2"},
        "contents": contents,
    }
    doc.update(top)
    return doc


def _file(digest: str = HELLO, size: int = 5, **more: Any) -> dict[str, Any]:
    return {"digest": digest, "size": size, **more}


# -- round trips ------------------------------------------------------------------------
@given(manifest=manifests())
def test_json_round_trip(manifest: Manifest) -> None:
    manifest.validate()
    text = manifest.dumps()
    assert text.endswith("\n")
    loaded = Manifest.loads(text)
    assert loaded == manifest
    assert loaded.paths() == manifest.paths()
    assert loaded.digest() == manifest.digest()
    assert loaded.to_json() == manifest.to_json()
    assert loaded.storage_policy_config == manifest.storage_policy_config
    assert Manifest.from_json(json.loads(text)) == manifest
    assert Manifest.loads(text.encode("utf-8")) == manifest
    assert manifest.to_manifest_json() == manifest.to_json()


@given(manifest=manifests())
def test_digest_and_size_follow_entries(manifest: Manifest) -> None:
    assert manifest.digest() == version_digest(
        (entry.path, entry.digest) for entry in reversed(list(manifest))
    )
    assert manifest.size == sum(entry.size or 0 for entry in manifest)
    assert manifest.stored_digests() == {e.digest for e in manifest if not e.is_reference}
    assert manifest.copy() == manifest
    assert manifest.copy().digest() == manifest.digest()


def test_top_level_layout() -> None:
    manifest = Manifest([ManifestEntry("a.txt", HELLO, 5)])
    data = manifest.to_json()
    assert list(data) == ["version", "storagePolicy", "storagePolicyConfig", "contents"]
    assert data == _doc({"a.txt": {"digest": HELLO, "size": 5}})
    assert MANIFEST_FILENAME == "wandb_manifest.json"


def test_dumps_keeps_unicode_and_indents() -> None:
    manifest = Manifest([ManifestEntry("données/é.txt", HELLO, 5)])
    text = manifest.dumps()
    assert "données/é.txt" in text
    assert '\n    "version": 1,' in text


# -- entry key order --------------------------------------------------------------------
def test_entry_keys_in_wandb_order() -> None:
    entry = ManifestEntry(
        "a.txt",
        HELLO,
        size=5,
        ref="s3://b/a.txt",
        extra={"versionID": "1"},
        birth_artifact_id="Qg==",
    )
    assert list(entry.to_json()) == WANDB_ENTRY_KEY_ORDER
    text = Manifest([entry]).dumps()
    positions = [text.index(f'"{key}"') for key in WANDB_ENTRY_KEY_ORDER]
    assert positions == sorted(positions)


def test_entry_keys_order_survives_reordered_input() -> None:
    raw = {
        "extra": {"k": 1},
        "size": 5,
        "birthArtifactID": "Qg==",
        "ref": "s3://b/k",
        "digest": "e",
    }
    manifest = Manifest.from_json(_doc({"k": raw}))
    assert list(manifest.to_json()["contents"]["k"]) == WANDB_ENTRY_KEY_ORDER


@pytest.mark.parametrize(
    ("entry", "keys"),
    [
        (ManifestEntry("a", HELLO, 5), ["digest", "size"]),
        (ManifestEntry("a", HELLO, 0), ["digest", "size"]),
        (ManifestEntry("a", "https://x/y", None, ref="https://x/y"), ["digest", "ref"]),
        (ManifestEntry("a", HELLO, 5, extra={}), ["digest", "size"]),
        (
            ManifestEntry("a", HELLO, 5, birth_artifact_id="Qg=="),
            ["digest", "birthArtifactID", "size"],
        ),
    ],
)
def test_entry_defaults_left_out(entry: ManifestEntry, keys: list[str]) -> None:
    assert list(entry.to_json()) == keys


# -- W&B's local-only keys --------------------------------------------------------------
@pytest.mark.parametrize(
    "local",
    [
        {"local_path": "/tmp/staging/tmpabc"},
        {"skip_cache": True},
        {"skip_cache": False},
        {"path": "a.txt"},
        {"path": "a.txt", "local_path": "/tmp/x", "skip_cache": False, "extra": {}},
    ],
)
def test_tolerates_wandb_local_only_keys(local: dict[str, Any]) -> None:
    manifest = Manifest.from_json(_doc({"a.txt": _file(**local)}))
    assert manifest.get("a.txt") == ManifestEntry("a.txt", HELLO, 5)
    assert manifest.to_json()["contents"] == {"a.txt": {"digest": HELLO, "size": 5}}
    assert manifest.digest() == version_digest([("a.txt", HELLO)])


# -- rejections -------------------------------------------------------------------------
def _rejected(doc: Any) -> str:
    with pytest.raises(ValidationError) as info:
        Manifest.from_json(doc)
    return str(info.value)


def test_rejects_unknown_entry_keys() -> None:
    message = _rejected(_doc({"a.txt": _file(color="red", md5="x")}))
    assert "'a.txt'" in message
    assert "color" in message
    assert "md5" in message


@pytest.mark.parametrize("size", [-1, -(2**40), True, 1.5, "5"])
def test_rejects_bad_size(size: object) -> None:
    message = _rejected(_doc({"data/a.txt": _file(size=size)}))  # type: ignore[arg-type]
    assert "'data/a.txt'" in message
    assert repr(size) in message


def test_rejects_file_without_size() -> None:
    message = _rejected(_doc({"a.txt": {"digest": HELLO}}))
    assert "'a.txt'" in message
    assert "size" in message


@pytest.mark.parametrize(
    "raw", [{"size": 5}, {"digest": "", "size": 5}, {"digest": None, "size": 5}, {"digest": 7}]
)
def test_rejects_missing_digest(raw: dict[str, Any]) -> None:
    message = _rejected(_doc({"b/c.txt": raw}))
    assert "'b/c.txt'" in message
    assert "digest" in message


@pytest.mark.parametrize("raw", [[], "x", 5, None])
def test_rejects_non_object_entry(raw: object) -> None:
    message = _rejected(_doc({"a.txt": raw}))
    assert "'a.txt'" in message
    assert "object" in message


def test_rejects_bad_ref_and_extra() -> None:
    assert "'r'" in _rejected(_doc({"r": {"digest": "d", "ref": 5}}))
    assert "'e'" in _rejected(_doc({"e": _file(extra=[1])}))


@pytest.mark.parametrize("doc", [[], "manifest", 1, None])
def test_rejects_non_object_manifest(doc: object) -> None:
    assert "JSON object" in _rejected(doc)


def test_rejects_non_object_contents() -> None:
    assert "contents" in _rejected(_doc([["a.txt", _file()]]))


@pytest.mark.parametrize("version", [2, 0, "1", None])
def test_rejects_other_versions(version: object) -> None:
    message = _rejected(_doc({}, version=version))
    assert repr(version) in message
    assert "version" in message


def test_rejects_missing_version() -> None:
    doc = _doc({})
    del doc["version"]
    assert "None" in _rejected(doc)


def test_loads_rejects_invalid_json() -> None:
    with pytest.raises(ValidationError, match="not valid JSON"):
        Manifest.loads("{not json")
    with pytest.raises(ValidationError, match="JSON object"):
        Manifest.loads("[]")


@pytest.mark.parametrize(
    ("path", "needle"),
    [
        ("../x", "'..'"),
        ("a/../x", "'..'"),
        ("./x", "'.'"),
        ("/abs", "absolute"),
        ("/etc/passwd", "absolute"),
        ("a\\b", "'\\'"),
        ("C:/x", "drive"),
        ("a//b", "empty segment"),
        ("a/", "empty segment"),
        ("con.txt", "device"),
        ("x?.txt", "'?'"),
        ("tab\there", "control"),
    ],
)
def test_rejects_bad_paths_naming_them(path: str, needle: str) -> None:
    message = _rejected(_doc({"ok.txt": _file(), path: _file()}))
    assert repr(path) in message
    assert needle in message


def test_rejects_case_duplicates() -> None:
    message = _rejected(_doc({"A.txt": _file(), "a.txt": _file(EMPTY, 0)}))
    assert "'A.txt'" in message
    assert "'a.txt'" in message
    assert "case" in message


def test_rejects_file_beside_folder() -> None:
    message = _rejected(_doc({"a": _file(), "a/b": _file()}))
    assert "'a'" in message
    assert "'a/b'" in message
    assert "folder" in message


def test_rejects_file_beside_folder_differing_in_case() -> None:
    message = _rejected(_doc({"Data": _file(), "data/x.csv": _file()}))
    assert "'Data'" in message
    assert "'data/x.csv'" in message


def test_rejects_duplicate_after_nfc_normalisation_naming_both() -> None:
    nfc, nfd = "caf\u00e9.txt", "cafe\u0301.txt"
    message = _rejected(_doc({nfc: _file(), nfd: _file(EMPTY, 0)}))
    assert "café.txt" in message or ascii(nfc) in message


def test_add_rejects_second_entry_at_path() -> None:
    manifest = Manifest([ManifestEntry("a.txt", HELLO, 5)])
    manifest.add(ManifestEntry("a.txt", HELLO, 5))  # the same entry again is fine
    with pytest.raises(ValidationError, match=r"'a\.txt'"):
        manifest.add(ManifestEntry("a.txt", EMPTY, 0))
    manifest.add(ManifestEntry("a.txt", EMPTY, 0), overwrite=True)
    assert manifest.get("a.txt") == ManifestEntry("a.txt", EMPTY, 0)
    assert manifest.remove("a.txt").digest == EMPTY
    with pytest.raises(ValidationError, match=r"'a\.txt'"):
        manifest.remove("a.txt")


# -- files ------------------------------------------------------------------------------
def test_dump_and_load_file(tmp_path: Path) -> None:
    manifest = Manifest(
        [
            ManifestEntry("images/chat é.png", HELLO, 5, birth_artifact_id="Qg=="),
            ManifestEntry("empty", EMPTY, 0),
            ManifestEntry("remote", "etag", 9, ref="s3://b/k", extra={"versionID": "v"}),
        ]
    )
    target = tmp_path / MANIFEST_FILENAME
    manifest.dump(target)
    raw = target.read_bytes()
    assert raw.decode("utf-8") == manifest.dumps()
    assert "chat é.png".encode() in raw
    loaded = Manifest.load(target)
    assert loaded == manifest
    assert loaded.digest() == manifest.digest()
    assert Manifest.load(str(target)) == manifest


def test_load_error_names_the_file(tmp_path: Path) -> None:
    target = tmp_path / MANIFEST_FILENAME
    target.write_text(json.dumps(_doc({"../x": _file()})), encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        Manifest.load(target)
    message = str(info.value)
    assert str(target) in message
    assert "'../x'" in message


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Manifest.load(tmp_path / "missing.json")


def test_a_checked_path_set_is_checked_again_after_a_change() -> None:
    """validate() skips a path set it has passed, but not once an entry was added."""
    manifest = Manifest([ManifestEntry("data/a.txt", md5_b64(b"a"), 1)])
    manifest.validate()
    manifest.add(ManifestEntry("DATA/A.txt", md5_b64(b"b"), 1))
    with pytest.raises(ValidationError, match="differ only in case"):
        manifest.validate()
    manifest.remove("DATA/A.txt")
    manifest.validate()
    manifest.add(ManifestEntry("data/a.txt/inner", md5_b64(b"c"), 1))
    with pytest.raises(ValidationError, match="needs a folder"):
        manifest.validate()
