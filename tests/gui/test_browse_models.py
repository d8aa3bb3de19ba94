"""The project tree, its filter proxy and the version table, checked by qtmodeltester."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester, QSignalSpy
from pytestqt.modeltest import ModelTester
from record_factory import make_version

from desktop_app.client.mirror import CollectionRow, VersionRow
from desktop_app.gui.models.project_tree import ArtifactFilterProxy, ProjectTreeModel, Role
from desktop_app.gui.models.versions import Role as VersionRole
from desktop_app.gui.models.versions import VersionTableModel

ROWS = [
    CollectionRow("vision", "raw-images", "dataset", 6),
    CollectionRow("vision", "train-split", "dataset", 2),
    CollectionRow("vision", "resnet50", "model", 3),
    CollectionRow("nlp", "corpus", "dataset", 1),
]


def version_row(index: int, *, size: int = 10, aliases: tuple[str, ...] = ()) -> VersionRow:
    info = make_version(
        index=index,
        name="raw-images",
        project="vision",
        digest="d" * 32,
        size=size,
        file_count=index + 1,
        aliases=aliases,
        created_at=1_700_000_000 + index,
    )
    return VersionRow(info, manifest_loaded=index == 0, cached_files=1, pending_edits=0)


def test_project_tree_passes_the_model_tester(qtmodeltester: ModelTester) -> None:
    model = ProjectTreeModel()
    model.set_collections(ROWS)
    qtmodeltester.check(model)
    assert model.rowCount() == 2
    vision = model.index(1, 0)
    assert vision.data() == "vision"
    assert [model.index(r, 0, vision).data(Role.TYPE) for r in range(2)] == ["dataset", "model"]


def test_refresh_inserts_and_removes_rows_instead_of_resetting(
    qtmodeltester: ModelTester,
) -> None:
    model = ProjectTreeModel()
    model.set_collections(ROWS)
    # Qt's own tester watches every signal of the refresh for consistency.
    # Kept in a name: PySide6 deletes an unreferenced tester at once, and it checks nothing.
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    resets, inserts, removes, changes = (
        QSignalSpy(model.modelReset),
        QSignalSpy(model.rowsInserted),
        QSignalSpy(model.rowsRemoved),
        QSignalSpy(model.dataChanged),
    )
    keep = model.index_for_key(("vision", "dataset", "raw-images"))
    persistent = keep.model().index(keep.row(), 0, keep.parent())
    updated = [
        CollectionRow("vision", "raw-images", "dataset", 7),  # a new version
        CollectionRow("vision", "resnet50", "model", 3),
        CollectionRow("vision", "eval", "evaluation", 1),  # a new type
        CollectionRow("nlp", "corpus", "dataset", 1),
    ]  # train-split is gone
    model.set_collections(updated)
    assert resets.count() == 0
    assert inserts.count() >= 1
    assert removes.count() == 1
    assert changes.count() >= 1
    raw = model.index_for_key(("vision", "dataset", "raw-images"))
    assert raw.data(Role.VERSION_COUNT) == 7
    assert persistent.isValid()
    assert not model.index_for_key(("vision", "dataset", "train-split")).isValid()
    assert model.index_for_key(("vision", "evaluation", "eval")).isValid()
    qtmodeltester.check(model)
    model.set_collections([])
    assert model.rowCount() == 0
    del tester  # it watched every change above


def test_filter_proxy_passes_the_model_tester(qtmodeltester: ModelTester) -> None:
    model = ProjectTreeModel()
    model.set_collections(ROWS)
    proxy = ArtifactFilterProxy()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy)
    proxy.set_types(frozenset({"model"}))
    qtmodeltester.check(proxy)
    assert proxy.rowCount() == 1  # only "vision" has a model
    vision = proxy.index(0, 0)
    assert proxy.rowCount(vision) == 1
    proxy.set_types(frozenset())
    proxy.set_search("CORP")
    assert proxy.rowCount() == 1
    assert proxy.index(0, 0).data() == "nlp"
    proxy.set_search("")
    assert proxy.rowCount() == 2


def test_version_table_passes_the_model_tester_and_sorts(qtmodeltester: ModelTester) -> None:
    model = VersionTableModel()
    model.set_rows(
        [version_row(i, size=100 - i * 7 % 13, aliases=("latest",) * (i == 4)) for i in range(5)]
    )
    qtmodeltester.check(model)
    assert [model.index(r, 0).data() for r in range(5)] == ["v4", "v3", "v2", "v1", "v0"]
    assert model.index(0, 1).data() == "latest"
    model.sort(4, Qt.SortOrder.AscendingOrder)
    sizes = [model.index(r, 4).data(VersionRole.SORT_KEY) for r in range(5)]
    assert sizes == sorted(sizes)
    assert model.index(model.rowCount() - 1, 7).data() in ("committed", "available offline")
    assert model.row_for_id("id3") >= 0
    assert model.version_row(99) is None
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Version"
    assert model.rowCount(model.index(0, 0)) == 0
    assert not model.index(9, 9).isValid()
    assert model.data(QModelIndex()) is None


def test_update_rows_keeps_order_and_signals_data_changed() -> None:
    model = VersionTableModel()
    model.set_rows([version_row(i) for i in range(3)])
    resets, changes = QSignalSpy(model.modelReset), QSignalSpy(model.dataChanged)
    model.update_rows([version_row(i, aliases=("best",) * (i == 1)) for i in range(3)])
    assert resets.count() == 0
    assert changes.count() == 1
    assert model.index(model.row_for_id("id1"), 1).data() == "best"
    model.update_rows([version_row(i) for i in range(4)])  # a new version: reset
    assert resets.count() == 1
    assert model.rowCount() == 4
