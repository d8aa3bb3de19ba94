"""The wheel holds every package and the resources, so an installed app finds its files."""

from __future__ import annotations

import tomllib
import zipfile
from importlib.resources import files
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def declared_packages() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(config["tool"]["setuptools"]["packages"])


def test_every_package_folder_is_declared() -> None:
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "desktop_app").rglob("__init__.py")
    }
    assert found | {"desktop_app.resources"} == declared_packages()


def test_resources_are_found_through_the_package() -> None:
    icons = files("desktop_app.resources") / "icons"
    assert (icons / "artifact-desk.svg").is_file()


@pytest.mark.slow
def test_built_wheel_contains_the_resources(tmp_path: Path) -> None:
    import subprocess
    import sys

    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("artifact_desk-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "desktop_app/resources/icons/artifact-desk.svg" in names
    assert "desktop_app/resources/translations/artifact_desk_de.qm" in names
    assert "desktop_app/gui/app.py" in names
    assert "desktop_app/server/routes/__init__.py" in names
