"""Versions: drafts, commit, entries, aliases, edits, soft delete, lineage of a version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from desktop_app.core.manifest import Manifest
from desktop_app.server.deps import PrincipalDep, StoreDep, need_project, need_run, need_version
from desktop_app.server.keys import Role
from desktop_app.server.routes.paging import check_limit
from desktop_app.server.schemas import (
    DraftIn,
    DraftOut,
    Entry,
    EntryPage,
    LoggedBy,
    Run,
    Runs,
    Version,
    VersionPatch,
)

router = APIRouter(tags=["versions"])


@router.post("/projects/{project}/artifacts/{name}/drafts", response_model=DraftOut)
def create_draft(
    project: str, name: str, body: DraftIn, store: StoreDep, principal: PrincipalDep
) -> DraftOut:
    project = need_project(principal, project, Role.WRITE)
    if body.run_id is not None:
        need_run(store, principal, body.run_id, Role.WRITE)
    result = store.create_draft(
        project,
        name,
        body.type,
        Manifest.from_json(body.manifest),
        description=body.description,
        metadata=body.metadata,
        aliases=body.aliases,
        tags=body.tags,
        run_id=body.run_id,
        commit=body.commit,
    )
    return DraftOut(
        version=Version.of(result.version), missing=list(result.missing), unchanged=result.unchanged
    )


@router.get("/versions/{version_id}", response_model=Version)
def get_version(version_id: str, store: StoreDep, principal: PrincipalDep) -> Version:
    return Version.of(need_version(store, principal, version_id, Role.READ))


@router.get("/versions/{version_id}/entries", response_model=EntryPage)
def list_entries(
    version_id: str,
    store: StoreDep,
    principal: PrincipalDep,
    cursor: str | None = None,
    limit: int = 1000,
) -> dict[str, Any]:
    need_version(store, principal, version_id, Role.READ)
    found = store.list_entries(version_id, cursor=cursor, limit=check_limit(limit))
    # Plain dicts: W&B's entry JSON, defaults left out, exactly as in wandb_manifest.json.
    return {"items": [Entry.of(e) for e in found.items], "next_cursor": found.next_cursor}


@router.post("/versions/{version_id}/commit", response_model=Version)
def commit(version_id: str, store: StoreDep, principal: PrincipalDep) -> Version:
    need_version(store, principal, version_id, Role.WRITE)
    return Version.of(store.commit(version_id))


@router.delete("/versions/{version_id}/draft", status_code=204)
def discard_draft(version_id: str, store: StoreDep, principal: PrincipalDep) -> Response:
    need_version(store, principal, version_id, Role.WRITE)
    store.discard_draft(version_id)
    return Response(status_code=204)


@router.put("/versions/{version_id}/aliases/{alias}", response_model=Version)
def add_alias(version_id: str, alias: str, store: StoreDep, principal: PrincipalDep) -> Version:
    need_version(store, principal, version_id, Role.WRITE)
    return Version.of(store.add_alias(version_id, alias))


@router.delete("/versions/{version_id}/aliases/{alias}", response_model=Version)
def remove_alias(version_id: str, alias: str, store: StoreDep, principal: PrincipalDep) -> Version:
    need_version(store, principal, version_id, Role.WRITE)
    return Version.of(store.remove_alias(version_id, alias))


@router.patch("/versions/{version_id}", response_model=Version)
def update_version(
    version_id: str, body: VersionPatch, store: StoreDep, principal: PrincipalDep
) -> Version:
    need_version(store, principal, version_id, Role.WRITE)
    return Version.of(
        store.update_version(
            version_id, description=body.description, metadata=body.metadata, tags=body.tags
        )
    )


@router.delete("/versions/{version_id}", response_model=Version)
def delete_version(version_id: str, store: StoreDep, principal: PrincipalDep) -> Version:
    need_version(store, principal, version_id, Role.ADMIN)
    return Version.of(store.delete_version(version_id))


@router.get("/versions/{version_id}/logged-by", response_model=LoggedBy)
def logged_by(version_id: str, store: StoreDep, principal: PrincipalDep) -> LoggedBy:
    need_version(store, principal, version_id, Role.READ)
    run = store.logged_by(version_id)
    return LoggedBy(run=None if run is None else Run.of(run))


@router.get("/versions/{version_id}/used-by", response_model=Runs)
def used_by(version_id: str, store: StoreDep, principal: PrincipalDep) -> Runs:
    need_version(store, principal, version_id, Role.READ)
    return Runs(items=[Run.of(r) for r in store.used_by(version_id)])
