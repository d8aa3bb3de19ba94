"""The app factory: a FastAPI app over one store, built from a ``ServerConfig``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from desktop_app import __version__
from desktop_app.server import problems
from desktop_app.server.config import ServerConfig
from desktop_app.server.keys import KeyStore
from desktop_app.server.routes import blobs, browse, feed, runs, versions
from desktop_app.store import Store

API_PREFIX = "/api/v1"


def create_app(config: ServerConfig) -> FastAPI:
    """The API over the store in ``config``; the store opens now and closes at shutdown."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(config.database_url, config.blob_dir)
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
        app.include_router(module.router, prefix=API_PREFIX)
    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn worker processes (``--workers``): config from the environment."""
    return create_app(ServerConfig.from_env())
