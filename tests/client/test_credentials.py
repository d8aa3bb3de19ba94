"""API keys: the keyring when secure, else a 0600 file; the env var wins; nothing leaks."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import pytest

from desktop_app.backends.http import HttpBackend
from desktop_app.client.credentials import (
    KEYRING_ENV,
    SYSTEM_KEYRING,
    credentials_file,
    forget_key,
    load_key,
    store_key,
)
from desktop_app.client.paths import AppPaths
from desktop_app.core.errors import ValidationError

URL = "https://desk.example.com"
KEY = "adk_s3cr3t_Zq9xWv"
FILE_ONLY = {KEYRING_ENV: "file"}
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A secure-looking keyring that keeps passwords in a dict."""

    priority = 5  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.passwords[(service, username)]


class RefusingKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("locked")


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths.from_env({"ARTIFACT_DESK_HOME": str(tmp_path)})


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    yield memory
    keyring.set_keyring(previous)


@posix_only
@pytest.mark.usefixtures("no_keyring")
def test_without_a_keyring_the_key_goes_to_a_0600_file(paths: AppPaths) -> None:
    where = store_key(URL, KEY, paths, {})

    path = credentials_file(paths)
    assert where == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {URL: KEY}
    assert load_key(URL, paths, {}) == KEY
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


@posix_only
def test_the_file_is_0600_even_with_a_lax_umask(paths: AppPaths) -> None:
    old = os.umask(0)
    try:
        store_key(URL, KEY, paths, FILE_ONLY)
    finally:
        os.umask(old)
    assert stat.S_IMODE(credentials_file(paths).stat().st_mode) == 0o600


@posix_only
def test_a_file_made_readable_by_others_is_tightened_on_read(paths: AppPaths) -> None:
    store_key(URL, KEY, paths, FILE_ONLY)
    os.chmod(credentials_file(paths), 0o644)

    assert load_key(URL, paths, FILE_ONLY) == KEY
    assert stat.S_IMODE(credentials_file(paths).stat().st_mode) == 0o600


def test_urls_are_normalized_so_one_server_has_one_key(paths: AppPaths) -> None:
    store_key("https://Desk.example.com/api/v1/", KEY, paths, FILE_ONLY)

    assert load_key(URL, paths, FILE_ONLY) == KEY
    assert load_key(URL + "/", paths, FILE_ONLY) == KEY
    assert load_key("https://other.example.com", paths, FILE_ONLY) is None


def test_several_servers_keep_their_own_keys(paths: AppPaths) -> None:
    store_key(URL, KEY, paths, FILE_ONLY)
    store_key("http://127.0.0.1:8000", "other-key", paths, FILE_ONLY)
    store_key(URL, "replaced", paths, FILE_ONLY)

    assert load_key(URL, paths, FILE_ONLY) == "replaced"
    assert load_key("http://127.0.0.1:8000", paths, FILE_ONLY) == "other-key"


def test_the_environment_variable_overrides_keyring_and_file(
    paths: AppPaths, memory_keyring: MemoryKeyring
) -> None:
    store_key(URL, KEY, paths, {})

    assert load_key(URL, paths, {"ARTIFACT_DESK_API_KEY": "from-env"}) == "from-env"
    assert load_key("https://never-stored.example", paths, {"ARTIFACT_DESK_API_KEY": "e"}) == "e"
    assert load_key(URL, paths, {"ARTIFACT_DESK_API_KEY": ""}) == KEY


def test_forget_removes_the_key(paths: AppPaths) -> None:
    store_key(URL, KEY, paths, FILE_ONLY)
    store_key("http://other:1", "other-key", paths, FILE_ONLY)

    assert forget_key(URL, paths, FILE_ONLY) is True
    assert load_key(URL, paths, FILE_ONLY) is None
    assert load_key("http://other:1", paths, FILE_ONLY) == "other-key"
    assert forget_key(URL, paths, FILE_ONLY) is False
    assert KEY not in credentials_file(paths).read_text()


def test_a_secure_keyring_is_used_and_no_file_is_written(
    paths: AppPaths, memory_keyring: MemoryKeyring
) -> None:
    assert store_key(URL, KEY, paths, {}) == SYSTEM_KEYRING

    assert memory_keyring.passwords == {("artifact-desk", URL): KEY}
    assert not credentials_file(paths).exists()
    assert load_key(URL, paths, {}) == KEY
    assert forget_key(URL, paths, {}) is True
    assert load_key(URL, paths, {}) is None


def test_the_env_switch_forces_the_file_over_a_keyring(
    paths: AppPaths, memory_keyring: MemoryKeyring
) -> None:
    assert store_key(URL, KEY, paths, FILE_ONLY) == str(credentials_file(paths))
    assert memory_keyring.passwords == {}


def test_a_keyring_that_refuses_falls_back_to_the_file(paths: AppPaths) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(RefusingKeyring())
    try:
        where = store_key(URL, KEY, paths, {})
        assert where == str(credentials_file(paths))
        assert load_key(URL, paths, {}) == KEY
    finally:
        keyring.set_keyring(previous)


def test_moving_to_the_keyring_drops_the_older_file_copy(
    paths: AppPaths, memory_keyring: MemoryKeyring
) -> None:
    store_key(URL, "old-key", paths, FILE_ONLY)
    store_key(URL, KEY, paths, {})

    assert "old-key" not in credentials_file(paths).read_text()
    assert load_key(URL, paths, {}) == KEY


@pytest.mark.parametrize("bad", ["", "   ", "two words", "new\nline", "tab\tkey", "ключ"])
def test_malformed_keys_are_refused_without_echoing_them(paths: AppPaths, bad: str) -> None:
    with pytest.raises(ValidationError) as caught:
        store_key(URL, bad, paths, FILE_ONLY)
    if bad.strip():
        assert bad not in str(caught.value)
    assert not credentials_file(paths).exists()


def test_a_damaged_file_is_reported_without_its_content(paths: AppPaths) -> None:
    credentials_file(paths).parent.mkdir(parents=True, exist_ok=True)
    credentials_file(paths).write_text(f'{{"{URL}": "{KEY}", broken')

    with pytest.raises(ValidationError, match="damaged") as caught:
        load_key(URL, paths, FILE_ONLY)
    assert KEY not in str(caught.value)
    assert str(credentials_file(paths)) in str(caught.value)


@pytest.mark.parametrize(
    "url", ["ftp://host", "https://user:pw@host", f"https://host/?key={KEY}", "not a url", ""]
)
def test_bad_server_urls_are_refused_without_echoing_credentials(paths: AppPaths, url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        store_key(url, KEY, paths, FILE_ONLY)
    assert KEY not in str(caught.value)
    assert "pw" not in str(caught.value)


def test_the_key_is_in_no_repr_of_the_backend(paths: AppPaths) -> None:
    with HttpBackend(URL, KEY) as backend:
        shown = [repr(backend), str(backend), repr(backend._t), repr(backend._t.session.auth)]
        shown += [repr(vars(backend))]
    assert all(KEY not in text for text in shown)
    assert repr(backend) == f"HttpBackend({URL!r})"
