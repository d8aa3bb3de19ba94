"""Helpers of the server tests: seed data over HTTP, snapshot what the server holds.

The file name is unique in the test tree, so the test modules import it by name.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

import requests

API = "/api/v1"
TIMEOUT = 30
PROBLEM_JSON = "application/problem+json"


def url_project(project: str) -> str:
    """A project as the API's URLs spell it: ``entity:project`` for ``entity/project``."""
    return project.replace("/", ":")


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def manifest_json(files: Mapping[str, bytes]) -> dict[str, Any]:
    """A ``wandb_manifest.json`` object for ``files`` (path -> bytes)."""
    return {
        "version": 1,
        "storagePolicy": "wandb-storage-policy-v1",
        "storagePolicyConfig": {"storageLayout": "V2"},
        "contents": {
            path: {"digest": md5_b64(data), "size": len(data)} for path, data in files.items()
        },
    }


def log_version(
    url: str,
    key: str,
    project: str,
    name: str,
    files: Mapping[str, bytes],
    *,
    type_: str = "dataset",
    aliases: list[str] | None = None,
) -> dict[str, Any]:
    """Draft, upload the missing blobs with PUT, commit; the committed Version record."""
    headers = auth(key)
    body: dict[str, Any] = {"type": type_, "manifest": manifest_json(files)}
    if aliases:
        body["aliases"] = aliases
    response = requests.post(
        f"{url}{API}/projects/{url_project(project)}/artifacts/{name}/drafts",
        json=body,
        headers=headers,
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    draft = response.json()
    by_digest = {md5_b64(data): data for data in files.values()}
    for digest in draft["missing"]:
        data = by_digest[digest]
        put = requests.put(
            f"{url}{API}/projects/{url_project(project)}/blobs/{md5_hex(data)}",
            params={"size": len(data), "offset": 0},
            data=data,
            headers={**headers, "Content-Type": "application/octet-stream"},
            timeout=TIMEOUT,
        )
        put.raise_for_status()
        assert put.json() == {"complete": True, "offset": len(data)}
    if draft["unchanged"]:
        return dict(draft["version"])
    commit = requests.post(
        f"{url}{API}/versions/{draft['version']['id']}/commit", headers=headers, timeout=TIMEOUT
    )
    commit.raise_for_status()
    return dict(commit.json())


def create_run(url: str, key: str, project: str) -> dict[str, Any]:
    response = requests.post(
        f"{url}{API}/projects/{url_project(project)}/runs",
        json={"job_type": "train"},
        headers=auth(key),
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    return dict(response.json())


def snapshot(url: str, key: str) -> dict[str, Any]:
    """Everything an owner key can see at a glance: events, projects, artifacts, versions."""
    headers = auth(key)

    def get(path: str, **params: Any) -> Any:
        response = requests.get(
            f"{url}{API}{path}", params=params, headers=headers, timeout=TIMEOUT
        )
        response.raise_for_status()
        return response.json()

    projects = get("/projects", limit=10000)["items"]
    artifacts = {}
    for project in projects:
        for collection in get(f"/projects/{url_project(project['name'])}/artifacts", limit=10000)[
            "items"
        ]:
            versions = get(
                f"/projects/{url_project(project['name'])}/artifacts/{collection['name']}/versions",
                include_deleted=True,
                limit=10000,
            )["items"]
            artifacts[(project["name"], collection["name"])] = (collection, versions)
    return {
        "events": get("/events", since=0, limit=10000),
        "projects": projects,
        "artifacts": artifacts,
    }


def assert_problem(response: requests.Response, status: int, code: str | None = None) -> dict:
    """``response`` is a problem+json of ``status`` (and ``code``) with a detail; its body."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert isinstance(body["code"], str)
    assert body["code"]
    if code is not None:
        assert body["code"] == code, body
    return dict(body)
