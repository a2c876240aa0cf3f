"""Replace a document's whole content by another's as one undo step (Restore a revision, switch branches).

Restoring used to show a new `Document`, which started with an empty undo history: everything the designer
could undo before (including an "Apply" whose message said "Undo takes it back") was gone. `replace_content`
keeps the document and its history instead: the layers take the other document's pixels, people, reference
picture and properties (locked layers too: a restore is not an edit of one layer), and one `ContentStep` on the
history brings the old content back on undo.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.document.errors import DocumentError
from studio.document.events import PIXELS, POSE, PROPERTY, ChangeEvent
from studio.document.history import UndoStep
from studio.document.layer import Layer

if TYPE_CHECKING:
    from studio.document.document import Document

PROPERTIES = ("visible", "opacity", "locked")


def _layers(document: "Document") -> list[Layer]:
    return [*document.layers, document.mask]


def _nbytes(document: "Document") -> int:
    return sum(int(getattr(layer, "data").nbytes) for layer in _layers(document) if hasattr(layer, "data"))


def _put(document: "Document", source: "Document") -> None:
    """Give `document` the content of `source` (same size), with a change event for everything that changed."""
    for layer, other in zip(_layers(document), _layers(source)):
        changed = [prop for prop in PROPERTIES if getattr(layer, f"_{prop}") != getattr(other, f"_{prop}")]
        if hasattr(layer, "data"):
            content = layer.data.copy()
            layer.data[...] = other.data  # in place: views and the recorder keep their reference
            if (content != layer.data).any():
                layer.emit(ChangeEvent(layer.name, PIXELS, None))
        elif layer.name == "pose":
            if layer._people != other._people:
                layer._people = other._people
                layer.emit(ChangeEvent(layer.name, POSE, None))
        elif layer._image is not other._image:  # the reference picture (frozen arrays, shared by copies)
            layer._image = other._image
            layer.emit(ChangeEvent(layer.name, PIXELS, None))
        for prop in changed:
            setattr(layer, f"_{prop}", getattr(other, f"_{prop}"))
            layer.emit(ChangeEvent(layer.name, PROPERTY, None, prop))


class ContentStep(UndoStep):
    """The document's content replaced as a whole; undo puts the earlier content back."""

    def __init__(self, document: "Document", *, before: "Document", after: "Document", label: str) -> None:
        self.document = document
        self.before = before
        self.after = after
        self.label = label

    def undo(self) -> None:
        _put(self.document, self.before)

    def redo(self) -> None:
        _put(self.document, self.after)

    @property
    def nbytes(self) -> int:
        return _nbytes(self.before) + _nbytes(self.after) + 256


def replace_content(document: "Document", source: "Document", *, label: str) -> ContentStep:
    """Show `source`'s content in `document` as one undo step (`label`, e.g. "Restore revision 4").
    Raises `DocumentError` when the sizes differ (then nothing changes)."""
    if source.size != document.size:
        raise DocumentError(f"Cannot show a {source.width}x{source.height} revision in a "
                            f"{document.width}x{document.height} document.")
    document.finish_strokes()
    before, after = document.copy(), source.copy()
    _put(document, after)
    step = ContentStep(document, before=before, after=after, label=label)
    document.history.push(step)
    return step
