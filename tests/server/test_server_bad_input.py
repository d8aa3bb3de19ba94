"""Bad requests over a real socket: each is a clear 4xx problem, and nothing is written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from server_helpers import (
    API,
    TIMEOUT,
    assert_problem,
    auth,
    create_run,
    log_version,
    md5_b64,
    md5_hex,
    snapshot,
)

PROJECT = "proj-a"
HELLO_HEX = md5_hex(b"hello")
PARTIAL = b"abcdef"  # uploaded up to byte 3 before every case
NEW = b"brand new bytes"  # never stored
EMPTY_MANIFEST = {"version": 1, "contents": {}}


def _manifest(*paths: str) -> dict[str, Any]:
    return {
        "version": 1,
        "contents": {p: {"digest": md5_b64(p.encode()), "size": len(p)} for p in paths},
    }


def _entry(**entry: Any) -> dict[str, Any]:
    return {"version": 1, "contents": {"f.txt": entry}}


def _frame(data: bytes, size: int | None = None) -> bytes:
    size = len(data) if size is None else size
    return bytes.fromhex(md5_hex(data)) + size.to_bytes(8, "big") + data


@dataclass(frozen=True)
class Case:
    """One bad request and the problem it must get."""

    id: str
    method: str
    path: str  # under /api/v1; {version} and {run} are filled in from the seed
    status: int
    code: str
    detail: str  # a fragment the message must contain: it names the problem
    kwargs: dict[str, Any] = field(default_factory=dict)
    key: str = "owner"  # owner | reader | other | none | wrong


def _draft(
    id_: str,
    body: dict[str, Any],
    detail: str,
    *,
    name: str = "fresh",
    status: int = 400,
    code: str = "invalid",
) -> Case:
    """A draft of a new artifact (so no type clash hides the problem under test)."""
    path = f"/projects/{PROJECT}/artifacts/{name}/drafts"
    return Case(id_, "POST", path, status, code, detail, {"json": body})


def _put(
    id_: str, hex_: str, params: dict[str, Any], data: bytes, status: int, code: str, detail: str
) -> Case:
    return Case(
        id_,
        "PUT",
        f"/projects/{PROJECT}/blobs/{hex_}",
        status,
        code,
        detail,
        {"params": params, "data": data, "headers": {"Content-Type": "application/octet-stream"}},
    )


def _checksums(
    id_: str,
    body: dict[str, Any],
    detail: str,
    *,
    status: int = 400,
    code: str = "invalid",
    key: str = "owner",
) -> Case:
    path = f"/projects/{PROJECT}/blobs/checksums"
    return Case(id_, "POST", path, status, code, detail, {"json": body}, key=key)


def _range(id_: str, header: str, detail: str) -> Case:
    return Case(
        id_,
        "GET",
        f"/projects/{PROJECT}/blobs/{HELLO_HEX}",
        416,
        "invalid",
        detail,
        {"headers": {"Range": header}},
    )


CASES = [
    # -- entry paths in manifests ------------------------------------------------------
    _draft("path-dotdot", {"manifest": _manifest("../x")}, "'../x'"),
    _draft("path-dotdot-inner", {"manifest": _manifest("a/../../x")}, "'a/../../x'"),
    _draft("path-absolute", {"manifest": _manifest("/abs")}, "'/abs'"),
    _draft("path-backslash", {"manifest": _manifest("a\\b")}, "a\\\\b"),
    _draft("path-drive", {"manifest": _manifest("C:x")}, "'C:x'"),
    _draft("path-nul", {"manifest": _manifest("a\x00b")}, "a\\x00b"),
    _draft("path-newline", {"manifest": _manifest("a\nb")}, "a\\nb"),
    _draft("path-dot-segment", {"manifest": _manifest("a/./b")}, "'a/./b'"),
    _draft("path-empty-segment", {"manifest": _manifest("a//b")}, "'a//b'"),
    _draft("path-trailing-slash", {"manifest": _manifest("a/")}, "'a/'"),
    _draft("path-empty", {"manifest": _manifest("")}, "path"),
    _draft("path-case-duplicates", {"manifest": _manifest("Data.csv", "data.csv")}, "case"),
    _draft("path-file-and-folder", {"manifest": _manifest("a", "a/b")}, "'a'"),
    _draft(
        "path-nfc-duplicates", {"manifest": _manifest("\u00e9.txt", "e\u0301.txt")}, "Unicode form"
    ),
    # -- names, projects, types, aliases, tags, descriptions ---------------------------
    _draft("name-space", {"manifest": EMPTY_MANIFEST}, "'my data'", name="my data"),
    _draft("name-too-long", {"manifest": EMPTY_MANIFEST}, "129 characters", name="n" * 129),
    _draft("name-unicode", {"manifest": EMPTY_MANIFEST}, "'dätä'", name="dätä"),
    Case(
        "project-two-slashes",
        "POST",
        "/projects/a:b:c/artifacts/data/drafts",
        400,
        "invalid",
        "b:c",
        {"json": {"manifest": EMPTY_MANIFEST}},
    ),
    Case(
        "project-space",
        "POST",
        "/projects/my project/artifacts/data/drafts",
        400,
        "invalid",
        "'my project'",
        {"json": {"manifest": EMPTY_MANIFEST}},
    ),
    Case(
        "project-entity-bad",
        "GET",
        "/projects/te am:p/artifacts",
        400,
        "invalid",
        "'te am'",
    ),
    _draft("type-reserved", {"type": "wandb-x", "manifest": EMPTY_MANIFEST}, "'wandb-x'"),
    _draft("type-empty", {"type": "", "manifest": EMPTY_MANIFEST}, "type"),
    _draft("type-not-a-string", {"type": 3, "manifest": EMPTY_MANIFEST}, "type"),
    _draft("alias-version-form", {"manifest": EMPTY_MANIFEST, "aliases": ["v3"]}, "'v3'"),
    _draft("alias-colon", {"manifest": EMPTY_MANIFEST, "aliases": ["a:b"]}, "'a:b'"),
    _draft("alias-slash", {"manifest": EMPTY_MANIFEST, "aliases": ["a/b"]}, "'a/b'"),
    _draft("aliases-not-a-list", {"manifest": EMPTY_MANIFEST, "aliases": "best"}, "aliases"),
    _draft("tag-slash", {"manifest": EMPTY_MANIFEST, "tags": ["bad/tag"]}, "'bad/tag'"),
    _draft(
        "description-too-long",
        {"manifest": EMPTY_MANIFEST, "description": "x" * 70_000},
        "description",
    ),
    Case("put-alias-v3", "PUT", "/versions/{version}/aliases/v3", 400, "invalid", "'v3'"),
    Case(
        "put-alias-latest", "PUT", "/versions/{version}/aliases/latest", 400, "invalid", "'latest'"
    ),
    Case("put-alias-colon", "PUT", "/versions/{version}/aliases/a:b", 400, "invalid", "'a:b'"),
    Case("put-alias-spaces", "PUT", "/versions/{version}/aliases/ best", 400, "invalid", "' best'"),
    # -- selectors ------------------------------------------------------------------------
    Case(
        "selector-colon",
        "GET",
        f"/projects/{PROJECT}/artifacts/data/versions/a:b",
        400,
        "invalid",
        "'a:b'",
    ),
    Case(
        "selector-blank",
        "GET",
        f"/projects/{PROJECT}/artifacts/data/versions/ ",
        400,
        "invalid",
        "' '",
    ),
    # -- digests ----------------------------------------------------------------------------
    _draft("digest-not-base64", {"manifest": _entry(digest="xyz", size=1)}, "'xyz'"),
    _draft(
        "digest-15-bytes",
        {"manifest": _entry(digest="AAAAAAAAAAAAAAAAAAAA", size=1)},
        "AAAAAAAAAAAAAAAAAAAA",
    ),
    _draft("digest-hex-not-base64", {"manifest": _entry(digest=HELLO_HEX, size=5)}, HELLO_HEX),
    _draft("digest-missing", {"manifest": _entry(size=1)}, "digest"),
    _draft("entry-negative-size", {"manifest": _entry(digest=md5_b64(b"x"), size=-1)}, "size -1"),
    _draft("entry-float-size", {"manifest": _entry(digest=md5_b64(b"x"), size=1.5)}, "size 1.5"),
    _draft(
        "entry-unknown-key",
        {"manifest": _entry(digest=md5_b64(b"x"), size=1, colour="red")},
        "colour",
    ),
    _draft("manifest-version-2", {"manifest": {"version": 2, "contents": {}}}, "version 2"),
    _draft("manifest-contents-list", {"manifest": {"version": 1, "contents": []}}, "contents"),
    Case("blob-url-xyz", "GET", f"/projects/{PROJECT}/blobs/xyz", 400, "invalid", "'xyz'"),
    Case(
        "blob-url-31-hex",
        "GET",
        f"/projects/{PROJECT}/blobs/{HELLO_HEX[:31]}",
        400,
        "invalid",
        HELLO_HEX[:31],
    ),
    Case(
        "blob-url-uppercase",
        "GET",
        f"/projects/{PROJECT}/blobs/{HELLO_HEX.upper()}",
        400,
        "invalid",
        "lowercase",
    ),
    Case(
        "offset-url-uppercase",
        "GET",
        f"/projects/{PROJECT}/blobs/{HELLO_HEX.upper()}/offset",
        400,
        "invalid",
        "lowercase",
    ),
    _put(
        "put-url-31-hex",
        md5_hex(NEW)[:31],
        {"size": len(NEW)},
        NEW,
        400,
        "invalid",
        md5_hex(NEW)[:31],
    ),
    _put(
        "put-url-base64",
        md5_b64(NEW).replace("/", "_"),
        {"size": len(NEW)},
        NEW,
        400,
        "invalid",
        "hex",
    ),
    # -- uploads ----------------------------------------------------------------------------
    _put(
        "put-more-than-size",
        md5_hex(NEW),
        {"size": 3},
        NEW,
        400,
        "integrity",
        "more than the 3 bytes",
    ),
    _put(
        "put-digest-mismatch",
        md5_hex(NEW),
        {"size": len(NEW)},
        b"X" * len(NEW),
        400,
        "integrity",
        md5_hex(NEW),
    ),
    _put(
        "put-offset-ahead",
        md5_hex(NEW),
        {"size": len(NEW), "offset": 4},
        NEW[4:],
        409,
        "offset_mismatch",
        "resume from byte 0",
    ),
    _put(
        "put-offset-behind",
        md5_hex(PARTIAL),
        {"size": 6, "offset": 1},
        PARTIAL[1:],
        409,
        "offset_mismatch",
        "resume from byte 3",
    ),
    _put(
        "put-offset-past-size",
        md5_hex(NEW),
        {"size": 2, "offset": 5},
        b"",
        400,
        "invalid",
        "offset 5",
    ),
    _put("put-size-negative", md5_hex(NEW), {"size": -1}, NEW, 400, "invalid", "size"),
    _put("put-size-missing", md5_hex(NEW), {}, NEW, 400, "invalid", "size"),
    _put("put-size-not-a-number", md5_hex(NEW), {"size": "lots"}, NEW, 400, "invalid", "size"),
    Case(
        "batch-truncated-header",
        "POST",
        f"/projects/{PROJECT}/blobs",
        400,
        "invalid",
        "frame header",
        {"data": _frame(NEW)[:10]},
    ),
    Case(
        "batch-second-header-truncated",
        "POST",
        f"/projects/{PROJECT}/blobs",
        400,
        "invalid",
        "frame header",
        {"data": _frame(NEW) + b"\x01" * 5},
    ),
    Case(
        "batch-size-beyond-body",
        "POST",
        f"/projects/{PROJECT}/blobs",
        400,
        "invalid",
        "announces 100 bytes",
        {"data": _frame(NEW, 100)},
    ),
    Case(
        "batch-empty", "POST", f"/projects/{PROJECT}/blobs", 400, "invalid", "empty", {"data": b""}
    ),
    Case(
        "batch-digest-mismatch",
        "POST",
        f"/projects/{PROJECT}/blobs",
        400,
        "integrity",
        md5_hex(NEW),
        {"data": _frame(b"fine") + bytes.fromhex(md5_hex(NEW)) + (3).to_bytes(8, "big") + b"bad"},
    ),
    Case(
        "missing-digest-malformed",
        "POST",
        f"/projects/{PROJECT}/blobs/missing",
        400,
        "invalid",
        "'XYZ'",
        {"json": {"digests": ["XYZ"]}},
    ),
    Case(
        "missing-too-many",
        "POST",
        f"/projects/{PROJECT}/blobs/missing",
        400,
        "invalid",
        "digests",
        {"json": {"digests": [md5_hex(b"x")] * 10_001}},
    ),
    _checksums("checksums-digest-malformed", {"digests": ["XYZ"]}, "'XYZ'"),
    _checksums("checksums-digest-uppercase", {"digests": [HELLO_HEX.upper()]}, "lowercase"),
    _checksums("checksums-digest-base64", {"digests": [md5_b64(b"hello")]}, "hex"),
    _checksums("checksums-empty", {"digests": []}, "digests"),
    _checksums("checksums-too-many", {"digests": [HELLO_HEX] * 10_001}, "digests"),
    _checksums("checksums-digests-missing", {}, "digests"),
    _checksums("checksums-digests-a-string", {"digests": HELLO_HEX}, "digests"),
    _checksums("checksums-unknown-field", {"digests": [HELLO_HEX], "colour": "red"}, "colour"),
    Case(
        "checksums-not-json",
        "POST",
        f"/projects/{PROJECT}/blobs/checksums",
        400,
        "invalid",
        "JSON",
        {"data": b"{not json", "headers": {"Content-Type": "application/json"}},
    ),
    Case(
        "checksums-project-unknown",
        "POST",
        "/projects/nobody-here/blobs/checksums",
        404,
        "not_found",
        "'nobody-here'",
        {"json": {"digests": [HELLO_HEX]}},
    ),
    # -- JSON bodies -----------------------------------------------------------------------
    _draft("draft-unknown-field", {"manifest": EMPTY_MANIFEST, "colour": "red"}, "colour"),
    _draft("draft-manifest-missing", {"type": "dataset"}, "manifest"),
    _draft("draft-manifest-a-list", {"manifest": []}, "manifest"),
    _draft("draft-metadata-a-list", {"manifest": EMPTY_MANIFEST, "metadata": [1]}, "metadata"),
    _draft(
        "draft-metadata-101-keys",
        {"manifest": EMPTY_MANIFEST, "metadata": {f"k{i}": i for i in range(101)}},
        "101",
    ),
    _draft(
        "draft-run-id-unknown",
        {"manifest": EMPTY_MANIFEST, "run_id": "0" * 32},
        "run",
        status=404,
        code="not_found",
    ),
    Case(
        "draft-not-json",
        "POST",
        f"/projects/{PROJECT}/artifacts/data/drafts",
        400,
        "invalid",
        "JSON",
        {"data": b"{not json", "headers": {"Content-Type": "application/json"}},
    ),
    Case(
        "draft-json-array",
        "POST",
        f"/projects/{PROJECT}/artifacts/data/drafts",
        400,
        "invalid",
        "body",
        {"json": [1, 2]},
    ),
    Case(
        "patch-unknown-field",
        "PATCH",
        "/versions/{version}",
        400,
        "invalid",
        "colour",
        {"json": {"colour": "red"}},
    ),
    Case(
        "patch-metadata-101-keys",
        "PATCH",
        "/versions/{version}",
        400,
        "invalid",
        "101",
        {"json": {"metadata": {f"k{i}": i for i in range(101)}}},
    ),
    Case(
        "patch-tags-a-string",
        "PATCH",
        "/versions/{version}",
        400,
        "invalid",
        "tags",
        {"json": {"tags": "a"}},
    ),
    Case(
        "run-unknown-field",
        "POST",
        f"/projects/{PROJECT}/runs",
        400,
        "invalid",
        "colour",
        {"json": {"colour": 1}},
    ),
    Case(
        "run-config-a-string",
        "POST",
        f"/projects/{PROJECT}/runs",
        400,
        "invalid",
        "config",
        {"json": {"config": "x"}},
    ),
    Case(
        "finish-bad-state",
        "POST",
        "/runs/{run}/finish",
        400,
        "invalid",
        "state",
        {"json": {"state": "done"}},
    ),
    Case(
        "uses-version-id-missing",
        "POST",
        "/runs/{run}/uses",
        400,
        "invalid",
        "version_id",
        {"json": {}},
    ),
    Case(
        "uses-version-unknown",
        "POST",
        "/runs/{run}/uses",
        404,
        "not_found",
        "0" * 32,
        {"json": {"version_id": "0" * 32}},
    ),
    # -- keys --------------------------------------------------------------------------------
    # -- keys --------------------------------------------------------------------------------
    Case(
        "key-missing",
        "POST",
        f"/projects/{PROJECT}/artifacts/data/drafts",
        401,
        "unauthorized",
        "Authorization: Bearer",
        {"json": {"manifest": _manifest("new.txt")}},
        key="none",
    ),
    Case(
        "key-wrong",
        "PUT",
        "/versions/{version}/aliases/best",
        401,
        "unauthorized",
        "not valid",
        key="wrong",
    ),
    Case(
        "key-in-query",
        "PUT",
        "/versions/{version}/aliases/best",
        400,
        "invalid",
        "query string",
        {"params": {"api_key": "{owner_key}"}},
    ),
    Case(
        "key-for-other-project",
        "POST",
        f"/projects/{PROJECT}/artifacts/data/drafts",
        404,
        "not_found",
        f"'{PROJECT}'",
        {"json": {"manifest": _manifest("new.txt")}},
        key="other",
    ),
    Case(
        "key-for-other-project-blob",
        "PUT",
        f"/projects/{PROJECT}/blobs/{md5_hex(NEW)}",
        404,
        "not_found",
        f"'{PROJECT}'",
        {"params": {"size": len(NEW)}, "data": NEW},
        key="other",
    ),
    Case(
        "key-read-only-alias",
        "PUT",
        "/versions/{version}/aliases/best",
        403,
        "forbidden",
        "read access",
        key="reader",
    ),
    Case(
        "key-read-only-delete",
        "DELETE",
        "/versions/{version}",
        403,
        "forbidden",
        "admin",
        key="reader",
    ),
    _checksums(
        "checksums-key-for-other-project",
        {"digests": [HELLO_HEX]},
        f"'{PROJECT}'",
        status=404,
        code="not_found",
        key="other",
    ),
    _checksums(
        "checksums-key-missing",
        {"digests": [HELLO_HEX]},
        "Authorization: Bearer",
        status=401,
        code="unauthorized",
        key="none",
    ),
    # -- ranges -----------------------------------------------------------------------------
    _range("range-past-end", "bytes=10-", "outside"),
    _range("range-reversed", "bytes=3-1", "outside"),
    _range("range-not-a-number", "bytes=abc-", "bytes=N-"),
    _range("range-two-parts", "bytes=0-1,3-4", "bytes=N-"),
    # -- paging and polling -----------------------------------------------------------------
    Case(
        "limit-zero-projects",
        "GET",
        "/projects",
        400,
        "invalid",
        "limit 0",
        {"params": {"limit": 0}},
    ),
    Case(
        "limit-huge-events",
        "GET",
        "/events",
        400,
        "invalid",
        "limit 100000",
        {"params": {"limit": 100_000}},
    ),
    Case(
        "limit-zero-entries",
        "GET",
        "/versions/{version}/entries",
        400,
        "invalid",
        "limit 0",
        {"params": {"limit": 0}},
    ),
    Case(
        "limit-negative-artifacts",
        "GET",
        f"/projects/{PROJECT}/artifacts",
        400,
        "invalid",
        "limit -1",
        {"params": {"limit": -1}},
    ),
    Case(
        "limit-huge-versions",
        "GET",
        f"/projects/{PROJECT}/artifacts/data/versions",
        400,
        "invalid",
        "limit 100000",
        {"params": {"limit": 100_000}},
    ),
    Case(
        "limit-zero-files",
        "GET",
        f"/projects/{PROJECT}/files",
        400,
        "invalid",
        "limit 0",
        {"params": {"path": "a.txt", "limit": 0}},
    ),
    Case(
        "limit-not-a-number",
        "GET",
        "/projects",
        400,
        "invalid",
        "limit",
        {"params": {"limit": "all"}},
    ),
    Case(
        "events-since-negative",
        "GET",
        "/events",
        400,
        "invalid",
        "since",
        {"params": {"since": -1}},
    ),
    Case(
        "events-wait-too-long", "GET", "/events", 400, "invalid", "wait", {"params": {"wait": 31}}
    ),
    Case("files-path-missing", "GET", f"/projects/{PROJECT}/files", 400, "invalid", "path"),
    Case(
        "include-deleted-not-bool",
        "GET",
        f"/projects/{PROJECT}/artifacts/data/versions",
        400,
        "invalid",
        "include_deleted",
        {"params": {"include_deleted": "perhaps"}},
    ),
]


@pytest.fixture
def seeded(live_server) -> dict[str, Any]:
    """Project A with one committed version, a run and half an upload; keys of each kind."""
    owner = live_server.key
    version = log_version(
        live_server.url, owner, PROJECT, "data", {"a.txt": b"hello", "b/c.txt": b"world"}
    )
    run = create_run(live_server.url, owner, PROJECT)
    half = requests.put(
        f"{live_server.url}{API}/projects/{PROJECT}/blobs/{md5_hex(PARTIAL)}",
        params={"size": len(PARTIAL)},
        data=PARTIAL[:3],
        headers=auth(owner),
        timeout=TIMEOUT,
    )
    assert half.json() == {"complete": False, "offset": 3}
    log_version(live_server.url, owner, "proj-b", "other", {"x": b"x"})
    return {
        "version": version["id"],
        "run": run["id"],
        "keys": {
            "owner": owner,
            "reader": live_server.create_key("reader", [(PROJECT, "read")]),
            "other": live_server.create_key("other", [("proj-b", "admin")]),
        },
    }


def _headers(case: Case, keys: dict[str, str]) -> dict[str, str]:
    headers = dict(case.kwargs.get("headers", {}))
    if case.key == "wrong":
        headers["Authorization"] = "Bearer adk_deadbeef_" + "x" * 43
    elif case.key != "none":
        headers["Authorization"] = f"Bearer {keys[case.key]}"
    return headers


def _offset(url: str, key: str, data: bytes) -> int:
    response = requests.get(
        f"{url}{API}/projects/{PROJECT}/blobs/{md5_hex(data)}/offset",
        headers=auth(key),
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    return int(response.json()["offset"])


def test_the_cases_are_distinct() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    requests_sent = {
        (c.method, c.path, json.dumps(c.kwargs, sort_keys=True, default=repr), c.key) for c in CASES
    }
    assert len(requests_sent) == len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_request_is_a_clear_problem_and_writes_nothing(live_server, seeded, case: Case) -> None:
    keys = seeded["keys"]
    before = snapshot(live_server.url, keys["owner"])
    path = case.path.format(version=seeded["version"], run=seeded["run"])
    kwargs = {k: v for k, v in case.kwargs.items() if k != "headers"}
    if "params" in kwargs:
        kwargs["params"] = {
            k: v.format(owner_key=keys["owner"]) if isinstance(v, str) else v
            for k, v in kwargs["params"].items()
        }
    response = requests.request(
        case.method,
        f"{live_server.url}{API}{path}",
        headers=_headers(case, keys),
        timeout=TIMEOUT,
        **kwargs,
    )
    body = assert_problem(response, case.status, case.code)
    assert case.detail in body["detail"], body["detail"]
    if case.code == "offset_mismatch":
        assert body["expected"] == (3 if "behind" in case.id else 0)
    assert snapshot(live_server.url, keys["owner"]) == before
    assert _offset(live_server.url, keys["owner"], NEW) == 0
    assert _offset(live_server.url, keys["owner"], PARTIAL) == 3
    blob = requests.get(
        f"{live_server.url}{API}/projects/{PROJECT}/blobs/{md5_hex(NEW)}",
        headers=auth(keys["owner"]),
        timeout=TIMEOUT,
    )
    assert_problem(blob, 404, "not_found")


def test_a_digest_mismatch_after_a_partial_upload_discards_the_part(live_server, seeded) -> None:
    owner = seeded["keys"]["owner"]
    response = requests.put(
        f"{live_server.url}{API}/projects/{PROJECT}/blobs/{md5_hex(PARTIAL)}",
        params={"size": 6, "offset": 3},
        data=b"XYZ",
        headers=auth(owner),
        timeout=TIMEOUT,
    )
    assert_problem(response, 400, "integrity")
    assert _offset(live_server.url, owner, PARTIAL) == 0


def _oversized_batch(total: int) -> Iterator[bytes]:
    """One frame announcing ``total`` bytes, produced lazily in 1 MiB chunks."""
    yield bytes(16) + total.to_bytes(8, "big")
    chunk = bytes(1 << 20)
    sent = 0
    while sent < total:
        part = chunk[: total - sent]
        sent += len(part)
        yield part


def test_a_batch_over_64_mib_is_refused_with_413(live_server, seeded) -> None:
    owner = seeded["keys"]["owner"]
    before = snapshot(live_server.url, owner)
    limit = live_server.app.state.config.max_batch_bytes
    assert limit == 64 << 20
    try:
        response = requests.post(
            f"{live_server.url}{API}/projects/{PROJECT}/blobs",
            data=_oversized_batch(limit + 1),
            headers={**auth(owner), "Content-Type": "application/octet-stream"},
            timeout=TIMEOUT,
        )
    except requests.ConnectionError:  # pragma: no cover - the server may hang up mid-body
        pytest.fail("the server closed the connection instead of answering 413")
    body = assert_problem(response, 413, "too_large")
    assert str(limit) in body["detail"]
    assert snapshot(live_server.url, owner) == before
