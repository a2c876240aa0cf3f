"""The mask commands of the window (Edit menu, and buttons in the tool options bar while a mask tool is current):
invert, grow, shrink, feather, mask everything and clear. Grow, shrink and feather go by the amount set in the
tool options bar (`ToolSettings.mask_amount`, pixels). Each command is one undo step on the core (`MaskLayer`);
core errors (a locked mask) go to the status bar like other canvas edits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from ui.common.commands import Command

if TYPE_CHECKING:
    from ui.canvas.view import CanvasView
    from ui.common.context import AppContext

#: Commands that also get a button in the tool options bar while a mask tool is current.
MASK_TOOLBAR_KEYS = ("invert_mask", "grow_mask", "shrink_mask", "feather_mask", "clear_mask")


class MaskCommands(QObject):
    """Controller of the mask commands; every method is what its menu item does."""

    def __init__(self, context: "AppContext", *, view: "CanvasView") -> None:
        super().__init__(context)
        self.context = context
        self.view = view

    def commands(self) -> list[Command]:
        return [
            Command("invert_mask", "Edit", "Invert Mask", self.invert, separator=True,
                    tip="Repaint what is unmasked now, keep what is masked"),
            Command("grow_mask", "Edit", "Grow Mask", self.grow, tip="Widen the mask by the amount (px)"),
            Command("shrink_mask", "Edit", "Shrink Mask", self.shrink, tip="Narrow the mask by the amount (px)"),
            Command("feather_mask", "Edit", "Feather Mask", self.feather,
                    tip="Soften the mask edge over the amount (px)"),
            Command("fill_mask", "Edit", "Mask Everything", self.fill_all, tip="Repaint the whole picture"),
            Command("clear_mask", "Edit", "Clear Mask", self.clear, tip="Nothing is repainted: generation is "
                    "text-to-image again"),
        ]

    @property
    def amount(self) -> int:
        return max(1, int(self.view.tool_settings.mask_amount))

    def _run(self, action) -> None:
        self.view.run_edit(action)

    def invert(self) -> None:
        self._run(self.context.document.mask.invert)

    def grow(self) -> None:
        self._run(lambda: self.context.document.mask.grow(self.amount))

    def shrink(self) -> None:
        self._run(lambda: self.context.document.mask.grow(-self.amount))

    def feather(self) -> None:
        self._run(lambda: self.context.document.mask.feather(self.amount))

    def fill_all(self) -> None:
        self._run(self.context.document.mask.fill_all)

    def clear(self) -> None:
        self._run(self.context.document.mask.clear)
