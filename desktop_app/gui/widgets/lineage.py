"""The lineage graph of one version: the runs and versions upstream and downstream of it.

Where nodes go is decided by :func:`desktop_app.client.lineage_layout.layout_lineage`;
this module only draws it. Items paint with colours taken from the view's palette, so a
light or dark theme applies without rebuilding the scene.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPolygonF,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QWidget,
)

from desktop_app.client.lineage_layout import NodeKind, layout_lineage
from desktop_app.client.mirror import LineageGraph
from desktop_app.core.records import RunInfo, VersionInfo
from desktop_app.gui.i18n import tr

NODE_WIDTH = 184.0
NODE_HEIGHT = 46.0
COLUMN_GAP = 56.0
ROW_GAP = 18.0
_RUN_INSET = 14.0  # how far a run's hexagon points reach in from its box
_TEXT_MARGIN = 10.0
_ARROW = 7.0
_MIN_ZOOM, _MAX_ZOOM = 0.2, 3.0


@dataclass
class _Theme:
    """The colours every item paints with; refreshed in place when the palette changes."""

    base: QColor
    run_fill: QColor
    text: QColor
    muted: QColor
    outline: QColor
    edge: QColor
    highlight: QColor
    focus_fill: QColor

    @classmethod
    def from_palette(cls, palette: QPalette) -> _Theme:
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        highlight = palette.color(QPalette.ColorRole.Highlight)
        return cls(
            base=base,
            run_fill=palette.color(QPalette.ColorRole.AlternateBase),
            text=text,
            muted=palette.color(QPalette.ColorRole.PlaceholderText),
            outline=_with_alpha(text, 110),
            edge=_with_alpha(text, 150),
            highlight=highlight,
            focus_fill=_blend(base, highlight, 0.25),
        )

    def update_from(self, palette: QPalette) -> None:
        self.__dict__.update(_Theme.from_palette(palette).__dict__)


def _with_alpha(color: QColor, alpha: int) -> QColor:
    result = QColor(color)
    result.setAlpha(alpha)
    return result


def _blend(under: QColor, over: QColor, amount: float) -> QColor:
    def mix(a: float, b: float) -> float:
        return a + (b - a) * amount

    return QColor.fromRgbF(
        mix(under.redF(), over.redF()),
        mix(under.greenF(), over.greenF()),
        mix(under.blueF(), over.blueF()),
    )


def version_title(info: VersionInfo) -> str:
    """``name:v3`` (``name:draft`` before commit)."""
    return f"{info.name}:{info.version or tr('draft')}"


def run_titles(run_id: str, run: RunInfo | None) -> tuple[str, str]:
    """The job type (or "run") over the run's name (or its id when the name is unknown)."""
    if run is None:
        return tr("run"), run_id
    return run.job_type or tr("run"), run.name or run_id


class _NodeItem(QGraphicsItem):
    """A version (rounded box) or a run (hexagon) with two lines of text."""

    def __init__(
        self,
        node_id: str,
        kind: NodeKind,
        lines: tuple[str, str],
        *,
        focused: bool,
        dashed: bool,
        theme: _Theme,
        font: QFont,
    ) -> None:
        super().__init__()
        self.node_id = node_id
        self.kind = kind
        self._focused = focused
        self._dashed = dashed
        self._theme = theme
        self._title_font = QFont(font)
        self._title_font.setBold(True)
        self._font = QFont(font)
        width = NODE_WIDTH - 2 * (_TEXT_MARGIN + (_RUN_INSET if kind == NodeKind.RUN else 0))
        self._title = QFontMetricsF(self._title_font).elidedText(
            lines[0], Qt.TextElideMode.ElideMiddle, width
        )
        self._subtitle = QFontMetricsF(self._font).elidedText(
            lines[1], Qt.TextElideMode.ElideMiddle, width
        )
        self._outline = self._make_outline()
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def _make_outline(self) -> QPainterPath:
        path = QPainterPath()
        if self.kind == NodeKind.VERSION:
            path.addRoundedRect(QRectF(0, 0, NODE_WIDTH, NODE_HEIGHT), 8, 8)
        else:
            middle = NODE_HEIGHT / 2
            points = [
                QPointF(_RUN_INSET, 0),
                QPointF(NODE_WIDTH - _RUN_INSET, 0),
                QPointF(NODE_WIDTH, middle),
                QPointF(NODE_WIDTH - _RUN_INSET, NODE_HEIGHT),
                QPointF(_RUN_INSET, NODE_HEIGHT),
                QPointF(0, middle),
            ]
            path.addPolygon(QPolygonF(points))
            path.closeSubpath()
        return path

    def boundingRect(self) -> QRectF:
        return QRectF(-2, -2, NODE_WIDTH + 4, NODE_HEIGHT + 4)

    def shape(self) -> QPainterPath:
        return self._outline

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        theme = self._theme
        if self._focused:
            pen = QPen(theme.highlight, 2.5)
            fill = theme.focus_fill
        else:
            pen = QPen(theme.outline, 1.2)
            fill = theme.base if self.kind == NodeKind.VERSION else theme.run_fill
        if self._dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(QBrush(fill))
        painter.drawPath(self._outline)
        half = NODE_HEIGHT / 2
        centred = Qt.AlignmentFlag.AlignHCenter
        painter.setPen(theme.text)
        painter.setFont(self._title_font)
        painter.drawText(
            QRectF(0, 4, NODE_WIDTH, half - 4), centred | Qt.AlignmentFlag.AlignBottom, self._title
        )
        painter.setPen(theme.muted)
        painter.setFont(self._font)
        painter.drawText(
            QRectF(0, half + 1, NODE_WIDTH, half - 5),
            centred | Qt.AlignmentFlag.AlignTop,
            self._subtitle,
        )


class _EdgeItem(QGraphicsItem):
    """An arrow from the right side of one node to the left side of another."""

    def __init__(self, start: QPointF, end: QPointF, *, emphasized: bool, theme: _Theme) -> None:
        super().__init__()
        self._theme = theme
        self._emphasized = emphasized
        reach = max(24.0, abs(end.x() - start.x()) / 2)
        tip = QPointF(end.x() - _ARROW, end.y())
        self._path = QPainterPath(start)
        self._path.cubicTo(
            QPointF(start.x() + reach, start.y()), QPointF(tip.x() - reach, tip.y()), tip
        )
        self._head = QPolygonF(
            [end, QPointF(tip.x(), end.y() - _ARROW / 2), QPointF(tip.x(), end.y() + _ARROW / 2)]
        )
        self._bounds = self._path.boundingRect().united(self._head.boundingRect())
        self._bounds.adjust(-2, -2, 2, 2)
        self.setZValue(-1)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        color = self._theme.highlight if self._emphasized else self._theme.edge
        painter.setPen(QPen(color, 1.8 if self._emphasized else 1.2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawPolygon(self._head)


class LineageView(QGraphicsView):
    """The runs and versions around one version, inputs on the left, outputs on the right.

    A click on a version emits :attr:`version_activated`, on a run :attr:`run_activated`,
    each with the node's id. Ctrl + wheel zooms; dragging pans.
    """

    version_activated = Signal(str)
    run_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lineageView")
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self._theme = _Theme.from_palette(self.palette())
        self._nodes: dict[str, _NodeItem] = {}
        self._edges: list[_EdgeItem] = []
        self._hint: QGraphicsSimpleTextItem | None = None
        self._focus_id: str | None = None
        self._pressed: tuple[str, QPoint] | None = None
        self.clear()

    # -- public API ----------------------------------------------------------------------
    @property
    def focus_id(self) -> str | None:
        """The version the graph is drawn around, ``None`` after :meth:`clear`."""
        return self._focus_id

    def set_graph(self, graph: LineageGraph, focus_id: str) -> None:
        """Draw ``graph`` around the version ``focus_id`` and scroll it into view."""
        if not graph.versions and not graph.runs:
            self.clear()
            return
        self._reset_scene()
        self._focus_id = focus_id
        layout = layout_lineage(graph, focus_id)
        first = min(layout.columns)
        heights = {
            c: layout.column_size(c) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP for c in layout.columns
        }
        scene = self.scene()
        font = self.font()
        for node_id, place in layout.places.items():
            if place.kind == NodeKind.VERSION:
                info = graph.versions[node_id]
                lines = (version_title(info), info.type)
                tooltip = info.qualified_name
                if info.aliases:
                    tooltip += "\n" + ", ".join(info.aliases)
                dashed = False
            else:
                run = graph.runs[node_id]
                lines = run_titles(node_id, run)
                tooltip = tr("run {id}").format(id=node_id)
                dashed = run is None
            item = _NodeItem(
                node_id,
                place.kind,
                lines,
                focused=node_id == focus_id,
                dashed=dashed,
                theme=self._theme,
                font=font,
            )
            item.setToolTip(tooltip)
            item.setPos(
                (place.column - first) * (NODE_WIDTH + COLUMN_GAP),
                place.row * (NODE_HEIGHT + ROW_GAP) - heights[place.column] / 2,
            )
            scene.addItem(item)
            self._nodes[node_id] = item
        for source, target in layout.edges:
            a, b = self._nodes[source].pos(), self._nodes[target].pos()
            edge = _EdgeItem(
                QPointF(a.x() + NODE_WIDTH, a.y() + NODE_HEIGHT / 2),
                QPointF(b.x(), b.y() + NODE_HEIGHT / 2),
                emphasized=focus_id in (source, target),
                theme=self._theme,
            )
            scene.addItem(edge)
            self._edges.append(edge)
        margin = 24.0
        self.setSceneRect(scene.itemsBoundingRect().adjusted(-margin, -margin, margin, margin))
        focus = self._nodes.get(focus_id)
        if focus is not None:
            self.centerOn(focus)

    def clear(self) -> None:
        """An empty graph with a hint to pick a version."""
        self._reset_scene()
        self._focus_id = None
        hint = QGraphicsSimpleTextItem(tr("Select a version to see its lineage"))
        hint.setBrush(self._theme.muted)
        bounds = hint.boundingRect()
        hint.setPos(-bounds.width() / 2, -bounds.height() / 2)
        self.scene().addItem(hint)
        self._hint = hint
        self.setSceneRect(hint.sceneBoundingRect())

    def node_ids(self) -> list[str]:
        """The ids of the nodes drawn, sorted."""
        return sorted(self._nodes)

    def node_scene_rect(self, node_id: str) -> QRectF | None:
        """Where the node is drawn, in scene coordinates (``None`` when it is not drawn)."""
        item = self._nodes.get(node_id)
        return None if item is None else item.sceneBoundingRect()

    # -- events --------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        node = self._node_at(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and node is not None:
            self._pressed = (node.node_id, event.position().toPoint())
        else:
            self._pressed = None
        super().mousePressEvent(event)
        event.accept()  # the view is where clicks end: a node, a pan, or nothing

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        event.accept()
        pressed, self._pressed = self._pressed, None
        if pressed is None or event.button() != Qt.MouseButton.LeftButton:
            return
        position = event.position().toPoint()
        moved = (position - pressed[1]).manhattanLength()
        node = self._node_at(position)
        if node is None or node.node_id != pressed[0]:
            return
        if moved >= QApplication.startDragDistance():
            return
        if node.kind == NodeKind.VERSION:
            self.version_activated.emit(node.node_id)
        else:
            self.run_activated.emit(node.node_id)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(event)
            return
        factor = 1.15 if event.angleDelta().y() > 0 else 1 / 1.15
        zoom = self.transform().m11() * factor
        if _MIN_ZOOM <= zoom <= _MAX_ZOOM:
            self.scale(factor, factor)
        event.accept()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._theme.update_from(self.palette())
            if self._hint is not None:
                self._hint.setBrush(self._theme.muted)
            for item in self._nodes.values():
                item.update()  # drops the cached pixmap too
            self.viewport().update()

    # -- helpers -------------------------------------------------------------------------
    def _node_at(self, position: QPoint) -> _NodeItem | None:
        for item in self.items(position):
            if isinstance(item, _NodeItem):
                return item
        return None

    def _reset_scene(self) -> None:
        self._nodes = {}
        self._edges = []
        self._hint = None
        self._pressed = None
        self.scene().clear()
        self.resetTransform()
