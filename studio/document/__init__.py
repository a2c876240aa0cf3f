"""The Qt-free document model: layers (reference, edge, depth, pose), change events and undo."""

from studio.document.document import CONTROL_KINDS, LAYER_NAMES, Document
from studio.document.errors import (
    DepthModelError, DocumentError, DocumentFormatError, LayerLockedError, PoseFormatError,
)  # fmt: skip
from studio.document.events import ChangeEvent
from studio.document.history import HistoryEvent, UndoHistory, UndoStep
from studio.document.keypoints import Keypoints
from studio.document.person import Person

__all__ = [
    "CONTROL_KINDS", "LAYER_NAMES", "ChangeEvent", "DepthModelError", "Document", "DocumentError",
    "DocumentFormatError", "HistoryEvent", "Keypoints", "LayerLockedError", "Person", "PoseFormatError",
    "UndoHistory", "UndoStep",
]  # fmt: skip
