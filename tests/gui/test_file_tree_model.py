"""FileTreeModel: a manifest's paths as folders and files, sizes summed, cache state counted."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt
from PySide6.QtWidgets import QTreeView
from pytestqt.qtbot import QtBot

from desktop_app.core.manifest import ManifestEntry
from desktop_app.gui.models.files import Column, FileTreeModel, Role

ENTRIES = [
    ManifestEntry("train/images/b.png", "digest-b==", 200),
    ManifestEntry("readme.md", "digest-readme==", 10),
    ManifestEntry("train/images/a.png", "digest-a==", 100),
    ManifestEntry("train/labels.csv", "digest-labels==", 50),
    ManifestEntry("Zeta/notes.txt", "digest-notes==", 5),
    ManifestEntry("train/images/deep/er/c.png", "digest-c==", 1),
    ManifestEntry("remote/data.bin", "digest-ref==", None, ref="s3://bucket/data.bin"),
]


def child(model: QAbstractItemModel, *names: str) -> QModelIndex:
    """The index reached by following ``names`` from the root."""
    index = QModelIndex()
    for name in names:
        rows = [model.index(row, 0, index) for row in range(model.rowCount(index))]
        matches = [i for i in rows if i.data() == name]
        assert matches, f"{name!r} not among {[i.data() for i in rows]}"
        index = matches[0]
    return index


def names(model: QAbstractItemModel, parent: QModelIndex) -> list[str]:
    return [model.index(row, 0, parent).data() for row in range(model.rowCount(parent))]


def cell(model: QAbstractItemModel, index: QModelIndex, column: int, role: int = 0) -> Any:
    return model.index(index.row(), column, index.parent()).data(role)


def test_passes_the_model_tester(qtmodeltester: Any) -> None:
    model = FileTreeModel()
    model.set_entries(ENTRIES, {"digest-a==", "digest-notes=="})
    qtmodeltester.check(model)
    model.set_cached({"digest-b==", "digest-c=="})
    qtmodeltester.check(model)


def test_an_empty_model_passes_the_model_tester(qtmodeltester: Any) -> None:
    model = FileTreeModel()
    qtmodeltester.check(model)
    model.set_entries([], set())
    assert model.rowCount() == 0
    qtmodeltester.check(model)


def test_folders_come_first_then_files_sorted_by_name() -> None:
    model = FileTreeModel()
    model.set_entries(ENTRIES, set())
    assert names(model, QModelIndex()) == ["remote", "train", "Zeta", "readme.md"]
    assert names(model, child(model, "train")) == ["images", "labels.csv"]
    assert names(model, child(model, "train", "images")) == ["deep", "a.png", "b.png"]
    assert names(model, child(model, "train", "images", "deep", "er")) == ["c.png"]


def test_folder_sizes_are_the_sum_of_their_files() -> None:
    model = FileTreeModel()
    model.set_entries(ENTRIES, set())
    train = child(model, "train")
    assert train.data(Role.SIZE) == 100 + 200 + 1 + 50
    assert child(model, "train", "images").data(Role.SIZE) == 301
    assert child(model, "train", "images", "deep").data(Role.SIZE) == 1
    assert cell(model, train, Column.SIZE) == "351 B"
    readme = child(model, "readme.md")
    assert readme.data(Role.SIZE) == 10


def test_a_reference_without_a_size_shows_no_size() -> None:
    model = FileTreeModel()
    model.set_entries(ENTRIES, set())
    data = child(model, "remote", "data.bin")
    assert data.data(Role.SIZE) == 0
    assert cell(model, data, Column.SIZE) == ""


def test_roles_of_files_and_folders() -> None:
    model = FileTreeModel()
    model.set_entries(ENTRIES, {"digest-a=="})
    a_png = child(model, "train", "images", "a.png")
    assert a_png.data(Role.ENTRY_PATH) == "train/images/a.png"
    assert a_png.data(Role.DIGEST) == "digest-a=="
    assert a_png.data(Role.IS_FOLDER) is False
    assert a_png.data(Role.CACHED) is True
    assert cell(model, a_png, Column.DIGEST) == "digest-a=="
    assert not a_png.data(Qt.ItemDataRole.DecorationRole).isNull()
    images = child(model, "train", "images")
    assert images.data(Role.ENTRY_PATH) is None
    assert images.data(Role.DIGEST) is None
    assert images.data(Role.IS_FOLDER) is True
    assert images.data(Role.CACHED) is False
    assert cell(model, images, Column.DIGEST) == ""
    assert not images.data(Qt.ItemDataRole.DecorationRole).isNull()
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in Column] == [
        "Name",
        "Size",
        "Digest",
        "Cached",
    ]


def test_cached_column_counts_files_under_a_folder() -> None:
    model = FileTreeModel()
    model.set_entries(ENTRIES, {"digest-a==", "digest-c==", "digest-readme=="})
    assert cell(model, child(model, "train"), Column.CACHED) == "2 of 4"
    assert cell(model, child(model, "train", "images"), Column.CACHED) == "2 of 3"
    assert cell(model, child(model, "train", "images", "deep"), Column.CACHED) == "1 of 1"
    assert child(model, "train", "images", "deep").data(Role.CACHED) is True
    assert cell(model, child(model, "readme.md"), Column.CACHED) == "yes"
    assert cell(model, child(model, "train", "labels.csv"), Column.CACHED) == "no"


def test_set_cached_emits_data_changed_not_a_reset(qtbot: QtBot) -> None:
    model = FileTreeModel()
    model.set_entries(ENTRIES, {"digest-a=="})
    resets: list[None] = []
    changes: list[tuple[QModelIndex, QModelIndex, list[int]]] = []
    model.modelReset.connect(lambda: resets.append(None))
    model.dataChanged.connect(lambda first, last, roles: changes.append((first, last, roles)))

    model.set_cached({"digest-b==", "digest-a=="})

    assert resets == []
    assert changes, "no dataChanged for a file that became cached"
    for first, last, roles in changes:
        assert first.column() == last.column() == Column.CACHED
        assert Role.CACHED in roles
    changed_names = {model.index(f.row(), 0, f.parent()).data() for f, _, _ in changes}
    assert changed_names == {"b.png", "images", "train"}
    assert cell(model, child(model, "train"), Column.CACHED) == "2 of 4"
    assert child(model, "train", "images", "b.png").data(Role.CACHED) is True


def test_set_cached_with_nothing_new_emits_nothing() -> None:
    model = FileTreeModel()
    model.set_entries(ENTRIES, {"digest-a=="})
    changes: list[object] = []
    model.dataChanged.connect(lambda *args: changes.append(args))
    model.set_cached({"digest-a==", "digest-not-in-the-version=="})
    assert changes == []


def test_uncaching_counts_down() -> None:
    model = FileTreeModel()
    model.set_entries(ENTRIES, {e.digest for e in ENTRIES})
    assert cell(model, child(model, "train"), Column.CACHED) == "4 of 4"
    assert child(model, "train").data(Role.CACHED) is True
    model.set_cached({"digest-a=="})
    assert cell(model, child(model, "train"), Column.CACHED) == "1 of 4"
    assert child(model, "train").data(Role.CACHED) is False
    assert cell(model, child(model, "readme.md"), Column.CACHED) == "no"


def test_a_tree_view_shows_it(qtbot: QtBot) -> None:
    model = FileTreeModel()
    view = QTreeView()
    qtbot.addWidget(view)
    view.setModel(model)
    model.set_entries(ENTRIES, set())
    view.expandAll()
    view.show()
    qtbot.waitExposed(view)
    assert view.indexAt(view.visualRect(child(model, "train")).center()) == child(model, "train")


def test_a_hundred_thousand_entries_build_in_under_a_second() -> None:
    entries = [
        ManifestEntry(f"shard{i % 100}/part{i % 7}/file{i}.bin", f"d{i}==", i)
        for i in range(100_000)
    ]
    model = FileTreeModel()
    started = time.perf_counter()
    model.set_entries(entries, {f"d{i}==" for i in range(0, 100_000, 2)})
    built = time.perf_counter() - started
    assert built < 1.0, f"building took {built:.2f} s"
    shard0 = child(model, "shard0")
    assert shard0.data(Role.SIZE) == sum(range(0, 100_000, 100))
    assert cell(model, shard0, Column.CACHED) == "1000 of 1000"  # every i in shard0 is even
    started = time.perf_counter()
    model.set_cached(set())
    assert time.perf_counter() - started < 1.0
    assert cell(model, shard0, Column.CACHED) == "0 of 1000"
