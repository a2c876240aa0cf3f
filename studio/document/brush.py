"""Round brush geometry shared by raster tools: dab placement along a path, dab falloff weights, and the
coverage of a brush swept along a segment while its radius changes (pen pressure)."""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from studio.document.errors import DocumentError
from studio.document.events import Region


def check_pressure(pressure: float) -> float:
    """Validate a pen pressure (0..1; 1 is a mouse or a full press)."""
    try:
        pressure = float(pressure)
    except (TypeError, ValueError) as exc:
        raise DocumentError(f"Pen pressure must be a number between 0 and 1, not {pressure!r}.") from exc
    if not math.isfinite(pressure) or not 0.0 <= pressure <= 1.0:
        raise DocumentError(f"Pen pressure must be between 0 and 1, not {pressure}.")
    return pressure


def dab_positions(start: tuple[float, ...], end: tuple[float, ...], spacing: float) -> list[tuple[float, ...]]:
    """Points from `start` (exclusive) to `end` (inclusive) at most `spacing` apart in (x, y); coordinates
    after x and y (e.g. a radius) are interpolated along."""
    steps = max(1, math.ceil(math.hypot(end[0] - start[0], end[1] - start[1]) / spacing))
    return [tuple(a + (b - a) * i / steps for a, b in zip(start, end)) for i in range(1, steps + 1)]


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


#: Where swept_coverage samples a pixel: its centre moved 1/1024 px up and left, so that a boundary through
#: pixel centres takes one side only (a hard stroke of whole width w along a row covers exactly w rows).
SAMPLE_OFFSET = 0.5 - 1.0 / 1024


def swept_coverage(
    start: tuple[float, float], end: tuple[float, float], *, radii: tuple[float, float], hardness: float, region: Region
) -> np.ndarray:
    """Coverage in [0, 1] over `region` of a round brush swept from `start` to `end` while its radius changes
    linearly from radii[0] to radii[1] (radii > 0; pixel (i, j) spans [i, i + 1) x [j, j + 1)).

    With c(t) and r(t) the linearly interpolated centre and radius, a pixel p lies at normalised distance
    u = min over t in [0, 1] of |p - c(t)| / r(t); the swept shape (the convex hull of the two end discs) is
    u <= 1. Setting the derivative of |p - c(t)|^2 / r(t)^2 to zero leaves an equation linear in t; its root,
    clipped to [0, 1], and the two ends are the only candidates for the minimum.

    hardness 1 gives binary coverage: pixels sampled inside the shape, plus the pixels under `start` and
    `end` (so thin strokes and dots never vanish between pixel centres). Below 1 the coverage falls by
    smoothstep from 1 at distance hardness * r to 0 at r, over at least one pixel (anti-aliasing)."""
    x0, y0, x1, y1 = region
    r0, r1 = np.float32(radii[0]), np.float32(radii[1])
    px = np.arange(x0, x1, dtype=np.float32)[None, :] + np.float32(SAMPLE_OFFSET - start[0])
    py = np.arange(y0, y1, dtype=np.float32)[:, None] + np.float32(SAMPLE_OFFSET - start[1])
    dx, dy = np.float32(end[0] - start[0]), np.float32(end[1] - start[1])
    dd, dr = dx * dx + dy * dy, r1 - r0
    if dd <= 1e-12:  # a dot
        radius = max(r0, r1)
        u2 = (px * px + py * py) / (radius * radius)
    else:
        pd = px * dx + py * dy
        if dr == 0:  # a capsule: the nearest centre is the projection onto the segment
            t = np.clip(pd / dd, 0.0, 1.0)
        else:
            pp = px * px + py * py
            den = pd * dr + dd * r0
            t = np.clip((pp * dr + pd * r0) / np.where(den != 0, den, np.float32(1.0)), 0.0, 1.0)
        radius = r0 + t * dr
        qx, qy = px - t * dx, py - t * dy
        u2 = (qx * qx + qy * qy) / (radius * radius)
        if dr != 0:
            ex, ey = px - dx, py - dy
            for end_u2, end_radius in ((pp / (r0 * r0), r0), ((ex * ex + ey * ey) / (r1 * r1), r1)):
                closer = end_u2 < u2
                u2 = np.where(closer, end_u2, u2)
                radius = np.where(closer, end_radius, radius)
    if hardness >= 1.0:
        coverage = (u2 <= 1.0).astype(np.float32)
        for x, y in (start, end):
            cx, cy = math.floor(x) - x0, math.floor(y) - y0
            if 0 <= cx < x1 - x0 and 0 <= cy < y1 - y0:
                coverage[cy, cx] = 1.0
        return coverage
    band = np.maximum(radius * np.float32(1.0 - hardness), np.float32(1.0))
    outer = radius * np.float32((1.0 + hardness) / 2) + band / 2
    s = np.clip((outer - np.sqrt(u2) * radius) / band, 0.0, 1.0)
    return s * s * (3.0 - 2.0 * s)


class DabKernel:
    """The weights of one dab (see `dab_kernel`); dabs are placed on whole pixels."""

    def __init__(self, radius: float, hardness: float) -> None:
        self.radius = radius
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


def dab_kernel(radius: float, hardness: float) -> DabKernel:
    """The kernel of a dab, its radius rounded to 1/4 px below 16 px and to whole pixels above; the last few
    are cached, as pen pressure changes the radius from dab to dab."""
    return _cached_kernel(round(radius * 4) / 4 if radius < 16 else float(round(radius)), hardness)


@functools.lru_cache(maxsize=8)
def _cached_kernel(radius: float, hardness: float) -> DabKernel:
    return DabKernel(radius, hardness)


def smooth_patch(patch: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of a float32 patch; wide blurs run on a reduced copy (cost stays about constant)."""
    factor = max(1, int(sigma // 4))
    if factor == 1:
        return cv2.GaussianBlur(patch, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    h, w = patch.shape
    small = cv2.resize(patch, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor, borderType=cv2.BORDER_REFLECT)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
