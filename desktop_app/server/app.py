"""The app factory: a FastAPI app over one store, built from a ``ServerConfig``."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.types import ASGIApp, Receive, Scope, Send

from desktop_app import __version__
from desktop_app.server import problems
from desktop_app.server.config import ServerConfig
from desktop_app.server.deps import KEY_QUERY_PARAMS
from desktop_app.server.keys import KeyStore
from desktop_app.server.routes import blobs, browse, feed, runs, versions
from desktop_app.server.schemas import Problem
from desktop_app.store import Store

API_PREFIX = "/api/v1"


def create_app(config: ServerConfig) -> FastAPI:
    """The API over the store in ``config``; the store opens now and closes at shutdown."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(config.database_url, config.blob_dir, pack_small_blobs=True)
    keys = KeyStore(store.engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(
        title="Artifact Desk",
        version=__version__,
        summary="Versioned datasets and models with W&B Artifacts semantics.",
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.store = store
    app.state.keys = keys
    problems.install(app)
    for module in (feed, browse, versions, runs, blobs):
        app.include_router(module.router, prefix=API_PREFIX, responses=PROBLEM_RESPONSES)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.add_middleware(RefuseKeysInUrls)
    return app


_PROBLEM_CONTENT = {
    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": _PROBLEM_CONTENT}
    for status, text in (
        (400, "invalid input (names the problem and the fix)"),
        (401, "no valid API key"),
        (403, "the key's role in the project is too low"),
        (404, "not found, or not visible to this key"),
        (409, "conflict, or a resumable upload sent from the wrong offset"),
        (413, "body too large"),
        (416, "range not satisfiable"),
        (500, "unexpected server error"),
    )
}


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with our problem responses in place of its unused 422."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
            Problem.model_json_schema()
        )
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
        for name in ("HTTPValidationError", "ValidationError"):
            schema["components"]["schemas"].pop(name, None)
        app.openapi_schema = schema
    return app.openapi_schema


class RefuseKeysInUrls:
    """Refuse any request that carries a key in its query string (URLs end up in logs)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            names = {k.lower() for k, _v in parse_qsl(scope["query_string"].decode("latin-1"))}
            if names & KEY_QUERY_PARAMS:
                response = problems.problem(
                    400,
                    "invalid",
                    "API keys are accepted only in the 'Authorization: Bearer' header, never "
                    "in the URL (URLs end up in logs); remove it from the query string",
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def app_from_env() -> FastAPI:
    """Factory for uvicorn worker processes (``--workers``): config from the environment."""
    app = create_app(ServerConfig.from_env())
    freeze_startup_objects()
    return app


def freeze_startup_objects() -> None:
    """Leave the objects made at start-up (modules, the app, SQLAlchemy's tables) out of
    every later garbage collection, in a server process once its app is built.

    A draft of 10,000 files makes tens of thousands of objects, and the collections they
    set off each walked all of those: 12 ms of a 19 ms manifest load, 6 ms of its JSON.
    Not for processes that build many apps (tests): frozen objects are never collected.
    """
    gc.collect()
    gc.freeze()
