"""What a window generation inpaints: the reference picture, repainted where the document's mask is white.

A non-empty mask layer turns the run into an inpaint of the reference layer's picture (a photo, or a result put
there with the gallery's "Use as Reference"); an empty mask leaves the run text-to-image. A mask without a
picture is refused with what to do, before anything runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from studio.engine.errors import RequestError

if TYPE_CHECKING:
    from studio.document import Document

NO_PICTURE = ("The mask marks what to repaint, but there is no picture to repaint: put one on the reference "
              "layer (File ▸ Import Reference Image…, or a result's Use as Reference), or clear the mask.")


def inpaint_inputs(document: "Document") -> tuple[np.ndarray | None, np.ndarray | None]:
    """(init_image, mask) for the request: both None when the mask is empty. Reads only `document`."""
    if document.mask.is_empty:
        return None, None
    picture = document.reference.image
    if picture is None:
        raise RequestError(NO_PICTURE)
    return np.array(picture), document.mask.request_mask()
