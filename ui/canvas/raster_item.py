"""Canvas items that show a raster layer of the core through a QImage wrapping a numpy buffer.

The item keeps a premultiplied ARGB32 display buffer the size of the document. A pixels event from the core
recolours only its region of that buffer and asks Qt to repaint only that region (`update(rect)`), so a brush
dab on a 2048 x 2048 document costs a few thousand pixels, not four million.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

Region = tuple[int, int, int, int]
Colorize = Callable[[np.ndarray], np.ndarray]  # layer values (h, w[, c]) -> premultiplied ARGB32 (h, w) uint32


def tinted_alpha(color: tuple[int, int, int], *, alpha: float = 1.0) -> Colorize:
    """Colourizer for a one-channel uint8 map: value v becomes `color` with alpha v * `alpha` (transparent at 0).

    Over black this shows `color * v / 255`, the map itself; over a reference image it brightens like a light.
    An `alpha` below 1 keeps even full values translucent (the mask overlay).
    """
    red, green, blue = (np.uint32(c) for c in color)
    scale = np.uint32(round(max(0.0, min(1.0, alpha)) * 256))

    def colorize(values: np.ndarray) -> np.ndarray:
        v = values.astype(np.uint32)
        if scale != 256:
            v = (v * scale) >> 8
        return (v << 24) | (((v * red) // 255) << 16) | (((v * green) // 255) << 8) | ((v * blue) // 255)

    return colorize


def opaque_rgb(values: np.ndarray) -> np.ndarray:
    """Colourizer for an HxWx3 uint8 RGB image: fully opaque pixels."""
    v = values.astype(np.uint32)
    return np.uint32(0xFF000000) | (v[..., 0] << 16) | (v[..., 1] << 8) | v[..., 2]


class RasterItem(QGraphicsItem):
    """Shows `source()` (an array the size of the document) coloured by `colorize`."""

    def __init__(self, *, source: Callable[[], np.ndarray], colorize: Colorize, width: int, height: int) -> None:
        super().__init__()
        self._source = source
        self._colorize = colorize
        self._width, self._height = width, height
        self._buffer = np.zeros((height, width), dtype=np.uint32)
        # The QImage reads the numpy buffer directly; the buffer must outlive it (it is an attribute).
        self._image = QImage(self._buffer.data, width, height, width * 4, QImage.Format.Format_ARGB32_Premultiplied)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self.refresh(None)

    @property
    def image(self) -> QImage:
        return self._image

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self._width, self._height)

    def refresh(self, region: Region | None) -> None:
        """Recolour `region` (x0, y0, x1, y1; None = all) from the source and schedule its repaint."""
        x0, y0, x1, y1 = region if region is not None else (0, 0, self._width, self._height)
        x0, y0 = max(0, x0), max(0, y0)
        x1, y1 = min(self._width, x1), min(self._height, y1)
        if x0 >= x1 or y0 >= y1:
            return
        data = self._source()
        if data is None:
            self._buffer[y0:y1, x0:x1] = 0
        else:
            self._buffer[y0:y1, x0:x1] = self._colorize(data[y0:y1, x0:x1])
        self.update(QRectF(x0, y0, x1 - x0, y1 - y0))

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        exposed = option.exposedRect.intersected(self.boundingRect()).toAlignedRect()
        if exposed.isEmpty():
            return
        painter.drawImage(exposed, self._image, exposed)
