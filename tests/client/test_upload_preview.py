"""What an upload will do, told from a real plan and a mirror synced from a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from backends.contract_helpers import Logger

from desktop_app.backends.local import LocalBackend
from desktop_app.client.mirror import Mirror
from desktop_app.client.mirror_sync import load_version_details, sync_until_caught_up
from desktop_app.client.paths import AppPaths
from desktop_app.client.session import Client
from desktop_app.client.transfer_jobs import UploadPlan, plan_upload
from desktop_app.client.transfers import UploadSpec
from desktop_app.client.upload_preview import UploadSummary, summarize_upload
from desktop_app.core.digests import md5_b64
from desktop_app.core.records import VersionInfo

P = "proj"
A = b"a" * 1000
B = b"b" * 2000
C = b"c" * 3000


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[LocalBackend]:
    made = LocalBackend(tmp_path / "store")
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def client(tmp_path: Path, backend: LocalBackend) -> Iterator[Client]:
    home = tmp_path / "home"
    paths = AppPaths(home / "config", home / "data", home / "cache", home / "logs")
    made = Client(paths=paths, backend=backend)
    try:
        yield made
    finally:
        made.hash_cache.close()
        made.content_cache.close()


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[Mirror]:
    with Mirror(tmp_path / "mirror.sqlite3") as made:
        yield made


def synced(backend: LocalBackend, mirror: Mirror, *versions: VersionInfo) -> None:
    """Sync the mirror and load the manifests of ``versions`` (as viewing them would)."""
    sync_until_caught_up(backend, mirror)
    for version in versions:
        load_version_details(backend, mirror, None, version.id)


def folder(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def plan(client: Client, source: Path, base: str | None = None) -> UploadPlan:
    spec = UploadSpec(sources=(str(source),), project=P, name="data", type="dataset")
    if base is not None:
        spec = UploadSpec(spec.sources, P, "data", "dataset", base_version_id=base)
    return plan_upload(client, spec)


def test_known_digests_answers_from_committed_manifests_of_the_project_in_batches(
    backend: LocalBackend, mirror: Mirror
) -> None:
    log = Logger(backend)
    loaded = log(P, "data", {"a.bin": A}, refs={"remote.csv": "s3://bucket/remote.csv"})
    not_loaded = log(P, "other", {"b.bin": B})
    elsewhere = log("elsewhere", "data", {"c.bin": C})
    synced(backend, mirror, loaded, elsewhere)
    ref_digest = md5_b64(b"s3://bucket/remote.csv")
    # More than one IN (...) batch, with the known digests in different batches.
    asked = [f"unknown-{i:04d}" for i in range(1200)]
    asked[10], asked[900] = md5_b64(A), md5_b64(C)
    asked += [md5_b64(B), ref_digest]

    assert mirror.known_digests(P, asked) == {md5_b64(A)}
    assert mirror.known_digests("elsewhere", asked) == {md5_b64(C)}
    assert mirror.known_digests(P, []) == set()
    assert not_loaded.id  # its manifest was never fetched, so B is not known yet
    load_version_details(backend, mirror, None, not_loaded.id)
    assert mirror.known_digests(P, asked) == {md5_b64(A), md5_b64(B)}


def test_known_digests_uses_the_digest_index(mirror: Mirror) -> None:
    plan_rows = mirror._conn.execute(
        "EXPLAIN QUERY PLAN SELECT DISTINCT e.digest FROM entries e "
        "JOIN versions v ON v.id = e.version_id WHERE e.digest IN (?, ?) AND e.ref IS NULL "
        "AND v.project = ? AND v.state = 'COMMITTED'",
        ("x", "y", P),
    ).fetchall()
    assert any("entries_by_digest" in str(row[-1]) for row in plan_rows), plan_rows


def test_new_and_stored_bytes_of_a_folder_that_shares_a_file(
    backend: LocalBackend, mirror: Mirror, client: Client, tmp_path: Path
) -> None:
    v0 = Logger(backend)(P, "data", {"a.bin": A, "b.bin": B})
    synced(backend, mirror, v0)
    source = folder(tmp_path / "drop", {"a.bin": A, "sub/c.bin": C})

    summary = summarize_upload(plan(client, source), mirror, P, "data")

    assert summary == UploadSummary(
        file_count=2, total_bytes=4000, new_bytes=3000, stored_bytes=1000, identical_to=None
    )
    assert summary.describe() == "2 files, 3.9 KiB: 2.9 KiB new, 1000 B already stored"
    assert not summary.nothing_to_upload


def test_a_file_stored_under_another_artifact_of_the_project_counts_as_stored(
    backend: LocalBackend, mirror: Mirror, client: Client, tmp_path: Path
) -> None:
    other = Logger(backend)(P, "other", {"c.bin": C})
    synced(backend, mirror, other)
    source = folder(tmp_path / "drop", {"c-copy.bin": C})

    summary = summarize_upload(plan(client, source), mirror, P, "data")

    assert (summary.new_bytes, summary.stored_bytes, summary.identical_to) == (0, 3000, None)
    assert summary.describe() == "1 file, 2.9 KiB: all already stored, nothing to upload"
    assert summary.nothing_to_upload


def test_the_same_files_as_a_committed_version_are_identical_to_it(
    backend: LocalBackend, mirror: Mirror, client: Client, tmp_path: Path
) -> None:
    log = Logger(backend)
    log(P, "data", {"a.bin": A})
    log(P, "data", {"a.bin": A, "b.bin": B})
    log(P, "data", {"c.bin": C})
    synced(backend, mirror)  # manifests not even loaded: the version digest is enough
    source = folder(tmp_path / "drop", {"a.bin": A, "b.bin": B})

    summary = summarize_upload(plan(client, source), mirror, P, "data")

    assert summary.identical_to == "v1"
    assert summary.describe() == "identical to v1: nothing to upload"
    # The same files under another name are a new artifact, not identical to anything.
    assert summarize_upload(plan(client, source), mirror, P, "copy").identical_to is None


def test_contents_the_mirror_has_not_seen_count_as_new_unless_the_caller_knows(
    backend: LocalBackend, mirror: Mirror, client: Client, tmp_path: Path
) -> None:
    v0 = Logger(backend)(P, "data", {"a.bin": A})
    synced(backend, mirror)  # v0's manifest is not loaded
    the_plan = plan(client, folder(tmp_path / "drop", {"a.bin": A, "c.bin": C}))

    unknown = summarize_upload(the_plan, mirror, P, "data")
    told = summarize_upload(the_plan, mirror, P, "data", local_digests={md5_b64(A)})

    assert (unknown.new_bytes, unknown.stored_bytes) == (4000, 0)
    assert unknown.describe() == "2 files, 3.9 KiB: all new"
    assert (told.new_bytes, told.stored_bytes) == (3000, 1000)
    assert v0.version == "v0"


def test_a_content_repeated_in_the_version_is_uploaded_once(
    mirror: Mirror, client: Client, tmp_path: Path
) -> None:
    source = folder(tmp_path / "drop", {"one.bin": C, "two.bin": C, "a.bin": A})

    summary = summarize_upload(plan(client, source), mirror, P, "data")

    assert (summary.file_count, summary.total_bytes) == (3, 7000)
    assert (summary.new_bytes, summary.stored_bytes) == (4000, 3000)


def test_files_taken_from_a_base_version_are_already_stored(
    backend: LocalBackend, mirror: Mirror, client: Client, tmp_path: Path
) -> None:
    v0 = Logger(backend)(P, "data", {"a.bin": A, "b.bin": B})
    synced(backend, mirror, v0)
    source = folder(tmp_path / "drop", {"c.bin": C})

    summary = summarize_upload(plan(client, source, base=v0.id), mirror, P, "data")

    assert (summary.file_count, summary.total_bytes) == (3, 6000)
    assert (summary.new_bytes, summary.stored_bytes) == (3000, 3000)


def test_describe_rounds_like_the_rest_of_the_app() -> None:
    summary = UploadSummary(
        file_count=12,
        total_bytes=3_565_158,
        new_bytes=1_258_291,
        stored_bytes=2_306_867,
    )
    assert summary.describe() == "12 files, 3.4 MiB: 1.2 MiB new, 2.2 MiB already stored"
    assert UploadSummary(1234, 10, 10, 0).describe() == "1,234 files, 10 B: all new"
