"""The canvas driven with real mouse events on the view's viewport: strokes, pose drags, undo, zoom, locks."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from canvas_input import drag as _drag



def test_brush_stroke_changes_edge_pixels_and_undo_restores(qtbot, window):
    document = window.document
    window.tool_actions["brush"].trigger()
    assert window.view.tool.name == "brush"
    before = document.edge.data.copy()
    _drag(qtbot, window, [(100, 100), (150, 120), (200, 160), (260, 200)])
    changed = document.edge.data != before
    assert changed.any()
    ys, xs = np.nonzero(changed)
    assert 90 <= xs.min() and xs.max() <= 270 and 90 <= ys.min() and ys.max() <= 210
    assert len(document.history) == 1  # the whole stroke is one undo step
    # The canvas item shows the new pixels (its display buffer follows the core's dirty region).
    item = window.view.items.by_layer["edge"]
    pixel = item.image.pixel(int(xs[0]), int(ys[0]))
    assert pixel >> 24 > 0
    window.commands["undo"].trigger()
    assert np.array_equal(document.edge.data, before)
    assert item.image.pixel(int(xs[0]), int(ys[0])) >> 24 == 0
    window.commands["redo"].trigger()
    assert changed.sum() == (document.edge.data != before).sum()


def test_pose_joint_drag_moves_keypoint_and_undo_restores_both_layers(qtbot, window):
    document = window.document
    window.view.run_edit(lambda: window.view.tools["pose"].add_template("standing"))
    window.tool_actions["brush"].trigger()
    _drag(qtbot, window, [(40, 400), (200, 420)])
    edges_after_stroke = document.edge.data.copy()
    window.tool_actions["pose"].trigger()
    wrist = document.pose.people[0].body.xy[4].copy()  # right wrist
    target = wrist + np.array([40.0, -30.0])
    _drag(qtbot, window, [tuple(wrist), tuple(wrist + [20, -15]), tuple(target)])
    moved = document.pose.people[0].body.xy[4]
    assert np.allclose(moved, target, atol=1.5)
    steps = len(document.history)
    window.commands["undo"].trigger()  # the whole drag is one step
    assert len(document.history) == steps
    assert np.allclose(document.pose.people[0].body.xy[4], wrist)
    window.commands["undo"].trigger()  # then the edge stroke
    assert not np.array_equal(document.edge.data, edges_after_stroke)
    assert (document.edge.data[380:440, 30:210] == 0).all()


def test_drag_person_body_moves_whole_person(qtbot, window):
    document = window.document
    window.view.set_tool("pose")
    window.view.run_edit(lambda: window.view.tools["pose"].add_template("standing"))
    body = document.pose.people[0].body.xy.copy()
    hip_mid = (body[8] + body[11]) / 2 + [0, 40]  # inside the person's box, away from any joint
    _drag(qtbot, window, [tuple(hip_mid), tuple(hip_mid + [30, 10])])
    assert np.allclose(document.pose.people[0].body.xy, body + [30, 10], atol=1.5)


def test_locked_layer_refuses_stroke_with_message(qtbot, window):
    document = window.document
    document.edge.locked = True
    assert window.layers_panel.rows["edge"].locked.isChecked()
    messages = []
    window.view.message.connect(messages.append)
    window.tool_actions["brush"].trigger()
    _drag(qtbot, window, [(100, 100), (200, 200)])
    assert not document.edge.data.any()
    assert messages and "locked" in messages[0]


def test_layers_panel_sets_visibility_and_opacity(window):
    row = window.layers_panel.rows["depth"]
    row.visible.setChecked(False)
    assert window.document.depth.visible is False
    assert not window.view.items.by_layer["depth"].isVisible()
    row.opacity.setValue(40)
    assert abs(window.document.depth.opacity - 0.4) < 1e-9
    assert abs(window.view.items.by_layer["depth"].opacity() - 0.4) < 1e-9


def test_depth_gradient_tool_and_fill(qtbot, window):
    document = window.document
    window.tool_actions["gradient"].trigger()
    window.view.tool_settings.depth_value = 255
    _drag(qtbot, window, [(0, 256), (256, 256), (511, 256)])
    assert document.depth.data[256, 5] > 0.9 and document.depth.data[256, 505] < 0.1
    window.tool_actions["fill"].trigger()
    window.view.tool_settings.depth_value = 51
    _drag(qtbot, window, [(10, 10)], modifier=Qt.KeyboardModifier.ShiftModifier)  # Shift: fill the whole layer
    assert np.allclose(document.depth.data, 0.2, atol=1e-6)
    window.commands["undo"].trigger()
    assert document.depth.data[256, 5] > 0.9


def test_zoom_fit_and_wheel(qtbot, window):
    view = window.view
    view.fit_to_window()
    fitted = view.zoom
    window.commands["zoom_in"].trigger()
    assert view.zoom > fitted
    window.commands["zoom_out"].trigger()
    window.commands["zoom_out"].trigger()
    assert view.zoom < fitted
    window.commands["fit"].trigger()
    assert abs(view.zoom - fitted) < 1e-6


def test_pose_commands_mirror_hands_face_delete(window):
    pose_tool = window.view.tools["pose"]
    window.view.set_tool("pose")
    window.view.run_edit(lambda: pose_tool.add_template("walking"))
    person = window.document.pose.people[0]
    window.commands["add_hands"].trigger()
    window.commands["add_face"].trigger()
    person = window.document.pose.people[0]
    assert person.left_hand is not None and person.face is not None
    window.commands["mirror_person"].trigger()
    assert not np.allclose(window.document.pose.people[0].body.xy, person.body.xy)
    window.commands["delete_person"].trigger()
    assert len(window.document.pose.people) == 0
    window.commands["undo"].trigger()
    assert len(window.document.pose.people) == 1


def test_pose_commands_without_selection_report_a_message(window):
    pose_tool = window.view.tools["pose"]
    window.view.run_edit(lambda: pose_tool.add_template("standing"))
    window.view.run_edit(lambda: pose_tool.add_template("sitting"))
    pose_tool.select(None)
    assert not window.commands["mirror_person"].isEnabled()  # the menu item is disabled (issue 19 item 7)
    messages = []
    window.view.message.connect(messages.append)
    window.view.run_edit(pose_tool.mirror_selected)  # a script calling the tool still gets the reason
    assert messages and "Select a person" in messages[0]
    assert window.view.items.pose.selected_person is None


def test_wheel_zooms_around_pointer(qtbot, window):
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    view = window.view
    before = view.zoom
    viewport = view.viewport()
    pos = QPointF(viewport.rect().center())
    event = QWheelEvent(pos, QPointF(viewport.mapToGlobal(pos)), QPoint(), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, event)
    assert abs(view.zoom / before - 1.25**2) < 1e-6


def test_shift_drag_scales_and_ctrl_drag_rotates_a_person(qtbot, window):
    document = window.document
    window.view.run_edit(lambda: window.view.tools["pose"].add_template("standing"))
    window.tool_actions["pose"].trigger()
    body = document.pose.people[0].body.xy.copy()
    grab = (body[8] + body[11]) / 2 + [0, 40]
    _drag(qtbot, window, [tuple(grab), tuple(grab - [0, 60])], modifier=Qt.KeyboardModifier.ShiftModifier)
    height = np.ptp(document.pose.people[0].body.xy[:, 1])
    assert height > np.ptp(body[:, 1]) * 1.1
    assert len(document.history) == 2  # add + one scale drag
    center = np.array(document.pose.people[0].center())
    start = center + [80, 0]
    end = center + [0, 80]  # a quarter turn clockwise on screen
    _drag(qtbot, window, [tuple(start), tuple(center + [60, 60]), tuple(end)],
          modifier=Qt.KeyboardModifier.ControlModifier)
    neck_to_nose = document.pose.people[0].body.xy[0] - document.pose.people[0].body.xy[1]
    assert abs(neck_to_nose[0]) > abs(neck_to_nose[1])  # the head now points sideways
    assert len(document.history) == 3
