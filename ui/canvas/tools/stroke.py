"""Tools that paint one core brush stroke per gesture, passing the pen pressure with every point."""

from __future__ import annotations

from studio.document.depth import DepthLayer
from studio.document.edges import EdgeLayer
from ui.canvas.tools.base import Tool, ToolEvent

MIN_PRESSURE = 0.15  # the lightest pen touch still paints at this fraction of the brush size


def stroke_pressure(event: ToolEvent) -> float:
    """The pressure handed to the core: 1.0 for a mouse, the pen's pressure (at least MIN_PRESSURE) for a pen."""
    return max(MIN_PRESSURE, min(1.0, event.pressure))


class StrokeTool(Tool):
    """Press starts a core stroke (`begin_stroke`), moves add points, release ends it: one undo step.

    The core interpolates the width between points from their pressures, so one stroke can taper."""

    shows_brush_outline = True

    def __init__(self, view) -> None:
        super().__init__(view)
        self._layer: EdgeLayer | DepthLayer | None = None

    def begin_stroke(self) -> EdgeLayer | DepthLayer:
        """Start the core stroke with the current settings; returns the layer it paints on."""
        raise NotImplementedError

    def press(self, event: ToolEvent) -> None:
        self.cancel()
        self._layer = self.begin_stroke()
        self._add(event)

    def move(self, event: ToolEvent) -> None:
        self._add(event)

    def release(self, event: ToolEvent) -> None:
        self.cancel()

    def cancel(self) -> None:
        layer, self._layer = self._layer, None
        if layer is not None:
            layer.end_stroke()

    def _add(self, event: ToolEvent) -> None:
        if self._layer is not None and not self._layer.stroke_active:
            self._layer = None  # ended from elsewhere (e.g. undo during the stroke)
        if self._layer is not None:
            self._layer.add_point(event.pos.x(), event.pos.y(), pressure=stroke_pressure(event))
