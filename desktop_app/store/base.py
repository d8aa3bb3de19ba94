"""The store's shared state and queries: connections, lookups, aliases, the feed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError as SqlIntegrityError

from desktop_app.core.errors import ConflictError, NotFoundError
from desktop_app.core.manifest import ManifestEntry
from desktop_app.core.names import (
    validate_project,
)
from desktop_app.core.records import (
    VersionInfo,
    VersionState,
)
from desktop_app.store import schema as s
from desktop_app.store.blobs import BlobStore, Extent
from desktop_app.store.db import create_schema, insert_new, make_engine
from desktop_app.store.rows import (
    run_select,
    version_select,
    versions_from_rows,
)

LATEST = "latest"
_BATCH = 500


def now() -> float:
    return time.time()


def batches(items: Sequence[Any], size: int = _BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class StoreBase:
    """The store's state and the queries its parts share."""

    def __init__(self, db_url: str, blob_root: Path, *, pack_small_blobs: bool = False) -> None:
        """``pack_small_blobs`` keeps each batch of small blobs in one pack file (the server
        does: one file per batch is far cheaper to write and sync than one per blob). The
        embedded store keeps a file per blob, which downloads copy straight from."""
        self.engine = make_engine(db_url)
        create_schema(self.engine)
        self.blobs = BlobStore(blob_root)
        self.pack_small_blobs = pack_small_blobs

    def close(self) -> None:
        self.engine.dispose()

    def _project_id(self, conn: Connection, project: str) -> int:
        project = validate_project(project)
        found = conn.execute(select(s.projects.c.id).where(s.projects.c.name == project)).first()
        if found is None:
            raise NotFoundError(
                f"project {project!r} does not exist; `artifact-desk ls` lists the projects"
            )
        return int(found.id)

    def _ensure_project(self, conn: Connection, project: str) -> int:
        project = validate_project(project)
        found = conn.execute(select(s.projects.c.id).where(s.projects.c.name == project)).first()
        if found is not None:
            return int(found.id)
        try:
            # The savepoint must be left by the exception, so that a clash rolls back only
            # to it and the transaction goes on (PostgreSQL aborts it otherwise).
            with conn.begin_nested():
                result = conn.execute(insert(s.projects).values(name=project, created_at=now()))
        except SqlIntegrityError:
            return self._project_id(conn, project)  # created concurrently
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def _no_artifact(self, conn: Connection, project: str, name: str) -> NotFoundError:
        """The error for a missing artifact, pointing at versions holding a file of that name."""
        message = f"project {project!r} has no artifact named {name!r}"
        holders = self._versions_with_file(conn, project, name, limit=3)
        if holders:
            where = ", ".join(f"{v.name!r} ({v.name}:{v.version})" for v in holders)
            message += (
                f"; {name!r} is the name of a file inside {where}. "
                f"Use the artifact's name, e.g. {holders[0].name}:latest"
            )
        else:
            names = conn.execute(
                select(func.distinct(s.collections.c.name))
                .join(s.projects, s.collections.c.project_id == s.projects.c.id)
                .join(s.versions, s.versions.c.collection_id == s.collections.c.id)
                .where(
                    s.projects.c.name == project,
                    s.versions.c.state == VersionState.COMMITTED.value,
                )
                .order_by(s.collections.c.name)
                .limit(10)
            ).scalars()
            known = ", ".join(names)
            message += f"; its artifacts are: {known}" if known else "; it has no artifacts yet"
        return NotFoundError(message)

    def _versions_with_file(
        self, conn: Connection, project: str, path: str, *, limit: int
    ) -> list[VersionInfo]:
        latest = s.aliases.alias("latest_alias")
        query = (
            version_select()
            .join(s.entries, s.entries.c.version_id == s.versions.c.id)
            .join(latest, and_(latest.c.version_id == s.versions.c.id, latest.c.alias == LATEST))
            .where(s.projects.c.name == project, s.entries.c.path == path)
            .order_by(s.collections.c.name)
            .limit(limit)
        )
        return versions_from_rows(conn, conn.execute(query).all())

    def _get_version(self, conn: Connection, version_id: str) -> VersionInfo:
        row = conn.execute(version_select().where(s.versions.c.id == version_id)).first()
        if row is None:
            raise NotFoundError(f"version id {version_id!r} does not exist")
        return versions_from_rows(conn, [row])[0]

    def _get_version_row(self, conn: Connection, version_id: str) -> Any:
        row = conn.execute(version_select().where(s.versions.c.id == version_id)).first()
        if row is None:
            raise NotFoundError(f"version id {version_id!r} does not exist")
        return row

    def _committed_row(self, conn: Connection, version_id: str, action: str) -> Any:
        row = self._get_version_row(conn, version_id)
        if row.state != VersionState.COMMITTED.value:
            what = "a draft" if row.state == VersionState.PENDING.value else "deleted"
            raise ConflictError(
                f"cannot {action} {row.collection_name}: the version is {what}; "
                "only committed versions can change"
            )
        return row

    def _get_run_row(self, conn: Connection, run_id: str) -> Any:
        row = conn.execute(run_select().where(s.runs.c.id == run_id)).first()
        if row is None:
            raise NotFoundError(f"run {run_id!r} does not exist")
        return row

    def _extents(
        self, conn: Connection, project_id: int | None, hex_digests: Iterable[str]
    ) -> dict[str, Extent]:
        """Where the bytes lie of the digests this project may read and the store still has
        (``project_id=None``: of any project).

        A blob's own file must still have the recorded size (a damaged one counts as gone,
        so that it is uploaded again); a pack file must still be there.
        """
        packed = s.packed_blobs.c
        query = select(s.blobs.c.digest, s.blobs.c.size, packed.pack, packed.pack_offset).outerjoin(
            s.packed_blobs, s.packed_blobs.c.digest == s.blobs.c.digest
        )
        if project_id is not None:
            query = query.join(
                s.project_blobs,
                and_(
                    s.project_blobs.c.digest == s.blobs.c.digest,
                    s.project_blobs.c.project_id == project_id,
                ),
            )
        rows: list[Any] = []
        for batch in batches(sorted(set(hex_digests))):
            rows.extend(conn.execute(query.where(s.blobs.c.digest.in_(batch))))
        return self._extents_of_rows(rows)

    def _stored_blobs(self, conn: Connection, hex_digests: Iterable[str]) -> set[str]:
        """Which of these blobs the store has (for any project), checked as
        :meth:`_extents` checks them, without building an extent for each: a batch of
        small blobs only asks which it need not write again."""
        packed = s.packed_blobs.c
        query = select(s.blobs.c.digest, s.blobs.c.size, packed.pack).outerjoin(
            s.packed_blobs, packed.digest == s.blobs.c.digest
        )
        found: set[str] = set()
        packs: dict[str, bool] = {}  # pack id -> whether its file is there
        for batch in batches(sorted(set(hex_digests))):
            for digest, size, pack in conn.execute(query.where(s.blobs.c.digest.in_(batch))):
                if pack is not None:
                    if pack not in packs:
                        packs[pack] = self.blobs.pack_path(pack).is_file()
                    if packs[pack]:
                        found.add(digest)
                        continue
                extent = self.blobs.loose_extent(digest)
                if extent is not None and extent.size == size:
                    found.add(digest)
        return found

    def _unreadable_entries(
        self, conn: Connection, project_id: int, version_id: str
    ) -> list[tuple[str, str]]:
        """``(path, hex digest)`` of the version's files whose bytes this project may not
        read yet or that are gone.

        The usual case, packed blobs the project holds, is settled inside the database: a
        first query counts the entries by pack and by whether the project holds them, so
        10,000 small files cost one pass and a look at each pack file, not 10,000 rows
        read into Python. Only blobs not held, blobs of their own (their file is checked)
        and blobs in a pack file that went missing come back as rows.
        """
        entries, packed, held = s.entries.c, s.packed_blobs.c, s.project_blobs.c
        of_version = and_(entries.version_id == version_id, entries.blob.is_not(None))
        held_join = and_(held.digest == entries.blob, held.project_id == project_id)
        unheld = held.digest.is_(None)
        groups = conn.execute(
            select(packed.pack, unheld.label("unheld"))
            .select_from(s.entries)
            .outerjoin(s.project_blobs, held_join)
            .outerjoin(s.packed_blobs, packed.digest == entries.blob)
            .where(of_version)
            .group_by(packed.pack, unheld)
        ).all()
        packs = {pack for pack, not_held in groups if pack is not None and not not_held}
        gone = [pack for pack in sorted(packs) if not self.blobs.pack_path(pack).is_file()]
        if all(pack is not None and not not_held for pack, not_held in groups) and not gone:
            return []
        rows = conn.execute(
            select(
                entries.path,
                entries.blob.label("digest"),
                held.digest.label("held"),
                s.blobs.c.size,
                packed.pack,
                packed.pack_offset,
            )
            .outerjoin(s.project_blobs, held_join)
            .outerjoin(s.blobs, s.blobs.c.digest == entries.blob)
            .outerjoin(s.packed_blobs, packed.digest == entries.blob)
            .where(of_version, or_(unheld, packed.pack.is_(None), packed.pack.in_(gone)))
        ).all()
        readable = self._extents_of_rows([r[1:] for r in rows if r[2] is not None])
        return [(path, digest) for path, digest, *_rest in rows if digest not in readable]

    def _extents_of_rows(self, rows: Sequence[Any]) -> dict[str, Extent]:
        """Extents of rows ``(digest, [held,] size, pack, pack_offset)`` whose bytes are
        there (read by position: tens of thousands of rows, attribute access is slow)."""
        found: dict[str, Extent] = {}
        packs: dict[str, Path | None] = {}  # pack id -> its file, None when it is gone
        for row in rows:
            digest, size, pack, offset = row[0], row[-3], row[-2], row[-1]
            if pack is not None:
                if pack not in packs:
                    path = self.blobs.pack_path(pack)
                    packs[pack] = path if path.is_file() else None
                if (pack_file := packs[pack]) is not None:
                    found[digest] = Extent(pack_file, offset, size, packed=True)
                    continue
            # A blob of its own, or one sent again alone after its pack was lost.
            extent = self.blobs.loose_extent(digest)
            if extent is not None and extent.size == size:
                found[digest] = extent
        return found

    def _grant_blobs(self, conn: Connection, project_id: int, hex_digests: Iterable[str]) -> None:
        rows = [{"project_id": project_id, "digest": d} for d in sorted(set(hex_digests))]
        insert_new(conn, s.project_blobs, rows)

    def _latest_row(self, conn: Connection, collection_id: int) -> Any:
        return conn.execute(
            version_select()
            .join(s.aliases, s.aliases.c.version_id == s.versions.c.id)
            .where(s.aliases.c.collection_id == collection_id, s.aliases.c.alias == LATEST)
        ).first()

    def _point_alias(
        self, conn: Connection, collection_id: int, alias: str, version_id: str
    ) -> None:
        conn.execute(
            delete(s.aliases).where(
                s.aliases.c.collection_id == collection_id, s.aliases.c.alias == alias
            )
        )
        conn.execute(
            insert(s.aliases).values(
                collection_id=collection_id, alias=alias, version_id=version_id
            )
        )

    def _event(self, conn: Connection, kind: str, project: str, payload: Mapping[str, Any]) -> None:
        conn.execute(
            update(s.feed_head).where(s.feed_head.c.id == 1).values(seq=s.feed_head.c.seq + 1)
        )
        seq = conn.execute(select(s.feed_head.c.seq).where(s.feed_head.c.id == 1)).scalar_one()
        conn.execute(
            insert(s.events).values(
                seq=seq,
                kind=kind,
                project=project,
                payload=json.dumps(dict(payload), sort_keys=True),
                created_at=now(),
            )
        )


def version_index(selector: str) -> int | None:
    if len(selector) > 1 and selector[0] == "v" and selector[1:].isdigit():
        return int(selector[1:])
    return None


def entry_from_row(row: Any) -> ManifestEntry:
    return ManifestEntry(
        path=row.path,
        digest=row.digest,
        size=row.size,
        ref=row.ref,
        extra=json.loads(row.extra) if row.extra else {},
        birth_artifact_id=row.birth_artifact_id,
    )


def version_payload(info: VersionInfo) -> dict[str, Any]:
    return {
        "version_id": info.id,
        "name": info.name,
        "type": info.type,
        "index": info.index,
        "digest": info.digest,
        "aliases": list(info.aliases),
        "state": info.state.value,
    }
