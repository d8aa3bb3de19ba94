"""The desktop window (PySide6). ``build_main_window()`` opens it on the configured backend."""

from __future__ import annotations

from desktop_app.gui.app import build_main_window, run

__all__ = ["build_main_window", "run"]
