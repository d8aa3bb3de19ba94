"""Browsing the embedded store through the real window: tree, filter, search, detail, edits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gui_data import PROJECT, Workspace, seed_workspace
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QTableView, QTreeView
from pytestqt.qtbot import QtBot
from windows import open_main_window

from desktop_app.backends.local import LocalBackend
from desktop_app.client.paths import AppPaths
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.models.project_tree import Role
from desktop_app.gui.models.versions import Role as VersionRole


@pytest.fixture
def workspace() -> Iterator[tuple[LocalBackend, Workspace]]:
    paths = AppPaths.from_env().ensure()
    backend = LocalBackend(paths.store_dir)
    yield backend, seed_workspace(backend)
    backend.close()


@pytest.fixture
def window(qtbot: QtBot, workspace: tuple[LocalBackend, Workspace]) -> Iterator[MainWindow]:
    win = open_main_window(poll_ms=100)
    win.show()
    qtbot.waitUntil(lambda: win.browse.tree_model.rowCount() == 2, timeout=10_000)
    yield win
    win.close()


def visible_artifacts(win: MainWindow) -> list[str]:
    proxy = win.browse.proxy
    names: list[str] = []
    stack = [proxy.index(r, 0) for r in range(proxy.rowCount())]
    while stack:
        index = stack.pop()
        if index.data(Role.KIND) == "artifact":
            names.append(index.data(Role.NAME))
        stack.extend(proxy.index(r, 0, index) for r in range(proxy.rowCount(index)))
    return sorted(names)


def test_tree_shows_projects_types_and_version_counts(window: MainWindow) -> None:
    tree = window.findChild(QTreeView, "projectTree")
    assert tree is window.tree
    model = window.browse.tree_model
    projects = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert projects == ["nlp", PROJECT]
    vision = model.index(1, 0)
    types = [model.index(r, 0, vision).data(Role.TYPE) for r in range(model.rowCount(vision))]
    assert types == ["dataset", "evaluation", "model"]
    raw = model.index_for_key((PROJECT, "dataset", "raw-images"))
    assert raw.data(Role.VERSION_COUNT) == 6
    assert raw.data() == "raw-images  (6)"
    assert window.type_filter.menu().actions()[2].text() == "dataset"


def test_type_filter_and_search_narrow_the_tree(window: MainWindow, qtbot: QtBot) -> None:
    assert visible_artifacts(window) == [
        "corpus",
        "eval-report",
        "raw-images",
        "resnet50",
        "train-split",
    ]
    window.type_filter.set_selected({"model", "evaluation"})
    assert visible_artifacts(window) == ["eval-report", "resnet50"]
    assert window.type_filter.text() == "evaluation, model"
    window.type_filter.set_selected(())
    search = window.findChild(QLineEdit, "searchBox")
    qtbot.keyClicks(search, "SPLIT")
    assert visible_artifacts(window) == ["train-split"]
    search.clear()
    qtbot.keyClicks(search, "r")
    window.type_filter.set_selected({"dataset"})
    assert visible_artifacts(window) == ["corpus", "raw-images", "train-split"]
    qtbot.keyClicks(search, "aw")
    assert visible_artifacts(window) == ["raw-images"]
    window.type_filter.set_selected({"model"})
    assert visible_artifacts(window) == []


def test_selecting_an_artifact_lists_versions_newest_first(
    window: MainWindow, qtbot: QtBot
) -> None:
    assert window.browse.select_artifact(PROJECT, "raw-images")
    versions = window.findChild(QTableView, "versionList")
    model = versions.model()
    assert model.rowCount() == 6
    assert [model.index(r, 0).data() for r in range(6)] == [f"v{i}" for i in range(5, -1, -1)]
    assert model.index(0, 1).data() == "latest"
    # The newest version is selected and shown in the detail pane.
    title = window.findChild(QLabel, "versionTitle")
    assert title.text() == "raw-images:v5"
    versions.sortByColumn(4, Qt.SortOrder.AscendingOrder)  # by size
    sizes = [model.index(r, 4).data(VersionRole.SORT_KEY) for r in range(6)]
    assert sizes == sorted(sizes)


def test_detail_pane_loads_files_lineage_and_metadata(
    window: MainWindow, qtbot: QtBot, workspace: tuple[LocalBackend, Workspace]
) -> None:
    _backend, ws = workspace
    window.browse.select_artifact(PROJECT, "train-split")
    detail = window.detail
    qtbot.waitUntil(lambda: detail.files_model.rowCount() == 2, timeout=10_000)
    names = sorted(detail.files_model.index(r, 0).data() for r in range(2))
    assert names == ["train.jsonl", "val.jsonl"]
    metadata = detail.metadata_model
    keys = sorted(metadata.index(r, 0).data() for r in range(metadata.rowCount()))
    assert keys == ["resize", "seed"]
    produced_by = window.findChild(QLabel, "field_produced_by")
    qtbot.waitUntil(lambda: "preprocess" in produced_by.text(), timeout=10_000)
    used_by = window.findChild(QLabel, "field_used_by")
    assert sorted(used_by.text().split(", ")) == [f"train · train-{i}" for i in range(3)]
    # Lineage: clicking through to an input version selects it in the window.
    window.browse.select_version(ws.versions["raw-images:v5"].id)
    assert window.findChild(QLabel, "versionTitle").text() == "raw-images:v5"


def test_alias_and_description_edits_reach_the_store(
    window: MainWindow, qtbot: QtBot, workspace: tuple[LocalBackend, Workspace]
) -> None:
    backend, ws = workspace
    window.browse.select_artifact(PROJECT, "resnet50")
    target = ws.versions["resnet50:v2"]
    window.browse.select_version(target.id)
    alias_input = window.findChild(QLineEdit, "aliasInput")
    add = window.findChild(QPushButton, "addAlias")
    qtbot.keyClicks(alias_input, "best")
    assert add.isEnabled()
    qtbot.mouseClick(add, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "best" in backend.get_version(target.id).aliases, timeout=10_000)
    # The alias moved: the version that had it no longer does.
    assert "best" not in backend.get_version(ws.versions["resnet50:v1"].id).aliases
    qtbot.waitUntil(lambda: window.findChild(QPushButton, "removeAlias") is not None)

    description = window.detail.overview.description
    description.setPlainText("Trained for 30 epochs")
    save = window.findChild(QPushButton, "saveDescription")
    assert save.isEnabled()
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: backend.get_version(target.id).description == "Trained for 30 epochs",
        timeout=10_000,
    )


def test_invalid_alias_is_explained_and_cannot_be_added(window: MainWindow, qtbot: QtBot) -> None:
    window.browse.select_artifact(PROJECT, "resnet50")
    alias_input = window.findChild(QLineEdit, "aliasInput")
    qtbot.keyClicks(alias_input, "a/b")
    assert not window.findChild(QPushButton, "addAlias").isEnabled()
    assert "/" in window.findChild(QLabel, "aliasProblem").text()
    alias_input.setText("latest")
    assert "moves by itself" in window.findChild(QLabel, "aliasProblem").text()


def test_status_bar_names_the_backend_and_says_online(window: MainWindow, qtbot: QtBot) -> None:
    status = window.findChild(QLabel, "connectionStatus")
    qtbot.waitUntil(lambda: status.text().startswith("Online"), timeout=10_000)
    assert "Embedded store" in window.findChild(QLabel, "backendLabel").text()
    assert window.findChild(QLabel, "cacheSize").text().startswith("Cache:")
