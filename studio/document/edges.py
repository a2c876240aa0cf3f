"""Edge layer: a uint8 raster of white strokes on black, the input of scribble/canny/lineart ControlNets."""

from __future__ import annotations

import math

import cv2
import numpy as np

from studio.document.brush import check_pressure, swept_coverage
from studio.document.errors import DocumentError
from studio.document.raster import RasterEdit, RasterLayer

EDGE_ON = 255
MIN_STROKE_WIDTH = 1.0  # light pen pressure never makes a stroke thinner than this (pixels)
MAX_STROKE_WIDTH = 1024.0


def brush_scale(width: int, height: int) -> float:
    """How much brush sizes grow with the document: 1.0 at 512 px on the short side."""
    return min(width, height) / 512.0


def default_edge_width(width: int, height: int) -> int:
    """Default stroke width: 4 px at 512 px (scribble models were trained on 1-24 px strokes at 512)."""
    return max(1, round(4 * brush_scale(width, height)))


def edge_width_range(width: int, height: int) -> tuple[int, int]:
    """The sensible stroke-width range for this document size (1-24 px at 512 px, scaled)."""
    scale = brush_scale(width, height)
    return max(1, round(scale)), max(1, round(24 * scale))


class _EdgeStroke:
    """A freehand stroke in progress: sweeps the brush along each new segment, its width following the
    pressure given at both ends, and composites with max (pen) or min (eraser), so parts of one stroke
    that overlap do not pile up."""

    def __init__(self, edit: RasterEdit, *, width: float, erase: bool, hardness: float) -> None:
        self.edit = edit
        self.width = width
        self.erase = erase
        self.hardness = hardness
        self.last: tuple[float, float, float] | None = None  # x, y, radius

    def add_point(self, x: float, y: float, pressure: float):
        radius = max(MIN_STROKE_WIDTH, self.width * pressure) / 2
        sx, sy, sr = self.last if self.last is not None else (x, y, radius)
        self.last = (x, y, radius)
        pad = max(sr, radius) + 1.5
        region = (
            math.floor(min(sx, x) - pad),
            math.floor(min(sy, y) - pad),
            math.ceil(max(sx, x) + pad) + 1,
            math.ceil(max(sy, y) + pad) + 1,
        )
        touched = self.edit.touch(region)
        if touched is None:
            return None
        coverage = swept_coverage((sx, sy), (x, y), radii=(sr, radius), hardness=self.hardness, region=touched)
        level = (coverage * EDGE_ON + 0.5).astype(np.uint8)
        x0, y0, x1, y1 = touched
        view = self.edit.layer.data[y0:y1, x0:x1]
        if self.erase:
            np.minimum(view, EDGE_ON - level, out=view)
        else:
            np.maximum(view, level, out=view)
        return touched


class EdgeLayer(RasterLayer):
    """White-on-black strokes. Edits: freehand strokes (pen or eraser; width follows pen pressure per point;
    hard or feathered edges), straight lines, clear, invert, and setting the whole map (e.g. from Canny or
    scribble extraction of a picture)."""

    name = "edge"
    dtype = np.uint8

    def __init__(self, context) -> None:
        super().__init__(context)
        self._stroke: _EdgeStroke | None = None

    @property
    def default_width(self) -> int:
        return default_edge_width(self.width, self.height)

    @property
    def width_range(self) -> tuple[int, int]:
        return edge_width_range(self.width, self.height)

    # -- strokes ---------------------------------------------------------------------------------
    @property
    def stroke_active(self) -> bool:
        return self._stroke is not None

    def begin_stroke(self, *, width: float | None = None, erase: bool = False, hardness: float = 1.0) -> None:
        """Start a freehand stroke (one undo step).

        width: full-pressure width in pixels (default `default_width`). hardness 1 draws pure white (or black,
        erasing) with hard edges; lower values feather the edge from hardness * width / 2 out to width / 2
        (anti-aliased over at least one pixel)."""
        if self._stroke is not None:
            self.end_stroke()
        try:
            width, hardness = float(self.default_width if width is None else width), float(hardness)
        except (TypeError, ValueError) as exc:
            raise DocumentError(f"Stroke width and hardness must be numbers, not {width!r} and {hardness!r}.") from exc
        if not (math.isfinite(width) and MIN_STROKE_WIDTH <= width <= MAX_STROKE_WIDTH):
            raise DocumentError(f"Stroke width must be between 1 and 1024 pixels, not {width:g}.")
        if not (math.isfinite(hardness) and 0.0 <= hardness <= 1.0):
            raise DocumentError(f"Edge hardness must be between 0 and 1, not {hardness}.")
        edit = self.begin_edit("Erase edges" if erase else "Draw edges")
        self._stroke = _EdgeStroke(edit, width=width, erase=erase, hardness=hardness)
        self.history.register_open_edit(self.end_stroke)

    def add_point(self, x: float, y: float, *, pressure: float = 1.0) -> None:
        """Extend the stroke to (x, y), where its width is `pressure` (0..1) times the stroke width (at least
        1 px); the width changes linearly along the segment from the previous point. Emits a pixels event
        for the touched rectangle only."""
        if self._stroke is None:
            raise DocumentError("add_point() needs begin_stroke() first.")
        if not (math.isfinite(x) and math.isfinite(y)):
            raise DocumentError("Stroke points must be finite numbers.")
        region = self._stroke.add_point(float(x), float(y), check_pressure(pressure))
        if region is not None:
            self.emit_pixels(region)

    def end_stroke(self) -> None:
        """Finish the stroke; it becomes one undo step (nothing is pushed for an empty stroke)."""
        stroke, self._stroke = self._stroke, None
        if stroke is None:
            return
        self.history.unregister_open_edit(self.end_stroke)
        stroke.edit.finish()

    def stroke(self, points, *, width: float | None = None, erase: bool = False, hardness: float = 1.0) -> None:
        """Draw a whole polyline as one stroke (convenience for scripts and tests). Points are (x, y) or
        (x, y, pressure)."""
        self.begin_stroke(width=width, erase=erase, hardness=hardness)
        try:
            for point in points:
                x, y, *pressure = point
                self.add_point(x, y, pressure=pressure[0] if pressure else 1.0)
        finally:
            self.end_stroke()

    def draw_line(self, start, end, *, width: float | None = None, erase: bool = False, hardness: float = 1.0) -> None:
        """Draw a straight line from `start` to `end` (one undo step)."""
        self.stroke([start, end], width=width, erase=erase, hardness=hardness)

    # -- whole-layer operations ------------------------------------------------------------------
    def clear(self) -> None:
        """Erase everything (black)."""
        self.replace_data(np.zeros_like(self.data), "Clear edges")

    def invert(self) -> None:
        """Swap black and white (e.g. after importing a black-on-white line drawing)."""
        self.replace_data(255 - self.data, "Invert edges")

    def set_edges(self, edges: np.ndarray, *, label: str = "Set edges") -> None:
        """Replace the map with a uint8 HxW array (white = edge) of the document size."""
        edges = np.asarray(edges)
        if edges.dtype != np.uint8:
            raise DocumentError(f"Edge maps must be uint8, not {edges.dtype}.")
        self.replace_data(edges, label)

    def control_image(self, width: int, height: int) -> np.ndarray:
        """The ControlNet input: white lines on black, HxWx3 uint8, resized to (width, height)."""
        data = self.data
        if (width, height) != (self.width, self.height):
            shrink = width < self.width or height < self.height
            data = cv2.resize(data, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        return np.repeat(data[:, :, None], 3, axis=2)
