"""Depth layer: a float32 map in [0, 1], near = bright, the input of depth ControlNets."""

from __future__ import annotations

import math

import cv2
import numpy as np

from studio.document.brush import DabKernel, check_pressure, dab_kernel, dab_positions, smooth_patch
from studio.document.errors import DocumentError
from studio.document.events import Region
from studio.document.raster import RasterEdit, RasterLayer, clip_region

DEPTH_MODES = ("set", "raise", "lower", "smooth")
MIN_RADIUS = 0.5  # light pen pressure never makes a dab smaller than this (pixels)


def _check_unit(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise DocumentError(f"{name} must be between 0 and 1, not {value}.")
    return value


class _DepthStroke:
    """A depth brush stroke in progress.

    set/raise/lower act like a brush with "opacity": the stroke's coverage is the maximum of its dab
    weights, and each pixel becomes f(depth before the stroke, coverage), so overlapping dabs of one
    stroke do not pile up. smooth blends each dab towards a Gaussian blur of the current depth. Pen
    pressure scales each dab's radius.
    """

    def __init__(self, edit: RasterEdit, *, mode: str, radius: float, hardness: float, strength: float, value: float):
        self.edit = edit
        self.mode = mode
        self.radius = radius
        self.hardness = hardness
        self.strength = strength
        self.value = value
        self.last: tuple[float, float, float] | None = None  # x, y, dab radius
        self.kernel = DabKernel(radius, hardness)  # full pressure; lighter dabs use `dab_kernel`
        self.coverage = edit.layer.stroke_coverage() if mode != "smooth" else None

    def add_point(self, x: float, y: float, pressure: float):
        radius = max(MIN_RADIUS, self.radius * pressure)
        if self.last is None:
            dabs = [(x, y, radius)]
        else:
            dabs = dab_positions(self.last, (x, y, radius), max(1.0, min(self.last[2], radius) * 0.25))
        self.last = (x, y, radius)
        touched = None
        for px, py, pr in dabs:
            region = self._dab(px, py, pr)
            if region is not None:
                touched = region if touched is None else (
                    min(touched[0], region[0]), min(touched[1], region[1]),
                    max(touched[2], region[2]), max(touched[3], region[3]))
        return touched

    def _dab(self, x: float, y: float, radius: float):
        layer = self.edit.layer
        kernel = self.kernel if radius == self.radius else dab_kernel(radius, self.hardness)
        full, _, _ = kernel.place(x, y)
        region = self.edit.touch(full)
        if region is None:
            return None
        x0, y0, x1, y1 = region
        weights = kernel.clipped_weights(full, region) * self.strength
        view = layer.data[y0:y1, x0:x1]
        if self.mode == "smooth":
            sigma = max(0.5, kernel.radius / 4.0)
            pad = math.ceil(2 * sigma)
            ox0, oy0, ox1, oy1 = clip_region((x0 - pad, y0 - pad, x1 + pad, y1 + pad), layer.width, layer.height)
            blurred = smooth_patch(layer.data[oy0:oy1, ox0:ox1], sigma)
            blurred = blurred[y0 - oy0 : y1 - oy0, x0 - ox0 : x1 - ox0]
            view += (blurred - view) * weights
            return region
        cover = self.coverage[y0:y1, x0:x1]
        np.maximum(cover, weights, out=cover)
        before = self.edit.original(region)
        if self.mode == "set":
            result = before + (self.value - before) * cover
        elif self.mode == "raise":
            result = before + cover
        else:
            result = before - cover
        np.clip(result, 0.0, 1.0, out=view)
        return region

    def finish(self) -> None:
        """Reset the part of the shared coverage buffer this stroke used, then record the undo step."""
        if self.coverage is not None and self.edit.region is not None:
            x0, y0, x1, y1 = self.edit.region
            self.coverage[y0:y1, x0:x1] = 0.0
        self.edit.finish()


class DepthLayer(RasterLayer):
    """float32 depth in [0, 1] (1 = nearest). Edits: brush (set, raise, lower, smooth) with soft falloff and
    pen pressure, linear and radial gradients, fill (all or a connected region), blur, and replacing the
    map (import or estimation)."""

    name = "depth"
    dtype = np.float32

    def __init__(self, context) -> None:
        super().__init__(context)
        self._stroke: _DepthStroke | None = None
        self._coverage: np.ndarray | None = None

    def stroke_coverage(self) -> np.ndarray:
        """A zeroed float32 buffer of the layer size, reused by strokes (each zeroes what it used)."""
        if self._coverage is None:
            self._coverage = np.zeros(self.data.shape, dtype=np.float32)
        return self._coverage

    @property
    def default_radius(self) -> float:
        """Default brush radius: 24 px at 512 px on the short side."""
        return max(1.0, 24.0 * min(self.width, self.height) / 512.0)

    # -- brush -----------------------------------------------------------------------------------
    @property
    def stroke_active(self) -> bool:
        return self._stroke is not None

    def begin_stroke(
        self,
        *,
        mode: str = "set",
        radius: float | None = None,
        hardness: float = 0.5,
        strength: float = 1.0,
        value: float = 1.0,
    ) -> None:
        """Start a brush stroke (one undo step).

        mode: "set" (towards `value`), "raise"/"lower" (by up to `strength`), "smooth" (blur under the brush).
        radius in pixels; hardness: fraction of the radius at full weight; strength in [0, 1].
        """
        if self._stroke is not None:
            self.end_stroke()
        if mode not in DEPTH_MODES:
            raise DocumentError(f"Unknown depth brush mode {mode!r}; use one of {', '.join(DEPTH_MODES)}.")
        radius = self.default_radius if radius is None else float(radius)
        if not math.isfinite(radius) or not 0.5 <= radius <= 4096:
            raise DocumentError(f"Brush radius must be between 0.5 and 4096 pixels, not {radius}.")
        hardness = _check_unit("Brush hardness", hardness)
        strength = _check_unit("Brush strength", strength)
        value = _check_unit("Depth value", value)
        edit = self.begin_edit(f"Depth brush ({mode})")
        self._stroke = _DepthStroke(edit, mode=mode, radius=radius, hardness=hardness, strength=strength, value=value)
        self.history.register_open_edit(self.end_stroke)

    def add_point(self, x: float, y: float, *, pressure: float = 1.0) -> None:
        """Extend the stroke to (x, y), where the brush radius is `pressure` (0..1) times the stroke radius
        (at least 0.5 px), changing linearly from the previous point. Emits a pixels event for the touched
        rectangle only."""
        if self._stroke is None:
            raise DocumentError("add_point() needs begin_stroke() first.")
        if not (math.isfinite(x) and math.isfinite(y)):
            raise DocumentError("Stroke points must be finite numbers.")
        region = self._stroke.add_point(float(x), float(y), check_pressure(pressure))
        if region is not None:
            self.emit_pixels(region)

    def end_stroke(self) -> None:
        """Finish the stroke; it becomes one undo step."""
        stroke, self._stroke = self._stroke, None
        if stroke is None:
            return
        self.history.unregister_open_edit(self.end_stroke)
        stroke.finish()

    def stroke(self, points, **brush) -> None:
        """Paint a whole polyline as one stroke (keyword arguments as in begin_stroke). Points are (x, y) or
        (x, y, pressure)."""
        self.begin_stroke(**brush)
        try:
            for point in points:
                x, y, *pressure = point
                self.add_point(x, y, pressure=pressure[0] if pressure else 1.0)
        finally:
            self.end_stroke()

    # -- whole-layer operations ------------------------------------------------------------------
    def fill(self, value: float) -> None:
        """Set every pixel to `value`."""
        value = _check_unit("Depth value", value)
        self.replace_data(np.full(self.data.shape, value, dtype=np.float32), "Fill depth")

    def fill_region(self, x: float, y: float, *, value: float, tolerance: float = 0.0) -> Region | None:
        """Set `value` on the 4-connected region around the pixel under (x, y) whose depth lies within
        `tolerance` of that pixel's depth (OpenCV flood fill with a fixed range). One undo step that holds
        only the tiles under the region; returns the region's bounding box, or None (and no undo step)
        when no pixel changes."""
        value = _check_unit("Depth value", value)
        tolerance = _check_unit("Fill tolerance", tolerance)
        if not (math.isfinite(x) and math.isfinite(y)):
            raise DocumentError("The fill point must be finite numbers.")
        px, py = math.floor(x), math.floor(y)
        if not (0 <= px < self.width and 0 <= py < self.height):
            raise DocumentError(f"The fill point ({x:g}, {y:g}) is outside the {self.width}x{self.height} document.")
        self.check_editable()
        self.history.finish_open_edits()  # a stroke in progress becomes its own, earlier step
        mask = np.zeros((self.height + 2, self.width + 2), np.uint8)
        flags = 4 | cv2.FLOODFILL_FIXED_RANGE | cv2.FLOODFILL_MASK_ONLY | (1 << 8)
        _, _, _, (rx, ry, rw, rh) = cv2.floodFill(
            self.data, mask, (px, py), 0.0, loDiff=tolerance, upDiff=tolerance, flags=flags
        )
        region = (rx, ry, rx + rw, ry + rh)
        inside = mask[ry + 1 : ry + rh + 1, rx + 1 : rx + rw + 1].view(bool)
        view = self.data[ry : ry + rh, rx : rx + rw]
        target = np.float32(value)
        if (view[inside] == target).all():
            return None
        edit = self.begin_edit("Fill depth region")
        edit.touch(region)
        view[inside] = target
        edit.finish()
        self.emit_pixels(region)
        return region

    def linear_gradient(self, start, end, *, start_value: float = 1.0, end_value: float = 0.0) -> None:
        """Linear ramp from `start_value` at point `start` to `end_value` at `end` (constant beyond)."""
        start_value = _check_unit("Gradient start value", start_value)
        end_value = _check_unit("Gradient end value", end_value)
        (sx, sy), (ex, ey) = start, end
        dx, dy = float(ex - sx), float(ey - sy)
        length2 = dx * dx + dy * dy
        if not math.isfinite(length2) or length2 < 1e-12:
            raise DocumentError("A linear gradient needs two different points.")
        xs, ys = self._pixel_centres()
        t = np.clip(((xs - sx) * dx + (ys - sy) * dy) / length2, 0.0, 1.0)
        self.replace_data(start_value + (end_value - start_value) * t, "Linear depth gradient")

    def radial_gradient(self, center, radius: float, *, center_value: float = 1.0, edge_value: float = 0.0) -> None:
        """Radial ramp from `center_value` at `center` to `edge_value` at distance `radius` (constant beyond)."""
        center_value = _check_unit("Gradient centre value", center_value)
        edge_value = _check_unit("Gradient edge value", edge_value)
        radius = float(radius)
        if not math.isfinite(radius) or radius <= 0:
            raise DocumentError("A radial gradient needs a positive radius.")
        xs, ys = self._pixel_centres()
        t = np.clip(np.sqrt((xs - center[0]) ** 2 + (ys - center[1]) ** 2) / radius, 0.0, 1.0)
        self.replace_data(center_value + (edge_value - center_value) * t, "Radial depth gradient")

    def blur(self, sigma: float) -> None:
        """Gaussian blur of the whole map (sigma in pixels)."""
        sigma = float(sigma)
        if not math.isfinite(sigma) or not 0 < sigma <= 1000:
            raise DocumentError(f"Blur sigma must be between 0 and 1000 pixels, not {sigma}.")
        blurred = cv2.GaussianBlur(self.data, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
        self.replace_data(blurred, "Blur depth")

    def set_depth(self, depth: np.ndarray, *, label: str = "Set depth") -> None:
        """Replace the map with an HxW array of the document size; values are clipped to [0, 1]."""
        depth = np.asarray(depth, dtype=np.float32)
        if not np.all(np.isfinite(depth)):
            raise DocumentError("Depth values must be finite numbers.")
        self.replace_data(np.clip(depth, 0.0, 1.0), label)

    def _pixel_centres(self) -> tuple[np.ndarray, np.ndarray]:
        xs = np.arange(self.width, dtype=np.float32)[None, :] + 0.5
        ys = np.arange(self.height, dtype=np.float32)[:, None] + 0.5
        return xs, ys

    # -- output ----------------------------------------------------------------------------------
    def resized(self, width: int, height: int) -> np.ndarray:
        """The float map resized to (width, height) (area when shrinking, linear when growing)."""
        if (width, height) == (self.width, self.height):
            return self.data
        shrink = width < self.width or height < self.height
        return cv2.resize(self.data, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)

    def to_uint8(self, width: int | None = None, height: int | None = None) -> np.ndarray:
        """8-bit map (round(d * 255))."""
        data = self.resized(width or self.width, height or self.height)
        return np.rint(np.clip(data, 0.0, 1.0) * 255.0).astype(np.uint8)

    def to_uint16(self) -> np.ndarray:
        """16-bit map at document size (round(d * 65535))."""
        return np.rint(np.clip(self.data, 0.0, 1.0) * 65535.0).astype(np.uint16)

    def control_image(self, width: int, height: int) -> np.ndarray:
        """The ControlNet input: grey depth (near = bright), HxWx3 uint8."""
        return np.repeat(self.to_uint8(width, height)[:, :, None], 3, axis=2)
