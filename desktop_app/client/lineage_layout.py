"""Where each node of a lineage graph goes: a column and a row, computed without Qt.

Columns count steps along the edges from the focus version (column 0): its inputs and the
runs that logged them to the left, the runs that used it and what they logged to the
right. Every edge joins a version and a run, so versions land in even columns and runs in
odd ones. Rows order the nodes inside a column, the same way for the same graph.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from desktop_app.client.mirror import LineageGraph


class NodeKind(enum.StrEnum):
    VERSION = "version"
    RUN = "run"


@dataclass(frozen=True)
class NodePlace:
    """One node's cell: ``column`` may be negative (inputs), ``row`` counts from 0."""

    node_id: str
    kind: NodeKind
    column: int
    row: int


@dataclass(frozen=True)
class LineageLayout:
    """Every node's cell, and the edges whose two ends are both nodes of the graph."""

    places: dict[str, NodePlace]
    edges: tuple[tuple[str, str], ...]

    @property
    def columns(self) -> list[int]:
        """The columns in use, left to right."""
        return sorted({place.column for place in self.places.values()})

    def column_size(self, column: int) -> int:
        return sum(1 for place in self.places.values() if place.column == column)


def layout_lineage(graph: LineageGraph, focus_id: str) -> LineageLayout:
    """Place the graph's nodes in columns by distance from ``focus_id`` and order each column.

    Nodes not connected to the focus (or every node, when the focus is not in the graph)
    are laid out around the first of them in sorted order, versions in column 0.
    """
    kinds = {rid: NodeKind.RUN for rid in graph.runs}
    kinds.update((vid, NodeKind.VERSION) for vid in graph.versions)
    edges = tuple(sorted({(a, b) for a, b in graph.edges if a in kinds and b in kinds}))
    succ: dict[str, list[str]] = {node: [] for node in kinds}
    pred: dict[str, list[str]] = {node: [] for node in kinds}
    for a, b in edges:
        succ[a].append(b)
        pred[b].append(a)

    columns: dict[str, int] = {}
    anchors = [focus_id] if focus_id in kinds else []
    anchors += sorted(kinds, key=lambda node: (kinds[node] != NodeKind.VERSION, node))
    for anchor in anchors:
        if anchor not in columns:
            start = 0 if kinds[anchor] == NodeKind.VERSION else 1
            _spread(anchor, start, succ, pred, columns)
    _straighten(edges, columns, fixed=focus_id)

    rows = _order_rows(graph, kinds, columns, succ, pred, focus_id)
    places = {
        node: NodePlace(node, kinds[node], columns[node], rows[node]) for node in sorted(kinds)
    }
    return LineageLayout(places, edges)


def _spread(
    start: str,
    column: int,
    succ: dict[str, list[str]],
    pred: dict[str, list[str]],
    columns: dict[str, int],
) -> None:
    """Breadth first from ``start``: one column right along an edge, one left against it."""
    columns[start] = column
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for neighbours, step in ((succ[node], 1), (pred[node], -1)):
            for other in neighbours:
                if other not in columns:
                    columns[other] = columns[node] + step
                    queue.append(other)


def _straighten(edges: tuple[tuple[str, str], ...], columns: dict[str, int], fixed: str) -> None:
    """Push nodes outward until every edge points right, so arrows never run backwards.

    A shortest distance can put a run left of a version it used (when the version is also
    reachable by a longer way round). Moves are whole columns away from the focus, which
    keeps versions and runs alternating. A cycle (bad data) would push forever, so the
    rounds are capped.
    """
    for _ in range(len(columns) + 1):
        moved = False
        for a, b in edges:
            if columns[b] > columns[a]:
                continue
            if b != fixed and (columns[a] >= 0 or a == fixed):
                columns[b] = columns[a] + 1
            else:
                columns[a] = columns[b] - 1
            moved = True
        if not moved:
            return


def _order_rows(
    graph: LineageGraph,
    kinds: dict[str, NodeKind],
    columns: dict[str, int],
    succ: dict[str, list[str]],
    pred: dict[str, list[str]],
    focus_id: str,
) -> dict[str, int]:
    """Rows column by column outward from the focus, near the neighbours already placed.

    Each node sorts by the mean row of its neighbours in the column next to it on the focus
    side (fewer crossing arrows), then by a key of its own, so the order never depends on
    the order of dicts.
    """

    def own_key(node: str) -> tuple[str, float, str]:
        version = graph.versions.get(node)
        if version is not None:
            index = -1.0 if version.index is None else float(version.index)
            return (f"{version.project}/{version.name}", index, node)
        run = graph.runs.get(node)
        return ("", math.inf if run is None else run.created_at, node)

    by_column: dict[int, list[str]] = {}
    for node, column in columns.items():
        by_column.setdefault(column, []).append(node)
    home = columns.get(focus_id, 0)
    rows: dict[str, int] = {}
    for column in sorted(by_column, key=lambda c: (abs(c - home), c)):
        inner = column - 1 if column > home else column + 1
        nodes = by_column[column]

        if column == home:
            nodes.sort(key=lambda n: (n != focus_id, own_key(n)))
        else:
            centres = {n: _centre(n, inner, rows, columns, succ, pred) for n in nodes}
            nodes.sort(key=lambda n: (centres[n], own_key(n)))
        rows.update((node, row) for row, node in enumerate(nodes))
    return rows


def _centre(
    node: str,
    column: int,
    rows: dict[str, int],
    columns: dict[str, int],
    succ: dict[str, list[str]],
    pred: dict[str, list[str]],
) -> float:
    """The mean row of the node's neighbours in ``column`` (infinity when it has none)."""
    placed = [rows[n] for n in _neighbours(node, succ, pred) if columns[n] == column]
    return sum(placed) / len(placed) if placed else math.inf


def _neighbours(node: str, succ: dict[str, list[str]], pred: dict[str, list[str]]) -> Iterable[str]:
    yield from succ[node]
    yield from pred[node]
