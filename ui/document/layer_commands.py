"""Layer commands of the Edit menu and the layers panel: edges from the reference, invert, clear, remove."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from studio.document.picture_import import edges_from_picture
from ui.dialogs.canny import CannyDialog

if TYPE_CHECKING:
    from ui.shell.main_window import MainWindow


class LayerCommands(QObject):
    """Each command is one undo step on the core; core errors go to the window's message bar."""

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.window = window

    def _run(self, action) -> None:
        self.window.view.run_edit(action)

    def edges_from_reference(self) -> None:
        """Open the Canny dialog on the reference picture and replace the edge layer on OK."""
        picture = self.window.document.reference.image
        if picture is None:
            self.window.report_error("There is no reference image; import one first (File ▸ Import Image).")
            return
        dialog = CannyDialog(picture, self.window)
        self.window.canny_dialog = dialog  # reachable by tests while open
        dialog.accepted.connect(lambda: self.apply_canny(*dialog.thresholds()))
        dialog.open()

    def apply_canny(self, low: int, high: int) -> None:
        document = self.window.document
        self._run(lambda: edges_from_picture(document, document.reference.image, "canny", low=low, high=high))

    def invert_edges(self) -> None:
        self._run(self.window.document.edge.invert)

    def remove_reference(self) -> None:
        self._run(self.window.document.reference.clear)

    def clear_current(self) -> None:
        """Clear the layer marked current in the layers panel."""
        name = self.window.layers_panel.current() or "edge"
        layer = self.window.document.layer(name)
        clear = {"depth": lambda: layer.fill(0.0)}.get(name, layer.clear)
        self._run(clear)
