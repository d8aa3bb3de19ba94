"""Tests for file and version digests: W&B's base64 MD5 and the manifest digest."""

from __future__ import annotations

import base64
import hashlib
import os
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop_app.core.digests import (
    CHUNK_SIZE,
    MANIFEST_DIGEST_HEADER,
    b64_to_hex,
    hex_to_b64,
    is_md5_b64,
    md5_b64,
    md5_file_b64,
    version_digest,
)
from desktop_app.core.errors import ValidationError
from desktop_app.core.manifest import Manifest, ManifestEntry

EMPTY_MD5_B64 = "1B2M2Y8AsgTpgAmY7PhCfg=="
EMPTY_MD5_HEX = "d41d8cd98f00b204e9800998ecf8427e"
HELLO_MD5_B64 = "XUFAKrxLKna5cZ2REBfFkg=="
HELLO_MD5_HEX = "5d41402abc4b2a76b9719d911017c592"
# md5(b"wandb-artifact-manifest-v1\n"): the digest of a version without files.
EMPTY_MANIFEST_DIGEST = hashlib.md5(b"wandb-artifact-manifest-v1\n").hexdigest()

MD5_BYTES = st.binary(min_size=16, max_size=16)
ENTRY_PATHS = st.text(alphabet="abcxyz/._-é中", min_size=1, max_size=12)


# -- file digests -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", EMPTY_MD5_B64),
        (b"hello", HELLO_MD5_B64),
        (b"The quick brown fox jumps over the lazy dog", "nhB9nTcrtoJr2B01QqQZ1g=="),
    ],
)
def test_md5_b64_known_vectors(data: bytes, expected: str) -> None:
    assert md5_b64(data) == expected


def test_known_vectors_in_hex() -> None:
    assert b64_to_hex(EMPTY_MD5_B64) == EMPTY_MD5_HEX
    assert b64_to_hex(HELLO_MD5_B64) == HELLO_MD5_HEX
    assert hex_to_b64(HELLO_MD5_HEX) == HELLO_MD5_B64


def test_md5_file_b64_empty_and_small(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    hello = tmp_path / "hello.txt"
    hello.write_bytes(b"hello")
    assert md5_file_b64(empty) == EMPTY_MD5_B64
    assert md5_file_b64(str(hello)) == HELLO_MD5_B64


@pytest.mark.parametrize("chunk_size", [1, 7, 4096, CHUNK_SIZE])
def test_md5_file_b64_matches_whole_buffer_across_chunk_boundaries(
    tmp_path: Path, chunk_size: int
) -> None:
    data = random.Random(1).randbytes(CHUNK_SIZE * 2 + 123)
    if chunk_size < 4096:
        data = data[:5000]  # keep the tiny-chunk cases fast
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert md5_file_b64(path, chunk_size=chunk_size) == md5_b64(data)


def test_md5_file_b64_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        md5_file_b64(tmp_path / "nope")


# -- base64 <-> hex ---------------------------------------------------------------------
@given(raw=MD5_BYTES)
def test_b64_hex_round_trip(raw: bytes) -> None:
    b64 = base64.b64encode(raw).decode("ascii")
    hex_digest = b64_to_hex(b64)
    assert hex_digest == raw.hex()
    assert len(hex_digest) == 32
    assert hex_to_b64(hex_digest) == b64
    assert hex_to_b64(hex_digest.upper()) == b64
    assert is_md5_b64(b64)


@given(data=st.binary(max_size=256))
def test_md5_b64_is_base64_of_hashlib_md5(data: bytes) -> None:
    digest = md5_b64(data)
    assert len(digest) == 24
    assert b64_to_hex(digest) == hashlib.md5(data).hexdigest()


@pytest.mark.parametrize(
    ("digest", "needle"),
    [
        ("not base64!", "not base64"),
        ("XUFAKrxLKna5cZ2REBfFkg", "not base64"),  # padding missing
        ("XUFAKrxLKna5cZ2REBfF", "decodes to 15 bytes"),
        ("AAAA", "decodes to 3 bytes"),
        ("", "decodes to 0 bytes"),
        (base64.b64encode(b"x" * 20).decode(), "decodes to 20 bytes"),
        ("https://example.com/x", "not base64"),
    ],
)
def test_bad_b64_digest_rejected_with_value(digest: str, needle: str) -> None:
    with pytest.raises(ValidationError) as info:
        b64_to_hex(digest)
    message = str(info.value)
    assert repr(digest) in message
    assert needle in message
    assert not is_md5_b64(digest)


@pytest.mark.parametrize(
    "hex_digest",
    [
        "",
        "zz",
        "5d41402abc4b2a76b9719d911017c59",  # odd length
        "5d41402abc4b2a76b9719d911017c5",  # 15 bytes
        "5d41402abc4b2a76b9719d911017c59200",  # 17 bytes
        HELLO_MD5_B64,
    ],
)
def test_bad_hex_digest_rejected_with_value(hex_digest: str) -> None:
    with pytest.raises(ValidationError) as info:
        hex_to_b64(hex_digest)
    assert repr(hex_digest) in str(info.value)


# -- version digest ---------------------------------------------------------------------
def test_empty_version_digest() -> None:
    assert MANIFEST_DIGEST_HEADER == b"wandb-artifact-manifest-v1\n"
    assert version_digest([]) == EMPTY_MANIFEST_DIGEST
    assert version_digest({}) == EMPTY_MANIFEST_DIGEST
    assert Manifest().digest() == EMPTY_MANIFEST_DIGEST


def test_version_digest_formula() -> None:
    pairs = [("b.txt", HELLO_MD5_B64), ("a.txt", EMPTY_MD5_B64)]
    expected = hashlib.md5(
        b"wandb-artifact-manifest-v1\n"
        + f"a.txt:{EMPTY_MD5_B64}\n".encode()
        + f"b.txt:{HELLO_MD5_B64}\n".encode()
    ).hexdigest()
    assert version_digest(pairs) == expected


def test_version_digest_encodes_unicode_paths_as_utf8() -> None:
    expected = hashlib.md5(
        MANIFEST_DIGEST_HEADER + f"données/é.txt:{HELLO_MD5_B64}\n".encode()
    ).hexdigest()
    assert version_digest([("données/é.txt", HELLO_MD5_B64)]) == expected


def test_version_digest_accepts_mapping_of_entries() -> None:
    entries = {
        "a.txt": ManifestEntry("a.txt", HELLO_MD5_B64, 5),
        "b/c": ManifestEntry("b/c", EMPTY_MD5_B64, 0),
    }
    assert version_digest(entries) == version_digest(
        [("b/c", EMPTY_MD5_B64), ("a.txt", HELLO_MD5_B64)]
    )


@given(
    entries=st.dictionaries(ENTRY_PATHS, MD5_BYTES.map(lambda b: base64.b64encode(b).decode())),
    seed=st.randoms(use_true_random=False),
)
def test_version_digest_independent_of_insertion_order(
    entries: dict[str, str], seed: random.Random
) -> None:
    pairs = list(entries.items())
    shuffled = pairs[:]
    seed.shuffle(shuffled)
    assert version_digest(pairs) == version_digest(shuffled)
    assert version_digest(reversed(pairs)) == version_digest(pairs)
    as_mapping = {path: ManifestEntry(path, digest, 1) for path, digest in shuffled}
    assert version_digest(as_mapping) == version_digest(pairs)


@given(
    entries=st.dictionaries(
        ENTRY_PATHS, MD5_BYTES.map(lambda b: base64.b64encode(b).decode()), min_size=1
    ),
)
def test_version_digest_changes_with_any_digest(entries: dict[str, str]) -> None:
    path = sorted(entries)[0]
    changed = dict(entries)
    changed[path] = md5_b64(entries[path].encode())
    assert version_digest(changed.items()) != version_digest(entries.items())


def test_background_md5_equals_hashlib_and_ends_its_thread() -> None:
    import hashlib
    import threading

    from desktop_app.core.digests import BackgroundMd5, md5_for

    data = os.urandom(3 << 20)
    before = set(threading.enumerate())  # threads of earlier tests may end meanwhile
    with BackgroundMd5() as hasher:
        for start in range(0, len(data), 1 << 16):
            hasher.update(data[start : start + (1 << 16)])
        assert hasher.hexdigest() == hashlib.md5(data).hexdigest()
    assert set(threading.enumerate()) - before == set()

    def fail_half_way() -> None:
        with md5_for(64 << 20) as failing:
            failing.update(b"partial")
            raise RuntimeError("the copy failed half way")

    with pytest.raises(RuntimeError):
        fail_half_way()
    assert set(threading.enumerate()) - before == set()
