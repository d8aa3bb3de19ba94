"""What happens when the user browses: tree selection → versions → detail, and refreshes.

The main window builds the widgets; this controller holds the little state browsing needs
(the selected artifact and version) and keeps the views in step with the mirror.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QModelIndex, QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QTableView, QTreeView

from desktop_app.client.mirror import Mirror
from desktop_app.client.transfers import JobState
from desktop_app.gui.i18n import tr
from desktop_app.gui.models.project_tree import ArtifactFilterProxy, ProjectTreeModel, Role
from desktop_app.gui.models.versions import Role as VersionRole
from desktop_app.gui.models.versions import VersionTableModel
from desktop_app.gui.transfer_actions import PendingUpload
from desktop_app.gui.widgets.detail import VersionDetail
from desktop_app.gui.widgets.type_filter import TypeFilter


def pending_text(state: JobState) -> str:
    """The State column of an upload that is not a version yet."""
    if state is JobState.RUNNING:
        return tr("uploading")
    if state is JobState.PAUSED:
        return tr("upload paused")
    if state is JobState.WAITING:
        return tr("pending upload (offline)")
    return tr("pending upload")


class BrowseController(QObject):
    """Keeps the project tree, the version list and the detail pane in step."""

    artifact_selected = Signal(str, str)  # project, artifact name
    version_selected = Signal(str)

    def __init__(
        self,
        mirror: Mirror,
        tree: QTreeView,
        type_filter: TypeFilter,
        search: QLineEdit,
        versions: QTableView,
        detail: VersionDetail,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._mirror = mirror
        self.tree_model = ProjectTreeModel()
        self.tree_model.setParent(self)
        self.proxy = ArtifactFilterProxy()
        self.proxy.setParent(self)
        self.proxy.setSourceModel(self.tree_model)
        self.version_model = VersionTableModel(self)
        self._tree = tree
        self._type_filter = type_filter
        self._versions = versions
        self._detail = detail
        self._artifact: tuple[str, str] | None = None
        self._pending: list[PendingUpload] = []
        tree.setModel(self.proxy)
        versions.setModel(self.version_model)
        versions.setSortingEnabled(True)
        versions.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        versions.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        versions.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # Fit columns to the rows in sight only: measuring every row of an artifact with
        # thousands of versions calls the model for each cell and stalls the window.
        versions.horizontalHeader().setResizeContentsPrecision(0)
        tree.selectionModel().selectionChanged.connect(self._on_tree_selection_changed)
        versions.selectionModel().selectionChanged.connect(self._on_versions_selection_changed)
        type_filter.types_changed.connect(self._on_type_filter_types_changed)
        search.textChanged.connect(self._on_search_text_changed)
        detail.version_activated.connect(self.select_version)

    def set_mirror(self, mirror: Mirror) -> None:
        """Browse another mirror (after the backend changed in the settings)."""
        self._mirror = mirror
        self._artifact = None
        self.version_model.set_rows([])
        self._detail.set_mirror(mirror)
        self.tree_model.set_collections([])
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        """Re-read the mirror: tree, types, the shown versions and the shown version."""
        self.tree_model.set_collections(self._mirror.collections())
        self._after_tree_changed()
        if self._artifact is not None:
            self._update_versions(self._artifact)
        self._detail.refresh()

    @Slot(object)
    def on_mirror_changed(self, changed: frozenset[tuple[str, str]] | None) -> None:
        """Re-read what the worker changed in the mirror: the named artifacts (project,
        name; none when only runs changed), or everything when it says None. A long sync
        tells the window twice a second, and a refresh must cost little however much the
        window shows."""
        if changed is None:
            self.refresh()
            return
        self.tree_model.update_collections(self._mirror.collections_named(changed), changed)
        self._after_tree_changed()
        if self._artifact is not None and self._artifact in changed:
            self._update_versions(self._artifact)
        self._detail.refresh(changed)

    def _update_versions(self, artifact: tuple[str, str]) -> None:
        """Re-read the shown artifact's versions; a new one may need wider columns."""
        before = self.version_model.rowCount()
        self.version_model.update_rows(self._mirror.versions(*artifact))
        if self.version_model.rowCount() != before:
            self._widen_columns()

    def _widen_columns(self) -> None:
        """Widen the columns the versions' text no longer fits, never narrowing one (the
        user may have widened it): columns are fitted when an artifact is shown, and a
        version logged since showed its size cut short ("53.7 …")."""
        header = self._versions.horizontalHeader()
        for column in range(self.version_model.columnCount()):
            needed = max(self._versions.sizeHintForColumn(column), header.sectionSizeHint(column))
            if needed > header.sectionSize(column):
                header.resizeSection(column, needed)

    def _after_tree_changed(self) -> None:
        self._type_filter.set_types(self._mirror.types())
        if self.proxy.is_filtering():
            self._tree.expandAll()

    def select_artifact(self, project: str, name: str) -> bool:
        """Select an artifact in the tree (as a click would); False when it is not shown."""
        for row in self._mirror.collections_named([(project, name)]):
            source = self.tree_model.index_for_key((project, row.type, name))
            index = self.proxy.mapFromSource(source)
            if not index.isValid():
                return False
            self._tree.expand(index.parent().parent())
            self._tree.expand(index.parent())
            self._tree.setCurrentIndex(index)
            return True
        return False

    @Slot(str)
    def select_version(self, version_id: str) -> None:
        """Show a version, moving to its artifact first when needed (lineage clicks)."""
        info = self._mirror.version(version_id)
        if info is None:
            return
        if self._artifact != (info.project, info.name):
            self.select_artifact(info.project, info.name)
            if self._artifact != (info.project, info.name):  # filtered out of the tree
                self._show_artifact(info.project, info.name)
        row = self.version_model.row_for_id(version_id)
        if row >= 0:
            self._versions.selectRow(row)

    @Slot(list)
    def set_pending_uploads(self, pending: list[PendingUpload]) -> None:
        """Uploads not committed yet; those of the shown artifact appear above its versions."""
        self._pending = pending
        self._show_pending()

    def _show_pending(self) -> None:
        rows = [
            (p.title, pending_text(p.state))
            for p in self._pending
            if (p.project, p.name) == self._artifact
        ]
        self.version_model.set_pending(rows)

    def _show_artifact(self, project: str, name: str) -> None:
        self._artifact = (project, name)
        self.version_model.set_rows(self._mirror.versions(project, name))
        self._show_pending()
        self._versions.resizeColumnsToContents()
        self.artifact_selected.emit(project, name)
        first = self.version_model.row_for_index(0)
        if first >= 0 and not self._versions.selectionModel().hasSelection():
            self._versions.selectRow(first)

    @Slot(QItemSelection, QItemSelection)
    def _on_tree_selection_changed(self, _new: QItemSelection, _old: QItemSelection) -> None:
        index = self._tree.currentIndex()
        if not index.isValid() or index.data(Role.KIND) != "artifact":
            return
        project, name = index.data(Role.PROJECT), index.data(Role.NAME)
        if (project, name) != self._artifact:
            self._versions.clearSelection()
            self._show_artifact(project, name)

    @Slot(QItemSelection, QItemSelection)
    def _on_versions_selection_changed(self, _new: QItemSelection, _old: QItemSelection) -> None:
        rows = self._versions.selectionModel().selectedRows()
        if not rows:
            return
        version_id = rows[0].data(VersionRole.VERSION_ID)
        if version_id is None:
            return  # an upload that is not a version yet
        if self._detail.version is None or self._detail.version.id != version_id:
            self._detail.show_version(version_id, self.version_model.infos())
            self.version_selected.emit(version_id)

    @Slot(frozenset)
    def _on_type_filter_types_changed(self, types: frozenset[str]) -> None:
        self.proxy.set_types(types)
        self._tree.expandAll()

    @Slot(str)
    def _on_search_text_changed(self, text: str) -> None:
        self.proxy.set_search(text)
        if text:
            self._tree.expandAll()

    def selected_version_ids(self) -> list[str]:
        """The versions selected in the version list (not pending uploads)."""
        rows = self._versions.selectionModel().selectedRows()
        return [i for i in (r.data(VersionRole.VERSION_ID) for r in rows) if isinstance(i, str)]

    def current_index(self) -> QModelIndex:
        return self._tree.currentIndex()
