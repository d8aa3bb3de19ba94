"""Every SDK test runs in its own home folder and working directory."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
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


@pytest.fixture
def run_script(sdk_home: Path, tmp_path: Path) -> Callable[[Path], str]:
    """Run a Python script as its own process in ``tmp_path`` with the test's home folder
    (and no server URL or default project); return its stdout, failing on a non-zero exit."""

    def run(script: Path) -> str:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("ARTIFACT_DESK_URL", "ARTIFACT_DESK_PROJECT")
        }
        env["ARTIFACT_DESK_HOME"] = str(sdk_home)
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    return run
