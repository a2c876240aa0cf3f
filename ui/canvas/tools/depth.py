"""Depth layer tools: depth brush (set, raise, lower, smooth), gradient and fill."""

from __future__ import annotations

from PySide6.QtCore import QLineF, QPointF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsLineItem

from ui.canvas.tools.base import Tool, ToolEvent
from ui.canvas.tools.stroke import PressureStroke

DEPTH_BRUSH_HARDNESS = {False: 0.8, True: 0.3}  # soft_edge off / on


class DepthBrushTool(Tool):
    """Paint depth: set towards a value, raise, lower or smooth; size follows pen pressure."""

    name, label, shortcut, layer = "depth_brush", "Depth brush", "D", "depth"
    shows_brush_outline = True

    def __init__(self, view) -> None:
        super().__init__(view)
        self._stroke: PressureStroke | None = None

    def press(self, event: ToolEvent) -> None:
        depth = self.view.document.depth
        settings = self.settings
        self._stroke = PressureStroke(
            history=self.view.document.history,
            label=f"Depth brush ({settings.depth_mode})",
            begin=lambda size: depth.begin_stroke(
                mode=settings.depth_mode,
                radius=max(0.5, size / 2),
                hardness=DEPTH_BRUSH_HARDNESS[settings.soft_edge],
                strength=settings.depth_strength,
                value=settings.depth_value / 255.0,
            ),
            add_point=depth.add_point,
            end=depth.end_stroke,
            size=settings.brush_size,
        )
        self._stroke.start(event.pos.x(), event.pos.y(), event.pressure)

    def move(self, event: ToolEvent) -> None:
        if self._stroke is not None:
            self._stroke.add(event.pos.x(), event.pos.y(), event.pressure)

    def release(self, event: ToolEvent) -> None:
        self.cancel()

    def cancel(self) -> None:
        stroke, self._stroke = self._stroke, None
        if stroke is not None:
            stroke.finish()


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
    """Click to fill the whole depth layer with the depth value."""

    name, label, shortcut, layer = "fill", "Fill", "F", "depth"

    def press(self, event: ToolEvent) -> None:
        self.view.document.depth.fill(self.settings.depth_value / 255.0)
