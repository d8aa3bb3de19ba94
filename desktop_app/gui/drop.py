"""Files dropped from the file manager: which local paths, and onto which tree node.

:class:`FileDropFilter` watches the project tree's viewport and the main window, accepts
drags that carry local files, and reports a drop as ``files_dropped(paths, target)``.
Everything else (links from a browser, the app's own drags) passes through untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject, QPoint, Signal
from PySide6.QtGui import QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QTreeView, QWidget

from desktop_app.gui.models.project_tree import Role


def carries_local_files(mime: QMimeData) -> bool:
    """Whether ``mime`` names a local file; cheap enough for every drag move (no disk)."""
    return mime.hasUrls() and any(url.isLocalFile() for url in mime.urls())


def local_paths(mime: QMimeData) -> list[Path]:
    """The existing local files and folders ``mime`` names, in order, without repeats."""
    if not mime.hasUrls():
        return []
    paths: list[Path] = []
    for url in mime.urls():
        if not url.isLocalFile():
            continue
        path = Path(url.toLocalFile())
        if path.exists() and path not in paths:
            paths.append(path)
    return paths


@dataclass(frozen=True)
class DropTarget:
    """Where files were dropped: an artifact (all three set), a type, a project, or nowhere."""

    project: str | None = None
    name: str | None = None
    type_: str | None = None

    @property
    def is_empty(self) -> bool:
        return self.project is None and self.name is None and self.type_ is None


def drop_target_at(tree: QTreeView, pos: QPoint) -> DropTarget:
    """The node under ``pos`` (viewport coordinates), read through the project tree roles."""
    index = tree.indexAt(pos)
    if not index.isValid():
        return DropTarget()
    kind = index.data(Role.KIND)
    project = index.data(Role.PROJECT)
    if kind == "artifact":
        return DropTarget(project, index.data(Role.NAME), index.data(Role.TYPE))
    if kind == "type":
        return DropTarget(project, None, index.data(Role.TYPE))
    if kind == "project":
        return DropTarget(project)
    return DropTarget()


class FileDropFilter(QObject):
    """An event filter that turns drops of local files on the watched widgets into a signal.

    Install it with :meth:`watch`. On the ``tree``'s viewport a drop names the node under
    the pointer; on any other widget the target is empty (the dialog asks where).
    """

    files_dropped = Signal(list, object)  # list[Path], DropTarget

    def __init__(self, tree: QTreeView | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tree = tree

    def watch(self, widget: QWidget) -> None:
        """Accept file drops on ``widget`` and report them."""
        widget.setAcceptDrops(True)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, QDragMoveEvent)  # a QDragEnterEvent is one too
            if not carries_local_files(event.mimeData()):
                return False  # not ours: the widget decides
            event.acceptProposedAction()
            return True
        if kind == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            paths = local_paths(event.mimeData())
            if not paths:
                return False
            event.acceptProposedAction()
            target = DropTarget()
            if self._tree is not None and watched is self._tree.viewport():
                target = drop_target_at(self._tree, event.position().toPoint())
            self.files_dropped.emit(paths, target)
            return True
        return super().eventFilter(watched, event)
