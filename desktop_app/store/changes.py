"""Changing committed versions: aliases, description, metadata, tags, soft delete."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update

from desktop_app.core.errors import NotFoundError
from desktop_app.core.metadata import metadata_to_json, normalize_metadata
from desktop_app.core.names import (
    validate_description,
    validate_tag,
    validate_user_alias,
)
from desktop_app.core.records import (
    VersionInfo,
    VersionState,
)
from desktop_app.store import schema as s
from desktop_app.store.base import (
    LATEST,
    StoreBase,
    version_payload,
)
from desktop_app.store.db import write_tx


class ChangesMixin(StoreBase):
    """Edits of versions that are already committed."""

    def add_alias(self, version_id: str, alias: str) -> VersionInfo:
        alias = validate_user_alias(alias)
        with write_tx(self.engine) as conn:
            row = self._committed_row(conn, version_id, f"add alias {alias!r} to")
            self._point_alias(conn, row.collection_id, alias, version_id)
            info = self._get_version(conn, version_id)
            self._event(conn, "alias.set", info.project, {**version_payload(info), "alias": alias})
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
                conn, "alias.removed", info.project, {**version_payload(info), "alias": alias}
            )
            return info

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
            self._event(conn, "version.updated", info.project, version_payload(info))
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
            self._event(conn, "version.deleted", info.project, version_payload(info))
            return info
