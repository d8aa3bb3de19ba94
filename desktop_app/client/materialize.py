"""Place verified file contents into a target folder: atomic, no symlink escapes, never
writing through an existing link."""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import secrets
import stat
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NoReturn

from desktop_app.client.blob_files import BlobFile, CopyTarget, SharedFile
from desktop_app.client.hash_cache import HashCache, hash_stable_file
from desktop_app.client.hashing import SERIAL_BELOW, run_grouped
from desktop_app.client.progress import CancelCheck, ProgressCallback, Throttle, check_cancelled
from desktop_app.core.digests import (
    CHUNK_SIZE,
    Md5Like,
    b64_of,
    b64_to_hex,
    checksum_hasher,
    md5_b64,
    md5_for,
)
from desktop_app.core.errors import IntegrityError, ValidationError
from desktop_app.core.paths import check_path_set, validate_entry_path

FICLONE = 0x40049409  # _IOW(0x94, 9, int) from linux/fs.h
_REFLINK_UNSUPPORTED = {
    errno.EOPNOTSUPP,
    errno.ENOTSUP,
    errno.EXDEV,
    errno.EINVAL,
    errno.ENOTTY,
    errno.ENOSYS,
    errno.EBADF,
    errno.EPERM,
}
_OPEN_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_OPEN_BINARY = getattr(os, "O_BINARY", 0)
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _OPEN_NOFOLLOW | _OPEN_BINARY
# Files up to this size are copied with one read and one write: for them a reflink or a
# kernel copy saves nothing and costs system calls of its own.
ONE_READ_BYTES = 16 << 10


@dataclass(frozen=True)
class FileToPlace:
    """One manifest entry to write: its entry path, W&B digest and size."""

    path: str
    digest: str
    size: int


Fetch = Callable[[CopyTarget, CancelCheck], None]
"""Streams a file's bytes into an open file, verifying them; raises if they do not match."""

Link = Callable[[CancelCheck], SharedFile]
"""Fetches a file's bytes into a verified file of its own and returns it, to be placed as
a hard link to it; raises if the bytes do not match."""

# Errors of os.link that mean "copy instead": another file system, one without hard
# links, or a file with the most links it can have.
_LINK_UNSUPPORTED = {
    errno.EXDEV,
    errno.EPERM,
    errno.EOPNOTSUPP,
    errno.ENOTSUP,
    errno.EMLINK,
    errno.ENOSYS,
    errno.EINVAL,
}


@dataclass(frozen=True)
class MaterializeReport:
    """What :func:`materialize` did."""

    written: int
    skipped: int
    bytes_written: int


def materialize(
    files: Sequence[FileToPlace],
    target: Path,
    source_for: Callable[[str], Path],
    *,
    on_progress: ProgressCallback | None = None,
    is_cancelled: CancelCheck | None = None,
    hash_cache: HashCache | None = None,
    workers: int = 4,
    verified: Collection[str] = (),
    fetches: Mapping[str, Fetch] | None = None,
    links: Mapping[str, Link] | None = None,
    checksums: Mapping[str, str] | None = None,
) -> MaterializeReport:
    """Write ``files`` under ``target`` from the local copies ``source_for(digest)`` gives.

    Every path is validated before anything is written. Files already holding the right
    bytes are skipped, files not in the list are left alone, and every write goes to a temp
    file beside its destination that is then renamed into place, so a cancelled or failed
    run never leaves a half-written file. Symlinks inside ``target`` are never followed.

    ``fetches`` maps digests that are not local yet to a :data:`Fetch` writing them into
    the temp file directly; each is called for at most one file (so a digest should be
    placed once), and not at all when that file already holds the right bytes.
    ``links`` works the same way for a :data:`Link`: the file becomes a hard link to the
    file it returns (copied from it where the file system cannot link). Where nothing is
    at the destination, the link is made there at once: a link appears whole or not at all.
    ``checksums`` maps digests to the store's XXH3-128 of their bytes: a large copy is
    checked against it instead of against the MD5, which costs far more.
    """
    planned = _plan(files)
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    folders = sorted({rel_parts[:-1] for rel_parts, _file in planned})
    for folder in folders:  # each folder once, not once per file
        _check_existing(root, folder)
    # What is at each destination now: only these can already hold the right bytes.
    present = {
        rel_parts: info
        for rel_parts, file in planned
        if (info := _check_final(os.path.join(root, file.path))) is not None
    }
    made = {folder: str(_make_parents(root, folder)) for folder in folders}
    temp_names = _TempNames()

    throttle = Throttle(on_progress, sum(file.size for _parts, file in planned))

    def place(item: tuple[tuple[str, ...], FileToPlace], should_stop: CancelCheck) -> bool:
        rel_parts, file = item
        folder, name = made[rel_parts[:-1]], rel_parts[-1]
        # A file that appears after the check is replaced, as one that changes would be.
        info = present.get(rel_parts)
        if info is not None and _already_there(
            Path(folder, name), info, file, hash_cache, should_stop
        ):
            throttle.add(file.size)
            return False
        tmp = f"{folder}/.{name}.{temp_names.next()}.artifact-desk-tmp"
        link = links.get(file.digest) if links else None
        if link is not None:
            # Nothing there: the link itself is the atomic step (it fails if something
            # appeared meanwhile, and then goes through a temp file as well).
            dest = f"{folder}/{name}"
            _link_atomically(dest, tmp, file, link, throttle.add, should_stop, info is None)
            return True
        fetch = fetches.get(file.digest) if fetches else None
        source = source_for(file.digest) if fetch is None else fetch
        trusted = file.digest in verified
        checksum = checksums.get(file.digest) if checksums else None
        _write_atomically(
            f"{folder}/{name}", tmp, file, source, throttle.add, should_stop, trusted, checksum
        )
        return True

    sizes = [file.size for _parts, file in planned]
    # Small files go to one worker: their work is mostly Python holding the GIL.
    results = run_grouped(
        planned,
        sizes,
        place,
        workers=workers,
        is_cancelled=is_cancelled,
        serial_below=SERIAL_BELOW,
    )
    throttle.finish()
    written = [file for (_parts, file), wrote in zip(planned, results, strict=True) if wrote]
    return MaterializeReport(
        written=len(written),
        skipped=len(results) - len(written),
        bytes_written=sum(file.size for file in written),
    )


def _plan(files: Sequence[FileToPlace]) -> list[tuple[tuple[str, ...], FileToPlace]]:
    """Validate every entry first, so a bad one stops the run before a byte is written."""
    planned = []
    for file in files:
        validate_entry_path(file.path)  # the name is kept as the manifest spells it
        b64_to_hex(file.digest)
        if file.size < 0:
            raise ValidationError(f"entry {file.path!r} has a negative size {file.size}")
        planned.append((tuple(file.path.split("/")), file))
    check_path_set("/".join(parts) for parts, _file in planned)
    return planned


def _check_existing(root: Path, folder: tuple[str, ...]) -> None:
    """Refuse, before writing, what is already in the way: symlinked or non-folder parents."""
    current = root
    for part in folder:
        current = current / part
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            return
        _check_parent(current, info)


def _check_final(path: str) -> os.stat_result | None:
    """A folder where the artifact has a file is in the way (a symlink is replaced).
    Returns what is there now, None when nothing is."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(info.st_mode):
        raise ValidationError(
            f"{path} is a folder, but the artifact has a file there; move the "
            "folder away or choose another target folder"
        )
    return info


def _check_parent(path: Path, info: os.stat_result) -> None:
    if stat.S_ISLNK(info.st_mode):
        raise ValidationError(
            f"{path} is a symbolic link; files are never written through links, so remove "
            "the link or choose another target folder"
        )
    if not stat.S_ISDIR(info.st_mode):
        raise ValidationError(
            f"{path} is a file, but the artifact needs a folder there; move the file away "
            "or choose another target folder"
        )


def _make_parents(root: Path, parents: tuple[str, ...]) -> Path:
    """Create the folders one by one, refusing any that is (or became) a symlink."""
    current = root
    for part in parents:
        current = current / part
        with contextlib.suppress(FileExistsError):
            os.mkdir(current)
        _check_parent(current, os.lstat(current))
    return current


class _TempNames:
    """Unique temp file names for one run without asking the system for random bytes
    per file: a random part drawn once, then a counter."""

    def __init__(self) -> None:
        self._prefix = secrets.token_hex(6)
        self._count = itertools.count()

    def next(self) -> str:
        return f"{self._prefix}-{next(self._count)}"  # next() on a count is atomic


def _already_there(
    dest: Path,
    info: os.stat_result,
    file: FileToPlace,
    hash_cache: HashCache | None,
    should_stop: CancelCheck,
) -> bool:
    if not stat.S_ISREG(info.st_mode) or info.st_size != file.size:
        return False  # a symlink, or changed: replaced by a regular file below
    if hash_cache is not None:
        return hash_cache.digest(dest, is_cancelled=should_stop) == file.digest
    digest, _identity = hash_stable_file(dest, is_cancelled=should_stop)
    return digest == file.digest


def _write_atomically(
    dest: str,
    tmp: str,
    file: FileToPlace,
    source: Path | Fetch,
    on_bytes: Callable[[int], None],
    should_stop: CancelCheck,
    trusted: bool = False,
    checksum: str | None = None,
) -> None:
    """Write ``tmp`` (a new file beside ``dest``), then rename it to ``dest``. A copy not
    ``trusted`` is checked against ``checksum`` (XXH3-128) when given, else the digest."""
    # 0o666 minus the umask: the permissions the user would get from any other copy.
    fd = os.open(tmp, _NEW_FILE, 0o666)
    try:
        try:
            if not isinstance(source, Path):
                # Through the page cache: the cache's copy goes past it, at the disk's
                # speed, and writing this one past it as well made a get wait for two
                # copies on the disk (76% of curl's 1 GiB download against 94-125% this
                # way, measured in turns on the same machine).
                with BlobFile.over(fd) as out:
                    source(out, should_stop)  # verified, or it raises
                _check_size(fd, file, "fetched")
                on_bytes(file.size)
            elif file.size <= ONE_READ_BYTES:
                _copy_small(source, fd, file, should_stop, trusted)
                on_bytes(file.size)
            else:
                with open(source, "rb") as src, os.fdopen(fd, "wb", closefd=False) as out:
                    _copy(src, out, file, on_bytes, should_stop, trusted, checksum)
            check_cancelled(should_stop, f"writing {file.path!r}")
        finally:
            os.close(fd)
        os.replace(tmp, dest)  # rename replaces a symlink itself, never its target
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _link_atomically(
    dest: str,
    tmp: str,
    file: FileToPlace,
    link: Link,
    on_bytes: Callable[[int], None],
    should_stop: CancelCheck,
    straight: bool = False,
) -> None:
    """Place ``dest`` as a hard link to the verified file ``link`` returns: made at
    ``dest`` itself when ``straight`` (nothing is there; a link appears whole or not at
    all), else as ``tmp`` renamed over what is there.

    The file is copied instead where the file system cannot link, and where the link is
    not the shared file alone with this one: the cache put another file in its place
    meanwhile, or another download linked it too (files in two folders must not be one
    file, or changing one would change the other).
    """
    shared = link(should_stop)
    check_cancelled(should_stop, f"writing {file.path!r}")
    made = None
    for target in (dest, tmp) if straight else (tmp,):
        try:
            # The source is the cache's own file, never a link; follow_symlinks=False
            # would raise NotImplementedError where link() cannot take it (Windows).
            os.link(shared.path, target)
        except FileExistsError:
            if target == dest:
                continue  # something appeared there meanwhile: through a temp file
            raise
        except OSError as exc:
            if exc.errno not in _LINK_UNSUPPORTED:
                raise
            break
        made = target
        break
    if made is None:  # another file system, or one without hard links
        _write_atomically(dest, tmp, file, shared.path, on_bytes, should_stop, trusted=True)
        return
    try:
        info = os.lstat(made)
        if info.st_ino == shared.inode and info.st_nlink == 2:
            if info.st_size != file.size:
                raise IntegrityError(
                    f"the fetched content of {file.path!r} (digest {file.digest}) has "
                    f"{info.st_size} bytes, expected {file.size}; clear the cache and "
                    "download again"
                )
            if made == tmp:
                check_cancelled(should_stop, f"writing {file.path!r}")
                os.replace(tmp, dest)  # rename replaces a symlink itself, never its target
            on_bytes(file.size)
            return
        os.unlink(made)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(made)
        raise
    # Not the shared file alone: a copy of its own, checked against the digest.
    _write_atomically(dest, tmp, file, shared.path, on_bytes, should_stop, trusted=False)


def _copy_small(
    source: Path, fd: int, file: FileToPlace, should_stop: CancelCheck, trusted: bool
) -> None:
    """Copy a small file with one read: its size checked, its digest too unless the
    source was verified moments ago."""
    check_cancelled(should_stop, f"writing {file.path!r}")
    src = os.open(source, os.O_RDONLY | _OPEN_BINARY)
    try:
        data = b""
        while len(data) <= file.size:  # one byte more than expected shows a longer file
            more = os.read(src, file.size + 1 - len(data))
            if not more:
                break
            data += more
    finally:
        os.close(src)
    if not trusted and md5_b64(data) != file.digest:
        _raise_mismatch(file, md5_b64(data), len(data))
    if len(data) != file.size:
        raise IntegrityError(
            f"the cached content of {file.path!r} has {len(data)} bytes, expected "
            f"{file.size}; clear the cache (`artifact-desk cache cleanup 0`) and download again"
        )
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _copy(
    src: BinaryIO,
    out: BinaryIO,
    file: FileToPlace,
    on_bytes: Callable[[int], None],
    should_stop: CancelCheck,
    trusted: bool,
    checksum: str | None,
) -> None:
    if _reflink(src, out):
        on_bytes(file.size)
        _check_size(out.fileno(), file, "cached")
    elif trusted:
        _copy_checking_size(src, out, file, on_bytes, should_stop)
    else:
        _copy_verified(src, out, file, on_bytes, should_stop, checksum)


def _check_size(fd: int, file: FileToPlace, what: str) -> None:
    size = os.fstat(fd).st_size
    if size != file.size:
        raise IntegrityError(
            f"the {what} content of {file.path!r} (digest {file.digest}) has "
            f"{size} bytes, expected {file.size}; clear the cache and download again"
        )


# (source device, target device) pairs where reflink failed: do not ask again per file.
_NO_REFLINK: set[tuple[int, int]] = set()


def _reflink(src: BinaryIO, out: BinaryIO) -> bool:
    """Share the source's blocks (copy-on-write) where the file system allows it."""
    if not sys.platform.startswith("linux"):
        return False
    import fcntl

    devices = (os.fstat(src.fileno()).st_dev, os.fstat(out.fileno()).st_dev)
    if devices in _NO_REFLINK:
        return False
    try:
        fcntl.ioctl(out.fileno(), FICLONE, src.fileno())
    except OSError as exc:
        if exc.errno in _REFLINK_UNSUPPORTED:
            _NO_REFLINK.add(devices)
            return False
        raise
    return True


_KERNEL_COPY_BYTES = 8 << 20


def _copy_checking_size(
    src: BinaryIO,
    out: BinaryIO,
    file: FileToPlace,
    on_bytes: Callable[[int], None],
    should_stop: CancelCheck,
) -> None:
    """Copy a source whose digest was verified moments ago (in the kernel where possible)."""
    written = 0
    while True:
        check_cancelled(should_stop, f"writing {file.path!r}")
        try:
            count = os.copy_file_range(src.fileno(), out.fileno(), _KERNEL_COPY_BYTES)
        except (AttributeError, OSError):  # no copy_file_range here: plain reads and writes
            count = len(chunk := src.read(CHUNK_SIZE))
            out.write(chunk)
        if not count:
            break
        written += count
        on_bytes(count)
    if written != file.size:
        raise IntegrityError(
            f"the cached content of {file.path!r} has {written} bytes, expected {file.size}; "
            "clear the cache (`artifact-desk cache cleanup 0`) and download again"
        )


def _copy_verified(
    src: BinaryIO,
    out: BinaryIO,
    file: FileToPlace,
    on_bytes: Callable[[int], None],
    should_stop: CancelCheck,
    checksum: str | None,
) -> None:
    hashing: contextlib.AbstractContextManager[Md5Like] = (
        md5_for(file.size) if checksum is None else contextlib.nullcontext(checksum_hasher())
    )
    with hashing as hasher:
        written = 0
        while True:
            check_cancelled(should_stop, f"writing {file.path!r}")
            chunk = src.read(CHUNK_SIZE)
            if not chunk:
                break
            out.write(chunk)
            hasher.update(chunk)
            written += len(chunk)
            on_bytes(len(chunk))
        if checksum is None:
            expected, got = file.digest, b64_of(hasher)
        else:
            expected, got = f"XXH3-128 {checksum}", f"XXH3-128 {hasher.hexdigest()}"
    if got != expected or written != file.size:
        _raise_mismatch(file, got, written, expected)


def _raise_mismatch(file: FileToPlace, got: str, size: int, expected: str = "") -> NoReturn:
    raise IntegrityError(
        f"the bytes written for {file.path!r} do not match its digest: expected "
        f"{expected or file.digest} ({file.size} bytes), got {got} ({size} bytes); the "
        "cached copy is corrupt, clear the cache and download again"
    )
