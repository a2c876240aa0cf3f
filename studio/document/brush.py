"""Soft round brush geometry shared by raster tools: dab placement along a path and falloff weights."""

from __future__ import annotations

import math

import numpy as np

from studio.document.events import Region


def dab_positions(start: tuple[float, float], end: tuple[float, float], spacing: float) -> list[tuple[float, float]]:
    """Points from `start` (exclusive) to `end` (inclusive) at most `spacing` apart."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    steps = max(1, math.ceil(math.hypot(dx, dy) / spacing))
    return [(start[0] + dx * i / steps, start[1] + dy * i / steps) for i in range(1, steps + 1)]


def dab_region(x: float, y: float, radius: float) -> Region:
    """Bounding box (end-exclusive, unclipped) of a dab of `radius` centred at (x, y)."""
    return (math.floor(x - radius), math.floor(y - radius), math.ceil(x + radius) + 1, math.ceil(y + radius) + 1)


def dab_weights(x: float, y: float, radius: float, hardness: float, region: Region) -> np.ndarray:
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
