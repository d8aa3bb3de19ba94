"""The folder blob store's crash rules, checked on real files."""

from __future__ import annotations

from pathlib import Path

from desktop_app.backends.local import LocalBackend
from desktop_app.core.digests import b64_to_hex, md5_b64
from desktop_app.core.manifest import Manifest, ManifestEntry


def test_a_blob_cut_short_by_a_crash_is_written_again(tmp_path: Path) -> None:
    """A small blob is written straight to its final name and recorded after a sync; a file
    a crash left there unrecorded is never served and is replaced on the next upload."""
    backend = LocalBackend(tmp_path / "store")
    data = b"the real bytes of a small file"
    digest = md5_b64(data)
    final = backend.blobs.path(b64_to_hex(digest))
    final.write_bytes(data[:7])  # what a crash mid-write could leave behind

    draft = backend.create_draft("p", "a", "dataset", Manifest([ManifestEntry("f", digest, 30)]))
    assert draft.missing == (digest,)  # not recorded, so not served
    backend.upload_blobs("p", [(digest, data)])
    backend.commit(draft.version.id)

    assert final.read_bytes() == data
    assert b"".join(backend.read_blob("p", digest)) == data
    assert not any((tmp_path / "store" / "blobs" / "uploads").glob("batch-*"))
    backend.close()


def test_recorded_blobs_are_not_rewritten(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "store")
    data = b"shared content"
    digest = md5_b64(data)
    backend.create_run("p")  # the projects must exist
    backend.create_run("q")
    backend.upload_blobs("p", [(digest, data)])
    final = backend.blobs.path(b64_to_hex(digest))
    before = final.stat().st_ino

    backend.upload_blobs("q", [(digest, data)])  # another project sends the same bytes

    assert final.stat().st_ino == before
    assert backend.local_blob_paths("q", [digest]) == {digest: final}
    backend.close()
