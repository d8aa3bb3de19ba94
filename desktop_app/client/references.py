"""Reference entries: digests for ``file://`` and ``http(s)://`` URIs, and fetching them."""

from __future__ import annotations

import os
import tempfile
import urllib.parse
from pathlib import Path

import requests

from desktop_app.client.content_cache import ContentCache
from desktop_app.client.progress import CancelCheck, check_cancelled
from desktop_app.core.digests import CHUNK_SIZE, BackgroundMd5, b64_of, md5_file_b64
from desktop_app.core.errors import IntegrityError, NotFoundError, ValidationError
from desktop_app.core.manifest import ManifestEntry

HTTP_TIMEOUT = (10, 60)


def file_uri_path(uri: str) -> Path:
    """The local path of a ``file://`` URI."""
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
        raise ValidationError(f"{uri!r} is not a local file:// URI")
    return Path(urllib.parse.unquote(parsed.path))


def reference_entries(uri: str, name: str | None, *, checksum: bool = True) -> list[ManifestEntry]:
    """Entries for a reference, as W&B makes them.

    ``file://`` to a file gives one entry (digest: the content MD5, or the URI when
    ``checksum`` is off); to a folder, one entry per file. ``http(s)://`` gives one entry
    whose digest is the ETag (or the URI when ``checksum`` is off or there is no ETag).
    """
    scheme = urllib.parse.urlparse(uri).scheme
    if scheme == "file":
        return _file_reference(uri, name, checksum)
    if scheme in ("http", "https"):
        entry_name = name or Path(urllib.parse.urlparse(uri).path).name or "index"
        if not checksum:
            return [ManifestEntry(entry_name, uri, None, ref=uri)]
        response = requests.head(uri, allow_redirects=True, timeout=HTTP_TIMEOUT)
        if response.status_code >= 400:
            raise NotFoundError(f"{uri} answered HTTP {response.status_code}; check the URL")
        etag = response.headers.get("ETag", "").strip('"') or uri
        size_header = response.headers.get("Content-Length")
        size = int(size_header) if size_header and size_header.isdigit() else None
        extra = {"etag": etag} if etag != uri else {}
        return [ManifestEntry(entry_name, etag, size, ref=uri, extra=extra)]
    raise ValidationError(
        f"reference {uri!r} has an unsupported scheme; use file://, http:// or https://"
    )


def _file_reference(uri: str, name: str | None, checksum: bool) -> list[ManifestEntry]:
    path = file_uri_path(uri)
    if path.is_file():
        digest = md5_file_b64(path) if checksum else uri
        return [ManifestEntry(name or path.name, digest, path.stat().st_size, ref=uri)]
    if path.is_dir():
        found = []
        for folder, dirs, names in os.walk(path):
            dirs.sort()
            for file_name in sorted(names):
                child = Path(folder) / file_name
                rel = child.relative_to(path).as_posix()
                entry_path = f"{name}/{rel}" if name else rel
                child_uri = child.as_uri()
                digest = md5_file_b64(child) if checksum else child_uri
                found.append(ManifestEntry(entry_path, digest, child.stat().st_size, ref=child_uri))
        return found
    raise NotFoundError(f"reference {uri} points at nothing; check that the file exists")


def fetch_reference(
    entry: ManifestEntry, cache: ContentCache, *, is_cancelled: CancelCheck | None = None
) -> tuple[str, int, Path]:
    """Bring a reference's bytes into the cache; return ``(md5 digest, size, cached path)``.

    A ``file://`` reference logged with a checksum must still have that content.
    """
    assert entry.ref is not None
    scheme = urllib.parse.urlparse(entry.ref).scheme
    if scheme == "file":
        path = file_uri_path(entry.ref)
        if not path.is_file():
            raise NotFoundError(
                f"{entry.path} refers to {entry.ref}, which no longer exists on this machine"
            )
        digest = md5_file_b64(path)
        if entry.digest != entry.ref and digest != entry.digest:
            raise IntegrityError(
                f"{entry.path} refers to {entry.ref}, whose content changed since the "
                "version was logged; log a new version to track the new content"
            )
        cached = cache.put_file(digest, path, is_cancelled=is_cancelled)
        return digest, cached.stat().st_size, cached
    if scheme in ("http", "https"):
        return _fetch_http(entry, cache, is_cancelled)
    raise ValidationError(f"{entry.path}: reference scheme of {entry.ref!r} is not supported")


def _fetch_http(
    entry: ManifestEntry, cache: ContentCache, is_cancelled: CancelCheck | None
) -> tuple[str, int, Path]:
    """Stream the URL into a temporary file (hashing as it comes), then into the cache; the
    body is never held in memory whole."""
    assert entry.ref is not None
    with tempfile.TemporaryDirectory(prefix="artifact-desk-ref-") as folder:
        staged = Path(folder) / "body"
        size = 0
        with requests.get(entry.ref, stream=True, timeout=HTTP_TIMEOUT) as response:
            if response.status_code >= 400:
                raise NotFoundError(f"{entry.ref} answered HTTP {response.status_code}")
            with open(staged, "wb") as out, BackgroundMd5() as hasher:
                for chunk in response.iter_content(CHUNK_SIZE):
                    check_cancelled(is_cancelled, f"downloading {entry.ref}")
                    out.write(chunk)
                    hasher.update(chunk)
                    size += len(chunk)
                digest = b64_of(hasher)
        cached = cache.put_file(digest, staged, is_cancelled=is_cancelled)
    return digest, size, cached
