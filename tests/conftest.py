"""Fixtures shared by every test folder: a real Artifact Desk server on a loopback socket."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from live_server import LiveServer, run_live_server

# Property tests check what the code does, not how fast examples are drawn: on a loaded CI
# machine one manifest took 2.8 s to generate and failed the "too slow" health check, and
# a per-example deadline fails for the same reason.
settings.register_profile("ci", suppress_health_check=[HealthCheck.too_slow], deadline=None)
settings.load_profile("ci")


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A fresh server (SQLite and blob folder under ``tmp_path``) for one test."""
    with run_live_server(tmp_path / "server") as server:
        yield server


@pytest.fixture
def live_server_factory(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start servers with other settings (e.g. a PostgreSQL URL); all stop after the test."""
    with contextlib.ExitStack() as stack:

        def start(db_url: str | None = None, name: str = "server") -> LiveServer:
            return stack.enter_context(run_live_server(tmp_path / name, db_url))

        yield start
