"""Change events: layers and the document tell their subscribers (views, history store) what changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

Region = tuple[int, int, int, int]  # x0, y0, x1, y1 (end-exclusive), in document pixels

#: Kinds of change a ChangeEvent reports.
PIXELS = "pixels"  # raster data changed inside `region` (None: the whole layer)
POSE = "pose"  # the pose layer's people changed
PROPERTY = "property"  # a layer property (visible, opacity, locked) changed; `prop` names it


@dataclass(frozen=True)
class ChangeEvent:
    """One change of one layer. `region` is (x0, y0, x1, y1) end-exclusive or None for 'everything'."""

    layer: str
    kind: str
    region: Region | None = None
    prop: str | None = None


Callback = Callable[[ChangeEvent], None]


class EventEmitter:
    """Keeps subscribers and calls them, in subscription order, for each emitted event."""

    def __init__(self) -> None:
        self._callbacks: list[Callback] = []

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        """Add `callback`; returns a function that removes it again."""
        self._callbacks.append(callback)

        def unsubscribe() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return unsubscribe

    def emit(self, event: ChangeEvent) -> None:
        for callback in list(self._callbacks):
            callback(event)
