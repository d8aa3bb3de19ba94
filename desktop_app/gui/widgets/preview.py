"""The file preview of the Files tab: text, a CSV table, an image, or a message."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_app.client.preview import MAX_CSV_ROWS, Preview
from desktop_app.client.units import format_size
from desktop_app.gui.i18n import tr
from desktop_app.gui.models.csv_table import CsvTableModel


def _note_label(object_name: str) -> QLabel:
    note = QLabel()
    note.setObjectName(object_name)
    note.setWordWrap(True)
    note.hide()
    return note


def _page(*widgets: QWidget) -> QWidget:
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)
    return page


class PreviewPane(QStackedWidget):
    """Shows one :class:`~desktop_app.client.preview.Preview`; it never reads files itself."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filePreview")

        self.message_label = QLabel()
        self.message_label.setObjectName("filePreviewMessage")
        self.message_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message_label.setWordWrap(True)

        self.text_note = _note_label("filePreviewTextNote")
        self.text_view = QPlainTextEdit()
        self.text_view.setObjectName("filePreviewText")
        self.text_view.setReadOnly(True)
        self.text_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))

        self.table_note = _note_label("filePreviewTableNote")
        self.table_model = CsvTableModel(self)
        self.table_view = QTableView()
        self.table_view.setObjectName("filePreviewTable")
        self.table_view.setModel(self.table_model)

        self.image_label = QLabel()
        self.image_label.setObjectName("filePreviewImage")
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # The label must not grow to the pixmap's size: the pixmap follows the label.
        self.image_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.image_label.setMinimumSize(1, 1)
        self._pixmap = QPixmap()

        self._message_page = self.message_label
        self._text_page = _page(self.text_note, self.text_view)
        self._table_page = _page(self.table_note, self.table_view)
        self._image_page = self.image_label
        for page in (self._message_page, self._text_page, self._table_page, self._image_page):
            self.addWidget(page)
        self.clear()

    # -- what to show ----------------------------------------------------------------------
    def show_preview(self, preview: Preview) -> None:
        """Show ``preview`` on the page that fits its kind."""
        self._release()
        if preview.kind in ("text", "json"):
            self.text_view.setPlainText(preview.text)
            self._set_note(
                self.text_note,
                tr("Only the start of this {size} file is shown.").format(
                    size=format_size(preview.size)
                )
                if preview.truncated
                else "",
            )
            self.setCurrentWidget(self._text_page)
        elif preview.kind == "csv":
            self.table_model.set_rows(preview.rows)
            self._set_note(
                self.table_note,
                tr("Only the first %n row(s) are shown.", n=len(preview.rows))
                if preview.truncated or len(preview.rows) >= MAX_CSV_ROWS
                else "",
            )
            self.setCurrentWidget(self._table_page)
        elif preview.kind == "image":
            pixmap = QPixmap()
            if not pixmap.loadFromData(preview.data):
                self.show_message(
                    tr("{name}: the image could not be decoded.").format(name=preview.name)
                )
                return
            self._pixmap = pixmap
            self.setCurrentWidget(self._image_page)
            self._fit_image()
        else:
            self.show_message(self._message_for(preview))

    def show_message(self, text: str) -> None:
        """Show ``text`` centred, in place of a preview (e.g. "Loading…")."""
        self._release()
        self.message_label.setText(text)
        self.setCurrentWidget(self._message_page)

    def clear(self) -> None:
        """Show nothing."""
        self.show_message("")

    @staticmethod
    def _message_for(preview: Preview) -> str:
        size = format_size(preview.size)
        if preview.kind == "binary":
            return tr("Binary file, {size}: no preview.").format(size=size)
        if preview.kind == "too_large":
            return tr("{size} is too large to preview.").format(size=size)
        if preview.kind == "missing":
            return tr("{name} is not on this computer; download it to preview it.").format(
                name=preview.name
            )
        return preview.message

    # -- internals -------------------------------------------------------------------------
    def _release(self) -> None:
        """Drop what the previous preview held, so a big text or image is not kept around."""
        self.text_view.clear()
        self.table_model.set_rows([])
        self._pixmap = QPixmap()
        self.image_label.clear()
        self.text_note.hide()
        self.table_note.hide()

    @staticmethod
    def _set_note(note: QLabel, text: str) -> None:
        note.setText(text)
        note.setVisible(bool(text))

    def _fit_image(self) -> None:
        if self._pixmap.isNull():
            return
        size = self.image_label.size()
        if self._pixmap.width() <= size.width() and self._pixmap.height() <= size.height():
            self.image_label.setPixmap(self._pixmap)  # small images are not blown up
            return
        self.image_label.setPixmap(
            self._pixmap.scaled(
                size,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_image()
