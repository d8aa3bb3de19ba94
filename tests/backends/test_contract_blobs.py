"""Contract: resumable, verified blob uploads, blob reads and garbage collection."""

from __future__ import annotations

import os

import pytest
import xxhash

from desktop_app.core.digests import b64_to_hex, hex_to_b64, md5_b64
from desktop_app.core.errors import (
    BackendUnavailableError,
    ConflictError,
    IntegrityError,
    NotFoundError,
    OffsetMismatchError,
)
from desktop_app.core.records import GcReport

P = "proj"
DATA = os.urandom(3000) + b"tail"
DIGEST = md5_b64(DATA)


def _xxh3(data: bytes) -> str:
    return xxhash.xxh3_128(data).hexdigest()


class ConnectionDroppedError(Exception):
    """Stands in for a connection that drops in the middle of an upload."""


def _interrupted_after(*chunks: bytes):
    yield from chunks
    raise ConnectionDroppedError("connection dropped")


@pytest.fixture
def draft(backend, manifest_of):
    """A draft that needs exactly ``DATA``."""
    result = backend.create_draft(P, "data", "dataset", manifest_of({"big.bin": DATA}))
    assert list(result.missing) == [DIGEST]
    return result


def _still_missing(backend, manifest_of):
    again = backend.create_draft(P, "data", "dataset", manifest_of({"big.bin": DATA}))
    return DIGEST in again.missing


def test_uploaded_blob_reads_back_whole_and_from_an_offset(backend, draft, read_blob_bytes):
    backend.upload_blob(P, DIGEST, len(DATA), [DATA[:1000], DATA[1000:2500], DATA[2500:]])
    backend.commit(draft.version.id)

    assert read_blob_bytes(backend, P, DIGEST) == DATA
    assert read_blob_bytes(backend, P, DIGEST, start=1234) == DATA[1234:]
    assert read_blob_bytes(backend, P, DIGEST, start=len(DATA)) == b""
    chunks = list(backend.read_blob(P, DIGEST, chunk_size=1000))
    assert b"".join(chunks) == DATA
    assert len(chunks) >= 4
    assert all(len(chunk) <= 1000 for chunk in chunks)


def test_local_blob_paths_hold_the_bytes(harness, draft):
    backend = harness.backend
    backend.upload_blob(P, DIGEST, len(DATA), [DATA])
    backend.commit(draft.version.id)
    unknown = md5_b64(b"never uploaded")

    paths = backend.local_blob_paths(P, [DIGEST, unknown])

    assert unknown not in paths
    if harness.kind == "local":
        assert set(paths) == {DIGEST}
    for path in paths.values():
        assert path.read_bytes() == DATA


def test_small_blobs_upload_in_one_batch(backend, manifest_of, read_blob_bytes):
    files = {f"f{i}": f"small file {i}".encode() for i in range(50)}
    result = backend.create_draft(P, "many", "dataset", manifest_of(files))
    assert len(result.missing) == 50

    backend.upload_blobs(P, [(md5_b64(data), data) for data in files.values()])

    version = backend.commit(result.version.id)
    assert version.file_count == 50
    assert read_blob_bytes(backend, P, md5_b64(files["f7"])) == files["f7"]


def test_missing_blobs_names_what_the_project_lacks_without_leaks(backend, log):
    held, elsewhere, nowhere = b"held here", b"held by another project", b"held by nobody"
    log(P, "mine", {"f": held})
    log("team-b/other", "theirs", {"f": elsewhere})
    asked = [md5_b64(nowhere), md5_b64(held), md5_b64(elsewhere), md5_b64(nowhere)]

    assert backend.missing_blobs(P, asked) == [asked[0], asked[2], asked[3]]
    assert backend.missing_blobs("not/created-yet", asked[:2]) == asked[:2]
    assert backend.missing_blobs(P, []) == []


def test_a_blob_uploaded_on_its_own_has_the_xxh3_of_its_bytes(backend, draft):
    backend.upload_blob(P, DIGEST, len(DATA), [DATA[:1000], DATA[1000:]])

    assert backend.blob_checksums(P, [DIGEST]) == {DIGEST: _xxh3(DATA)}
    backend.commit(draft.version.id)
    assert backend.blob_checksums(P, [DIGEST, DIGEST]) == {DIGEST: _xxh3(DATA)}


def test_a_resumed_upload_has_the_xxh3_of_all_its_bytes(backend, draft):
    with pytest.raises((ConnectionDroppedError, BackendUnavailableError)):
        backend.upload_blob(P, DIGEST, len(DATA), _interrupted_after(DATA[:1000], DATA[1000:1700]))
    offset = backend.upload_offset(P, DIGEST)
    assert 0 < offset < len(DATA)
    assert backend.blob_checksums(P, [DIGEST]) == {}  # a part has none

    backend.upload_blob(P, DIGEST, len(DATA), [DATA[offset:]], offset=offset)

    # The store hashed the part it kept too, not only the bytes of the second request.
    assert backend.blob_checksums(P, [DIGEST]) == {DIGEST: _xxh3(DATA)}


def test_an_empty_blob_uploaded_on_its_own_has_a_checksum(backend, manifest_of):
    empty = md5_b64(b"")
    backend.create_draft(P, "data", "dataset", manifest_of({"empty": b""}))

    backend.upload_blob(P, empty, 0, [])

    assert backend.blob_checksums(P, [empty]) == {empty: _xxh3(b"")}


def test_blobs_sent_in_a_batch_have_no_checksum(backend, manifest_of):
    files = {f"f{i}": f"small file {i}".encode() for i in range(5)}
    draft = backend.create_draft(P, "many", "dataset", manifest_of(files))
    backend.upload_blobs(P, [(md5_b64(data), data) for data in files.values()])
    backend.commit(draft.version.id)
    alone = b"sent on its own"
    backend.create_draft(P, "one", "dataset", manifest_of({"alone": alone}))
    backend.upload_blob(P, md5_b64(alone), len(alone), [alone])

    found = backend.blob_checksums(P, [md5_b64(alone), *(md5_b64(d) for d in files.values())])

    assert found == {md5_b64(alone): _xxh3(alone)}
    assert backend.missing_blobs(P, [md5_b64(d) for d in files.values()]) == []  # yet held


def test_blob_checksums_reveal_nothing_across_projects(backend, log):
    mine, theirs = b"held here, sent alone", b"held by another project, sent alone"
    log(P, "mine", {"f": mine})
    log("team-b/other", "theirs", {"f": theirs})
    unknown = md5_b64(b"held by nobody")

    assert backend.blob_checksums("team-b/other", [md5_b64(theirs)]) == {
        md5_b64(theirs): _xxh3(theirs)
    }
    # Another project's blob gets the answer an unknown digest gets.
    assert backend.blob_checksums(P, [md5_b64(theirs)]) == {}
    assert backend.blob_checksums(P, [unknown]) == {}
    assert backend.blob_checksums(P, [unknown, md5_b64(theirs), md5_b64(mine)]) == {
        md5_b64(mine): _xxh3(mine)
    }


def test_blob_checksums_of_a_project_without_blobs_are_empty(backend, manifest_of):
    backend.create_draft(P, "nothing", "dataset", manifest_of({}))

    assert backend.blob_checksums(P, [md5_b64(b"never uploaded"), DIGEST]) == {}
    assert backend.blob_checksums(P, []) == {}


def test_blob_checksums_of_a_project_that_does_not_exist_are_not_found(backend, log):
    log(P, "data", {"f": b"some bytes"})

    with pytest.raises(NotFoundError):
        backend.blob_checksums("not/created-yet", [md5_b64(b"some bytes")])
    # Asking about nothing is answered alike everywhere (a client sends no request then).
    assert backend.blob_checksums("not/created-yet", []) == {}


def test_blob_checksums_of_more_digests_than_one_request_may_hold(backend, log):
    """20,001 digests: twice the server's limit per request, so the client must split them;
    the one the project holds sorts last, into the last request."""
    held = b"held, and asked for among 20,000 unknown digests"
    assert not b64_to_hex(md5_b64(held)).startswith("0" * 20)
    log(P, "data", {"f": held})
    unknown = [hex_to_b64(f"{i:032x}") for i in range(20_000)]

    found = backend.blob_checksums(P, [*unknown[:7], md5_b64(held), *unknown[7:]])

    assert found == {md5_b64(held): _xxh3(held)}


def test_blobs_sent_before_any_draft_create_the_project_and_count(backend, manifest_of):
    files = {f"f{i}": f"sent early {i}".encode() for i in range(12)}
    blobs = [(md5_b64(data), data) for data in files.values()]

    backend.upload_blobs("early/bird", blobs)

    assert backend.missing_blobs("early/bird", [d for d, _ in blobs]) == []
    draft = backend.create_draft("early/bird", "data", "dataset", manifest_of(files))
    assert draft.missing == ()
    assert backend.commit(draft.version.id).file_count == 12


def test_a_bad_blob_rejects_the_whole_batch(backend, manifest_of):
    good, bad = b"good bytes", b"bad bytes"
    result = backend.create_draft(P, "pair", "dataset", manifest_of({"g": good, "b": bad}))

    with pytest.raises(IntegrityError):
        backend.upload_blobs(P, [(md5_b64(good), good), (md5_b64(bad), b"tampered")])

    again = backend.create_draft(P, "pair", "dataset", manifest_of({"g": good, "b": bad}))
    assert set(again.missing) == {md5_b64(good), md5_b64(bad)}
    with pytest.raises(ConflictError):
        backend.commit(result.version.id)


def test_empty_file_round_trips(backend, manifest_of, read_blob_bytes):
    empty = md5_b64(b"")
    result = backend.create_draft(P, "data", "dataset", manifest_of({"empty": b""}))
    assert list(result.missing) == [empty]

    backend.upload_blob(P, empty, 0, [])
    committed = backend.commit(result.version.id)

    assert committed.size == 0
    assert read_blob_bytes(backend, P, empty) == b""


def test_upload_offset_is_zero_without_an_upload(backend, draft):
    assert backend.upload_offset(P, DIGEST) == 0


def test_wrong_offset_is_refused_with_the_expected_one(backend, draft):
    with pytest.raises(OffsetMismatchError) as caught:
        backend.upload_blob(P, DIGEST, len(DATA), [DATA[500:]], offset=500)

    assert caught.value.expected == 0
    assert backend.upload_offset(P, DIGEST) == 0


def test_bytes_that_do_not_match_the_digest_are_not_kept(backend, draft, manifest_of):
    wrong = bytes(len(DATA))

    with pytest.raises(IntegrityError):
        backend.upload_blob(P, DIGEST, len(wrong), [wrong[:100], wrong[100:]])

    assert backend.upload_offset(P, DIGEST) == 0
    assert _still_missing(backend, manifest_of)
    with pytest.raises(ConflictError, match=r"big\.bin"):
        backend.commit(draft.version.id)
    with pytest.raises(NotFoundError):
        b"".join(backend.read_blob(P, DIGEST))


def test_too_few_bytes_are_not_kept(backend, draft, manifest_of):
    with pytest.raises(IntegrityError):
        backend.upload_blob(P, DIGEST, len(DATA) - 1, [DATA[:-1]])

    assert backend.upload_offset(P, DIGEST) == 0
    assert _still_missing(backend, manifest_of)


def test_interrupted_upload_resumes_from_its_offset(backend, draft, manifest_of, read_blob_bytes):
    with pytest.raises((ConnectionDroppedError, BackendUnavailableError)):
        backend.upload_blob(P, DIGEST, len(DATA), _interrupted_after(DATA[:1000], DATA[1000:1700]))

    offset = backend.upload_offset(P, DIGEST)
    assert 0 < offset <= 1700
    assert _still_missing(backend, manifest_of)
    with pytest.raises(ConflictError):
        backend.commit(draft.version.id)

    with pytest.raises(OffsetMismatchError) as caught:
        backend.upload_blob(P, DIGEST, len(DATA), [DATA], offset=0)
    assert caught.value.expected == offset
    assert backend.upload_offset(P, DIGEST) == offset

    backend.upload_blob(P, DIGEST, len(DATA), [DATA[offset:]], offset=offset)

    assert not _still_missing(backend, manifest_of)
    assert backend.commit(draft.version.id).index == 0
    assert read_blob_bytes(backend, P, DIGEST) == DATA


def test_resumed_upload_with_wrong_bytes_starts_over(backend, draft, manifest_of):
    with pytest.raises((ConnectionDroppedError, BackendUnavailableError)):
        backend.upload_blob(P, DIGEST, len(DATA), _interrupted_after(DATA[:1000]))
    offset = backend.upload_offset(P, DIGEST)
    assert offset > 0

    with pytest.raises(IntegrityError):
        backend.upload_blob(P, DIGEST, len(DATA), [bytes(len(DATA) - offset)], offset=offset)

    assert backend.upload_offset(P, DIGEST) == 0
    assert _still_missing(backend, manifest_of)
    backend.upload_blob(P, DIGEST, len(DATA), [DATA])
    assert backend.commit(draft.version.id).index == 0


def test_partial_uploads_are_per_project(backend, draft, manifest_of):
    with pytest.raises((ConnectionDroppedError, BackendUnavailableError)):
        backend.upload_blob(P, DIGEST, len(DATA), _interrupted_after(DATA[:1000]))

    assert backend.upload_offset("other-project", DIGEST) == 0


def test_blobs_of_another_project_cannot_be_read(backend, log):
    log("team-a/private", "data", {"secret": b"top secret"})

    with pytest.raises(NotFoundError):
        b"".join(backend.read_blob("team-b/public", md5_b64(b"top secret")))


def test_gc_removes_only_unreferenced_blobs(backend, store, log, manifest_of, read_blob_bytes):
    old = b"only in v0" * 10
    shared = b"in v0 and v1"
    newer = b"only in v1"
    pending = b"only in a pending draft"
    discarded = b"only in a discarded draft!"
    v0 = log(P, "data", {"old": old, "shared": shared})
    log(P, "data", {"shared": shared, "new": newer})
    in_flight = backend.create_draft(P, "wip", "dataset", manifest_of({"p": pending}))
    backend.upload_blob(P, md5_b64(pending), len(pending), [pending])
    gone = backend.create_draft(P, "dropped", "dataset", manifest_of({"d": discarded}))
    backend.upload_blob(P, md5_b64(discarded), len(discarded), [discarded])
    backend.discard_draft(gone.version.id)
    backend.delete_version(v0.id)

    report = store.gc()

    assert isinstance(report, GcReport)
    assert report.blobs_removed == 2
    assert report.bytes_freed == len(old) + len(discarded)
    for data in (shared, newer, pending):
        assert read_blob_bytes(backend, P, md5_b64(data)) == data
    for data in (old, discarded):
        with pytest.raises(NotFoundError):
            read_blob_bytes(backend, P, md5_b64(data))
    again = backend.create_draft(P, "data", "dataset", manifest_of({"old": old}))
    assert list(again.missing) == [md5_b64(old)]
    assert backend.commit(in_flight.version.id).index == 0
    assert store.gc() == GcReport(0, 0)


def test_gc_keeps_bytes_another_project_still_uses(backend, store, log, read_blob_bytes):
    data = b"the same bytes in two projects"
    a0 = log("proj-a", "data", {"f": data})
    log("proj-b", "data", {"f": data})

    backend.delete_version(a0.id)
    store.gc()

    assert read_blob_bytes(backend, "proj-b", md5_b64(data)) == data


def test_small_blobs_download_in_one_batch(backend, log):
    files = {f"f{i}": f"small file number {i}".encode() for i in range(30)}
    log(P, "many-down", files)
    wanted = [md5_b64(files["f3"]), md5_b64(files["f17"]), md5_b64(files["f0"])]

    got = list(backend.read_blobs(P, wanted))

    assert [digest for digest, _data in got] == wanted
    assert [data for _digest, data in got] == [files["f3"], files["f17"], files["f0"]]
    with pytest.raises(NotFoundError):
        list(backend.read_blobs("team-b/other", wanted))
