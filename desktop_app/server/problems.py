"""Errors as ``application/problem+json``: a stable code and a message a person can act on."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from desktop_app.core.errors import (
    ArtifactDeskError,
    ConflictError,
    IntegrityError,
    NotFoundError,
    OffsetMismatchError,
    ValidationError,
)

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("desktop_app.server")

_STATUS = {
    ValidationError: 400,
    IntegrityError: 400,
    NotFoundError: 404,
    ConflictError: 409,
}
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    416: "Range Not Satisfiable",
    500: "Internal Server Error",
}


class ApiError(Exception):
    """An error raised by the HTTP layer itself (auth, limits, ranges)."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


class RangeError(ApiError):
    """A ``Range`` the blob cannot satisfy: 416 with ``Content-Range: bytes */<size>``."""

    def __init__(self, detail: str, size: int) -> None:
        super().__init__(416, "invalid", detail)
        self.size = size


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install(app: FastAPI) -> None:
    """Turn every error the app can raise into a problem response."""

    @app.exception_handler(ArtifactDeskError)
    async def _domain(_request: Request, exc: ArtifactDeskError) -> JSONResponse:
        status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 400)
        if isinstance(exc, OffsetMismatchError):
            return problem(409, exc.code, exc.message, expected=exc.expected)
        return problem(status, exc.code, exc.message)

    @app.exception_handler(ApiError)
    async def _api(_request: Request, exc: ApiError) -> JSONResponse:
        response = problem(exc.status, exc.code, exc.detail)
        if isinstance(exc, RangeError):
            response.headers["Content-Range"] = f"bytes */{exc.size}"
        return response

    @app.exception_handler(RequestValidationError)
    async def _request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for error in exc.errors()[:5]:
            where = ".".join(str(p) for p in error.get("loc", ()))
            parts.append(f"{where}: {error.get('msg')}")
        return problem(400, "invalid", "the request is malformed: " + "; ".join(parts))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found"}.get(
            exc.status_code, "invalid" if exc.status_code < 500 else "internal"
        )
        detail = str(exc.detail)
        if exc.status_code in (404, 405) and detail in ("Not Found", "Method Not Allowed"):
            detail = (
                f"the API has no route {request.method} {request.url.path}; /openapi.json "
                "lists them (a project entity/name is written entity:name in URLs)"
            )
        return problem(exc.status_code, code, detail)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return problem(500, "internal", "the server failed unexpectedly; see its log")
