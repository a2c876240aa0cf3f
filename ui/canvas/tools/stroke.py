"""A core brush stroke whose size follows pen pressure, kept as one undo step.

The core's strokes have one size each. When the pressure-scaled size changes by a pixel or more, the
current core stroke ends and a new one starts at the last point; a history group around the whole gesture
makes all those pieces one undo step.
"""

from __future__ import annotations

from collections.abc import Callable

from studio.document.history import UndoHistory

MIN_PRESSURE_SCALE = 0.15  # the lightest touch still draws at this fraction of the brush size


class PressureStroke:
    """One gesture: `start`, any number of `add`, then `finish` (safe to call twice)."""

    def __init__(
        self,
        *,
        history: UndoHistory,
        label: str,
        begin: Callable[[float], None],
        add_point: Callable[[float, float], None],
        end: Callable[[], None],
        size: float,
    ) -> None:
        self._history = history
        self._label = label
        self._begin = begin
        self._add_point = add_point
        self._end = end
        self._size = size
        self._current: float | None = None
        self._last: tuple[float, float] | None = None
        self.active = False

    def scaled_size(self, pressure: float) -> float:
        return self._size * max(MIN_PRESSURE_SCALE, min(1.0, pressure))

    def start(self, x: float, y: float, pressure: float) -> None:
        self._history.begin_group(self._label)
        try:
            self._current = self.scaled_size(pressure)
            self._begin(self._current)
        except BaseException:
            self._history.end_group()
            raise
        self.active = True
        self._last = (x, y)
        self._add_point(x, y)

    def add(self, x: float, y: float, pressure: float) -> None:
        if not self.active:
            return
        size = self.scaled_size(pressure)
        if abs(size - self._current) >= 1.0:
            self._end()
            self._current = size
            self._begin(size)
            self._add_point(*self._last)
        self._last = (x, y)
        self._add_point(x, y)

    def finish(self) -> None:
        if not self.active:
            return
        self.active = False
        try:
            self._end()
        finally:
            self._history.end_group()
