"""Reference layer: an optional RGB picture shown under the other layers for tracing."""

from __future__ import annotations

import numpy as np

from studio.document.errors import DocumentError
from studio.document.events import PIXELS, ChangeEvent
from studio.document.history import UndoStep
from studio.document.layer import Layer


class ReferenceStep(UndoStep):
    """Undo step for setting or clearing the reference picture (holds both pictures)."""

    def __init__(self, layer: "ReferenceLayer", label: str, before, after) -> None:
        self.layer = layer
        self.label = label
        self.before = before
        self.after = after

    def undo(self) -> None:
        self.layer._assign(self.before)

    def redo(self) -> None:
        self.layer._assign(self.after)

    @property
    def nbytes(self) -> int:
        return sum(img.nbytes for img in (self.before, self.after) if img is not None) + 128


class ReferenceLayer(Layer):
    """Holds an HxWx3 uint8 RGB image of the document size, or None. Default opacity 0.5."""

    name = "reference"

    def __init__(self, context) -> None:
        super().__init__(context)
        self._opacity = 0.5
        self._image: np.ndarray | None = None

    @property
    def image(self) -> np.ndarray | None:
        return self._image

    def _copy_from(self, source: "ReferenceLayer") -> None:
        super()._copy_from(source)
        self._image = source._image  # read-only: set_image stores a frozen copy

    def _assign(self, image: np.ndarray | None) -> None:
        self._image = image
        self.emit(ChangeEvent(self.name, PIXELS, None))

    def set_image(self, image: np.ndarray | None, *, label: str = "Set reference image") -> None:
        """Set the picture (HxWx3 uint8 RGB of the document size; see `studio.imageio.fit_to_size`) or None."""
        self.check_editable()
        if image is not None:
            image = np.asarray(image)
            if image.dtype != np.uint8 or image.shape != (self.height, self.width, 3):
                raise DocumentError(
                    f"The reference image must be a {self.width}x{self.height} RGB uint8 array, "
                    f"not {image.dtype} {image.shape}."
                )
            image = image.copy()
            image.flags.writeable = False
        before = self._image
        self._assign(image)
        self.history.push(ReferenceStep(self, label, before, image))

    def clear(self) -> None:
        self.set_image(None, label="Remove reference image")
