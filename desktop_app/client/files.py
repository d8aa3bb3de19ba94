"""Turning local files and folders into manifest entries."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.errors import ValidationError
from desktop_app.core.paths import validate_entry_path


@dataclass(frozen=True)
class LocalFile:
    """A file on disk (``path``, a string: folder walks make many) and its entry path."""

    entry_path: str
    path: str
    size: int
    # (size, mtime_ns, inode, device) when the walk saw it, so the hash cache needs no stat.
    identity: tuple[int, int, int, int] | None = None

    @property
    def local_path(self) -> Path:
        return Path(self.path)


def collect(local: Path, name: str | None = None) -> list[LocalFile]:
    """The files under ``local`` (a file or a folder), with validated entry paths.

    A file becomes ``name`` (default: its own name); a folder's files keep their relative
    paths, under ``name/`` when a name is given. Symlinks to files are followed, symlinked
    folders are not. Names keep the file system's spelling, as W&B does (so an NFD name
    from macOS hashes the same in both); NFC twins are refused when the manifest is checked.
    """
    try:
        info = os.stat(local)
    except FileNotFoundError:
        raise ValidationError(f"{local} does not exist; check the path") from None
    if stat.S_ISREG(info.st_mode):
        entry = name if name is not None else local.name
        return [LocalFile(_checked(entry, local), os.fspath(local), info.st_size, _identity(info))]
    if not stat.S_ISDIR(info.st_mode):
        raise ValidationError(f"{local} is neither a file nor a folder")
    if name is not None:
        validate_entry_path(name)
    found: list[LocalFile] = []
    _walk(os.path.abspath(local), f"{name}/" if name else "", found)
    # The set of paths (case or NFC twins, a file beside a folder of its name) is checked
    # where a manifest is accepted: Manifest.validate() in the SDK and in the store, before
    # a draft is written or a byte is sent.
    return found


def _walk(folder: str, prefix: str, found: list[LocalFile]) -> None:
    with os.scandir(folder) as scan:
        children = sorted(scan, key=lambda child: child.name)
    for child in children:
        if child.is_dir(follow_symlinks=False):
            _walk(child.path, f"{prefix}{child.name}/", found)
        elif child.is_file():  # follows a symlink to a file; skips sockets, broken links
            entry = _checked(prefix + child.name, child.path)
            info = child.stat()
            found.append(LocalFile(entry, child.path, info.st_size, _identity(info)))


def _identity(info: os.stat_result) -> tuple[int, int, int, int]:
    return (info.st_size, info.st_mtime_ns, info.st_ino, info.st_dev)


def _checked(entry: str, path: str | Path) -> str:
    try:
        validate_entry_path(entry)
    except ValidationError as exc:
        raise ValidationError(f"cannot add {path}: {exc}") from exc
    return entry
