"""Conversions between numpy image arrays and Qt images (no copies where Qt allows)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPixmap


def rgb_to_qimage(array: np.ndarray) -> QImage:
    """An owned QImage copy of an HxWx3 uint8 RGB array."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    height, width = array.shape[:2]
    image = QImage(array.data, width, height, width * 3, QImage.Format.Format_RGB888)
    return image.copy()  # detach from the numpy buffer, which may be freed


def rgb_to_pixmap(array: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(rgb_to_qimage(array))


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """An HxWx3 uint8 RGB copy of any QImage."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    buffer = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.bytesPerLine() * height)
    return buffer.reshape(height, image.bytesPerLine())[:, : width * 3].reshape(height, width, 3).copy()
