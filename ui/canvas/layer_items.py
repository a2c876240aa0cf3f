"""The canvas items of one document, kept in step with the core's change events."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QGraphicsItem

from studio.document import ChangeEvent, Document
from studio.document.events import PIXELS, POSE, PROPERTY
from ui.canvas.pose_item import PoseItem
from ui.canvas.raster_item import RasterItem, opaque_rgb, tinted_alpha

#: Display order, bottom to top: depth sits under the edges so strokes stay visible over a bright depth map;
#: the inpaint mask lies over everything as a translucent tint.
DISPLAY_ORDER = ("reference", "depth", "edge", "pose", "mask")
EDGE_COLOR = (255, 255, 255)
DEPTH_COLOR = (120, 170, 255)
MASK_COLOR = (255, 70, 110)
MASK_ALPHA = 0.55  # a fully masked pixel is tinted this much, so the picture under the mask stays visible

_edge_colors = tinted_alpha(EDGE_COLOR)
_depth_colors = tinted_alpha(DEPTH_COLOR)
_mask_colors = tinted_alpha(MASK_COLOR, alpha=MASK_ALPHA)


def _depth_to_colors(values: np.ndarray) -> np.ndarray:
    return _depth_colors(np.rint(values * 255.0).astype(np.uint8))


class LayerItems:
    """One item per layer: reference, edge/depth and mask rasters (dirty-region refresh) and the pose drawing."""

    def __init__(self, document: Document) -> None:
        self.document = document
        size = {"width": document.width, "height": document.height}
        self.by_layer: dict[str, QGraphicsItem] = {
            "reference": RasterItem(source=lambda: document.reference.image, colorize=opaque_rgb, **size),
            "depth": RasterItem(source=lambda: document.depth.data, colorize=_depth_to_colors, **size),
            "edge": RasterItem(source=lambda: document.edge.data, colorize=_edge_colors, **size),
            "pose": PoseItem(document.pose),
            "mask": RasterItem(source=lambda: document.mask.data, colorize=_mask_colors, **size),
        }
        for z, name in enumerate(DISPLAY_ORDER):
            item = self.by_layer[name]
            item.setZValue(z)
            self._apply_properties(name)

    def all(self) -> list[QGraphicsItem]:
        return [self.by_layer[name] for name in DISPLAY_ORDER]

    @property
    def pose(self) -> PoseItem:
        return self.by_layer["pose"]

    def apply(self, event: ChangeEvent) -> None:
        """Bring the item of `event.layer` up to date (only the changed region for pixels)."""
        item = self.by_layer.get(event.layer)
        if item is None:
            return
        if event.kind == PIXELS and isinstance(item, RasterItem):
            item.refresh(event.region)
        elif event.kind == POSE and isinstance(item, PoseItem):
            item.refresh()
        elif event.kind == PROPERTY:
            self._apply_properties(event.layer)

    def _apply_properties(self, name: str) -> None:
        layer = self.document.layer(name)
        item = self.by_layer[name]
        item.setVisible(layer.visible)
        item.setOpacity(layer.opacity)
