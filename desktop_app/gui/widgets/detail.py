"""The version detail pane: Overview, Files, Metadata, Lineage and Compare tabs.

It reads the mirror (a local SQLite file) and asks the worker, through signals, for what
the mirror does not hold yet: manifests, run details and file previews.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, Signal, Slot
from PySide6.QtWidgets import QSplitter, QTabWidget, QTreeView, QVBoxLayout, QWidget

from desktop_app.client.compare import compare_versions
from desktop_app.client.mirror import LineageGraph, Mirror
from desktop_app.client.preview import Preview
from desktop_app.core.records import VersionInfo
from desktop_app.gui.i18n import tr
from desktop_app.gui.models.files import FileTreeModel
from desktop_app.gui.models.files import Role as FileRole
from desktop_app.gui.models.metadata import JsonTreeModel
from desktop_app.gui.widgets.compare import CompareView
from desktop_app.gui.widgets.drag_out import FileTreeView
from desktop_app.gui.widgets.lineage import LineageView
from desktop_app.gui.widgets.overview import OverviewTab
from desktop_app.gui.widgets.preview import PreviewPane


class VersionDetail(QTabWidget):
    """Everything about one version; empty until a version is selected."""

    version_load_requested = Signal(str)
    runs_load_requested = Signal(list)
    preview_requested = Signal(str, str, str)  # version id, path, digest
    edit_requested = Signal(str, str, str)  # version id, kind, value
    version_activated = Signal(str)

    def __init__(self, mirror: Mirror, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("versionDetail")
        self.setDocumentMode(True)
        self._mirror = mirror
        self._version: VersionInfo | None = None
        self._compare_with: str | None = None
        self._cached: frozenset[str] = frozenset()
        self._files_of: str | None = None  # the version whose files the Files tab shows
        self._lineage_of: tuple[str, LineageGraph] | None = None  # what the Lineage tab draws

        self.overview = OverviewTab()
        self.overview.description_edited.connect(self._on_overview_description_edited)
        self.overview.alias_add_requested.connect(self._on_overview_alias_add_requested)
        self.overview.alias_remove_requested.connect(self._on_overview_alias_remove_requested)

        self.files_model = FileTreeModel(self)
        self.files_view = FileTreeView()
        self.files_view.setObjectName("fileTree")
        self.files_view.setModel(self.files_model)
        self.files_view.setUniformRowHeights(True)
        self.files_view.header().setResizeContentsPrecision(0)  # fit to the rows in sight
        self.files_view.setAlternatingRowColors(True)
        self.files_view.selectionModel().selectionChanged.connect(self._on_files_selection_changed)
        self.preview = PreviewPane()
        files_tab = QSplitter(Qt.Orientation.Vertical)
        files_tab.setObjectName("filesTab")
        files_tab.addWidget(self.files_view)
        files_tab.addWidget(self.preview)
        files_tab.setStretchFactor(0, 3)
        files_tab.setStretchFactor(1, 2)

        self.metadata_model = JsonTreeModel(self)
        self.metadata_view = QTreeView()
        self.metadata_view.setModel(self.metadata_model)
        self.metadata_view.setUniformRowHeights(True)
        metadata_tab = QWidget()
        metadata_tab.setObjectName("metadataTab")
        QVBoxLayout(metadata_tab).addWidget(self.metadata_view)

        self.lineage = LineageView()
        self.lineage.version_activated.connect(self.version_activated)
        lineage_tab = QWidget()
        lineage_tab.setObjectName("lineageTab")
        QVBoxLayout(lineage_tab).addWidget(self.lineage)

        self.compare = CompareView()
        self.compare.other_selected.connect(self._on_compare_other_selected)
        compare_tab = QWidget()
        compare_tab.setObjectName("compareTab")
        QVBoxLayout(compare_tab).addWidget(self.compare)

        self.addTab(self.overview, tr("Overview"))
        self.addTab(files_tab, tr("Files"))
        self.addTab(metadata_tab, tr("Metadata"))
        self.addTab(lineage_tab, tr("Lineage"))
        self.addTab(compare_tab, tr("Compare"))
        self.clear()

    def set_mirror(self, mirror: Mirror) -> None:
        self._mirror = mirror
        self.clear()

    @property
    def version(self) -> VersionInfo | None:
        return self._version

    def clear(self) -> None:
        self._version = None
        self._compare_with = None
        self._files_of = None
        self.overview.clear()
        self.files_model.set_entries([], frozenset())
        self.preview.show_message(tr("Select a version to see its files"))
        self.metadata_model.set_data({})
        self.lineage.clear()
        self._lineage_of = None
        self.compare.clear()

    def show_version(self, version_id: str, siblings: Sequence[VersionInfo] | None = None) -> None:
        """Show a version from the mirror, asking the worker for what is missing.

        ``siblings`` are its artifact's versions when the caller has them at hand (to
        compare with); otherwise they are read from the mirror.
        """
        info = self._mirror.version(version_id)
        if info is None:
            self.clear()
            return
        changed = self._version is None or self._version.id != version_id
        self._version = info
        self._show_overview(info)
        self.metadata_model.set_data(dict(info.metadata))
        if changed:
            self.metadata_view.expandToDepth(0)
            self._compare_with = None
            self._cached = frozenset()
            self._show_files(info)
            self.preview.show_message(tr("Select a file to preview it"))
            self.version_load_requested.emit(version_id)
        self._show_lineage(info)
        if siblings is None or not any(v.id == info.id for v in siblings):
            siblings = [r.info for r in self._mirror.versions(info.project, info.name)]
        self.compare.set_versions(info, [v for v in siblings if v.id != info.id])

    def refresh(self, changed: Collection[tuple[str, str]] | None = None) -> None:
        """Re-read the shown version after the mirror changed: wholly when its artifact is
        among the ``changed`` ones (project, name) or when any may have changed; otherwise
        only its lineage and runs, which other artifacts' new versions can extend."""
        info = self._version
        if info is None:
            return
        if changed is None or (info.project, info.name) in changed:
            self.show_version(info.id)
        else:
            self._show_overview(info)
            self._show_lineage(info)

    # -- worker replies ------------------------------------------------------------------
    @Slot(str)
    def on_worker_version_loaded(self, version_id: str) -> None:
        if self._version is not None and version_id == self._version.id:
            self._version = self._mirror.version(version_id) or self._version
            self._show_overview(self._version)
            self._show_files(self._version)
            self._show_lineage(self._version)
        if self._compare_with in (version_id, self._version.id if self._version else None):
            self._show_compare()

    @Slot(str, object)
    def on_worker_files_cached(self, version_id: str, digests: frozenset[str]) -> None:
        if self._version is not None and version_id == self._version.id:
            self._cached = digests
            self.files_model.set_cached(digests)

    @Slot(str, str, object)
    def on_worker_preview_loaded(self, version_id: str, path: str, preview: object) -> None:
        if self._version is None or version_id != self._version.id:
            return
        if self._selected_file() != path:
            return
        if isinstance(preview, Preview):
            self.preview.show_preview(preview)
        else:
            self.preview.show_message(
                tr("{path} is not in the local cache: download it to preview it").format(path=path)
            )

    @Slot()
    def on_worker_runs_loaded(self) -> None:
        if self._version is not None:
            self._show_overview(self._version)
            self._show_lineage(self._version, ask_for_runs=False)

    # -- tabs ----------------------------------------------------------------------------
    def _show_overview(self, info: VersionInfo) -> None:
        producer = self._mirror.run(info.logged_by) if info.logged_by else None
        users = [(rid, self._mirror.run(rid)) for rid in self._mirror.used_by(info.id)]
        self.overview.show_version(info, producer, users)

    def _show_files(self, info: VersionInfo) -> None:
        if self._files_of == info.id:
            return  # a manifest never changes: keep the tree, its expansion and selection
        if self._mirror.manifest_loaded(info.id):
            self._files_of = info.id
            self.files_model.set_entries(self._mirror.entries(info.id), self._cached)
            self.files_view.expandToDepth(0)
            self.files_view.resizeColumnToContents(0)
        else:
            self._files_of = None
            self.files_model.set_entries([], frozenset())
            self.preview.show_message(tr("Loading the list of files…"))

    def _show_lineage(self, info: VersionInfo, *, ask_for_runs: bool = True) -> None:
        graph = self._mirror.lineage(info.id)
        if self._lineage_of != (info.id, graph):  # a sync often brings nothing new here
            self._lineage_of = (info.id, graph)
            self.lineage.set_graph(graph, info.id)
        missing = [run_id for run_id, run in graph.runs.items() if run is None]
        if missing and ask_for_runs:
            self.runs_load_requested.emit(missing)

    def _show_compare(self) -> None:
        current, other_id = self._version, self._compare_with
        if current is None or other_id is None:
            return
        other = self._mirror.version(other_id)
        if other is None:
            return
        if not (
            self._mirror.manifest_loaded(current.id) and self._mirror.manifest_loaded(other_id)
        ):
            self.compare.show_waiting()
            return
        diff = compare_versions(
            other, self._mirror.entries(other_id), current, self._mirror.entries(current.id)
        )
        self.compare.show_diff(diff)

    def selected_paths(self) -> list[str]:
        """The files selected in the Files tab (a selected folder stands for its files)."""
        rows = self.files_view.selectionModel().selectedRows()
        paths: list[str] = []
        for index in rows:
            path = index.data(FileRole.ENTRY_PATH)
            if isinstance(path, str):
                paths.append(path)
            else:
                paths.extend(self._files_under(index))
        return sorted(set(paths))

    def _files_under(self, folder: QModelIndex) -> list[str]:
        model, found, stack = self.files_model, [], [folder]
        while stack:
            parent = stack.pop()
            for row in range(model.rowCount(parent)):
                child = model.index(row, 0, parent)
                path = child.data(FileRole.ENTRY_PATH)
                if isinstance(path, str):
                    found.append(path)
                else:
                    stack.append(child)
        return found

    def _selected_file(self) -> str | None:
        return self._selected_entry()[0]

    def _selected_entry(self) -> tuple[str | None, str | None]:
        indexes = self.files_view.selectionModel().selectedRows()
        if not indexes:
            return None, None
        path, digest = indexes[0].data(FileRole.ENTRY_PATH), indexes[0].data(FileRole.DIGEST)
        if not isinstance(path, str) or not isinstance(digest, str):
            return None, None
        return path, digest

    # -- user actions --------------------------------------------------------------------
    @Slot(QItemSelection, QItemSelection)
    def _on_files_selection_changed(self, _new: QItemSelection, _old: QItemSelection) -> None:
        path, digest = self._selected_entry()
        if self._version is None or path is None or digest is None:
            return
        self.preview.show_message(tr("Loading preview…"))
        self.preview_requested.emit(self._version.id, path, digest)

    @Slot(str)
    def _on_compare_other_selected(self, other_id: str) -> None:
        self._compare_with = other_id
        if not self._mirror.manifest_loaded(other_id):
            self.version_load_requested.emit(other_id)
        self._show_compare()

    @Slot(str, str)
    def _on_overview_description_edited(self, version_id: str, text: str) -> None:
        self.edit_requested.emit(version_id, "description", text)

    @Slot(str, str)
    def _on_overview_alias_add_requested(self, version_id: str, alias: str) -> None:
        self.edit_requested.emit(version_id, "add_alias", alias)

    @Slot(str, str)
    def _on_overview_alias_remove_requested(self, version_id: str, alias: str) -> None:
        self.edit_requested.emit(version_id, "remove_alias", alias)

    def select_file(self, path: str) -> QModelIndex:
        """Select a file in the Files tab (for keyboard users and tests)."""
        model = self.files_model
        stack = [QModelIndex()]
        while stack:
            parent = stack.pop()
            for row in range(model.rowCount(parent)):
                index = model.index(row, 0, parent)
                if index.data(FileRole.ENTRY_PATH) == path:
                    self.files_view.setCurrentIndex(index)
                    return index
                stack.append(index)
        return QModelIndex()
