"""The storage engine: transactional rules over a metadata database and a blob store."""

from __future__ import annotations

import json
import secrets
import string
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError as SqlIntegrityError

from desktop_app.core.digests import b64_to_hex
from desktop_app.core.errors import ConflictError, NotFoundError, ValidationError
from desktop_app.core.manifest import Manifest, ManifestEntry
from desktop_app.core.metadata import metadata_to_json, normalize_metadata
from desktop_app.core.names import (
    validate_artifact_name,
    validate_description,
    validate_project,
    validate_tag,
    validate_type,
    validate_user_alias,
)
from desktop_app.core.paths import validate_entry_path
from desktop_app.core.records import (
    CollectionInfo,
    DraftResult,
    Event,
    GcReport,
    Page,
    ProjectInfo,
    RunInfo,
    VersionInfo,
    VersionState,
)
from desktop_app.core.refs import ArtifactRef
from desktop_app.store import schema as s
from desktop_app.store.blobs import BlobStore
from desktop_app.store.db import create_schema, make_engine, read_tx, write_tx
from desktop_app.store.rows import (
    run_from_row,
    run_select,
    version_select,
    versions_from_rows,
)

LATEST = "latest"
_BATCH = 500
_RUN_ID_ALPHABET = string.ascii_lowercase + string.digits
STALE_UPLOAD_SECONDS = 7 * 24 * 3600


def _now() -> float:
    return time.time()


def _batches(items: Sequence[Any], size: int = _BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Store:
    """Projects, runs, artifacts, versions, aliases, lineage, blobs and the change feed."""

    def __init__(self, db_url: str, blob_root: Path) -> None:
        self.engine = make_engine(db_url)
        create_schema(self.engine)
        self.blobs = BlobStore(blob_root)

    def close(self) -> None:
        self.engine.dispose()

    # == projects ========================================================================
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
        with conn.begin_nested():
            try:
                result = conn.execute(insert(s.projects).values(name=project, created_at=_now()))
                key = result.inserted_primary_key
                assert key is not None
                return int(key[0])
            except SqlIntegrityError:
                pass
        return self._project_id(conn, project)

    # == collections =====================================================================
    def list_artifact_types(self, project: str) -> list[str]:
        return sorted({c.type for c in self.list_collections(project)})

    def list_collections(self, project: str, type_: str | None = None) -> list[CollectionInfo]:
        query = self._collection_query().where(s.projects.c.name == validate_project(project))
        if type_ is not None:
            query = query.where(s.collections.c.type == validate_type(type_))
        with read_tx(self.engine) as conn:
            self._project_id(conn, project)
            rows = conn.execute(query.order_by(s.collections.c.name)).all()
        return [self._collection_from_row(row) for row in rows if row.n > 0]

    def get_collection(self, project: str, name: str) -> CollectionInfo:
        query = self._collection_query().where(
            s.projects.c.name == validate_project(project),
            s.collections.c.name == validate_artifact_name(name),
        )
        with read_tx(self.engine) as conn:
            row = conn.execute(query).first()
            if row is None or row.n == 0:
                raise self._no_artifact(conn, project, name)
        return self._collection_from_row(row)

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

    @staticmethod
    def _collection_from_row(row: Any) -> CollectionInfo:
        return CollectionInfo(
            project=row.project_name,
            name=row.name,
            type=row.type,
            description=row.description,
            version_count=row.n,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

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

    def _collection_for_write(
        self, conn: Connection, project_id: int, name: str, type_: str
    ) -> int:
        for _attempt in range(2):
            row = conn.execute(
                select(s.collections.c.id, s.collections.c.type).where(
                    s.collections.c.project_id == project_id, s.collections.c.name == name
                )
            ).first()
            if row is not None:
                if row.type != type_:
                    raise ConflictError(
                        f"artifact {name!r} already has type {row.type!r}; one name has one "
                        f"type per project. Log it with type {row.type!r} or choose another name"
                    )
                return int(row.id)
            now = _now()
            try:
                with conn.begin_nested():
                    result = conn.execute(
                        insert(s.collections).values(
                            project_id=project_id,
                            name=name,
                            type=type_,
                            version_count=0,
                            created_at=now,
                            updated_at=now,
                        )
                    )
                key = result.inserted_primary_key
                assert key is not None
                return int(key[0])
            except SqlIntegrityError:
                continue  # created concurrently: read it again
        raise ConflictError(f"artifact {name!r} is being created concurrently; try again")

    # == versions: reading ===============================================================
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
        index = _version_index(selector)
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

    def _get_version(self, conn: Connection, version_id: str) -> VersionInfo:
        row = conn.execute(version_select().where(s.versions.c.id == version_id)).first()
        if row is None:
            raise NotFoundError(f"version id {version_id!r} does not exist")
        return versions_from_rows(conn, [row])[0]

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
        items = tuple(_entry_from_row(row) for row in rows[:limit])
        next_cursor = items[-1].path if len(rows) > limit else None
        return Page(items, next_cursor)

    def find_versions_with_file(
        self, project: str, path: str, *, limit: int = 5
    ) -> list[VersionInfo]:
        with read_tx(self.engine) as conn:
            return self._versions_with_file(conn, validate_project(project), path, limit=limit)

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

    def _get_version_row(self, conn: Connection, version_id: str) -> Any:
        row = conn.execute(version_select().where(s.versions.c.id == version_id)).first()
        if row is None:
            raise NotFoundError(f"version id {version_id!r} does not exist")
        return row

    # == drafts, blobs and commit ========================================================
    def create_draft(
        self,
        project: str,
        name: str,
        type_: str,
        manifest: Manifest,
        *,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        aliases: Sequence[str] = (),
        tags: Sequence[str] = (),
        run_id: str | None = None,
    ) -> DraftResult:
        project = validate_project(project)
        name = validate_artifact_name(name)
        type_ = validate_type(type_)
        description = validate_description(description)
        meta_json = metadata_to_json(normalize_metadata(metadata))
        # ``latest`` is applied to every new version anyway, so asking for it is harmless.
        alias_list = sorted({validate_user_alias(a) for a in aliases if a != LATEST})
        tag_list = sorted({validate_tag(t) for t in tags})
        digest = manifest.digest()
        with write_tx(self.engine) as conn:
            if run_id is not None:
                self._get_run_row(conn, run_id)
            project_id = self._ensure_project(conn, project)
            collection_id = self._collection_for_write(conn, project_id, name, type_)
            latest = self._latest_row(conn, collection_id)
            if latest is not None and latest.digest == digest:
                # Same paths and digests as a version validated when it was logged.
                existing = versions_from_rows(conn, [latest])[0]
                return DraftResult(existing, (), unchanged=True)
            _check_manifest(manifest)  # rolls the transaction back if anything is off
            stored = sorted(manifest.stored_digests())
            blob_of = {digest: b64_to_hex(digest) for digest in stored}
            version_id = uuid.uuid4().hex
            conn.execute(
                insert(s.versions).values(
                    id=version_id,
                    collection_id=collection_id,
                    idx=None,
                    digest=digest,
                    size=manifest.size,
                    file_count=len(manifest),
                    state=VersionState.PENDING.value,
                    description=description,
                    metadata=meta_json,
                    pending_aliases=json.dumps({"aliases": alias_list, "tags": tag_list}),
                    logged_by=run_id,
                    created_at=_now(),
                )
            )
            rows = [
                {
                    "version_id": version_id,
                    "path": e.path,
                    "digest": e.digest,
                    "blob": None if e.ref is not None else blob_of[e.digest],
                    "size": e.size,
                    "ref": e.ref,
                    "extra": json.dumps(dict(e.extra)) if e.extra else None,
                    "birth_artifact_id": e.birth_artifact_id,
                }
                for e in manifest
            ]
            for batch in _batches(rows, 5000):
                conn.execute(insert(s.entries), list(batch))
            missing_hex = self._missing(conn, project_id, list(blob_of.values()))
            draft = self._get_version(conn, version_id)
        missing = tuple(d for d in stored if blob_of[d] in missing_hex)
        return DraftResult(draft, missing)

    def _missing(self, conn: Connection, project_id: int, hex_digests: Sequence[str]) -> set[str]:
        """The digests this project may not read yet, or whose bytes are gone."""
        held: set[str] = set()
        for batch in _batches(hex_digests):
            held.update(
                conn.execute(
                    select(s.project_blobs.c.digest).where(
                        s.project_blobs.c.project_id == project_id,
                        s.project_blobs.c.digest.in_(batch),
                    )
                ).scalars()
            )
        return {d for d in hex_digests if d not in held or not self.blobs.exists(d)}

    def upload_offset(self, project: str, digest: str) -> int:
        hex_digest = b64_to_hex(digest)
        try:
            with read_tx(self.engine) as conn:
                scope = str(self._project_id(conn, project))
        except NotFoundError:
            return 0  # a project that does not exist yet has no uploads under way
        return self.blobs.offset(scope, hex_digest)

    def upload_blob(
        self,
        project: str,
        digest: str,
        size: int,
        chunks: Iterable[bytes],
        *,
        offset: int = 0,
    ) -> None:
        hex_digest = b64_to_hex(digest)
        if size < 0 or offset < 0 or offset > size:
            raise ValidationError(
                f"upload of {digest}: offset {offset} and size {size} do not fit; the offset "
                "must be between 0 and the size"
            )
        with read_tx(self.engine) as conn:
            project_id = self._project_id(conn, project)
        if self.blobs.write(str(project_id), hex_digest, size, chunks, offset=offset):
            self._record_blobs(project_id, [(hex_digest, size)])
        # else partial: the client resumes from upload_offset()

    def upload_blobs(self, project: str, blobs: Sequence[tuple[str, bytes]]) -> None:
        hexed = [(b64_to_hex(digest), data) for digest, data in blobs]
        with read_tx(self.engine) as conn:
            project_id = self._project_id(conn, project)
        self.blobs.write_many(hexed)
        self._record_blobs(project_id, [(h, len(data)) for h, data in hexed])

    def _record_blobs(self, project_id: int, blobs: Sequence[tuple[str, int]]) -> None:
        """Note stored blobs and let the project read them.

        Not durable on its own: a grant lost in a power cut only means the blob is sent
        again, and the commit that relies on it is durable, which flushes it as well.
        """
        sizes = dict(blobs)
        with write_tx(self.engine, durable=False) as conn:
            known: set[str] = set()
            for batch in _batches(sorted(sizes)):
                known.update(
                    conn.execute(
                        select(s.blobs.c.digest).where(s.blobs.c.digest.in_(batch))
                    ).scalars()
                )
            new = [
                {"digest": d, "size": size, "created_at": _now()}
                for d, size in sizes.items()
                if d not in known
            ]
            if new:
                conn.execute(insert(s.blobs), new)
            self._grant_blobs(conn, project_id, sizes)

    def _grant_blobs(self, conn: Connection, project_id: int, hex_digests: Iterable[str]) -> None:
        wanted = set(hex_digests)
        have: set[str] = set()
        for batch in _batches(sorted(wanted)):
            have.update(
                conn.execute(
                    select(s.project_blobs.c.digest).where(
                        s.project_blobs.c.project_id == project_id,
                        s.project_blobs.c.digest.in_(batch),
                    )
                ).scalars()
            )
        new = [{"project_id": project_id, "digest": d} for d in sorted(wanted - have)]
        if new:
            conn.execute(insert(s.project_blobs), new)

    def commit(self, version_id: str) -> VersionInfo:
        with write_tx(self.engine) as conn:
            row = self._get_version_row(conn, version_id)
            if row.state == VersionState.COMMITTED.value:
                return versions_from_rows(conn, [row])[0]
            if row.same_as is not None:  # a retry after the draft proved identical
                return self._get_version(conn, row.same_as)
            if row.state != VersionState.PENDING.value:
                raise ConflictError(
                    f"version {row.collection_name}:{row.idx} is {row.state.lower()} and "
                    "cannot be committed"
                )
            collection_id = row.collection_id
            # Lock the artifact row: committers of one artifact queue here (SQLite already
            # holds the database write lock), so the checks below and the number are exact.
            project_id = conn.execute(
                select(s.collections.c.project_id)
                .where(s.collections.c.id == collection_id)
                .with_for_update()
            ).scalar_one()
            latest = self._latest_row(conn, collection_id)
            if latest is not None and latest.digest == row.digest:
                conn.execute(delete(s.entries).where(s.entries.c.version_id == version_id))
                conn.execute(
                    update(s.versions)
                    .where(s.versions.c.id == version_id)
                    .values(state=VersionState.DELETED.value, same_as=latest.id)
                )
                return versions_from_rows(conn, [latest])[0]
            missing = self._missing_for_version(conn, project_id, version_id)
            if missing:
                shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
                raise ConflictError(
                    f"cannot commit {row.project_name}/{row.collection_name}: the bytes of "
                    f"{len(missing)} file(s) were not uploaded ({shown}); upload them first"
                )
            conn.execute(
                update(s.collections)
                .where(s.collections.c.id == collection_id)
                .values(version_count=s.collections.c.version_count + 1, updated_at=_now())
            )
            index = (
                conn.execute(
                    select(s.collections.c.version_count).where(s.collections.c.id == collection_id)
                ).scalar_one()
                - 1
            )
            pending = json.loads(row.pending_aliases)
            conn.execute(
                update(s.versions)
                .where(s.versions.c.id == version_id)
                .values(
                    idx=index,
                    state=VersionState.COMMITTED.value,
                    committed_at=_now(),
                    pending_aliases="{}",
                )
            )
            for alias in [LATEST, *pending.get("aliases", [])]:
                self._point_alias(conn, collection_id, alias, version_id)
            for tag in pending.get("tags", []):
                conn.execute(insert(s.tags).values(version_id=version_id, tag=tag))
            blob_digests = conn.execute(
                select(func.distinct(s.entries.c.blob)).where(
                    s.entries.c.version_id == version_id, s.entries.c.blob.is_not(None)
                )
            ).scalars()
            self._grant_blobs(conn, project_id, blob_digests)
            committed = self._get_version(conn, version_id)
            self._event(
                conn,
                "version.committed",
                committed.project,
                _version_payload(committed),
            )
            return committed

    def _missing_for_version(self, conn: Connection, project_id: int, version_id: str) -> list[str]:
        rows = conn.execute(
            select(s.entries.c.path, s.entries.c.blob).where(
                s.entries.c.version_id == version_id, s.entries.c.blob.is_not(None)
            )
        ).all()
        missing = self._missing(conn, project_id, sorted({r.blob for r in rows}))
        return sorted(r.path for r in rows if r.blob in missing)

    def discard_draft(self, version_id: str) -> None:
        with write_tx(self.engine) as conn:
            row = self._get_version_row(conn, version_id)
            if row.state != VersionState.PENDING.value:
                raise ConflictError(
                    f"{row.collection_name}:v{row.idx} is committed; only drafts can be "
                    "discarded (delete the version instead)"
                )
            self._delete_draft_rows(conn, version_id)

    def _delete_draft_rows(self, conn: Connection, version_id: str) -> None:
        """Remove a draft; an artifact left with no versions at all goes too (and its type)."""
        collection_id = conn.execute(
            select(s.versions.c.collection_id).where(s.versions.c.id == version_id)
        ).scalar_one()
        conn.execute(delete(s.entries).where(s.entries.c.version_id == version_id))
        conn.execute(delete(s.versions).where(s.versions.c.id == version_id))
        remaining = conn.execute(
            select(func.count()).where(s.versions.c.collection_id == collection_id)
        ).scalar_one()
        if remaining == 0:
            conn.execute(delete(s.collections).where(s.collections.c.id == collection_id))

    def _latest_row(self, conn: Connection, collection_id: int) -> Any:
        return conn.execute(
            version_select()
            .join(s.aliases, s.aliases.c.version_id == s.versions.c.id)
            .where(s.aliases.c.collection_id == collection_id, s.aliases.c.alias == LATEST)
        ).first()

    # == blobs ===========================================================================
    def read_blob(
        self, project: str, digest: str, *, start: int = 0, chunk_size: int = 1 << 20
    ) -> Iterator[bytes]:
        hex_digest = self._readable_blob(project, digest)
        return self.blobs.read(hex_digest, start=start, chunk_size=chunk_size)

    def local_blob_paths(self, project: str, digests: Sequence[str]) -> dict[str, Path]:
        hexed = {digest: b64_to_hex(digest) for digest in digests}
        with read_tx(self.engine) as conn:
            project_id = self._project_id(conn, project)
            missing = self._missing(conn, project_id, sorted(set(hexed.values())))
        return {d: self.blobs.path(h) for d, h in hexed.items() if h not in missing}

    def _readable_blob(self, project: str, digest: str) -> str:
        hex_digest = b64_to_hex(digest)
        with read_tx(self.engine) as conn:
            project_id = self._project_id(conn, project)
            if hex_digest in self._missing(conn, project_id, [hex_digest]):
                raise NotFoundError(f"project {project!r} holds no file with digest {digest}")
        return hex_digest

    # == aliases, tags, description, metadata, delete ====================================
    def add_alias(self, version_id: str, alias: str) -> VersionInfo:
        alias = validate_user_alias(alias)
        with write_tx(self.engine) as conn:
            row = self._committed_row(conn, version_id, f"add alias {alias!r} to")
            self._point_alias(conn, row.collection_id, alias, version_id)
            info = self._get_version(conn, version_id)
            self._event(conn, "alias.set", info.project, {**_version_payload(info), "alias": alias})
            return info

    def remove_alias(self, version_id: str, alias: str) -> VersionInfo:
        alias = validate_user_alias(alias)
        with write_tx(self.engine) as conn:
            row = self._committed_row(conn, version_id, f"remove alias {alias!r} from")
            gone = conn.execute(
                delete(s.aliases).where(
                    s.aliases.c.collection_id == row.collection_id,
                    s.aliases.c.alias == alias,
                    s.aliases.c.version_id == version_id,
                )
            )
            if gone.rowcount == 0:
                raise NotFoundError(f"{row.collection_name}:v{row.idx} has no alias {alias!r}")
            info = self._get_version(conn, version_id)
            self._event(
                conn, "alias.removed", info.project, {**_version_payload(info), "alias": alias}
            )
            return info

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

    def _committed_row(self, conn: Connection, version_id: str, action: str) -> Any:
        row = self._get_version_row(conn, version_id)
        if row.state != VersionState.COMMITTED.value:
            what = "a draft" if row.state == VersionState.PENDING.value else "deleted"
            raise ConflictError(
                f"cannot {action} {row.collection_name}: the version is {what}; "
                "only committed versions can change"
            )
        return row

    def update_version(
        self,
        version_id: str,
        *,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        tags: Sequence[str] | None = None,
    ) -> VersionInfo:
        values: dict[str, Any] = {}
        if description is not None:
            values["description"] = validate_description(description)
        if metadata is not None:
            values["metadata"] = metadata_to_json(normalize_metadata(metadata))
        tag_list = None if tags is None else sorted({validate_tag(t) for t in tags})
        with write_tx(self.engine) as conn:
            self._committed_row(conn, version_id, "update")
            if values:
                conn.execute(update(s.versions).where(s.versions.c.id == version_id).values(values))
            if tag_list is not None:
                conn.execute(delete(s.tags).where(s.tags.c.version_id == version_id))
                if tag_list:
                    conn.execute(
                        insert(s.tags), [{"version_id": version_id, "tag": t} for t in tag_list]
                    )
            info = self._get_version(conn, version_id)
            self._event(conn, "version.updated", info.project, _version_payload(info))
            return info

    def delete_version(self, version_id: str) -> VersionInfo:
        with write_tx(self.engine) as conn:
            row = self._committed_row(conn, version_id, "delete")
            conn.execute(
                update(s.versions)
                .where(s.versions.c.id == version_id)
                .values(state=VersionState.DELETED.value)
            )
            conn.execute(delete(s.aliases).where(s.aliases.c.version_id == version_id))
            newest = conn.execute(
                select(s.versions.c.id)
                .where(
                    s.versions.c.collection_id == row.collection_id,
                    s.versions.c.state == VersionState.COMMITTED.value,
                )
                .order_by(s.versions.c.idx.desc())
                .limit(1)
            ).first()
            if newest is not None:
                self._point_alias(conn, row.collection_id, LATEST, newest.id)
            info = self._get_version(conn, version_id)
            self._event(conn, "version.deleted", info.project, _version_payload(info))
            return info

    # == runs and lineage ================================================================
    def create_run(
        self,
        project: str,
        *,
        job_type: str | None = None,
        name: str | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> RunInfo:
        if job_type is not None:
            job_type = validate_type(job_type)
        config_json = metadata_to_json(normalize_metadata(config))
        run_id = "".join(secrets.choice(_RUN_ID_ALPHABET) for _ in range(8))
        with write_tx(self.engine) as conn:
            project_id = self._ensure_project(conn, project)
            conn.execute(
                insert(s.runs).values(
                    id=run_id,
                    project_id=project_id,
                    name=name or run_id,
                    job_type=job_type,
                    state="running",
                    config=config_json,
                    created_at=_now(),
                )
            )
            run = run_from_row(self._get_run_row(conn, run_id))
            self._event(conn, "run.created", run.project, {"run_id": run_id})
            return run

    def finish_run(self, run_id: str, *, state: str = "finished") -> RunInfo:
        if state not in ("finished", "failed", "crashed"):
            raise ValidationError(f"run state {state!r} is not one of finished, failed, crashed")
        with write_tx(self.engine) as conn:
            self._get_run_row(conn, run_id)
            conn.execute(
                update(s.runs).where(s.runs.c.id == run_id).values(state=state, finished_at=_now())
            )
            run = run_from_row(self._get_run_row(conn, run_id))
            self._event(conn, "run.finished", run.project, {"run_id": run_id, "state": state})
            return run

    def get_run(self, run_id: str) -> RunInfo:
        with read_tx(self.engine) as conn:
            return run_from_row(self._get_run_row(conn, run_id))

    def _get_run_row(self, conn: Connection, run_id: str) -> Any:
        row = conn.execute(run_select().where(s.runs.c.id == run_id)).first()
        if row is None:
            raise NotFoundError(f"run {run_id!r} does not exist")
        return row

    def use_version(self, run_id: str, version_id: str) -> None:
        with write_tx(self.engine) as conn:
            run = run_from_row(self._get_run_row(conn, run_id))
            self._committed_row(conn, version_id, "use")
            seen = conn.execute(
                select(s.usages.c.run_id).where(
                    s.usages.c.run_id == run_id, s.usages.c.version_id == version_id
                )
            ).first()
            if seen is None:
                conn.execute(
                    insert(s.usages).values(run_id=run_id, version_id=version_id, created_at=_now())
                )
                self._event(
                    conn,
                    "run.used_version",
                    run.project,
                    {"run_id": run_id, "version_id": version_id},
                )

    def logged_by(self, version_id: str) -> RunInfo | None:
        with read_tx(self.engine) as conn:
            row = self._get_version_row(conn, version_id)
            if row.logged_by is None:
                return None
            return run_from_row(self._get_run_row(conn, row.logged_by))

    def used_by(self, version_id: str) -> list[RunInfo]:
        query = (
            run_select()
            .join(s.usages, s.usages.c.run_id == s.runs.c.id)
            .where(s.usages.c.version_id == version_id)
            .order_by(s.usages.c.created_at)
        )
        with read_tx(self.engine) as conn:
            self._get_version_row(conn, version_id)
            return [run_from_row(row) for row in conn.execute(query)]

    def run_outputs(self, run_id: str) -> list[VersionInfo]:
        query = version_select().where(
            s.versions.c.logged_by == run_id,
            s.versions.c.state == VersionState.COMMITTED.value,
        )
        with read_tx(self.engine) as conn:
            self._get_run_row(conn, run_id)
            return versions_from_rows(
                conn, conn.execute(query.order_by(s.versions.c.committed_at)).all()
            )

    def run_inputs(self, run_id: str) -> list[VersionInfo]:
        query = (
            version_select()
            .join(s.usages, s.usages.c.version_id == s.versions.c.id)
            .where(s.usages.c.run_id == run_id)
            .order_by(s.usages.c.created_at)
        )
        with read_tx(self.engine) as conn:
            self._get_run_row(conn, run_id)
            return versions_from_rows(conn, conn.execute(query).all())

    # == change feed =====================================================================
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
                created_at=_now(),
            )
        )

    def events(self, since: int = 0, *, limit: int = 1000) -> list[Event]:
        if not 1 <= limit <= 10_000:
            raise ValidationError(f"page size {limit} is out of range; use 1 to 10000")
        query = select(s.events).where(s.events.c.seq > since).order_by(s.events.c.seq).limit(limit)
        with read_tx(self.engine) as conn:
            return [
                Event(row.seq, row.kind, row.project, json.loads(row.payload), row.created_at)
                for row in conn.execute(query)
            ]

    def head(self) -> int:
        """The newest sequence number of the change feed."""
        with read_tx(self.engine) as conn:
            return int(conn.execute(select(s.feed_head.c.seq)).scalar_one())

    # == garbage collection ==============================================================
    def gc(self, *, stale_upload_seconds: float = STALE_UPLOAD_SECONDS) -> GcReport:
        """Remove blobs that no committed or pending version holds, and stale partials."""
        live = (
            select(s.entries.c.blob)
            .join(s.versions, s.versions.c.id == s.entries.c.version_id)
            .where(
                s.entries.c.blob.is_not(None),
                s.versions.c.state != VersionState.DELETED.value,
            )
        )
        with write_tx(self.engine) as conn:
            dead = list(
                conn.execute(
                    select(s.blobs.c.digest).where(s.blobs.c.digest.not_in(live))
                ).scalars()
            )
            for batch in _batches(dead):
                conn.execute(delete(s.project_blobs).where(s.project_blobs.c.digest.in_(batch)))
                conn.execute(delete(s.blobs).where(s.blobs.c.digest.in_(batch)))
        freed = sum(self.blobs.delete(d) for d in dead)
        cutoff = _now() - stale_upload_seconds
        for path, mtime in self.blobs.partial_uploads():
            if mtime < cutoff:
                freed += self.blobs.remove_partial(path)
        return GcReport(blobs_removed=len(dead), bytes_freed=freed)


def _check_manifest(manifest: Manifest) -> None:
    """Validate a manifest from elsewhere again: every path, every size, the path set."""
    for entry in manifest:
        validate_entry_path(entry.path)
        if entry.ref is None and (entry.size is None or entry.size < 0):
            raise ValidationError(
                f"manifest entry {entry.path!r} has size {entry.size!r}; a stored file needs "
                "a size >= 0"
            )
        if entry.ref is None:
            b64_to_hex(entry.digest)
    manifest.validate()


def _version_index(selector: str) -> int | None:
    if len(selector) > 1 and selector[0] == "v" and selector[1:].isdigit():
        return int(selector[1:])
    return None


def _entry_from_row(row: Any) -> ManifestEntry:
    return ManifestEntry(
        path=row.path,
        digest=row.digest,
        size=row.size,
        ref=row.ref,
        extra=json.loads(row.extra) if row.extra else {},
        birth_artifact_id=row.birth_artifact_id,
    )


def _version_payload(info: VersionInfo) -> dict[str, Any]:
    return {
        "version_id": info.id,
        "name": info.name,
        "type": info.type,
        "index": info.index,
        "digest": info.digest,
        "aliases": list(info.aliases),
        "state": info.state.value,
    }
