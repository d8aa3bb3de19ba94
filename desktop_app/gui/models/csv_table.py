"""The first rows of a CSV file as a table; the first row gives the column headers."""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

_AnyIndex = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()  # the invisible root, as a default argument


class Role(IntEnum):
    """Data the views read from :class:`CsvTableModel` besides the displayed text."""

    CELL = Qt.ItemDataRole.UserRole + 1  # the cell's text, "" for a missing cell


class CsvTableModel(QAbstractTableModel):
    """Rows of strings; short rows are padded with empty cells to the widest row."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._header: list[str] = []
        self._rows: list[list[str]] = []
        self._columns = 0

    def set_rows(self, rows: Sequence[Sequence[str]], *, header: bool = True) -> None:
        """Show ``rows``; with ``header`` the first row names the columns."""
        self.beginResetModel()
        all_rows = [list(row) for row in rows]
        self._header = all_rows.pop(0) if header and all_rows else []
        self._rows = all_rows
        self._columns = max((len(row) for row in [self._header, *all_rows]), default=0)
        self.endResetModel()

    def rowCount(self, parent: _AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else self._columns

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Role.CELL):
            return None
        row = self._rows[index.row()]
        column = index.column()
        return row[column] if column < len(row) else ""

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or section < 0:
            return None
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1) if section < len(self._rows) else None
        if section >= self._columns:
            return None
        return self._header[section] if section < len(self._header) else str(section + 1)
