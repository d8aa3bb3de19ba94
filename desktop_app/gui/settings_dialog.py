"""The settings dialog: backend, cache folder and limit, parallel transfers, language.

It edits the same settings file the CLI uses and stores an API key the way
``artifact-desk login`` does (the keyring, or a file only the user can read).
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.backends.http_transport import normalize_server_url
from desktop_app.client.credentials import load_key, store_key
from desktop_app.client.paths import AppPaths
from desktop_app.client.session import content_cache_dir
from desktop_app.client.settings import GIB, Settings, save_settings
from desktop_app.core.errors import ValidationError
from desktop_app.gui.i18n import available_languages, tr

LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "ja": "日本語", "fr": "Français"}


class SettingsDialog(QDialog):
    """Edits a copy of the settings; :meth:`apply` saves them when the user accepts."""

    def __init__(self, settings: Settings, paths: AppPaths, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle(tr("Settings"))
        self._settings = settings
        self._paths = paths

        self.embedded = QRadioButton(tr("Embedded store on this computer"))
        self.embedded.setObjectName("embeddedBackend")
        self.server = QRadioButton(tr("Team server"))
        self.server.setObjectName("serverBackend")
        group = QButtonGroup(self)
        group.addButton(self.embedded)
        group.addButton(self.server)
        self.url = QLineEdit(settings.backend_url or "")
        self.url.setObjectName("serverUrl")
        self.url.setPlaceholderText("https://artifacts.example.org")
        self.api_key = QLineEdit()
        self.api_key.setObjectName("apiKey")
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        has_key = bool(settings.backend_url and load_key(settings.backend_url, paths))
        self.api_key.setPlaceholderText(
            tr("keep the stored key") if has_key else tr("paste the key from your admin")
        )
        (self.server if settings.backend_url else self.embedded).setChecked(True)

        self.cache_dir = QLineEdit(str(content_cache_dir(paths, settings)))
        self.cache_dir.setObjectName("cacheDir")
        browse = QPushButton(tr("Choose…"))
        browse.clicked.connect(self._on_browse_clicked)
        cache_row = QHBoxLayout()
        cache_row.addWidget(self.cache_dir, 1)
        cache_row.addWidget(browse)
        self.cache_limit = QDoubleSpinBox()
        self.cache_limit.setObjectName("cacheLimit")
        self.cache_limit.setRange(0.1, 100_000)
        self.cache_limit.setDecimals(1)
        self.cache_limit.setSuffix(" GiB")
        self.cache_limit.setValue(settings.cache_max_bytes / GIB)
        self.transfers = QSpinBox()
        self.transfers.setObjectName("parallelTransfers")
        self.transfers.setRange(1, 32)
        self.transfers.setValue(settings.transfer_workers)
        self.language = QComboBox()
        self.language.setObjectName("language")
        self.language.addItem(tr("System language"), None)
        for code in available_languages():
            self.language.addItem(LANGUAGE_NAMES.get(code, code), code)
        self.language.setCurrentIndex(max(0, self.language.findData(settings.language)))
        self.language.setToolTip(tr("The language changes when Artifact Desk starts again"))
        self.problem = QLabel()
        self.problem.setObjectName("settingsProblem")
        self.problem.setWordWrap(True)

        form = QFormLayout()
        form.addRow(tr("Backend"), self.embedded)
        form.addRow("", self.server)
        form.addRow(tr("Server URL"), self.url)
        form.addRow(tr("API key"), self.api_key)
        form.addRow(tr("Cache folder"), cache_row)
        form.addRow(tr("Cache size limit"), self.cache_limit)
        form.addRow(tr("Parallel transfers"), self.transfers)
        form.addRow(tr("Language"), self.language)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        for signal in (self.url.textChanged, self.api_key.textChanged, self.server.toggled):
            signal.connect(self._on_input_changed)
        self._on_input_changed()

    def problem_text(self) -> str | None:
        """Why the settings cannot be saved as they are, or None."""
        if not self.server.isChecked():
            return None
        try:
            url = normalize_server_url(self.url.text())
        except ValidationError as exc:
            return str(exc)
        if not self.api_key.text().strip() and not load_key(url, self._paths):
            return tr("Paste an API key for {url}; a server admin creates one").format(url=url)
        return None

    @Slot()
    def _on_input_changed(self) -> None:
        self.url.setEnabled(self.server.isChecked())
        self.api_key.setEnabled(self.server.isChecked())
        problem = self.problem_text()
        self.problem.setText(problem or "")
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(problem is None)

    @Slot()
    def _on_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, tr("Cache folder"), self.cache_dir.text())
        if folder:
            self.cache_dir.setText(folder)

    def result_settings(self) -> Settings:
        """The settings as the dialog shows them."""
        url = normalize_server_url(self.url.text()) if self.server.isChecked() else None
        cache = self.cache_dir.text().strip()
        default_cache = str(self._paths.content_cache_dir)
        return replace(
            self._settings,
            backend_url=url,
            cache_dir=None if not cache or cache == default_cache else cache,
            cache_max_bytes=int(self.cache_limit.value() * GIB),
            transfer_workers=self.transfers.value(),
            language=self.language.currentData(),
            env_overrides=dict(self._settings.env_overrides),
        )

    def apply(self) -> Settings:
        """Save the settings (and a new API key) where the CLI finds them too."""
        settings = self.result_settings()
        key = self.api_key.text().strip()
        if settings.backend_url and key:
            store_key(settings.backend_url, key, self._paths)
        save_settings(self._paths, settings)
        return settings
