"""Soft round brush geometry shared by raster tools: dab placement along a path and falloff weights."""

from __future__ import annotations

import math

import cv2
import numpy as np

from studio.document.events import Region


def dab_positions(start: tuple[float, float], end: tuple[float, float], spacing: float) -> list[tuple[float, float]]:
    """Points from `start` (exclusive) to `end` (inclusive) at most `spacing` apart."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    steps = max(1, math.ceil(math.hypot(dx, dy) / spacing))
    return [(start[0] + dx * i / steps, start[1] + dy * i / steps) for i in range(1, steps + 1)]


def dab_weights(x: float, y: float, *, radius: float, hardness: float, region: Region) -> np.ndarray:
    """Weights in [0, 1] over `region` for a dab at (x, y): 1 inside hardness*radius, then a smoothstep
    falloff to 0 at `radius` (pixel centres are at integer + 0.5)."""
    x0, y0, x1, y1 = region
    xs = np.arange(x0, x1, dtype=np.float32) + np.float32(0.5 - x)
    ys = np.arange(y0, y1, dtype=np.float32) + np.float32(0.5 - y)
    dist = np.sqrt(xs[None, :] ** 2 + ys[:, None] ** 2)
    inner = radius * hardness
    if radius - inner < 1e-6:
        return (dist <= radius).astype(np.float32)
    t = np.clip((radius - dist) / np.float32(radius - inner), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


class DabKernel:
    """The weights of one dab, computed once per stroke; dabs are placed on whole pixels."""

    def __init__(self, radius: float, hardness: float) -> None:
        self.reach = math.ceil(radius)
        size = 2 * self.reach + 1
        self.weights = dab_weights(self.reach + 0.5, self.reach + 0.5, radius=radius, hardness=hardness, region=(0, 0, size, size))

    def place(self, x: float, y: float) -> tuple[Region, int, int]:
        """Unclipped region of a dab centred on the pixel under (x, y), and that pixel."""
        cx, cy = math.floor(x), math.floor(y)
        return (cx - self.reach, cy - self.reach, cx + self.reach + 1, cy + self.reach + 1), cx, cy

    def clipped_weights(self, region: Region, clipped: Region) -> np.ndarray:
        """The part of the kernel that lies inside `clipped` (a clipped version of `region`)."""
        return self.weights[clipped[1] - region[1] : clipped[3] - region[1], clipped[0] - region[0] : clipped[2] - region[0]]


def smooth_patch(patch: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of a float32 patch; wide blurs run on a reduced copy (cost stays about constant)."""
    factor = max(1, int(sigma // 4))
    if factor == 1:
        return cv2.GaussianBlur(patch, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    h, w = patch.shape
    small = cv2.resize(patch, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor, borderType=cv2.BORDER_REFLECT)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
