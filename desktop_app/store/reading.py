"""Reading from the store: projects, artifacts, versions, entries, blobs, the feed."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, func, select

from desktop_app.core.digests import b64_to_hex
from desktop_app.core.errors import NotFoundError, ValidationError
from desktop_app.core.manifest import Manifest, ManifestEntry
from desktop_app.core.names import (
    validate_artifact_name,
    validate_project,
    validate_type,
)
from desktop_app.core.records import (
    CollectionInfo,
    Event,
    FeedPage,
    Page,
    ProjectInfo,
    VersionInfo,
    VersionState,
)
from desktop_app.core.refs import ArtifactRef
from desktop_app.store import schema as s
from desktop_app.store.base import (
    StoreBase,
    batches,
    entry_from_row,
    version_index,
)
from desktop_app.store.blobs import Extent
from desktop_app.store.db import read_tx
from desktop_app.store.rows import (
    collection_from_row,
    version_select,
    versions_from_rows,
)


class ReadingMixin(StoreBase):
    """Lists, lookups and reference resolution."""

    def list_projects(self) -> list[ProjectInfo]:
        committed = (
            select(
                s.collections.c.project_id,
                func.count(func.distinct(s.collections.c.id)).label("n"),
            )
            .join(s.versions, s.versions.c.collection_id == s.collections.c.id)
            .where(s.versions.c.state == VersionState.COMMITTED.value)
            .group_by(s.collections.c.project_id)
            .subquery()
        )
        query = (
            select(s.projects, func.coalesce(committed.c.n, 0).label("n"))
            .outerjoin(committed, committed.c.project_id == s.projects.c.id)
            .order_by(s.projects.c.name)
        )
        with read_tx(self.engine) as conn:
            return [ProjectInfo(row.name, row.n, row.created_at) for row in conn.execute(query)]

    def list_artifact_types(self, project: str) -> list[str]:
        return sorted({c.type for c in self.list_collections(project)})

    def list_collections(self, project: str, type_: str | None = None) -> list[CollectionInfo]:
        query = self._collection_query().where(s.projects.c.name == validate_project(project))
        if type_ is not None:
            query = query.where(s.collections.c.type == validate_type(type_))
        with read_tx(self.engine) as conn:
            self._project_id(conn, project)
            rows = conn.execute(query.order_by(s.collections.c.name)).all()
        return [collection_from_row(row) for row in rows if row.n > 0]

    def get_collection(self, project: str, name: str) -> CollectionInfo:
        query = self._collection_query().where(
            s.projects.c.name == validate_project(project),
            s.collections.c.name == validate_artifact_name(name),
        )
        with read_tx(self.engine) as conn:
            row = conn.execute(query).first()
            if row is None or row.n == 0:
                raise self._no_artifact(conn, project, name)
        return collection_from_row(row)

    def _collection_query(self) -> Any:
        live = (
            select(func.count())
            .where(
                s.versions.c.collection_id == s.collections.c.id,
                s.versions.c.state == VersionState.COMMITTED.value,
            )
            .scalar_subquery()
        )
        return select(s.collections, s.projects.c.name.label("project_name"), live.label("n")).join(
            s.projects, s.collections.c.project_id == s.projects.c.id
        )

    def list_versions(
        self, project: str, name: str, *, include_deleted: bool = False
    ) -> list[VersionInfo]:
        states = [VersionState.COMMITTED.value]
        if include_deleted:
            states.append(VersionState.DELETED.value)
        query = (
            version_select()
            .where(
                s.projects.c.name == validate_project(project),
                s.collections.c.name == validate_artifact_name(name),
                s.versions.c.state.in_(states),
            )
            .order_by(s.versions.c.idx)
        )
        with read_tx(self.engine) as conn:
            rows = conn.execute(query).all()
            if not rows and not self._has_history(conn, project, name):
                raise self._no_artifact(conn, project, name)
            return versions_from_rows(conn, rows)

    def _has_history(self, conn: Connection, project: str, name: str) -> bool:
        """Whether the artifact ever had a committed version (deleted ones count)."""
        found = conn.execute(
            select(s.versions.c.id)
            .join(s.collections, s.versions.c.collection_id == s.collections.c.id)
            .join(s.projects, s.collections.c.project_id == s.projects.c.id)
            .where(
                s.projects.c.name == project,
                s.collections.c.name == name,
                s.versions.c.idx.is_not(None),
            )
            .limit(1)
        ).first()
        return found is not None

    def resolve(self, ref: ArtifactRef) -> VersionInfo:
        if ref.project is None:
            raise ValidationError(
                f"reference {str(ref)!r} names no project; write it as "
                f"project/{ref.name}:{ref.selector}"
            )
        with read_tx(self.engine) as conn:
            return self._resolve(conn, ref.project, ref.name, ref.selector)

    def _resolve(self, conn: Connection, project: str, name: str, selector: str) -> VersionInfo:
        base = version_select().where(
            s.projects.c.name == project,
            s.collections.c.name == name,
            s.versions.c.state == VersionState.COMMITTED.value,
        )
        index = version_index(selector)
        if index is not None:
            query = base.where(s.versions.c.idx == index)
        else:
            query = base.join(
                s.aliases,
                and_(
                    s.aliases.c.version_id == s.versions.c.id,
                    s.aliases.c.collection_id == s.collections.c.id,
                ),
            ).where(s.aliases.c.alias == selector)
        row = conn.execute(query).first()
        if row is None:
            exists = conn.execute(base.with_only_columns(func.count()).order_by(None)).scalar_one()
            if not exists:
                raise self._no_artifact(conn, project, name)
            raise NotFoundError(
                f"artifact {project}/{name} has no version {selector!r}; "
                f"`artifact-desk versions {project}/{name}` lists its versions and aliases"
            )
        return versions_from_rows(conn, [row])[0]

    def get_version(self, version_id: str) -> VersionInfo:
        with read_tx(self.engine) as conn:
            return self._get_version(conn, version_id)

    def get_manifest(self, version_id: str) -> Manifest:
        manifest = Manifest()
        cursor: str | None = None
        while True:
            page = self.list_entries(version_id, cursor=cursor, limit=10_000)
            for entry in page.items:
                manifest._entries[entry.path] = entry  # already validated when stored
            if page.next_cursor is None:
                return manifest
            cursor = page.next_cursor

    def list_entries(
        self, version_id: str, *, cursor: str | None = None, limit: int = 1000
    ) -> Page[ManifestEntry]:
        if not 1 <= limit <= 10_000:
            raise ValidationError(f"page size {limit} is out of range; use 1 to 10000")
        query = select(s.entries).where(s.entries.c.version_id == version_id)
        if cursor is not None:
            query = query.where(s.entries.c.path > cursor)
        query = query.order_by(s.entries.c.path).limit(limit + 1)
        with read_tx(self.engine) as conn:
            self._get_version_row(conn, version_id)
            rows = conn.execute(query).all()
        items = tuple(entry_from_row(row) for row in rows[:limit])
        next_cursor = items[-1].path if len(rows) > limit else None
        return Page(items, next_cursor)

    def find_versions_with_file(
        self, project: str, path: str, *, limit: int = 5
    ) -> list[VersionInfo]:
        with read_tx(self.engine) as conn:
            return self._versions_with_file(conn, validate_project(project), path, limit=limit)

    def read_blob(
        self, project: str, digest: str, *, start: int = 0, chunk_size: int = 1 << 20
    ) -> Iterator[bytes]:
        def open_blob() -> Iterator[bytes]:
            extent = self._extent(project, digest)
            return self.blobs.read_extent(extent, start=start, chunk_size=chunk_size)

        try:
            return open_blob()
        except FileNotFoundError:  # its pack was rewritten between the lookup and the open
            pass
        try:
            return open_blob()
        except FileNotFoundError:  # removed meanwhile
            raise NotFoundError(f"project {project!r} holds no file with digest {digest}") from None

    def read_blobs(self, project: str, digests: Sequence[str]) -> Iterator[tuple[str, bytes]]:
        try:
            found = self._read_all(project, digests)
        except FileNotFoundError:  # a pack was rewritten between the lookup and the read
            found = self._read_all(project, digests)
        return iter(list(zip(digests, found, strict=True)))

    def _read_all(self, project: str, digests: Sequence[str]) -> list[bytes]:
        extents = self.blob_extents(project, digests)
        missing = [d for d in digests if d not in extents]
        if missing:
            raise NotFoundError(f"project {project!r} holds no file with digest {missing[0]}")
        return self.blobs.read_extents([extents[d] for d in digests])

    def blob_extents(self, project: str, digests: Sequence[str]) -> dict[str, Extent]:
        """Where the bytes of each digest this project may read lie (others are left out)."""
        hexed = {digest: b64_to_hex(digest) for digest in digests}
        with read_tx(self.engine) as conn:
            project_id = self._project_id(conn, project)
            found = self._extents(conn, project_id, hexed.values())
        return {d: found[h] for d, h in hexed.items() if h in found}

    def missing_blobs(self, project: str, digests: Sequence[str]) -> list[str]:
        try:
            found = self.blob_extents(project, digests)
        except NotFoundError:
            validate_project(project)  # a bad name is an error, a new project holds nothing
            return list(digests)
        return [d for d in digests if d not in found]

    def blob_checksums(self, project: str, digests: Sequence[str]) -> dict[str, str]:
        """The fast checksums of those blobs this project may read that have one."""
        if not digests:
            validate_project(project)  # as over HTTP, where an empty question is not sent
            return {}
        hexed = {digest: b64_to_hex(digest) for digest in digests}
        with read_tx(self.engine) as conn:
            project_id = self._project_id(conn, project)
            held = self._extents(conn, project_id, hexed.values())
            found: dict[str, str] = {}
            for batch in batches(sorted(held)):
                query = select(s.blob_checksums).where(s.blob_checksums.c.digest.in_(batch))
                found.update((row.digest, row.xxh3) for row in conn.execute(query))
        return {d: found[h] for d, h in hexed.items() if h in found}

    def local_blob_paths(self, project: str, digests: Sequence[str]) -> dict[str, Path]:
        """Blobs kept as files of their own (packed ones are read with ``read_blobs``)."""
        extents = self.blob_extents(project, digests)
        return {d: e.path for d, e in extents.items() if not e.packed}

    def _extent(self, project: str, digest: str) -> Extent:
        hex_digest = b64_to_hex(digest)
        with read_tx(self.engine) as conn:
            project_id = self._project_id(conn, project)
            extent = self._extents(conn, project_id, [hex_digest]).get(hex_digest)
        if extent is None:
            raise NotFoundError(f"project {project!r} holds no file with digest {digest}")
        return extent

    def events(self, since: int = 0, *, limit: int = 1000) -> list[Event]:
        if not 1 <= limit <= 10_000:
            raise ValidationError(f"page size {limit} is out of range; use 1 to 10000")
        query = select(s.events).where(s.events.c.seq > since).order_by(s.events.c.seq).limit(limit)
        with read_tx(self.engine) as conn:
            return [
                Event(row.seq, row.kind, row.project, json.loads(row.payload), row.created_at)
                for row in conn.execute(query)
            ]

    def feed(self, since: int = 0, *, limit: int = 1000) -> FeedPage:
        events = self.events(since, limit=limit)
        return FeedPage(tuple(events), events[-1].seq if events else since)

    def head(self) -> int:
        """The newest sequence number of the change feed."""
        with read_tx(self.engine) as conn:
            return int(conn.execute(select(s.feed_head.c.seq)).scalar_one())
