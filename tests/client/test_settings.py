import json
import os
import stat
import sys
from pathlib import Path

import pytest

from desktop_app.client.paths import AppPaths
from desktop_app.client.settings import (
    SCHEMA_VERSION,
    Settings,
    load_settings,
    save_settings,
)
from desktop_app.core.errors import ValidationError

GIB = 1024**3


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths.from_env({"ARTIFACT_DESK_HOME": str(tmp_path)})


def test_missing_file_gives_defaults(paths: AppPaths) -> None:
    settings = load_settings(paths, {})
    assert settings == Settings()
    assert settings.schema_version == SCHEMA_VERSION
    assert settings.cache_max_bytes == 20 * GIB
    assert settings.transfer_workers == 4
    assert settings.hash_workers >= 1


def test_save_then_load_round_trips(paths: AppPaths) -> None:
    settings = Settings(backend_url="http://server:8000", api_key="secret", transfer_workers=8)
    save_settings(paths, settings)
    assert load_settings(paths, {}) == settings
    assert not list(paths.config_dir.glob("*.tmp"))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_saved_file_is_private(paths: AppPaths) -> None:
    save_settings(paths, Settings(api_key="secret"))
    assert stat.S_IMODE(os.stat(paths.settings_file).st_mode) == 0o600


def test_env_overrides_win_but_are_never_saved(paths: AppPaths) -> None:
    save_settings(paths, Settings(backend_url="http://file", cache_max_bytes=5 * GIB))
    env = {
        "ARTIFACT_DESK_URL": "http://env",
        "ARTIFACT_DESK_API_KEY": "env-key",
        "ARTIFACT_DESK_CACHE_MAX": "10GB",
    }
    settings = load_settings(paths, env)
    assert settings.backend_url == "http://env"
    assert settings.api_key == "env-key"
    assert settings.cache_max_bytes == 10 * 1000**3

    settings.transfer_workers = 2
    save_settings(paths, settings)
    raw = json.loads(paths.settings_file.read_text())
    assert raw["backend_url"] == "http://file"
    assert raw["api_key"] is None
    assert raw["cache_max_bytes"] == 5 * GIB
    assert raw["transfer_workers"] == 2


def test_value_changed_by_the_user_under_an_override_is_saved(paths: AppPaths) -> None:
    settings = load_settings(paths, {"ARTIFACT_DESK_URL": "http://env"})
    settings.backend_url = "http://chosen"
    save_settings(paths, settings)
    assert load_settings(paths, {}).backend_url == "http://chosen"


def test_bad_cache_env_names_the_variable(paths: AppPaths) -> None:
    with pytest.raises(ValidationError, match="ARTIFACT_DESK_CACHE_MAX"):
        load_settings(paths, {"ARTIFACT_DESK_CACHE_MAX": "lots"})


def test_schema_1_is_upgraded(paths: AppPaths) -> None:
    paths.config_dir.mkdir(parents=True)
    paths.settings_file.write_text(
        json.dumps({"schema_version": 1, "cache_size": "2GiB", "workers": 3, "api_key": "k"})
    )
    settings = load_settings(paths, {})
    assert settings.schema_version == SCHEMA_VERSION
    assert settings.cache_max_bytes == 2 * GIB
    assert settings.transfer_workers == 3
    assert settings.api_key == "k"
    save_settings(paths, settings)
    raw = json.loads(paths.settings_file.read_text())
    assert raw["schema_version"] == SCHEMA_VERSION
    assert "cache_size" not in raw


def test_file_without_version_counts_as_schema_1(paths: AppPaths) -> None:
    paths.config_dir.mkdir(parents=True)
    paths.settings_file.write_text(json.dumps({"cache_size": 1000}))
    assert load_settings(paths, {}).cache_max_bytes == 1000


def test_unknown_keys_are_ignored(paths: AppPaths) -> None:
    paths.config_dir.mkdir(parents=True)
    paths.settings_file.write_text(json.dumps({"schema_version": 2, "theme": "dark"}))
    assert load_settings(paths, {}) == Settings()


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "\xff\xfe"])
def test_broken_file_names_the_file_and_the_fix(paths: AppPaths, content: str) -> None:
    paths.config_dir.mkdir(parents=True)
    paths.settings_file.write_bytes(content.encode("latin-1"))
    with pytest.raises(ValidationError) as info:
        load_settings(paths, {})
    assert str(paths.settings_file) in str(info.value)
    assert "delete" in str(info.value)


def test_wrong_value_type_is_a_clear_error(paths: AppPaths) -> None:
    paths.config_dir.mkdir(parents=True)
    paths.settings_file.write_text(json.dumps({"schema_version": 2, "transfer_workers": "many"}))
    with pytest.raises(ValidationError, match="transfer_workers"):
        load_settings(paths, {})


def test_newer_schema_is_refused(paths: AppPaths) -> None:
    paths.config_dir.mkdir(parents=True)
    paths.settings_file.write_text(json.dumps({"schema_version": SCHEMA_VERSION + 1}))
    with pytest.raises(ValidationError, match="update Artifact Desk"):
        load_settings(paths, {})
