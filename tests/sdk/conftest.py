"""Every SDK test runs in its own home folder and working directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.sdk import _context


@pytest.fixture
def sdk_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``ARTIFACT_DESK_HOME`` under ``tmp_path``; finishes the run and closes clients after."""
    home = tmp_path / "home"
    monkeypatch.setenv("ARTIFACT_DESK_HOME", str(home))
    monkeypatch.delenv("ARTIFACT_DESK_URL", raising=False)
    monkeypatch.delenv("ARTIFACT_DESK_PROJECT", raising=False)
    monkeypatch.chdir(tmp_path)
    yield home
    if _context.current_run is not None:
        _context.current_run.finish()
    _context.close_clients()
