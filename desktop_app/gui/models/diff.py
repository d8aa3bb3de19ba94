"""Table models over a :class:`~desktop_app.client.compare.VersionDiff`: files and metadata."""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from desktop_app.client.compare import Change, FileDiff, MetadataDiff
from desktop_app.client.units import format_size
from desktop_app.gui.i18n import tr
from desktop_app.gui.models.row_table import RowTableModel

_ROOT = QModelIndex()
_MAX_SHOWN_CHARS = 200
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

AnyIndex = QModelIndex | QPersistentModelIndex


def change_label(change: Change) -> str:
    if change == Change.ADDED:
        return tr("added")
    if change == Change.REMOVED:
        return tr("removed")
    return tr("changed")


def _absent() -> str:
    return tr("—", "a value that does not exist on this side of a comparison")


class FileDiffModel(RowTableModel):
    """The files that differ between two versions: path, change, old size, new size."""

    class Role(enum.IntEnum):
        FILE_DIFF = Qt.ItemDataRole.UserRole.value
        PATH = enum.auto()
        CHANGE = enum.auto()
        OLD_SIZE = enum.auto()
        NEW_SIZE = enum.auto()

    COLUMNS = ("path", "change", "old_size", "new_size")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: tuple[FileDiff, ...] = ()

    def set_files(self, files: Sequence[FileDiff]) -> None:
        self.beginResetModel()
        self._rows = tuple(files)
        self.endResetModel()

    def headers(self) -> tuple[str, ...]:
        return (tr("Path"), tr("Change"), tr("Old size"), tr("New size"))

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        item = self._rows[index.row()]
        column = self.COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            if column == "path":
                return item.path
            if column == "change":
                return change_label(item.change)
            present = item.change != (Change.ADDED if column == "old_size" else Change.REMOVED)
            size = item.old_size if column == "old_size" else item.new_size
            if not present:
                return ""
            return _absent() if size is None else format_size(size)
        if role == Qt.ItemDataRole.ToolTipRole and column == "path":
            return item.path
        if role == Qt.ItemDataRole.TextAlignmentRole and column in ("old_size", "new_size"):
            return _RIGHT
        return self._role_data(item, role)

    def _role_data(self, item: FileDiff, role: int) -> Any:
        if role == self.Role.FILE_DIFF:
            return item
        if role == self.Role.PATH:
            return item.path
        if role == self.Role.CHANGE:
            return item.change.value
        if role == self.Role.OLD_SIZE:
            return item.old_size
        if role == self.Role.NEW_SIZE:
            return item.new_size
        return None


def format_value(value: Any) -> str:
    """A metadata value as JSON text, so ``"1"`` and ``1`` read differently."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class MetadataDiffModel(RowTableModel):
    """The metadata values that differ: dotted key, old value, new value."""

    class Role(enum.IntEnum):
        METADATA_DIFF = Qt.ItemDataRole.UserRole.value
        KEY = enum.auto()
        CHANGE = enum.auto()
        OLD_VALUE = enum.auto()
        NEW_VALUE = enum.auto()

    COLUMNS = ("key", "old", "new")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: tuple[MetadataDiff, ...] = ()

    def set_metadata(self, items: Sequence[MetadataDiff]) -> None:
        self.beginResetModel()
        self._rows = tuple(items)
        self.endResetModel()

    def headers(self) -> tuple[str, ...]:
        return (tr("Key"), tr("Old"), tr("New"))

    def _text(self, item: MetadataDiff, column: str) -> str:
        if column == "key":
            return item.key
        if column == "old":
            return _absent() if item.change == Change.ADDED else format_value(item.old)
        return _absent() if item.change == Change.REMOVED else format_value(item.new)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        item = self._rows[index.row()]
        column = self.COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            text = self._text(item, column)
            if len(text) > _MAX_SHOWN_CHARS:
                return text[: _MAX_SHOWN_CHARS - 1] + "…"
            return text
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._text(item, column)
        if role == self.Role.METADATA_DIFF:
            return item
        if role == self.Role.KEY:
            return item.key
        if role == self.Role.CHANGE:
            return item.change.value
        if role == self.Role.OLD_VALUE:
            return item.old
        if role == self.Role.NEW_VALUE:
            return item.new
        return None
