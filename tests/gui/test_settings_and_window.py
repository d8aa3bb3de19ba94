"""The settings dialog, switching backends from it, shortcuts, and the remembered layout."""

from __future__ import annotations

from pathlib import Path

from gui_data import PROJECT, seed_workspace
from live_server import LiveServer
from PySide6.QtWidgets import QDialogButtonBox, QLabel, QLineEdit, QSplitter
from pytestqt.qtbot import QtBot
from windows import open_main_window

from desktop_app.backends.http import HttpBackend
from desktop_app.client.credentials import load_key
from desktop_app.client.paths import AppPaths
from desktop_app.client.settings import GIB, load_settings
from desktop_app.gui.app import AppSession
from desktop_app.gui.settings_dialog import SettingsDialog


def test_settings_dialog_validates_and_saves_like_the_cli(qtbot: QtBot) -> None:
    paths = AppPaths.from_env().ensure()
    dialog = SettingsDialog(load_settings(paths), paths)
    qtbot.addWidget(dialog)
    assert dialog.objectName() == "settingsDialog"
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert dialog.embedded.isChecked()
    assert ok.isEnabled()
    dialog.server.setChecked(True)
    dialog.url.setText("ftp://example.org")
    assert not ok.isEnabled()
    assert "not an http(s) URL" in dialog.findChild(QLabel, "settingsProblem").text()
    dialog.url.setText("https://artifacts.example.org/")
    assert not ok.isEnabled()  # no key yet
    assert "API key" in dialog.problem.text()
    dialog.api_key.setText("adk_0123abcd_secretsecret")
    assert ok.isEnabled()
    dialog.cache_limit.setValue(2.5)
    dialog.transfers.setValue(8)
    saved = dialog.apply()
    assert saved.backend_url == "https://artifacts.example.org"
    reloaded = load_settings(paths)
    assert reloaded.backend_url == "https://artifacts.example.org"
    assert reloaded.cache_max_bytes == int(2.5 * GIB)
    assert reloaded.transfer_workers == 8
    assert reloaded.api_key is None  # the key is not in the settings file...
    assert load_key("https://artifacts.example.org", paths) == "adk_0123abcd_secretsecret"
    assert "secretsecret" not in paths.settings_file.read_text()


def test_switching_to_a_server_in_the_settings_shows_its_data(
    qtbot: QtBot, live_server: LiveServer
) -> None:
    with HttpBackend(live_server.url, live_server.key) as backend:
        seed_workspace(backend, raw_versions=2)
    window = open_main_window(poll_ms=100)
    session = window.findChild(AppSession)
    assert session is not None
    status = window.findChild(QLabel, "connectionStatus")
    qtbot.waitUntil(lambda: status.text().startswith("Online"), timeout=10_000)
    assert window.browse.tree_model.rowCount() == 0  # the embedded store is empty

    dialog = SettingsDialog(session.settings, session.paths, window)
    qtbot.addWidget(dialog)
    dialog.server.setChecked(True)
    dialog.url.setText(live_server.url)
    dialog.api_key.setText(live_server.key)
    session.apply_settings(dialog.apply())

    assert live_server.url in window.findChild(QLabel, "backendLabel").text()
    qtbot.waitUntil(lambda: window.browse.tree_model.rowCount() == 2, timeout=10_000)
    assert window.browse.select_artifact(PROJECT, "raw-images")
    assert window.browse.version_model.rowCount() == 2
    window.close()


def test_shortcuts_and_menus(qtbot: QtBot) -> None:
    window = open_main_window()
    actions = window.menu_actions
    assert actions.refresh.shortcut().toString() == "F5"
    assert actions.find.shortcut().toString() == "Ctrl+F"
    assert actions.quit.shortcut().toString() == "Ctrl+Q"
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus == ["File", "View", "Help"]
    window.show()
    qtbot.waitExposed(window)
    window.menu_actions.find.trigger()
    assert window.focusWidget() is window.findChild(QLineEdit, "searchBox")
    with qtbot.waitSignal(window.refresh_requested, timeout=2000):
        actions.refresh.trigger()
    window.close()


def test_window_layout_is_remembered(qtbot: QtBot, gui_home: Path) -> None:
    first = open_main_window()
    first.show()
    first.resize(760, 540)  # inside the offscreen screen (800 × 600)
    # The window may not go narrower than its widgets (768 px in some processes' fonts).
    size = (first.width(), first.height())
    assert size[0] <= 790
    assert size[1] == 540
    splitter = first.findChild(QSplitter, "mainSplitter")
    splitter.setSizes([150, 250, 300])
    wanted = splitter.sizes()
    first.close()
    assert (gui_home / "config" / "window.ini").exists()

    second = open_main_window()
    second.show()
    assert (second.width(), second.height()) == size
    assert second.findChild(QSplitter, "mainSplitter").sizes() == wanted
    second.close()
