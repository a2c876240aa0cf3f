"""OpenPose JSON as other tools write it: sd-webui-openpose-editor's detector file, null bodies (sd-webui-controlnet),
68-point faces (DWPose / COCO-WholeBody) and ComfyUI POSE_KEYPOINT frame lists."""

import json
from pathlib import Path

import numpy as np
import pytest

from studio.document import Document, PoseFormatError
from studio.document.openpose_json import load_openpose_frames, loads_openpose

FIXTURES = Path(__file__).parent / "fixtures" / "openpose"
BODY = [(256, 80), (256, 130), (210, 135), (195, 200), (190, 260), (302, 135), (317, 200), (322, 260),
        (230, 270), (228, 360), (226, 450), (282, 270), (284, 360), (286, 450), (248, 70), (264, 70),
        (238, 76), (274, 76)]  # fmt: skip


def _flat(points, conf=1.0):
    return [v for x, y in points for v in (x, y, conf)]


def test_normalised_detector_file_with_minus_one_pixel_hand_points():
    raw = json.loads((FIXTURES / "sd_webui_openpose_editor_pose.json").read_text())
    parsed = loads_openpose((FIXTURES / "sd_webui_openpose_editor_pose.json").read_bytes())
    assert (parsed.canvas_width, parsed.canvas_height) == (768, 512)
    person = parsed.people[0]
    assert person.face is None
    body = np.array(raw["people"][0]["pose_keypoints_2d"]).reshape(18, 3)
    np.testing.assert_allclose(person.body.xy[body[:, 2] > 0], body[body[:, 2] > 0, :2] * (768, 512))
    assert person.body.xy[0].round(3).tolist() == [367.0, 172.0]  # the nose, in pixels, not in the corner
    left = person.left_hand
    # points 8, 12 and 16 carry the detector's -1 px marker and are hidden; the others are in pixels
    assert np.flatnonzero(~left.visible).tolist() == [8, 12, 16]
    assert np.flatnonzero(~person.right_hand.visible).tolist() == [12]
    assert (left.xy[left.visible] > 100).all()
    doc = Document(768, 512)
    doc.pose.set_people(parsed.people)
    image = doc.control_image("pose")
    assert image[:40, :40].max() == 0  # nothing collapsed into the top-left corner
    assert image[172, 367].tolist() == [255, 0, 0]  # the nose joint where the editor shows it


def test_normalised_or_pixels_is_decided_per_part():
    hand = [(0.5 + i / 100, 0.5 + i / 200) for i in range(21)]
    data = {"canvas_width": 512, "canvas_height": 512,
            "people": [{"pose_keypoints_2d": _flat(BODY), "hand_left_keypoints_2d": _flat(hand)}]}
    person = loads_openpose(json.dumps(data)).people[0]
    np.testing.assert_array_equal(person.body.xy, BODY)
    np.testing.assert_allclose(person.left_hand.xy, np.array(hand) * 512)


def test_person_without_body_is_skipped_with_a_note():
    empty = {"pose_keypoints_2d": None, "face_keypoints_2d": None, "hand_left_keypoints_2d": None,
             "hand_right_keypoints_2d": None}
    data = {"people": [empty, {"pose_keypoints_2d": _flat(BODY)}, {"pose_keypoints_2d": []}],
            "canvas_height": 1080, "canvas_width": 1920}
    parsed = loads_openpose(json.dumps(data))
    assert len(parsed.people) == 1
    np.testing.assert_array_equal(parsed.people[0].body.xy, BODY)
    assert [n.split(" of")[0] for n in parsed.notes] == ["Person 1", "Person 3"]
    assert all("skipped" in n for n in parsed.notes)


def test_68_point_face_is_padded_with_pupils():
    face = [(200 + (i % 17) * 5, 60 + (i // 17) * 7) for i in range(68)]
    raw = _flat(face)
    raw[3 * 40 + 2] = 0.0  # one point of the right eye hidden: no right pupil
    data = {"canvas_width": 512, "canvas_height": 512,
            "people": [{"pose_keypoints_2d": _flat(BODY), "face_keypoints_2d": raw}]}
    person = loads_openpose(json.dumps(data)).people[0]
    assert len(person.face) == 70
    np.testing.assert_array_equal(person.face.xy[:68], face)
    assert not person.face.visible[68] and person.face.visible[69]
    np.testing.assert_allclose(person.face.xy[69], np.mean(face[42:48], axis=0))


def test_comfyui_pose_keypoint_frames_and_nested_points():
    frames = []
    for shift in range(3):
        moved = [(x + 10 * shift, y) for x, y in BODY]
        frames.append({"people": [{"pose_keypoints_2d": [[x / 512, y / 768, 1.0] for x, y in moved],
                                   "face_keypoints_2d": [], "hand_left_keypoints_2d": None,
                                   "hand_right_keypoints_2d": None}],
                       "canvas_height": 768, "canvas_width": 512})
    all_frames = load_openpose_frames(json.dumps(frames))
    assert len(all_frames) == 3 and all(len(f.people) == 1 for f in all_frames)
    np.testing.assert_allclose(all_frames[2].people[0].body.xy, [(x + 20, y) for x, y in BODY])
    first = loads_openpose(json.dumps(frames))
    assert "3 frames" in first.notes[0]
    np.testing.assert_allclose(first.people[0].body.xy, BODY)
    np.testing.assert_allclose(loads_openpose(frames, frame=1).people[0].body.xy, [(x + 10, y) for x, y in BODY])


def test_animal_poses_and_bad_points_are_refused_clearly():
    with pytest.raises(PoseFormatError, match="animal"):
        loads_openpose(json.dumps([{"version": "ap10k", "animals": [], "canvas_width": 64, "canvas_height": 64}]))
    with pytest.raises(PoseFormatError, match=r"\[x, y\]"):
        loads_openpose(json.dumps({"canvas_width": 64, "canvas_height": 64,
                                   "people": [{"pose_keypoints_2d": [[1, 2, 3, 4]] * 18}]}))
    with pytest.raises(PoseFormatError, match="frame"):
        loads_openpose(json.dumps({"canvas_width": 64, "canvas_height": 64, "people": []}), frame=True)


def test_pose_layer_imports_one_undo_step_scaled_and_exports_back():
    doc = Document(384, 256)  # half the editor file's 768x512 canvas
    notes = doc.pose.import_openpose((FIXTURES / "sd_webui_openpose_editor_pose.json").read_text())
    assert notes == ()
    assert doc.pose.people[0].body.xy[0].round(3).tolist() == [183.5, 86.0]
    text = doc.pose.export_openpose()
    again = Document(384, 256)
    again.pose.import_openpose(text)
    assert again.pose.people == doc.pose.people
    doc.pose.set_part_visible(0, "left_hand", False)
    assert not doc.pose.people[0].left_hand.visible.any()
    doc.history.undo()
    assert doc.pose.people[0].left_hand.visible.sum() == 18
    doc.history.undo()
    assert len(doc.pose) == 0
    with pytest.raises(PoseFormatError):
        doc.pose.import_openpose("{")
    assert len(doc.pose) == 0  # a bad file changes nothing
