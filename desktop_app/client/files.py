"""Turning local files and folders into manifest entries."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from desktop_app.core.errors import ValidationError
from desktop_app.core.paths import check_path_set, validate_entry_path


@dataclass(frozen=True)
class LocalFile:
    """A file on disk and the entry path it will have in the version."""

    entry_path: str
    local_path: Path


def collect(local: Path, name: str | None = None) -> list[LocalFile]:
    """The files under ``local`` (a file or a folder), with validated entry paths.

    A file becomes ``name`` (default: its own name); a folder's files keep their relative
    paths, under ``name/`` when a name is given. Symlinked folders are not followed.
    """
    if not local.exists():
        raise ValidationError(f"{local} does not exist; check the path")
    if local.is_file():
        entry = name if name is not None else local.name
        return [LocalFile(_checked(entry, local), local)]
    if not local.is_dir():
        raise ValidationError(f"{local} is neither a file nor a folder")
    prefix = PurePosixPath(name) if name else None
    found: list[LocalFile] = []
    for folder, dirs, names in os.walk(local):
        dirs.sort()
        for file_name in sorted(names):
            path = Path(folder) / file_name
            if not path.is_file():
                continue  # sockets, broken links...
            rel = PurePosixPath(path.relative_to(local).as_posix())
            entry = str(prefix / rel) if prefix else str(rel)
            found.append(LocalFile(_checked(entry, path), path))
    check_path_set(f.entry_path for f in found)
    return found


def _checked(entry: str, path: Path) -> str:
    """Validate, but keep the name as the file system spells it, as W&B does (so an NFD
    name from macOS hashes the same in both); NFC twins are refused by check_path_set."""
    try:
        validate_entry_path(entry)
    except ValidationError as exc:
        raise ValidationError(f"cannot add {path}: {exc}") from exc
    return entry
