"""Synthesized drag-and-drop events for GUI tests: real QMimeData with file URLs sent to
real widgets, the way Qt delivers a drop (enter, move, then drop on the same widget)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QModelIndex, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QTreeView, QWidget

from desktop_app.gui.models.project_tree import ArtifactFilterProxy, ProjectTreeModel

COPY = Qt.DropAction.CopyAction
LEFT = Qt.MouseButton.LeftButton
NO_KEYS = Qt.KeyboardModifier.NoModifier


def mime_of(*urls: QUrl) -> QMimeData:
    mime = QMimeData()
    mime.setUrls(list(urls))
    return mime


def file_mime(paths: list[Path]) -> QMimeData:
    return mime_of(*(QUrl.fromLocalFile(str(path)) for path in paths))


def center_of(tree: QTreeView, key: tuple[str, ...]) -> QPoint:
    proxy = tree.model()
    assert isinstance(proxy, ArtifactFilterProxy)
    source = proxy.sourceModel()
    assert isinstance(source, ProjectTreeModel)
    index = proxy.mapFromSource(source.index_for_key(key))
    assert index.isValid(), key
    return tree.visualRect(index).center()


def empty_point(tree: QTreeView) -> QPoint:
    point = QPoint(20, tree.viewport().height() - 5)
    assert tree.indexAt(point) == QModelIndex()
    return point


def drag_enter(widget: QWidget, mime: QMimeData, pos: QPoint) -> QDragEnterEvent:
    event = QDragEnterEvent(pos, COPY, mime, LEFT, NO_KEYS)
    QApplication.sendEvent(widget, event)
    return event


def drag_move(widget: QWidget, mime: QMimeData, pos: QPoint) -> QDragMoveEvent:
    event = QDragMoveEvent(pos, COPY, mime, LEFT, NO_KEYS)
    QApplication.sendEvent(widget, event)
    return event


def drop(widget: QWidget, mime: QMimeData, pos: QPoint) -> QDropEvent:
    """The drop alone; Qt sends it to the widget that accepted the drag's enter event."""
    event = QDropEvent(QPointF(pos), COPY, mime, LEFT, NO_KEYS)
    QApplication.sendEvent(widget, event)
    return event


def drop_files(widget: QWidget, paths: list[Path], pos: QPoint) -> QDropEvent:
    """Enter, move and drop ``paths`` at ``pos`` on ``widget``."""
    mime = file_mime(paths)
    drag_enter(widget, mime, pos)
    drag_move(widget, mime, pos)
    return drop(widget, mime, pos)
