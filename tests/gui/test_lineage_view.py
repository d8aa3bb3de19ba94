from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QGraphicsSimpleTextItem
from pytestqt.qtbot import QtBot
from record_factory import make_version

from desktop_app.client.mirror import LineageGraph
from desktop_app.core.records import RunInfo, VersionInfo
from desktop_app.gui.widgets.lineage import (
    NODE_HEIGHT,
    LineageView,
    run_titles,
    version_title,
)


def version(
    vid: str, name: str, index: int | None = 0, logged_by: str | None = None
) -> VersionInfo:
    return make_version(
        id=vid, name=name, index=index, digest="d" * 32, size=1, file_count=1, logged_by=logged_by
    )


def run(rid: str, job_type: str | None = "train", name: str | None = "brisk-owl-3") -> RunInfo:
    return RunInfo(
        id=rid, project="p", job_type=job_type, name=name, state="finished", created_at=0
    )


def pipeline() -> LineageGraph:
    """raw -> prep -> data (focus) -> train (not fetched yet) -> model."""
    return LineageGraph(
        versions={
            "raw": version("raw", "raw"),
            "data": version("data", "data", 3, logged_by="prep"),
            "model": version("model", "model", logged_by="train"),
        },
        runs={"prep": run("prep", "preprocess"), "train": None},
        edges=(("raw", "prep"), ("prep", "data"), ("data", "train"), ("train", "model")),
    )


@pytest.fixture
def view(qtbot: QtBot) -> LineageView:
    widget = LineageView()
    qtbot.addWidget(widget)
    widget.resize(1400, 500)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def node_point(view: LineageView, node_id: str) -> QPoint:
    rect = view.node_scene_rect(node_id)
    assert rect is not None, node_id
    return view.mapFromScene(rect.center())


def pixel(view: LineageView, point: QPoint) -> QColor:
    return view.viewport().grab().toImage().pixelColor(point)


def test_clicking_a_version_emits_its_id(qtbot: QtBot, view: LineageView) -> None:
    view.set_graph(pipeline(), "data")
    with qtbot.waitSignal(view.version_activated, timeout=1000) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=node_point(view, "raw"))
    assert blocker.args == ["raw"]


def test_clicking_a_run_emits_its_id_and_no_version(qtbot: QtBot, view: LineageView) -> None:
    view.set_graph(pipeline(), "data")
    with (
        qtbot.assertNotEmitted(view.version_activated),
        qtbot.waitSignal(view.run_activated, timeout=1000) as blocker,
    ):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=node_point(view, "train"))
    assert blocker.args == ["train"]


def test_clicking_between_nodes_or_dragging_emits_nothing(qtbot: QtBot, view: LineageView) -> None:
    view.set_graph(pipeline(), "data")
    rect = view.node_scene_rect("data")
    assert rect is not None
    below = view.mapFromScene(rect.center().x(), rect.bottom() + 2 * NODE_HEIGHT)
    start = node_point(view, "model")
    with (
        qtbot.assertNotEmitted(view.version_activated),
        qtbot.assertNotEmitted(view.run_activated),
    ):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=below)
        qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
        qtbot.mouseMove(view.viewport(), start + QPoint(60, 0))
        qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=start + QPoint(60, 0))
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.RightButton, pos=start)


def test_inputs_are_left_and_outputs_right_of_the_focus(view: LineageView) -> None:
    view.set_graph(pipeline(), "data")
    x = {node: view.node_scene_rect(node).x() for node in view.node_ids()}  # type: ignore[union-attr]
    assert x["raw"] < x["prep"] < x["data"] < x["train"] < x["model"]
    assert view.node_ids() == ["data", "model", "prep", "raw", "train"]
    assert view.focus_id == "data"


def test_labels_name_version_and_run() -> None:
    assert version_title(version("a", "model", 4)) == "model:v4"
    assert version_title(version("a", "model", None)) == "model:draft"
    assert run_titles("r1", run("r1", "train", "brisk-owl-3")) == ("train", "brisk-owl-3")
    assert run_titles("r1", None) == ("run", "r1")
    assert run_titles("r1", run("r1", None, None)) == ("run", "r1")


def test_clear_shows_only_the_hint(view: LineageView) -> None:
    view.set_graph(pipeline(), "data")
    view.clear()
    items = view.scene().items()
    assert view.node_ids() == []
    assert view.focus_id is None
    assert len(items) == 1
    assert isinstance(items[0], QGraphicsSimpleTextItem)
    assert items[0].text() == "Select a version to see its lineage"
    # Centred: the scene is the hint, and the view centres a scene smaller than itself.
    centre = view.mapFromScene(items[0].sceneBoundingRect().center())
    assert abs(centre.x() - view.viewport().width() / 2) <= 2
    assert abs(centre.y() - view.viewport().height() / 2) <= 2


def test_an_empty_graph_clears(view: LineageView) -> None:
    view.set_graph(pipeline(), "data")
    view.set_graph(LineageGraph({}, {}, ()), "data")
    assert view.node_ids() == []
    assert view.focus_id is None


def test_nodes_paint_with_the_palette_and_follow_its_changes(view: LineageView) -> None:
    view.set_graph(pipeline(), "data")
    rect = view.node_scene_rect("raw")
    assert rect is not None
    inside = view.mapFromScene(rect.left() + 8, rect.center().y())
    focus_rect = view.node_scene_rect("data")
    assert focus_rect is not None
    focus_inside = view.mapFromScene(focus_rect.left() + 8, focus_rect.center().y())
    for base in (QColor(12, 24, 36), QColor(240, 230, 220)):
        palette = QPalette(view.palette())
        palette.setColor(QPalette.ColorRole.Base, base)
        palette.setColor(QPalette.ColorRole.Highlight, QColor(0, 120, 255))
        view.setPalette(palette)
        assert pixel(view, inside).name() == base.name()
        assert pixel(view, focus_inside).name() != base.name()


def test_two_hundred_nodes_lay_out_and_paint_quickly(qtbot: QtBot, view: LineageView) -> None:
    # A chain of 20 runs, each reading the previous output and 9 more inputs besides.
    versions: dict[str, VersionInfo] = {"v0": version("v0", "start")}
    runs: dict[str, RunInfo | None] = {}
    edges: list[tuple[str, str]] = []
    previous = "v0"
    for step in range(20):
        run_id = f"r{step}"
        runs[run_id] = run(run_id)
        edges.append((previous, run_id))
        for extra in range(8):
            extra_id = f"x{step}-{extra}"
            versions[extra_id] = version(extra_id, f"input{extra}")
            edges.append((extra_id, run_id))
        previous = f"v{step + 1}"
        versions[previous] = version(previous, "chain", step + 1, logged_by=run_id)
        edges.append((run_id, previous))
    graph = LineageGraph(versions, runs, tuple(edges))
    assert len(versions) + len(runs) == 201

    started = time.perf_counter()
    view.set_graph(graph, "v10")
    view.viewport().grab()
    elapsed = time.perf_counter() - started

    assert len(view.node_ids()) == 201
    assert elapsed < 2.0, f"laying out and painting 201 nodes took {elapsed:.2f} s"
    # The focus is scrolled into view.
    focus = view.node_scene_rect("v10")
    assert focus is not None
    assert view.viewport().rect().contains(view.mapFromScene(focus.center()))
    with qtbot.waitSignal(view.version_activated, timeout=1000) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=node_point(view, "v10"))
    assert blocker.args == ["v10"]
