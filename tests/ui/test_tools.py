"""Brush, eraser, line, depth brush and fill through the canvas, with tablet pressure, hardness and the brush
outline."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QInputDevice, QPointingDevice, QTabletEvent
from PySide6.QtWidgets import QApplication

from canvas_input import drag as _drag
from canvas_input import viewport_point as _viewport_point


def _pen() -> QPointingDevice:
    return QPointingDevice(
        "test pen", 1, QInputDevice.DeviceType.Stylus, QPointingDevice.PointerType.Pen,
        QInputDevice.Capability.Position | QInputDevice.Capability.Pressure, 1, 3,
    )


def _tablet(window, kind: QTabletEvent.Type, x: float, y: float, pressure: float, pen: QPointingDevice) -> None:
    viewport = window.view.viewport()
    pos = QPointF(_viewport_point(window, x, y))
    buttons = Qt.MouseButton.NoButton if kind == QTabletEvent.Type.TabletRelease else Qt.MouseButton.LeftButton
    event = QTabletEvent(kind, pen, pos, QPointF(viewport.mapToGlobal(pos)), pressure, 0.0, 0.0, 0.0, 0.0, 0.0,
                         Qt.KeyboardModifier.NoModifier, Qt.MouseButton.LeftButton, buttons)
    QApplication.sendEvent(viewport, event)


def _stroke_width(layer_data: np.ndarray, column: int) -> int:
    return int((layer_data[:, column] > 0).sum())


def test_pen_pressure_scales_the_brush(qtbot, window):
    document = window.document
    window.tool_actions["brush"].trigger()
    window.view.tool_settings.brush_size = 20
    _drag(qtbot, window, [(50, 100), (250, 100)])  # mouse: full size
    full = _stroke_width(document.edge.data, 150)
    pen = _pen()
    _tablet(window, QTabletEvent.Type.TabletPress, 50, 300, 0.3, pen)  # pressure is taken from the pen...
    _drag(qtbot, window, [(50, 300), (250, 300)])  # ...for the mouse events Qt makes from it
    light = _stroke_width(document.edge.data[200:], 150)
    assert full >= 19 and light <= 0.5 * full
    window.view.tool_settings.use_pressure = False
    _tablet(window, QTabletEvent.Type.TabletPress, 50, 450, 0.3, pen)
    _drag(qtbot, window, [(50, 450), (250, 450)])
    assert _stroke_width(document.edge.data[400:], 150) == full
    assert len(document.history) == 3


def test_pressure_change_mid_stroke_is_still_one_undo_step(qtbot, window):
    document = window.document
    window.tool_actions["brush"].trigger()
    window.view.tool_settings.brush_size = 24
    pen = _pen()
    viewport = window.view.viewport()
    _tablet(window, QTabletEvent.Type.TabletPress, 50, 200, 1.0, pen)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=_viewport_point(window, 50, 200))
    qtbot.mouseMove(viewport, _viewport_point(window, 150, 200))
    _tablet(window, QTabletEvent.Type.TabletMove, 150, 200, 0.2, pen)
    qtbot.mouseMove(viewport, _viewport_point(window, 300, 200))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=_viewport_point(window, 300, 200))
    widths = [_stroke_width(document.edge.data, x) for x in (100, 160, 200, 250, 295)]
    assert widths[0] >= 23 and 4 <= widths[-1] <= 7  # 24 px at 150, down to 20 % of it (the pen's) at 300
    assert widths[1] > widths[2] > widths[3] > widths[4]  # tapered along the segment, no step
    assert len(document.history) == 1 and document.history.undo_label == "Draw edges"
    window.commands["undo"].trigger()
    assert not document.edge.data.any()


def test_pressure_tapers_the_depth_brush(qtbot, window):
    document = window.document
    window.tool_actions["depth_brush"].trigger()
    settings = window.view.tool_settings
    settings.brush_size, settings.depth_value, settings.depth_strength, settings.depth_hardness = 40, 255, 1.0, 1.0
    pen = _pen()
    viewport = window.view.viewport()
    _tablet(window, QTabletEvent.Type.TabletPress, 50, 200, 1.0, pen)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=_viewport_point(window, 50, 200))
    _tablet(window, QTabletEvent.Type.TabletMove, 350, 200, 0.25, pen)
    qtbot.mouseMove(viewport, _viewport_point(window, 350, 200))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=_viewport_point(window, 350, 200))
    painted = [np.count_nonzero(document.depth.data[:, x]) for x in (60, 200, 340)]
    assert painted[0] >= 38 and painted[0] > painted[1] > painted[2] >= 9
    assert len(document.history) == 1


def _shown(options, widget) -> bool:
    """Whether the options bar shows `widget` (the bar hides options through their actions)."""
    return any(action.isVisible() for action in options.actions() if options.widgetForAction(action) is widget)


def test_hardness_slider_edits_the_current_tools_hardness(qtbot, window):
    document, settings = window.document, window.view.tool_settings
    options = window.tool_options
    window.tool_actions["brush"].trigger()
    assert options.hardness_slider.value() == 100 and _shown(options, options.hardness_slider)
    settings.brush_size = 16
    _drag(qtbot, window, [(50, 100), (250, 100)])
    assert set(np.unique(document.edge.data)) == {0, 255}  # hard: pure white on black
    options.hardness_slider.setValue(30)
    assert settings.edge_hardness == 0.3 and options.hardness_label.text() == "30 %"
    _drag(qtbot, window, [(50, 300), (250, 300)])
    feathered = document.edge.data[285:316, 150].astype(int)
    assert feathered.max() == 255 and len(set(feathered) - {0, 255}) >= 4
    window.tool_actions["depth_brush"].trigger()
    assert options.hardness_slider.value() == 80  # the depth brush keeps its own hardness
    options.hardness_slider.setValue(50)
    assert settings.depth_hardness == 0.5 and settings.edge_hardness == 0.3
    window.tool_actions["line"].trigger()
    assert options.hardness_slider.value() == 100  # each tool has its own (the line was never changed)
    window.tool_actions["brush"].trigger()
    assert options.hardness_slider.value() == 30 and settings.edge_hardness == 0.3
    window.tool_actions["fill"].trigger()
    assert not _shown(options, options.hardness_slider) and _shown(options, options.tolerance_spin)


def test_fill_click_fills_an_area_and_shift_click_fills_everything(qtbot, window):
    document, settings = window.document, window.view.tool_settings
    document.depth.fill(0.2)
    document.depth.stroke([(256, 0), (256, 511)], mode="set", value=1.0, radius=4, hardness=1.0)  # a wall
    window.tool_actions["fill"].trigger()
    settings.depth_value = 255
    _drag(qtbot, window, [(100, 100)])
    assert document.depth.data[100, 100] == 1.0 and document.depth.data[100, 400] == np.float32(0.2)
    assert document.history.undo_label == "Fill depth region"
    settings.depth_value, settings.fill_tolerance = 0, 8
    _drag(qtbot, window, [(400, 400)])  # the wall is 204 levels away: it stops the fill
    assert document.depth.data[100, 400] == 0.0 and document.depth.data[100, 100] == 1.0
    window.tool_options.tolerance_spin.setValue(255)
    assert settings.fill_tolerance == 255
    settings.depth_value = 128
    _drag(qtbot, window, [(400, 400)])  # within 255 levels of the seed: everything connected
    assert np.all(document.depth.data == np.float32(128 / 255))
    window.commands["undo"].trigger()
    settings.depth_value = 51
    _drag(qtbot, window, [(400, 400)], modifier=Qt.KeyboardModifier.ShiftModifier)
    assert np.allclose(document.depth.data, 0.2, atol=1e-6) and document.history.undo_label == "Fill depth"
    count = len(document.history)
    _drag(qtbot, window, [(-40, 30)])  # beside the paper: nothing happens, no message
    assert len(document.history) == count and not window.message_bar.isVisible()


def test_eraser_and_line(qtbot, window):
    document = window.document
    window.tool_actions["line"].trigger()
    window.view.tool_settings.brush_size = 6
    _drag(qtbot, window, [(40, 40), (300, 60), (460, 460)])  # only the end point counts
    on_line = document.edge.data[250, 250]
    assert on_line == 255 and document.edge.data[60, 300] == 0
    window.tool_actions["eraser"].trigger()
    window.view.tool_settings.brush_size = 30
    _drag(qtbot, window, [(200, 200), (300, 300)])
    assert document.edge.data[250, 250] == 0 and document.edge.data[420, 420] == 255
    window.commands["undo"].trigger()
    assert document.edge.data[250, 250] == 255


def test_depth_brush_modes(qtbot, window):
    document = window.document
    window.tool_actions["depth_brush"].trigger()
    settings = window.view.tool_settings
    settings.brush_size, settings.depth_value, settings.depth_strength = 60, 255, 1.0
    _drag(qtbot, window, [(100, 100), (200, 100)])
    assert document.depth.data[100, 150] > 0.95
    settings.depth_mode, settings.depth_strength = "lower", 0.5
    _drag(qtbot, window, [(100, 100), (200, 100)])
    assert 0.4 < document.depth.data[100, 150] < 0.6
    assert len(document.history) == 2


def test_brush_outline_follows_pointer_with_brush_size(qtbot, window):
    window.tool_actions["brush"].trigger()
    window.view.tool_settings.brush_size = 40
    qtbot.mouseMove(window.view.viewport(), _viewport_point(window, 256, 256))
    outline = window.view.outline
    assert outline.isVisible()
    assert abs(outline.rect().width() - 40) < 1e-6
    assert abs(outline.rect().center().x() - 256) < 2
    window.tool_actions["pose"].trigger()
    assert not outline.isVisible()


def test_space_drag_and_middle_button_pan(qtbot, window):
    view = window.view
    view.set_zoom(2.0)
    viewport = view.viewport()
    center = view.mapToScene(viewport.rect().center())
    qtbot.mousePress(viewport, Qt.MouseButton.MiddleButton, pos=viewport.rect().center())
    qtbot.mouseMove(viewport, viewport.rect().center() + QPointF(60, 0).toPoint())
    qtbot.mouseRelease(viewport, Qt.MouseButton.MiddleButton, pos=viewport.rect().center() + QPointF(60, 0).toPoint())
    moved = view.mapToScene(viewport.rect().center())
    assert abs((center.x() - moved.x()) - 30) < 2  # 60 screen pixels at 200 %
    view.setFocus()
    qtbot.keyPress(view, Qt.Key.Key_Space)
    start = viewport.rect().center()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, start + QPointF(0, 40).toPoint())
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start + QPointF(0, 40).toPoint())
    qtbot.keyRelease(view, Qt.Key.Key_Space)
    assert not window.document.edge.data.any()  # panning, not drawing
    assert abs(view.mapToScene(viewport.rect().center()).y() - (moved.y() - 20)) < 2
