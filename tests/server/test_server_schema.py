"""Schemathesis against the live server's own /openapi.json: no 5xx, answers match the schema."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)
from server_helpers import API, auth, create_run, log_version

pytestmark = pytest.mark.slow

PROJECT = "proj"
EXAMPLES = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def seeded_server(live_server) -> dict[str, Any]:
    """A live server with one committed version, a run and the values to aim at them."""
    version = log_version(
        live_server.url, live_server.key, PROJECT, "data", {"a.txt": b"hello", "b/c.txt": b"x"}
    )
    run = create_run(live_server.url, live_server.key, PROJECT)
    return {
        "server": live_server,
        "values": {
            "project": PROJECT,
            "name": "data",
            "selector": "latest",
            "version_id": version["id"],
            "run_id": run["id"],
            "hex_digest": "5d41402abc4b2a76b9719d911017c592",  # md5 of b"hello"
            "alias": "best",
        },
    }


def _operations(url: str) -> list[Any]:
    # Loaded inside the test: ``schemathesis.pytest.from_fixture`` needs a private pytest
    # attribute (``Function._nodeid``) that pytest 9 no longer has.
    loaded = schemathesis.openapi.from_url(f"{url}/openapi.json", timeout=30)
    operations = [result.ok() for result in loaded.get_all_operations()]
    assert len(operations) >= 25
    return operations


def _aim(case: Any, values: dict[str, str]) -> None:
    """Point about half the cases at the seeded data, so GETs also answer 200."""
    params = case.path_parameters or {}
    for name, generated in list(params.items()):
        if name in values and len(str(generated)) % 2 == 0:
            params[name] = values[name]


def _run(
    seeded: dict[str, Any], checks: list[Any], examples: settings = EXAMPLES
) -> tuple[dict[str, str], dict[str, set[int]]]:
    """Each operation's cases with ``checks``: the first failure per operation, and statuses."""
    server = seeded["server"]
    failures: dict[str, str] = {}
    statuses: dict[str, set[int]] = {}

    def check(case: Any) -> None:
        label = case.operation.label
        _aim(case, seeded["values"])
        response = case.call(base_url=server.url, headers=auth(server.key), timeout=30)
        statuses.setdefault(label, set()).add(response.status_code)
        try:
            case.validate_response(response, checks=checks, headers=auth(server.key))
        except (Exception, BaseExceptionGroup) as exc:  # one report for the whole run
            failures.setdefault(label, f"{type(exc).__name__}: {exc}"[:2000])

    for operation in _operations(server.url):
        examples(given(case=operation.as_strategy())(check))()
    return failures, statuses


def test_no_server_error_and_bodies_match_the_schema(seeded_server) -> None:
    failures, statuses = _run(seeded_server, [not_a_server_error, response_schema_conformance])
    assert not failures, "\n\n".join(f"{label}: {text}" for label, text in failures.items())
    # the seeding worked: some operations answered with real data
    assert sum(200 in seen for seen in statuses.values()) >= 10, statuses


def test_status_codes_are_declared_in_the_schema(seeded_server) -> None:
    failures, statuses = _run(
        seeded_server, [status_code_conformance], settings(EXAMPLES, max_examples=5)
    )
    undeclared = {label: sorted(seen) for label, seen in statuses.items() if label in failures}
    assert not failures, f"undeclared status codes (all seen per operation): {undeclared}"


def test_the_last_page_of_entries_says_next_cursor_null(seeded_server) -> None:
    server = seeded_server["server"]
    version_id = seeded_server["values"]["version_id"]
    response = requests.get(
        f"{server.url}{API}/versions/{version_id}/entries", headers=auth(server.key), timeout=30
    )
    assert response.status_code == 200
    page = response.json()
    assert len(page["items"]) == 2
    assert "next_cursor" in page
    assert page["next_cursor"] is None


def test_a_huge_since_is_a_400_not_a_500(live_server) -> None:
    response = requests.get(
        f"{live_server.url}{API}/events",
        params={"since": 2**64},
        headers=auth(live_server.key),
        timeout=30,
    )
    assert response.status_code == 400, response.text


def test_the_schema_is_served_and_lists_every_route(live_server) -> None:
    loaded = schemathesis.openapi.from_url(f"{live_server.url}/openapi.json", timeout=30)
    paths = set(loaded.raw_schema["paths"])
    assert f"{API}/health" in paths
    assert f"{API}/projects/{{project}}/blobs/{{hex_digest}}" in paths
    checksums = loaded.raw_schema["paths"][f"{API}/projects/{{project}}/blobs/checksums"]
    assert set(checksums) == {"post"}
    assert len(paths) >= 20
