"""Drops from the file manager, synthesized onto a real project tree over a synced mirror."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from drop_events import (
    COPY,
    center_of,
    drag_enter,
    drag_move,
    drop,
    empty_point,
    file_mime,
    mime_of,
)
from gui_data import PROJECT, seed_workspace
from PySide6.QtCore import QMimeData, QPoint, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QTreeView, QWidget
from pytestqt.qtbot import QtBot

from desktop_app.backends.local import LocalBackend
from desktop_app.client.mirror import Mirror
from desktop_app.client.mirror_sync import sync_until_caught_up
from desktop_app.gui.drop import (
    DropTarget,
    FileDropFilter,
    carries_local_files,
    drop_target_at,
    local_paths,
)
from desktop_app.gui.models.project_tree import ArtifactFilterProxy, ProjectTreeModel


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[Mirror]:
    backend = LocalBackend(tmp_path / "store")
    seed_workspace(backend)
    with Mirror(tmp_path / "mirror.sqlite3") as made:
        sync_until_caught_up(backend, made)
        yield made
    backend.close()


@pytest.fixture
def tree(qtbot: QtBot, mirror: Mirror) -> QTreeView:
    view = QTreeView()
    model = ProjectTreeModel(view)
    proxy = ArtifactFilterProxy(view)
    proxy.setSourceModel(model)
    model.set_collections(mirror.collections())
    view.setModel(proxy)
    view.expandAll()
    view.resize(400, 600)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    return view


@pytest.fixture
def drop_filter(tree: QTreeView) -> FileDropFilter:
    watcher = FileDropFilter(tree, tree)
    watcher.watch(tree.viewport())
    return watcher


@pytest.fixture
def dropped(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "drop" / "images"
    folder.mkdir(parents=True)
    (folder / "a.png").write_bytes(b"\x89PNG")
    single = tmp_path / "drop" / "labels.csv"
    single.write_text("file,label\n")
    return [folder, single]


def drag_and_drop(widget: QWidget, mime: QMimeData, pos: QPoint) -> QDropEvent:
    """Enter, move and drop, as a drag from the file manager does."""
    drag_enter(widget, mime, pos)
    drag_move(widget, mime, pos)
    return drop(widget, mime, pos)


Drops = list[tuple[list[Path], DropTarget]]


def record(watcher: FileDropFilter) -> Drops:
    seen: Drops = []
    watcher.files_dropped.connect(lambda paths, target: seen.append((paths, target)))
    return seen


@pytest.mark.parametrize(
    ("key", "target"),
    [
        ((PROJECT, "model", "resnet50"), DropTarget(PROJECT, "resnet50", "model")),
        ((PROJECT, "dataset", "raw-images"), DropTarget(PROJECT, "raw-images", "dataset")),
        (("nlp", "dataset", "corpus"), DropTarget("nlp", "corpus", "dataset")),
        ((PROJECT, "evaluation"), DropTarget(PROJECT, None, "evaluation")),
        (("nlp",), DropTarget("nlp", None, None)),
        ((PROJECT,), DropTarget(PROJECT, None, None)),
    ],
)
def test_a_drop_on_a_row_names_that_row(
    tree: QTreeView,
    drop_filter: FileDropFilter,
    dropped: list[Path],
    key: tuple[str, ...],
    target: DropTarget,
) -> None:
    seen = record(drop_filter)
    mime = file_mime(dropped)
    pos = center_of(tree, key)

    assert drag_enter(tree.viewport(), mime, pos).isAccepted()
    assert drag_move(tree.viewport(), mime, pos).isAccepted()
    event = drop(tree.viewport(), mime, pos)

    assert event.isAccepted()
    assert event.dropAction() == COPY
    assert seen == [(dropped, target)]
    assert drop_target_at(tree, pos) == target
    assert not target.is_empty


def test_a_drop_on_empty_space_has_no_target(
    tree: QTreeView, drop_filter: FileDropFilter, dropped: list[Path]
) -> None:
    seen = record(drop_filter)
    pos = empty_point(tree)
    mime = file_mime(dropped[:1])

    assert drag_enter(tree.viewport(), mime, pos).isAccepted()
    assert drop(tree.viewport(), mime, pos).isAccepted()

    assert seen == [([dropped[0]], DropTarget())]
    assert seen[0][1].is_empty


def test_the_target_follows_the_filter(
    tree: QTreeView, drop_filter: FileDropFilter, dropped: list[Path]
) -> None:
    proxy = tree.model()
    assert isinstance(proxy, ArtifactFilterProxy)
    proxy.set_search("resnet")
    tree.expandAll()
    seen = record(drop_filter)
    # With the tree narrowed, the third row is resnet50 (vision → model → resnet50).
    third = tree.indexBelow(tree.indexBelow(proxy.index(0, 0)))
    drag_and_drop(tree.viewport(), file_mime(dropped), tree.visualRect(third).center())
    assert seen == [(dropped, DropTarget(PROJECT, "resnet50", "model"))]


def test_links_that_are_not_local_files_are_refused(
    tree: QTreeView, drop_filter: FileDropFilter, dropped: list[Path], tmp_path: Path
) -> None:
    seen = record(drop_filter)
    pos = center_of(tree, (PROJECT, "model", "resnet50"))
    web = mime_of(QUrl("https://example.org/data.csv"))
    text = QMimeData()
    text.setText(str(dropped[1]))
    gone = file_mime([tmp_path / "gone.csv"])
    assert not drag_enter(tree.viewport(), web, pos).isAccepted()
    assert not drag_enter(tree.viewport(), text, pos).isAccepted()
    for mime in (web, text, gone):
        assert not drag_and_drop(tree.viewport(), mime, pos).isAccepted()
    assert seen == []


def test_only_the_existing_local_files_of_a_mixed_drop_are_taken(
    tree: QTreeView, drop_filter: FileDropFilter, dropped: list[Path], tmp_path: Path
) -> None:
    seen = record(drop_filter)
    mime = mime_of(
        QUrl("https://example.org/data.csv"),
        QUrl.fromLocalFile(str(dropped[1])),
        QUrl.fromLocalFile(str(tmp_path / "gone.csv")),
        QUrl.fromLocalFile(str(dropped[0])),
        QUrl.fromLocalFile(str(dropped[1])),
    )
    assert carries_local_files(mime)
    assert local_paths(mime) == [dropped[1], dropped[0]]

    assert drag_and_drop(tree.viewport(), mime, empty_point(tree)).isAccepted()
    assert seen == [([dropped[1], dropped[0]], DropTarget())]


def test_a_drop_on_another_watched_widget_has_no_target(
    qtbot: QtBot, tree: QTreeView, drop_filter: FileDropFilter, dropped: list[Path]
) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    drop_filter.watch(window)
    assert window.acceptDrops()
    seen = record(drop_filter)
    mime = file_mime(dropped)

    assert drag_enter(window, mime, QPoint(5, 5)).isAccepted()
    assert drop(window, mime, QPoint(5, 5)).isAccepted()
    assert seen == [(dropped, DropTarget())]


def test_drop_target_reads_the_tree_without_a_filter(tree: QTreeView) -> None:
    assert drop_target_at(tree, empty_point(tree)) == DropTarget(None, None, None)
    pos = center_of(tree, (PROJECT, "dataset", "train-split"))
    assert drop_target_at(tree, pos) == DropTarget(PROJECT, "train-split", "dataset")
