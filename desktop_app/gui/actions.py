"""Every menu entry and shortcut of the main window, in one place."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenuBar

from desktop_app.gui.i18n import tr


@dataclass(frozen=True)
class Actions:
    """The window's actions; the main window connects their ``triggered`` signals."""

    refresh: QAction
    find: QAction
    settings: QAction
    quit: QAction
    about: QAction
    upload: QAction
    download: QAction
    keep_offline: QAction
    stop_offline: QAction
    open_file: QAction
    show_file: QAction
    download_files: QAction
    show_transfers: QAction


def create_actions(window: QMainWindow) -> Actions:
    def make(name: str, text: str, shortcut: QKeySequence | None, tip: str) -> QAction:
        action = QAction(text, window)
        action.setObjectName(name)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.setStatusTip(tip)
        window.addAction(action)  # shortcuts work wherever the focus is
        return action

    return Actions(
        refresh=make(
            "refreshAction",
            tr("&Refresh"),
            QKeySequence("F5"),
            tr("Sync with the backend now"),
        ),
        find=make(
            "findAction",
            tr("&Find…"),
            QKeySequence("Ctrl+F"),
            tr("Search artifacts by name"),
        ),
        settings=make(
            "settingsAction",
            tr("&Settings…"),
            QKeySequence("Ctrl+,"),
            tr("Backend, cache, transfers and language"),
        ),
        quit=make("quitAction", tr("&Quit"), QKeySequence("Ctrl+Q"), ""),
        about=make("aboutAction", tr("&About Artifact Desk"), None, ""),
        upload=make(
            "uploadAction",
            tr("&Upload files…"),
            QKeySequence("Ctrl+U"),
            tr("Make a new version from files or a folder (or drop them on the window)"),
        ),
        download=make(
            "downloadAction",
            tr("&Download version…"),
            QKeySequence("Ctrl+D"),
            tr("Download the selected version into a folder you choose"),
        ),
        keep_offline=make(
            "keepOfflineAction",
            tr("&Keep available offline"),
            None,
            tr("Fetch the selected version into the cache and never evict it"),
        ),
        stop_offline=make(
            "stopOfflineAction", tr("S&top keeping offline"), None, tr("Let the cache evict it")
        ),
        open_file=make(
            "openFileAction", tr("&Open"), None, tr("Open the file with its application")
        ),
        show_file=make(
            "showFileAction", tr("Show in &folder"), None, tr("Show the file in the file manager")
        ),
        download_files=make(
            "downloadFilesAction",
            tr("Download &selected files…"),
            None,
            tr("Download the selected files into a folder you choose"),
        ),
        show_transfers=make(
            "showTransfersAction",
            tr("&Transfers"),
            QKeySequence("Ctrl+T"),
            tr("Show the transfers"),
        ),
    )


def build_menus(menu_bar: QMenuBar, actions: Actions) -> None:
    file_menu = menu_bar.addMenu(tr("&File"))
    file_menu.addAction(actions.upload)
    file_menu.addAction(actions.download)
    file_menu.addAction(actions.keep_offline)
    file_menu.addSeparator()
    file_menu.addAction(actions.settings)
    file_menu.addSeparator()
    file_menu.addAction(actions.quit)
    view_menu = menu_bar.addMenu(tr("&View"))
    view_menu.addAction(actions.refresh)
    view_menu.addAction(actions.find)
    view_menu.addAction(actions.show_transfers)
    help_menu = menu_bar.addMenu(tr("&Help"))
    help_menu.addAction(actions.about)
