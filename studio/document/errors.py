"""Errors raised by the document model; each reads as one sentence for the user."""

from studio.errors import StudioError


class DocumentError(StudioError):
    """A document operation cannot be done as asked (bad size, unknown layer, wrong arguments)."""


class LayerLockedError(DocumentError):
    """An edit was attempted on a locked layer."""


class PoseFormatError(DocumentError):
    """OpenPose JSON (or a pose given in code) is malformed: bad JSON, wrong list lengths, NaN values."""


class DocumentFormatError(DocumentError):
    """A saved document (document.json plus layer files) is incomplete or corrupt."""


class DepthModelError(DocumentError):
    """A depth-estimation model could not be loaded or run."""
