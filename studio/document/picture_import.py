"""Bringing pictures into layers: reference photo, edges of a picture, depth maps and estimated depth.

Every picture is loaded through `studio.imageio` (size limit, format checks) and fitted to the document
by `fit_to_size` (scale to cover, centre crop). Each call is one undo step.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from studio.document.document import Document
from studio.document.edge_detect import detect_edges
from studio.document.errors import DocumentError
from studio.imageio import ImageSource, fit_to_size, load_gray, load_rgb


def _rgb(doc: Document, picture: ImageSource | np.ndarray) -> np.ndarray:
    image = picture if isinstance(picture, np.ndarray) else load_rgb(picture)
    return fit_to_size(image, doc.width, doc.height)


def set_reference_picture(doc: Document, picture: ImageSource | np.ndarray) -> None:
    """Put a picture (path, bytes or RGB array) on the reference layer."""
    doc.reference.set_image(_rgb(doc, picture))


EDGE_COMBINE = ("replace", "add")


def edges_from_picture(doc: Document, picture: ImageSource | np.ndarray, method: str = "canny", *,
                       combine: str = "replace", **params) -> None:
    """`method` ("canny" or "scribble") edges of the picture on the edge layer, as one undo step: `combine`
    "replace" puts them instead of what is there, "add" keeps what was drawn and adds them (the brighter pixel
    wins)."""
    if combine not in EDGE_COMBINE:
        raise DocumentError(f"Unknown way to combine edges {combine!r}; use one of: {', '.join(EDGE_COMBINE)}.")
    edges = detect_edges(_rgb(doc, picture), method, **params)
    if combine == "add":
        edges = np.maximum(doc.edge.data, edges)
    label = f"Add edges from picture ({method})" if combine == "add" else f"Edges from picture ({method})"
    doc.edge.set_edges(edges, label=label)


def import_depth_picture(doc: Document, picture: ImageSource | np.ndarray, *, invert: bool = False) -> None:
    """Replace the depth layer with a grey depth image (8 or 16 bit; near = bright unless `invert`)."""
    depth = picture if isinstance(picture, np.ndarray) else load_gray(picture)
    depth = fit_to_size(np.asarray(depth, dtype=np.float32), doc.width, doc.height)
    if invert:
        depth = 1.0 - depth
    doc.depth.set_depth(depth, label="Import depth")


def estimate_depth_from_picture(
    doc: Document, picture: ImageSource | np.ndarray, model_path: str | Path, *, device: str | None = None
) -> None:
    """Replace the depth layer with depth estimated by the model in `model_path` (see depth_estimate)."""
    from studio.document.depth_estimate import estimate_depth

    doc.depth.set_depth(estimate_depth(_rgb(doc, picture), model_path, device=device), label="Estimate depth")
