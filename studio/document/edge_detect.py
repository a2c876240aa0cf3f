"""Edge maps from a picture, white on black like ControlNet's canny and scribble inputs.

- canny: OpenCV Canny on the RGB image (as the ControlNet 1.1 canny annotator calls it): cv2.Canny(image,
  low, high) with a 3x3 Sobel aperture and the L1 gradient norm.
- scribble: a HED-free soft extraction by difference of Gaussians (the idea behind ControlNet 1.1's
  "xdog" scribble preprocessor): blur the image with a fine and a coarse Gaussian, take per pixel the
  smallest over the channels of (coarse - fine), which is large where a thin dark line sits on a lighter
  surround; pixels above `threshold` become white; then the lines are thickened by dilating with an
  elliptical kernel of `thickness` pixels radius (0 keeps them as found), giving scribble-like strokes.
Both are exactly the OpenCV calls named here, so their output can be checked against OpenCV directly.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from studio.document.errors import DocumentError

EDGE_METHODS = ("canny", "scribble")


def _check_rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise DocumentError(f"Edge extraction needs an HxWx3 uint8 RGB image, not {image.dtype} {image.shape}.")
    return image


def canny_edges(image: np.ndarray, *, low: float = 100, high: float = 200) -> np.ndarray:
    """HxW uint8 Canny edges (255 on 0) of an RGB image; thresholds on the gradient magnitude."""
    image = _check_rgb(image)
    low, high = float(low), float(high)
    if not (math.isfinite(low) and math.isfinite(high)) or not 0 <= low <= high:
        raise DocumentError(f"Canny thresholds need 0 <= low <= high, not low={low:g}, high={high:g}.")
    return cv2.Canny(image, low, high)


def scribble_edges(
    image: np.ndarray,
    *,
    threshold: float = 16.0,
    fine_sigma: float = 0.5,
    coarse_sigma: float = 5.0,
    thickness: int = 1,
) -> np.ndarray:
    """HxW uint8 scribble lines (255 on 0) of an RGB image by difference of Gaussians (see module doc)."""
    image = _check_rgb(image)
    values = (float(threshold), float(fine_sigma), float(coarse_sigma))
    if not all(math.isfinite(v) for v in values) or not 0 < fine_sigma < coarse_sigma or threshold < 0:
        raise DocumentError("Scribble extraction needs 0 < fine_sigma < coarse_sigma and threshold >= 0.")
    if not 0 <= int(thickness) <= 64:
        raise DocumentError(f"Scribble thickness must be 0-64 pixels, not {thickness}.")
    pixels = image.astype(np.float32)
    fine = cv2.GaussianBlur(pixels, (0, 0), fine_sigma)
    coarse = cv2.GaussianBlur(pixels, (0, 0), coarse_sigma)
    darkness = np.min(coarse - fine, axis=2)
    lines = np.where(darkness > threshold, 255, 0).astype(np.uint8)
    if thickness > 0:
        size = 2 * int(thickness) + 1
        lines = cv2.dilate(lines, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    return lines


def detect_edges(image: np.ndarray, method: str, **params) -> np.ndarray:
    """Dispatch to `canny_edges` or `scribble_edges` by name."""
    if method == "canny":
        return canny_edges(image, **params)
    if method == "scribble":
        return scribble_edges(image, **params)
    raise DocumentError(f"Unknown edge method {method!r}; use one of {', '.join(EDGE_METHODS)}.")
