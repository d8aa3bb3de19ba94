"""File and version digests, computed exactly as the ``wandb`` SDK computes them."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol

from desktop_app.core.errors import ValidationError

CHUNK_SIZE = 1 << 20
MANIFEST_DIGEST_HEADER = b"wandb-artifact-manifest-v1\n"


class _HasDigest(Protocol):
    @property
    def digest(self) -> str: ...


def md5_b64(data: bytes) -> str:
    """Base64 of the MD5 bytes of ``data``: W&B's file digest."""
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


def md5_file_b64(path: str | Path, chunk_size: int = CHUNK_SIZE) -> str:
    """W&B's digest of the file at ``path``, read in chunks."""
    hasher = hashlib.md5()
    with open(path, "rb") as stream:
        while chunk := stream.read(chunk_size):
            hasher.update(chunk)
    return b64_of(hasher)


def b64_of(hasher: hashlib._Hash) -> str:
    """The W&B form (base64) of a finished MD5 hasher."""
    return base64.b64encode(hasher.digest()).decode("ascii")


def b64_to_hex(digest: str) -> str:
    """Hex form of a base64 MD5 digest, used to name blobs on disk and in URLs."""
    try:
        raw = base64.b64decode(digest, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationError(
            f"digest {digest!r} is not base64; file digests are the base64 of 16 MD5 bytes"
        ) from exc
    if len(raw) != 16:
        raise ValidationError(
            f"digest {digest!r} decodes to {len(raw)} bytes; an MD5 digest has 16"
        )
    return raw.hex()


def hex_to_b64(hex_digest: str) -> str:
    """Base64 form of a hex MD5 digest."""
    try:
        raw = bytes.fromhex(hex_digest)
    except ValueError as exc:
        raise ValidationError(f"{hex_digest!r} is not a hex MD5 digest") from exc
    if len(raw) != 16:
        raise ValidationError(f"{hex_digest!r} is not a 32-character hex MD5 digest")
    return base64.b64encode(raw).decode("ascii")


def is_md5_b64(digest: str) -> bool:
    """Whether ``digest`` has the shape of a W&B file digest (base64 of 16 bytes)."""
    try:
        b64_to_hex(digest)
    except ValidationError:
        return False
    return True


def version_digest(entries: Mapping[str, _HasDigest] | Iterable[tuple[str, str]]) -> str:
    """The version (manifest) digest: MD5 hex over the header and sorted ``path:digest`` lines."""
    if isinstance(entries, Mapping):
        pairs = [(path, entry.digest) for path, entry in entries.items()]
    else:
        pairs = list(entries)
    hasher = hashlib.md5(MANIFEST_DIGEST_HEADER)
    for path, digest in sorted(pairs):
        hasher.update(f"{path}:{digest}\n".encode())
    return hasher.hexdigest()
