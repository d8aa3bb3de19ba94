"""The real console entry (``python -m desktop_app``) in a subprocess: the README flow."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def cli(tmp_path: Path, *argv: str, display: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ARTIFACT_DESK_HOME": str(tmp_path / "home")}
    if not display:
        for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
            env.pop(name, None)
    env.pop("ARTIFACT_DESK_URL", None)
    env.pop("ARTIFACT_DESK_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "desktop_app", *argv],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    (folder / "images").mkdir(parents=True)
    (folder / "labels.csv").write_text("file,label\ncat.png,cat\n")
    (folder / "images" / "cat.png").write_bytes(os.urandom(70_000))
    (folder / "images" / "empty.txt").write_bytes(b"")
    return folder


def test_readme_flow_put_ls_get(tmp_path: Path, data: Path) -> None:
    put = cli(
        tmp_path, "put", "./data", "-n", "artifacts-example/example_artifact", "-t", "dataset"
    )
    assert put.returncode == 0, put.stderr
    assert put.stdout.startswith("artifacts-example/example_artifact:v0 (3 files, ")
    assert put.stderr == ""  # not a terminal: no progress line

    ls = cli(tmp_path, "ls", "artifacts-example")
    assert ls.returncode == 0, ls.stderr
    assert ls.stdout.splitlines()[1].split()[:3] == ["example_artifact", "dataset", "1"]

    get = cli(tmp_path, "get", "artifacts-example/example_artifact:latest", "--root", "./out")
    assert get.returncode == 0, get.stderr
    assert get.stdout == "out\n"
    assert "\r" not in get.stderr
    for path in data.rglob("*"):
        if path.is_file():
            copy = tmp_path / "out" / path.relative_to(data)
            assert copy.read_bytes() == path.read_bytes()

    again = cli(
        tmp_path, "put", "./data", "-n", "artifacts-example/example_artifact", "-t", "dataset"
    )
    assert again.returncode == 0
    assert again.stdout.startswith(
        "identical to artifacts-example/example_artifact:v0, nothing to upload"
    )

    verify = cli(tmp_path, "verify", "artifacts-example/example_artifact:v0", "out")
    assert verify.returncode == 0, verify.stderr


def test_errors_exit_with_their_code_and_no_traceback(tmp_path: Path, data: Path) -> None:
    unknown = cli(tmp_path, "get", "artifacts-example/missing:latest")
    assert unknown.returncode == 3
    assert unknown.stdout == ""
    assert unknown.stderr.startswith("artifact-desk: error: ")
    assert "Traceback" not in unknown.stderr
    assert not (tmp_path / "artifacts").exists()

    bad = cli(tmp_path, "put", "./data", "-n", "example_artifact")
    assert bad.returncode == 2
    assert "'example_artifact' names no project" in bad.stderr


def test_no_command_without_a_display_exits_2_with_help(tmp_path: Path) -> None:
    result = cli(tmp_path, display=False)
    assert result.returncode == 2
    assert "there is no display to open the window on" in result.stderr
    assert "exit codes:" in result.stderr


def test_installed_console_script_runs(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "artifact-desk"
    if not script.exists():
        pytest.skip("the artifact-desk console script is not installed in this environment")
    result = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0
    assert result.stdout.startswith("artifact-desk ")
