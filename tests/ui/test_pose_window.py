"""The pose layer in the window: the Pose menu is always populated (enabled by state), File ▸ Import / Export
Pose JSON with real files (sd-webui-openpose-editor's pose.json), dropping a .json on the canvas, choosing a
frame of a ComfyUI POSE_KEYPOINT list, notes and errors, and hiding or showing joints, hands and face."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QContextMenuEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from canvas_input import viewport_point
from studio.document.openpose_json import loads_openpose
from ui.dialogs.pose_frames import PoseFramesDialog

EDITOR_FILE = Path(__file__).parents[1] / "unit" / "fixtures" / "openpose" / "sd_webui_openpose_editor_pose.json"
POSE_KEYS = ("delete_person", "mirror_person", "add_hands", "add_face", "hide_hands", "show_hands", "hide_face",
             "show_face", "hide_joint")


@pytest.fixture
def editor_file(tmp_path) -> Path:
    return Path(shutil.copy(EDITOR_FILE, tmp_path / "pose.json"))


def _people_xy(document) -> list:
    return [person.body.xy.tolist() for person in document.pose.people]


def test_pose_menu_is_populated_whatever_the_tool(window):
    menu = window.menus.menus["Pose"]
    for tool in ("brush", "depth_brush", "pose", "eraser"):
        window.tool_actions[tool].trigger()
        shown = [action for action in menu.actions() if action.isVisible() and not action.isSeparator()]
        assert len(shown) >= 1 + len(POSE_KEYS) + 1  # Add Person, the commands, Show Joint
        assert all(window.commands[key].isVisible() for key in POSE_KEYS)
    window.tool_actions["brush"].trigger()
    assert not window.commands["delete_person"].isEnabled()  # no person yet: disabled, not missing
    assert not window.commands["export_pose"].isEnabled()
    window.commands["add_person"].menu().actions()[0].trigger()
    assert len(window.document.pose.people) == 1
    for key in ("delete_person", "mirror_person", "add_hands", "add_face", "export_pose"):
        assert window.commands[key].isEnabled(), key
    for key in ("hide_hands", "show_hands", "hide_face", "show_face", "hide_joint"):
        assert not window.commands[key].isEnabled(), key
    window.commands["add_hands"].trigger()
    assert window.commands["hide_hands"].isEnabled() and not window.commands["show_hands"].isEnabled()
    # the tool options bar shows its pose buttons for the pose tool only; the menu keeps its actions
    bar = window.tool_options
    pose_entries = bar._groups["pose"]
    window.tool_actions["brush"].trigger()
    assert not any(entry.isVisible() for entry in pose_entries)
    window.tool_actions["pose"].trigger()
    assert all(entry.isVisible() for entry in pose_entries)


def test_commands_are_disabled_with_two_people_and_none_selected(window):
    tool = window.view.tools["pose"]
    window.view.run_edit(lambda: tool.add_template("standing"))
    window.view.run_edit(lambda: tool.add_template("sitting"))
    tool.select(None)
    assert not window.commands["mirror_person"].isEnabled()
    tool.select(1)
    assert window.commands["mirror_person"].isEnabled()


def test_import_menu_reads_the_editor_file_as_one_undo_step(window, editor_file, monkeypatch):
    document = window.document  # 512 x 512; the file's canvas is 768 x 512
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(editor_file), ""))
    window.commands["import_pose"].trigger()
    assert len(document.pose.people) == 1
    person = document.pose.people[0]
    scale, dy = 512 / 768, (512 - 512 * 512 / 768) / 2  # fitted by the smaller factor, centred
    np.testing.assert_allclose(person.body.xy[0], (367.0 * scale, 172.0 * scale + dy), atol=1e-6)
    assert np.flatnonzero(~person.left_hand.visible).tolist() == [8, 12, 16]  # the -1 px markers are hidden
    assert person.face is None
    assert window.view.tool.name == "pose"
    image = document.control_image("pose")
    assert image[:40, :40].max() == 0  # nothing collapsed into the corner
    window.commands["undo"].trigger()
    assert document.pose.people == ()
    window.commands["redo"].trigger()
    assert len(document.pose.people) == 1


def test_dropping_a_json_file_on_the_canvas_imports_it(window, editor_file):
    viewport = window.view.viewport()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(editor_file))])
    pos = QPointF(viewport.rect().center())
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, drop)
    assert drop.isAccepted()
    assert len(window.document.pose.people) == 1
    # a picture is not a pose file: the pose commands leave that drop alone
    window.commands["undo"].trigger()
    picture = editor_file.with_suffix(".png")
    picture.write_bytes(b"not a pose")
    other = QMimeData()
    other.setUrls([QUrl.fromLocalFile(str(picture))])
    QApplication.sendEvent(viewport, QDropEvent(pos, Qt.DropAction.CopyAction, other, Qt.MouseButton.LeftButton,
                                                Qt.KeyboardModifier.NoModifier))
    assert window.document.pose.people == ()
    assert window.message_bar.kind != "error"


def _frames_file(tmp_path) -> Path:
    """A ComfyUI POSE_KEYPOINT list: three frames of the editor's person, moved right by 0.1 each frame; the
    second frame also holds a person without a body (skipped with a note)."""
    frame = json.loads(EDITOR_FILE.read_text())
    frames = []
    for number in range(3):
        item = json.loads(json.dumps(frame))
        body = item["people"][0]["pose_keypoints_2d"]
        for i in range(0, len(body), 3):
            if body[i + 2] > 0:
                body[i] += 0.1 * number
        if number == 1:
            item["people"].insert(0, {"pose_keypoints_2d": None, "face_keypoints_2d": None,
                                      "hand_left_keypoints_2d": None, "hand_right_keypoints_2d": None})
        frames.append(item)
    path = tmp_path / "comfyui_pose_keypoint.json"
    path.write_text(json.dumps(frames))
    return path


def test_a_file_with_frames_asks_which_frame(qtbot, window, tmp_path):
    path = _frames_file(tmp_path)
    picked = []

    def pick_second_frame():
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, PoseFramesDialog)
        assert dialog.list.count() == 3 and dialog.list.item(1).text().startswith("Frame 2: 1 person")
        dialog.list.setCurrentRow(1)
        picked.append(True)
        dialog.accept()

    QTimer.singleShot(0, pick_second_frame)
    assert window.pose_commands.import_file(path)
    assert picked
    expected = loads_openpose(path.read_text(), frame=1)
    scale = 512 / 768
    nose = window.document.pose.people[0].body.xy[0]
    assert nose[0] == pytest.approx(expected.people[0].body.xy[0][0] * scale)
    assert "skipped" in window.message_bar.text() and window.message_bar.kind == "info"
    assert "frame 2 of 3" in window.message_bar.text()


def test_cancelling_the_frame_choice_changes_nothing(qtbot, window, tmp_path):
    tool = window.view.tools["pose"]
    window.view.run_edit(lambda: tool.add_template("standing"))
    before = _people_xy(window.document)

    def cancel():
        QApplication.activeModalWidget().reject()

    QTimer.singleShot(0, cancel)
    assert not window.pose_commands.import_file(_frames_file(tmp_path))
    assert _people_xy(window.document) == before


@pytest.mark.parametrize("content, reason", [
    (b'{"people": [{"pose_keypoints_2d": [0.5, 0.5', "not valid JSON"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b'{"people": [{"pose_keypoints_2d": null, "hand_left_keypoints_2d": null}]}', "no person with a body"),
    (b'{"people": [{"pose_keypoints_2d": [1, 2, 3]}]}', ""),
    (b"[]", "empty list"),
])
def test_a_broken_file_changes_nothing_and_says_why(window, tmp_path, content, reason):
    tool = window.view.tools["pose"]
    window.view.run_edit(lambda: tool.add_template("standing"))
    before, steps = _people_xy(window.document), window.document.history.index
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    assert not window.pose_commands.import_file(path)
    assert _people_xy(window.document) == before
    assert window.document.history.index == steps
    text = window.message_bar.text()
    assert window.message_bar.kind == "error" and "broken.json" in text and "unchanged" in text
    assert reason in text


def test_a_missing_file_and_a_locked_layer_are_reported(window, editor_file, tmp_path):
    assert not window.pose_commands.import_file(tmp_path / "gone.json")
    assert "cannot be read" in window.message_bar.text()
    window.document.pose.locked = True
    assert not window.pose_commands.import_file(editor_file)
    assert window.document.pose.people == ()
    assert window.message_bar.kind == "error"


def test_export_writes_what_import_reads_back(window, editor_file, tmp_path, monkeypatch):
    assert window.pose_commands.import_file(editor_file)
    window.commands["add_face"].trigger()
    out = tmp_path / "out" / "exported"
    out.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(out), ""))
    window.commands["export_pose"].trigger()
    written = out.with_suffix(".json")
    data = json.loads(written.read_text())
    assert (data["canvas_width"], data["canvas_height"]) == (512, 512)
    again = loads_openpose(written.read_text())
    assert again.people == window.document.pose.people
    assert not list(out.parent.glob(".*.tmp"))
    assert not window.pose_commands.export_file(tmp_path / "no" / "such" / "folder" / "pose.json")
    assert "Could not write" in window.message_bar.text()


def test_hide_a_clicked_joint_and_show_it_again(qtbot, window):
    tool = window.view.tools["pose"]
    window.tool_actions["pose"].trigger()
    window.view.run_edit(lambda: tool.add_template("standing"))
    tool.select(None)
    body = window.document.pose.people[0].body
    wrist = 4  # right wrist
    assert not window.commands["hide_joint"].isEnabled()
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=viewport_point(window, *body.xy[wrist]))
    assert tool.selected_point is not None and tool.selected_point.index == wrist
    assert window.commands["hide_joint"].isEnabled()
    window.commands["hide_joint"].trigger()
    person = window.document.pose.people[0]
    assert not person.body.visible[wrist] and person.body.visible.sum() == 17
    assert person.body.xy[wrist].tolist() == body.xy[wrist].tolist()  # the position is kept
    assert not window.commands["hide_joint"].isEnabled()
    joints = window.pose_commands.joints_menu
    assert joints.isEnabled()
    joints.aboutToShow.emit()
    labels = [action.text() for action in joints.actions()]
    assert labels == ["Right wrist"]
    joints.actions()[0].trigger()
    assert window.document.pose.people[0].body.visible.all()
    assert not joints.isEnabled()


def test_hidden_joints_of_an_imported_file_are_listed_by_name(window, editor_file):
    window.pose_commands.import_file(editor_file)
    menu = window.pose_commands.joints_menu
    menu.aboutToShow.emit()
    labels = [action.text() for action in menu.actions()]
    assert labels[:6] == ["Right hip", "Right knee", "Right ankle", "Left hip", "Left knee", "Left ankle"]
    assert "Left hand (3 hidden points)" in labels and "Right hand (1 hidden points)" in labels


def test_hide_and_show_hands_and_face_are_one_undo_step_each(window):
    tool = window.view.tools["pose"]
    window.view.run_edit(lambda: tool.add_template("standing"))
    window.commands["add_hands"].trigger()
    window.commands["add_face"].trigger()
    drawn = window.document.control_image("pose")
    window.commands["hide_hands"].trigger()
    person = window.document.pose.people[0]
    assert not person.left_hand.visible.any() and not person.right_hand.visible.any()
    assert person.face.visible.all()
    assert window.commands["show_hands"].isEnabled() and not window.commands["hide_hands"].isEnabled()
    window.commands["hide_face"].trigger()
    assert not window.document.pose.people[0].face.visible.any()
    assert not np.array_equal(window.document.control_image("pose"), drawn)
    window.commands["undo"].trigger()
    assert window.document.pose.people[0].face.visible.all()
    window.commands["undo"].trigger()  # both hands come back in one step
    person = window.document.pose.people[0]
    assert person.left_hand.visible.all() and person.right_hand.visible.all()
    assert np.array_equal(window.document.control_image("pose"), drawn)
    window.commands["hide_face"].trigger()
    window.commands["show_face"].trigger()
    assert window.document.pose.people[0].face.visible.all()


def test_right_click_on_a_joint_offers_to_hide_it(qtbot, window):
    tool = window.view.tools["pose"]
    window.tool_actions["pose"].trigger()
    window.view.run_edit(lambda: tool.add_template("standing"))
    window.commands["add_hands"].trigger()
    tool.select(None)
    elbow = window.document.pose.people[0].body.xy[6]  # left elbow
    viewport = window.view.viewport()
    shown = []

    def use_menu():
        menu = QApplication.activePopupWidget()
        shown.append([action.text() for action in menu.actions() if not action.isSeparator()])
        next(action for action in menu.actions() if action.text().startswith("Hide &Joint")).trigger()
        menu.close()

    QTimer.singleShot(0, use_menu)
    where = viewport_point(window, *elbow)
    QApplication.sendEvent(viewport, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, where,
                                                       viewport.mapToGlobal(where)))
    assert shown and shown[0][0] == "Hide &Joint (Left elbow)"
    assert "Hide Hands" in shown[0] and "&Delete Person" in shown[0]
    assert not window.document.pose.people[0].body.visible[6]
    # with another tool the canvas keeps its own right-click behaviour
    window.tool_actions["brush"].trigger()
    assert window.pose_commands.context_menu(QPointF(*elbow)) is None


def test_frames_dialog_skips_frames_without_people(qtbot):
    from studio.document.openpose_json import load_openpose_frames

    person = json.loads(EDITOR_FILE.read_text())
    empty = {"people": [], "canvas_width": 768, "canvas_height": 512}
    frames = load_openpose_frames(json.dumps([empty, person, person]))
    dialog = PoseFramesDialog(frames, file_name="walk.json")
    qtbot.addWidget(dialog)
    assert dialog.list.item(0).text() == "Frame 1: no person, 768 × 512"
    assert not dialog.list.item(0).flags() & Qt.ItemFlag.ItemIsEnabled
    assert dialog.chosen() == 1  # the first frame with someone in it
    assert not dialog.list.item(1).icon().isNull()  # a drawing of the frame's pose
    dialog.list.setCurrentRow(2)
    assert dialog.chosen() == 2
