"""``login`` and ``logout`` against a real server on a loopback socket."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest
from live_server import LiveServer

from desktop_app.cli.main import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("ARTIFACT_DESK_HOME", str(home))
    monkeypatch.setenv("ARTIFACT_DESK_KEYRING", "file")  # no secure keyring on CI machines
    for name in ("ARTIFACT_DESK_URL", "ARTIFACT_DESK_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return home


def login(monkeypatch: pytest.MonkeyPatch, url: str, key: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(key + "\n"))  # not a terminal: one line
    return main(["login", url])


def test_login_stores_the_key_privately_and_switches_to_the_server(
    home: Path,
    live_server: LiveServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    assert login(monkeypatch, live_server.url, live_server.key) == 0
    out = capsys.readouterr().out
    assert live_server.key not in out

    credentials = home / "config" / "credentials.json"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    settings = json.loads((home / "config" / "settings.json").read_text())
    assert settings["backend_url"] == live_server.url
    assert live_server.key not in json.dumps(settings)

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.txt").write_text("on the server")
    assert main(["put", "data", "-n", "team/proj/ds", "-t", "dataset"]) == 0
    server_store = live_server.app.state.store  # type: ignore[attr-defined]
    assert [c.name for c in server_store.list_collections("team/proj")] == ["ds"]

    assert main(["logout"]) == 0
    assert live_server.url not in credentials.read_text()
    capsys.readouterr()
    assert main(["ls"]) == 0  # the embedded store again: empty
    assert "no projects" in capsys.readouterr().err


def test_login_with_a_wrong_key_stores_nothing(
    home: Path,
    live_server: LiveServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wrong = "adk_00000000_not-the-right-secret"

    assert login(monkeypatch, live_server.url, wrong) == 7
    err = capsys.readouterr().err
    assert "refused the API key" in err
    assert "not-the-right-secret" not in err
    assert not (home / "config" / "credentials.json").exists()
    assert not (home / "config" / "settings.json").exists()
