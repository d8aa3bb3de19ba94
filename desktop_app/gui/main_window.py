"""The main window: builds the panes and menus and connects their signals; no logic here."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QModelIndex, QSettings, Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStyle,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from desktop_app.client.mirror import Mirror
from desktop_app.gui.actions import build_menus, create_actions
from desktop_app.gui.browse import BrowseController
from desktop_app.gui.i18n import tr
from desktop_app.gui.models.files import Role as FileRole
from desktop_app.gui.models.versions import Role as VersionRole
from desktop_app.gui.widgets.detail import VersionDetail
from desktop_app.gui.widgets.drag_out import VersionTableView
from desktop_app.gui.widgets.status import StatusBar
from desktop_app.gui.widgets.transfers_panel import TransfersPanel
from desktop_app.gui.widgets.type_filter import TypeFilter


class MainWindow(QMainWindow):
    """Project tree | version list | version detail, with menus and a status bar."""

    refresh_requested = Signal()
    settings_requested = Signal()
    closing = Signal()
    version_activated = Signal(str)  # double click on a version: download it
    file_activated = Signal(str, str)  # double click on a file: open it

    def __init__(self, mirror: Mirror, backend_label: str, window_state: QSettings) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        # Deleted by Qt on the GUI thread once closed. Left to Python, a closed window
        # would be freed by whichever thread's allocation triggers the garbage collector,
        # and widgets must never be destroyed off the GUI thread.
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(tr("Artifact Desk"))
        self._window_state = window_state

        self.type_filter = TypeFilter()
        self.search = QLineEdit()
        self.search.setObjectName("searchBox")
        self.search.setPlaceholderText(tr("Search artifacts (Ctrl+F)"))
        self.search.setClearButtonEnabled(True)
        self.tree = QTreeView()
        self.tree.setObjectName("projectTree")
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        # A scroll bar that comes and goes as branches open changes the list's width, and
        # Qt then lays out and paints the whole list a second time; keep it in place.
        self.tree.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        filters = QHBoxLayout()
        filters.setContentsMargins(0, 0, 0, 0)
        filters.addWidget(self.type_filter)
        filters.addWidget(self.search, 1)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(filters)
        left_layout.addWidget(self.tree)

        self.versions = VersionTableView()
        self.versions.setObjectName("versionList")
        self.versions.verticalHeader().hide()
        self.versions.setShowGrid(False)
        self.versions.setAlternatingRowColors(True)
        self.versions.setWordWrap(False)
        self.versions.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.versions.horizontalHeader().setStretchLastSection(True)
        self.versions.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)  # as above
        self.versions.verticalHeader().setDefaultSectionSize(
            self.versions.fontMetrics().height() + 8
        )

        self.detail = VersionDetail(mirror)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.versions)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 4)
        self.splitter.setStretchFactor(2, 4)
        self.setCentralWidget(self.splitter)
        self.status = StatusBar(backend_label)
        self.setStatusBar(self.status)

        self.browse = BrowseController(
            mirror, self.tree, self.type_filter, self.search, self.versions, self.detail, self
        )
        self.transfers = TransfersPanel(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.transfers)
        self.transfers.hide()  # shown when a transfer starts, or from View → Transfers

        self.menu_actions = create_actions(self)
        build_menus(self.menuBar(), self.menu_actions)
        actions = self.menu_actions
        toolbar = self.addToolBar(tr("Main"))
        toolbar.setObjectName("mainToolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        style = self.style()
        for action, icon in (
            (actions.upload, QStyle.StandardPixmap.SP_ArrowUp),
            (actions.download, QStyle.StandardPixmap.SP_ArrowDown),
            (actions.keep_offline, QStyle.StandardPixmap.SP_DriveHDIcon),
            (actions.refresh, QStyle.StandardPixmap.SP_BrowserReload),
        ):
            action.setIcon(style.standardIcon(icon))
            toolbar.addAction(action)
        actions.show_transfers.triggered.connect(self._on_show_transfers_triggered)
        self.versions.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        for action in (actions.download, actions.keep_offline, actions.stop_offline):
            self.versions.addAction(action)
        files = self.detail.files_view
        files.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        for action in (actions.open_file, actions.show_file, actions.download_files):
            files.addAction(action)
        self.versions.doubleClicked.connect(self._on_versions_double_clicked)
        files.doubleClicked.connect(self._on_files_double_clicked)
        self.menu_actions.refresh.triggered.connect(self.refresh_requested)
        self.menu_actions.find.triggered.connect(self._on_find_triggered)
        self.menu_actions.settings.triggered.connect(self.settings_requested)
        self.menu_actions.quit.triggered.connect(self.close)
        self.menu_actions.about.triggered.connect(self._on_about_triggered)
        self._restore_layout()

    # -- worker replies shown to the user ------------------------------------------------
    @Slot(str)
    def on_worker_failed(self, message: str) -> None:
        self.status.showMessage(message, 15_000)

    @Slot(str)
    def on_worker_edit_refused(self, message: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, tr("Edit not applied"), message, parent=self)
        box.setObjectName("editRefusedMessage")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    @Slot(QModelIndex)
    def _on_versions_double_clicked(self, index: QModelIndex) -> None:
        version_id = index.data(VersionRole.VERSION_ID)
        if isinstance(version_id, str):
            self.version_activated.emit(version_id)

    @Slot(QModelIndex)
    def _on_files_double_clicked(self, index: QModelIndex) -> None:
        path = index.data(FileRole.ENTRY_PATH)
        version = self.detail.version
        if isinstance(path, str) and version is not None:
            self.file_activated.emit(version.id, path)

    @Slot()
    def _on_show_transfers_triggered(self) -> None:
        self.transfers.show()
        self.transfers.raise_()

    @Slot()
    def _on_find_triggered(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    @Slot()
    def _on_about_triggered(self) -> None:
        QMessageBox.about(
            self,
            tr("About Artifact Desk"),
            tr("Artifact Desk: versioned datasets and models for machine-learning teams."),
        )

    # -- layout remembered between runs --------------------------------------------------
    def _restore_layout(self) -> None:
        state = self._window_state
        geometry = state.value("geometry")
        if isinstance(geometry, QByteArray) and self.restoreGeometry(geometry):
            pass
        else:
            self.resize(1400, 820)
        for key, restore in (
            ("windowState", self.restoreState),
            ("splitter", self.splitter.restoreState),
            ("versionColumns", self.versions.horizontalHeader().restoreState),
        ):
            value = state.value(key)
            if isinstance(value, QByteArray):
                restore(value)

    def save_layout(self) -> None:
        state = self._window_state
        state.setValue("geometry", self.saveGeometry())
        state.setValue("windowState", self.saveState())
        state.setValue("splitter", self.splitter.saveState())
        state.setValue("versionColumns", self.versions.horizontalHeader().saveState())
        state.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        self.closing.emit()
        super().closeEvent(event)
