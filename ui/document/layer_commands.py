"""Layer commands of the Edit menu and the layers panel: edges from the reference, invert, clear, remove."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from studio.document.picture_import import edges_from_picture
from ui.common.commands import Command
from ui.dialogs.canny import CannyDialog

if TYPE_CHECKING:
    from ui.canvas.view import CanvasView
    from ui.common.context import AppContext
    from ui.document.layers_panel import LayersPanel


class LayerCommands(QObject):
    """Each command is one undo step on the core; core errors go to the window's message bar."""

    def __init__(self, context: "AppContext", *, view: "CanvasView", layers_panel: "LayersPanel") -> None:
        super().__init__(context)
        self.context = context
        self.view = view
        self.layers_panel = layers_panel
        self.canny_dialog: CannyDialog | None = None  # the open Canny dialog (reachable by tests)

    def commands(self) -> list[Command]:
        """The Edit menu's layer commands (also on the layers panel)."""
        return [
            Command("edges_from_reference", "Edit", "Edges from Reference…", self.edges_from_reference,
                    shortcut="Ctrl+Shift+C", tip="Trace the reference picture with Canny (live preview)"),
            Command("invert_edges", "Edit", "Invert Edges", self.invert_edges),
            Command("clear_layer", "Edit", "Clear Current Layer", self.clear_current, shortcut="Ctrl+Backspace"),
            Command("remove_reference", "Edit", "Remove Reference Image", self.remove_reference),
        ]

    def _run(self, action) -> None:
        self.view.run_edit(action)

    def edges_from_reference(self) -> None:
        """Open the Canny dialog on the reference picture; OK replaces the edge layer or adds to it."""
        picture = self.context.document.reference.image
        if picture is None:
            self.context.report_error("There is no reference image; import one first (File ▸ Import Image).")
            return
        dialog = CannyDialog(picture, self.context.widget, drawn=self.context.document.edge.data)
        self.canny_dialog = dialog
        dialog.accepted.connect(lambda: self.apply_canny(*dialog.thresholds(), combine=dialog.combine()))
        dialog.open()

    def apply_canny(self, low: int, high: int, *, combine: str = "replace") -> None:
        """Canny edges of the reference on the edge layer: instead of what is there, or added to it."""
        document = self.context.document
        self._run(lambda: edges_from_picture(document, document.reference.image, "canny", low=low, high=high,
                                             combine=combine))

    def invert_edges(self) -> None:
        self._run(self.context.document.edge.invert)

    def remove_reference(self) -> None:
        self._run(self.context.document.reference.clear)

    def clear_current(self) -> None:
        """Clear the layer marked current in the layers panel."""
        name = self.layers_panel.current() or "edge"
        layer = self.context.document.layer(name)
        clear = {"depth": lambda: layer.fill(0.0)}.get(name, layer.clear)
        self._run(clear)
