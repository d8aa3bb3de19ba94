"""The version list: one artifact's versions, newest first, sortable by any column.

Sorting happens in Python on the rows (a proxy would call ``data()`` for every row on every
sort), followed by ``layoutChanged``.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from desktop_app.client.mirror import VersionRow
from desktop_app.client.units import format_size
from desktop_app.gui.i18n import tr

Index = QModelIndex | QPersistentModelIndex


class Role(enum.IntEnum):
    VERSION_ID = Qt.ItemDataRole.UserRole + 1
    SORT_KEY = enum.auto()
    ROW = enum.auto()  # the VersionRow itself, for the detail pane


def state_text(row: VersionRow) -> str:
    """Committed, pending edits, or available offline (every file in the local cache)."""
    if row.pending_edits:
        return tr("edits pending")
    if row.available_offline:
        return tr("available offline")
    return tr("committed")


def format_time(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds)) if seconds else ""


_Column = tuple[str, Callable[[VersionRow], str], Callable[[VersionRow], object]]

COLUMNS: tuple[_Column, ...] = (
    ("Version", lambda r: r.info.version or "", lambda r: r.info.index or 0),
    ("Aliases", lambda r: ", ".join(r.info.aliases), lambda r: ", ".join(r.info.aliases)),
    ("Tags", lambda r: ", ".join(r.info.tags), lambda r: ", ".join(r.info.tags)),
    ("Created", lambda r: format_time(r.info.created_at), lambda r: r.info.created_at),
    ("Size", lambda r: format_size(r.info.size), lambda r: r.info.size),
    ("Files", lambda r: str(r.info.file_count), lambda r: r.info.file_count),
    ("Run", lambda r: r.info.logged_by or "", lambda r: r.info.logged_by or ""),
    ("State", state_text, state_text),
)
_RIGHT_ALIGNED = {4, 5}


class VersionTableModel(QAbstractTableModel):
    """The versions of one artifact as rows."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[VersionRow] = []
        self._sort = (0, Qt.SortOrder.DescendingOrder)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(COLUMNS)
        ):
            return tr(COLUMNS[section][0])
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[column][1](row)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in _RIGHT_ALIGNED:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            return row.info.description or None
        if role == Role.VERSION_ID:
            return row.info.id
        if role == Role.SORT_KEY:
            return COLUMNS[column][2](row)
        if role == Role.ROW:
            return row
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        self._apply_sort()
        self.layoutChanged.emit()

    def _apply_sort(self) -> None:
        column, order = self._sort
        key = COLUMNS[column][2]
        self._rows.sort(
            key=lambda r: (key(r), r.info.index or 0),
            reverse=order == Qt.SortOrder.DescendingOrder,
        )

    def set_rows(self, rows: Sequence[VersionRow]) -> None:
        """Show another artifact's versions (or the same ones, refreshed)."""
        self.beginResetModel()
        self._rows = list(rows)
        self._apply_sort()
        self.endResetModel()

    def update_rows(self, rows: Sequence[VersionRow]) -> None:
        """Refresh the same artifact: a reset only when versions came or went."""
        if [r.info.id for r in rows] and {r.info.id for r in rows} == {
            r.info.id for r in self._rows
        }:
            by_id = {r.info.id: r for r in rows}
            self._rows = [by_id[r.info.id] for r in self._rows]
            if self._rows:
                self.dataChanged.emit(
                    self.index(0, 0), self.index(len(self._rows) - 1, len(COLUMNS) - 1)
                )
            return
        self.set_rows(rows)

    def row_for_id(self, version_id: str) -> int:
        return next((i for i, r in enumerate(self._rows) if r.info.id == version_id), -1)

    def version_row(self, row: int) -> VersionRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None
