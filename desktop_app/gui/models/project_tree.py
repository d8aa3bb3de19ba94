"""The project tree: project → artifact type → artifact, with version counts.

Fed from the mirror's artifact list. A refresh merges the new list into the existing nodes
with row inserts, removals and ``dataChanged``, so a sync never collapses what the user
expanded or loses the selection.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle

from desktop_app.client.mirror import CollectionRow
from desktop_app.gui.i18n import tr
from desktop_app.gui.models.node_tree import NodeTreeModel

Index = QModelIndex | QPersistentModelIndex


# (key, label, count, children) of a node the tree should have after a refresh; children
# None keeps the node's subtree as it is.
_Wanted = tuple[tuple[str, ...], str, int, list["_Wanted"] | None]


class Role(enum.IntEnum):
    KIND = Qt.ItemDataRole.UserRole + 1  # "project", "type" or "artifact"
    PROJECT = enum.auto()
    TYPE = enum.auto()
    NAME = enum.auto()
    VERSION_COUNT = enum.auto()
    KEY = enum.auto()  # a tuple naming the node, stable across refreshes


@dataclass(eq=False)
class Node:
    kind: str
    key: tuple[str, ...]
    label: str
    parent: Node | None
    count: int = 0
    children: list[Node] = field(default_factory=list)

    @property
    def row(self) -> int:
        return 0 if self.parent is None else self.parent.children.index(self)


class ProjectTreeModel(NodeTreeModel):
    """Projects, their artifact types and their artifacts, as one lazy-free small tree."""

    def __init__(self, parent: QApplication | None = None) -> None:
        super().__init__(parent)
        self._root = Node("root", (), "", None)
        self._projects: dict[str, dict[str, CollectionRow]] = {}  # what the tree shows
        self._icons: dict[str, QIcon] = {}

    # -- Qt model interface --------------------------------------------------------------
    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return tr("Artifacts")
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        node: Node = index.internalPointer()
        if role == Qt.ItemDataRole.DisplayRole:
            return node.label if node.kind == "project" else f"{node.label}  ({node.count})"
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icon(node.kind)
        if role == Qt.ItemDataRole.ToolTipRole:
            if node.kind == "artifact":
                return tr("{name}: {count} versions").format(name=node.label, count=node.count)
            return None
        if role < Role.KIND:  # the many roles a view asks for on every paint and we leave
            return None
        return self._role_data(node, role)

    def _icon(self, kind: str) -> QIcon:
        """One icon per kind of node, made once: the view asks for it on every paint."""
        icon = self._icons.get(kind)
        if icon is None:
            pixmap = {
                "project": QStyle.StandardPixmap.SP_DirHomeIcon,
                "type": QStyle.StandardPixmap.SP_DirIcon,
                "artifact": QStyle.StandardPixmap.SP_FileIcon,
            }[kind]
            icon = self._icons[kind] = QApplication.style().standardIcon(pixmap)
        return icon

    def _role_data(self, node: Node, role: int) -> object:
        if role == Role.KIND:
            return node.kind
        if role == Role.KEY:
            return node.key
        if role == Role.PROJECT:
            return node.key[0]
        if role == Role.TYPE:
            return node.key[1] if len(node.key) > 1 else None
        if role == Role.NAME:
            return node.key[2] if len(node.key) > 2 else None
        if role == Role.VERSION_COUNT:
            return node.count
        return None

    # -- refresh -------------------------------------------------------------------------
    def set_collections(self, rows: Sequence[CollectionRow]) -> None:
        """Merge the mirror's whole artifact list into the tree."""
        self._projects = {}
        for row in rows:
            self._projects.setdefault(row.project, {})[row.name] = row
        self._merge(QModelIndex(), self._root, self._wanted(None))

    def update_collections(
        self, rows: Sequence[CollectionRow], changed: Collection[tuple[str, str]]
    ) -> None:
        """Merge what became of a few artifacts: ``changed`` names them as (project, name),
        ``rows`` holds those still shown. Only their types' branches are walked, so a sync
        that touches a few artifacts costs the window little however many it shows."""
        touched: set[tuple[str, str]] = set()  # (project, type)
        for project, name in changed:
            old = self._projects.get(project, {}).pop(name, None)
            if old is not None:
                touched.add((project, old.type))
                if not self._projects[project]:
                    del self._projects[project]
        for row in rows:
            self._projects.setdefault(row.project, {})[row.name] = row
            touched.add((row.project, row.type))
        self._merge(QModelIndex(), self._root, self._wanted(touched))

    def _wanted(self, touched: Collection[tuple[str, str]] | None) -> list[_Wanted]:
        """The project rows the tree should have. Only the (project, type) branches in
        ``touched`` (all when None) list their artifacts; the others keep theirs."""
        touched_projects = None if touched is None else {project for project, _ in touched}
        wanted: list[_Wanted] = []
        for project, names in sorted(self._projects.items()):
            if touched_projects is not None and project not in touched_projects:
                wanted.append(((project,), project, len(names), None))
                continue
            types: dict[str, list[CollectionRow]] = {}
            for row in names.values():
                types.setdefault(row.type, []).append(row)
            children: list[_Wanted] = []
            for type_, members in sorted(types.items()):
                artifacts: list[_Wanted] | None = None
                if touched is None or (project, type_) in touched:
                    members.sort(key=lambda r: r.name)
                    artifacts = [
                        ((project, type_, r.name), r.name, r.version_count, []) for r in members
                    ]
                children.append(((project, type_), type_, len(members), artifacts))
            wanted.append(((project,), project, len(names), children))
        return wanted

    _KINDS = ("project", "type", "artifact")

    def _merge(self, parent_index: QModelIndex, parent: Node, wanted: list[_Wanted]) -> None:
        """Make ``parent``'s children match ``wanted`` (both sorted by key) with as few
        signals as possible: one removal or insertion per run of rows, one dataChanged."""
        wanted_keys = {w[0] for w in wanted}
        row = len(parent.children) - 1
        while row >= 0:  # removals, runs from the end so row numbers stay valid
            if parent.children[row].key in wanted_keys:
                row -= 1
                continue
            last = row
            while row - 1 >= 0 and parent.children[row - 1].key not in wanted_keys:
                row -= 1
            self.beginRemoveRows(parent_index, row, last)
            del parent.children[row : last + 1]
            self.endRemoveRows()
            row -= 1
        changed: list[int] = []
        row = 0
        position = 0
        while position < len(wanted):
            key, _label, count, grandchildren = wanted[position]
            if row < len(parent.children) and parent.children[row].key == key:
                node = parent.children[row]
                if node.count != count:
                    node.count = count
                    changed.append(row)
                if grandchildren is not None and (grandchildren or node.children):
                    self._merge(self.createIndex(row, 0, node), node, grandchildren)
                row += 1
                position += 1
                continue
            existing = parent.children[row].key if row < len(parent.children) else None
            run: list[Node] = []
            while position < len(wanted) and wanted[position][0] != existing:
                run.append(self._build(parent, wanted[position]))
                position += 1
            self.beginInsertRows(parent_index, row, row + len(run) - 1)
            parent.children[row:row] = run
            self.endInsertRows()
            row += len(run)
        if changed:
            top, bottom = min(changed), max(changed)
            self.dataChanged.emit(
                self.createIndex(top, 0, parent.children[top]),
                self.createIndex(bottom, 0, parent.children[bottom]),
            )

    def _build(self, parent: Node, wanted: _Wanted) -> Node:
        """A new node with its whole subtree, inserted with one signal."""
        key, label, count, children = wanted
        node = Node(self._KINDS[len(parent.key)], key, label, parent, count)
        node.children = [self._build(node, child) for child in children or ()]
        return node

    # -- lookups -------------------------------------------------------------------------
    def index_for_key(self, key: tuple[str, ...]) -> QModelIndex:
        """The index of the node with ``key``, or an invalid index."""
        node = self._root
        index = QModelIndex()
        for depth in range(1, len(key) + 1):
            found = next((c for c in node.children if c.key == key[:depth]), None)
            if found is None:
                return QModelIndex()
            node = found
            index = self.createIndex(node.row, 0, node)
        return index

    def _node(self, index: Index) -> Node:
        node: Node = super()._node(index)
        return node


class ArtifactFilterProxy(QSortFilterProxyModel):
    """Narrows the tree to artifacts of the chosen types whose name contains the search text.

    Recursive filtering keeps the project and type rows above a matching artifact.
    """

    def __init__(self, parent: QApplication | None = None) -> None:
        super().__init__(parent)
        self.setRecursiveFilteringEnabled(True)
        self._types: frozenset[str] = frozenset()
        self._text = ""

    def set_types(self, types: frozenset[str]) -> None:
        self.beginFilterChange()
        self._types = types
        self.endFilterChange()

    def set_search(self, text: str) -> None:
        self.beginFilterChange()
        self._text = text.strip().casefold()
        self.endFilterChange()

    def is_filtering(self) -> bool:
        return bool(self._types or self._text)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        index = model.index(source_row, 0, source_parent)
        kind = index.data(Role.KIND)
        if not self._types and not self._text:
            return True
        if kind != "artifact":
            return False  # shown when a descendant matches
        if self._types and index.data(Role.TYPE) not in self._types:
            return False
        return not self._text or self._text in str(index.data(Role.NAME)).casefold()
