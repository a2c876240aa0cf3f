"""The canvas tools as checkable window actions with their single-key shortcuts."""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QWidget

from ui.canvas.tools.base import Tool
from ui.canvas.tools.brush import EdgeBrushTool, EraserTool, LineTool
from ui.canvas.tools.depth import DepthBrushTool, FillTool, GradientTool
from ui.canvas.tools.mask import MaskBrushTool, MaskEraserTool, MaskFillTool
from ui.canvas.tools.pose import PoseTool
from ui.canvas.view import CanvasView
from ui.common.icons import tool_icon

TOOL_CLASSES: tuple[type[Tool], ...] = (
    EdgeBrushTool, EraserTool, LineTool, DepthBrushTool, GradientTool, FillTool, PoseTool,
    MaskBrushTool, MaskEraserTool, MaskFillTool,
)  # fmt: skip
TOOL_TIPS = {
    "brush": "Draw edge strokes",
    "eraser": "Erase edge strokes",
    "line": "Draw a straight edge line (Shift snaps to 45°)",
    "depth_brush": "Paint depth: set, raise, lower or smooth",
    "gradient": "Drag a depth gradient from near to far",
    "fill": "Fill an area of similar depth with the near value (Shift-click: the whole layer)",
    "pose": "Drag joints; drag a person to move, Shift-drag to scale, Ctrl-drag to rotate",
    "mask_brush": "Paint the area to repaint (inpaint) in the reference picture",
    "mask_eraser": "Take area out of the inpaint mask",
    "mask_fill": "Mask the area of similar colour in the reference (Ctrl-click: unmask it, Shift-click: all)",
}


def install_tools(view: CanvasView, parent: QWidget) -> dict[str, QAction]:
    """Create every tool on `view` and one exclusive, checkable action per tool (name -> action)."""
    group = QActionGroup(parent)
    group.setExclusive(True)
    actions: dict[str, QAction] = {}
    for cls in TOOL_CLASSES:
        tool = cls(view)
        view.add_tool(tool)
        action = QAction(tool_icon(tool.name), tool.label, parent)
        action.setCheckable(True)
        action.setShortcut(QKeySequence(tool.shortcut))
        action.setToolTip(f"{tool.label} ({tool.shortcut}) – {TOOL_TIPS[tool.name]}")
        action.setStatusTip(TOOL_TIPS[tool.name])
        action.setData(tool.name)
        action.triggered.connect(lambda _checked=False, name=tool.name: view.set_tool(name))
        group.addAction(action)
        actions[tool.name] = action
    view.tool_changed.connect(lambda name: actions[name].setChecked(True))
    return actions
