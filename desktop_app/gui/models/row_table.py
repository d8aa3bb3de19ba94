"""The plumbing of a flat table model over a list of rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, Qt

from desktop_app.gui.models.node_tree import ROOT, AnyIndex


class RowTableModel(QAbstractTableModel):
    """rowCount, columnCount and headerData over ``self._rows`` and :meth:`headers`."""

    _rows: Sequence[Any] = ()

    def headers(self) -> Sequence[str]:
        """The column titles (translated); their number is the number of columns."""
        raise NotImplementedError

    def rowCount(self, parent: AnyIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self.headers())

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
