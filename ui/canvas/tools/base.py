"""What every canvas tool shares: the pointer event it receives and the settings the options bar edits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, Qt

if TYPE_CHECKING:
    from ui.canvas.view import CanvasView


@dataclass
class ToolEvent:
    """A pointer event in document pixels. `pressure` is 1.0 for a mouse, 0..1 from a tablet pen."""

    pos: QPointF
    pressure: float = 1.0
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
    button: Qt.MouseButton = Qt.MouseButton.LeftButton


@dataclass
class ToolSettings:
    """Options shared by the tools (shown in the tool options bar)."""

    brush_size: int = 8
    edge_hardness: float = 1.0  # 1: pure white, hard edges (what scribble models saw); lower: feathered
    depth_hardness: float = 0.8  # fraction of the depth brush radius at full strength
    use_pressure: bool = True
    depth_value: int = 200
    depth_mode: str = "set"
    depth_strength: float = 0.5
    gradient_shape: str = "linear"
    fill_tolerance: int = 8  # levels (of 255) around the clicked depth (fill) or colour (mask fill) taken in
    mask_amount: int = 8  # pixels the mask commands grow, shrink or feather by


class Tool:
    """Base class of canvas tools. Subclasses override the handlers they need.

    `press`/`move`/`release` come while the left button is down; `hover` while no button is down. A tool
    that edits the document must end its gesture in `release` (or `cancel`) so that one gesture is one
    undo step.
    """

    name: str = ""
    label: str = ""
    shortcut: str = ""
    layer: str | None = None  # the document layer it edits (selected in the layers panel when activated)
    shows_brush_outline: bool = False

    def __init__(self, view: "CanvasView") -> None:
        self.view = view

    @property
    def settings(self) -> ToolSettings:
        return self.view.tool_settings

    def brush_diameter(self) -> float:
        """Diameter of the brush outline in document pixels."""
        return float(self.settings.brush_size)

    def activate(self) -> None:
        """Called when the tool becomes current."""

    def deactivate(self) -> None:
        """Called when another tool becomes current; must end any gesture in progress."""
        self.cancel()

    def press(self, event: ToolEvent) -> None:
        """Left button (or pen) down."""

    def move(self, event: ToolEvent) -> None:
        """Pointer moved with the button down."""

    def release(self, event: ToolEvent) -> None:
        """Button up: the gesture ends here."""

    def hover(self, event: ToolEvent) -> None:
        """Pointer moved with no button down."""

    def cancel(self) -> None:
        """End any gesture in progress (focus lost, tool switched)."""
