from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QTableView, QTabWidget
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from record_factory import make_version

from desktop_app.client.compare import Change, VersionDiff, compare_versions
from desktop_app.core.manifest import ManifestEntry
from desktop_app.core.records import VersionInfo
from desktop_app.gui.models.diff import FileDiffModel, MetadataDiffModel
from desktop_app.gui.widgets.compare import CompareView, size_delta_text


def version(
    index: int,
    aliases: tuple[str, ...] = (),
    size: int = 0,
    metadata: dict[str, object] | None = None,
) -> VersionInfo:
    return make_version(index=index, aliases=aliases, size=size, metadata=metadata or {})


def sample_diff() -> VersionDiff:
    old = [
        ManifestEntry("a.txt", "A", 2048),
        ManifestEntry("b.txt", "B", 5),
        ManifestEntry("same.txt", "S", 1),
    ]
    new = [
        ManifestEntry("a.txt", "A2", 3 * 1024 * 1024),
        ManifestEntry("c.txt", "C", 7),
        ManifestEntry("same.txt", "S", 1),
    ]
    return compare_versions(
        version(1, size=2054, metadata={"train": {"lr": 0.1}, "gone": "x" * 500}),
        old,
        version(2, size=2054 + 1258291, metadata={"train": {"lr": 0.01, "bs": 32}}),
        new,
    )


@pytest.fixture
def view(qtbot: QtBot) -> CompareView:
    widget = CompareView()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def picker(view: CompareView) -> QComboBox:
    found = view.findChild(QComboBox, "compareVersionPicker")
    assert found is not None
    return found


def summary(view: CompareView) -> str:
    label = view.findChild(QLabel, "compareSummary")
    assert label is not None
    return label.text()


def table(view: CompareView, name: str) -> QTableView:
    found = view.findChild(QTableView, name)
    assert found is not None
    return found


def test_both_diff_models_pass_the_model_tester(qtmodeltester: ModelTester) -> None:
    diff = sample_diff()
    files = FileDiffModel()
    files.set_files(diff.files)
    metadata = MetadataDiffModel()
    metadata.set_metadata(diff.metadata)
    assert files.rowCount() == 3
    assert metadata.rowCount() == 3
    qtmodeltester.check(files)
    qtmodeltester.check(metadata)
    files.set_files(())
    qtmodeltester.check(files)


def test_the_picker_lists_the_others_newest_first_with_aliases(view: CompareView) -> None:
    combo = picker(view)
    assert view.objectName() == "compareView"
    assert not combo.isEnabled()
    view.set_versions(
        version(3), [version(1), version(4, ("latest", "prod")), version(3), version(2)]
    )
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "v4 (latest, prod)",
        "v2",
        "v1",
    ]
    assert [combo.itemData(i) for i in range(combo.count())] == ["id4", "id2", "id1"]
    assert combo.currentIndex() == -1
    assert view.selected_other_id() is None
    assert view.current_id == "id3"
    assert combo.isEnabled()


def test_picking_a_version_emits_its_id(qtbot: QtBot, view: CompareView) -> None:
    view.set_versions(version(3), [version(2), version(1)])
    combo = picker(view)
    combo.setFocus()
    with qtbot.waitSignal(view.other_selected, timeout=1000) as blocker:
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert blocker.args == ["id2"]
    assert view.selected_other_id() == "id2"
    assert "Loading" in summary(view)
    with qtbot.waitSignal(view.other_selected, timeout=1000) as blocker:
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert blocker.args == ["id1"]


def test_filling_the_picker_emits_nothing(qtbot: QtBot, view: CompareView) -> None:
    with qtbot.assertNotEmitted(view.other_selected):
        view.set_versions(version(3), [version(2), version(1)])
        view.set_versions(version(2), [version(3), version(1)])
        view.clear()


def test_show_diff_fills_the_summary_and_both_tables(view: CompareView) -> None:
    view.set_versions(version(2), [version(1)])
    view.show_diff(sample_diff())
    assert summary(view) == "1 added, 1 removed, 1 changed, 1 unchanged; +1.2 MiB"

    files = table(view, "compareFilesTable").model()
    rows = [
        [files.index(row, column).data() for column in range(files.columnCount())]
        for row in range(files.rowCount())
    ]
    assert rows == [
        ["a.txt", "changed", "2 KiB", "3 MiB"],
        ["b.txt", "removed", "5 B", ""],
        ["c.txt", "added", "", "7 B"],
    ]
    assert [files.headerData(c, Qt.Orientation.Horizontal) for c in range(4)] == [
        "Path",
        "Change",
        "Old size",
        "New size",
    ]
    assert files.index(2, 0).data(FileDiffModel.Role.CHANGE) == Change.ADDED.value
    assert files.index(1, 0).data(FileDiffModel.Role.OLD_SIZE) == 5

    metadata = table(view, "compareMetadataTable").model()
    shown = [
        [metadata.index(row, column).data() for column in range(3)]
        for row in range(metadata.rowCount())
    ]
    assert shown[0][0] == "gone"
    assert shown[0][2] == "—"
    assert len(shown[0][1]) == 200
    assert shown[0][1].endswith("…")
    assert metadata.index(0, 1).data(Qt.ItemDataRole.ToolTipRole) == '"' + "x" * 500 + '"'
    assert shown[1:] == [["train.bs", "—", "32"], ["train.lr", "0.1", "0.01"]]
    assert metadata.index(2, 0).data(MetadataDiffModel.Role.NEW_VALUE) == 0.01

    tabs = view.findChild(QTabWidget, "compareTabs")
    assert tabs is not None
    assert [tabs.tabText(0), tabs.tabText(1)] == ["Files (3)", "Metadata (3)"]


def test_waiting_and_clear_empty_the_tables(view: CompareView) -> None:
    view.set_versions(version(2), [version(1)])
    view.show_diff(sample_diff())
    view.show_waiting()
    assert summary(view) == "Loading the file lists to compare…"
    assert table(view, "compareFilesTable").model().rowCount() == 0
    assert table(view, "compareMetadataTable").model().rowCount() == 0
    view.show_diff(sample_diff())
    view.clear()
    assert summary(view) == ""
    assert picker(view).count() == 0
    assert not picker(view).isEnabled()
    assert view.current_id is None
    assert table(view, "compareFilesTable").model().rowCount() == 0


def test_refreshing_the_same_version_keeps_the_pick_and_the_diff(
    qtbot: QtBot, view: CompareView
) -> None:
    view.set_versions(version(3), [version(2), version(1)])
    combo = picker(view)
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)
    view.show_diff(sample_diff())
    view.set_versions(version(3, ("latest",)), [version(2, ("prod",)), version(1)])
    assert view.selected_other_id() == "id2"
    assert combo.currentText() == "v2 (prod)"
    assert table(view, "compareFilesTable").model().rowCount() == 3
    # Another version: the pick goes.
    view.set_versions(version(2), [version(3), version(1)])
    assert view.selected_other_id() is None
    assert table(view, "compareFilesTable").model().rowCount() == 0


def test_no_other_version_says_so(view: CompareView) -> None:
    view.set_versions(version(1), [version(1)])
    assert picker(view).count() == 0
    assert not picker(view).isEnabled()
    assert summary(view) == "There is no other version to compare with."


@pytest.mark.parametrize(
    ("delta", "text"), [(0, "no size change"), (1536, "+1.5 KiB"), (-300, "−300 B")]
)
def test_size_delta_text(delta: int, text: str) -> None:
    assert size_delta_text(delta) == text
