"""Views whose rows can be dragged out to the file manager as real files."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QAbstractItemView, QTableView, QTreeView

DragResolver = Callable[[], list[Path] | None]


class _DragOut:
    """Starts a drag of the files ``drag_resolver`` names; None means "not ready yet"
    (the resolver has started fetching them and told the user to drag again)."""

    drag_resolver: DragResolver | None = None

    def _setup_drag_out(self, view: QAbstractItemView) -> None:
        view.setDragEnabled(True)
        view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)

    def startDrag(self, supportedActions: Qt.DropAction) -> None:  # noqa: N803 (Qt's name)
        paths = self.drag_resolver() if self.drag_resolver is not None else None
        if not paths:
            return
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(os.fspath(p)) for p in paths])
        drag = QDrag(self)  # type: ignore[arg-type]
        drag.setMimeData(mime)
        drag.exec(Qt.DropAction.CopyAction)


class FileTreeView(_DragOut, QTreeView):
    """The Files tab's tree; selected files drag out as copies."""

    def __init__(self) -> None:
        super().__init__()
        self._setup_drag_out(self)


class VersionTableView(_DragOut, QTableView):
    """The version list; a version drags out as its folder."""

    def __init__(self) -> None:
        super().__init__()
        self._setup_drag_out(self)
