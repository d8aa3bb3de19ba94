from pathlib import Path

from desktop_app.client.paths import AppPaths


def test_home_override_moves_all_four_folders(tmp_path: Path) -> None:
    paths = AppPaths.from_env({"ARTIFACT_DESK_HOME": str(tmp_path)})
    assert paths.config_dir == tmp_path / "config"
    assert paths.data_dir == tmp_path / "data"
    assert paths.cache_dir == tmp_path / "cache"
    assert paths.log_dir == tmp_path / "logs"
    assert paths.settings_file == tmp_path / "config" / "settings.json"
    assert paths.store_dir == tmp_path / "data" / "store"
    assert paths.hash_cache_db == tmp_path / "cache" / "hashes.sqlite3"
    assert paths.content_cache_dir == tmp_path / "cache" / "blobs"


def test_ensure_creates_the_folders(tmp_path: Path) -> None:
    paths = AppPaths.from_env({"ARTIFACT_DESK_HOME": str(tmp_path / "home")}).ensure()
    for folder in (paths.config_dir, paths.data_dir, paths.cache_dir, paths.log_dir):
        assert folder.is_dir()


def test_without_override_uses_platform_folders_named_for_the_app(tmp_path: Path) -> None:
    paths = AppPaths.from_env({})
    for folder in (paths.config_dir, paths.data_dir, paths.cache_dir, paths.log_dir):
        assert "artifact-desk" in str(folder)
        assert not folder.is_relative_to(tmp_path)
