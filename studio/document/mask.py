"""Mask layer: where inpainting repaints (white, 255) and what it keeps (black), as a uint8 raster.

Painting works as on the edge layer (brush and eraser strokes with size, hardness and pressure, one undo step
each); on top come fill (a region by tolerance, or everything), invert, grow/shrink and feather. A mask is not a
ControlNet input: `request_mask()` gives the HxWx3 uint8 array a `GenerationRequest.mask` takes, and
`is_empty` says whether there is anything to inpaint. Events name the layer "mask". The layer is not one of
`LAYER_NAMES` (the control layers), so it never enters control images; documents save it as `mask.png`.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from studio.document.edges import EdgeLayer
from studio.document.errors import DocumentError

MASK_ON = 255
MAX_RADIUS = 1024


class MaskLayer(EdgeLayer):
    """The inpaint mask of a document (white = repaint)."""

    name = "mask"

    def begin_stroke(self, *, width: float | None = None, erase: bool = False, hardness: float = 1.0) -> None:
        """Start a brush (or, with `erase`, eraser) stroke on the mask; see `EdgeLayer.begin_stroke`."""
        super().begin_stroke(width=width, erase=erase, hardness=hardness)
        self._stroke.edit.label = "Erase mask" if erase else "Paint mask"

    @property
    def default_width(self) -> int:
        return max(1, round(min(self.width, self.height) / 16))  # masks are painted with a broad brush

    @property
    def is_empty(self) -> bool:
        return not bool((self.data > 127).any())

    def clear(self) -> None:
        self.replace_data(np.zeros_like(self.data), "Clear mask")

    def invert(self) -> None:
        self.replace_data(255 - self.data, "Invert mask")

    def fill_all(self) -> None:
        self.replace_data(np.full_like(self.data, MASK_ON), "Fill mask")

    def fill_region(self, x: float, y: float, *, image: np.ndarray | None = None, tolerance: int = 0,
                    erase: bool = False) -> None:
        """Flood-fill from (x, y): the connected area of similar colour in `image` (e.g. the reference picture,
        HxWx3 uint8 of the document size), else of similar mask value; `tolerance` 0..255 per channel."""
        if not (math.isfinite(x) and math.isfinite(y)) or not (0 <= x < self.width and 0 <= y < self.height):
            raise DocumentError(f"The fill point ({x}, {y}) is outside the {self.width}x{self.height} canvas.")
        if not 0 <= tolerance <= 255:
            raise DocumentError(f"Fill tolerance must be 0 to 255, not {tolerance}.")
        source = self.data if image is None else np.asarray(image)
        if source.shape[:2] != self.data.shape:
            raise DocumentError("The fill picture must have the document's size.")
        source = np.ascontiguousarray(source.astype(np.uint8))
        region = np.zeros((self.height + 2, self.width + 2), np.uint8)
        flags = 4 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (255 << 8)
        diff = (tolerance,) * 3
        cv2.floodFill(source.copy(), region, (int(x), int(y)), 0, diff, diff, flags)
        filled = region[1:-1, 1:-1] > 0
        values = self.data.copy()
        values[filled] = 0 if erase else MASK_ON
        self.replace_data(values, "Erase mask area" if erase else "Fill mask area")

    def grow(self, pixels: int) -> None:
        """Grow (positive) or shrink (negative) the mask by `pixels`."""
        if not isinstance(pixels, int) or abs(pixels) > MAX_RADIUS:
            raise DocumentError(f"Grow the mask by a whole number of pixels up to {MAX_RADIUS}, not {pixels!r}.")
        if pixels == 0:
            return
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(pixels) + 1, 2 * abs(pixels) + 1))
        op = cv2.dilate if pixels > 0 else cv2.erode
        self.replace_data(op(self.data, kernel), "Grow mask" if pixels > 0 else "Shrink mask")

    def feather(self, radius: float) -> None:
        """Soften the mask edge with a Gaussian blur of `radius` pixels (the engine's paste-back feathers
        separately; this changes which pixels count as masked)."""
        if not (isinstance(radius, (int, float)) and math.isfinite(radius) and 0 < radius <= MAX_RADIUS):
            raise DocumentError(f"Feather radius must be above 0 and at most {MAX_RADIUS}, not {radius!r}.")
        blurred = cv2.GaussianBlur(self.data, (0, 0), sigmaX=float(radius) / 2)
        self.replace_data(blurred, "Feather mask")

    def set_mask(self, mask: np.ndarray, *, label: str = "Set mask") -> None:
        """Replace the mask with a uint8 HxW array of the document size (white = repaint)."""
        self.set_edges(mask, label=label)

    def request_mask(self) -> np.ndarray:
        """The mask as `GenerationRequest.mask` takes it (HxWx3 uint8, document size)."""
        return np.repeat(self.data[:, :, None], 3, axis=2)

    def control_image(self, width: int, height: int) -> np.ndarray:
        raise DocumentError("The mask is not a control map; use request_mask() for inpainting.")
