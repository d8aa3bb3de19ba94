"""``Artifact``: building, logging, editing, downloading and verifying versions."""

from __future__ import annotations

import base64
import gc
import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import desktop_app.sdk as wandb
from desktop_app.core.manifest import Manifest
from desktop_app.sdk import _context

PROJECT = "art-tests"


@pytest.fixture
def run(sdk_home: Path) -> wandb.Run:
    return wandb.init(project=PROJECT, job_type="test")


def b64md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def expected_version_digest(pairs: dict[str, str]) -> str:
    md5 = hashlib.md5(b"wandb-artifact-manifest-v1\n")
    for path in sorted(pairs):
        md5.update(f"{path}:{pairs[path]}\n".encode())
    return md5.hexdigest()


# == building ============================================================================
def test_add_file_returns_the_entry(run: wandb.Run, tmp_path: Path) -> None:
    write(tmp_path / "data.bin", b"abc" * 100)
    artifact = wandb.Artifact("files", type="dataset")
    entry = artifact.add_file(tmp_path / "data.bin")
    assert entry.path == "data.bin"
    assert entry.digest == b64md5(b"abc" * 100)
    assert entry.size == 300
    assert entry.ref is None
    named = artifact.add_file(str(tmp_path / "data.bin"), name="sub/renamed.bin")
    assert named.path == "sub/renamed.bin"
    assert named.digest == entry.digest
    assert [e.path for e in artifact.files()] == ["data.bin", "sub/renamed.bin"]


def test_add_dir_of_many_files_hashes_them_with_the_collector_paused(
    run: wandb.Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A training process's heap is large: add_dir of 1,000 files or more hashes them with
    the cyclic collector paused (see client/gc_pause), a smaller folder with it running;
    either way it runs again afterwards."""
    from desktop_app.client import upload
    from desktop_app.client.gc_pause import PAUSE_GC_FROM_FILES

    real = upload.hash_local_files
    seen: list[bool] = []

    def noting(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(upload, "hash_local_files", noting)
    for count in (PAUSE_GC_FROM_FILES - 1, PAUSE_GC_FROM_FILES):
        folder = tmp_path / f"files-{count}"
        folder.mkdir()
        for index in range(count):
            (folder / f"{index:04d}.txt").write_bytes(b"%d" % index)
        artifact = wandb.Artifact(f"many-{count}", type="dataset")
        artifact.add_dir(folder)
        assert len(artifact.files()) == count
    assert seen == [True, False]
    assert gc.isenabled()


def test_add_dir_nested_with_prefix(run: wandb.Run, tmp_path: Path) -> None:
    src = tmp_path / "src"
    write(src / "top.txt", b"top")
    write(src / "a" / "b" / "deep.txt", b"deep")
    write(src / "a" / "mid.txt", b"mid")
    artifact = wandb.Artifact("dirs", type="dataset")
    artifact.add_dir(src, name="prefix")
    entries = {e.path: e for e in artifact.files()}
    assert set(entries) == {"prefix/top.txt", "prefix/a/b/deep.txt", "prefix/a/mid.txt"}
    assert entries["prefix/a/b/deep.txt"].digest == b64md5(b"deep")
    assert entries["prefix/a/b/deep.txt"].size == 4

    plain = wandb.Artifact("dirs2", type="dataset")
    plain.add_dir(src)
    assert {e.path for e in plain.files()} == {"top.txt", "a/b/deep.txt", "a/mid.txt"}


def test_add_reference_file_uri_with_and_without_checksum(run: wandb.Run, tmp_path: Path) -> None:
    target = write(tmp_path / "external" / "big.dat", b"external bytes")
    uri = target.as_uri()
    artifact = wandb.Artifact("refs", type="dataset")
    (entry,) = artifact.add_reference(uri)
    assert entry.path == "big.dat"
    assert entry.ref == uri
    assert entry.digest == b64md5(b"external bytes")
    assert entry.size == len(b"external bytes")

    (unchecked,) = artifact.add_reference(uri, name="unchecked.dat", checksum=False)
    assert unchecked.digest == uri
    assert unchecked.ref == uri

    run.log_artifact(artifact)
    folder = Path(artifact.download(root=tmp_path / "out"))
    assert (folder / "big.dat").read_bytes() == b"external bytes"
    assert (folder / "unchecked.dat").read_bytes() == b"external bytes"
    artifact.verify(root=folder)


def test_add_reference_file_folder(run: wandb.Run, tmp_path: Path) -> None:
    write(tmp_path / "ext" / "x.txt", b"x")
    write(tmp_path / "ext" / "in" / "y.txt", b"yy")
    artifact = wandb.Artifact("folderref", type="dataset")
    entries = artifact.add_reference((tmp_path / "ext").as_uri(), name="mirror")
    assert {e.path: e.digest for e in entries} == {
        "mirror/in/y.txt": b64md5(b"yy"),
        "mirror/x.txt": b64md5(b"x"),
    }
    with pytest.raises(wandb.ValidationError, match="max_objects"):
        wandb.Artifact("folderref2").add_reference((tmp_path / "ext").as_uri(), max_objects=1)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    etag: str | None = None

    def end_headers(self) -> None:
        if self.etag is not None:
            self.send_header("ETag", f'"{self.etag}"')
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path, type[_QuietHandler]]]:
    root = tmp_path / "served"
    root.mkdir()

    class Handler(_QuietHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[misc]

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root, Handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_add_reference_http(
    run: wandb.Run, tmp_path: Path, http_root: tuple[str, Path, type[_QuietHandler]]
) -> None:
    base, root, handler = http_root
    payload = b"served over http " * 50
    write(root / "model.bin", payload)
    uri = f"{base}/model.bin"

    artifact = wandb.Artifact("httpref", type="model")
    (unchecked,) = artifact.add_reference(uri, name="unchecked.bin", checksum=False)
    assert unchecked.digest == uri
    assert unchecked.ref == uri

    # The stdlib server sends no ETag: the digest falls back to the URI (documented).
    (no_etag,) = artifact.add_reference(uri, name="no_etag.bin")
    assert no_etag.digest == uri
    assert no_etag.size == len(payload)
    assert "etag" not in no_etag.extra

    handler.etag = "abc123"
    (with_etag,) = artifact.add_reference(uri)
    assert with_etag.path == "model.bin"
    assert with_etag.digest == "abc123"
    assert with_etag.extra == {"etag": "abc123"}
    assert with_etag.size == len(payload)

    run.log_artifact(artifact)
    folder = Path(artifact.download(root=tmp_path / "dl"))
    for name in ("unchecked.bin", "no_etag.bin", "model.bin"):
        assert (folder / name).read_bytes() == payload

    with pytest.raises(wandb.NotFoundError, match="404"):
        wandb.Artifact("missing").add_reference(f"{base}/nope.bin")


def test_new_file_and_remove(run: wandb.Run, tmp_path: Path) -> None:
    artifact = wandb.Artifact("made", type="dataset")
    with artifact.new_file("notes/readme.txt", mode="w", encoding="utf-8") as stream:
        stream.write("hello")
    with artifact.new_file("notes/other.txt", mode="w") as stream:
        stream.write("other")
    with artifact.new_file("keep.bin", mode="wb") as stream:
        stream.write(b"\x00\x01")
    assert artifact.get_entry("notes/readme.txt").digest == b64md5(b"hello")
    with (
        pytest.raises(wandb.ValidationError, match=r"keep\.bin"),
        artifact.new_file("keep.bin") as stream,
    ):
        stream.write("again")

    artifact.remove("notes/other.txt")
    assert {e.path for e in artifact.files()} == {"notes/readme.txt", "keep.bin"}
    artifact.remove("notes")
    assert [e.path for e in artifact.files()] == ["keep.bin"]
    with pytest.raises(wandb.ValidationError, match="nothere"):
        artifact.remove("nothere")

    run.log_artifact(artifact)
    folder = Path(artifact.download(root=tmp_path / "made"))
    assert (folder / "keep.bin").read_bytes() == b"\x00\x01"
    assert not (folder / "notes").exists()


def test_remove_by_entry(run: wandb.Run, tmp_path: Path) -> None:
    write(tmp_path / "a.txt", b"a")
    write(tmp_path / "b.txt", b"b")
    artifact = wandb.Artifact("rm", type="dataset")
    entry = artifact.add_file(tmp_path / "a.txt")
    artifact.add_file(tmp_path / "b.txt")
    artifact.remove(entry)
    assert [e.path for e in artifact.files()] == ["b.txt"]


# == logging =============================================================================
def test_identical_content_twice_gives_same_version(
    run: wandb.Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "same.txt", b"same content")
    first = wandb.Artifact("dup", type="dataset")
    first.add_file(tmp_path / "same.txt")
    run.log_artifact(first)
    capsys.readouterr()

    second = wandb.Artifact("dup", type="dataset")
    second.add_file(tmp_path / "same.txt")
    run.log_artifact(second)
    err = capsys.readouterr().err
    assert second.version == "v0"
    assert second.id == first.id
    assert "no new version" in err
    assert "dup" in err
    assert [a.version for a in wandb.Api().artifacts("dataset", f"{PROJECT}/dup")] == ["v0"]


def test_aliases_and_moving_an_alias(run: wandb.Run, tmp_path: Path) -> None:
    write(tmp_path / "m.txt", b"one")
    v0 = wandb.Artifact("model", type="model")
    v0.add_file(tmp_path / "m.txt")
    run.log_artifact(v0, aliases=["best", "candidate"])
    assert set(v0.aliases) == {"latest", "best", "candidate"}

    write(tmp_path / "m.txt", b"two")
    v1 = wandb.Artifact("model", type="model")
    v1.add_file(tmp_path / "m.txt")
    run.log_artifact(v1, aliases=["best"])
    assert v1.version == "v1"
    assert set(v1.aliases) == {"latest", "best"}

    api = wandb.Api()
    assert api.artifact(f"{PROJECT}/model:best").version == "v1"
    assert api.artifact(f"{PROJECT}/model:candidate").version == "v0"
    assert api.artifact(f"{PROJECT}/model:latest").version == "v1"
    assert set(api.artifact(f"{PROJECT}/model:v0").aliases) == {"candidate"}


def test_editing_a_logged_artifact_persists(run: wandb.Run, tmp_path: Path) -> None:
    write(tmp_path / "e.txt", b"edit me")
    artifact = wandb.Artifact("editable", type="dataset", description="first")
    artifact.add_file(tmp_path / "e.txt")
    run.log_artifact(artifact, tags=["raw"])

    artifact.description = "second"
    artifact.metadata = {"rows": 3, "nested": {"ok": True}}
    artifact.aliases = [*artifact.aliases, "production"]
    artifact.tags = ["clean", "v2 ready"]
    artifact.save()

    back = wandb.Api().artifact(f"{PROJECT}/editable:v0")
    assert back.description == "second"
    assert back.metadata == {"rows": 3, "nested": {"ok": True}}
    assert set(back.aliases) == {"latest", "production"}
    assert sorted(back.tags) == ["clean", "v2 ready"]
    assert back.digest == artifact.digest

    back.aliases = ["latest"]  # drop "production"
    back.save()
    assert wandb.Api().artifact(f"{PROJECT}/editable:v0").aliases == ["latest"]
    with pytest.raises(wandb.NotFoundError):
        wandb.Api().artifact(f"{PROJECT}/editable:production")


def test_new_draft_logs_v1_without_reuploading(
    run: wandb.Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "base" / "a.txt", b"aaaa")
    write(tmp_path / "base" / "b.txt", b"bbbb")
    v0 = wandb.Artifact("drafted", type="dataset", metadata={"k": 1})
    v0.add_dir(tmp_path / "base")
    run.log_artifact(v0)

    backend = _context.get_client().backend
    sent: list[str] = []
    original_one = backend.upload_blob

    def spy_one(project: str, digest: str, *args: Any, **kwargs: Any) -> None:
        sent.append(digest)
        original_one(project, digest, *args, **kwargs)

    monkeypatch.setattr(backend, "upload_blob", spy_one)
    original_many = getattr(backend, "upload_blobs", None)
    if original_many is not None:  # batched upload of small blobs

        def spy_many(project: str, blobs: Any, *args: Any, **kwargs: Any) -> None:
            blobs = list(blobs)
            sent.extend(digest for digest, _data in blobs)
            original_many(project, blobs, *args, **kwargs)

        monkeypatch.setattr(backend, "upload_blobs", spy_many)

    draft = v0.new_draft()
    assert draft.id is None
    assert draft.metadata == {"k": 1}
    write(tmp_path / "c.txt", b"cccc new")
    draft.add_file(tmp_path / "c.txt")
    run.log_artifact(draft)

    assert draft.version == "v1"
    assert sent == [b64md5(b"cccc new")]
    files = {e.path: e.digest for e in draft.files()}
    assert files == {
        "a.txt": b64md5(b"aaaa"),
        "b.txt": b64md5(b"bbbb"),
        "c.txt": b64md5(b"cccc new"),
    }
    # v0 is untouched.
    assert {e.path for e in wandb.Api().artifact(f"{PROJECT}/drafted:v0").files()} == {
        "a.txt",
        "b.txt",
    }
    folder = Path(draft.download())
    assert folder == Path("artifacts") / "drafted:v1"
    assert (folder / "a.txt").read_bytes() == b"aaaa"


def test_new_draft_with_removed_file(run: wandb.Run, tmp_path: Path) -> None:
    write(tmp_path / "x" / "keep.txt", b"keep")
    write(tmp_path / "x" / "drop.txt", b"drop")
    v0 = wandb.Artifact("shrink", type="dataset")
    v0.add_dir(tmp_path / "x")
    run.log_artifact(v0)
    draft = v0.new_draft()
    draft.remove("drop.txt")
    run.log_artifact(draft)
    assert draft.version == "v1"
    assert [e.path for e in wandb.Api().artifact(f"{PROJECT}/shrink:latest").files()] == [
        "keep.txt"
    ]


def test_new_draft_logged_into_another_project(run: wandb.Run, tmp_path: Path) -> None:
    write(tmp_path / "a.txt", b"inherited")
    write(tmp_path / "b.txt", b"added")
    v0 = wandb.Artifact("crossproj", type="dataset")
    v0.add_file(tmp_path / "a.txt")
    run.log_artifact(v0)
    draft = v0.new_draft()
    draft.add_file(tmp_path / "b.txt")
    other = wandb.init(project="another-project")
    try:
        other.log_artifact(draft)
    except wandb.ArtifactDeskError:
        return  # a clear error would also be acceptable
    assert draft.version == "v0"
    assert draft.project == "another-project"


def test_download_path_prefix(run: wandb.Run, tmp_path: Path) -> None:
    write(tmp_path / "tree" / "images" / "1.png", b"png1")
    write(tmp_path / "tree" / "images" / "2.png", b"png2")
    write(tmp_path / "tree" / "labels" / "l.csv", b"csv")
    artifact = wandb.Artifact("tree", type="dataset")
    artifact.add_dir(tmp_path / "tree")
    run.log_artifact(artifact)
    folder = Path(artifact.download(root=tmp_path / "part", path_prefix="images"))
    placed = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert placed == ["images/1.png", "images/2.png"]
    with pytest.raises(wandb.ValidationError, match="nothing"):
        artifact.download(root=tmp_path / "none", path_prefix="nothing")


def test_verify_detects_changed_and_extra_files(run: wandb.Run, tmp_path: Path) -> None:
    write(tmp_path / "v" / "one.txt", b"one")
    write(tmp_path / "v" / "sub" / "two.txt", b"two")
    artifact = wandb.Artifact("verified", type="dataset")
    artifact.add_dir(tmp_path / "v")
    run.log_artifact(artifact)
    folder = Path(artifact.download())
    artifact.verify()  # default root
    artifact.verify(root=folder)

    target = folder / "sub" / "two.txt"
    target.write_bytes(b"TWO changed")
    with pytest.raises(wandb.IntegrityError, match=r"sub/two\.txt") as info:
        artifact.verify(root=folder)
    assert "one.txt" not in str(info.value)

    # Downloading again restores the file.
    artifact.download()
    artifact.verify()

    write(folder / "stray.txt", b"extra")
    with pytest.raises(wandb.IntegrityError, match=r"stray\.txt"):
        artifact.verify(root=folder)

    (folder / "stray.txt").unlink()
    (folder / "one.txt").unlink()
    with pytest.raises(wandb.IntegrityError, match=r"one\.txt"):
        artifact.verify(root=folder)


def test_reading_fields_of_a_logged_artifact(run: wandb.Run, tmp_path: Path) -> None:
    write(tmp_path / "r" / "a.txt", b"alpha")
    write(tmp_path / "r" / "b" / "c.txt", b"gamma!")
    artifact = wandb.Artifact("readme", type="dataset")
    artifact.add_dir(tmp_path / "r")
    assert artifact.state == "PENDING"
    pending_digest = artifact.digest
    run.log_artifact(artifact)

    assert artifact.state == "COMMITTED"
    assert artifact.version == "v0"
    assert artifact.name == "readme:v0"
    assert artifact.qualified_name == f"{PROJECT}/readme:v0"
    assert artifact.project == PROJECT
    assert artifact.size == len(b"alpha") + len(b"gamma!")
    assert artifact.file_count == 2

    pairs = {"a.txt": b64md5(b"alpha"), "b/c.txt": b64md5(b"gamma!")}
    assert artifact.digest == expected_version_digest(pairs)
    assert artifact.digest == pending_digest
    assert artifact.digest == Manifest(artifact.files()).digest()

    assert {e.path: e.digest for e in artifact.files()} == pairs
    assert [e.path for e in artifact.files(names=["b/c.txt"])] == ["b/c.txt"]
    assert artifact.get_entry("b/c.txt").size == 6
    with pytest.raises(KeyError, match=r"missing\.txt"):
        artifact.get_entry("missing.txt")

    fresh = wandb.Api().artifact(f"{PROJECT}/readme:v0")
    assert fresh.digest == artifact.digest
    assert fresh.manifest.digest() == artifact.digest

    logger = artifact.logged_by()
    assert logger is not None
    assert logger.id == run.id
    assert artifact.used_by() == []
    user = wandb.init(project=PROJECT, job_type="consume")
    user.use_artifact("readme:v0")
    assert [r.id for r in artifact.used_by()] == [user.id]


def test_logging_a_logged_artifact_again_points_at_new_draft(
    run: wandb.Run, tmp_path: Path
) -> None:
    write(tmp_path / "once.txt", b"once")
    artifact = wandb.Artifact("once", type="dataset")
    artifact.add_file(tmp_path / "once.txt")
    run.log_artifact(artifact)
    with pytest.raises(wandb.ConflictError, match=r"new_draft\(\)"):
        run.log_artifact(artifact)
    with pytest.raises(wandb.ConflictError, match=r"new_draft\(\)"):
        artifact.add_file(tmp_path / "once.txt", name="again.txt")
    with pytest.raises(wandb.ConflictError, match=r"new_draft\(\)"):
        artifact.remove("once.txt")
    assert [a.version for a in wandb.Api().artifacts("dataset", f"{PROJECT}/once")] == ["v0"]


def test_empty_artifact_cannot_be_logged(run: wandb.Run) -> None:
    artifact = wandb.Artifact("empty", type="dataset")
    with pytest.raises(wandb.ValidationError, match="no files"):
        run.log_artifact(artifact)
    with pytest.raises(wandb.ValidationError, match="no files"):
        artifact.save()
    assert wandb.Api().artifact_collections(PROJECT) == []


def test_wait_and_unlogged_reads(run: wandb.Run, tmp_path: Path) -> None:
    write(tmp_path / "w.txt", b"w")
    artifact = wandb.Artifact("waiting", type="dataset")
    artifact.add_file(tmp_path / "w.txt")
    with pytest.raises(wandb.ConflictError, match="not logged"):
        artifact.wait()
    with pytest.raises(wandb.ConflictError):
        artifact.download()
    with pytest.raises(wandb.ConflictError):
        _ = artifact.version
    with pytest.raises(wandb.ConflictError):
        artifact.new_draft()
    run.log_artifact(artifact)
    assert artifact.wait() is artifact


def test_save_without_run_needs_a_project(sdk_home: Path, tmp_path: Path) -> None:
    write(tmp_path / "s.txt", b"s")
    artifact = wandb.Artifact("runless", type="dataset")
    artifact.add_file(tmp_path / "s.txt")
    with pytest.raises(wandb.ValidationError, match="project"):
        artifact.save()
    artifact.save(project="elsewhere")
    assert artifact.qualified_name == "elsewhere/runless:v0"
    logger = artifact.logged_by()
    assert logger is not None
    assert logger.state == "finished"
    assert _context.current_run is None


def test_log_artifact_from_path(run: wandb.Run, tmp_path: Path) -> None:
    write(tmp_path / "my data" / "f.txt", b"f")
    logged = run.log_artifact(tmp_path / "my data", type="dataset")
    assert logged.name == "my-data:v0"
    assert [e.path for e in logged.files()] == ["f.txt"]
    single = run.log_artifact(str(tmp_path / "my data" / "f.txt"), name="single")
    assert single.type == "unspecified"
    assert single.qualified_name == f"{PROJECT}/single:v0"


def test_saving_other_edits_keeps_no_description(run: wandb.Run, tmp_path: Path) -> None:
    write(tmp_path / "n.txt", b"n")
    artifact = wandb.Artifact("nodesc", type="dataset")
    artifact.add_file(tmp_path / "n.txt")
    run.log_artifact(artifact)
    assert artifact.description is None
    artifact.tags = ["edited"]
    artifact.save()
    back = wandb.Api().artifact(f"{PROJECT}/nodesc:v0")
    assert back.tags == ["edited"]
    assert back.description is None
