"""The compare pane: pick another version of the same artifact and see what differs."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.client.compare import Change, VersionDiff
from desktop_app.client.units import format_size
from desktop_app.core.records import VersionInfo
from desktop_app.gui.i18n import tr
from desktop_app.gui.models.diff import FileDiffModel, MetadataDiffModel


def version_label(info: VersionInfo) -> str:
    """``v3`` plus the aliases, e.g. ``v3 (latest, prod)``."""
    number = info.version or tr("draft")
    if not info.aliases:
        return number
    return tr("{version} ({aliases})").format(version=number, aliases=", ".join(info.aliases))


def size_delta_text(delta: int) -> str:
    if delta == 0:
        return tr("no size change")
    return ("+" if delta > 0 else "−") + format_size(abs(delta))


def summary_text(diff: VersionDiff) -> str:
    """E.g. ``3 added, 1 removed, 2 changed, 10 unchanged; +1.2 MiB``."""
    return tr(
        "{added} added, {removed} removed, {changed} changed, {unchanged} unchanged; {size}"
    ).format(
        added=diff.count(Change.ADDED),
        removed=diff.count(Change.REMOVED),
        changed=diff.count(Change.CHANGED),
        unchanged=diff.unchanged_files,
        size=size_delta_text(diff.size_delta),
    )


def _table(name: str) -> QTableView:
    table = QTableView()
    table.setObjectName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setWordWrap(False)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setResizeContentsPrecision(0)  # fit to the rows in sight
    return table


class CompareView(QWidget):
    """Compares the shown version with one the user picks.

    The caller loads both manifests and calls :meth:`show_diff`; until then
    :meth:`show_waiting` says they are loading.
    """

    other_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareView")
        self._current_id: str | None = None

        self._caption = QLabel(tr("Compare with"))
        self._picker = QComboBox()
        self._picker.setObjectName("compareVersionPicker")
        self._picker.setPlaceholderText(tr("Choose a version"))
        self._picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._caption.setBuddy(self._picker)
        self._picker.activated.connect(self.on_picker_activated)

        self._summary = QLabel()
        self._summary.setObjectName("compareSummary")
        self._summary.setWordWrap(True)

        self.files_model = FileDiffModel(self)
        self.metadata_model = MetadataDiffModel(self)
        self._files = _table("compareFilesTable")
        self._files.setModel(self.files_model)
        self._files.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self._files.horizontalHeader().setStretchLastSection(False)
        self._metadata = _table("compareMetadataTable")
        self._metadata.setModel(self.metadata_model)

        self._tabs = QTabWidget()
        self._tabs.setObjectName("compareTabs")
        self._tabs.addTab(self._files, "")
        self._tabs.addTab(self._metadata, "")

        picker_row = QHBoxLayout()
        picker_row.addWidget(self._caption)
        picker_row.addWidget(self._picker, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(picker_row)
        layout.addWidget(self._summary)
        layout.addWidget(self._tabs, 1)
        self.clear()

    # -- public API ----------------------------------------------------------------------
    @property
    def current_id(self) -> str | None:
        """The id of the version being compared against, from :meth:`set_versions`."""
        return self._current_id

    def selected_other_id(self) -> str | None:
        """The id of the picked version, or ``None`` while none is picked."""
        value = self._picker.currentData()
        return value if isinstance(value, str) else None

    def set_versions(self, current: VersionInfo, others: Sequence[VersionInfo]) -> None:
        """Offer ``others`` (shown newest first) to compare with ``current``.

        Called again for the same version (after a sync, say), the pick and the diff stay
        when the picked version is still offered; otherwise nothing is picked.
        """
        kept = self.selected_other_id() if current.id == self._current_id else None
        self._current_id = current.id
        self._caption.setText(
            tr("Compare {version} with").format(version=current.version or tr("draft"))
        )
        choices = sorted(
            (v for v in others if v.id != current.id),
            key=lambda v: (v.index is not None, v.index or 0, v.created_at),
            reverse=True,
        )
        self._picker.blockSignals(True)
        self._picker.clear()
        for info in choices:
            self._picker.addItem(version_label(info), info.id)
            self._picker.setItemData(
                self._picker.count() - 1, info.qualified_name, Qt.ItemDataRole.ToolTipRole
            )
        self._picker.setCurrentIndex(-1 if kept is None else self._picker.findData(kept))
        self._picker.blockSignals(False)
        self._picker.setEnabled(bool(choices))
        if self.selected_other_id() is None:
            self._clear_diff(
                tr("Pick a version to compare with.")
                if choices
                else tr("There is no other version to compare with.")
            )

    def show_waiting(self) -> None:
        """Say the file lists are loading; the tables empty until :meth:`show_diff`."""
        self._clear_diff(tr("Loading the file lists to compare…"))

    def show_diff(self, diff: VersionDiff) -> None:
        self._summary.setText(summary_text(diff))
        self.files_model.set_files(diff.files)
        self.metadata_model.set_metadata(diff.metadata)
        self._set_tab_titles(len(diff.files), len(diff.metadata))
        self._files.resizeColumnsToContents()
        self._files.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

    def clear(self) -> None:
        """No version: an empty picker and empty tables."""
        self._current_id = None
        self._caption.setText(tr("Compare with"))
        self._picker.blockSignals(True)
        self._picker.clear()
        self._picker.blockSignals(False)
        self._picker.setEnabled(False)
        self._clear_diff("")

    # -- slots ---------------------------------------------------------------------------
    @Slot(int)
    def on_picker_activated(self, row: int) -> None:
        version_id = self._picker.itemData(row)
        if isinstance(version_id, str):
            self.show_waiting()
            self.other_selected.emit(version_id)

    # -- helpers -------------------------------------------------------------------------
    def _clear_diff(self, message: str) -> None:
        self._summary.setText(message)
        self.files_model.set_files(())
        self.metadata_model.set_metadata(())
        self._set_tab_titles(None, None)

    def _set_tab_titles(self, files: int | None, metadata: int | None) -> None:
        if files is None or metadata is None:
            self._tabs.setTabText(0, tr("Files"))
            self._tabs.setTabText(1, tr("Metadata"))
        else:
            self._tabs.setTabText(0, tr("Files ({count})").format(count=files))
            self._tabs.setTabText(1, tr("Metadata ({count})").format(count=metadata))
