"""API keys over a real socket: every route needs one, keys stay secret, projects stay apart."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from fastapi.routing import APIRoute
from server_helpers import (
    API,
    TIMEOUT,
    assert_problem,
    auth,
    create_run,
    log_version,
    md5_hex,
)

SAMPLE_PARAMS = {
    "project": "proj-a",
    "name": "data",
    "selector": "latest",
    "hex_digest": md5_hex(b"hello"),
    "version_id": "0" * 32,
    "alias": "best",
    "run_id": "0" * 32,
}


def _walk(routes: Any, prefix: str = "") -> list[tuple[str, str]]:
    """``(method, path)`` of every APIRoute, also inside included routers.

    FastAPI 0.165 keeps ``include_router`` routers as wrappers (``original_router`` plus an
    ``include_context`` with the prefix) instead of copying their routes into ``app.routes``.
    """
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found += [(method, prefix + route.path) for method in sorted(route.methods)]
        elif hasattr(route, "original_router") and hasattr(route, "include_context"):
            inner = prefix + route.include_context.prefix
            found += _walk(route.original_router.routes, inner)
    return found


def _api_routes(app: Any) -> list[tuple[str, str]]:
    """Every API route of ``app``, checked against the paths of its OpenAPI schema."""
    found = sorted({(m, p) for m, p in _walk(app.routes) if p.startswith(API)})
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert {(m, re.sub(r":\w+\}", "}", p)) for m, p in found} == documented
    return found


def _fill(template: str, params: dict[str, str] = SAMPLE_PARAMS) -> str:
    def value(match: re.Match[str]) -> str:
        return params[match.group(1)]

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, template)


@pytest.fixture
def routes(live_server) -> list[tuple[str, str]]:
    found = _api_routes(live_server.app)
    assert len(found) >= 25, found  # the API.md table; catches a walk that finds nothing
    return found


def _protected(routes: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(m, p) for m, p in routes if (m, p) != ("GET", f"{API}/health")]


def test_every_route_except_health_needs_a_key(live_server, routes) -> None:
    for method, template in _protected(routes):
        response = requests.request(method, live_server.url + _fill(template), timeout=TIMEOUT)
        body = assert_problem(response, 401, "unauthorized")
        assert "Authorization: Bearer" in body["detail"], (method, template)
        assert response.headers.get("www-authenticate") == "Bearer"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer adk_00000000_notthesecret",
        "Bearer not-a-key-at-all",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "adk_00000000_x",
    ],
)
def test_every_route_refuses_a_wrong_key(live_server, routes, header: str) -> None:
    for method, template in _protected(routes):
        response = requests.request(
            method,
            live_server.url + _fill(template),
            headers={"Authorization": header},
            timeout=TIMEOUT,
        )
        assert_problem(response, 401, "unauthorized")


def test_a_key_with_the_right_id_and_a_wrong_secret_is_refused(live_server, routes) -> None:
    key = live_server.create_key("alice")
    key_id = key.split("_")[1]
    forged = f"adk_{key_id}_{'A' * 43}"
    for method, template in _protected(routes):
        response = requests.request(
            method, live_server.url + _fill(template), headers=auth(forged), timeout=TIMEOUT
        )
        assert_problem(response, 401, "unauthorized")


def test_every_route_refuses_a_revoked_key(live_server, routes) -> None:
    key = live_server.create_key("leaver")
    ok = requests.get(f"{live_server.url}{API}/projects", headers=auth(key), timeout=TIMEOUT)
    assert ok.status_code == 200
    live_server.app.state.keys.revoke(key.split("_")[1])
    for method, template in _protected(routes):
        response = requests.request(
            method, live_server.url + _fill(template), headers=auth(key), timeout=TIMEOUT
        )
        body = assert_problem(response, 401, "unauthorized")
        assert "revoked" in body["detail"]


def test_health_needs_no_key(live_server) -> None:
    response = requests.get(f"{live_server.url}{API}/health", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize("param", ["api_key", "token", "key", "access_token", "API_KEY", "auth"])
def test_a_key_in_the_query_string_is_refused_even_with_a_valid_header(
    live_server, routes, param: str
) -> None:
    for method, template in _protected(routes):
        response = requests.request(
            method,
            live_server.url + _fill(template),
            params={param: live_server.key},
            headers=auth(live_server.key),
            timeout=TIMEOUT,
        )
        body = assert_problem(response, 400, "invalid")
        assert "query string" in body["detail"]


def test_keys_are_stored_hashed_not_in_clear(live_server) -> None:
    owner_secret = live_server.key.split("_", 2)[2]
    reader = live_server.create_key("reader", [("proj-a", "read")])
    reader_secret = reader.split("_", 2)[2]
    log_version(live_server.url, live_server.key, "proj-a", "data", {"a": b"x"})
    for key in (live_server.key, reader):
        response = requests.get(f"{live_server.url}{API}/projects", headers=auth(key), timeout=30)
        assert response.status_code == 200
    data = b""
    for name in ("metadata.sqlite3", "metadata.sqlite3-wal"):
        path = live_server.data_dir / name
        if path.exists():
            data += path.read_bytes()
    assert data, "the metadata database was not found"
    for secret in (owner_secret, reader_secret):
        assert secret.encode() not in data
    assert live_server.key.encode() not in data
    assert reader.encode() not in data


def test_revoke_takes_effect_at_once(live_server) -> None:
    key = live_server.create_key("temp")
    url = f"{live_server.url}{API}/projects"
    assert requests.get(url, headers=auth(key), timeout=TIMEOUT).status_code == 200
    info = live_server.app.state.keys.revoke(key.split("_")[1])
    assert info.revoked_at is not None
    assert_problem(requests.get(url, headers=auth(key), timeout=TIMEOUT), 401, "unauthorized")
    # the owner key is untouched
    assert requests.get(url, headers=auth(live_server.key), timeout=TIMEOUT).status_code == 200


@pytest.fixture
def two_projects(live_server) -> dict[str, Any]:
    """Projects A (team/proj-a) and B (proj-b), each with a committed version, run and blob."""
    owner = live_server.key
    run_a = create_run(live_server.url, owner, "team/proj-a")
    run_b = create_run(live_server.url, owner, "proj-b")
    a = log_version(live_server.url, owner, "team/proj-a", "data", {"f.txt": b"aaa"})
    b = log_version(
        live_server.url, owner, "proj-b", "secret-data", {"g.txt": b"bbb"}, aliases=["best"]
    )
    return {"a": a, "b": b, "run_a": run_a, "run_b": run_b}


def _b_requests(seed: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every kind of request that touches project B."""
    b = seed["b"]["id"]
    run_b = seed["run_b"]["id"]
    hex_b = md5_hex(b"bbb")
    return [
        ("GET", "/projects/proj-b/types", {}),
        ("GET", "/projects/proj-b/artifacts", {}),
        ("GET", "/projects/proj-b/artifacts/secret-data", {}),
        ("GET", "/projects/proj-b/artifacts/secret-data/versions", {}),
        ("GET", "/projects/proj-b/artifacts/secret-data/versions/latest", {}),
        ("GET", "/projects/proj-b/artifacts/secret-data/versions/best", {}),
        ("GET", "/projects/proj-b/files", {"params": {"path": "g.txt"}}),
        ("GET", f"/versions/{b}", {}),
        ("GET", f"/versions/{b}/entries", {}),
        ("GET", f"/versions/{b}/logged-by", {}),
        ("GET", f"/versions/{b}/used-by", {}),
        ("POST", f"/versions/{b}/commit", {}),
        ("DELETE", f"/versions/{b}/draft", {}),
        ("PUT", f"/versions/{b}/aliases/mine", {}),
        ("DELETE", f"/versions/{b}/aliases/best", {}),
        ("PATCH", f"/versions/{b}", {"json": {"description": "x"}}),
        ("DELETE", f"/versions/{b}", {}),
        ("GET", f"/runs/{run_b}", {}),
        ("GET", f"/runs/{run_b}/outputs", {}),
        ("GET", f"/runs/{run_b}/inputs", {}),
        ("POST", f"/runs/{run_b}/finish", {"json": {"state": "finished"}}),
        ("POST", f"/runs/{run_b}/uses", {"json": {"version_id": seed["a"]["id"]}}),
        ("POST", "/projects/proj-b/runs", {"json": {}}),
        (
            "POST",
            "/projects/proj-b/artifacts/new/drafts",
            {"json": {"type": "dataset", "manifest": {"version": 1, "contents": {}}}},
        ),
        ("GET", f"/projects/proj-b/blobs/{hex_b}", {}),
        ("GET", f"/projects/proj-b/blobs/{hex_b}/offset", {}),
        ("PUT", f"/projects/proj-b/blobs/{hex_b}", {"params": {"size": 3}, "data": b"bbb"}),
        ("POST", "/projects/proj-b/blobs", {"data": bytes.fromhex(hex_b) + b"\0" * 7 + b"\3bbb"}),
        ("POST", "/projects/proj-b/blobs/missing", {"json": {"digests": [hex_b]}}),
        ("POST", "/projects/proj-b/blobs/checksums", {"json": {"digests": [hex_b]}}),
        ("POST", "/projects/proj-b/blobs/fetch", {"json": {"digests": [hex_b]}}),
    ]


@pytest.mark.parametrize("role", ["read", "write", "admin"])
def test_a_key_for_project_a_finds_nothing_of_project_b(live_server, two_projects, role) -> None:
    key = live_server.create_key("a-only", [("team/proj-a", role)])
    for method, path, kwargs in _b_requests(two_projects):
        response = requests.request(
            method, f"{live_server.url}{API}{path}", headers=auth(key), timeout=TIMEOUT, **kwargs
        )
        body = assert_problem(response, 404, "not_found")
        assert "proj-b" not in body["detail"] or "does not exist" in body["detail"], body
    # and nothing of B changed
    owner = auth(live_server.key)
    version = requests.get(
        f"{live_server.url}{API}/versions/{two_projects['b']['id']}", headers=owner, timeout=30
    ).json()
    assert version["state"] == "COMMITTED"
    assert version["aliases"] == two_projects["b"]["aliases"]
    assert version["description"] is None


def test_a_version_of_project_a_cannot_be_used_by_a_run_of_b(live_server, two_projects) -> None:
    key = live_server.create_key("a-writer", [("team/proj-a", "write")])
    response = requests.post(
        f"{live_server.url}{API}/runs/{two_projects['run_a']['id']}/uses",
        json={"version_id": two_projects["b"]["id"]},
        headers=auth(key),
        timeout=TIMEOUT,
    )
    assert_problem(response, 404, "not_found")


def test_a_draft_cannot_name_a_run_of_another_project(live_server, two_projects) -> None:
    key = live_server.create_key("a-writer", [("team/proj-a", "write")])
    response = requests.post(
        f"{live_server.url}{API}/projects/team:proj-a/artifacts/x/drafts",
        json={
            "manifest": {"version": 1, "contents": {}},
            "run_id": two_projects["run_b"]["id"],
        },
        headers=auth(key),
        timeout=TIMEOUT,
    )
    assert_problem(response, 404, "not_found")


def test_projects_and_events_show_only_readable_projects(live_server, two_projects) -> None:
    key = live_server.create_key("a-reader", [("team/proj-a", "read")])
    projects = requests.get(f"{live_server.url}{API}/projects", headers=auth(key), timeout=30)
    assert [p["name"] for p in projects.json()["items"]] == ["team/proj-a"]
    events = requests.get(
        f"{live_server.url}{API}/events", params={"since": 0}, headers=auth(key), timeout=30
    ).json()
    assert events["items"], "project A's events are missing"
    assert {e["project"] for e in events["items"]} == {"team/proj-a"}
    every = requests.get(
        f"{live_server.url}{API}/events",
        params={"since": 0},
        headers=auth(live_server.key),
        timeout=TIMEOUT,
    ).json()
    assert {e["project"] for e in every["items"]} == {"team/proj-a", "proj-b"}
    assert not any("secret-data" in str(e["payload"]) for e in events["items"])


def test_a_long_poll_of_a_key_for_a_does_not_wake_for_b(live_server, two_projects) -> None:
    key = live_server.create_key("a-reader", [("team/proj-a", "read")])
    url = f"{live_server.url}{API}/events"
    head = requests.get(url, params={"since": 0}, headers=auth(live_server.key), timeout=30)
    last = int(head.json()["next_cursor"])
    log_version(live_server.url, live_server.key, "proj-b", "secret-data", {"g.txt": b"new"})
    response = requests.get(
        url, params={"since": last, "wait": 0.5}, headers=auth(key), timeout=TIMEOUT
    )
    assert response.status_code == 200
    assert response.json()["items"] == []


def test_the_owner_key_sees_every_project(live_server, two_projects) -> None:
    owner = auth(live_server.key)
    projects = requests.get(f"{live_server.url}{API}/projects", headers=owner, timeout=30)
    assert {p["name"] for p in projects.json()["items"]} == {"team/proj-a", "proj-b"}
    for method, path, kwargs in _b_requests(two_projects):
        if method != "GET":
            continue
        response = requests.get(
            f"{live_server.url}{API}{path}", headers=owner, timeout=TIMEOUT, **kwargs
        )
        assert response.status_code == 200, (path, response.text)


def _write_requests(seed: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    a = seed["a"]["id"]
    run_a = seed["run_a"]["id"]
    hex_new = md5_hex(b"new bytes")
    return [
        (
            "POST",
            "/projects/team:proj-a/artifacts/data/drafts",
            {"json": {"type": "dataset", "manifest": {"version": 1, "contents": {}}}},
        ),
        ("POST", f"/versions/{a}/commit", {}),
        ("DELETE", f"/versions/{a}/draft", {}),
        ("PUT", f"/versions/{a}/aliases/best", {}),
        ("DELETE", f"/versions/{a}/aliases/latest", {}),
        ("PATCH", f"/versions/{a}", {"json": {"description": "edited"}}),
        ("POST", "/projects/team:proj-a/runs", {"json": {}}),
        ("POST", f"/runs/{run_a}/finish", {"json": {"state": "finished"}}),
        ("POST", f"/runs/{run_a}/uses", {"json": {"version_id": a}}),
        ("GET", f"/projects/team:proj-a/blobs/{hex_new}/offset", {}),
        (
            "PUT",
            f"/projects/team:proj-a/blobs/{hex_new}",
            {"params": {"size": 9}, "data": b"new bytes"},
        ),
        (
            "POST",
            "/projects/team:proj-a/blobs",
            {"data": bytes.fromhex(hex_new) + (9).to_bytes(8, "big") + b"new bytes"},
        ),
        ("DELETE", f"/versions/{a}", {}),
    ]


def test_read_role_reads_but_may_not_write(live_server, two_projects) -> None:
    key = live_server.create_key("a-reader", [("team/proj-a", "read")])
    before = requests.get(
        f"{live_server.url}{API}/events",
        params={"since": 0},
        headers=auth(live_server.key),
        timeout=30,
    ).json()
    a = two_projects["a"]["id"]
    for path in (
        "/projects/team:proj-a/artifacts",
        "/projects/team:proj-a/artifacts/data/versions/latest",
        f"/versions/{a}",
        f"/versions/{a}/entries",
        f"/runs/{two_projects['run_a']['id']}",
        f"/projects/team:proj-a/blobs/{md5_hex(b'aaa')}",
    ):
        response = requests.get(f"{live_server.url}{API}{path}", headers=auth(key), timeout=30)
        assert response.status_code == 200, (path, response.text)
    for method, path, kwargs in _write_requests(two_projects):
        response = requests.request(
            method, f"{live_server.url}{API}{path}", headers=auth(key), timeout=TIMEOUT, **kwargs
        )
        body = assert_problem(response, 403, "forbidden")
        assert "read access" in body["detail"], (path, body)
    after = requests.get(
        f"{live_server.url}{API}/events",
        params={"since": 0},
        headers=auth(live_server.key),
        timeout=30,
    ).json()
    assert after == before


def test_write_role_writes_but_may_not_delete_a_version(live_server, two_projects) -> None:
    key = live_server.create_key("a-writer", [("team/proj-a", "write")])
    a = two_projects["a"]["id"]
    url = f"{live_server.url}{API}"
    response = requests.put(f"{url}/versions/{a}/aliases/best", headers=auth(key), timeout=30)
    assert response.status_code == 200
    assert "best" in response.json()["aliases"]
    response = requests.delete(f"{url}/versions/{a}", headers=auth(key), timeout=TIMEOUT)
    body = assert_problem(response, 403, "forbidden")
    assert "admin" in body["detail"]
    version = requests.get(f"{url}/versions/{a}", headers=auth(key), timeout=TIMEOUT).json()
    assert version["state"] == "COMMITTED"
    admin = live_server.create_key("a-admin", [("team/proj-a", "admin")])
    response = requests.delete(f"{url}/versions/{a}", headers=auth(admin), timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json()["state"] == "DELETED"


def test_roles_in_two_projects_are_independent(live_server, two_projects) -> None:
    key = live_server.create_key("mixed", [("team/proj-a", "write"), ("proj-b", "read")])
    url = f"{live_server.url}{API}"
    b = two_projects["b"]["id"]
    assert requests.get(f"{url}/versions/{b}", headers=auth(key), timeout=30).status_code == 200
    response = requests.put(f"{url}/versions/{b}/aliases/mine", headers=auth(key), timeout=30)
    assert_problem(response, 403, "forbidden")
    a = two_projects["a"]["id"]
    response = requests.put(f"{url}/versions/{a}/aliases/mine", headers=auth(key), timeout=30)
    assert response.status_code == 200
