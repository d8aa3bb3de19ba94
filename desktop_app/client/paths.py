"""Where Artifact Desk keeps its settings, data, caches and logs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "artifact-desk"
HOME_ENV = "ARTIFACT_DESK_HOME"


@dataclass(frozen=True)
class AppPaths:
    """The four per-user folders; ``ARTIFACT_DESK_HOME`` moves all of them under one folder."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AppPaths:
        """Paths from ``ARTIFACT_DESK_HOME`` when set, else the platform's usual folders."""
        env = os.environ if environ is None else environ
        home = env.get(HOME_ENV)
        if home:
            root = Path(home).expanduser().absolute()
            return cls(root / "config", root / "data", root / "cache", root / "logs")
        dirs = platformdirs.PlatformDirs(appname=APP_NAME, appauthor=False)
        return cls(
            config_dir=Path(dirs.user_config_dir),
            data_dir=Path(dirs.user_data_dir),
            cache_dir=Path(dirs.user_cache_dir),
            log_dir=Path(dirs.user_log_dir),
        )

    def ensure(self) -> AppPaths:
        """Create the folders if missing; returns self for chaining."""
        for folder in (self.config_dir, self.data_dir, self.cache_dir, self.log_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self

    @property
    def settings_file(self) -> Path:
        """The JSON settings file."""
        return self.config_dir / "settings.json"

    @property
    def store_dir(self) -> Path:
        """Where the embedded (local) store keeps its database and blobs."""
        return self.data_dir / "store"

    @property
    def hash_cache_db(self) -> Path:
        """The SQLite database of known file digests."""
        return self.cache_dir / "hashes.sqlite3"

    @property
    def content_cache_dir(self) -> Path:
        """The content cache of downloaded blobs."""
        return self.cache_dir / "blobs"
