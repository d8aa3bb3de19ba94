"""Our digests and manifests against the real ``wandb`` SDK (offline, no ``wandb.init``).

W&B's side is built with ``wandb.Artifact`` on real files, so these tests fail when a new
``wandb`` release changes how files are hashed, how the version digest is computed or
what ``wandb_manifest.json`` looks like.
"""

from __future__ import annotations

import json
import os
import random
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from desktop_app.client.files import collect
from desktop_app.core.digests import b64_to_hex, md5_file_b64
from desktop_app.core.errors import ValidationError
from desktop_app.core.manifest import Manifest, ManifestEntry

wandb = pytest.importorskip("wandb")
from wandb.sdk.artifacts.artifact_manifests.artifact_manifest_v1 import (  # noqa: E402
    ArtifactManifestV1,
)
from wandb.sdk.lib.hashutil import b64_to_hex_id  # noqa: E402

BIG_SIZE = 3 * 1024 * 1024
HTTPS_URL = "https://example.com/x"

# Relative POSIX path -> contents. Unicode names are NFC, as typed on Linux or Windows.
FILES: dict[str, bytes] = {
    "top.txt": b"hello",
    "empty.bin": b"",
    "big.bin": random.Random(20240601).randbytes(BIG_SIZE),
    "nested/a/b/deep.json": b'{"k": [1, 2, 3]}\n',
    "nested/a/sibling.csv": b"x,y\n1,2\n",
    "données/résumé é.txt": "ünïcödé\n".encode(),
    "中文/ファイル 🙂.txt": "多字节".encode(),
}


@pytest.fixture(autouse=True)
def wandb_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every file W&B writes (staging copies, cache, config) under ``tmp_path``."""
    home = tmp_path / "wandb-home"
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    for name in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR", "WANDB_DATA_DIR"):
        folder = home / name.lower()
        folder.mkdir(parents=True)
        monkeypatch.setenv(name, str(folder))
    monkeypatch.delenv("WANDB_USE_V1_ARTIFACTS", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    return home


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    for rel, data in FILES.items():
        target = root.joinpath(*rel.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


def _ours_for_tree(root: Path, prefix: str = "", *, ref: bool = False) -> Manifest:
    """Our manifest of ``root``, computed only with our own digest code."""
    entries = []
    for rel in FILES:
        local = root.joinpath(*rel.split("/"))
        path = f"{prefix}/{rel}" if prefix else rel
        uri = f"file://{local.as_posix()}" if ref else None
        entries.append(ManifestEntry(path, md5_file_b64(local), local.stat().st_size, ref=uri))
    return Manifest(entries)


def _wandb_entries(artifact: Any) -> dict[str, tuple[str, int | None, str | None]]:
    return {
        str(path): (entry.digest, entry.size, entry.ref)
        for path, entry in artifact.manifest.entries.items()
    }


def _our_entries(manifest: Manifest) -> dict[str, tuple[str, int | None, str | None]]:
    return {entry.path: (entry.digest, entry.size, entry.ref) for entry in manifest}


def _assert_same(artifact: Any, ours: Manifest) -> None:
    ours.validate()
    assert _wandb_entries(artifact) == _our_entries(ours)
    assert artifact.manifest.digest() == ours.digest()
    assert artifact.digest == ours.digest()
    assert artifact.manifest.size() == ours.size
    assert artifact.manifest.to_manifest_json() == ours.to_manifest_json()


# -- files -----------------------------------------------------------------------------
def test_add_file_digests_sizes_and_version_digest(tree: Path) -> None:
    artifact = wandb.Artifact("interop-files", type="dataset")
    for rel in FILES:
        entry = artifact.add_file(str(tree.joinpath(*rel.split("/"))), name=rel)
        local = tree.joinpath(*rel.split("/"))
        assert entry.digest == md5_file_b64(local), rel
        assert entry.size == len(FILES[rel]) == local.stat().st_size, rel
        assert b64_to_hex(entry.digest) == b64_to_hex_id(entry.digest)
    _assert_same(artifact, _ours_for_tree(tree))


def test_known_file_digests(tree: Path) -> None:
    artifact = wandb.Artifact("interop-known", type="dataset")
    artifact.add_file(str(tree / "top.txt"))
    artifact.add_file(str(tree / "empty.bin"))
    entries = _wandb_entries(artifact)
    assert entries["top.txt"] == ("XUFAKrxLKna5cZ2REBfFkg==", 5, None)
    assert entries["empty.bin"] == ("1B2M2Y8AsgTpgAmY7PhCfg==", 0, None)


def test_big_file_digest(tree: Path) -> None:
    artifact = wandb.Artifact("interop-big", type="model")
    entry = artifact.add_file(str(tree / "big.bin"), name="weights/big.bin")
    assert entry.size == BIG_SIZE
    assert entry.digest == md5_file_b64(tree / "big.bin")
    ours = Manifest([ManifestEntry("weights/big.bin", entry.digest, BIG_SIZE)])
    assert artifact.manifest.digest() == ours.digest()


@pytest.mark.parametrize("prefix", ["", "data", "deep/er"])
def test_add_dir(tree: Path, prefix: str) -> None:
    artifact = wandb.Artifact("interop-dir", type="dataset")
    artifact.add_dir(str(tree), name=prefix or None)
    _assert_same(artifact, _ours_for_tree(tree, prefix))


# -- references ------------------------------------------------------------------------
def test_file_references(tree: Path) -> None:
    artifact = wandb.Artifact("interop-refs", type="dataset")
    artifact.add_reference(f"file://{(tree / 'top.txt').as_posix()}")
    artifact.add_reference(f"file://{tree.as_posix()}", name="mirror")
    ours = _ours_for_tree(tree, "mirror", ref=True)
    ours.add(
        ManifestEntry(
            "top.txt", md5_file_b64(tree / "top.txt"), 5, ref=f"file://{tree / 'top.txt'}"
        )
    )
    _assert_same(artifact, ours)
    # Text round trip: W&B's JSON through our parser and back.
    ours_from_wandb = Manifest.loads(json.dumps(artifact.manifest.to_manifest_json()))
    assert ours_from_wandb == ours


def test_https_reference_without_checksum() -> None:
    artifact = wandb.Artifact("interop-https", type="dataset")
    (entry,) = artifact.add_reference(HTTPS_URL, checksum=False)
    assert (str(entry.path), entry.digest, entry.ref, entry.size) == (
        "x",
        HTTPS_URL,
        HTTPS_URL,
        None,
    )
    ours = Manifest([ManifestEntry("x", HTTPS_URL, None, ref=HTTPS_URL)])
    _assert_same(artifact, ours)
    assert artifact.manifest.to_manifest_json()["contents"] == {
        "x": {"digest": HTTPS_URL, "ref": HTTPS_URL}
    }


def test_mixed_artifact_manifest_json_equal(tree: Path) -> None:
    artifact = wandb.Artifact("interop-mixed", type="dataset")
    artifact.add_dir(str(tree / "nested"), name="nested")
    artifact.add_file(str(tree / "big.bin"))
    artifact.add_file(str(tree / "empty.bin"), name="données/vide.bin")
    artifact.add_reference(f"file://{(tree / 'top.txt').as_posix()}", name="refs/top.txt")
    artifact.add_reference(HTTPS_URL, checksum=False, name="remote/x")
    ours = Manifest(
        [
            ManifestEntry(
                "nested/a/b/deep.json",
                md5_file_b64(tree / "nested/a/b/deep.json"),
                len(FILES["nested/a/b/deep.json"]),
            ),
            ManifestEntry(
                "nested/a/sibling.csv",
                md5_file_b64(tree / "nested/a/sibling.csv"),
                len(FILES["nested/a/sibling.csv"]),
            ),
            ManifestEntry("big.bin", md5_file_b64(tree / "big.bin"), BIG_SIZE),
            ManifestEntry("données/vide.bin", md5_file_b64(tree / "empty.bin"), 0),
            ManifestEntry(
                "refs/top.txt", md5_file_b64(tree / "top.txt"), 5, ref=f"file://{tree / 'top.txt'}"
            ),
            ManifestEntry("remote/x", HTTPS_URL, None, ref=HTTPS_URL),
        ]
    )
    _assert_same(artifact, ours)


# -- our JSON into W&B -----------------------------------------------------------------
def _wandb_entry_fields(manifest: ArtifactManifestV1) -> dict[str, tuple[Any, ...]]:
    return {
        str(path): (e.digest, e.size, e.ref, dict(e.extra), e.birth_artifact_id)
        for path, e in manifest.entries.items()
    }


def test_our_dumps_loads_in_wandb(tree: Path) -> None:
    ours = _ours_for_tree(tree)
    ours.add(ManifestEntry("remote/x", HTTPS_URL, None, ref=HTTPS_URL))
    ours.add(
        ManifestEntry(
            "s3/obj.bin",
            '"0123456789abcdef"',
            42,
            ref="s3://bucket/obj.bin",
            extra={"versionID": "v1", "etag": "abc"},
        )
    )
    ours.add(ManifestEntry("born.txt", md5_file_b64(tree / "top.txt"), 5, birth_artifact_id="QXJ0"))
    theirs = ArtifactManifestV1.from_manifest_json(json.loads(ours.dumps()))
    assert _wandb_entry_fields(theirs) == {
        e.path: (e.digest, e.size, e.ref, dict(e.extra), e.birth_artifact_id) for e in ours
    }
    assert theirs.digest() == ours.digest()
    assert theirs.size() == ours.size
    # And W&B writes back exactly what we wrote.
    assert theirs.to_manifest_json() == ours.to_manifest_json()
    assert json.dumps(theirs.to_manifest_json(), indent=4, ensure_ascii=False) + "\n" == (
        ours.dumps()
    )


# -- W&B's JSON into ours --------------------------------------------------------------
def test_wandb_manifest_json_loads_in_ours(tree: Path) -> None:
    artifact = wandb.Artifact("interop-load", type="dataset")
    artifact.add_dir(str(tree))
    artifact.add_reference(HTTPS_URL, checksum=False)
    text = json.dumps(artifact.manifest.to_manifest_json())
    ours = Manifest.loads(text)
    assert ours.digest() == artifact.manifest.digest() == artifact.digest
    assert Manifest.from_json(json.loads(text)) == ours
    assert _our_entries(ours) == _wandb_entries(artifact)


def test_wandb_entries_with_local_only_keys_load_in_ours(tree: Path) -> None:
    artifact = wandb.Artifact("interop-local", type="dataset")
    artifact.add_dir(str(tree))
    artifact.add_reference(HTTPS_URL, checksum=False)
    doc = artifact.manifest.to_manifest_json()
    # W&B's per-entry JSON keeps the writer's local keys (path, local_path, skip_cache).
    doc["contents"] = {str(p): e.to_json() for p, e in artifact.manifest.entries.items()}
    top = doc["contents"]["top.txt"]
    assert {"path", "local_path", "skip_cache"} <= set(top)
    assert Path(top["local_path"]).is_relative_to(Path(os.environ["WANDB_DATA_DIR"]))
    ours = Manifest.loads(json.dumps(doc, ensure_ascii=False))
    assert ours.digest() == artifact.manifest.digest()
    assert ours.to_manifest_json() == artifact.manifest.to_manifest_json()
    assert _our_entries(ours) == _wandb_entries(artifact)


def test_round_trip_through_both(tree: Path) -> None:
    artifact = wandb.Artifact("interop-both", type="dataset")
    artifact.add_dir(str(tree), name="x")
    ours = Manifest.from_json(artifact.manifest.to_manifest_json())
    back = ArtifactManifestV1.from_manifest_json(json.loads(ours.dumps()))
    assert back.to_manifest_json() == artifact.manifest.to_manifest_json()
    assert back.digest() == artifact.manifest.digest() == ours.digest()


# -- known differences -----------------------------------------------------------------
def test_unknown_entry_keys_ignored_by_wandb_but_rejected_by_us() -> None:
    """A deliberate difference: W&B drops keys it does not know; we refuse them."""
    doc = {
        "version": 1,
        "storagePolicy": "wandb-storage-policy-v1",
        "storagePolicyConfig": {"storageLayout": "V2"},
        "contents": {"a.txt": {"digest": "XUFAKrxLKna5cZ2REBfFkg==", "size": 5, "zzz": 1}},
    }
    theirs = ArtifactManifestV1.from_manifest_json(doc)
    assert theirs.to_manifest_json()["contents"]["a.txt"] == {
        "digest": "XUFAKrxLKna5cZ2REBfFkg==",
        "size": 5,
    }
    with pytest.raises(ValidationError, match="zzz"):
        Manifest.from_json(doc)


def test_nfd_paths_keep_wandb_version_digest(tmp_path: Path) -> None:
    # W&B hashes paths as given (no Unicode normalization); so must we, both when loading
    # W&B's manifest and when adding the same folder ourselves.
    nfd = unicodedata.normalize("NFD", "café.txt")
    folder = tmp_path / "nfd"
    folder.mkdir()
    (folder / nfd).write_bytes(b"q")
    artifact = wandb.Artifact("interop-nfd", type="dataset")
    artifact.add_dir(str(folder))
    assert list(map(str, artifact.manifest.entries)) == [nfd]
    ours = Manifest.loads(json.dumps(artifact.manifest.to_manifest_json()))
    assert ours.digest() == artifact.manifest.digest()
    added = Manifest(
        ManifestEntry(f.entry_path, md5_file_b64(f.local_path), f.local_path.stat().st_size)
        for f in collect(folder)
    )
    assert added.digest() == artifact.manifest.digest()


def test_empty_storage_policy_config_round_trips() -> None:
    doc = {
        "version": 1,
        "storagePolicy": "wandb-storage-policy-v1",
        "storagePolicyConfig": {},
        "contents": {"a.txt": {"digest": "XUFAKrxLKna5cZ2REBfFkg==", "size": 5}},
    }
    theirs = ArtifactManifestV1.from_manifest_json(doc).to_manifest_json()
    assert Manifest.from_json(doc).to_manifest_json() == theirs
