"""Fixtures of the backend contract suite: every test here runs against every backend.

A backend joins the suite by adding one factory to ``BACKEND_FACTORIES``: a context
manager that takes a fresh temporary folder and yields a :class:`Harness`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from contract_helpers import (
    Logger,
    make_manifest,
    raw_manifest,
    read_all,
    upload_missing,
)
from live_server import run_live_server
from pg_support import postgres_schema

from desktop_app.backends.protocol import Backend
from desktop_app.core.manifest import Manifest, ManifestEntry


@dataclass
class Harness:
    """A backend under test and the store behind it (for checks no client can make, e.g. GC)."""

    kind: str
    backend: Backend
    store: Any


BackendFactory = Callable[[Path], contextlib.AbstractContextManager[Harness]]


@contextlib.contextmanager
def _local_harness(tmp_path: Path) -> Iterator[Harness]:
    from desktop_app.backends.local import LocalBackend

    backend = LocalBackend(tmp_path / "store")
    try:
        yield Harness("local", backend, backend.store)
    finally:
        backend.close()


@contextlib.contextmanager
def _postgres_store_harness(tmp_path: Path) -> Iterator[Harness]:
    """The store itself on PostgreSQL: proves it writes no SQLite-only SQL."""
    from desktop_app.store import Store

    with postgres_schema("contract") as url:
        store = Store(url, tmp_path / "blobs")
        try:
            yield Harness("postgresql", store, store)
        finally:
            store.close()


@contextlib.contextmanager
def _http_harness(tmp_path: Path, db_url: str | None = None) -> Iterator[Harness]:
    """HttpBackend to a real server over a loopback socket."""
    from desktop_app.backends.http import HttpBackend

    with run_live_server(tmp_path / "server", db_url) as server:
        backend = HttpBackend(server.url, server.key)
        try:
            yield Harness("http", backend, server.app.state.store)  # type: ignore[attr-defined]
        finally:
            backend.close()


@contextlib.contextmanager
def _http_postgres_harness(tmp_path: Path) -> Iterator[Harness]:
    with postgres_schema("contract") as url, _http_harness(tmp_path, url) as harness:
        yield harness


BACKEND_FACTORIES: dict[str, BackendFactory] = {
    "local": _local_harness,
    "store-postgresql": _postgres_store_harness,
    "http-sqlite": _http_harness,
    "http-postgresql": _http_postgres_harness,
}


@pytest.fixture(params=sorted(BACKEND_FACTORIES))
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    with BACKEND_FACTORIES[request.param](tmp_path) as made:
        yield made


@pytest.fixture
def backend(harness: Harness) -> Backend:
    return harness.backend


@pytest.fixture
def store(harness: Harness) -> Any:
    return harness.store


@pytest.fixture
def log(backend: Backend) -> Logger:
    return Logger(backend)


@pytest.fixture
def manifest_of() -> Callable[..., Manifest]:
    return make_manifest


@pytest.fixture
def raw_manifest_of() -> Callable[[Iterable[ManifestEntry]], Manifest]:
    return raw_manifest


@pytest.fixture
def upload() -> Callable[..., None]:
    return upload_missing


@pytest.fixture
def read_blob_bytes() -> Callable[..., bytes]:
    return read_all
