from __future__ import annotations

import random

from record_factory import make_version

from desktop_app.client.lineage_layout import LineageLayout, NodeKind, layout_lineage
from desktop_app.client.mirror import LineageGraph
from desktop_app.core.records import RunInfo, VersionInfo


def version(vid: str, name: str, index: int = 0, logged_by: str | None = None) -> VersionInfo:
    return make_version(
        id=vid, name=name, index=index, digest="d" * 32, size=1, file_count=1, logged_by=logged_by
    )


def run(rid: str, created_at: float = 0.0) -> RunInfo:
    return RunInfo(
        id=rid, project="p", job_type="train", name=rid, state="finished", created_at=created_at
    )


def graph(
    versions: list[VersionInfo], runs: list[RunInfo | str], edges: list[tuple[str, str]]
) -> LineageGraph:
    return LineageGraph(
        versions={v.id: v for v in versions},
        runs={r if isinstance(r, str) else r.id: None if isinstance(r, str) else r for r in runs},
        edges=tuple(edges),
    )


def cells(layout: LineageLayout) -> dict[str, tuple[int, int]]:
    return {node: (place.column, place.row) for node, place in layout.places.items()}


def pipeline() -> LineageGraph:
    """raw -> prep -> data (focus) -> train -> model, and train also reads config."""
    return graph(
        [
            version("raw", "raw"),
            version("data", "data", logged_by="prep"),
            version("config", "config"),
            version("model", "model", logged_by="train"),
        ],
        [run("prep"), run("train")],
        [
            ("raw", "prep"),
            ("prep", "data"),
            ("data", "train"),
            ("config", "train"),
            ("train", "model"),
        ],
    )


def test_columns_count_steps_from_the_focus_inputs_left_outputs_right() -> None:
    layout = layout_lineage(pipeline(), "data")
    columns = {node: place.column for node, place in layout.places.items()}
    assert columns == {"raw": -2, "prep": -1, "data": 0, "train": 1, "model": 2, "config": 0}
    assert layout.columns == [-2, -1, 0, 1, 2]


def test_kinds_and_alternation_versions_even_runs_odd() -> None:
    layout = layout_lineage(pipeline(), "model")
    for place in layout.places.values():
        expected = NodeKind.VERSION if place.column % 2 == 0 else NodeKind.RUN
        assert place.kind == expected, place
    assert layout.places["model"].column == 0
    assert layout.places["raw"].column == -4


def test_the_focus_comes_first_in_its_column_and_other_inputs_follow() -> None:
    layout = layout_lineage(pipeline(), "data")
    assert layout.places["data"].row == 0
    assert layout.places["config"].row == 1
    assert layout.column_size(0) == 2
    assert layout.column_size(1) == 1


def test_every_edge_points_right_when_a_longer_path_exists() -> None:
    # data is read by train and by eval; eval also reads what train logged. The shortest
    # distance puts eval in column 1, left of model in column 2, which it reads.
    g = graph(
        [version("data", "data"), version("model", "model", logged_by="train")],
        [run("train", 1), run("eval", 2)],
        [("data", "train"), ("data", "eval"), ("train", "model"), ("model", "eval")],
    )
    layout = layout_lineage(g, "data")
    for source, target in layout.edges:
        assert layout.places[target].column > layout.places[source].column, (source, target)
    assert layout.places["eval"].column == 3
    assert layout.places["data"].column == 0


def test_upstream_edges_point_right_too() -> None:
    # model (focus) was logged by train, which read data; data was also read by prep,
    # which logged features that train read as well.
    g = graph(
        [
            version("data", "data"),
            version("features", "features", logged_by="prep"),
            version("model", "model", logged_by="train"),
        ],
        [run("prep"), run("train")],
        [("data", "prep"), ("prep", "features"), ("features", "train"), ("data", "train")],
    )
    g = LineageGraph(g.versions, g.runs, (*g.edges, ("train", "model")))
    layout = layout_lineage(g, "model")
    for source, target in layout.edges:
        assert layout.places[target].column > layout.places[source].column, (source, target)
    assert layout.places["model"].column == 0
    assert layout.places["data"].column == -4


def test_a_cycle_in_bad_data_still_ends_and_places_every_node() -> None:
    g = graph(
        [version("v", "v", logged_by="r"), version("w", "w")],
        [run("r")],
        [("v", "r"), ("r", "v"), ("w", "r")],
    )
    layout = layout_lineage(g, "v")
    assert set(layout.places) == {"v", "r", "w"}
    assert layout.places["v"].column == 0


def test_rows_follow_the_neighbours_nearer_the_focus() -> None:
    # Runs a and b read the focus (a is older, so above b); a logs "zzz", b logs "aaa".
    # By name alone "aaa" would come first; next to its run it goes below.
    g = graph(
        [version("f", "f"), version("z", "zzz", logged_by="a"), version("y", "aaa", logged_by="b")],
        [run("a", created_at=1), run("b", created_at=2)],
        [("f", "a"), ("f", "b"), ("a", "z"), ("b", "y")],
    )
    layout = layout_lineage(g, "f")
    assert cells(layout)["a"] == (1, 0)
    assert cells(layout)["b"] == (1, 1)
    assert cells(layout)["z"] == (2, 0)
    assert cells(layout)["y"] == (2, 1)


def test_versions_without_other_order_sort_by_name_then_number() -> None:
    g = graph(
        [
            version("f", "f"),
            version("m2", "model", 2, logged_by="r"),
            version("m1", "model", 1, logged_by="r"),
            version("c", "checkpoint", 0, logged_by="r"),
        ],
        [run("r")],
        [("f", "r"), ("r", "m2"), ("r", "m1"), ("r", "c")],
    )
    layout = layout_lineage(g, "f")
    column = sorted((p.row, n) for n, p in layout.places.items() if p.column == 2)
    assert [n for _, n in column] == ["c", "m1", "m2"]


def test_the_same_graph_in_any_order_gets_the_same_layout() -> None:
    g = pipeline()
    expected = cells(layout_lineage(g, "data"))
    rng = random.Random(7)
    for _ in range(20):
        versions = list(g.versions.items())
        runs = list(g.runs.items())
        edges = list(g.edges)
        for items in (versions, runs, edges):
            rng.shuffle(items)
        shuffled = LineageGraph(dict(versions), dict(runs), tuple(edges))
        assert cells(layout_lineage(shuffled, "data")) == expected


def test_runs_not_fetched_yet_are_placed_like_the_others() -> None:
    g = graph([version("f", "f"), version("out", "out", logged_by="r")], ["r"], [])
    g = LineageGraph(g.versions, g.runs, (("f", "r"), ("r", "out")))
    layout = layout_lineage(g, "f")
    assert cells(layout) == {"f": (0, 0), "r": (1, 0), "out": (2, 0)}
    assert layout.places["r"].kind == NodeKind.RUN


def test_edges_to_unknown_nodes_are_dropped() -> None:
    g = graph([version("f", "f")], [run("r")], [("f", "r"), ("ghost", "r"), ("r", "nowhere")])
    layout = layout_lineage(g, "f")
    assert layout.edges == (("f", "r"),)
    assert set(layout.places) == {"f", "r"}


def test_a_focus_outside_the_graph_and_loose_nodes_still_get_cells() -> None:
    g = graph([version("a", "a"), version("b", "b")], [run("r"), run("lonely")], [("a", "r")])
    layout = layout_lineage(g, "missing")
    assert set(layout.places) == {"a", "b", "r", "lonely"}
    for place in layout.places.values():
        assert place.column % 2 == (0 if place.kind == NodeKind.VERSION else 1)
    rows = [(p.column, p.row) for p in layout.places.values()]
    assert len(rows) == len(set(rows)), "two nodes share a cell"


def test_empty_graph_gives_an_empty_layout() -> None:
    layout = layout_lineage(LineageGraph({}, {}, ()), "x")
    assert layout.places == {}
    assert layout.columns == []
