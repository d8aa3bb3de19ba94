"""The HTTP plumbing under ``HttpBackend``: one pooled session, timeouts, retries, errors.

The API key travels only in the ``Authorization`` header; it never appears in a URL, a
``repr`` or an error message (server messages are scrubbed of it, in case one echoes it).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import quote, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from desktop_app.core.errors import (
    ArtifactDeskError,
    BackendUnavailableError,
    ConflictError,
    IntegrityError,
    NotFoundError,
    OffsetMismatchError,
    ValidationError,
)

API_PREFIX = "/api/v1"
POOL_SIZE = 16
RETRY_STATUSES = frozenset({429, 502, 503, 504})
_HIDDEN = "[api key hidden]"


class AuthenticationError(ArtifactDeskError):
    """The server refused the API key (401) or the key may not do this (403)."""

    code = "unauthorized"
    exit_code = 7


class Retry(Enum):
    """When a request may be sent again after a failure."""

    IDEMPOTENT = "idempotent"
    """Always (connection errors, timeouts, 429/502/503/504): GET, PUT, PATCH, DELETE."""
    UNSENT = "unsent"
    """Only when the request certainly never reached the server (POST that creates)."""


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for a connection and between two reads of an answer."""

    connect: float = 10.0
    read: float = 60.0


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: ``base * 2**attempt`` seconds, capped, with jitter."""

    attempts: int = 5
    base_delay: float = 0.25
    max_delay: float = 8.0

    def delay(self, attempt: int) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2.0**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def normalize_server_url(url: str) -> str:
    """``https://host[:port][/prefix]`` without a trailing ``/`` or ``/api/v1``.

    Refuses URLs with a user name or password, a query or a fragment: a key in a URL ends
    up in logs and shell histories.
    """
    if not isinstance(url, str) or not url.strip():
        raise ValidationError("server URL is empty; give it as https://host[:port]")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            f"server URL {url!r} is not an http(s) URL; give it as https://host[:port]"
        )
    if parts.username is not None or parts.password is not None:
        raise ValidationError(
            "the server URL contains a user name or password; remove it from the URL and "
            "store the API key with `artifact-desk login`"
        )
    if parts.query or parts.fragment:
        raise ValidationError(
            f"server URL {parts.scheme}://{parts.netloc}{parts.path} has a query or fragment; "
            "remove everything after '?' or '#' (the API key goes in `artifact-desk login`)"
        )
    path = parts.path.rstrip("/")
    if path.endswith(API_PREFIX):
        path = path[: -len(API_PREFIX)]
    return f"{parts.scheme}://{parts.netloc.lower()}{path}"


def segment(value: str, what: str) -> str:
    """``value`` as one percent-encoded URL path segment."""
    if value in ("", ".", ".."):
        # URL libraries collapse dot segments, so such a value would reach another route.
        raise ValidationError(f"{what} {value!r} cannot be sent in a URL; choose another {what}")
    return quote(value, safe="")


def project_path(project: str) -> str:
    """``entity/project`` as one URL segment, ``entity:project`` (names never hold ':')."""
    return ":".join(segment(part, "project") for part in project.split("/"))


class _BearerAuth(requests.auth.AuthBase):
    """Adds the key to every request; as session auth it also wins over a ``~/.netrc``."""

    def __init__(self, key: str) -> None:
        self._key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._key}"
        return request

    def __repr__(self) -> str:
        return "_BearerAuth(<hidden>)"


class StreamedBody:
    """A request body streamed from ``chunks``, sendable once.

    ``started`` tells whether any of it was taken (then it cannot be sent again). If
    ``chunks`` raises (a cancel, a read error), the body ends cleanly instead of cutting
    the connection, so the server keeps what arrived and a later upload resumes from
    there, as with the local store; the caller re-raises ``error`` after the answer.
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks
        self.started = False
        self.error: Exception | None = None

    def __iter__(self) -> Iterator[bytes]:
        self.started = True
        try:
            for chunk in self._chunks:
                if chunk:  # an empty chunk would end a chunked body early
                    yield bytes(chunk)
        except Exception as exc:
            self.error = exc


def _never_sent(exc: requests.RequestException) -> bool:
    """Whether the request failed before a connection existed (so the server saw nothing)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason: object = exc.args[0] if exc.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        reason = reason.reason
    return isinstance(reason, urllib3.exceptions.ConnectTimeoutError)  # incl. refused, DNS


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


class Transport:
    """One pooled ``requests.Session`` against ``base_url`` with the key in its header."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        pool_size: int = POOL_SIZE,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = normalize_server_url(base_url)
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self._key = api_key or None
        self._sleep = sleep
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        if self._key is not None:
            self.session.auth = _BearerAuth(self._key)
        self.session.headers["User-Agent"] = "artifact-desk"

    def __repr__(self) -> str:
        return f"Transport({self.base_url!r})"

    def close(self) -> None:
        self.session.close()

    def redact(self, text: str) -> str:
        """``text`` with the API key replaced, should a server or library echo it."""
        return text.replace(self._key, _HIDDEN) if self._key else text

    # -- requests ------------------------------------------------------------------------
    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        retry: Retry = Retry.IDEMPOTENT,
        read_timeout: float | None = None,
    ) -> Any:
        """Send a JSON request and return the decoded JSON answer (``None`` for 204)."""
        data = None
        headers = {"Accept": "application/json"}
        if body is not None:
            data = _encode_json(body)
            headers["Content-Type"] = "application/json"
        response = self.send(
            method,
            path,
            params=params,
            data=data,
            headers=headers,
            retry=retry,
            read_timeout=read_timeout,
        )
        with response:
            if response.status_code == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                raise ValidationError(
                    f"the server at {self.base_url} answered {method} {path} with something "
                    "that is not JSON; check that the URL points at an Artifact Desk server"
                ) from None

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: bytes | StreamedBody | None = None,
        headers: Mapping[str, str] | None = None,
        retry: Retry = Retry.IDEMPOTENT,
        stream: bool = False,
        read_timeout: float | None = None,
        ok: Collection[int] = (),
    ) -> requests.Response:
        """Send with retries; return a successful response or raise the mapped error.

        Statuses in ``ok`` are returned as they are, for the caller to handle.
        """
        url = f"{self.base_url}{API_PREFIX}{path}"
        timeout = (self.timeouts.connect, read_timeout or self.timeouts.read)
        attempt = 0
        while True:
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=headers,
                    stream=stream,
                    timeout=timeout,
                )
            except requests.RequestException as exc:
                replayable = not (isinstance(data, StreamedBody) and data.started)
                may_retry = replayable and (retry is Retry.IDEMPOTENT or _never_sent(exc))
                if may_retry and attempt + 1 < self.retry.attempts:
                    self._sleep(self.retry.delay(attempt))
                    attempt += 1
                    continue
                raise self.unavailable(exc, method, path) from exc
            if response.status_code < 400 or response.status_code in ok:
                return response
            replayable = not isinstance(data, StreamedBody)
            if (
                retry is Retry.IDEMPOTENT
                and replayable
                and response.status_code in RETRY_STATUSES
                and attempt + 1 < self.retry.attempts
            ):
                wait = _retry_after(response)
                response.close()
                self._sleep(min(self.retry.max_delay, wait or self.retry.delay(attempt)))
                attempt += 1
                continue
            with response:
                raise self.error_from(response)

    def unavailable(self, exc: BaseException, method: str, path: str) -> BackendUnavailableError:
        """The error for a server that could not be reached or stopped answering."""
        if isinstance(exc, requests.Timeout):
            why = "did not answer in time"
        elif isinstance(exc, requests.exceptions.SSLError):
            why = "failed the TLS handshake (check the certificate)"
        else:
            why = "could not be reached or dropped the connection"
        return BackendUnavailableError(
            f"the Artifact Desk server at {self.base_url} {why} ({method} {path}: "
            f"{type(exc).__name__}); check the URL and the network and try again. "
            "Uploads made meanwhile wait in the outbox"
        )

    def error_from(self, response: requests.Response) -> ArtifactDeskError:
        """The typed error for a problem+json answer (or any other error answer)."""
        problem = _problem(response)
        status = response.status_code
        code = problem.get("code")
        detail = problem.get("detail") or problem.get("title") or response.reason or ""
        detail = self.redact(str(detail))
        if status == 401 or code == "unauthorized":
            return AuthenticationError(
                f"the server at {self.base_url} refused the API key ({detail}); "
                f"run `artifact-desk login {self.base_url}` with a valid key"
            )
        if status == 403 or code == "forbidden":
            return AuthenticationError(
                f"the API key may not do this on {self.base_url} ({detail}); ask a project "
                "admin for the role it needs, or log in with another key"
            )
        if code == "offset_mismatch":
            expected = problem.get("expected")
            if isinstance(expected, int) and not isinstance(expected, bool):
                return OffsetMismatchError(detail, expected=expected)
        by_code: dict[str, type[ArtifactDeskError]] = {
            "invalid": ValidationError,
            "too_large": ValidationError,
            "not_found": NotFoundError,
            "conflict": ConflictError,
            "offset_mismatch": ConflictError,
            "integrity": IntegrityError,
        }
        if isinstance(code, str) and code in by_code:
            return by_code[code](detail)
        if status >= 500:
            return BackendUnavailableError(
                f"the server at {self.base_url} failed with {status} ({detail}); "
                "try again later, and tell its admin if it persists"
            )
        by_status = {404: NotFoundError, 409: ConflictError, 413: ValidationError}
        return by_status.get(status, ValidationError)(
            f"the server at {self.base_url} refused the request with {status} ({detail})"
        )


def _problem(response: requests.Response) -> dict[str, Any]:
    if "json" not in response.headers.get("Content-Type", ""):
        return {}
    try:
        parsed = response.json()
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _encode_json(body: Any) -> bytes:
    try:
        return json.dumps(body, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"the request cannot be sent as JSON ({exc}); use only strings, numbers, "
            "booleans, None, lists and dicts with string keys"
        ) from None
