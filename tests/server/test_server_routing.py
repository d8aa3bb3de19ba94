"""Routes that clash with valid names, and byte ranges at their edges (RFC 9110 section 14)."""

from __future__ import annotations

import pytest
import requests
from server_helpers import API, TIMEOUT, auth, log_version, md5_hex


def _get(live_server, path: str, **headers: str) -> requests.Response:
    return requests.get(
        f"{live_server.url}{API}{path}",
        headers={**auth(live_server.key), **headers},
        timeout=TIMEOUT,
    )


def test_an_artifact_named_artifacts_can_be_fetched(live_server) -> None:
    log_version(live_server.url, live_server.key, "p", "artifacts", {"a": b"1"})
    response = _get(live_server, "/projects/p/artifacts/artifacts")
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "artifacts"


def test_an_artifact_named_types_can_be_fetched(live_server) -> None:
    log_version(live_server.url, live_server.key, "p", "types", {"a": b"1"})
    response = _get(live_server, "/projects/p/artifacts/types")
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "types"


def test_the_versions_of_an_artifact_named_artifacts_can_be_listed(live_server) -> None:
    log_version(live_server.url, live_server.key, "p", "artifacts", {"a": b"1"})
    response = _get(live_server, "/projects/p/artifacts/artifacts/versions")
    assert response.status_code == 200, response.text
    assert [v["version"] for v in response.json()["items"]] == ["v0"]


@pytest.mark.parametrize("alias", ["types", "artifacts"])
def test_aliases_named_like_routes_resolve(live_server, alias: str) -> None:
    log_version(live_server.url, live_server.key, "p", "data", {"a": b"1"}, aliases=[alias])
    response = _get(live_server, f"/projects/p/artifacts/data/versions/{alias}")
    assert response.status_code == 200, response.text
    assert alias in response.json()["aliases"]


def test_artifacts_named_like_other_routes_work(live_server) -> None:
    for name in ("versions", "files", "blobs", "drafts", "runs"):
        log_version(live_server.url, live_server.key, "p", name, {"a": name.encode()})
        response = _get(live_server, f"/projects/p/artifacts/{name}")
        assert response.status_code == 200, (name, response.text)
        response = _get(live_server, f"/projects/p/artifacts/{name}/versions/latest")
        assert response.status_code == 200, (name, response.text)


@pytest.fixture
def hello(live_server) -> str:
    log_version(live_server.url, live_server.key, "p", "data", {"a": b"hello", "e": b""})
    return f"/projects/p/blobs/{md5_hex(b'hello')}"


@pytest.mark.parametrize(
    ("header", "body", "content_range"),
    [
        ("bytes=0-", b"hello", "bytes 0-4/5"),
        ("bytes=1-3", b"ell", "bytes 1-3/5"),
        ("bytes=4-", b"o", "bytes 4-4/5"),
        ("bytes=4-4", b"o", "bytes 4-4/5"),
    ],
)
def test_ranges_answer_206(live_server, hello, header, body, content_range) -> None:
    response = _get(live_server, hello, Range=header)
    assert response.status_code == 206
    assert response.content == body
    assert response.headers["content-range"] == content_range
    assert response.headers["accept-ranges"] == "bytes"


def test_no_range_answers_200_with_everything(live_server, hello) -> None:
    response = _get(live_server, hello)
    assert response.status_code == 200
    assert response.content == b"hello"
    assert response.headers["content-length"] == "5"


def test_a_range_past_the_end_is_clamped(live_server, hello) -> None:
    response = _get(live_server, hello, Range="bytes=0-100")
    assert response.status_code == 206, response.text
    assert response.content == b"hello"
    assert response.headers["content-range"] == "bytes 0-4/5"


def test_a_416_says_the_length(live_server, hello) -> None:
    response = _get(live_server, hello, Range="bytes=10-")
    assert response.status_code == 416
    assert response.headers.get("content-range") == "bytes */5"


def test_a_range_on_an_empty_blob_is_well_formed(live_server, hello) -> None:
    response = _get(live_server, f"/projects/p/blobs/{md5_hex(b'')}", Range="bytes=0-")
    assert response.status_code in (200, 416)
    assert response.headers.get("content-range") in (None, "bytes */0")
