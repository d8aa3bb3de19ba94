"""Fixtures shared by every test folder: a real Artifact Desk server on a loopback socket."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from live_server import LiveServer, run_live_server


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
