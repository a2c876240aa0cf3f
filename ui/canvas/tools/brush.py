"""Edge layer tools: freehand brush, eraser and straight line."""

from __future__ import annotations

from PySide6.QtCore import QLineF, QPointF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsLineItem

from studio.document.edges import EdgeLayer
from ui.canvas.tools.base import Tool, ToolEvent
from ui.canvas.tools.stroke import StrokeTool


class EdgeBrushTool(StrokeTool):
    """Freehand white strokes on the edge layer; the width follows pen pressure along the stroke."""

    name, label, shortcut, layer = "brush", "Brush", "B", "edge"
    erase = False

    def begin_stroke(self) -> EdgeLayer:
        edge = self.view.document.edge
        edge.begin_stroke(width=self.settings.brush_size, erase=self.erase, hardness=self.settings.edge_hardness)
        return edge


class EraserTool(EdgeBrushTool):
    """Freehand erasing on the edge layer."""

    name, label, shortcut = "eraser", "Eraser", "E"
    erase = True


class LineTool(Tool):
    """Drag a straight edge line; Shift snaps to 45-degree steps."""

    name, label, shortcut, layer = "line", "Line", "L", "edge"
    shows_brush_outline = True

    def __init__(self, view) -> None:
        super().__init__(view)
        self._start: QPointF | None = None
        self._preview = QGraphicsLineItem()
        pen = QPen(QColor(255, 255, 255, 160))
        pen.setCosmetic(False)
        self._preview.setPen(pen)
        self._preview.setVisible(False)
        view.add_overlay(self._preview)

    def _end_point(self, event: ToolEvent) -> QPointF:
        end = event.pos
        if self._start is not None and event.modifiers & Qt.KeyboardModifier.ShiftModifier:
            line = QLineF(self._start, end)
            line.setAngle(round(line.angle() / 45.0) * 45.0)
            end = line.p2()
        return end

    def press(self, event: ToolEvent) -> None:
        self.view.document.edge.check_editable()
        self._start = event.pos
        pen = self._preview.pen()
        pen.setWidthF(self.settings.brush_size)
        self._preview.setPen(pen)
        self._preview.setLine(QLineF(event.pos, event.pos))
        self._preview.setVisible(True)

    def move(self, event: ToolEvent) -> None:
        if self._start is not None:
            self._preview.setLine(QLineF(self._start, self._end_point(event)))

    def release(self, event: ToolEvent) -> None:
        if self._start is None:
            return
        start, end = self._start, self._end_point(event)
        self.cancel()
        if start != end:
            self.view.document.edge.draw_line(
                (start.x(), start.y()), (end.x(), end.y()),
                width=self.settings.brush_size, hardness=self.settings.edge_hardness,
            )

    def cancel(self) -> None:
        self._start = None
        self._preview.setVisible(False)
