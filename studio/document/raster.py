"""Raster layers and their undo: edits record the tiles they touch, so a step holds only changed patches."""

from __future__ import annotations

import numpy as np

from studio.document.errors import DocumentError
from studio.document.events import PIXELS, ChangeEvent, Region
from studio.document.history import UndoStep
from studio.document.layer import Layer, LayerContext

TILE = 64  # edge length of the square tiles an edit copies before changing them


def clip_region(region: Region, width: int, height: int) -> Region | None:
    """Clip (x0, y0, x1, y1) to the canvas; None when nothing is left."""
    x0, y0, x1, y1 = region
    x0, y0 = max(0, int(x0)), max(0, int(y0))
    x1, y1 = min(width, int(x1)), min(height, int(y1))
    if x0 >= x1 or y0 >= y1:
        return None
    return (x0, y0, x1, y1)


def union_region(a: Region | None, b: Region | None) -> Region | None:
    if a is None:
        return b
    if b is None:
        return a
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


class RasterPatchStep(UndoStep):
    """Undo step of a raster edit: for each touched tile it keeps one buffer and swaps it with the layer.

    Before undo the buffers hold the pixels from before the edit; each undo/redo swaps buffer and layer
    contents, so one copy per tile is enough for both directions.
    """

    def __init__(self, layer: "RasterLayer", label: str, tiles: list[tuple[int, int, np.ndarray]], region: Region):
        self.layer = layer
        self.label = label
        self.tiles = tiles  # (x0, y0, buffer)
        self.region = region

    def _swap(self) -> None:
        data = self.layer.data
        for x0, y0, buffer in self.tiles:
            h, w = buffer.shape[:2]
            view = data[y0 : y0 + h, x0 : x0 + w]
            current = view.copy()
            view[...] = buffer
            buffer[...] = current
        self.layer.emit(ChangeEvent(self.layer.name, PIXELS, self.region))

    def undo(self) -> None:
        self._swap()

    def redo(self) -> None:
        self._swap()

    @property
    def nbytes(self) -> int:
        return sum(buffer.nbytes for _, _, buffer in self.tiles) + 128


class RasterEdit:
    """An edit in progress on a raster layer.

    Call `touch(region)` before changing pixels in `region`: tiles met for the first time are copied.
    `original(region)` gives the pixels as they were when the edit began (valid for touched regions).
    `finish()` turns the copies into one RasterPatchStep on the history.
    """

    def __init__(self, layer: "RasterLayer", label: str) -> None:
        self.layer = layer
        self.label = label
        self.region: Region | None = None
        self._touched: set[tuple[int, int]] = set()
        self._original = layer.checkout_scratch()

    def touch(self, region: Region) -> Region | None:
        """Copy the not yet copied tiles under `region` (clipped); returns the clipped region."""
        layer = self.layer
        clipped = clip_region(region, layer.width, layer.height)
        if clipped is None:
            return None
        x0, y0, x1, y1 = clipped
        data, original = layer.data, self._original
        for ty in range(y0 // TILE, (y1 - 1) // TILE + 1):
            for tx in range(x0 // TILE, (x1 - 1) // TILE + 1):
                if (tx, ty) in self._touched:
                    continue
                self._touched.add((tx, ty))
                sl = (slice(ty * TILE, (ty + 1) * TILE), slice(tx * TILE, (tx + 1) * TILE))
                original[sl] = data[sl]
        self.region = union_region(self.region, clipped)
        return clipped

    def original(self, region: Region) -> np.ndarray:
        """Pixels of `region` (already touched) as they were before the edit."""
        x0, y0, x1, y1 = region
        return self._original[y0:y1, x0:x1]

    def finish(self) -> RasterPatchStep | None:
        """Push the step (if any pixel region was touched) and return it."""
        if self.region is None:
            self.layer.return_scratch(self._original)
            self._original = None
            return None
        tiles = []
        for tx, ty in sorted(self._touched):
            x0, y0 = tx * TILE, ty * TILE
            buffer = self._original[y0 : y0 + TILE, x0 : x0 + TILE].copy()
            tiles.append((x0, y0, buffer))
        step = RasterPatchStep(self.layer, self.label, tiles, self.region)
        self.layer.return_scratch(self._original)
        self._original = None
        self.layer.history.push(step)
        return step


class RasterLayer(Layer):
    """A layer holding one 2-D array the size of the document (dtype fixed by the subclass)."""

    dtype = np.uint8

    def __init__(self, context: LayerContext) -> None:
        super().__init__(context)
        self.data = np.zeros((context.height, context.width), dtype=self.dtype)
        self._scratch: np.ndarray | None = None

    def _copy_from(self, source: "RasterLayer") -> None:
        super()._copy_from(source)
        self.data = source.data.copy()

    def checkout_scratch(self) -> np.ndarray:
        """A layer-sized buffer for an edit's original pixels (reused; a new one if it is in use)."""
        scratch, self._scratch = self._scratch, None
        # np.empty is backed lazily by the OS: only pages of touched tiles are ever written.
        return scratch if scratch is not None else np.empty_like(self.data)

    def return_scratch(self, scratch: np.ndarray) -> None:
        self._scratch = scratch

    def begin_edit(self, label: str) -> RasterEdit:
        """Start an edit (raises LayerLockedError on a locked layer)."""
        self.check_editable()
        return RasterEdit(self, label)

    def emit_pixels(self, region: Region | None) -> None:
        self.emit(ChangeEvent(self.name, PIXELS, region))

    def replace_data(self, values: np.ndarray, label: str) -> None:
        """Replace the whole raster with `values` (same shape, cast to the layer dtype) as one undo step."""
        values = np.asarray(values)
        if values.shape != self.data.shape:
            raise DocumentError(
                f"The {self.name} layer needs an array of shape {self.data.shape}, not {values.shape}."
            )
        self.history.finish_open_edits()  # a stroke in progress becomes its own, earlier step
        edit = self.begin_edit(label)
        full = edit.touch((0, 0, self.width, self.height))
        self.data[...] = values.astype(self.dtype, copy=False)
        edit.finish()
        self.emit_pixels(full)
