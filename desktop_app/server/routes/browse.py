"""Browsing: projects, artifact types, artifacts, versions, files."""

from __future__ import annotations

from fastapi import APIRouter

from desktop_app.core.records import VersionInfo
from desktop_app.core.refs import ArtifactRef
from desktop_app.server.deps import PrincipalDep, StoreDep, need_project
from desktop_app.server.keys import Role
from desktop_app.server.routes.paging import check_limit, page
from desktop_app.server.schemas import (
    Collection,
    CollectionPage,
    Names,
    Project,
    ProjectPage,
    Version,
    VersionPage,
    Versions,
)

router = APIRouter(tags=["browse"])


def _index_key(version: VersionInfo) -> str:
    return f"{version.index or 0:012d}"


@router.get("/projects", response_model=ProjectPage)
def list_projects(
    store: StoreDep, principal: PrincipalDep, cursor: str | None = None, limit: int = 1000
) -> ProjectPage:
    visible = [p for p in store.list_projects() if principal.role_in(p.name) is not None]
    items, next_cursor = page(visible, lambda p: p.name, cursor, limit)
    return ProjectPage(items=[Project.of(p) for p in items], next_cursor=next_cursor)


@router.get("/projects/{project}/types", response_model=Names)
def list_types(project: str, store: StoreDep, principal: PrincipalDep) -> Names:
    project = need_project(principal, project, Role.READ)
    return Names(items=store.list_artifact_types(project))


@router.get("/projects/{project}/artifacts", response_model=CollectionPage)
def list_artifacts(
    project: str,
    store: StoreDep,
    principal: PrincipalDep,
    type: str | None = None,
    cursor: str | None = None,
    limit: int = 1000,
) -> CollectionPage:
    project = need_project(principal, project, Role.READ)
    found = store.list_collections(project, type)
    items, next_cursor = page(found, lambda c: c.name, cursor, limit)
    return CollectionPage(items=[Collection.of(c) for c in items], next_cursor=next_cursor)


@router.get("/projects/{project}/artifacts/{name}", response_model=Collection)
def get_artifact(project: str, name: str, store: StoreDep, principal: PrincipalDep) -> Collection:
    project = need_project(principal, project, Role.READ)
    return Collection.of(store.get_collection(project, name))


@router.get("/projects/{project}/artifacts/{name}/versions", response_model=VersionPage)
def list_versions(
    project: str,
    name: str,
    store: StoreDep,
    principal: PrincipalDep,
    include_deleted: bool = False,
    cursor: str | None = None,
    limit: int = 1000,
) -> VersionPage:
    project = need_project(principal, project, Role.READ)
    found = store.list_versions(project, name, include_deleted=include_deleted)
    items, next_cursor = page(found, _index_key, cursor, limit)
    return VersionPage(items=[Version.of(v) for v in items], next_cursor=next_cursor)


@router.get("/projects/{project}/artifacts/{name}/versions/{selector}", response_model=Version)
def resolve(
    project: str, name: str, selector: str, store: StoreDep, principal: PrincipalDep
) -> Version:
    project = need_project(principal, project, Role.READ)
    return Version.of(store.resolve(ArtifactRef(project, name, selector)))


@router.get("/projects/{project}/files", response_model=Versions)
def find_file(
    project: str, path: str, store: StoreDep, principal: PrincipalDep, limit: int = 5
) -> Versions:
    project = need_project(principal, project, Role.READ)
    found = store.find_versions_with_file(project, path, limit=check_limit(limit))
    return Versions(items=[Version.of(v) for v in found])
