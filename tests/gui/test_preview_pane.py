"""PreviewPane: each kind of preview on its own page; CsvTableModel behind the table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QColor, QFontInfo, QImage
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from desktop_app.client.preview import MAX_CSV_ROWS, Preview, load_preview
from desktop_app.gui.models.csv_table import CsvTableModel
from desktop_app.gui.models.csv_table import Role as CsvRole
from desktop_app.gui.widgets.preview import PreviewPane


@pytest.fixture
def pane(qtbot: QtBot) -> Iterator[PreviewPane]:
    # Placed by hand in a window without a layout: the offscreen platform warns when a
    # top-level window's minimum size changes, as it would with the pane as the window.
    host = QWidget()
    qtbot.addWidget(host)
    host.resize(400, 300)
    pane = PreviewPane(host)
    pane.setGeometry(0, 0, 400, 300)
    host.show()
    qtbot.waitExposed(host)
    yield pane  # the host (and with it the pane) lives until the test ends
    host.close()


def png(width: int, height: int) -> bytes:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("red"))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def test_object_name_and_an_empty_start(pane: PreviewPane) -> None:
    assert pane.objectName() == "filePreview"
    assert pane.currentWidget() is pane.message_label
    assert pane.message_label.text() == ""


def test_text_is_read_only_and_monospace(pane: PreviewPane, tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_text("line one\nline two\n", encoding="utf-8")
    pane.show_preview(load_preview(path, "notes.txt"))
    assert pane.currentWidget().isAncestorOf(pane.text_view)
    assert pane.text_view.toPlainText() == "line one\nline two\n"
    assert pane.text_view.isReadOnly()
    assert QFontInfo(pane.text_view.font()).fixedPitch()
    assert pane.text_note.isHidden()


def test_json_shows_pretty_text(pane: PreviewPane, tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_text('{"a":{"b":1}}', encoding="utf-8")
    pane.show_preview(load_preview(path, "config.json"))
    assert pane.currentWidget().isAncestorOf(pane.text_view)
    assert pane.text_view.toPlainText() == '{\n  "a": {\n    "b": 1\n  }\n}'


def test_truncated_text_says_so(pane: PreviewPane) -> None:
    pane.show_preview(Preview("text", "big.log", 5 * 1024 * 1024, text="start", truncated=True))
    assert pane.text_note.isVisible()
    assert "5 MiB" in pane.text_note.text()


def test_csv_shows_a_table_with_the_first_row_as_header(pane: PreviewPane, tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_text("name,score\nalice,1\nbob,2,extra\n", encoding="utf-8")
    pane.show_preview(load_preview(path, "scores.csv"))
    assert pane.currentWidget().isAncestorOf(pane.table_view)
    model = pane.table_view.model()
    assert model is pane.table_model
    assert (model.rowCount(), model.columnCount()) == (2, 3)
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(3)] == [
        "name",
        "score",
        "3",
    ]
    assert model.index(1, 2).data() == "extra"
    assert model.index(0, 2).data() == ""
    assert pane.table_note.isHidden()


def test_a_csv_cut_at_the_row_limit_says_so(pane: PreviewPane) -> None:
    rows = [[str(i), "x"] for i in range(MAX_CSV_ROWS)]
    pane.show_preview(Preview("csv", "big.csv", 10_000, rows=rows))
    assert pane.table_note.isVisible()
    assert str(MAX_CSV_ROWS) in pane.table_note.text()


def test_an_image_is_scaled_to_fit_keeping_its_aspect_ratio(
    pane: PreviewPane, qtbot: QtBot
) -> None:
    pane.show_preview(Preview("image", "wide.png", 0, data=png(1600, 400), image_format="png"))
    assert pane.currentWidget() is pane.image_label
    shown = pane.image_label.pixmap()
    assert not shown.isNull()
    assert shown.width() <= pane.image_label.width()
    assert shown.height() <= pane.image_label.height()
    assert abs(shown.width() / shown.height() - 4.0) < 0.05
    pane.resize(200, 300)
    qtbot.waitUntil(lambda: pane.image_label.pixmap().width() <= 200)
    assert abs(pane.image_label.pixmap().width() / pane.image_label.pixmap().height() - 4) < 0.1


def test_a_small_image_is_not_blown_up(pane: PreviewPane) -> None:
    pane.show_preview(Preview("image", "dot.png", 0, data=png(4, 3), image_format="png"))
    assert (pane.image_label.pixmap().width(), pane.image_label.pixmap().height()) == (4, 3)


def test_other_kinds_show_a_centered_message(pane: PreviewPane) -> None:
    pane.show_preview(Preview("binary", "weights.bin", 3 * 1024 * 1024 + 200 * 1024))
    assert pane.currentWidget() is pane.message_label
    assert pane.message_label.text() == "Binary file, 3.2 MiB: no preview."
    assert pane.message_label.alignment() & Qt.AlignmentFlag.AlignHCenter
    pane.show_preview(Preview("too_large", "huge.png", 50 * 1024 * 1024))
    assert "50 MiB" in pane.message_label.text()
    pane.show_preview(Preview("missing", "gone.txt"))
    assert "gone.txt" in pane.message_label.text()


def test_show_message_and_clear_drop_the_previous_preview(pane: PreviewPane) -> None:
    pane.show_preview(Preview("text", "a.txt", 5, text="hello"))
    pane.show_message("Loading…")
    assert pane.currentWidget() is pane.message_label
    assert pane.message_label.text() == "Loading…"
    assert pane.text_view.toPlainText() == ""
    pane.show_preview(Preview("image", "dot.png", 0, data=png(4, 3), image_format="png"))
    pane.clear()
    assert pane.currentWidget() is pane.message_label
    assert pane.message_label.text() == ""
    assert pane.image_label.pixmap().isNull()


def test_csv_table_model_passes_the_model_tester(qtmodeltester: Any) -> None:
    model = CsvTableModel()
    qtmodeltester.check(model)
    model.set_rows([["a", "b"], ["1", "2"], ["3"]])
    qtmodeltester.check(model)
    assert model.index(1, 1).data(CsvRole.CELL) == ""
    assert model.headerData(1, Qt.Orientation.Vertical) == "2"
    model.set_rows([["a", "b"], ["1", "2"]], header=False)
    assert model.rowCount() == 2
    assert model.headerData(0, Qt.Orientation.Horizontal) == "1"
    qtmodeltester.check(model)
