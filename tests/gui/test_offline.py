"""Offline-first against a real server: stop it, keep browsing, edit, start it again."""

from __future__ import annotations

import contextlib
from pathlib import Path

from gui_data import PROJECT, seed_workspace
from live_server import run_live_server
from PySide6.QtWidgets import QLabel, QMessageBox, QPlainTextEdit
from pytestqt.qtbot import QtBot
from windows import open_main_window

from desktop_app.backends.http import HttpBackend
from desktop_app.backends.local import LocalBackend
from desktop_app.client.credentials import store_key
from desktop_app.client.paths import AppPaths
from desktop_app.client.session import Client
from desktop_app.client.settings import load_settings, save_settings
from desktop_app.gui.models.versions import Role as VersionRole


def log_in(url: str, key: str) -> AppPaths:
    """What ``artifact-desk login`` leaves behind: the URL in the settings, the key stored."""
    paths = AppPaths.from_env().ensure()
    store_key(url, key, paths)
    settings = load_settings(paths)
    settings.backend_url = url
    save_settings(paths, settings)
    return paths


def test_keeps_working_offline_and_syncs_edits_on_reconnect(qtbot: QtBot, tmp_path: Path) -> None:
    server_dir = tmp_path / "server"
    with contextlib.ExitStack() as first_run:
        server = first_run.enter_context(run_live_server(server_dir))
        url, key = server.url, server.key
        with HttpBackend(url, key) as backend:
            ws = seed_workspace(backend, raw_versions=3)
        paths = log_in(url, key)
        split = ws.versions["train-split:v1"]
        with Client(paths=paths) as client:  # a download before: train.jsonl is in the cache
            client.get(split, tmp_path / "download")

        window = open_main_window(poll_ms=100, retry_ms=(100, 400))
        window.show()
        status = window.findChild(QLabel, "connectionStatus")
        qtbot.waitUntil(lambda: status.text().startswith("Online"), timeout=10_000)
        assert url in window.findChild(QLabel, "backendLabel").text()
        assert window.browse.select_artifact(PROJECT, "train-split")
        qtbot.waitUntil(lambda: window.detail.files_model.rowCount() == 2, timeout=10_000)

    # The server is gone.
    qtbot.waitUntil(lambda: status.text().startswith("Offline"), timeout=10_000)

    # Everything synced before is still there.
    assert window.browse.select_artifact(PROJECT, "raw-images")
    assert window.browse.version_model.rowCount() == 3
    assert window.browse.select_artifact(PROJECT, "train-split")
    detail = window.detail
    qtbot.waitUntil(lambda: detail.files_model.rowCount() == 2, timeout=10_000)
    # A cached file opens.
    detail.select_file("train.jsonl")
    text_view = window.findChild(QPlainTextEdit, "filePreviewText")
    qtbot.waitUntil(lambda: '{"n": 1}' in text_view.toPlainText(), timeout=10_000)
    assert text_view.isVisibleTo(detail.preview)

    # An edit made offline shows at once, marked as pending.
    detail.overview.description.setPlainText("Edited on a plane")
    detail.overview.save_description.click()
    detail.overview.alias_input.setText("reviewed")
    detail.overview.add_alias_button.click()
    model = window.browse.version_model
    row = model.row_for_id(split.id)
    qtbot.waitUntil(
        lambda: "reviewed" in model.index(row, 0).data(VersionRole.ROW).info.aliases,
        timeout=10_000,
    )
    assert model.index(row, 7).data() == "edits pending"
    shown = model.index(row, 0).data(VersionRole.ROW).info
    assert shown.description == "Edited on a plane"
    assert "reviewed" in shown.aliases

    # The server comes back on the same address: the edit arrives without being asked.
    port = int(url.rsplit(":", 1)[1])
    with run_live_server(server_dir, port=port, key=key):
        with HttpBackend(url, key) as backend:
            qtbot.waitUntil(
                lambda: backend.get_version(split.id).description == "Edited on a plane",
                timeout=15_000,
            )
            qtbot.waitUntil(
                lambda: "reviewed" in backend.get_version(split.id).aliases, timeout=15_000
            )
        qtbot.waitUntil(lambda: status.text().startswith("Online"), timeout=15_000)
        qtbot.waitUntil(lambda: model.index(row, 7).data() != "edits pending", timeout=10_000)
        window.close()


def test_an_offline_edit_that_conflicts_is_reported(qtbot: QtBot, tmp_path: Path) -> None:
    server_dir = tmp_path / "server"
    with run_live_server(server_dir) as server:
        url, key = server.url, server.key
        with HttpBackend(url, key) as backend:
            ws = seed_workspace(backend, raw_versions=1)
        log_in(url, key)
        window = open_main_window(poll_ms=100, retry_ms=(100, 400))
        status = window.findChild(QLabel, "connectionStatus")
        qtbot.waitUntil(lambda: status.text().startswith("Online"), timeout=10_000)
        corpus = ws.versions["corpus:v0"]
        window.browse.select_version(corpus.id)
    qtbot.waitUntil(lambda: status.text().startswith("Offline"), timeout=10_000)
    window.detail.overview.description.setPlainText("mine")
    window.detail.overview.save_description.click()
    # Someone else changes it first, on the server's own store while our window cannot
    # reach it (so the change certainly lands before ours is sent).
    server_store = LocalBackend(server_dir)
    server_store.update_version(corpus.id, description="theirs")
    server_store.close()
    port = int(url.rsplit(":", 1)[1])
    with run_live_server(server_dir, port=port, key=key):
        qtbot.waitUntil(
            lambda: window.findChild(QMessageBox, "editRefusedMessage") is not None,
            timeout=15_000,
        )
        box = window.findChild(QMessageBox, "editRefusedMessage")
        assert "theirs" in box.text()
        assert "was not applied" in box.text()
        with HttpBackend(url, key) as backend:
            assert backend.get_version(corpus.id).description == "theirs"
        qtbot.waitUntil(
            lambda: window.detail.overview.description.toPlainText() == "theirs", timeout=10_000
        )
        box.close()
        window.close()
