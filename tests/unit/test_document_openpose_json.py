"""OpenPose JSON import/export: round trip, other editors' files, and malformed input."""

import json

import numpy as np
import pytest

from studio.document import Document, PoseFormatError
from studio.document.openpose_json import dumps_openpose, load_openpose_frames, loads_openpose
from studio.document.serialize import layer_from_bytes, layer_to_bytes


def _flat(points, conf=1.0):
    return [v for x, y in points for v in (x, y, conf)]


def test_export_then_import_is_identical():
    doc = Document(640, 480)
    doc.pose.add_template("standing", hands=True, face=True)
    doc.pose.add_template("side_view", center=(120.3, 200.7), height=211.1)
    doc.pose.add_template("sitting", face=True)
    doc.pose.set_point_visible(0, "body", 3, False)
    doc.pose.move_point(1, "body", 2, -15.125, 490.5)  # off canvas stays
    text = dumps_openpose(doc.pose.people, canvas_width=640, canvas_height=480)
    parsed = loads_openpose(text)
    assert (parsed.canvas_width, parsed.canvas_height) == (640, 480)
    assert parsed.people == doc.pose.people
    assert dumps_openpose(parsed.people, canvas_width=640, canvas_height=480) == text
    other = Document(640, 480)
    layer_from_bytes(other.pose, layer_to_bytes(doc.pose))
    assert other.pose.people == doc.pose.people


BODY = [(256, 80), (256, 130), (210, 135), (195, 200), (190, 260), (302, 135), (317, 200), (322, 260),
        (230, 270), (228, 360), (226, 450), (282, 270), (284, 360), (286, 450), (248, 70), (264, 70),
        (238, 76), (274, 76)]  # fmt: skip


def test_body_only_file_from_another_editor_opens_and_renders():
    data = {"canvas_width": 512, "canvas_height": 512, "people": [{"pose_keypoints_2d": _flat(BODY)}]}
    parsed = loads_openpose(json.dumps(data))
    person = parsed.people[0]
    assert person.left_hand is None and person.face is None
    np.testing.assert_array_equal(person.body.xy, BODY)
    doc = Document(512, 512)
    doc.pose.set_people(parsed.people)
    image = doc.control_image("pose")
    assert image[80, 256].tolist() == [255, 0, 0]  # the nose joint colour


def test_file_with_hands_face_and_partial_confidences():
    hand = [(180 + i, 270 + i) for i in range(21)]
    face = [(240 + (i % 10) * 3, 60 + (i // 10) * 3) for i in range(70)]
    body = _flat(BODY)
    body[3 * 16 + 2] = 0.0  # right ear not detected
    body[3 * 17 : 3 * 17 + 3] = [0, 0, 0]  # left ear written as zeros
    data = {
        "canvas_width": 512,
        "canvas_height": 512,
        "people": [{
            "pose_keypoints_2d": body,
            "hand_left_keypoints_2d": _flat(hand, 0.7),
            "hand_right_keypoints_2d": [],
            "face_keypoints_2d": _flat(face, 0.9),
        }],
    }  # fmt: skip
    person = loads_openpose(json.dumps(data).encode()).people[0]
    assert person.right_hand is None and person.left_hand.visible.all() and person.face.visible.all()
    assert not person.body.visible[16] and not person.body.visible[17] and person.body.visible[:16].all()
    doc = Document(512, 512)
    doc.pose.set_people([person])
    image = doc.control_image("pose")
    assert image[60, 240].tolist() == [255, 255, 255]


def test_normalised_coordinates_and_list_of_frames():
    norm = [(x / 512, y / 1024) for x, y in BODY]
    data = [
        {"canvas_width": 512, "canvas_height": 1024, "people": [{"pose_keypoints_2d": _flat(norm)}]},
        {"canvas_width": 256, "canvas_height": 256, "people": [{"pose_keypoints_2d": _flat([(x / 2, y / 4) for x, y in BODY])}]},
    ]  # fmt: skip
    parsed = loads_openpose(json.dumps(data))
    assert (parsed.canvas_width, parsed.canvas_height) == (512, 1024)
    assert len(parsed.people) == 1 and "2 frames" in parsed.notes[0]
    np.testing.assert_allclose(parsed.people[0].body.xy, BODY)
    second = loads_openpose(json.dumps(data), frame=1)
    assert (second.canvas_width, second.canvas_height) == (256, 256) and second.notes == ()
    np.testing.assert_allclose(second.people[0].body.xy, [(x / 2, y / 4) for x, y in BODY])
    assert [len(f.people) for f in load_openpose_frames(json.dumps(data))] == [1, 1]
    with pytest.raises(PoseFormatError, match="frames 0 to 1"):
        loads_openpose(json.dumps(data), frame=2)


def test_missing_canvas_uses_given_size_and_body25_is_converted():
    body25 = []
    for i in range(25):
        body25.append((1000 + i, 2000 + i))
    data = {"version": 1.3, "people": [{"person_id": [-1], "pose_keypoints_2d": _flat(body25)}]}
    with pytest.raises(PoseFormatError, match="canvas"):
        loads_openpose(json.dumps(data))
    parsed = loads_openpose(json.dumps(data), canvas_size=(1920, 1080))
    xy = parsed.people[0].body.xy
    assert xy[7].tolist() == [1007, 2007] and xy[8].tolist() == [1009, 2009]  # mid-hip skipped
    assert xy[17].tolist() == [1018, 2018]


@pytest.mark.parametrize(
    "text, message",
    [
        ("{", "not valid JSON"),
        ('{"canvas_width": 512, "canvas_height": 512, "people": [{"pose_keypoints_2d": [1, 2', "not valid JSON"),
        ("[]", "empty list"),
        ('"hello"', "not an OpenPose object"),
        ('{"canvas_width": 512}', "no 'people'"),
        ('{"canvas_width": 512, "canvas_height": 512, "people": [{"pose_keypoints_2d": [1, 2, 3]}]}', "expected 54"),
        ('{"canvas_width": 512, "canvas_height": 512, "people": [{}]}', "no pose_keypoints_2d"),
        ('{"canvas_width": 512, "canvas_height": 512, "people": [3]}', "not a JSON object"),
        ('{"canvas_width": "big", "canvas_height": 512, "people": []}', "not a number"),
        ('{"canvas_width": -3, "canvas_height": 512, "people": []}', "whole number"),
        ('{"canvas_width": 512, "canvas_height": 512, "people": {"a": 1}}', "no 'people' list"),
    ],
)
def test_malformed_files_raise_pose_format_error(text, message):
    with pytest.raises(PoseFormatError, match=message):
        loads_openpose(text)


def test_bad_values_inside_lists():
    def one(body=None, **extra):
        person = {"pose_keypoints_2d": body if body is not None else _flat(BODY)}
        person.update(extra)
        return {"canvas_width": 512, "canvas_height": 512, "people": [person]}

    nan_body = _flat(BODY)
    nan_body[0] = float("nan")
    with pytest.raises(PoseFormatError, match="NaN"):
        loads_openpose(json.dumps(one(nan_body)))
    nan_hidden = _flat(BODY)
    nan_hidden[0:3] = [float("nan"), float("nan"), 0]
    assert not loads_openpose(json.dumps(one(nan_hidden))).people[0].body.visible[0]
    with pytest.raises(PoseFormatError, match="not a number"):
        loads_openpose(json.dumps(one(["x"] * 54)))
    with pytest.raises(PoseFormatError, match="not a number"):
        loads_openpose(json.dumps(one([True] * 54)))
    with pytest.raises(PoseFormatError, match="expected 63"):
        loads_openpose(json.dumps(one(hand_left_keypoints_2d=[1.0] * 60)))
    with pytest.raises(PoseFormatError, match="expected 210 or 204"):
        loads_openpose(json.dumps(one(face_keypoints_2d=[1.0] * 201)))
    with pytest.raises(PoseFormatError, match="not a list"):
        loads_openpose(json.dumps(one(face_keypoints_2d="none")))
    negative = _flat(BODY)
    negative[0] = -40.0
    person = loads_openpose(json.dumps(one(negative))).people[0]
    assert person.body.visible[0] and person.body.xy[0][0] == -40.0
    with pytest.raises(PoseFormatError):
        loads_openpose(b"\xff\xfe\x00garbage")
    with pytest.raises(PoseFormatError, match="coordinates"):
        huge = _flat(BODY)
        huge[0] = 1e300
        loads_openpose(json.dumps(one(huge)))
