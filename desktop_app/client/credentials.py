"""API keys per server: in the system keyring when it has a secure one, else a 0600 file.

``ARTIFACT_DESK_API_KEY`` overrides both. Keys are stored under the normalized server URL
(``https://host[:port]``), so ``https://host/`` and ``https://host/api/v1`` share one key.
No function here puts a key in a message, a log or a ``repr``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keyring
from keyring.backend import KeyringBackend

from desktop_app.backends.http_transport import normalize_server_url
from desktop_app.client.paths import AppPaths
from desktop_app.client.settings import API_KEY_ENV
from desktop_app.core.errors import ValidationError

SERVICE = "artifact-desk"
KEYRING_ENV = "ARTIFACT_DESK_KEYRING"
"""``file`` stores keys in the credentials file even where a system keyring exists."""
SYSTEM_KEYRING = "the system keyring"
CREDENTIALS_FILENAME = "credentials.json"


def credentials_file(paths: AppPaths) -> Path:
    """The fallback file mapping server URL to key, readable by the user only."""
    return paths.config_dir / CREDENTIALS_FILENAME


def _secure_keyring(environ: Mapping[str, str]) -> KeyringBackend | None:
    """The system keyring, or None when there is no secure one (headless, CI, opted out)."""
    if environ.get(KEYRING_ENV, "").strip().lower() == "file":
        return None
    try:
        backend = keyring.get_keyring()
        priority = float(backend.priority)
    except Exception:  # a broken keyring setup must not stop the app
        return None
    # fail.Keyring (0) and null.Keyring (-1) store nothing; keyrings.alt keeps plain text.
    if priority < 1 or type(backend).__module__.startswith("keyrings.alt"):
        return None
    return backend


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not key.strip():
        raise ValidationError("the API key is empty; paste the key the server's admin gave you")
    key = key.strip()
    if not key.isascii() or not key.isprintable() or any(c.isspace() for c in key):
        raise ValidationError(
            "the API key contains spaces, control or non-ASCII characters; copy it again "
            "exactly as the server's admin gave it"
        )
    return key


def store_key(url: str, key: str, paths: AppPaths, environ: Mapping[str, str] | None = None) -> str:
    """Keep ``key`` for the server at ``url``; return where: the keyring or the file's path.

    The file is the fallback when no secure keyring is usable; the caller should tell the
    user so (the returned text names the file).
    """
    env = os.environ if environ is None else environ
    server = normalize_server_url(url)
    key = _check_key(key)
    backend = _secure_keyring(env)
    if backend is not None:
        try:
            backend.set_password(SERVICE, server, key)
        except Exception:  # locked, refused or broken keyring: use the file instead
            pass
        else:
            _remove_from_file(paths, server)  # an older copy must not outlive this one
            return SYSTEM_KEYRING
    keys = _read_file(paths)
    keys[server] = key
    _write_file(paths, keys)
    return str(credentials_file(paths))


def load_key(url: str, paths: AppPaths, environ: Mapping[str, str] | None = None) -> str | None:
    """The key for ``url``: ``ARTIFACT_DESK_API_KEY``, else the keyring, else the file."""
    env = os.environ if environ is None else environ
    from_env = env.get(API_KEY_ENV, "").strip()
    if from_env:
        return from_env
    server = normalize_server_url(url)
    backend = _secure_keyring(env)
    if backend is not None:
        with contextlib.suppress(Exception):
            found = backend.get_password(SERVICE, server)
            if found:
                return found
    return _read_file(paths).get(server)


def forget_key(url: str, paths: AppPaths, environ: Mapping[str, str] | None = None) -> bool:
    """Remove the key for ``url`` from the keyring and the file; True if one was kept."""
    env = os.environ if environ is None else environ
    server = normalize_server_url(url)
    removed = False
    backend = _secure_keyring(env)
    if backend is not None:
        with contextlib.suppress(Exception):
            backend.delete_password(SERVICE, server)
            removed = True
    return _remove_from_file(paths, server) or removed


# -- the fallback file ---------------------------------------------------------------------
def _read_file(paths: AppPaths) -> dict[str, str]:
    path = credentials_file(paths)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ValidationError(
            f"cannot read the credentials file {path} ({exc.strerror}); check its "
            "permissions or delete it and run `artifact-desk login` again"
        ) from None
    _tighten(path)
    try:
        data: Any = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ValidationError(
            f"the credentials file {path} is damaged (not a JSON object of server URL to "
            "key); delete it and run `artifact-desk login` again"
        )
    return data


def _write_file(paths: AppPaths, keys: Mapping[str, str]) -> None:
    """Replace the file atomically; it is created readable and writable by the user only."""
    path = credentials_file(paths)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            os.chmod(temp, 0o600)  # exactly 0600, whatever the umask
            json.dump(dict(keys), stream, indent=2, sort_keys=True)
            stream.write("\n")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


def _remove_from_file(paths: AppPaths, server: str) -> bool:
    if not credentials_file(paths).exists():
        return False
    keys = _read_file(paths)
    if keys.pop(server, None) is None:
        return False
    _write_file(paths, keys)
    return True


def _tighten(path: Path) -> None:
    """Take away group and other access a copy or an editor may have given the file."""
    if os.name == "nt":  # pragma: no cover - Windows ACLs follow the profile folder
        return
    with contextlib.suppress(OSError):
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            os.chmod(path, 0o600)
