"""The one typed settings schema, with ordered upgrade steps and environment overrides."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from desktop_app.client.paths import AppPaths
from desktop_app.client.units import parse_size
from desktop_app.core.errors import ValidationError

SCHEMA_VERSION = 3
GIB = 1024**3

URL_ENV = "ARTIFACT_DESK_URL"
API_KEY_ENV = "ARTIFACT_DESK_API_KEY"
CACHE_MAX_ENV = "ARTIFACT_DESK_CACHE_MAX"

RawSettings = dict[str, Any]


def _default_hash_workers() -> int:
    return os.cpu_count() or 2


@dataclass
class Settings:
    """User settings shared by the GUI, the CLI and the SDK."""

    schema_version: int = SCHEMA_VERSION
    backend_url: str | None = None
    api_key: str | None = None
    cache_max_bytes: int = 20 * GIB
    transfer_workers: int = 4
    hash_workers: int = field(default_factory=_default_hash_workers)
    default_entity: str | None = None
    # Where downloaded contents are cached; None means the platform's cache folder.
    cache_dir: str | None = None
    # The GUI's language code ("en", "de", ...); None follows the system.
    language: str | None = None
    # field name -> (value in the file, value from the environment); never saved as such.
    env_overrides: dict[str, tuple[Any, Any]] = field(
        default_factory=dict, repr=False, compare=False
    )


def _upgrade_1_to_2(raw: RawSettings) -> RawSettings:
    """Schema 1 called the cache cap ``cache_size`` (bytes or a human size) and ``workers``."""
    upgraded = dict(raw)
    if "cache_size" in upgraded:
        size = upgraded.pop("cache_size")
        upgraded.setdefault("cache_max_bytes", parse_size(size) if isinstance(size, str) else size)
    if "workers" in upgraded:
        upgraded.setdefault("transfer_workers", upgraded.pop("workers"))
    return upgraded


def _upgrade_2_to_3(raw: RawSettings) -> RawSettings:
    """Schema 3 adds ``cache_dir`` and ``language``; their defaults keep the old behaviour."""
    return dict(raw)


# UPGRADES[n] turns a schema-n document into a schema-(n + 1) document; applied in order.
UPGRADES: dict[int, Callable[[RawSettings], RawSettings]] = {
    1: _upgrade_1_to_2,
    2: _upgrade_2_to_3,
}


def upgrade_raw(raw: RawSettings, source: Path | str = "settings") -> RawSettings:
    """Run the upgrade steps from the document's version to :data:`SCHEMA_VERSION`."""
    version = raw.get("schema_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValidationError(
            f"{source}: schema_version {version!r} is not a positive integer; "
            "fix or delete the file"
        )
    if version > SCHEMA_VERSION:
        raise ValidationError(
            f"{source} has schema version {version}, newer than this Artifact Desk understands "
            f"({SCHEMA_VERSION}); update Artifact Desk or delete the file"
        )
    while version < SCHEMA_VERSION:
        raw = UPGRADES[version](raw)
        version += 1
        raw["schema_version"] = version
    return raw


_OPTIONAL_STR = ("backend_url", "api_key", "default_entity", "cache_dir", "language")
_MIN_INT = {"cache_max_bytes": 0, "transfer_workers": 1, "hash_workers": 1}


def _from_raw(raw: RawSettings, source: Path | str) -> Settings:
    settings = Settings()
    known = {f.name for f in fields(Settings)} - {"env_overrides", "schema_version"}
    for key, value in raw.items():
        if key not in known:
            continue  # written by another version or by hand; ignored on purpose
        if key in _OPTIONAL_STR:
            if value is not None and not isinstance(value, str):
                raise ValidationError(
                    f"{source}: {key} must be a string or null, not {value!r}; fix or delete it"
                )
        elif not isinstance(value, int) or isinstance(value, bool) or value < _MIN_INT[key]:
            raise ValidationError(
                f"{source}: {key} must be an integer of at least {_MIN_INT[key]}, "
                f"not {value!r}; fix or delete it"
            )
        setattr(settings, key, value)
    return settings


def _apply_env(settings: Settings, environ: Mapping[str, str]) -> None:
    overrides: dict[str, Any] = {}
    if environ.get(URL_ENV):
        overrides["backend_url"] = environ[URL_ENV]
    if environ.get(API_KEY_ENV):
        overrides["api_key"] = environ[API_KEY_ENV]
    if environ.get(CACHE_MAX_ENV):
        try:
            overrides["cache_max_bytes"] = parse_size(environ[CACHE_MAX_ENV])
        except ValidationError as exc:
            raise ValidationError(f"environment variable {CACHE_MAX_ENV}: {exc}") from exc
    for name, value in overrides.items():
        settings.env_overrides[name] = (getattr(settings, name), value)
        setattr(settings, name, value)


def load_settings(paths: AppPaths, environ: Mapping[str, str] | None = None) -> Settings:
    """Read, upgrade and validate the settings file, then apply environment overrides."""
    path = paths.settings_file
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raw: RawSettings = {}
    else:
        try:
            raw = json.loads(data.decode("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValidationError(
                f"settings file {path} is not valid JSON ({exc}); fix it or delete it to "
                "start from the defaults"
            ) from exc
        if not isinstance(raw, dict):
            raise ValidationError(
                f"settings file {path} must hold a JSON object; fix it or delete it to start "
                "from the defaults"
            )
    settings = _from_raw(upgrade_raw(raw, path), path)
    _apply_env(settings, os.environ if environ is None else environ)
    return settings


def settings_to_raw(settings: Settings) -> RawSettings:
    """The JSON document for ``settings``, with environment overrides swapped back out."""
    raw: RawSettings = {}
    for f in fields(Settings):
        if f.name == "env_overrides":
            continue
        value = getattr(settings, f.name)
        override = settings.env_overrides.get(f.name)
        if override is not None and value == override[1]:
            value = override[0]  # still the environment's value: keep what the file had
        raw[f.name] = value
    raw["schema_version"] = SCHEMA_VERSION
    return raw


def save_settings(paths: AppPaths, settings: Settings) -> None:
    """Write the settings atomically, readable by the owner only (it may hold an API key)."""
    path = paths.settings_file
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(settings_to_raw(settings), indent=2, sort_keys=True) + "\n"
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".settings.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            if hasattr(os, "fchmod"):
                os.fchmod(stream.fileno(), 0o600)
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable; not possible (nor needed) on every platform."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
