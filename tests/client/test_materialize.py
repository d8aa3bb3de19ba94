import os
import sys
import threading
from pathlib import Path

import pytest

from desktop_app.client import materialize as materialize_module
from desktop_app.client.hash_cache import HashCache
from desktop_app.client.materialize import FileToPlace, MaterializeReport, materialize
from desktop_app.core.digests import md5_b64
from desktop_app.core.errors import CancelledError, IntegrityError, ValidationError

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges")


class Blobs:
    """A stand-in for the content cache: a folder of files by digest."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir()
        self.requested: list[str] = []
        self.lock = threading.Lock()

    def add(self, path: str, data: bytes) -> FileToPlace:
        digest = md5_b64(data)
        (self.root / digest.replace("/", "_")).write_bytes(data)
        return FileToPlace(path=path, digest=digest, size=len(data))

    def source_for(self, digest: str) -> Path:
        with self.lock:
            self.requested.append(digest)
        return self.root / digest.replace("/", "_")


@pytest.fixture
def blobs(tmp_path: Path) -> Blobs:
    return Blobs(tmp_path / "blobs")


def leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if "artifact-desk-tmp" in p.name]


def test_writes_files_and_folders(tmp_path: Path, blobs: Blobs) -> None:
    files = [blobs.add("a.txt", b"alpha"), blobs.add("sub/deep/b.bin", b"beta" * 1000)]
    target = tmp_path / "out"
    updates: list[tuple[int, int]] = []
    report = materialize(
        files, target, blobs.source_for, on_progress=lambda d, t: updates.append((d, t))
    )
    assert report == MaterializeReport(written=2, skipped=0, bytes_written=5 + 4000)
    assert (target / "a.txt").read_bytes() == b"alpha"
    assert (target / "sub" / "deep" / "b.bin").read_bytes() == b"beta" * 1000
    assert updates[-1] == (4005, 4005)
    assert leftovers(target) == []


def test_written_files_are_not_hard_links(tmp_path: Path, blobs: Blobs) -> None:
    files = [blobs.add("a.txt", b"alpha")]
    materialize(files, tmp_path / "out", blobs.source_for)
    assert (tmp_path / "out" / "a.txt").stat().st_nlink == 1
    (tmp_path / "out" / "a.txt").write_bytes(b"edited")
    assert blobs.source_for(files[0].digest).read_bytes() == b"alpha"


def test_unchanged_files_are_skipped(tmp_path: Path, blobs: Blobs) -> None:
    files = [blobs.add("a.txt", b"alpha"), blobs.add("b.txt", b"beta")]
    target = tmp_path / "out"
    materialize(files, target, blobs.source_for)
    blobs.requested.clear()
    report = materialize(files, target, blobs.source_for)
    assert report == MaterializeReport(written=0, skipped=2, bytes_written=0)
    assert blobs.requested == []


def test_skip_check_uses_the_hash_cache(tmp_path: Path, blobs: Blobs) -> None:
    files = [blobs.add("a.txt", b"alpha")]
    target = tmp_path / "out"
    materialize(files, target, blobs.source_for)
    with HashCache(None) as cache:
        report = materialize(files, target, blobs.source_for, hash_cache=cache)
        assert report.skipped == 1
        assert cache.lookup(target / "a.txt") in (None, files[0].digest)


def test_changed_member_is_restored_and_foreign_files_kept(tmp_path: Path, blobs: Blobs) -> None:
    files = [blobs.add("a.txt", b"alpha"), blobs.add("b.txt", b"beta"), blobs.add("c", b"")]
    target = tmp_path / "out"
    materialize(files, target, blobs.source_for)
    (target / "a.txt").write_bytes(b"ALPHA")  # same size, other content
    (target / "b.txt").write_bytes(b"much longer now")
    (target / "c").unlink()
    (target / "mine.txt").write_bytes(b"user file")
    (target / "notes").mkdir()
    report = materialize(files, target, blobs.source_for)
    assert report == MaterializeReport(written=3, skipped=0, bytes_written=9)
    assert (target / "a.txt").read_bytes() == b"alpha"
    assert (target / "b.txt").read_bytes() == b"beta"
    assert (target / "c").read_bytes() == b""
    assert (target / "mine.txt").read_bytes() == b"user file"
    assert (target / "notes").is_dir()


@pytest.mark.parametrize("bad", ["../x", "/etc/x", "a/../../x", "a//b", "C:/x", "a\\b", ""])
def test_malicious_paths_rejected_before_anything_is_written(
    tmp_path: Path, blobs: Blobs, bad: str
) -> None:
    files = [blobs.add("first.txt", b"fine"), blobs.add(bad, b"evil")]
    target = tmp_path / "out"
    with pytest.raises(ValidationError):
        materialize(files, target, blobs.source_for)
    assert not target.exists()
    assert not (tmp_path / "x").exists()
    assert blobs.requested == []


def test_conflicting_paths_rejected(tmp_path: Path, blobs: Blobs) -> None:
    files = [blobs.add("a", b"file"), blobs.add("a/b", b"needs a folder")]
    with pytest.raises(ValidationError, match="folder"):
        materialize(files, tmp_path / "out", blobs.source_for)
    assert not (tmp_path / "out" / "a").exists()


@posix_only
def test_symlinked_folder_in_target_is_refused(tmp_path: Path, blobs: Blobs) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "out"
    target.mkdir()
    (target / "sub").symlink_to(outside, target_is_directory=True)
    files = [blobs.add("ok.txt", b"fine"), blobs.add("sub/x.txt", b"evil")]
    with pytest.raises(ValidationError, match="symbolic link") as info:
        materialize(files, target, blobs.source_for)
    assert str(target / "sub") in str(info.value)
    assert list(outside.iterdir()) == []
    assert not (target / "ok.txt").exists()  # refused before anything was written


@posix_only
def test_symlinked_file_is_replaced_not_written_through(tmp_path: Path, blobs: Blobs) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"precious")
    target = tmp_path / "out"
    target.mkdir()
    (target / "a.txt").symlink_to(outside)
    files = [blobs.add("a.txt", b"precious")]  # same bytes: must still not count as present
    report = materialize(files, target, blobs.source_for)
    assert report.written == 1
    assert not (target / "a.txt").is_symlink()
    assert (target / "a.txt").read_bytes() == b"precious"
    assert outside.read_bytes() == b"precious"
    files = [blobs.add("b.txt", b"new")]
    (target / "b.txt").symlink_to(outside)
    materialize(files, target, blobs.source_for)
    assert outside.read_bytes() == b"precious"
    assert (target / "b.txt").read_bytes() == b"new"


def test_folder_where_a_file_belongs_is_refused(tmp_path: Path, blobs: Blobs) -> None:
    target = tmp_path / "out"
    (target / "a.txt").mkdir(parents=True)
    with pytest.raises(ValidationError, match="is a folder"):
        materialize([blobs.add("a.txt", b"x")], target, blobs.source_for)


def test_file_where_a_folder_belongs_is_refused(tmp_path: Path, blobs: Blobs) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "sub").write_bytes(b"in the way")
    with pytest.raises(ValidationError, match="needs a folder"):
        materialize([blobs.add("sub/a.txt", b"x")], target, blobs.source_for)
    assert (target / "sub").read_bytes() == b"in the way"


def test_corrupt_source_is_an_integrity_error_without_leftovers(
    tmp_path: Path, blobs: Blobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(materialize_module, "_reflink", lambda _src, _out: False)
    file = blobs.add("a.txt", b"alpha")
    blobs.source_for(file.digest).write_bytes(b"alphX")
    target = tmp_path / "out"
    with pytest.raises(IntegrityError, match="do not match"):
        materialize([file], target, blobs.source_for)
    assert list(target.iterdir()) == []


def test_cancel_midway_leaves_no_temp_files(
    tmp_path: Path, blobs: Blobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(materialize_module, "_reflink", lambda _src, _out: False)
    files = [blobs.add(f"f{i}.bin", bytes([i]) * (3 << 20)) for i in range(6)]
    target = tmp_path / "out"
    checks = 0
    lock = threading.Lock()

    def is_cancelled() -> bool:
        nonlocal checks
        with lock:
            checks += 1
            return checks > 5

    with pytest.raises(CancelledError):
        materialize(files, target, blobs.source_for, is_cancelled=is_cancelled, workers=2)
    assert leftovers(target) == []
    for path in target.iterdir():  # whatever got written is complete
        assert md5_b64(path.read_bytes()) in {f.digest for f in files}
    assert len(list(target.iterdir())) < len(files)


def test_failure_of_one_file_leaves_no_temp_files(tmp_path: Path, blobs: Blobs) -> None:
    files = [blobs.add(f"f{i}.bin", bytes([i]) * 1000) for i in range(5)]
    missing = FileToPlace("missing.bin", md5_b64(b"not in blobs"), 12)
    with pytest.raises(FileNotFoundError):
        materialize([*files, missing], tmp_path / "out", blobs.source_for)
    assert leftovers(tmp_path / "out") == []


def test_reflink_falls_back_to_copy_when_unsupported(
    tmp_path: Path, blobs: Blobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("FICLONE is Linux-only")
    import errno
    import fcntl

    def unsupported(*_args: object) -> None:
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    monkeypatch.setattr(fcntl, "ioctl", unsupported)
    report = materialize([blobs.add("a.txt", b"alpha")], tmp_path / "out", blobs.source_for)
    assert report.written == 1
    assert (tmp_path / "out" / "a.txt").read_bytes() == b"alpha"


def test_written_file_permissions_follow_the_umask(tmp_path: Path, blobs: Blobs) -> None:
    if sys.platform == "win32":
        pytest.skip("POSIX permissions")
    materialize([blobs.add("a.txt", b"alpha")], tmp_path / "out", blobs.source_for)
    mode = os.stat(tmp_path / "out" / "a.txt").st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask


def test_freshly_verified_sources_are_copied_without_hashing_but_size_checked(
    tmp_path: Path, blobs: Blobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = blobs.add("big.bin", os.urandom(3 << 20))
    hashed: list[str] = []
    real_copy = materialize_module._copy_verified

    def counting_copy(*args: object, **kwargs: object) -> None:
        hashed.append("yes")
        real_copy(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(materialize_module, "_copy_verified", counting_copy)
    target = tmp_path / "out"

    materialize([big], target, blobs.source_for, verified={big.digest})

    assert (target / "big.bin").read_bytes() == blobs.source_for(big.digest).read_bytes()
    assert hashed == []
    # A fresh source of the wrong size is still caught, and nothing is left behind.
    blobs.source_for(big.digest).write_bytes(b"short")
    with pytest.raises(IntegrityError, match="bytes, expected"):
        materialize([big], tmp_path / "out2", blobs.source_for, verified={big.digest})
    assert not (tmp_path / "out2" / "big.bin").exists()
    assert leftovers(tmp_path / "out2") == []
