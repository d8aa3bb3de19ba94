"""Runs and lineage: which run logged a version and which runs used it."""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select, update

from desktop_app.core.errors import ValidationError
from desktop_app.core.metadata import metadata_to_json, normalize_metadata
from desktop_app.core.names import (
    validate_type,
)
from desktop_app.core.records import (
    RunInfo,
    VersionInfo,
    VersionState,
)
from desktop_app.store import schema as s
from desktop_app.store.base import (
    StoreBase,
    now,
)
from desktop_app.store.db import read_tx, write_tx
from desktop_app.store.rows import (
    run_from_row,
    run_select,
    version_select,
    versions_from_rows,
)

_RUN_ID_ALPHABET = string.ascii_lowercase + string.digits


class LineageMixin(StoreBase):
    """Runs, and the edges between runs and versions."""

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
                    created_at=now(),
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
                update(s.runs).where(s.runs.c.id == run_id).values(state=state, finished_at=now())
            )
            run = run_from_row(self._get_run_row(conn, run_id))
            self._event(conn, "run.finished", run.project, {"run_id": run_id, "state": state})
            return run

    def get_run(self, run_id: str) -> RunInfo:
        with read_tx(self.engine) as conn:
            return run_from_row(self._get_run_row(conn, run_id))

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
                    insert(s.usages).values(run_id=run_id, version_id=version_id, created_at=now())
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
