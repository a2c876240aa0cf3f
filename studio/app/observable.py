"""A tiny observer primitive for the application state: `Event`, a list of callbacks, and a blocker.

Models own their events (`gallery.added`, `settings.changed`...) and emit them on the thread that changed
them; the Qt views connect on the GUI thread and only change models there. `blocked()` keeps a view that writes
a value into its model from hearing its own change back (the echo a two-way binding would cause).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class Event:
    """Callbacks called in connection order with the emitted arguments.

    A callback that raises stops the emission (the error is the caller's bug, not something to swallow).
    """

    def __init__(self, name: str = "event") -> None:
        self.name = name
        self._callbacks: list[Callable[..., Any]] = []
        self._blocked = 0

    def connect(self, callback: Callable[..., Any]) -> Callable[[], None]:
        """Call `callback(*args)` on every emission; returns the function that disconnects it again."""
        self._callbacks.append(callback)
        return lambda: self.disconnect(callback)

    def disconnect(self, callback: Callable[..., Any]) -> None:
        """Stop calling `callback` (nothing happens if it is not connected)."""
        try:
            self._callbacks.remove(callback)
        except ValueError:
            pass

    def emit(self, *args: Any) -> None:
        if self._blocked:
            return
        for callback in list(self._callbacks):  # a callback may disconnect itself
            callback(*args)

    @contextmanager
    def blocked(self) -> Iterator[None]:
        """Emissions inside the block reach nobody (nestable)."""
        self._blocked += 1
        try:
            yield
        finally:
            self._blocked -= 1

    def __len__(self) -> int:
        return len(self._callbacks)

    def __repr__(self) -> str:
        return f"Event({self.name!r}, {len(self._callbacks)} callbacks)"
