"""Mask layer tools: brush and eraser (white = the area inpainting repaints) and fill.

The fill tool takes in the connected area of similar colour in the reference picture (the picture being
inpainted), or of the mask itself when there is no picture; Shift-click fills the whole mask, Ctrl-click (or a
fill with the eraser's intent) takes the area out of the mask. Every gesture is one undo step on the core.
"""

from __future__ import annotations

from PySide6.QtCore import Qt

from studio.document.mask import MaskLayer
from ui.canvas.tools.base import Tool, ToolEvent
from ui.canvas.tools.stroke import StrokeTool


class MaskBrushTool(StrokeTool):
    """Freehand strokes that add to the mask; the width follows pen pressure."""

    name, label, shortcut, layer = "mask_brush", "Mask", "M", "mask"
    erase = False

    def begin_stroke(self) -> MaskLayer:
        mask = self.view.document.mask
        mask.begin_stroke(width=self.settings.brush_size, erase=self.erase, hardness=self.settings.edge_hardness)
        return mask


class MaskEraserTool(MaskBrushTool):
    """Freehand strokes that take area out of the mask."""

    name, label, shortcut = "mask_eraser", "Unmask", "Shift+M"
    erase = True


class MaskFillTool(Tool):
    """Click: add the connected area of similar colour (reference picture) to the mask; Ctrl-click: take it
    out; Shift-click: mask everything."""

    name, label, shortcut, layer = "mask_fill", "Mask fill", "Shift+F", "mask"

    def press(self, event: ToolEvent) -> None:
        document = self.view.document
        mask = document.mask
        if event.modifiers & Qt.KeyboardModifier.ShiftModifier:
            mask.fill_all()
            return
        x, y = event.pos.x(), event.pos.y()
        if not (0 <= x < mask.width and 0 <= y < mask.height):  # a click beside the paper does nothing
            return
        mask.fill_region(x, y, image=document.reference.image, tolerance=self.settings.fill_tolerance,
                         erase=bool(event.modifiers & Qt.KeyboardModifier.ControlModifier))
