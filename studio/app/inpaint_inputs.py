"""Mask -> request wiring of the window: a painted mask turns a generation into an inpaint of the reference picture.

When the document's mask layer is not empty, the request carries the mask (`MaskLayer.request_mask()`, white =
repaint) and, as the image to repaint, the reference picture: the photo or the gallery result the designer put
there (File ▸ Import Image, or Use as Reference on a result). The engine (`studio.engine.inpaint`) then repaints
only the masked area, with the request's ControlNets still active, and pastes it back so every pixel outside the
mask stays the picture's. An empty mask leaves the request as it was (text-to-image); a mask without a picture
is refused with what to do. The strength, mask blur and "only masked" fields come from the settings
(`GenerationSettings.to_request`) and are not touched here. Plain Python: it reads only the `Document` it is
given (a detached `Document.copy()` works as well).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from studio.document import Document
from studio.engine.request import GenerationRequest
from studio.errors import StudioError

NO_PICTURE = ("The mask marks an area to repaint, but there is no picture to repaint: put one on the reference "
              "layer (File ▸ Import Image, or Use as Reference on a gallery result), or clear the mask.")


class InpaintInputError(StudioError):
    """The mask cannot be used as it is (one sentence with what to do)."""


def inpaint_inputs(document: Document) -> tuple[np.ndarray, np.ndarray] | None:
    """(picture, mask) to inpaint, both HxWx3 uint8 at the document size, or None when the mask is empty.
    Raises `InpaintInputError` when there is a mask but no reference picture."""
    if document.mask.is_empty:
        return None
    picture = document.reference.image
    if picture is None:
        raise InpaintInputError(NO_PICTURE)
    return np.array(picture, dtype=np.uint8, copy=True), document.mask.request_mask()


def with_mask(request: GenerationRequest, document: Document) -> GenerationRequest:
    """`request` as an inpaint of the document's reference picture under its mask (a new request), or `request`
    itself when the mask is empty."""
    inputs = inpaint_inputs(document)
    if inputs is None:
        return request
    picture, mask = inputs
    return dataclasses.replace(request, init_image=picture, mask=mask)


def describe_inpaint(request: GenerationRequest) -> str | None:
    """A status line for an inpaint request (None for other runs)."""
    if not request.is_inpaint:
        return None
    share = float((request.mask.max(axis=2) > 127).mean())
    where = "only the masked area, at full size" if request.inpaint_only_masked else "the whole picture"
    return f"Inpainting {share:.0%} of the reference picture (working on {where}); the rest stays as it is."
