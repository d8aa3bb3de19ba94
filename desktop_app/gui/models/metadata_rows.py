"""The metadata rows of the new-version dialog: an editable key/value table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, Qt

from desktop_app.core.errors import ValidationError
from desktop_app.core.metadata import normalize_metadata
from desktop_app.gui.i18n import tr
from desktop_app.gui.models.node_tree import ROOT as _ROOT
from desktop_app.gui.models.node_tree import AnyIndex as _AnyIndex
from desktop_app.gui.models.row_table import RowTableModel


def parse_value(text: str) -> Any:
    """A metadata value typed in a cell: JSON when it reads as JSON (``0.9``, ``true``,
    ``[1, 2]``, ``"7"``), otherwise the text itself."""

    def refuse(constant: str) -> Any:
        raise ValueError(constant)

    try:
        return json.loads(text, parse_constant=refuse)
    except ValueError:
        return text


def value_text(value: Any) -> str:
    """The cell text that :func:`parse_value` reads back as ``value``."""
    if isinstance(value, str) and parse_value(value) == value:
        return value
    return json.dumps(value, ensure_ascii=False)


class MetadataRowsModel(RowTableModel):
    """Editable (key, value) text rows; the dialog turns them into a metadata object."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[list[str]] = []

    def headers(self) -> tuple[str, ...]:
        return (tr("Key"), tr("Value"))

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.EditRole,
        ):
            return None
        return self._rows[index.row()][index.column()]

    def flags(self, index: _AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return super().flags(index) | Qt.ItemFlag.ItemIsEditable

    def setData(self, index: _AnyIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        self._rows[index.row()][index.column()] = str(value)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole, role])
        return True

    def add_row(self, key: str = "", value: str = "") -> int:
        row = len(self._rows)
        self.beginInsertRows(_ROOT, row, row)
        self._rows.append([key, value])
        self.endInsertRows()
        return row

    def remove_row(self, row: int) -> None:
        if 0 <= row < len(self._rows):
            self.beginRemoveRows(_ROOT, row, row)
            del self._rows[row]
            self.endRemoveRows()

    def set_pairs(self, pairs: Sequence[tuple[str, str]]) -> None:
        self.beginResetModel()
        self._rows = [[key, value] for key, value in pairs]
        self.endResetModel()

    def pairs(self) -> list[tuple[str, str]]:
        return [(key, value) for key, value in self._rows]

    def metadata(self) -> dict[str, Any]:
        """The rows as a metadata object; raises ValidationError naming the bad row."""
        result: dict[str, Any] = {}
        first_row: dict[str, int] = {}
        for number, (raw_key, raw_value) in enumerate(self._rows, start=1):
            key = raw_key.strip()
            if not key:
                if raw_value.strip():
                    raise ValidationError(
                        tr(
                            "metadata row {row} has a value but no key; add a key or remove it"
                        ).format(row=number)
                    )
                continue
            if key in first_row:
                raise ValidationError(
                    tr("metadata key '{key}' is in rows {first} and {row}; keep one").format(
                        key=key, first=first_row[key], row=number
                    )
                )
            first_row[key] = number
            result[key] = parse_value(raw_value)
        return normalize_metadata(result)


# -- the dialog ------------------------------------------------------------------------------
