"""The document: its size, its ordered layers, change events and the undo history.

Data flows one way: views call edit methods, layers change their data, push one undo step per edit and
emit `ChangeEvent`s that views (and the history store) subscribe to. Nothing here knows about Qt.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from studio.document.depth import DepthLayer
from studio.document.edges import EdgeLayer
from studio.document.errors import DocumentError
from studio.document.events import ChangeEvent, EventEmitter
from studio.document.history import DEFAULT_MEMORY_LIMIT, UndoHistory
from studio.document.layer import Layer, LayerContext
from studio.document.mask import MaskLayer
from studio.document.pose import PoseLayer
from studio.document.reference import ReferenceLayer

#: Largest side and pixel count of a document (control images are made at this size or smaller).
MAX_SIDE = 8192
MAX_PIXELS = 64 * 1024 * 1024

#: Layer order, bottom to top.
LAYER_NAMES = ("reference", "edge", "depth", "pose")
#: The inpaint mask: a layer of every document, but not a control layer (`layers` leaves it out).
MASK_LAYER = "mask"
CONTROL_KINDS = ("edge", "pose", "depth")


def check_size(width: int, height: int) -> tuple[int, int]:
    """Validate a document or output size; returns it as ints."""
    try:
        width, height = int(width), int(height)
    except (TypeError, ValueError) as exc:
        raise DocumentError(f"Image size must be whole numbers, not {width!r} x {height!r}.") from exc
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE) or width * height > MAX_PIXELS:
        raise DocumentError(
            f"Size {width}x{height} is not allowed: each side must be 1-{MAX_SIDE} pixels "
            f"and the total at most {MAX_PIXELS // (1024 * 1024)} megapixels."
        )
    return width, height


class Document:
    """A canvas of `width` x `height` pixels with a reference, edge, depth and pose layer.

    doc.subscribe(callback) -> unsubscribe; callback(ChangeEvent) on every change.
    doc.history: UndoHistory (undo, redo, can_undo, subscribe for pushes).
    doc.control_image(kind, width, height): the ControlNet input for "edge", "pose" or "depth".
    """

    def __init__(self, width: int = 512, height: int = 512, *, undo_memory_limit: int = DEFAULT_MEMORY_LIMIT):
        self.width, self.height = check_size(width, height)
        self.events = EventEmitter()
        self.history = UndoHistory(memory_limit=undo_memory_limit)
        context = LayerContext(width=self.width, height=self.height, events=self.events, history=self.history)
        self.reference = ReferenceLayer(context)
        self.edge = EdgeLayer(context)
        self.depth = DepthLayer(context)
        self.pose = PoseLayer(context)
        self.mask = MaskLayer(context)  # the inpaint mask; not a control layer (not in LAYER_NAMES)

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    @property
    def layers(self) -> tuple[Layer, ...]:
        """All layers, bottom to top."""
        return tuple(self.layer(name) for name in LAYER_NAMES)

    def layer(self, name: str) -> Layer:
        """The layer called `name`: one of `LAYER_NAMES` or "mask"."""
        if name not in LAYER_NAMES and name != MASK_LAYER:
            raise DocumentError(f"Unknown layer {name!r}; layers are {', '.join(LAYER_NAMES)} and {MASK_LAYER}.")
        return getattr(self, name)

    def copy(self) -> "Document":
        """A detached snapshot: same size, layer content and properties, no subscribers, an empty undo history.

        The edge and depth rasters are copied; the reference picture (read-only) and the pose people (a tuple
        of immutable people) are shared, so edits of either document never show in the other. A stroke in
        progress is copied as drawn so far. Cheap (two raster copies), so the GUI thread can make it and hand
        it to a worker thread, e.g. for saving."""
        copy = Document(self.width, self.height, undo_memory_limit=self.history.memory_limit)
        for layer in self.layers:
            copy.layer(layer.name)._copy_from(layer)
        copy.mask._copy_from(self.mask)
        return copy

    def subscribe(self, callback: Callable[[ChangeEvent], None]) -> Callable[[], None]:
        """Call `callback(ChangeEvent)` after every change of any layer; returns an unsubscriber."""
        return self.events.subscribe(callback)

    def control_image(self, kind: str, width: int | None = None, height: int | None = None) -> np.ndarray:
        """The exact ControlNet input for `kind` ("edge", "pose", "depth") as HxWx3 uint8 RGB.

        Defaults to the document size; other sizes are resampled (pose is re-drawn at that size with the
        annotator's fixed stick widths). Layer visibility and opacity do not change control images."""
        if kind not in CONTROL_KINDS:
            raise DocumentError(f"Unknown control kind {kind!r}; use one of {', '.join(CONTROL_KINDS)}.")
        width, height = check_size(self.width if width is None else width, self.height if height is None else height)
        return getattr(self, kind).control_image(width, height)

    def finish_strokes(self) -> None:
        """End any stroke in progress (e.g. before saving)."""
        self.edge.end_stroke()
        self.depth.end_stroke()
        self.mask.end_stroke()
