"""What every route needs: the store, the caller's key, and access checks by project."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from desktop_app.core.errors import NotFoundError
from desktop_app.core.names import validate_project
from desktop_app.core.records import RunInfo, VersionInfo
from desktop_app.server.config import ServerConfig
from desktop_app.server.keys import KeyStore, Principal, Role
from desktop_app.server.problems import ApiError
from desktop_app.store import Store

# Query parameters that people use to pass keys; refused so keys never end up in URLs/logs.
KEY_QUERY_PARAMS = frozenset({"key", "api_key", "apikey", "token", "access_token", "auth"})


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_config(request: Request) -> ServerConfig:
    config: ServerConfig = request.app.state.config
    return config


def get_principal(request: Request) -> Principal:
    """The key in ``Authorization: Bearer``; 401 without a valid one."""
    if KEY_QUERY_PARAMS & {name.lower() for name in request.query_params}:
        raise ApiError(
            400,
            "invalid",
            "API keys are accepted only in the 'Authorization: Bearer' header, never in the "
            "URL (URLs end up in logs); remove it from the query string",
        )
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(
            401,
            "unauthorized",
            "this server needs an API key: send 'Authorization: Bearer <key>' "
            "(`artifact-desk login URL` stores one for the CLI and SDK)",
        )
    keys: KeyStore = request.app.state.keys
    principal = keys.authenticate(key.strip())
    if principal is None:
        raise ApiError(
            401,
            "unauthorized",
            "the API key is not valid or was revoked; ask the server's admin for a new one",
        )
    return principal


StoreDep = Annotated[Store, Depends(get_store)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


def project_from_url(segment: str) -> str:
    """The project a URL names: ``proj`` or ``entity:proj`` (for ``entity/proj``)."""
    return validate_project(segment.replace(":", "/", 1))


def need_project(principal: Principal, project: str, role: Role) -> str:
    """``project`` (URL form) if the key holds ``role`` there; an unreadable one is 'not found'."""
    project = project_from_url(project)
    have = principal.role_in(project)
    if have is None:
        raise NotFoundError(f"project {project!r} does not exist (or this key may not see it)")
    if have < role:
        raise ApiError(
            403,
            "forbidden",
            f"the key {principal.name!r} has {have.name.lower()} access to project "
            f"{project!r}; this needs {role.name.lower()} access, ask an admin for it",
        )
    return project


def need_version(store: Store, principal: Principal, version_id: str, role: Role) -> VersionInfo:
    """The version, if the key may act on its project (else 404 as for a missing id)."""
    info = store.get_version(version_id)
    if principal.role_in(info.project) is None:
        raise NotFoundError(f"version id {version_id!r} does not exist")
    need_project(principal, info.project, role)
    return info


def need_run(store: Store, principal: Principal, run_id: str, role: Role) -> RunInfo:
    run = store.get_run(run_id)
    if principal.role_in(run.project) is None:
        raise NotFoundError(f"run {run_id!r} does not exist")
    need_project(principal, run.project, role)
    return run
