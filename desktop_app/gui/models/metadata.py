"""A version's metadata (a JSON object) as an expandable tree of keys, values and types."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QObject,
    Qt,
)

from desktop_app.gui.i18n import tr
from desktop_app.gui.models.node_tree import AnyIndex, NodeTreeModel

# Long strings are cut in the Value column; the tooltip and Role.VALUE hold them whole.
_MAX_SHOWN = 200


class Role(IntEnum):
    """Data the views read from :class:`JsonTreeModel` besides the displayed text."""

    KEY_PATH = Qt.ItemDataRole.UserRole + 1
    VALUE = Qt.ItemDataRole.UserRole + 2
    TYPE = Qt.ItemDataRole.UserRole + 3


class Column(IntEnum):
    KEY = 0
    VALUE = 1
    TYPE = 2


class _Node:
    __slots__ = ("children", "key", "key_path", "parent", "row", "value")

    def __init__(self, key: str, key_path: str, value: Any, parent: _Node | None, row: int):
        self.key = key
        self.key_path = key_path
        self.value = value
        self.parent = parent
        self.row = row
        self.children: list[_Node] = []


def json_type(value: Any) -> str:
    """The JSON name of ``value``'s type: object, array, string, number, boolean or null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


def _child_path(parent_path: str, key: str, in_array: bool) -> str:
    if in_array:
        return f"{parent_path}[{key}]"
    return f"{parent_path}.{key}" if parent_path else key


class JsonTreeModel(NodeTreeModel):
    """Nested objects and arrays as a tree with columns Key, Value and Type.

    ``Role.KEY_PATH`` is the dotted path of an item, with array positions in brackets:
    ``optimizer.layers[2].units``.
    """

    column_count = len(Column)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._root = _Node("", "", {}, None, 0)
        # PySide6 does not keep internalPointer objects alive: this list owns every node.
        self._nodes: list[_Node] = [self._root]
        self._headers = (tr("Key"), tr("Value"), tr("Type"))

    def set_data(self, value: Mapping[str, Any]) -> None:
        """Show ``value`` (a JSON object) as the tree; the old tree is dropped."""
        self.beginResetModel()
        root = _Node("", "", value, None, 0)
        nodes = [root]
        stack = [root]
        while stack:
            node = stack.pop()
            items: list[tuple[str, Any]]
            if isinstance(node.value, Mapping):
                items = [(str(key), child) for key, child in node.value.items()]
                in_array = False
            elif isinstance(node.value, list | tuple):
                items = [(str(i), child) for i, child in enumerate(node.value)]
                in_array = True
            else:
                continue
            for row, (key, child_value) in enumerate(items):
                path = _child_path(node.key_path, key, in_array)
                child = _Node(key, path, child_value, node, row)
                node.children.append(child)
                nodes.append(child)
                stack.append(child)
        self._root, self._nodes = root, nodes
        self.endResetModel()

    # -- the model interface --------------------------------------------------------------
    def _node(self, index: AnyIndex) -> _Node:
        node: _Node = super()._node(index)
        return node

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if not self._node(index).children:
            flags |= Qt.ItemFlag.ItemNeverHasChildren
        return flags

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node = self._node(index)
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == Column.KEY:
                return node.key
            if column == Column.VALUE:
                return self._shown_value(node.value)
            if column == Column.TYPE:
                return json_type(node.value)
            return None
        if role == Qt.ItemDataRole.ToolTipRole and column == Column.VALUE:
            if isinstance(node.value, str) and len(node.value) > _MAX_SHOWN:
                return node.value
            return None
        if role == Role.KEY_PATH:
            return node.key_path
        if role == Role.VALUE:
            return node.value
        if role == Role.TYPE:
            return json_type(node.value)
        return None

    @staticmethod
    def _shown_value(value: Any) -> str:
        if isinstance(value, Mapping):
            return tr("%n key(s)", n=len(value))
        if isinstance(value, list | tuple):
            return tr("%n item(s)", n=len(value))
        if isinstance(value, str):
            shown = value.replace("\n", "\u21b5")
            return shown if len(shown) <= _MAX_SHOWN else shown[:_MAX_SHOWN] + "\u2026"
        if isinstance(value, float) and not math.isfinite(value):
            return repr(value)
        try:
            return json.dumps(value)
        except (TypeError, ValueError):
            return repr(value)
