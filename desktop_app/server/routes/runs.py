"""Runs and what they used and logged."""

from __future__ import annotations

from fastapi import APIRouter, Response

from desktop_app.server.deps import PrincipalDep, StoreDep, need_project, need_run, need_version
from desktop_app.server.keys import Role
from desktop_app.server.schemas import Run, RunFinish, RunIn, UseIn, Version, Versions

router = APIRouter(tags=["runs"])


@router.post("/projects/{project}/runs", response_model=Run)
def create_run(project: str, body: RunIn, store: StoreDep, principal: PrincipalDep) -> Run:
    project = need_project(principal, project, Role.WRITE)
    return Run.of(
        store.create_run(project, job_type=body.job_type, name=body.name, config=body.config)
    )


@router.get("/runs/{run_id}", response_model=Run)
def get_run(run_id: str, store: StoreDep, principal: PrincipalDep) -> Run:
    return Run.of(need_run(store, principal, run_id, Role.READ))


@router.post("/runs/{run_id}/finish", response_model=Run)
def finish_run(run_id: str, body: RunFinish, store: StoreDep, principal: PrincipalDep) -> Run:
    need_run(store, principal, run_id, Role.WRITE)
    return Run.of(store.finish_run(run_id, state=body.state))


@router.post("/runs/{run_id}/uses", status_code=204)
def use_version(run_id: str, body: UseIn, store: StoreDep, principal: PrincipalDep) -> Response:
    need_run(store, principal, run_id, Role.WRITE)
    need_version(store, principal, body.version_id, Role.READ)
    store.use_version(run_id, body.version_id)
    return Response(status_code=204)


@router.get("/runs/{run_id}/outputs", response_model=Versions)
def run_outputs(run_id: str, store: StoreDep, principal: PrincipalDep) -> Versions:
    need_run(store, principal, run_id, Role.READ)
    return Versions(items=[Version.of(v) for v in store.run_outputs(run_id)])


@router.get("/runs/{run_id}/inputs", response_model=Versions)
def run_inputs(run_id: str, store: StoreDep, principal: PrincipalDep) -> Versions:
    need_run(store, principal, run_id, Role.READ)
    return Versions(items=[Version.of(v) for v in store.run_inputs(run_id)])
