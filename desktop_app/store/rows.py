"""Reading rows into records: the joins every read shares."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Select, select

from desktop_app.core.metadata import metadata_from_json
from desktop_app.core.records import CollectionInfo, RunInfo, VersionInfo, VersionState
from desktop_app.store import schema as s

VERSION_COLUMNS = (
    s.versions,
    s.collections.c.name.label("collection_name"),
    s.collections.c.type.label("collection_type"),
    s.projects.c.name.label("project_name"),
)


def version_select() -> Select[Any]:
    """SELECT of versions joined with their artifact and project."""
    return select(*VERSION_COLUMNS).select_from(
        s.versions.join(s.collections, s.versions.c.collection_id == s.collections.c.id).join(
            s.projects, s.collections.c.project_id == s.projects.c.id
        )
    )


def versions_from_rows(conn: Connection, rows: Sequence[Any]) -> list[VersionInfo]:
    """Records for ``rows`` of :func:`version_select`, with their aliases and tags."""
    ids = [row.id for row in rows]
    alias_map: dict[str, list[str]] = defaultdict(list)
    tag_map: dict[str, list[str]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        for version_id, alias in conn.execute(
            select(s.aliases.c.version_id, s.aliases.c.alias).where(
                s.aliases.c.version_id.in_(batch)
            )
        ):
            alias_map[version_id].append(alias)
        for version_id, tag in conn.execute(
            select(s.tags.c.version_id, s.tags.c.tag).where(s.tags.c.version_id.in_(batch))
        ):
            tag_map[version_id].append(tag)
    return [
        version_from_row(row, _alias_order(alias_map[row.id]), sorted(tag_map[row.id]))
        for row in rows
    ]


def _alias_order(found: list[str]) -> tuple[str, ...]:
    """``latest`` first, then the user's aliases alphabetically."""
    return tuple(sorted(found, key=lambda alias: (alias != "latest", alias)))


def version_from_row(row: Any, aliases: Sequence[str], tags: Sequence[str]) -> VersionInfo:
    return VersionInfo(
        id=row.id,
        project=row.project_name,
        name=row.collection_name,
        type=row.collection_type,
        index=row.idx,
        digest=row.digest,
        size=row.size,
        file_count=row.file_count,
        state=VersionState(row.state),
        description=row.description,
        metadata=metadata_from_json(row.metadata),
        aliases=tuple(aliases),
        tags=tuple(tags),
        logged_by=row.logged_by,
        created_at=row.created_at,
        committed_at=row.committed_at,
    )


def collection_from_row(row: Any) -> CollectionInfo:
    """A record for a row of collections joined with its project and live version count."""
    return CollectionInfo(
        project=row.project_name,
        name=row.name,
        type=row.type,
        description=row.description,
        version_count=row.n,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def run_select() -> Select[Any]:
    return select(s.runs, s.projects.c.name.label("project_name")).select_from(
        s.runs.join(s.projects, s.runs.c.project_id == s.projects.c.id)
    )


def run_from_row(row: Any) -> RunInfo:
    return RunInfo(
        id=row.id,
        project=row.project_name,
        job_type=row.job_type,
        name=row.name,
        state=row.state,
        created_at=row.created_at,
        finished_at=row.finished_at,
        config=json.loads(row.config),
    )
