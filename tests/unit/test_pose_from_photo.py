"""Pose from a photo: the Holistic -> OpenPose mapping (always) and MediaPipe on a real photo (when installed)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from studio.document.keypoints import BODY_MIRROR, FACE_MIRROR
from studio.pose.mapping import BODY_FROM_BLAZEPOSE, FACE_FROM_MESH, holistic_to_person

PHOTO = Path(__file__).parent / "fixtures" / "photos" / "astronaut.jpg"  # NASA, public domain (scikit-image data)
HAS_MEDIAPIPE = importlib.util.find_spec("mediapipe") is not None
# BlazePose's left/right landmark pairs (subject's left first), for mirroring synthetic bodies.
BLAZEPOSE_PAIRS = [(1, 4), (2, 5), (3, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16), (17, 18), (19, 20),
                   (21, 22), (23, 24), (25, 26), (27, 28), (29, 30), (31, 32)]


def _synthetic_pose(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pose = np.column_stack([rng.uniform(0.1, 0.9, (33, 2)), rng.uniform(-0.1, 0.1, 33), np.ones(33)])
    return pose


def test_body_points_take_the_blazepose_landmarks_and_the_neck_is_between_the_shoulders():
    pose = _synthetic_pose()
    person = holistic_to_person(pose=pose, width=200, height=100)
    body = person.body
    assert len(body) == 18 and body.visible.all()
    assert np.allclose(body.xy[2], pose[12, :2] * [200, 100])  # right shoulder = BlazePose 12 (subject's right)
    assert np.allclose(body.xy[7], pose[15, :2] * [200, 100])  # left wrist = BlazePose 15
    assert np.allclose(body.xy[1], (pose[11, :2] + pose[12, :2]) / 2 * [200, 100])
    assert person.left_hand is None and person.right_hand is None and person.face is None


def test_mirroring_the_photo_mirrors_the_openpose_body():
    pose = _synthetic_pose(1)
    mirrored = pose.copy()
    mirrored[:, 0] = 1.0 - mirrored[:, 0]
    for a, b in BLAZEPOSE_PAIRS:  # a mirrored subject's left is where the right was
        mirrored[[a, b]] = mirrored[[b, a]]
    one = holistic_to_person(pose=pose, width=100, height=100).body.xy
    other = holistic_to_person(pose=mirrored, width=100, height=100).body.xy
    expected = one[BODY_MIRROR].copy()
    expected[:, 0] = 100 - expected[:, 0]
    assert np.allclose(other, expected)


def test_low_visibility_and_out_of_frame_points_are_hidden():
    pose = _synthetic_pose(2)
    pose[14, 3] = 0.2  # right elbow barely visible
    pose[27, 1] = 1.3  # left ankle below the picture
    pose[11, 3] = 0.1  # left shoulder hidden: the neck needs both shoulders
    body = holistic_to_person(pose=pose, width=64, height=64).body
    assert not body.visible[3] and not body.visible[13] and not body.visible[5] and not body.visible[1]
    assert body.visible[[0, 2, 4, 6, 7]].all()
    assert holistic_to_person(pose=pose, width=64, height=64, min_visibility=0.05).body.visible[[1, 3, 5]].all()


def test_hands_map_one_to_one_and_the_face_gives_70_points_with_pupils():
    rng = np.random.default_rng(3)
    left, right = rng.uniform(0, 1, (21, 3)), rng.uniform(0, 1, (21, 3))
    face = rng.uniform(0.2, 0.8, (478, 3))
    person = holistic_to_person(pose=_synthetic_pose(), left_hand=left, right_hand=right, face=face,
                                width=10, height=20)
    assert np.allclose(person.left_hand.xy, left[:, :2] * [10, 20])
    assert np.allclose(person.right_hand.xy, right[:, :2] * [10, 20])
    assert len(person.face) == 70 and person.face.visible.all()
    assert np.allclose(person.face.xy[:68], face[list(FACE_FROM_MESH), :2] * [10, 20])
    assert np.allclose(person.face.xy[68], face[468, :2] * [10, 20])  # right pupil = right iris centre
    unrefined = holistic_to_person(pose=_synthetic_pose(), face=face[:468], width=10, height=20).face
    assert np.allclose(unrefined.xy[69], face[[362, 263], :2].mean(axis=0) * [10, 20])


def test_the_tables_are_consistent():
    assert len(BODY_FROM_BLAZEPOSE) == 18 and len(FACE_FROM_MESH) == 68 == len(set(FACE_FROM_MESH))
    assert all(0 <= i < 468 for i in FACE_FROM_MESH)
    # the points OpenPose mirrors into each other come from face-mesh points on opposite sides of the midline
    # (the midline landmarks of the mesh: 0, 2, 4, 5, 13, 14, 17, 152, 168, 197 map onto themselves)
    midline = {0, 2, 4, 5, 13, 14, 17, 152, 168, 197}
    for index in range(68):
        if FACE_MIRROR[index] == index:
            assert FACE_FROM_MESH[index] in midline, index


def test_bad_landmarks_are_refused_clearly():
    with pytest.raises(ValueError, match="body needs at least 33 landmarks"):
        holistic_to_person(pose=np.zeros((10, 4)), width=10, height=10)
    with pytest.raises(ValueError, match="No body"):
        holistic_to_person(pose=None, width=10, height=10)
    with pytest.raises(ValueError, match="positive size"):
        holistic_to_person(pose=_synthetic_pose(), width=0, height=10)
    pose = _synthetic_pose()
    pose[0, :2] = np.nan
    assert not holistic_to_person(pose=pose, width=10, height=10).body.visible[0]


@pytest.mark.skipif(HAS_MEDIAPIPE, reason="mediapipe is installed here; this checks the message without it")
def test_without_mediapipe_the_command_says_which_extra_to_install(tmp_path, capsys):
    from studio.cli import main

    assert main(["pose", "from-photo", str(PHOTO), "--out", str(tmp_path / "pose.json")]) != 0
    assert "controlnet-studio[pose]" in capsys.readouterr().err
    assert not (tmp_path / "pose.json").exists()


@pytest.mark.skipif(not HAS_MEDIAPIPE, reason="mediapipe is not installed (optional extra [pose], see "
                    "docs/pose_from_photo.md)")
def test_mediapipe_finds_the_astronaut_in_the_photo(tmp_path):
    from studio.cli import main
    from studio.document.openpose_json import loads_openpose

    out = tmp_path / "pose.json"
    assert main(["pose", "from-photo", str(PHOTO), "--out", str(out)]) == 0
    parsed = loads_openpose(out.read_text())
    assert (parsed.canvas_width, parsed.canvas_height) == (320, 320)
    (person,) = parsed.people
    body, face = person.body, person.face
    assert body.visible[[0, 1, 2, 5, 14, 15]].all()  # nose, neck, shoulders, eyes: an upper-body portrait
    assert body.xy[2, 0] < body.xy[1, 0] < body.xy[5, 0]  # her right shoulder is on the picture's left
    assert body.xy[14, 0] < body.xy[15, 0] and body.xy[0, 1] < body.xy[1, 1]
    assert face is not None and face.visible.all()
    jaw = face.xy[:17]
    assert jaw[0, 0] < jaw[16, 0] and jaw[8, 1] == jaw[:, 1].max()  # chin lowest
    assert face.xy[36:42, 0].mean() < face.xy[42:48, 0].mean()  # right eye left of the left eye
    assert face.xy[30, 1] < face.xy[51, 1] < face.xy[57, 1]  # nose tip above the upper lip above the lower lip
    assert np.linalg.norm(face.xy[68] - face.xy[36:42].mean(axis=0)) < 8  # pupil inside its eye
    assert json.loads(out.read_text())["people"][0]["face_keypoints_2d"]


@pytest.mark.skipif(not HAS_MEDIAPIPE, reason="mediapipe is not installed (optional extra [pose], see "
                    "docs/pose_from_photo.md)")
def test_the_mirrored_photo_gives_the_mirrored_openpose_face_and_body():
    """Checks the left/right pairing of the face table against the detector: a point mapped from the wrong side of
    the mesh would land a whole eye or cheek away from its mirror image."""
    from studio.imageio import open_image
    from studio.pose.from_photo import detect_person

    picture = np.asarray(open_image(PHOTO).convert("RGB"))
    width = picture.shape[1]
    straight, mirrored = detect_person(picture), detect_person(np.ascontiguousarray(picture[:, ::-1]))
    face = straight.face.xy[FACE_MIRROR].copy()
    face[:, 0] = width - face[:, 0]
    eyes = np.linalg.norm(straight.face.xy[36] - straight.face.xy[45])
    assert np.linalg.norm(face - mirrored.face.xy, axis=1).max() < 0.1 * eyes  # measured: 1.4 px of 38 px
    body = straight.body.xy[BODY_MIRROR].copy()
    body[:, 0] = width - body[:, 0]
    both = straight.body.visible[BODY_MIRROR] & mirrored.body.visible
    assert both.sum() >= 6 and np.median(np.linalg.norm(body - mirrored.body.xy, axis=1)[both]) < 0.25 * eyes
