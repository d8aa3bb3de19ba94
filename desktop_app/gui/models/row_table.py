"""The plumbing of a flat table model over a list of rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, Qt

from desktop_app.gui.models.node_tree import ROOT, AnyIndex


class RowTableModel(QAbstractTableModel):
    """rowCount, columnCount and headerData over ``self._rows`` and :meth:`headers`."""

    _rows: Sequence[Any] = ()
    _column_count: int | None = None  # counted once: views ask for it on every paint

    def headers(self) -> Sequence[str]:
        """The column titles (translated); their number is the number of columns."""
        raise NotImplementedError

    def rowCount(self, parent: AnyIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = ROOT) -> int:
        if parent.isValid():
            return 0
        if self._column_count is None:
            self._column_count = len(self.headers())
        return self._column_count

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        headers = self.headers()
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(headers)
        ):
            return headers[section]
        return None
