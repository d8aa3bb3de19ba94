"""Main windows opened by a test, closed after it if the test did not close them.

The main window deletes itself when closed (on the GUI thread), so tests do not hand it
to ``qtbot.addWidget``, which would close it again after it is gone.
"""

from __future__ import annotations

from typing import Any

import shiboken6

from desktop_app.gui import build_main_window
from desktop_app.gui.main_window import MainWindow

_open: list[MainWindow] = []


def open_main_window(**options: Any) -> MainWindow:
    """``build_main_window(**options)``, remembered for closing after the test."""
    window = build_main_window(**options)
    _open.append(window)
    return window


def close_open_windows() -> None:
    while _open:
        window = _open.pop()
        if shiboken6.isValid(window):
            window.close()
