"""The status bar: which backend, whether it is reachable, and how big the cache is."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from desktop_app.client.units import format_size
from desktop_app.gui.i18n import tr
from desktop_app.gui.worker import status_text


class StatusBar(QStatusBar):
    """Backend on the left; connection state and cache size as permanent widgets."""

    def __init__(self, backend_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusBar")
        self.backend = QLabel(backend_label)
        self.backend.setObjectName("backendLabel")
        self.connection = QLabel(status_text("", 0))
        self.connection.setObjectName("connectionStatus")
        self.cache = QLabel()
        self.cache.setObjectName("cacheSize")
        self.addWidget(self.backend, 1)
        self.addPermanentWidget(self.connection)
        self.addPermanentWidget(self.cache)
        self.state = ""

    @Slot(str, float)
    def on_worker_status_changed(self, state: str, last_sync: float) -> None:
        self.state = state
        self.connection.setText(status_text(state, last_sync))

    @Slot(int)
    def on_worker_cache_size_changed(self, size: int) -> None:
        self.cache.setText(tr("Cache: {size}").format(size=format_size(size)))
