"""Mouse input on the canvas in document coordinates, for the window tests."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt


def viewport_point(window, x: float, y: float) -> QPoint:
    """The viewport pixel that shows document point (x, y)."""
    return window.view.mapFromScene(QPointF(x, y))


def drag(qtbot, window, points, *, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """Press at the first point, move through the others and release at the last (left button)."""
    viewport = window.view.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, modifier, viewport_point(window, *points[0]))
    for x, y in points[1:]:
        qtbot.mouseMove(viewport, viewport_point(window, x, y))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, modifier, viewport_point(window, *points[-1]))
