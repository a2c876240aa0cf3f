"""Depth layer tools: depth brush (set, raise, lower, smooth), gradient and fill (an area or everything)."""

from __future__ import annotations

from PySide6.QtCore import QLineF, QPointF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsLineItem

from studio.document.depth import DepthLayer
from ui.canvas.tools.base import Tool, ToolEvent
from ui.canvas.tools.stroke import StrokeTool


class DepthBrushTool(StrokeTool):
    """Paint depth: set towards a value, raise, lower or smooth; the size follows pen pressure."""

    name, label, shortcut, layer = "depth_brush", "Depth brush", "D", "depth"

    def begin_stroke(self) -> DepthLayer:
        depth, settings = self.view.document.depth, self.settings
        depth.begin_stroke(
            mode=settings.depth_mode,
            radius=max(0.5, settings.brush_size / 2),
            hardness=settings.depth_hardness,
            strength=settings.depth_strength,
            value=settings.depth_value / 255.0,
        )
        return depth


class GradientTool(Tool):
    """Drag a depth gradient from the depth value (start) to far (end); radial when the shape is radial."""

    name, label, shortcut, layer = "gradient", "Gradient", "G", "depth"

    def __init__(self, view) -> None:
        super().__init__(view)
        self._start: QPointF | None = None
        self._preview = QGraphicsLineItem()
        pen = QPen(QColor("#ffd24a"), 2)
        pen.setCosmetic(True)
        pen.setStyle(Qt.PenStyle.DashLine)
        self._preview.setPen(pen)
        self._preview.setVisible(False)
        view.add_overlay(self._preview)

    def press(self, event: ToolEvent) -> None:
        self.view.document.depth.check_editable()
        self._start = event.pos
        self._preview.setLine(QLineF(event.pos, event.pos))
        self._preview.setVisible(True)

    def move(self, event: ToolEvent) -> None:
        if self._start is not None:
            self._preview.setLine(QLineF(self._start, event.pos))

    def release(self, event: ToolEvent) -> None:
        if self._start is None:
            return
        start, end = self._start, event.pos
        self.cancel()
        if QLineF(start, end).length() < 1.0:
            return
        near = self.settings.depth_value / 255.0
        depth = self.view.document.depth
        if self.settings.gradient_shape == "radial":
            depth.radial_gradient((start.x(), start.y()), QLineF(start, end).length(), center_value=near,
                                  edge_value=0.0)
        else:
            depth.linear_gradient((start.x(), start.y()), (end.x(), end.y()), start_value=near, end_value=0.0)

    def cancel(self) -> None:
        self._start = None
        self._preview.setVisible(False)


class FillTool(Tool):
    """Click to fill the connected area of similar depth (within the tolerance of the clicked depth) with the
    near value; Shift-click fills the whole depth layer."""

    name, label, shortcut, layer = "fill", "Fill", "F", "depth"

    def press(self, event: ToolEvent) -> None:
        depth, settings = self.view.document.depth, self.settings
        value = settings.depth_value / 255.0
        if event.modifiers & Qt.KeyboardModifier.ShiftModifier:
            depth.fill(value)
            return
        x, y = event.pos.x(), event.pos.y()
        if 0 <= x < depth.width and 0 <= y < depth.height:  # a click beside the paper does nothing
            depth.fill_region(x, y, value=value, tolerance=settings.fill_tolerance / 255.0)
