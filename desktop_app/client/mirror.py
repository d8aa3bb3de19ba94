"""The offline mirror: a local SQLite copy of the backend's metadata that the GUI reads.

The worker thread writes it (:mod:`desktop_app.client.mirror_sync`); the GUI thread opens
its own read-only connection. WAL mode lets the reader go on while the writer writes, so a
read never waits for a sync. Manifests and run details are fetched when first viewed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from desktop_app.client.sqlite_tx import enable_wal, immediate
from desktop_app.core.manifest import ManifestEntry
from desktop_app.core.records import CollectionInfo, RunInfo, VersionInfo, VersionState

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS collections (
    project TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    description TEXT,
    version_count INTEGER NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (project, name)
);
CREATE INDEX IF NOT EXISTS collections_by_type ON collections (type);
CREATE TABLE IF NOT EXISTS versions (
    id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    idx INTEGER,
    digest TEXT NOT NULL,
    size INTEGER NOT NULL,
    file_count INTEGER NOT NULL,
    state TEXT NOT NULL,
    description TEXT,
    metadata TEXT NOT NULL,
    aliases TEXT NOT NULL,
    tags TEXT NOT NULL,
    logged_by TEXT,
    created_at REAL NOT NULL,
    committed_at REAL,
    manifest_loaded INTEGER NOT NULL DEFAULT 0,
    cached_files INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS versions_by_collection ON versions (project, name, idx);
CREATE INDEX IF NOT EXISTS versions_by_run ON versions (logged_by);
CREATE TABLE IF NOT EXISTS entries (
    version_id TEXT NOT NULL,
    path TEXT NOT NULL,
    digest TEXT NOT NULL,
    size INTEGER,
    ref TEXT,
    PRIMARY KEY (version_id, path)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_by_digest ON entries (digest);
CREATE TABLE IF NOT EXISTS usages (
    run_id TEXT NOT NULL,
    version_id TEXT NOT NULL,
    PRIMARY KEY (run_id, version_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS usages_by_version ON usages (version_id);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    job_type TEXT,
    name TEXT,
    state TEXT NOT NULL,
    created_at REAL NOT NULL,
    finished_at REAL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    base TEXT,
    created_at REAL NOT NULL
);
"""

EDIT_KINDS = ("description", "add_alias", "remove_alias")
# Bound parameters per IN (...) query; SQLite allowed only 999 before 3.32.
_IN_BATCH = 500


def mirror_file(data_dir: Path, backend_url: str | None) -> Path:
    """One mirror per backend, so switching servers never mixes their metadata."""
    if not backend_url:
        return data_dir / "mirror" / "embedded.sqlite3"
    key = hashlib.sha256(backend_url.rstrip("/").encode("utf-8")).hexdigest()[:16]
    return data_dir / "mirror" / f"server-{key}.sqlite3"


@dataclass(frozen=True)
class CollectionRow:
    """One artifact in the tree: where it lives, its type and how many versions it has."""

    project: str
    name: str
    type: str
    version_count: int
    description: str | None = None


@dataclass(frozen=True)
class VersionRow:
    """One version as the GUI shows it, with what the mirror knows about its files."""

    info: VersionInfo
    manifest_loaded: bool
    cached_files: int
    pending_edits: int

    @property
    def available_offline(self) -> bool:
        return self.manifest_loaded and self.cached_files >= self.info.file_count


@dataclass(frozen=True)
class PendingEdit:
    """An edit made while the backend could not be reached, waiting to be applied."""

    id: int
    version_id: str
    kind: str
    value: str
    base: str | None


@dataclass(frozen=True)
class LineageGraph:
    """Runs and versions around one version; edges point from inputs to outputs."""

    versions: dict[str, VersionInfo]
    runs: dict[str, RunInfo | None]
    edges: tuple[tuple[str, str], ...]


def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(
            f"{path.as_uri()}?mode=ro", uri=True, check_same_thread=False, isolation_level=None
        )
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        enable_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.row_factory = sqlite3.Row
    return conn


def _version_from_row(row: sqlite3.Row) -> VersionInfo:
    return VersionInfo(
        id=row["id"],
        project=row["project"],
        name=row["name"],
        type=row["type"],
        index=row["idx"],
        digest=row["digest"],
        size=row["size"],
        file_count=row["file_count"],
        state=VersionState(row["state"]),
        description=row["description"],
        metadata=json.loads(row["metadata"]),
        aliases=tuple(json.loads(row["aliases"])),
        tags=tuple(json.loads(row["tags"])),
        logged_by=row["logged_by"],
        created_at=row["created_at"],
        committed_at=row["committed_at"],
    )


def _run_from_row(row: sqlite3.Row) -> RunInfo:
    return RunInfo(
        id=row["id"],
        project=row["project"],
        job_type=row["job_type"],
        name=row["name"],
        state=row["state"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
    )


def _version_values(info: VersionInfo) -> tuple[Any, ...]:
    return (
        info.id,
        info.project,
        info.name,
        info.type,
        info.index,
        info.digest,
        info.size,
        info.file_count,
        info.state.value,
        info.description,
        json.dumps(dict(info.metadata), sort_keys=True),
        json.dumps(list(info.aliases)),
        json.dumps(sorted(info.tags)),
        info.logged_by,
        info.created_at,
        info.committed_at,
    )


_VERSION_COLUMNS = (
    "id, project, name, type, idx, digest, size, file_count, state, description, metadata, "
    "aliases, tags, logged_by, created_at, committed_at"
)


class Mirror:
    """Read and write access to one mirror file.

    Open it writable once (the worker) and read-only anywhere else (the GUI thread).
    """

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        if readonly and not path.exists():
            Mirror(path).close()  # create the schema first, so a reader never sees no file
        self._conn = _connect(path, readonly=readonly)
        if not readonly:
            self._conn.executescript(_SCHEMA)
            self._set_meta_if_missing("schema_version", str(SCHEMA_VERSION))

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Mirror:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- small helpers -------------------------------------------------------------------
    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self.readonly:
            raise RuntimeError("this mirror connection is read-only")
        with immediate(self._conn) as conn:
            yield conn

    def _meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta_if_missing(self, key: str, value: str) -> None:
        self._conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, value))

    @staticmethod
    def _put_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- sync state ----------------------------------------------------------------------
    @property
    def cursor(self) -> int:
        """The sequence number of the last change-feed event applied."""
        return int(self._meta("cursor") or 0)

    @property
    def last_sync(self) -> float | None:
        """When the mirror last caught up with the backend (seconds since the epoch)."""
        value = self._meta("last_sync")
        return None if value is None else float(value)

    def mark_synced(self, when: float | None = None) -> None:
        with self._write() as conn:
            self._put_meta(conn, "last_sync", repr(time.time() if when is None else when))

    # -- browsing (GUI thread) -----------------------------------------------------------
    def projects(self) -> list[str]:
        rows = self._conn.execute("SELECT DISTINCT project FROM collections ORDER BY project")
        return [row[0] for row in rows]

    def types(self) -> list[str]:
        rows = self._conn.execute("SELECT DISTINCT type FROM collections ORDER BY type")
        return [row[0] for row in rows]

    def collections(self) -> list[CollectionRow]:
        """Every artifact that has a version to show, ordered by project, type and name."""
        rows = self._conn.execute(
            "SELECT project, name, type, version_count, description FROM collections "
            "WHERE version_count > 0 ORDER BY project, type, name"
        )
        return [CollectionRow(*row) for row in rows]

    def collections_named(self, keys: Iterable[tuple[str, str]]) -> list[CollectionRow]:
        """Those of the named artifacts (project, name) that have a version to show."""
        found: list[CollectionRow] = []
        for project, name in keys:
            row = self._conn.execute(
                "SELECT project, name, type, version_count, description FROM collections "
                "WHERE project = ? AND name = ? AND version_count > 0",
                (project, name),
            ).fetchone()
            if row is not None:
                found.append(CollectionRow(*row))
        return found

    def versions(self, project: str, name: str) -> list[VersionRow]:
        """The artifact's committed versions, newest first."""
        rows = self._conn.execute(
            f"SELECT {_VERSION_COLUMNS}, manifest_loaded, cached_files, "
            "(SELECT COUNT(*) FROM outbox o WHERE o.version_id = v.id) AS pending "
            "FROM versions v WHERE project = ? AND name = ? AND state = 'COMMITTED' "
            "ORDER BY idx DESC",
            (project, name),
        )
        return [
            VersionRow(
                _version_from_row(row),
                bool(row["manifest_loaded"]),
                row["cached_files"],
                row["pending"],
            )
            for row in rows
        ]

    def version(self, version_id: str) -> VersionInfo | None:
        row = self._conn.execute(
            f"SELECT {_VERSION_COLUMNS} FROM versions WHERE id = ?", (version_id,)
        ).fetchone()
        return None if row is None else _version_from_row(row)

    def version_count(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM versions").fetchone()[0])

    def manifest_loaded(self, version_id: str) -> bool:
        row = self._conn.execute(
            "SELECT manifest_loaded FROM versions WHERE id = ?", (version_id,)
        ).fetchone()
        return bool(row and row[0])

    def entries(self, version_id: str) -> list[ManifestEntry]:
        """The version's files in path order; empty until the manifest has been fetched."""
        rows = self._conn.execute(
            "SELECT path, digest, size, ref FROM entries WHERE version_id = ? ORDER BY path",
            (version_id,),
        )
        return [ManifestEntry(path=r[0], digest=r[1], size=r[2], ref=r[3]) for r in rows]

    def known_digests(self, project: str, digests: Iterable[str]) -> set[str]:
        """Which of ``digests`` a committed version of ``project`` stores, as far as the
        manifests loaded into the mirror tell (references store nothing)."""
        wanted = sorted(set(digests))
        found: set[str] = set()
        for start in range(0, len(wanted), _IN_BATCH):
            batch = wanted[start : start + _IN_BATCH]
            rows = self._conn.execute(
                "SELECT DISTINCT e.digest FROM entries e JOIN versions v ON v.id = e.version_id "
                f"WHERE e.digest IN ({', '.join('?' * len(batch))}) AND e.ref IS NULL "
                "AND v.project = ? AND v.state = 'COMMITTED'",
                (*batch, project),
            )
            found.update(row[0] for row in rows)
        return found

    def run(self, run_id: str) -> RunInfo | None:
        row = self._conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return None if row is None else _run_from_row(row)

    def used_by(self, version_id: str) -> list[str]:
        """Ids of the runs that used the version as an input."""
        rows = self._conn.execute(
            "SELECT run_id FROM usages WHERE version_id = ? ORDER BY run_id", (version_id,)
        )
        return [row[0] for row in rows]

    def lineage(self, version_id: str, depth: int = 2) -> LineageGraph:
        """Runs and versions within ``depth`` run-steps of the version, both directions."""
        versions: dict[str, VersionInfo] = {}
        run_ids: set[str] = set()
        edges: set[tuple[str, str]] = set()
        start = self.version(version_id)
        if start is None:
            return LineageGraph({}, {}, ())
        versions[start.id] = start
        frontier = {start.id}
        for _ in range(depth):
            next_frontier: set[str] = set()
            for vid in frontier:
                info = versions[vid]
                runs_here = set(self.used_by(vid))
                for run_id in runs_here:
                    edges.add((vid, run_id))
                if info.logged_by:
                    runs_here.add(info.logged_by)
                    edges.add((info.logged_by, vid))
                for run_id in runs_here - run_ids:
                    run_ids.add(run_id)
                    for neighbour in self._run_neighbours(run_id, edges):
                        if neighbour.id not in versions:
                            versions[neighbour.id] = neighbour
                            next_frontier.add(neighbour.id)
            frontier = next_frontier
        runs = {run_id: self.run(run_id) for run_id in sorted(run_ids)}
        return LineageGraph(versions, runs, tuple(sorted(edges)))

    def _run_neighbours(self, run_id: str, edges: set[tuple[str, str]]) -> list[VersionInfo]:
        found: list[VersionInfo] = []
        outputs = self._conn.execute(
            f"SELECT {_VERSION_COLUMNS} FROM versions WHERE logged_by = ? AND state = 'COMMITTED'",
            (run_id,),
        )
        for row in outputs:
            info = _version_from_row(row)
            edges.add((run_id, info.id))
            found.append(info)
        inputs = self._conn.execute(
            f"SELECT {', '.join('v.' + c.strip() for c in _VERSION_COLUMNS.split(','))} "
            "FROM usages u JOIN versions v ON v.id = u.version_id "
            "WHERE u.run_id = ? AND v.state = 'COMMITTED'",
            (run_id,),
        )
        for row in inputs:
            info = _version_from_row(row)
            edges.add((info.id, run_id))
            found.append(info)
        return found

    def pending_edits(self, version_id: str | None = None) -> list[PendingEdit]:
        query = "SELECT id, version_id, kind, value, base FROM outbox"
        params: tuple[str, ...] = ()
        if version_id is not None:
            query += " WHERE version_id = ?"
            params = (version_id,)
        rows = self._conn.execute(query + " ORDER BY id", params)
        return [PendingEdit(*row) for row in rows]

    # -- writing (worker thread) ---------------------------------------------------------
    def replace_collection(
        self,
        collection: CollectionInfo | None,
        project: str,
        name: str,
        versions: Sequence[VersionInfo],
    ) -> None:
        """Put the backend's current view of one artifact in place of the mirror's."""
        with self._write() as conn:
            self._replace_collection(conn, collection, project, name, versions)

    def replace_collections(
        self,
        items: Iterable[tuple[CollectionInfo | None, str, str, Sequence[VersionInfo]]],
        *,
        usages: Iterable[tuple[str, str]] = (),
        finished_runs: Mapping[str, str] | None = None,
        cursor: int | None = None,
    ) -> None:
        """Apply one sync step in one transaction: artifacts, lineage edges and the cursor."""
        with self._write() as conn:
            for collection, project, name, versions in items:
                self._replace_collection(conn, collection, project, name, versions)
            conn.executemany(
                "INSERT OR IGNORE INTO usages (run_id, version_id) VALUES (?, ?)", list(usages)
            )
            for run_id, state in (finished_runs or {}).items():
                conn.execute("UPDATE runs SET state = ? WHERE id = ?", (state, run_id))
            if cursor is not None:
                self._put_meta(conn, "cursor", str(cursor))

    def _replace_collection(
        self,
        conn: sqlite3.Connection,
        collection: CollectionInfo | None,
        project: str,
        name: str,
        versions: Sequence[VersionInfo],
    ) -> None:
        if collection is None:
            conn.execute("DELETE FROM collections WHERE project = ? AND name = ?", (project, name))
        else:
            live = sum(1 for v in versions if v.state is VersionState.COMMITTED)
            conn.execute(
                "INSERT OR REPLACE INTO collections "
                "(project, name, type, description, version_count, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    project,
                    name,
                    collection.type,
                    collection.description,
                    live,
                    collection.updated_at,
                ),
            )
        known = {v.id for v in versions}
        stale = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM versions WHERE project = ? AND name = ?", (project, name)
            )
            if row[0] not in known
        ]
        for vid in stale:
            conn.execute("DELETE FROM versions WHERE id = ?", (vid,))
            conn.execute("DELETE FROM entries WHERE version_id = ?", (vid,))
        conn.executemany(
            f"INSERT INTO versions ({_VERSION_COLUMNS}) VALUES ({', '.join('?' * 16)}) "
            "ON CONFLICT (id) DO UPDATE SET idx = excluded.idx, state = excluded.state, "
            "description = excluded.description, metadata = excluded.metadata, "
            "aliases = excluded.aliases, tags = excluded.tags, logged_by = excluded.logged_by, "
            "committed_at = excluded.committed_at",
            [_version_values(v) for v in versions],
        )

    def put_version(self, info: VersionInfo) -> None:
        """Record one version as the backend answered it (after an edit, say)."""
        with self._write() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO versions ({_VERSION_COLUMNS}, manifest_loaded, "
                "cached_files) VALUES "
                f"({', '.join('?' * 16)}, "
                "COALESCE((SELECT manifest_loaded FROM versions WHERE id = ?), 0), "
                "COALESCE((SELECT cached_files FROM versions WHERE id = ?), 0))",
                (*_version_values(info), info.id, info.id),
            )
            if info.aliases:
                # An alias is unique within an artifact: it left whichever version had it.
                for row in conn.execute(
                    f"SELECT {_VERSION_COLUMNS} FROM versions "
                    "WHERE project = ? AND name = ? AND id != ?",
                    (info.project, info.name, info.id),
                ).fetchall():
                    other = _version_from_row(row)
                    kept = [a for a in other.aliases if a not in info.aliases]
                    if len(kept) != len(other.aliases):
                        conn.execute(
                            "UPDATE versions SET aliases = ? WHERE id = ?",
                            (json.dumps(kept), other.id),
                        )

    def put_manifest(
        self, version_id: str, entries: Iterable[ManifestEntry], cached_files: int
    ) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM entries WHERE version_id = ?", (version_id,))
            conn.executemany(
                "INSERT INTO entries (version_id, path, digest, size, ref) VALUES (?, ?, ?, ?, ?)",
                [(version_id, e.path, e.digest, e.size, e.ref) for e in entries],
            )
            conn.execute(
                "UPDATE versions SET manifest_loaded = 1, cached_files = ? WHERE id = ?",
                (cached_files, version_id),
            )

    def set_cached_files(self, version_id: str, cached_files: int) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE versions SET cached_files = ? WHERE id = ?", (cached_files, version_id)
            )

    def put_run(self, run: RunInfo) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO runs "
                "(id, project, job_type, name, state, created_at, finished_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    run.id,
                    run.project,
                    run.job_type,
                    run.name,
                    run.state,
                    run.created_at,
                    run.finished_at,
                ),
            )

    def put_usages(self, version_id: str, run_ids: Iterable[str]) -> None:
        with self._write() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO usages (run_id, version_id) VALUES (?, ?)",
                [(run_id, version_id) for run_id in run_ids],
            )

    # -- the outbox of offline edits -----------------------------------------------------
    def queue_edit(self, version_id: str, kind: str, value: str) -> PendingEdit:
        """Record an edit and show it at once; the worker applies it to the backend later."""
        if kind not in EDIT_KINDS:
            raise ValueError(f"unknown edit kind {kind!r}")
        with self._write() as conn:
            row = conn.execute(
                f"SELECT {_VERSION_COLUMNS} FROM versions WHERE id = ?", (version_id,)
            ).fetchone()
            if row is None:
                raise LookupError(f"version {version_id} is not in the mirror")
            info = _version_from_row(row)
            base = info.description if kind == "description" else None
            cursor = conn.execute(
                "INSERT INTO outbox (version_id, kind, value, base, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (version_id, kind, value, base, time.time()),
            )
            edit_id = cursor.lastrowid
            assert edit_id is not None
        self._show_edit(info, kind, value)
        return PendingEdit(edit_id, version_id, kind, value, base)

    def _show_edit(self, info: VersionInfo, kind: str, value: str) -> None:
        if kind == "description":
            self.put_version(replace(info, description=value))
        elif kind == "add_alias":
            if value not in info.aliases:
                self.put_version(replace(info, aliases=(*info.aliases, value)))
        else:
            with self._write() as conn:
                conn.execute(
                    "UPDATE versions SET aliases = ? WHERE id = ?",
                    (json.dumps([a for a in info.aliases if a != value]), info.id),
                )

    def drop_edit(self, edit_id: int) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM outbox WHERE id = ?", (edit_id,))
