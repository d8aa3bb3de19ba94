"""The Overview tab: what a version is, with its description and aliases editable in place."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.client.units import format_size
from desktop_app.core.errors import ValidationError
from desktop_app.core.names import validate_user_alias
from desktop_app.core.records import RunInfo, VersionInfo
from desktop_app.gui.i18n import tr
from desktop_app.gui.models.versions import format_time

LATEST = "latest"


def run_label(run_id: str, run: RunInfo | None) -> str:
    if run is None:
        return run_id
    kind = f"{run.job_type} · " if run.job_type else ""
    return f"{kind}{run.name or run.id}"


class AliasChip(QWidget):
    """One alias; user aliases carry a remove button, ``latest`` does not."""

    remove_requested = Signal(str)

    def __init__(self, alias: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"alias_{alias}")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 6, 0)
        layout.setSpacing(2)
        label = QLabel(f"<b>{alias}</b>")
        label.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(label)
        if alias != LATEST:
            button = QPushButton("×")
            button.setObjectName("removeAlias")
            button.setFlat(True)
            button.setFixedWidth(22)
            button.setToolTip(tr("Remove alias {alias}").format(alias=alias))
            button.clicked.connect(lambda: self.remove_requested.emit(alias))
            layout.addWidget(button)
        else:
            label.setToolTip(tr("'latest' always points at the newest version"))


class OverviewTab(QWidget):
    """Name, type, digest, size, runs; description and aliases edited in place."""

    description_edited = Signal(str, str)  # version id, new description
    alias_add_requested = Signal(str, str)
    alias_remove_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("overviewTab")
        self._version: VersionInfo | None = None
        # What the fields show, to skip rebuilding them when a refresh brings nothing new.
        self._shown: tuple[VersionInfo, RunInfo | None, list[tuple[str, RunInfo | None]]] | None = (
            None
        )
        self.title = QLabel()
        self.title.setObjectName("versionTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.title.setFont(font)
        self.fields: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for key, label in (
            ("type", tr("Type")),
            ("digest", tr("Digest")),
            ("size", tr("Size")),
            ("files", tr("Files")),
            ("created", tr("Created")),
            ("produced_by", tr("Produced by")),
            ("used_by", tr("Used by")),
            ("tags", tr("Tags")),
        ):
            value = QLabel()
            value.setObjectName(f"field_{key}")
            value.setTextFormat(Qt.TextFormat.PlainText)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(True)
            self.fields[key] = value
            form.addRow(label, value)
        self.alias_row = QHBoxLayout()
        self.alias_row.setSpacing(4)
        self.alias_input = QLineEdit()
        self.alias_input.setObjectName("aliasInput")
        self.alias_input.setPlaceholderText(tr("add or move an alias, e.g. best"))
        self.alias_input.textChanged.connect(self._on_alias_input_text_changed)
        self.alias_input.returnPressed.connect(self._on_add_alias_clicked)
        self.add_alias_button = QPushButton(tr("Add"))
        self.add_alias_button.setObjectName("addAlias")
        self.add_alias_button.setEnabled(False)
        self.add_alias_button.clicked.connect(self._on_add_alias_clicked)
        self.alias_problem = QLabel()
        self.alias_problem.setObjectName("aliasProblem")
        self.alias_problem.setWordWrap(True)
        self.alias_problem.setStyleSheet("color: palette(link-visited);")
        alias_edit = QHBoxLayout()
        alias_edit.addWidget(self.alias_input, 1)
        alias_edit.addWidget(self.add_alias_button)
        aliases = QVBoxLayout()
        aliases.addLayout(self.alias_row)
        aliases.addLayout(alias_edit)
        aliases.addWidget(self.alias_problem)
        form.addRow(tr("Aliases"), aliases)
        self.description = QPlainTextEdit()
        self.description.setObjectName("descriptionEdit")
        self.description.setPlaceholderText(tr("No description yet: type one and save"))
        self.description.setMaximumHeight(120)
        self.description.textChanged.connect(self._on_description_text_changed)
        self.save_description = QPushButton(tr("Save description"))
        self.save_description.setObjectName("saveDescription")
        self.save_description.setEnabled(False)
        self.save_description.clicked.connect(self._on_save_description_clicked)
        form.addRow(tr("Description"), self.description)
        form.addRow("", self.save_description)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addStretch(1)
        self.setEnabled(False)

    def show_version(
        self,
        info: VersionInfo,
        producer: RunInfo | None,
        users: list[tuple[str, RunInfo | None]],
    ) -> None:
        if self._shown == (info, producer, users):
            return
        self._shown = (info, producer, users)
        same = self._version is not None and self._version.id == info.id
        self._version = info
        self.setEnabled(True)
        self.title.setText(f"{info.name}:{info.version}")
        self.fields["type"].setText(info.type)
        self.fields["digest"].setText(info.digest)
        self.fields["size"].setText(f"{format_size(info.size)} ({info.size:,} bytes)")
        self.fields["files"].setText(f"{info.file_count:,}")
        self.fields["created"].setText(format_time(info.created_at))
        self.fields["produced_by"].setText(
            run_label(info.logged_by, producer) if info.logged_by else tr("no run recorded")
        )
        self.fields["used_by"].setText(
            ", ".join(run_label(rid, run) for rid, run in users) or tr("no run yet")
        )
        self.fields["tags"].setText(", ".join(info.tags) or "—")
        self._show_aliases(info.aliases)
        if not same or not self.save_description.isEnabled():
            self.description.blockSignals(True)
            self.description.setPlainText(info.description or "")
            self.description.blockSignals(False)
            self.save_description.setEnabled(False)

    def clear(self) -> None:
        self._version = None
        self._shown = None
        self.title.setText(tr("Select a version"))
        for value in self.fields.values():
            value.clear()
        self._show_aliases(())
        self.description.blockSignals(True)
        self.description.clear()
        self.description.blockSignals(False)
        self.setEnabled(False)

    def _show_aliases(self, aliases: tuple[str, ...]) -> None:
        while self.alias_row.count():
            item = self.alias_row.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for alias in sorted(aliases, key=lambda a: (a != LATEST, a)):
            chip = AliasChip(alias, self)
            chip.remove_requested.connect(self._on_chip_remove_requested)
            self.alias_row.addWidget(chip)
        self.alias_row.addStretch(1)

    @Slot(str)
    def _on_alias_input_text_changed(self, text: str) -> None:
        problem = alias_problem(text, self._version)
        self.alias_problem.setText(problem or "")
        self.add_alias_button.setEnabled(bool(text.strip()) and problem is None)

    @Slot()
    def _on_add_alias_clicked(self) -> None:
        text = self.alias_input.text().strip()
        if self._version is None or not text or alias_problem(text, self._version):
            return
        self.alias_add_requested.emit(self._version.id, text)
        self.alias_input.clear()

    @Slot(str)
    def _on_chip_remove_requested(self, alias: str) -> None:
        if self._version is not None:
            self.alias_remove_requested.emit(self._version.id, alias)

    @Slot()
    def _on_description_text_changed(self) -> None:
        current = self._version.description or "" if self._version else ""
        self.save_description.setEnabled(self.description.toPlainText() != current)

    @Slot()
    def _on_save_description_clicked(self) -> None:
        if self._version is not None:
            self.save_description.setEnabled(False)
            self.description_edited.emit(self._version.id, self.description.toPlainText())


def alias_problem(text: str, version: VersionInfo | None) -> str | None:
    """Why ``text`` cannot be added as an alias, or None when it can."""
    text = text.strip()
    if not text:
        return None
    if text == LATEST:
        return tr("'latest' moves by itself to the newest version; pick another alias")
    try:
        validate_user_alias(text)
    except ValidationError as exc:
        return str(exc)
    if version is not None and text in version.aliases:
        return tr("{name}:{version} already has alias {alias}").format(
            name=version.name, version=version.version, alias=text
        )
    return None
