"""The version list: one artifact's versions, newest first, sortable by any column.

Sorting happens in Python on the rows (a proxy would call ``data()`` for every row on every
sort), followed by ``layoutChanged``.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from desktop_app.client.mirror import VersionRow
from desktop_app.client.units import format_size
from desktop_app.core.records import VersionInfo
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
_ROLES = frozenset(
    {
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.TextAlignmentRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.FontRole,
        *Role,
    }
)


class VersionTableModel(QAbstractTableModel):
    """The versions of one artifact as rows."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[VersionRow] = []
        # Uploads of this artifact not committed yet: (title, state), shown first.
        self._pending: list[tuple[str, str]] = []
        self._sort = (0, Qt.SortOrder.DescendingOrder)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._pending) + len(self._rows)

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
        # The view asks for a dozen roles per cell on every paint: answer the ones this
        # model never sets before looking anything up.
        if role not in _ROLES or not index.isValid():
            return None
        position, pending = index.row(), len(self._pending)
        if position < pending:
            return self._pending_data(position, index.column(), role)
        if not 0 <= position - pending < len(self._rows):
            return None
        row = self._rows[position - pending]
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

    def _pending_data(self, row: int, column: int, role: int) -> object:
        title, state = self._pending[row]
        if role == Qt.ItemDataRole.DisplayRole:
            return {0: tr("new"), 1: "", 7: state}.get(column, "")
        if role == Qt.ItemDataRole.ToolTipRole:
            return title
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setItalic(True)
            return font
        return None

    def set_pending(self, pending: Sequence[tuple[str, str]]) -> None:
        """Show these not-yet-committed uploads (title, state) above the versions."""
        pending = list(pending)
        if len(pending) == len(self._pending):
            self._pending = pending
            if pending:
                self.dataChanged.emit(
                    self.index(0, 0), self.index(len(pending) - 1, len(COLUMNS) - 1)
                )
            return
        self.beginResetModel()
        self._pending = pending
        self.endResetModel()

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
            self.dataChanged.emit(
                self.index(0, 0), self.index(self.rowCount() - 1, len(COLUMNS) - 1)
            )
            return
        self.set_rows(rows)

    def infos(self) -> list[VersionInfo]:
        """The versions shown, in the order shown (not the uploads still pending)."""
        return [r.info for r in self._rows]

    def row_for_id(self, version_id: str) -> int:
        found = next((i for i, r in enumerate(self._rows) if r.info.id == version_id), -1)
        return found if found < 0 else found + len(self._pending)

    def row_for_index(self, position: int) -> int:
        """The table row of the ``position``-th version as sorted (-1 when there is none)."""
        return position + len(self._pending) if 0 <= position < len(self._rows) else -1

    def version_row(self, row: int) -> VersionRow | None:
        row -= len(self._pending)
        return self._rows[row] if 0 <= row < len(self._rows) else None
