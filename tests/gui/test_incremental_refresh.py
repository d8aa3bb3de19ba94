"""A sync tells the window which artifacts changed; the window re-reads only those.

The incremental paths (``update_collections``, ``collections_named``, ``refresh(changed)``,
``on_mirror_changed``) must end where a full re-read would, and touch nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QCoreApplication, QEvent, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester, QSignalSpy
from PySide6.QtWidgets import QComboBox, QLineEdit, QTableView, QTreeView, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot
from record_factory import make_version

from desktop_app.client.mirror import CollectionRow, Mirror
from desktop_app.core.records import CollectionInfo, RunInfo, VersionInfo, VersionState
from desktop_app.gui.browse import BrowseController
from desktop_app.gui.models.project_tree import ProjectTreeModel, Role
from desktop_app.gui.widgets.detail import VersionDetail
from desktop_app.gui.widgets.overview import AliasChip
from desktop_app.gui.widgets.type_filter import TypeFilter

Key = tuple[str, str]  # (project, artifact name)
ROOT = QModelIndex()

# -- the tree model: incremental merges against a full one ---------------------------------

PROJECTS = ("alpha", "beta", "gamma")
TYPES = ("dataset", "eval", "model")
NAMES = ("n1", "n2", "n3", "n4")
# Never named by a change, but its branch (alpha/dataset) is changed around it.
ANCHOR = CollectionRow("alpha", "anchor", "dataset", 5)

collection_rows = st.lists(
    st.builds(
        CollectionRow,
        project=st.sampled_from(PROJECTS),
        name=st.sampled_from(NAMES),
        type=st.sampled_from(TYPES),
        version_count=st.integers(1, 9),
    ),
    max_size=20,
    unique_by=lambda r: (r.project, r.name),
)
# A sync step: artifacts that were added, removed (None, or no version left: 0), given a
# new version count or a new type, in a known project or a new one ("delta")...
edits = st.dictionaries(
    st.tuples(st.sampled_from((*PROJECTS, "delta")), st.sampled_from(NAMES)),
    st.none() | st.tuples(st.sampled_from(TYPES), st.integers(0, 9)),
    min_size=1,
    max_size=4,
).map(lambda edit: ("edit", edit))
# ...or a project whose artifacts all went.
emptied = st.sampled_from(("beta", "gamma", "delta")).map(lambda project: ("empty", project))
steps = st.lists(edits | emptied, min_size=1, max_size=8)


def apply(
    truth: dict[Key, CollectionRow], step: tuple[str, Any]
) -> tuple[list[CollectionRow], set[Key]]:
    """Change ``truth`` as the mirror would; return what the window is told (rows, changed)."""
    kind, what = step
    if kind == "empty":
        what = {key: None for key in truth if key[0] == what}
    for (project, name), value in what.items():
        if value is None or value[1] == 0:
            truth.pop((project, name), None)
        else:
            truth[project, name] = CollectionRow(project, name, value[0], value[1])
    changed = set(what)
    return [truth[key] for key in changed if key in truth], changed


def walk(model: ProjectTreeModel, parent: QModelIndex = ROOT) -> list[tuple[object, ...]]:
    """Every node under ``parent`` in row order, with all the data a view or proxy reads."""
    nodes: list[tuple[object, ...]] = []
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        assert model.parent(index) == parent
        nodes.append(
            (
                index.data(),
                index.data(Qt.ItemDataRole.ToolTipRole),
                index.data(Qt.ItemDataRole.DecorationRole) is not None,
                *(index.data(role) for role in Role),
                model.hasChildren(index),
                walk(model, index),
            )
        )
    return nodes


class Replica:
    """What a view knows of a tree model: the rows it was told about, and their text as read
    when it was told the text changed. It drifts from the model when a signal is missing
    or names the wrong rows, which Qt's model tester does not check."""

    def __init__(self, model: ProjectTreeModel) -> None:
        self.model = model
        self.rows = self.read_children(ROOT)
        model.rowsInserted.connect(self._on_rows_inserted)
        model.rowsRemoved.connect(self._on_rows_removed)
        model.dataChanged.connect(self._on_data_changed)

    def _read(self, index: QModelIndex) -> list[Any]:
        return [index.data(), self.read_children(index)]

    def read_children(self, parent: QModelIndex) -> list[list[Any]]:
        model = self.model
        return [self._read(model.index(r, 0, parent)) for r in range(model.rowCount(parent))]

    def _children(self, parent: QModelIndex) -> list[list[Any]]:
        path: list[int] = []
        while parent.isValid():
            path.append(parent.row())
            parent = parent.parent()
        rows = self.rows
        for row in reversed(path):
            rows = rows[row][1]
        return rows

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        new = [self._read(self.model.index(r, 0, parent)) for r in range(first, last + 1)]
        self._children(parent)[first:first] = new

    def _on_rows_removed(self, parent: QModelIndex, first: int, last: int) -> None:
        del self._children(parent)[first : last + 1]

    def _on_data_changed(self, top: QModelIndex, bottom: QModelIndex) -> None:
        rows = self._children(top.parent())
        for row in range(top.row(), bottom.row() + 1):
            rows[row][0] = self.model.index(row, 0, top.parent()).data()


def nodes(model: ProjectTreeModel, parent: QModelIndex = ROOT) -> list[tuple[Any, ...]]:
    """(key, count) of every node, in the order a walk from the top meets them."""
    found: list[tuple[object, ...]] = []
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        found.append((tuple(index.data(Role.KEY)), index.data(Role.VERSION_COUNT)))
        found.extend(nodes(model, index))
    return found


def expected_nodes(truth: dict[Key, CollectionRow]) -> list[tuple[object, ...]]:
    """Projects, their types, their artifacts, each sorted; counts of artifacts or versions."""
    found: list[tuple[object, ...]] = []
    for project in sorted({row.project for row in truth.values()}):
        rows = sorted((r for r in truth.values() if r.project == project), key=lambda r: r.name)
        found.append(((project,), len(rows)))
        for type_ in sorted({r.type for r in rows}):
            members = [r for r in rows if r.type == type_]
            found.append(((project, type_), len(members)))
            found.extend(((project, type_, r.name), r.version_count) for r in members)
    return found


@settings(max_examples=60)
@given(initial=collection_rows, changes=steps)
def test_incremental_updates_end_where_a_full_merge_does(
    qapp: QCoreApplication, initial: list[CollectionRow], changes: list[tuple[str, Any]]
) -> None:
    truth = {(r.project, r.name): r for r in [*initial, ANCHOR]}
    model = ProjectTreeModel()
    model.set_collections(list(truth.values()))
    # Checks every signal of every merge for consistency; aborts the run on a violation.
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    resets = QSignalSpy(model.modelReset)
    replica = Replica(model)
    anchor_key = (ANCHOR.project, ANCHOR.type, ANCHOR.name)
    anchor = QPersistentModelIndex(model.index_for_key(anchor_key))
    for step in changes:
        rows, changed = apply(truth, step)
        model.update_collections(rows, changed)
        full = ProjectTreeModel()
        full.set_collections(list(truth.values()))
        assert walk(model) == walk(full), step
        assert nodes(model) == expected_nodes(truth)
        assert replica.rows == replica.read_children(ROOT)
        assert anchor.isValid()
        assert tuple(anchor.data(Role.KEY)) == anchor_key
        assert anchor.row() == model.index_for_key(anchor_key).row()
    assert resets.count() == 0
    del tester  # referenced until here: a tester nobody references is deleted at once


TREE = [
    CollectionRow("vision", "raw-images", "dataset", 6),
    CollectionRow("vision", "train-split", "dataset", 2),
    CollectionRow("vision", "resnet50", "model", 3),
    CollectionRow("audio", "clips", "dataset", 4),
    CollectionRow("audio", "whisper", "model", 1),
    CollectionRow("nlp", "corpus", "dataset", 1),
]


@pytest.mark.parametrize(
    ("rows", "changed"),
    [
        ([CollectionRow("vision", "fresh", "dataset", 1)], {("vision", "fresh")}),
        ([], {("vision", "train-split")}),
        ([CollectionRow("vision", "raw-images", "dataset", 7)], {("vision", "raw-images")}),
        (
            [
                CollectionRow("vision", "raw-images", "dataset", 9),
                CollectionRow("vision", "a-first", "dataset", 1),
                CollectionRow("vision", "zz-last", "dataset", 2),
            ],
            {("vision", n) for n in ("raw-images", "a-first", "zz-last", "train-split")},
        ),
    ],
    ids=["added", "removed", "new-version", "all-at-once"],
)
def test_a_change_in_one_branch_signals_only_that_branch(
    qapp: QCoreApplication, rows: list[CollectionRow], changed: set[Key]
) -> None:
    model = ProjectTreeModel()
    model.set_collections(TREE)
    touched: list[tuple[str, ...]] = []  # the key of every row a signal named, and parents

    def note(parent: QModelIndex, first: int, last: int) -> None:
        if parent.isValid():
            touched.append(tuple(parent.data(Role.KEY)))
        touched.extend(
            tuple(model.index(r, 0, parent).data(Role.KEY)) for r in range(first, last + 1)
        )

    model.rowsInserted.connect(note)
    model.rowsAboutToBeRemoved.connect(note)
    model.dataChanged.connect(lambda top, bottom: note(top.parent(), top.row(), bottom.row()))
    resets = QSignalSpy(model.modelReset)
    model.update_collections(rows, changed)
    assert touched, "the change was not signalled"
    assert {key[0] for key in touched} == {"vision"}
    assert {key[1] for key in touched if len(key) > 1} == {"dataset"}
    assert resets.count() == 0
    full = ProjectTreeModel()
    full.set_collections([r for r in TREE if (r.project, r.name) not in changed] + rows)
    assert walk(model) == walk(full)


def test_naming_unchanged_artifacts_signals_nothing(qapp: QCoreApplication) -> None:
    model = ProjectTreeModel()
    model.set_collections(TREE)
    spies = [QSignalSpy(s) for s in (model.rowsInserted, model.rowsRemoved, model.dataChanged)]
    model.update_collections(TREE[:2], {("vision", "raw-images"), ("vision", "train-split")})
    model.update_collections([], set())  # only runs changed
    model.update_collections([], {("nowhere", "nothing")})  # never shown, still not
    assert [spy.count() for spy in spies] == [0, 0, 0]


# -- the mirror: reading a few artifacts by name -------------------------------------------


def version(project: str, name: str, index: int, **fields: Any) -> VersionInfo:
    fields = {"type": "dataset", "created_at": 1_700_000_000.0 + index, **fields}
    return make_version(
        id=f"{project}/{name}:v{index}", project=project, name=name, index=index, **fields
    )


def put_artifact(
    mirror: Mirror, project: str, name: str, versions: list[VersionInfo], type_: str = "dataset"
) -> None:
    """What a sync step writes for one artifact: its row and its versions."""
    info = CollectionInfo(project, name, type_, f"about {name}", len(versions), 0.0, 0.0)
    mirror.replace_collection(info, project, name, versions)


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[Mirror]:
    """The worker's mirror; the window reads the same file through ``reader``."""
    with Mirror(tmp_path / "mirror.sqlite3") as made:
        yield made


@pytest.fixture
def reader(writer: Mirror, tmp_path: Path) -> Iterator[Mirror]:
    with Mirror(tmp_path / "mirror.sqlite3", readonly=True) as made:
        yield made


def test_collections_named_reads_only_named_artifacts_with_versions(
    writer: Mirror, reader: Mirror
) -> None:
    put_artifact(writer, "p", "data", [version("p", "data", i) for i in range(3)])
    put_artifact(writer, "q", "data", [version("q", "data", 0, type="model")], "model")
    put_artifact(writer, "p", "other", [version("p", "other", 0)])
    put_artifact(writer, "p", "empty", [])
    draft = replace(version("p", "drafts", 0), index=None, state=VersionState.PENDING)
    put_artifact(writer, "p", "drafts", [draft])
    asked = [("p", "data"), ("q", "data"), ("p", "empty"), ("p", "drafts"), ("p", "nothing")]
    asked.append(("nowhere", "other"))  # a name shown in another project only
    named = reader.collections_named(asked)
    assert sorted(named, key=lambda r: (r.project, r.name)) == [
        CollectionRow("p", "data", "dataset", 3, "about data"),
        CollectionRow("q", "data", "model", 1, "about data"),
    ]
    # The same rows a full read finds for those names.
    assert set(named) == {r for r in reader.collections() if (r.project, r.name) in asked}
    assert reader.collections_named([]) == []


# -- the detail pane --------------------------------------------------------------------------


def chips(detail: VersionDetail) -> list[AliasChip]:
    row = detail.overview.alias_row
    found = [item.widget() for item in map(row.itemAt, range(row.count())) if item is not None]
    return [w for w in found if isinstance(w, AliasChip)]


def picker(detail: VersionDetail) -> QComboBox:
    """The Compare tab's list of versions to compare with."""
    found = detail.findChild(QComboBox, "compareVersionPicker")
    assert found is not None
    return found


def picker_ids(detail: VersionDetail) -> list[str]:
    return [picker(detail).itemData(i) for i in range(picker(detail).count())]


def settle() -> None:
    """Run deferred deletes, so a replaced widget is gone rather than pending."""
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def test_detail_refresh_rebuilds_only_for_its_own_artifact(
    qtbot: QtBot, writer: Mirror, reader: Mirror
) -> None:
    data = [version("p", "data", i, aliases=("latest",) * (i == 1)) for i in range(2)]
    put_artifact(writer, "p", "data", data)
    put_artifact(writer, "p", "other", [version("p", "other", 0)])
    detail = VersionDetail(reader)
    qtbot.addWidget(detail)
    detail.show()
    shown = data[1]
    detail.show_version(shown.id)
    before = chips(detail)
    assert [c.objectName() for c in before] == ["alias_latest"]
    assert picker_ids(detail) == ["p/data:v0"]
    scene_items = detail.lineage.scene().items()
    refills = QSignalSpy(picker(detail).model().rowsInserted)

    # Another artifact changed: nothing here rebuilds.
    put_artifact(writer, "p", "other", [version("p", "other", i) for i in range(2)])
    detail.refresh({("p", "other")})
    settle()
    assert chips(detail) == before
    assert refills.count() == 0
    assert detail.lineage.scene().items() == scene_items

    # A run read the shown version and wrote another artifact's version: lineage and
    # "used by" grow, though the shown artifact did not change.
    writer.put_run(RunInfo("run-1", "p", "train", "train-1", "FINISHED", 1.0, 2.0))
    writer.put_usages(shown.id, ["run-1"])
    put_artifact(writer, "p", "other", [version("p", "other", 2, logged_by="run-1")])
    detail.refresh({("p", "other")})
    assert "train-1" in detail.overview.fields["used_by"].text()
    assert {"run-1", "p/other:v2"} <= set(detail.lineage.node_ids())
    assert refills.count() == 0

    # The shown artifact changed: its aliases and the versions to compare with are re-read.
    writer.put_version(replace(shown, aliases=("latest", "best")))
    writer.put_version(version("p", "data", 2))
    detail.refresh({("p", "data")})
    settle()
    assert sorted(c.objectName() for c in chips(detail)) == ["alias_best", "alias_latest"]
    assert picker_ids(detail) == ["p/data:v2", "p/data:v0"]

    # None: anything may have changed.
    writer.put_version(replace(shown, aliases=("latest",), description="re-read"))
    detail.refresh(None)
    settle()
    assert [c.objectName() for c in chips(detail)] == ["alias_latest"]
    assert detail.overview.description.toPlainText() == "re-read"


# -- the browse controller ------------------------------------------------------------------


@dataclass
class Browsing:
    """The controller and the real widgets the main window gives it, kept alive together."""

    pane: QWidget
    controller: BrowseController
    type_filter: TypeFilter
    detail: VersionDetail
    versions: QTableView


@pytest.fixture
def browsing(qtbot: QtBot, reader: Mirror) -> Browsing:
    pane = QWidget()
    qtbot.addWidget(pane)
    tree, versions, detail = QTreeView(), QTableView(), VersionDetail(reader)
    type_filter, search = TypeFilter(), QLineEdit()
    layout = QVBoxLayout(pane)
    for widget in (type_filter, search, tree, versions, detail):
        layout.addWidget(widget)
    controller = BrowseController(reader, tree, type_filter, search, versions, detail, pane)
    pane.show()
    return Browsing(pane, controller, type_filter, detail, versions)


def tree_names(browse: BrowseController) -> list[str]:
    """The artifacts in the tree, whatever their project and type."""
    return sorted(str(key[2]) for key, _count in nodes(browse.tree_model) if len(key) == 3)


def listed_versions(browse: BrowseController) -> list[str]:
    model = browse.version_model
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def test_on_mirror_changed_reads_only_the_named_artifacts(
    browsing: Browsing, writer: Mirror
) -> None:
    browse, detail = browsing.controller, browsing.detail
    put_artifact(writer, "p", "data", [version("p", "data", i) for i in range(2)])
    put_artifact(writer, "p", "gone", [version("p", "gone", 0)])
    browse.refresh()
    assert browse.select_artifact("p", "data")
    assert listed_versions(browse) == ["v1", "v0"]
    assert detail.version is not None
    assert detail.version.id == "p/data:v1"

    put_artifact(writer, "p", "data", [version("p", "data", i) for i in range(3)])
    put_artifact(writer, "p", "fresh", [version("p", "fresh", 0, type="model")], "model")
    put_artifact(writer, "p", "unnamed", [version("p", "unnamed", 0)])
    writer.replace_collection(None, "p", "gone", [])
    resets = QSignalSpy(browse.tree_model.modelReset)
    browse.on_mirror_changed(frozenset({("p", "data"), ("p", "fresh"), ("p", "gone")}))
    assert tree_names(browse) == ["data", "fresh"]  # "unnamed" waits until it is named
    assert browse.tree_model.index_for_key(("p", "model", "fresh")).isValid()
    assert listed_versions(browse) == ["v2", "v1", "v0"]
    assert picker_ids(detail) == ["p/data:v2", "p/data:v0"]
    assert "model" in [a.text() for a in browsing.type_filter.menu().actions()]

    # The shown artifact is not named: its versions and its detail are not re-read.
    put_artifact(writer, "p", "data", [version("p", "data", i) for i in range(4)])
    refills = QSignalSpy(picker(detail).model().rowsInserted)
    browse.on_mirror_changed(frozenset({("p", "fresh")}))
    browse.on_mirror_changed(frozenset())  # only runs or lineage changed
    assert listed_versions(browse) == ["v2", "v1", "v0"]
    assert refills.count() == 0
    assert tree_names(browse) == ["data", "fresh"]

    browse.on_mirror_changed(None)
    assert tree_names(browse) == ["data", "fresh", "unnamed"]
    assert listed_versions(browse) == ["v3", "v2", "v1", "v0"]
    assert resets.count() == 0


def test_a_new_version_with_wider_text_widens_its_column_and_none_narrows(
    browsing: Browsing, writer: Mirror
) -> None:
    """Columns are fitted when an artifact is shown; a version logged later whose size
    (or aliases) are wider than the column widens it, and no column gets narrower."""
    browse = browsing.controller
    put_artifact(writer, "p", "data", [version("p", "data", 0, size=10)])
    browse.refresh()
    assert browse.select_artifact("p", "data")
    view = browsing.versions
    header = view.horizontalHeader()
    size_column, tags_column = 4, 2
    header.resizeSection(tags_column, 300)  # the user widened one
    narrow = header.sectionSize(size_column)

    wide = version("p", "data", 1, size=987_654_321_987, aliases=("latest", "production"))
    put_artifact(writer, "p", "data", [version("p", "data", 0, size=10), wide])
    browse.on_mirror_changed(frozenset({("p", "data")}))

    text = browse.version_model.index(0, size_column).data()
    assert text == "920 GiB"  # longer than "10 B"
    needed = view.fontMetrics().horizontalAdvance(text)
    assert header.sectionSize(size_column) > narrow
    assert header.sectionSize(size_column) >= needed
    assert header.sectionSize(1) >= view.fontMetrics().horizontalAdvance("latest, production")
    assert header.sectionSize(tags_column) == 300
