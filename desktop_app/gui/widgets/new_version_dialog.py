"""The new-version dialog: where dropped files go, under which name and type, with what.

Everything is checked as the user types, with the reason shown. The dialog never hashes:
it asks for a plan with ``plan_requested(UploadSpec)`` and the worker answers through
:meth:`NewVersionDialog.on_plan_progress`, :meth:`~NewVersionDialog.on_plan_ready` and
:meth:`~NewVersionDialog.on_plan_failed`. The plan only informs; Upload never waits for it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_app.client.mirror import Mirror
from desktop_app.client.transfers import UploadSpec
from desktop_app.client.units import format_size
from desktop_app.client.upload_preview import UploadSummary
from desktop_app.core.errors import ValidationError
from desktop_app.core.metadata import metadata_from_json
from desktop_app.core.names import (
    MAX_NAME_LENGTH,
    validate_artifact_name,
    validate_description,
    validate_project,
    validate_type,
    validate_user_alias,
)
from desktop_app.gui.i18n import tr
from desktop_app.gui.models.metadata_rows import MetadataRowsModel, value_text

_AnyIndex = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()

MODEL_EXTENSIONS = frozenset(
    {".pt", ".pth", ".ckpt", ".onnx", ".safetensors", ".h5", ".pb", ".bin"}
)
# Guessing the type lists at most this many files, so a huge folder never stalls the window.
_GUESS_FILE_LIMIT = 2000
PLAN_DELAY_MS = 300
_NOT_A_NAME_CHAR = re.compile(r"[^A-Za-z0-9_.\-]+")


# -- suggestions from the dropped files ------------------------------------------------------
def _files_under(sources: Sequence[Path], limit: int) -> Iterator[os.DirEntry[str] | Path]:
    seen = 0
    for source in sources:
        if not source.is_dir():
            seen += 1
            yield source
            continue
        stack = [str(source)]
        while stack and seen < limit:
            try:
                with os.scandir(stack.pop()) as it:
                    for entry in it:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        elif seen < limit:
                            seen += 1
                            yield entry
            except OSError:
                continue
        if seen >= limit:
            return


def guess_type(sources: Sequence[Path]) -> str:
    """``model`` when model files (``.pt``, ``.onnx``, …) make up most of the bytes, else
    ``dataset`` (tables, images, text and anything unknown)."""
    model_bytes = other_bytes = model_files = other_files = 0
    for item in _files_under(sources, _GUESS_FILE_LIMIT):
        try:
            size = item.stat().st_size
        except OSError:
            size = 0
        if Path(item.name).suffix.lower() in MODEL_EXTENSIONS:
            model_bytes += size
            model_files += 1
        else:
            other_bytes += size
            other_files += 1
    if not model_files:
        return "dataset"
    if model_bytes or other_bytes:
        return "model" if model_bytes >= other_bytes else "dataset"
    return "model" if model_files >= other_files else "dataset"


def suggest_name(sources: Sequence[Path]) -> str:
    """An artifact name from the dropped folder or file (``my data.csv`` → ``my-data``);
    several items are named after the folder that holds them."""
    if not sources:
        return ""
    item = sources[0] if len(sources) == 1 else sources[0].parent
    stem = item.name if item.is_dir() else item.stem
    return _NOT_A_NAME_CHAR.sub("-", stem).strip("-.")[:MAX_NAME_LENGTH]


def summary_text(summary: UploadSummary) -> str:
    """:meth:`UploadSummary.describe`, in the user's language."""
    if summary.identical_to is not None:
        return tr("identical to {version}: nothing to upload").format(version=summary.identical_to)
    if summary.file_count == 1:
        files = tr("1 file")
    else:
        files = tr("{count} files").format(count=f"{summary.file_count:,}")
    head = tr("{files}, {size}").format(files=files, size=format_size(summary.total_bytes))
    if summary.new_bytes == 0:
        return tr("{head}: all already stored, nothing to upload").format(head=head)
    if summary.stored_bytes == 0:
        return tr("{head}: all new").format(head=head)
    return tr("{head}: {new} new, {stored} already stored").format(
        head=head, new=format_size(summary.new_bytes), stored=format_size(summary.stored_bytes)
    )


# -- metadata as key/value rows ----------------------------------------------------------------
class NewVersionDialog(QDialog):
    """Name, type, description, metadata, aliases and base version of a version to upload."""

    plan_requested = Signal(object)  # UploadSpec: hash it and answer with a summary

    def __init__(
        self,
        sources: list[Path],
        mirror: Mirror,
        *,
        project: str | None,
        name: str | None,
        type_: str | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("newVersionDialog")
        self.setWindowTitle(tr("New version"))
        self._mirror = mirror
        self._sources = list(sources)
        self._dropped_type = type_
        self._type_touched = False
        self._setting_type = False
        self._last_plan_key: tuple[object, ...] | None = None
        self._existing_type: str | None = None
        self._existing_key: tuple[str, str] | None = None

        self.sources_label = QLabel()
        self.sources_label.setObjectName("newVersionSources")
        self.sources_label.setWordWrap(True)
        projects = mirror.projects()
        self.project = QComboBox()
        self.project.setObjectName("newVersionProject")
        self.project.setEditable(True)
        self.project.addItems(projects)
        self.project.setEditText(project or (projects[0] if projects else ""))
        self.name = QLineEdit(name or suggest_name(self._sources))
        self.name.setObjectName("newVersionName")
        self.type = QComboBox()
        self.type.setObjectName("newVersionType")
        self.type.setEditable(True)
        self.type.addItems(mirror.types())
        self.description = QPlainTextEdit()
        self.description.setObjectName("newVersionDescription")
        self.description.setPlaceholderText(tr("What is in this version, and why"))
        self.description.setMaximumHeight(80)
        self.aliases = QLineEdit()
        self.aliases.setObjectName("newVersionAliases")
        self.aliases.setPlaceholderText(tr("best, production"))
        self.base = QComboBox()
        self.base.setObjectName("newVersionBase")

        self.metadata_rows = MetadataRowsModel(self)
        self.metadata_table = QTableView()
        self.metadata_table.setObjectName("newVersionMetadataTable")
        self.metadata_table.setModel(self.metadata_rows)
        self.metadata_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.metadata_table.verticalHeader().hide()
        self.metadata_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.add_row_button = QPushButton(tr("Add"))
        self.add_row_button.setObjectName("addMetadataRow")
        self.remove_row_button = QPushButton(tr("Remove"))
        self.remove_row_button.setObjectName("removeMetadataRow")
        self.metadata_json = QPlainTextEdit()
        self.metadata_json.setObjectName("newVersionMetadataJson")
        self.metadata_json.setPlaceholderText('{"accuracy": 0.91, "epochs": 10}')
        self.json_toggle = QCheckBox(tr("JSON"))
        self.json_toggle.setObjectName("metadataJsonToggle")
        self.json_toggle.setToolTip(tr("Edit the metadata as one JSON object"))
        table_page = QWidget()
        table_layout = QVBoxLayout(table_page)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addWidget(self.metadata_table)
        row_buttons = QHBoxLayout()
        row_buttons.addWidget(self.add_row_button)
        row_buttons.addWidget(self.remove_row_button)
        row_buttons.addStretch(1)
        row_buttons.addWidget(self.json_toggle)
        self.metadata_pages = QStackedWidget()
        self.metadata_pages.addWidget(table_page)
        self.metadata_pages.addWidget(self.metadata_json)
        metadata_box = QVBoxLayout()
        metadata_box.addWidget(self.metadata_pages)
        metadata_box.addLayout(row_buttons)

        self.problem = QLabel()
        self.problem.setObjectName("newVersionProblem")
        self.problem.setWordWrap(True)
        self.hash_progress = QProgressBar()
        self.hash_progress.setObjectName("hashProgress")
        self.hash_progress.setRange(0, 1)
        self.hash_progress.setValue(0)
        self.hash_progress.hide()
        self.summary = QLabel()
        self.summary.setObjectName("uploadSummary")
        self.summary.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.upload_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.upload_button.setObjectName("newVersionUpload")
        self.upload_button.setText(tr("Upload"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow(tr("Files"), self.sources_label)
        form.addRow(tr("Project"), self.project)
        form.addRow(tr("Name"), self.name)
        form.addRow(tr("Type"), self.type)
        form.addRow(tr("Start from"), self.base)
        form.addRow(tr("Description"), self.description)
        form.addRow(tr("Metadata"), metadata_box)
        form.addRow(tr("Aliases"), self.aliases)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.hash_progress)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)

        self.plan_timer = QTimer(self)
        self.plan_timer.setObjectName("planDebounce")
        self.plan_timer.setSingleShot(True)
        self.plan_timer.setInterval(PLAN_DELAY_MS)
        self.plan_timer.timeout.connect(self.request_plan)

        self._show_sources()
        self._on_artifact_changed()
        self.project.currentTextChanged.connect(self._on_artifact_changed)
        self.name.textChanged.connect(self._on_artifact_changed)
        self.type.currentTextChanged.connect(self._on_type_edited)
        self.base.currentIndexChanged.connect(self._on_plan_input_changed)
        self.description.textChanged.connect(self._on_input_changed)
        self.aliases.textChanged.connect(self._on_input_changed)
        self.metadata_json.textChanged.connect(self._on_input_changed)
        for signal in (
            self.metadata_rows.dataChanged,
            self.metadata_rows.rowsInserted,
            self.metadata_rows.rowsRemoved,
            self.metadata_rows.modelReset,
        ):
            signal.connect(self._on_input_changed)
        self.add_row_button.clicked.connect(self._on_add_row_clicked)
        self.remove_row_button.clicked.connect(self._on_remove_row_clicked)
        self.json_toggle.toggled.connect(self._on_json_toggle_toggled)
        self._on_input_changed()

    # -- what the dialog holds ---------------------------------------------------------------
    @property
    def sources(self) -> list[Path]:
        return list(self._sources)

    def set_sources(self, sources: Sequence[Path]) -> None:
        """Upload these files and folders instead; asks for a new plan."""
        self._sources = list(sources)
        self._show_sources()
        if not self._type_touched:
            self._set_type(self._suggested_type())
        self._on_plan_input_changed()

    def existing_type(self) -> str | None:
        """The type of the artifact the project and name fields name, if it exists."""
        return self._existing_type

    def metadata(self) -> dict[str, Any]:
        """The metadata as entered (rows or JSON); raises ValidationError with the reason."""
        if self.json_toggle.isChecked():
            text = self.metadata_json.toPlainText()
            return metadata_from_json(text) if text.strip() else {}
        return self.metadata_rows.metadata()

    def alias_list(self) -> tuple[str, ...]:
        """The aliases, split at commas, in order and without repeats."""
        parts = (part.strip() for part in self.aliases.text().split(","))
        return tuple(dict.fromkeys(part for part in parts if part))

    def problem_text(self) -> str | None:
        """Why the version cannot be uploaded as entered, or None."""
        if not self._sources:
            return tr("Nothing to upload: drop files or folders on the window")
        project, name, type_ = self._texts()
        try:
            validate_project(project)
            validate_artifact_name(name)
            validate_type(type_)
        except ValidationError as exc:
            return str(exc)
        if self._existing_type is not None and type_ != self._existing_type:
            return tr(
                "{project}/{name} is a '{existing}' artifact, and a name has one type per "
                "project; choose type '{existing}' or another name"
            ).format(project=project, name=name, existing=self._existing_type)
        try:
            for alias in self.alias_list():
                validate_user_alias(alias)
            self.metadata()
            validate_description(self.description.toPlainText())
        except ValidationError as exc:
            return str(exc)
        return None

    def spec(self) -> UploadSpec:
        """The upload as entered; raises ValidationError when :meth:`problem_text` has one."""
        problem = self.problem_text()
        if problem is not None:
            raise ValidationError(problem)
        return self._spec(self.metadata(), self.alias_list())

    def _spec(self, metadata: dict[str, Any], aliases: tuple[str, ...]) -> UploadSpec:
        project, name, type_ = self._texts()
        description = self.description.toPlainText()
        return UploadSpec(
            sources=tuple(str(path.absolute()) for path in self._sources),
            project=project,
            name=name,
            type=type_,
            description=description if description.strip() else None,
            metadata=metadata,
            aliases=aliases,
            base_version_id=self.base.currentData(),
        )

    def _texts(self) -> tuple[str, str, str]:
        return (
            self.project.currentText().strip(),
            self.name.text().strip(),
            self.type.currentText().strip(),
        )

    # -- the plan (computed by the worker) ---------------------------------------------------
    @Slot()
    def request_plan(self) -> None:
        """Ask for a plan of what the fields name now, unless the last request was the same."""
        self.plan_timer.stop()
        spec = self._spec({}, ())  # metadata and aliases do not change what is uploaded
        key = (spec.sources, spec.project, spec.name, spec.base_version_id)
        if key == self._last_plan_key:
            return
        self._last_plan_key = key
        self.summary.setText(tr("Checking the files…"))
        self.hash_progress.setRange(0, 1)
        self.hash_progress.setValue(0)
        self.hash_progress.show()
        self.plan_requested.emit(spec)

    @Slot(int, int)
    def on_plan_progress(self, done: int, total: int) -> None:
        self.hash_progress.setRange(0, max(total, 1))
        self.hash_progress.setValue(min(done, max(total, 1)))
        self.hash_progress.show()

    @Slot(object)
    def on_plan_ready(self, summary: UploadSummary) -> None:
        self.hash_progress.hide()
        self.summary.setText(summary_text(summary))

    @Slot(str)
    def on_plan_failed(self, message: str) -> None:
        self.hash_progress.hide()
        self.summary.setText(tr("Could not check the files: {message}").format(message=message))

    # -- Qt events ---------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._last_plan_key is None:
            self.request_plan()

    def hideEvent(self, event: QHideEvent) -> None:
        self.plan_timer.stop()
        super().hideEvent(event)

    def accept(self) -> None:
        if self.problem_text() is None:
            super().accept()

    # -- reactions ---------------------------------------------------------------------------
    def _show_sources(self) -> None:
        names = [path.name + ("/" if path.is_dir() else "") for path in self._sources]
        shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        self.sources_label.setText(shown or tr("none"))
        self.sources_label.setToolTip("\n".join(str(path) for path in self._sources))

    def _suggested_type(self) -> str:
        return self._existing_type or self._dropped_type or guess_type(self._sources)

    def _set_type(self, type_: str) -> None:
        self._setting_type = True
        try:
            self.type.setEditText(type_)
        finally:
            self._setting_type = False

    @Slot()
    def _on_artifact_changed(self) -> None:
        project, name, _type = self._texts()
        key = (project, name)
        if key != self._existing_key:
            self._existing_key = key
            self._fill_base_versions(project, name)
            if not self._type_touched:
                self._set_type(self._suggested_type())
        self._on_plan_input_changed()

    def _fill_base_versions(self, project: str, name: str) -> None:
        rows = self._mirror.versions(project, name) if project and name else []
        self._existing_type = rows[0].info.type if rows else None
        self.base.blockSignals(True)
        self.base.clear()
        self.base.addItem(tr("None: only the dropped files"), None)
        for row in rows:
            info = row.info
            label = info.version or ""
            if info.aliases:
                label += f" ({', '.join(info.aliases)})"
            if info.file_count == 1:
                files = tr("1 file")
            else:
                files = tr("{count} files").format(count=f"{info.file_count:,}")
            self.base.addItem(f"{label} · {files}", info.id)
        self.base.setEnabled(bool(rows))
        self.base.blockSignals(False)

    @Slot(str)
    def _on_type_edited(self, _text: str) -> None:
        if not self._setting_type:
            self._type_touched = True
        self._on_input_changed()

    @Slot()
    def _on_plan_input_changed(self) -> None:
        if self._last_plan_key is not None:  # before the first show, showEvent asks
            self.plan_timer.start()
        self._on_input_changed()

    @Slot()
    def _on_input_changed(self) -> None:
        problem = self.problem_text()
        self.problem.setText(problem or "")
        self.upload_button.setEnabled(problem is None)

    @Slot()
    def _on_add_row_clicked(self) -> None:
        row = self.metadata_rows.add_row()
        index = self.metadata_rows.index(row, 0)
        self.metadata_table.setCurrentIndex(index)
        self.metadata_table.edit(index)

    @Slot()
    def _on_remove_row_clicked(self) -> None:
        selection = self.metadata_table.selectionModel()
        rows = {index.row() for index in selection.selectedIndexes()}
        if not rows and self.metadata_table.currentIndex().isValid():
            rows = {self.metadata_table.currentIndex().row()}
        for row in sorted(rows, reverse=True):
            self.metadata_rows.remove_row(row)

    @Slot(bool)
    def _on_json_toggle_toggled(self, as_json: bool) -> None:
        """Carry the metadata across; stay put while what is there does not parse."""
        try:
            if as_json:
                metadata = self.metadata_rows.metadata()
                text = json.dumps(metadata, indent=2, ensure_ascii=False) if metadata else ""
                self.metadata_json.setPlainText(text)
            else:
                text = self.metadata_json.toPlainText()
                metadata = metadata_from_json(text) if text.strip() else {}
                self.metadata_rows.set_pairs([(k, value_text(v)) for k, v in metadata.items()])
        except ValidationError:
            self.json_toggle.blockSignals(True)
            self.json_toggle.setChecked(not as_json)
            self.json_toggle.blockSignals(False)
            self._on_input_changed()  # the problem label says why
            return
        self.metadata_pages.setCurrentIndex(1 if as_json else 0)
        self._on_input_changed()
