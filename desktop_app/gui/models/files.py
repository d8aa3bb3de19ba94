"""The files of one version as a folder tree: name, size, digest and whether it is cached."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QObject,
    Qt,
)
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle

from desktop_app.client.units import format_size
from desktop_app.core.manifest import ManifestEntry
from desktop_app.gui.i18n import tr
from desktop_app.gui.models.node_tree import AnyIndex, NodeTreeModel


class Role(IntEnum):
    """Data the views read from :class:`FileTreeModel` besides the displayed text."""

    ENTRY_PATH = Qt.ItemDataRole.UserRole + 1
    DIGEST = Qt.ItemDataRole.UserRole + 2
    SIZE = Qt.ItemDataRole.UserRole + 3
    IS_FOLDER = Qt.ItemDataRole.UserRole + 4
    CACHED = Qt.ItemDataRole.UserRole + 5


class Column(IntEnum):
    NAME = 0
    SIZE = 1
    DIGEST = 2
    CACHED = 3


class _Node:
    """A file (``entry`` set) or a folder (``children`` set); ``row`` is its place in ``parent``."""

    __slots__ = (
        "cached",
        "cached_count",
        "children",
        "entry",
        "file_count",
        "name",
        "parent",
        "row",
        "size",
    )

    def __init__(self, name: str, parent: _Node | None, entry: ManifestEntry | None) -> None:
        self.name = name
        self.parent = parent
        self.entry = entry
        self.children: list[_Node] = []
        self.row = 0
        self.size = 0 if entry is None else entry.size or 0
        self.cached = False
        self.file_count = 0 if entry is None else 1
        self.cached_count = 0


def _sort_key(node: _Node) -> tuple[bool, str, str]:
    return (node.entry is not None, node.name.casefold(), node.name)


class FileTreeModel(NodeTreeModel):
    """A version's manifest entries as folders and files, built once per :meth:`set_entries`.

    Folders come before files, each sorted by name; a folder's size is the sum of the files
    under it and its Cached column counts them ("3 of 5").
    """

    column_count = len(Column)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._root = _Node("", None, None)
        # PySide6 does not keep internalPointer objects alive: this list owns every node.
        self._nodes: list[_Node] = []
        self._files: list[_Node] = []
        style = QApplication.style()
        self._folder_icon: QIcon = style.standardIcon(QStyle.StandardPixmap.SP_DirIcon)
        self._file_icon: QIcon = style.standardIcon(QStyle.StandardPixmap.SP_FileIcon)
        self._headers = (tr("Name"), tr("Size"), tr("Digest"), tr("Cached"))
        self._yes, self._no = tr("yes"), tr("no")

    # -- filling ---------------------------------------------------------------------------
    def set_entries(self, entries: Sequence[ManifestEntry], cached: Collection[str]) -> None:
        """Show ``entries`` as a tree; ``cached`` holds the digests in the local cache."""
        self.beginResetModel()
        root = _Node("", None, None)
        nodes: list[_Node] = [root]
        files: list[_Node] = []
        folders: dict[str, _Node] = {"": root}
        cached_set = cached if isinstance(cached, set | frozenset) else set(cached)
        for entry in entries:
            folder_path, _, name = entry.path.rpartition("/")
            parent = folders.get(folder_path)
            if parent is None:
                parent = self._make_folders(folder_path, folders, nodes)
            node = _Node(name, parent, entry)
            node.cached = entry.digest in cached_set
            node.cached_count = int(node.cached)
            parent.children.append(node)
            nodes.append(node)
            files.append(node)
        self._finish(root)
        self._root, self._nodes, self._files = root, nodes, files
        self.endResetModel()

    @staticmethod
    def _make_folders(path: str, folders: dict[str, _Node], nodes: list[_Node]) -> _Node:
        parent_path, _, name = path.rpartition("/")
        parent = folders.get(parent_path)
        if parent is None:
            parent = FileTreeModel._make_folders(parent_path, folders, nodes)
        folder = _Node(name, parent, None)
        parent.children.append(folder)
        folders[path] = folder
        nodes.append(folder)
        return folder

    @staticmethod
    def _finish(root: _Node) -> None:
        """Sort every folder's children and add up sizes and counts, children before parents."""
        order: list[_Node] = []
        stack = [root]
        while stack:
            node = stack.pop()
            order.append(node)
            stack.extend(child for child in node.children if child.entry is None)
        for folder in reversed(order):
            folder.children.sort(key=_sort_key)
            size = file_count = cached_count = 0
            for row, child in enumerate(folder.children):
                child.row = row
                size += child.size
                file_count += child.file_count
                cached_count += child.cached_count
            folder.size, folder.file_count, folder.cached_count = size, file_count, cached_count
            folder.cached = file_count > 0 and cached_count == file_count

    def set_cached(self, cached: Collection[str]) -> None:
        """Update the Cached column for a new set of cached digests (no reset)."""
        cached_set = cached if isinstance(cached, set | frozenset) else set(cached)
        changed: dict[int, tuple[_Node, int, int]] = {}  # id(parent) -> (parent, first, last)

        def mark(node: _Node) -> None:
            parent = node.parent
            assert parent is not None
            seen = changed.get(id(parent))
            if seen is None:
                changed[id(parent)] = (parent, node.row, node.row)
            else:
                changed[id(parent)] = (parent, min(seen[1], node.row), max(seen[2], node.row))

        for node in self._files:
            now = node.entry is not None and node.entry.digest in cached_set
            if now == node.cached:
                continue
            node.cached = now
            node.cached_count = int(now)
            delta = 1 if now else -1
            mark(node)
            folder = node.parent
            while folder is not None and folder is not self._root:
                folder.cached_count += delta
                folder.cached = folder.cached_count == folder.file_count
                mark(folder)
                folder = folder.parent
        roles = [Qt.ItemDataRole.DisplayRole, Role.CACHED]
        for parent, first, last in changed.values():
            parent_index = self._index_of(parent)
            self.dataChanged.emit(
                self.index(first, Column.CACHED, parent_index),
                self.index(last, Column.CACHED, parent_index),
                roles,
            )

    # -- the model interface --------------------------------------------------------------
    def _node(self, index: AnyIndex) -> _Node:
        node: _Node = super()._node(index)
        return node

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self._node(index).entry is not None:
            flags |= Qt.ItemFlag.ItemNeverHasChildren
        return flags

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node = self._node(index)
        entry = node.entry
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(node, index.column())
        if role == Qt.ItemDataRole.DecorationRole and index.column() == Column.NAME:
            return self._file_icon if entry is not None else self._folder_icon
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == Column.NAME:
            return entry.path if entry is not None else None
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == Column.SIZE:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        if role == Role.ENTRY_PATH:
            return entry.path if entry is not None else None
        if role == Role.DIGEST:
            return entry.digest if entry is not None else None
        if role == Role.SIZE:
            return node.size
        if role == Role.IS_FOLDER:
            return entry is None
        if role == Role.CACHED:
            return node.cached
        return None

    def _display(self, node: _Node, column: int) -> str | None:
        entry = node.entry
        if column == Column.NAME:
            return node.name
        if column == Column.SIZE:
            if entry is not None and entry.size is None:
                return ""  # a reference whose size is unknown
            return format_size(node.size)
        if column == Column.DIGEST:
            return entry.digest if entry is not None else ""
        if column == Column.CACHED:
            if entry is not None:
                return self._yes if node.cached else self._no
            return tr("{cached} of {total}").format(cached=node.cached_count, total=node.file_count)
        return None
