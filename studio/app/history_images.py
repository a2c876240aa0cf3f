"""Pictures of a document for the history: thumbnails of revisions and composites to compare revisions.

A composite shows the control layers together, the way the designer thinks of them: the reference picture
dimmed, depth as grey, edges white on top and the pose skeleton in its annotator colours over everything.
`capture_preview` takes a small, detached sample of a document on the GUI thread (strided slices: cheap at any
document size); `preview_thumbnail` and `state_composite` do the drawing on the history thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from studio.document import Document
from studio.document.openpose_json import loads_openpose
from studio.document.pose_render import render_people
from studio.history.blobs import THUMBNAIL_SIDE, Blob, make_thumbnail
from studio.history.state import DocumentState

REFERENCE_WEIGHT = 0.45
DEPTH_WEIGHT = 0.6


@dataclass(frozen=True)
class Preview:
    """A reduced copy of a document's layers (sampled every `step` pixels) and its people."""

    edge: np.ndarray  # uint8
    depth: np.ndarray  # float32 in [0, 1]
    reference: np.ndarray | None  # RGB uint8
    people: tuple
    canvas: tuple[int, int]  # document width, height


def capture_preview(document: Document, *, side: int = THUMBNAIL_SIDE) -> Preview:
    """GUI thread: sample the layers at about twice the thumbnail size (copies; the document may change)."""
    step = max(1, math.floor(max(document.width, document.height) / (2 * side)))
    reference = document.reference.image
    return Preview(
        edge=document.edge.data[::step, ::step].copy(),
        depth=document.depth.data[::step, ::step].copy(),
        reference=None if reference is None else reference[::step, ::step].copy(),
        people=document.pose.people,
        canvas=(document.width, document.height),
    )


def compose(*, edge: np.ndarray, depth: np.ndarray, reference: np.ndarray | None, pose: np.ndarray) -> np.ndarray:
    """The composite of layers of one size (edge uint8, depth float in [0, 1], reference/pose RGB uint8)."""
    base = cv2.cvtColor(cv2.convertScaleAbs(np.clip(depth, 0.0, 1.0), alpha=255.0 * DEPTH_WEIGHT), cv2.COLOR_GRAY2RGB)
    if reference is not None:
        base = cv2.max(base, cv2.convertScaleAbs(reference, alpha=REFERENCE_WEIGHT))
    lines = cv2.cvtColor(edge, cv2.COLOR_GRAY2RGB)
    image = cv2.add(base, cv2.multiply(cv2.subtract(255, base), lines, scale=1.0 / 255.0))  # white lines on top
    red, green, blue = cv2.split(pose)
    drawn = cv2.max(cv2.max(red, green), blue)  # the skeleton covers everything under it
    return cv2.copyTo(pose, drawn, image)


def preview_thumbnail(preview: Preview, *, side: int = THUMBNAIL_SIDE) -> Blob:
    """History thread: the revision thumbnail (PNG blob) of a captured preview, composed at thumbnail size."""
    height, width = preview.edge.shape
    scale = min(1.0, side / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))

    def small(array: np.ndarray) -> np.ndarray:
        return cv2.resize(array, size, interpolation=cv2.INTER_AREA)

    pose = render_people(preview.people, canvas_size=preview.canvas, width=size[0], height=size[1])
    reference = None if preview.reference is None else small(preview.reference)
    image = compose(edge=small(preview.edge), depth=small(preview.depth), reference=reference, pose=pose)
    return make_thumbnail(image, side=side)


def state_composite(state: DocumentState, *, max_side: int = 512) -> np.ndarray:
    """History thread: the composite of a recorded document state, at most `max_side` pixels on its long side."""
    if state.width is None or state.height is None:
        return np.zeros((64, 64, 3), np.uint8)
    scale = min(1.0, max_side / max(state.width, state.height))
    size = (max(1, round(state.width * scale)), max(1, round(state.height * scale)))

    def raster(name: str) -> np.ndarray | None:
        layer = state.layers.get(name)
        if layer is None or not isinstance(layer.content, np.ndarray):
            return None
        return cv2.resize(layer.content, size, interpolation=cv2.INTER_AREA)

    blank = np.zeros((size[1], size[0]), np.uint8)
    edge = raster("edge")
    depth = raster("depth")
    depth = blank.astype(np.float32) if depth is None else depth.astype(np.float32) / np.iinfo(depth.dtype).max
    pose_layer = state.layers.get("pose")
    people = ()
    if pose_layer is not None and isinstance(pose_layer.content, dict):
        people = loads_openpose(pose_layer.content, canvas_size=(state.width, state.height)).people
    pose = render_people(people, canvas_size=(state.width, state.height), width=size[0], height=size[1])
    return compose(edge=blank if edge is None else edge, depth=depth, reference=raster("reference"), pose=pose)
