"""Base class of all layers: a name, visibility, opacity, lock, and a way to report changes."""

from __future__ import annotations

import math

from studio.document.errors import DocumentError, LayerLockedError
from studio.document.events import PROPERTY, ChangeEvent, EventEmitter
from studio.document.history import UndoHistory


class LayerContext:
    """What a layer shares with its document: size, event emitter and undo history."""

    def __init__(self, *, width: int, height: int, events: EventEmitter, history: UndoHistory) -> None:
        self.width = width
        self.height = height
        self.events = events
        self.history = history


class Layer:
    """A document layer. Property changes emit `ChangeEvent(kind="property", prop=...)`; they are not undo steps."""

    name: str = ""

    def __init__(self, context: LayerContext) -> None:
        self._context = context
        self._visible = True
        self._opacity = 1.0
        self._locked = False

    @property
    def width(self) -> int:
        return self._context.width

    @property
    def height(self) -> int:
        return self._context.height

    @property
    def history(self) -> UndoHistory:
        return self._context.history

    # -- properties ------------------------------------------------------------------------------
    @property
    def visible(self) -> bool:
        return self._visible

    @visible.setter
    def visible(self, value: bool) -> None:
        self._set_property("visible", bool(value))

    @property
    def opacity(self) -> float:
        """Display opacity in [0, 1] (views only; control images ignore it)."""
        return self._opacity

    @opacity.setter
    def opacity(self, value: float) -> None:
        value = float(value)
        if not math.isfinite(value) or not 0.0 <= value <= 1.0:
            raise DocumentError(f"Layer opacity must be between 0 and 1, not {value}.")
        self._set_property("opacity", value)

    @property
    def locked(self) -> bool:
        """A locked layer refuses edits (LayerLockedError); undo/redo still work on it."""
        return self._locked

    @locked.setter
    def locked(self, value: bool) -> None:
        self._set_property("locked", bool(value))

    def properties(self) -> dict:
        """The layer's properties as plain data (for saving)."""
        return {"visible": self._visible, "opacity": self._opacity, "locked": self._locked}

    def set_properties(self, props: dict) -> None:
        """Set visible/opacity/locked from plain data (missing keys keep their value)."""
        if "visible" in props:
            self.visible = props["visible"]
        if "opacity" in props:
            self.opacity = props["opacity"]
        if "locked" in props:
            self.locked = props["locked"]

    def _copy_from(self, source: "Layer") -> None:
        """Take `source`'s content and properties without events or an undo step (for `Document.copy`,
        on a fresh layer only). Subclasses add their content."""
        self._visible, self._opacity, self._locked = source._visible, source._opacity, source._locked

    def _set_property(self, prop: str, value) -> None:
        if getattr(self, f"_{prop}") == value:
            return
        setattr(self, f"_{prop}", value)
        self.emit(ChangeEvent(self.name, PROPERTY, None, prop))

    # -- helpers for subclasses ------------------------------------------------------------------
    def emit(self, event: ChangeEvent) -> None:
        self._context.events.emit(event)

    def check_editable(self) -> None:
        """Raise LayerLockedError when the layer is locked."""
        if self._locked:
            raise LayerLockedError(f"The {self.name} layer is locked; unlock it to edit.")
