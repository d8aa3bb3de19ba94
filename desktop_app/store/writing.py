"""Writing versions: drafts, blob uploads, commit, discard and garbage collection."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError as SqlIntegrityError

from desktop_app.core.digests import b64_to_hex
from desktop_app.core.drafts import check_draft_fields
from desktop_app.core.errors import ConflictError, NotFoundError, ValidationError
from desktop_app.core.manifest import Manifest
from desktop_app.core.paths import validate_entry_path
from desktop_app.core.records import (
    DraftResult,
    VersionInfo,
    VersionState,
)
from desktop_app.store import schema as s
from desktop_app.store.base import (
    LATEST,
    StoreBase,
    batches,
    now,
    version_payload,
)
from desktop_app.store.blobs import Bytes, verify_blobs
from desktop_app.store.db import insert_many, insert_new, read_tx, upsert, write_tx
from desktop_app.store.rows import (
    versions_from_rows,
)


class WritingMixin(StoreBase):
    """The life of a version from draft to commit, and cleaning up after it."""

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
            created = now()
            try:
                with conn.begin_nested():
                    result = conn.execute(
                        insert(s.collections).values(
                            project_id=project_id,
                            name=name,
                            type=type_,
                            version_count=0,
                            created_at=created,
                            updated_at=created,
                        )
                    )
                key = result.inserted_primary_key
                assert key is not None
                return int(key[0])
            except SqlIntegrityError:
                continue  # created concurrently: read it again
        raise ConflictError(f"artifact {name!r} is being created concurrently; try again")

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
        commit: bool = False,
    ) -> DraftResult:
        """A draft of the next version of ``project/name`` holding ``manifest``.

        ``commit=True``: when the project already holds every blob, the version is
        committed in the same transaction (a client that sent the bytes first saves a
        round trip and a second check of 10,000 entries); otherwise it stays a draft.
        """
        fields = check_draft_fields(
            project,
            name,
            type_,
            description=description,
            metadata=metadata,
            aliases=aliases,
            tags=tags,
        )
        project, name, type_ = fields.project, fields.name, fields.type
        digest = manifest.digest()
        same = self._same_as_latest(project, name, type_, digest, run_id)
        if same is not None:  # nothing to write: no write lock, no fsync
            return DraftResult(same, (), unchanged=True)
        # Not durable: a draft lost in a power cut is only an upload to start again, and the
        # commit that makes it a version is durable (which flushes the draft with it).
        with write_tx(self.engine, durable=commit) as conn:
            if run_id is not None:
                self._get_run_row(conn, run_id)
            project_id = self._ensure_project(conn, project)
            collection_id = self._collection_for_write(conn, project_id, name, type_)
            latest = self._latest_row(conn, collection_id)
            if latest is not None and latest.digest == digest:
                # Same paths and digests as a version validated when it was logged.
                existing = versions_from_rows(conn, [latest])[0]
                return DraftResult(existing, (), unchanged=True)
            # Rolls the transaction back if anything is off; gives each stored digest's hex.
            blob_of = _check_manifest(manifest)
            stored = sorted(blob_of)
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
                    description=fields.description,
                    metadata=fields.metadata_json,
                    pending_aliases=json.dumps(
                        {"aliases": list(fields.aliases), "tags": list(fields.tags)}
                    ),
                    logged_by=run_id,
                    created_at=now(),
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
            for batch in batches(rows, 5000):
                insert_many(conn, insert(s.entries), batch)
            missing_hex = {h for _path, h in self._unreadable_entries(conn, project_id, version_id)}
            if commit and not missing_hex:
                row = self._get_version_row(conn, version_id)
                committed, unchanged = self._commit_pending(conn, row, check_blobs=False)
                return DraftResult(committed, (), unchanged=unchanged)
            draft = self._get_version(conn, version_id)
        missing = tuple(d for d in stored if blob_of[d] in missing_hex)
        return DraftResult(draft, missing)

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
        checksum = self.blobs.write(str(project_id), hex_digest, size, chunks, offset=offset)
        if checksum is not None:
            self._record_blobs(project_id, {hex_digest: size}, checksums={hex_digest: checksum})
        # else partial: the client resumes from upload_offset()

    def upload_blobs(self, project: str, blobs: Sequence[tuple[str, bytes]]) -> None:
        self.store_blobs(project, [(b64_to_hex(digest), data) for digest, data in blobs])

    def store_blobs(self, project: str, hexed: Sequence[tuple[str, Bytes]]) -> None:
        """:meth:`upload_blobs` with hex digests, the bytes in any buffer (the server's
        views into a batch's body)."""
        project_id: int | None = None
        with read_tx(self.engine) as conn:
            stored = self._stored_blobs(conn, (h for h, _data in hexed))
            with contextlib.suppress(NotFoundError):
                project_id = self._project_id(conn, project)
        if project_id is None:  # a batch sent before the project's first draft creates it
            with write_tx(self.engine, durable=False) as conn:
                project_id = self._ensure_project(conn, project)
        # Blobs the store holds already need only the project's grant, not their rows again.
        sizes = {h: len(data) for h, data in hexed if h not in stored}
        held = {h for h, _data in hexed if h in stored}
        if not self.pack_small_blobs:
            self.blobs.write_many(hexed, recorded=stored)
            self._record_blobs(project_id, sizes, also_grant=held)
            return
        verify_blobs(hexed)  # also those already stored: wrong bytes are an error either way
        fresh = [(h, data) for h, data in hexed if h not in stored]
        packed: dict[str, tuple[str, int]] = {}
        if fresh:
            pack, offsets = self.blobs.write_pack(fresh, verified=True)
            packed = {h: (pack, offset) for h, offset in offsets.items()}
        self._record_blobs(project_id, sizes, packed, also_grant=held)

    def _record_blobs(
        self,
        project_id: int,
        sizes: Mapping[str, int],
        packed: Mapping[str, tuple[str, int]] | None = None,
        *,
        checksums: Mapping[str, str] | None = None,
        also_grant: Collection[str] = (),
    ) -> None:
        """Note stored blobs (where packed ones lie, the checksums of those uploaded on
        their own) and let the project read them, and those in ``also_grant`` (blobs the
        store already holds).

        Not durable on its own: a grant lost in a power cut only means the blob is sent
        again, and the commit that relies on it is durable, which flushes it as well.
        """
        created = now()
        with write_tx(self.engine, durable=False) as conn:
            rows = [{"digest": d, "size": n, "created_at": created} for d, n in sizes.items()]
            insert_new(conn, s.blobs, sorted(rows, key=lambda row: row["digest"]))
            if packed:
                # The newest copy wins: it replaces one whose pack went missing.
                locations = [
                    {"digest": d, "pack": pack, "pack_offset": offset}
                    for d, (pack, offset) in sorted(packed.items())
                ]
                upsert(conn, s.packed_blobs, locations, key="digest")
            if checksums:
                upsert(
                    conn,
                    s.blob_checksums,
                    [{"digest": d, "xxh3": c} for d, c in sorted(checksums.items())],
                    key="digest",
                )
            self._grant_blobs(conn, project_id, [*sizes, *also_grant])

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
            return self._commit_pending(conn, row, check_blobs=True)[0]

    def _commit_pending(
        self, conn: Connection, row: Any, *, check_blobs: bool
    ) -> tuple[VersionInfo, bool]:
        """Commit the draft ``row`` inside ``conn``'s transaction: ``(version, same)``,
        where ``same`` says the latest version already had this content and is returned.

        ``check_blobs=False`` when the caller has just checked in this transaction that the
        project holds every blob.
        """
        version_id = row.id
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
            return versions_from_rows(conn, [latest])[0], True
        unreadable = self._unreadable_entries(conn, project_id, version_id) if check_blobs else []
        if unreadable:
            missing = sorted(path for path, _h in unreadable)
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise ConflictError(
                f"cannot commit {row.project_name}/{row.collection_name}: the bytes of "
                f"{len(missing)} file(s) were not uploaded ({shown}); upload them first"
            )
        conn.execute(
            update(s.collections)
            .where(s.collections.c.id == collection_id)
            .values(version_count=s.collections.c.version_count + 1, updated_at=now())
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
                committed_at=now(),
                pending_aliases="{}",
            )
        )
        for alias in [LATEST, *pending.get("aliases", [])]:
            self._point_alias(conn, collection_id, alias, version_id)
        for tag in pending.get("tags", []):
            conn.execute(insert(s.tags).values(version_id=version_id, tag=tag))
        # No grants to add: every blob passed the check, so the project holds it.
        committed = self._get_version(conn, version_id)
        self._event(
            conn,
            "version.committed",
            committed.project,
            version_payload(committed),
        )
        return committed, False

    def _same_as_latest(
        self, project: str, name: str, type_: str, digest: str, run_id: str | None
    ) -> VersionInfo | None:
        """The latest version when it has ``digest`` (and the type matches), read-only."""
        with read_tx(self.engine) as conn:
            if run_id is not None:
                self._get_run_row(conn, run_id)
            row = conn.execute(
                select(s.collections.c.id, s.collections.c.type)
                .join(s.projects, s.collections.c.project_id == s.projects.c.id)
                .where(s.projects.c.name == project, s.collections.c.name == name)
            ).first()
            if row is None or row.type != type_:
                return None  # the write path creates it, or reports the type clash
            latest = self._latest_row(conn, row.id)
            if latest is None or latest.digest != digest:
                return None
            return versions_from_rows(conn, [latest])[0]

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


def _check_manifest(manifest: Manifest) -> dict[str, str]:
    """Validate a manifest from elsewhere again: every path, every size, the path set.
    Returns the hex form of each digest whose bytes the store holds (not references)."""
    blob_of: dict[str, str] = {}
    for entry in manifest:
        validate_entry_path(entry.path)
        if entry.ref is not None:
            continue
        if entry.size is None or entry.size < 0:
            raise ValidationError(
                f"manifest entry {entry.path!r} has size {entry.size!r}; a stored file needs "
                "a size >= 0"
            )
        if entry.digest not in blob_of:
            blob_of[entry.digest] = b64_to_hex(entry.digest)
    manifest.validate()
    return blob_of
