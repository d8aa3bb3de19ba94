"""A version with 100,000 entries commits and pages through in path order."""

from __future__ import annotations

import time

import pytest

from desktop_app.core.digests import md5_b64
from desktop_app.core.manifest import Manifest, ManifestEntry
from desktop_app.core.records import VersionState

ENTRIES = 100_000
CONTENTS = [f"shard {i}".encode() for i in range(7)]
DIGESTS = [md5_b64(data) for data in CONTENTS]
BUDGET_SECONDS = 30


def _path(i: int) -> str:
    # Mixed folders and unpadded numbers, so path order is not insertion order.
    return f"part-{i % 13}/{i}.bin"


@pytest.mark.slow
def test_version_with_100k_entries(backend):
    manifest = Manifest(
        ManifestEntry(_path(i), DIGESTS[i % 7], len(CONTENTS[i % 7])) for i in range(ENTRIES)
    )
    started = time.perf_counter()

    draft = backend.create_draft("big", "many-files", "dataset", manifest)
    assert sorted(draft.missing) == sorted(DIGESTS)
    for data in CONTENTS:
        backend.upload_blob("big", md5_b64(data), len(data), [data])
    version = backend.commit(draft.version.id)

    assert version.state is VersionState.COMMITTED
    assert version.file_count == ENTRIES
    assert version.digest == manifest.digest()
    assert version.size == sum(len(CONTENTS[i % 7]) for i in range(ENTRIES))

    paths: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = backend.list_entries(version.id, cursor=cursor)
        assert len(page.items) <= 1000
        for entry in page.items:
            i = int(entry.path.rsplit("/", 1)[1].removesuffix(".bin"))
            assert entry.digest == DIGESTS[i % 7]
        paths.extend(entry.path for entry in page.items)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break

    elapsed = time.perf_counter() - started
    assert paths == sorted(_path(i) for i in range(ENTRIES))
    assert pages in (100, 101)
    assert elapsed < BUDGET_SECONDS, f"took {elapsed:.1f} s"
