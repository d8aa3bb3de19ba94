"""A big embedded store written in bulk: the rows that committing every version would leave.

Committing 100,000 versions one at a time through the public API takes far too long for a
benchmark, so :func:`populate` inserts the rows with SQLAlchemy Core, following
``desktop_app/store/schema.py`` and ``WritingMixin.commit``: projects, artifacts with their
version counters, committed versions (one reference entry each, so no blob bytes are
needed), the ``latest`` alias, one ``version.committed`` event per version with the payload
of ``store.base.version_payload`` as it was at commit time, and the feed head.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update

from desktop_app.backends.local import LocalBackend
from desktop_app.core.digests import version_digest
from desktop_app.core.metadata import metadata_to_json
from desktop_app.core.records import VersionState
from desktop_app.store import schema as s
from desktop_app.store.base import LATEST
from desktop_app.store.db import write_tx

PROJECTS = ("vision", "nlp", "audio", "tabular")
TYPES = ("dataset", "model", "evaluation", "embedding")
ENTRY_PATH = "data.parquet"
_ROWS_PER_INSERT = 5000


@dataclass(frozen=True)
class BulkStore:
    """What :func:`populate` wrote, for the checks and the benchmark's waits."""

    root: Path
    artifacts: int
    versions_per_artifact: int
    feed_head: int

    @property
    def versions(self) -> int:
        return self.artifacts * self.versions_per_artifact


@dataclass(frozen=True)
class Artifact:
    collection_id: int
    project: str
    name: str
    type: str


def artifact_layout(artifacts: int) -> list[Artifact]:
    """Artifacts spread over the projects and types, named like a team would name them."""
    return [
        Artifact(
            collection_id=n + 1,
            project=PROJECTS[n % len(PROJECTS)],
            name=f"{TYPES[(n // len(PROJECTS)) % len(TYPES)]}-{n:04d}",
            type=TYPES[(n // len(PROJECTS)) % len(TYPES)],
        )
        for n in range(artifacts)
    ]


def commit_order(
    artifacts: int, versions_per_artifact: int, burst: int
) -> Iterator[tuple[int, int]]:
    """(artifact number, version index) in commit order.

    Work on an artifact comes in bursts of ``burst`` versions (a sweep, a nightly job)
    while the other artifacts move on too, so the feed interleaves them.
    """
    for start in range(0, versions_per_artifact, burst):
        for n in range(artifacts):
            for idx in range(start, min(start + burst, versions_per_artifact)):
                yield n, idx


def populate(
    root: Path,
    *,
    artifacts: int = 1000,
    versions_per_artifact: int = 100,
    burst: int = 50,
    seed: int = 4,
) -> BulkStore:
    """Write the store under ``root`` (the embedded store's folder) and return its shape."""
    rng = random.Random(seed)
    layout = artifact_layout(artifacts)
    start = 1_700_000_000.0
    backend = LocalBackend(root)  # creates the schema, the schema info and the feed head
    try:
        with write_tx(backend.engine, durable=False) as conn:
            conn.execute(
                insert(s.projects),
                [
                    {"id": i + 1, "name": name, "created_at": start}
                    for i, name in enumerate(PROJECTS)
                ],
            )
            project_id = {name: i + 1 for i, name in enumerate(PROJECTS)}
            versions: list[dict[str, Any]] = []
            entries: list[dict[str, Any]] = []
            events: list[dict[str, Any]] = []
            latest: dict[int, str] = {}
            updated: dict[int, float] = {}
            for seq, (n, idx) in enumerate(
                commit_order(artifacts, versions_per_artifact, burst), start=1
            ):
                art = layout[n]
                version_id = f"{rng.getrandbits(128):032x}"
                etag = f"{rng.getrandbits(128):032x}"
                size = rng.randrange(1 << 20, 1 << 30)
                committed_at = start + seq
                digest = version_digest([(ENTRY_PATH, etag)])
                versions.append(
                    {
                        "id": version_id,
                        "collection_id": art.collection_id,
                        "idx": idx,
                        "digest": digest,
                        "size": size,
                        "file_count": 1,
                        "state": VersionState.COMMITTED.value,
                        "description": None,
                        "metadata": metadata_to_json(
                            {"epoch": idx, "loss": round(1 / (idx + 1), 4)}
                        ),
                        "pending_aliases": "{}",
                        "logged_by": None,
                        "same_as": None,
                        "created_at": committed_at - 0.5,
                        "committed_at": committed_at,
                    }
                )
                entries.append(
                    {
                        "version_id": version_id,
                        "path": ENTRY_PATH,
                        "digest": etag,
                        "blob": None,
                        "size": size,
                        "ref": f"s3://bench-bucket/{art.project}/{art.name}/{idx}/{ENTRY_PATH}",
                        "extra": None,
                        "birth_artifact_id": None,
                    }
                )
                # store.base.version_payload of the version just committed: it holds
                # ``latest`` (and the previous latest silently lost it).
                payload = {
                    "version_id": version_id,
                    "name": art.name,
                    "type": art.type,
                    "index": idx,
                    "digest": digest,
                    "aliases": [LATEST],
                    "state": VersionState.COMMITTED.value,
                }
                events.append(
                    {
                        "seq": seq,
                        "kind": "version.committed",
                        "project": art.project,
                        "payload": json.dumps(payload, sort_keys=True),
                        "created_at": committed_at,
                    }
                )
                latest[art.collection_id] = version_id
                updated[art.collection_id] = committed_at
            conn.execute(
                insert(s.collections),
                [
                    {
                        "id": art.collection_id,
                        "project_id": project_id[art.project],
                        "name": art.name,
                        "type": art.type,
                        "description": None,
                        "version_count": versions_per_artifact,
                        "created_at": start,
                        "updated_at": updated[art.collection_id],
                    }
                    for art in layout
                ],
            )
            for table, rows in ((s.versions, versions), (s.entries, entries), (s.events, events)):
                for first in range(0, len(rows), _ROWS_PER_INSERT):
                    conn.execute(insert(table), rows[first : first + _ROWS_PER_INSERT])
            conn.execute(
                insert(s.aliases),
                [
                    {"collection_id": cid, "alias": LATEST, "version_id": vid}
                    for cid, vid in sorted(latest.items())
                ],
            )
            conn.execute(update(s.feed_head).where(s.feed_head.c.id == 1).values(seq=len(events)))
    finally:
        backend.close()
    return BulkStore(root, artifacts, versions_per_artifact, len(events))
