"""Brush size and hardness remembered per tool.

The tools share one `ToolSettings` (what the options bar edits), so a size set for one tool used to carry over to
the next: a 118 px depth brush became a 118 px edge brush and drew a blob, while hardness (kept per layer kind)
did not follow. `BrushMemory` keeps each tool's size and hardness: switching tools stores the old tool's pair
and puts back the new one's (a tool used for the first time starts from the defaults).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ui.canvas.tools.base import ToolSettings

#: The setting a tool's hardness lives in (edge tools use `edge_hardness`, the depth brush its own).
HARDNESS_SETTING = {"depth_brush": "depth_hardness"}


#: Brush sizes other than the common default a tool starts with (masks are painted with a broad brush).
DEFAULT_SIZE = {"mask_brush": 32, "mask_eraser": 32}


def hardness_setting(tool: str) -> str:
    return HARDNESS_SETTING.get(tool, "edge_hardness")


@dataclass(frozen=True)
class BrushChoice:
    size: int
    hardness: float


_DEFAULTS = {f.name: f.default for f in fields(ToolSettings)}


class BrushMemory:
    """Size and hardness of every tool used so far; `switch(tool)` makes `settings` hold the tool's pair."""

    def __init__(self, settings: ToolSettings) -> None:
        self.settings = settings
        self.tool: str | None = None
        self.saved: dict[str, BrushChoice] = {}

    def current(self) -> BrushChoice:
        attribute = hardness_setting(self.tool or "")
        return BrushChoice(self.settings.brush_size, float(getattr(self.settings, attribute)))

    def choice_for(self, tool: str) -> BrushChoice:
        """What `tool` will draw with (its remembered pair, or the defaults)."""
        if tool == self.tool:
            return self.current()
        default = BrushChoice(DEFAULT_SIZE.get(tool, _DEFAULTS["brush_size"]), _DEFAULTS[hardness_setting(tool)])
        return self.saved.get(tool, default)

    def switch(self, tool: str) -> BrushChoice:
        """`tool` becomes current: remember the old tool's size and hardness, restore the new one's."""
        if tool == self.tool:
            return self.current()
        if self.tool is not None:
            self.saved[self.tool] = self.current()
        choice = self.choice_for(tool)
        self.tool = tool
        self.settings.brush_size = choice.size
        setattr(self.settings, hardness_setting(tool), choice.hardness)
        return choice
