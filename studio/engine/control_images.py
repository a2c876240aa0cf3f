"""Fitting control maps and refine images to the output size with OpenCV.

- "just_resize": stretch to the output size (aspect ratio may change).
- "crop_and_resize": scale to cover the output, then crop the overflow equally on both sides.
- "resize_and_fill": scale to fit inside the output, then pad with black (black means "no edge" for edge maps and
  "far away" for depth maps, so padding adds no structure).
Shrinking uses area averaging (keeps thin lines visible); enlarging uses bilinear interpolation.
"""

from __future__ import annotations

import cv2
import numpy as np

from studio.engine.errors import RequestError


def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    if image.shape[1] == width and image.shape[0] == height:
        return image
    shrinking = width * height < image.shape[0] * image.shape[1]
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def fit_image(image: np.ndarray, *, width: int, height: int, mode: str) -> np.ndarray:
    """Return an HxWx3 uint8 array of exactly height x width made from `image` with resize `mode`."""
    src_h, src_w = image.shape[:2]
    if mode == "just_resize":
        return _resize(image, width, height)
    if mode == "crop_and_resize":
        scale = max(width / src_w, height / src_h)
        new_w, new_h = max(width, round(src_w * scale)), max(height, round(src_h * scale))
        scaled = _resize(image, new_w, new_h)
        left, top = (new_w - width) // 2, (new_h - height) // 2
        return np.ascontiguousarray(scaled[top:top + height, left:left + width])
    if mode == "resize_and_fill":
        scale = min(width / src_w, height / src_h)
        new_w, new_h = min(width, max(1, round(src_w * scale))), min(height, max(1, round(src_h * scale)))
        canvas = np.zeros((height, width, 3), dtype=np.uint8)
        left, top = (width - new_w) // 2, (height - new_h) // 2
        canvas[top:top + new_h, left:left + new_w] = _resize(image, new_w, new_h)
        return canvas
    raise RequestError(f"Unknown resize mode {mode!r}.")


def read_rgb_image(path: str) -> np.ndarray:
    """Read an image file as an HxWx3 uint8 RGB array through the limited reader (`studio.imageio`: pixel,
    byte, ratio and metadata limits); `RequestError` if it is missing, unreadable or too large."""
    from studio.imageio import ImageLoadError, open_image

    try:
        image = open_image(path)
        return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()
    except (ImageLoadError, OSError, ValueError) as exc:
        raise RequestError(f"Cannot read the image {path}: {exc}") from exc
