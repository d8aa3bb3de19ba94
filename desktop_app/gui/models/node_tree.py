"""The plumbing every tree model over plain node objects shares.

A node has ``children`` (a list of nodes), ``parent`` (a node, or None at the root) and
``row`` (its place among its parent's children). Subclasses build the nodes, keep them
alive (PySide6 does not keep ``internalPointer`` objects alive) and answer ``data``.
"""

from __future__ import annotations

from typing import Any, overload

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt

AnyIndex = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()  # the invisible root, as a default argument


class NodeTreeModel(QAbstractItemModel):
    """index, parent, rowCount, hasChildren and headerData over ``self._root``'s nodes
    (``self._headers`` names the columns)."""

    _root: Any
    _headers: tuple[str, ...] = ()
    column_count = 1

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self._headers)
        ):
            return self._headers[section]
        return None

    def _node(self, index: AnyIndex) -> Any:
        if not index.isValid():
            return self._root
        return index.internalPointer()

    def _index_of(self, node: Any, column: int = 0) -> QModelIndex:
        if node is self._root:
            return QModelIndex()
        return self.createIndex(node.row, column, node)

    def index(self, row: int, column: int, parent: AnyIndex = ROOT) -> QModelIndex:
        # hasIndex() would call back into Python twice; views and proxies call this a lot.
        if parent.isValid():
            if parent.column() > 0:
                return QModelIndex()
            children = parent.internalPointer().children
        else:
            children = self._root.children
        if not (0 <= row < len(children) and 0 <= column < self.column_count):
            return QModelIndex()
        return self.createIndex(row, column, children[row])

    @overload
    def parent(self) -> QObject | None: ...
    @overload
    def parent(self, child: AnyIndex) -> QModelIndex: ...
    def parent(self, child: AnyIndex | None = None) -> QObject | QModelIndex | None:
        if child is None:
            return super().parent()
        if not child.isValid():
            return QModelIndex()
        up = self._node(child).parent
        if up is None or up is self._root:
            return QModelIndex()
        return self.createIndex(up.row, 0, up)

    def rowCount(self, parent: AnyIndex = ROOT) -> int:
        if parent.column() > 0:
            return 0
        return len(self._node(parent).children)

    def columnCount(self, parent: AnyIndex = ROOT) -> int:
        return self.column_count

    def hasChildren(self, parent: AnyIndex = ROOT) -> bool:
        return self.rowCount(parent) > 0
