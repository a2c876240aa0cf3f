"""Edge layer: a uint8 raster of white strokes on black, the input of scribble/canny/lineart ControlNets."""

from __future__ import annotations

import math

import cv2
import numpy as np

from studio.document.errors import DocumentError
from studio.document.raster import RasterEdit, RasterLayer

EDGE_ON = 255
EDGE_OFF = 0
_SHIFT = 4  # fractional bits of the fixed-point coordinates given to cv2.line
_SCALE = 1 << _SHIFT


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
    """A freehand stroke in progress: draws each new segment and records the touched tiles."""

    def __init__(self, edit: RasterEdit, *, width: int, erase: bool, antialias: bool) -> None:
        self.edit = edit
        self.width = width
        self.value = EDGE_OFF if erase else EDGE_ON
        self.line_type = cv2.LINE_AA if antialias else cv2.LINE_8
        self.last: tuple[float, float] | None = None

    def add_point(self, x: float, y: float):
        start = self.last if self.last is not None else (x, y)
        self.last = (x, y)
        pad = self.width / 2 + 2
        region = (
            math.floor(min(start[0], x) - pad),
            math.floor(min(start[1], y) - pad),
            math.ceil(max(start[0], x) + pad) + 1,
            math.ceil(max(start[1], y) + pad) + 1,
        )
        touched = self.edit.touch(region)
        if touched is None:
            return None
        p0 = (round(start[0] * _SCALE), round(start[1] * _SCALE))
        p1 = (round(x * _SCALE), round(y * _SCALE))
        cv2.line(self.edit.layer.data, p0, p1, self.value, self.width, self.line_type, _SHIFT)
        return touched


class EdgeLayer(RasterLayer):
    """White-on-black strokes. Edits: freehand strokes (pen or eraser), straight lines, clear, invert,
    and setting the whole map (e.g. from Canny or scribble extraction of a picture)."""

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

    def begin_stroke(self, *, width: int | None = None, erase: bool = False, antialias: bool = False) -> None:
        """Start a freehand stroke (one undo step). `width` in pixels, default `default_width`."""
        if self._stroke is not None:
            self.end_stroke()
        width = self.default_width if width is None else int(width)
        if not 1 <= width <= 1024:
            raise DocumentError(f"Stroke width must be between 1 and 1024 pixels, not {width}.")
        edit = self.begin_edit("Erase edges" if erase else "Draw edges")
        self._stroke = _EdgeStroke(edit, width=width, erase=erase, antialias=antialias)
        self.history.register_open_edit(self.end_stroke)

    def add_point(self, x: float, y: float) -> None:
        """Extend the stroke to (x, y) and emit a pixels event for the touched rectangle only."""
        if self._stroke is None:
            raise DocumentError("add_point() needs begin_stroke() first.")
        if not (math.isfinite(x) and math.isfinite(y)):
            raise DocumentError("Stroke points must be finite numbers.")
        region = self._stroke.add_point(float(x), float(y))
        if region is not None:
            self.emit_pixels(region)

    def end_stroke(self) -> None:
        """Finish the stroke; it becomes one undo step (nothing is pushed for an empty stroke)."""
        stroke, self._stroke = self._stroke, None
        if stroke is None:
            return
        self.history.unregister_open_edit(self.end_stroke)
        stroke.edit.finish()

    def stroke(self, points, *, width: int | None = None, erase: bool = False, antialias: bool = False) -> None:
        """Draw a whole polyline as one stroke (convenience for scripts and tests)."""
        self.begin_stroke(width=width, erase=erase, antialias=antialias)
        try:
            for x, y in points:
                self.add_point(x, y)
        finally:
            self.end_stroke()

    def draw_line(self, start, end, *, width: int | None = None, erase: bool = False, antialias: bool = False) -> None:
        """Draw a straight line from `start` to `end` (one undo step)."""
        self.stroke([start, end], width=width, erase=erase, antialias=antialias)

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
