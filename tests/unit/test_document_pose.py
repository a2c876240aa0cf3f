"""Pose layer model: people, keypoint edits, whole-person transforms, templates, hands and face."""

import numpy as np
import pytest

from studio.document import Document, DocumentError, Keypoints, Person, PoseFormatError
from studio.document.keypoints import BODY_MIRROR, BODY_NAMES, FACE_MIRROR
from studio.document.pose_templates import TEMPLATES, make_face, make_hand, make_person, template_names


def test_templates_exist_with_sensible_anatomy():
    assert {"standing", "walking", "sitting", "arms_raised", "side_view"} <= set(template_names())
    for name in TEMPLATES:
        person = make_person(name, center=(256, 256), height=400, hands=True, face=True)
        body = person.body
        x0, y0, x1, y1 = person.bounds()
        assert x1 - x0 < 400 and y1 - y0 <= 480
        assert body.visible[:14].all(), name  # all limbs present
        assert body.xy[0][1] < body.xy[1][1] < body.xy[8][1] < body.xy[9][1] < body.xy[10][1]  # head to feet
        assert len(person.left_hand) == 21 and len(person.right_hand) == 21 and len(person.face) == 70
        # hands start just beyond the wrists, faces around the nose
        for part, wrist in (("left_hand", 7), ("right_hand", 4)):
            assert np.linalg.norm(getattr(person, part).xy[0] - body.xy[wrist]) < 1e-9
        assert np.linalg.norm(person.face.xy[30] - body.xy[0]) < 1e-9
    arms_up = make_person("arms_raised", center=(256, 256), height=400)
    assert arms_up.body.xy[4][1] < arms_up.body.xy[0][1]  # wrists above the head
    side = make_person("side_view", center=(256, 256), height=400)
    assert not side.body.visible[15] and not side.body.visible[17]  # far eye and ear hidden


def test_template_face_is_symmetric_under_the_mirror_map():
    person = make_person("standing", center=(0, 0), height=400, face=True)
    face = person.face.xy - person.face.xy[30]
    mirrored = face[FACE_MIRROR] * (-1, 1)
    np.testing.assert_allclose(mirrored, face, atol=1e-9)


def test_unknown_template_and_bad_height():
    with pytest.raises(DocumentError):
        make_person("flying", center=(0, 0), height=100)
    with pytest.raises(DocumentError):
        make_person("standing", center=(0, 0), height=0)


def test_move_point_and_hide_point_are_undoable():
    doc = Document(512, 512)
    doc.pose.add_template("standing")
    original = doc.pose.people[0]
    doc.pose.move_point(0, "body", 4, 10.5, 20.25)
    assert doc.pose.people[0].body.xy[4].tolist() == [10.5, 20.25]
    doc.pose.set_point_visible(0, "body", 0, False)
    person = doc.pose.people[0]
    assert not person.body.visible[0] and person.body.xy[0].tolist() == original.body.xy[0].tolist()
    doc.history.undo()
    doc.history.undo()
    assert doc.pose.people[0] == original
    with pytest.raises(PoseFormatError):
        doc.pose.move_point(0, "body", 4, float("nan"), 3)
    with pytest.raises(PoseFormatError):
        doc.pose.move_point(0, "body", 18, 1, 1)
    with pytest.raises(DocumentError):
        doc.pose.move_point(0, "left_hand", 0, 1, 1)  # no hand yet
    with pytest.raises(DocumentError):
        doc.pose.move_point(3, "body", 0, 1, 1)
    with pytest.raises(PoseFormatError):
        doc.pose.move_point(0, "tail", 0, 1, 1)


def test_move_scale_rotate_person():
    doc = Document(512, 512)
    doc.pose.add_template("walking", hands=True, face=True)
    p0 = doc.pose.people[0]
    doc.pose.move_person(0, 10, -5)
    for (_, before), (_, after) in zip(p0.parts(), doc.pose.people[0].parts()):
        np.testing.assert_allclose(after.xy, before.xy + (10, -5))
    doc.history.undo()
    doc.pose.scale_person(0, 0.5, center=(256, 256))
    np.testing.assert_allclose(doc.pose.people[0].body.xy, (p0.body.xy - 256) * 0.5 + 256)
    doc.history.undo()
    doc.pose.rotate_person(0, 90, center=(256, 256))
    rel = p0.body.xy - 256
    np.testing.assert_allclose(doc.pose.people[0].body.xy, np.stack([-rel[:, 1], rel[:, 0]], 1) + 256, atol=1e-9)
    doc.history.undo()
    doc.pose.scale_person(0, 2.0)  # about its own centre
    np.testing.assert_allclose(doc.pose.people[0].center(), p0.center())
    with pytest.raises(PoseFormatError):
        doc.pose.scale_person(0, -1)
    with pytest.raises(PoseFormatError):
        doc.pose.rotate_person(0, float("inf"))


def test_mirror_swaps_left_and_right_labels():
    doc = Document(512, 512)
    doc.pose.add_template("walking", hands=True, face=True)
    before = doc.pose.people[0]
    doc.pose.mirror_person(0, axis_x=200)
    after = doc.pose.people[0]
    names = list(BODY_NAMES)
    for i, name in enumerate(names):
        other = name.replace("right", "LEFT").replace("left", "right").replace("LEFT", "left")
        j = names.index(other)
        expected = (400 - before.body.xy[j][0], before.body.xy[j][1])
        np.testing.assert_allclose(after.body.xy[i], expected, err_msg=name)
    np.testing.assert_allclose(after.left_hand.xy[:, 0], 400 - before.right_hand.xy[:, 0])
    np.testing.assert_allclose(after.right_hand.xy[:, 0], 400 - before.left_hand.xy[:, 0])
    np.testing.assert_allclose(after.face.xy[36], (400 - before.face.xy[45][0], before.face.xy[45][1]))
    np.testing.assert_allclose(after.face.xy[68], (400 - before.face.xy[69][0], before.face.xy[69][1]))
    assert BODY_MIRROR[2] == 5 and BODY_MIRROR[14] == 15 and BODY_MIRROR[0] == 0
    doc.pose.mirror_person(0, axis_x=200)
    assert doc.pose.people[0] == before  # mirroring twice is the identity


def test_mirror_of_side_view_keeps_hidden_points_hidden_on_the_right_label():
    person = make_person("side_view", center=(256, 256), height=400)
    mirrored = person.mirrored()
    assert mirrored.body.visible[15] and not mirrored.body.visible[14]


def test_add_delete_people_and_hands_face():
    doc = Document(512, 512)
    assert doc.pose.add_template("standing") == 0
    assert doc.pose.add_template("sitting", center=(100, 300), height=200) == 1
    assert len(doc.pose) == 2
    doc.pose.add_hands(1, "left")
    assert doc.pose.people[1].left_hand is not None and doc.pose.people[1].right_hand is None
    doc.pose.add_hands(1)
    doc.pose.add_face(1)
    person = doc.pose.people[1]
    assert person.right_hand is not None and person.face is not None
    # the face sits on the head: inside a box around nose and eyes
    x0, y0, x1, y1 = Person(body=Keypoints.from_points(person.face.xy[:18])).bounds()
    assert x1 - x0 < 80 and x0 < person.body.xy[0][0] < x1
    # hands point away from the elbow
    forearm = person.body.xy[7] - person.body.xy[6]
    hand_dir = person.left_hand.xy[12] - person.left_hand.xy[0]
    assert np.dot(forearm, hand_dir) > 0
    doc.pose.remove_hands(1, "right")
    assert doc.pose.people[1].right_hand is None
    doc.pose.remove_face(1)
    assert doc.pose.people[1].face is None
    doc.pose.remove_person(0)
    assert len(doc.pose) == 1
    with pytest.raises(DocumentError):
        doc.pose.add_hands(0, "middle")
    with pytest.raises(DocumentError):
        doc.pose.remove_person(5)
    for _ in range(7):
        doc.history.undo()
    assert len(doc.pose) == 1 and doc.pose.people[0].left_hand is None


def test_hands_and_face_fit_bodies_with_missing_points():
    xy = np.zeros((18, 2))
    vis = np.zeros(18, dtype=bool)
    xy[1], vis[1] = (100, 100), True
    person = Person(body=Keypoints(xy, vis))
    for part in ("left_hand", "right_hand"):
        hand = make_hand(person, part)
        assert np.isfinite(hand.xy).all()
    face = make_face(person)
    assert np.isfinite(face.xy).all()


def test_person_validation():
    with pytest.raises(PoseFormatError):
        Person(body=Keypoints.from_points(np.zeros((17, 2))))
    with pytest.raises(PoseFormatError):
        Person(body=Keypoints.from_points(np.zeros((18, 2))), face=Keypoints.from_points(np.zeros((68, 2))))
    with pytest.raises(PoseFormatError):
        Keypoints.from_points([[np.nan, 1.0]])
    with pytest.raises(PoseFormatError):
        Keypoints.from_points([[1e9, 1.0]])
    hidden_nan = Keypoints(np.array([[np.nan, 1.0]]), np.array([False]))
    assert hidden_nan.xy.tolist() == [[0.0, 1.0]]
    with pytest.raises(PoseFormatError):
        Document(64, 64).pose.set_people(["not a person"])
