"""The pose renderer draws what the ControlNet 1.1 OpenPose annotator draws.

Expectations are computed here from the annotator's published facts (colour table, limb table, stick
width 4, 0.6 dimming of limbs, joint radius 4, 2 px rainbow hand bones, blue hand points of radius 4,
white face points of radius 3, 0.01 pixel threshold for hands and faces), not by calling the renderer.
"""

import math

import cv2
import numpy as np
import pytest

from studio.document import Document, Keypoints, Person
from studio.document.pose_render import render_people

# Facts: colour of body joint i and of limb i (RGB as fed to the ControlNet).
COLORS = [
    [255, 0, 0], [255, 85, 0], [255, 170, 0], [255, 255, 0], [170, 255, 0], [85, 255, 0], [0, 255, 0],
    [0, 255, 85], [0, 255, 170], [0, 255, 255], [0, 170, 255], [0, 85, 255], [0, 0, 255], [85, 0, 255],
    [170, 0, 255], [255, 0, 255], [255, 0, 170], [255, 0, 85],
]  # fmt: skip
# Facts: the limb table, 1-based; only the first 17 entries are drawn.
LIMB_TABLE = [[2, 3], [2, 6], [3, 4], [4, 5], [6, 7], [7, 8], [2, 9], [9, 10], [10, 11], [2, 12], [12, 13],
              [13, 14], [2, 1], [1, 15], [15, 17], [1, 16], [16, 18], [3, 17], [6, 18]]  # fmt: skip


def dim(color):
    return [int(c * 0.6) for c in color]


def hand_bone_rgb(bone):
    """Hue bone/20 at full saturation and value, times 255, rounded as OpenCV rounds colour scalars."""
    h6 = bone / 20.0 * 6.0
    sector = int(h6)
    f = h6 - sector
    rising, falling = 1.0 - (1.0 - f), 1.0 - f
    rgb = [(1, rising, 0), (falling, 1, 0), (0, 1, rising), (0, falling, 1), (rising, 0, 1), (1, 0, falling)][sector]
    return [int(np.rint(c * 255)) for c in rgb]


def body(points: dict, size=512):
    """A person whose listed body points (index -> (x, y)) are visible; the others hidden."""
    xy = np.zeros((18, 2))
    visible = np.zeros(18, dtype=bool)
    for index, point in points.items():
        xy[index] = point
        visible[index] = True
    return Person(body=Keypoints(xy, visible))


def render(people, size=(512, 512), out=None):
    out = out or size
    return render_people(people, canvas_size=size, width=out[0], height=out[1])


def px(image, x, y):
    return image[int(y), int(x)].tolist()


@pytest.mark.parametrize("limb", range(17))
def test_each_limb_has_its_colour_dimmed_and_an_ellipse_shape(limb):
    a, b = LIMB_TABLE[limb][0] - 1, LIMB_TABLE[limb][1] - 1
    start, end = (140.0, 180.0), (360.0, 300.0)
    image = render([body({a: start, b: end})])
    mid = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
    assert px(image, *mid) == dim(COLORS[limb])
    assert px(image, *start) == COLORS[a] and px(image, *end) == COLORS[b]
    length = math.hypot(end[0] - start[0], end[1] - start[1])
    ux, uy = (end[0] - start[0]) / length, (end[1] - start[1]) / length
    nx, ny = -uy, ux
    # across the limb: inside the 4 px half width, outside beyond it
    assert px(image, mid[0] + 2.5 * nx, mid[1] + 2.5 * ny) == dim(COLORS[limb])
    assert px(image, mid[0] + 6.5 * nx, mid[1] + 6.5 * ny) == [0, 0, 0]
    # along the limb: an ellipse reaching the joints, nothing beyond them
    along = length / 2 - 8
    assert px(image, mid[0] + along * ux, mid[1] + along * uy) == dim(COLORS[limb])
    assert px(image, end[0] + 7 * ux, end[1] + 7 * uy) == [0, 0, 0]
    # an ellipse narrows towards its ends
    near_end = length / 2 - 3
    assert px(image, mid[0] + near_end * ux + 3.5 * nx, mid[1] + near_end * uy + 3.5 * ny) == [0, 0, 0]


def test_whole_body_matches_the_annotator_drawing_steps():
    """Every pixel equals the annotator's steps done here by hand for one full person."""
    doc = Document(512, 512)
    doc.pose.add_template("walking", height=430)
    person = doc.pose.people[0]
    image = doc.control_image("pose")
    expected = np.zeros((512, 512, 3), np.uint8)
    pts = person.body.xy / 512.0
    for limb in range(17):
        a, b = LIMB_TABLE[limb][0] - 1, LIMB_TABLE[limb][1] - 1
        xs, ys = pts[[a, b], 0] * 512.0, pts[[a, b], 1] * 512.0
        length = math.hypot(xs[0] - xs[1], ys[0] - ys[1])
        angle = math.degrees(math.atan2(ys[0] - ys[1], xs[0] - xs[1]))
        poly = cv2.ellipse2Poly((int(xs.mean()), int(ys.mean())), (int(length / 2), 4), int(angle), 0, 360, 1)
        cv2.fillConvexPoly(expected, poly, COLORS[limb])
    expected = (expected * 0.6).astype(np.uint8)
    for joint in range(18):
        cv2.circle(expected, (int(pts[joint, 0] * 512), int(pts[joint, 1] * 512)), 4, COLORS[joint], -1)
    np.testing.assert_array_equal(image, expected)


def test_joints_have_full_colours_and_radius_four():
    doc = Document(512, 512)
    doc.pose.add_template("standing", height=460)
    person = doc.pose.people[0]
    image = doc.control_image("pose")
    for joint, (x, y) in enumerate(person.body.xy):
        assert px(image, x, y) == COLORS[joint], joint
    x, y = (int(v) for v in person.body.xy[10])  # right ankle: nothing else nearby below it
    assert px(image, x, y + 4) == COLORS[10]
    assert px(image, x, y + 5) == [0, 0, 0]


def test_red_first_limb_proves_rgb_order():
    image = render([body({1: (256, 100), 2: (156, 100)})])
    assert px(image, 206, 100) == [153, 0, 0]


def test_shoulder_to_ear_entries_are_not_drawn():
    image = render([body({2: (200, 200), 16: (300, 120)}), body({5: (100, 400), 17: (200, 300)})])
    ys, xs = np.nonzero(image.any(axis=2))
    centres = np.array([(200, 200), (300, 120), (100, 400), (200, 300)])
    dist = np.min(np.hypot(xs[:, None] - centres[:, 0], ys[:, None] - centres[:, 1]), axis=1)
    assert dist.max() <= 4.5


def test_hidden_body_points_draw_nothing():
    image = render([body({})])
    assert image.max() == 0


def test_limbs_are_drawn_limb_major_across_people():
    # person A: limb 1 (neck - left shoulder), person B: limb 0 (neck - right shoulder); they cross.
    person_a = body({1: (100, 256), 5: (400, 256)})
    person_b = body({1: (250, 100), 2: (250, 400)})
    for order in ([person_a, person_b], [person_b, person_a]):
        image = render(order)
        assert px(image, 250, 256) == dim(COLORS[1])  # later limb index wins, whatever the person order
        assert px(image, 250, 180) == dim(COLORS[0])  # dimmed once only


def test_output_size_scales_positions_but_not_widths():
    person = body({3: (64, 64), 4: (192, 64)})  # on a 256 x 256 canvas
    image = render([person], size=(256, 256), out=(512, 1024))
    assert image.shape == (1024, 512, 3)
    assert px(image, 128, 256) == COLORS[3] and px(image, 384, 256) == COLORS[4]
    assert px(image, 256, 256) == dim(COLORS[3])  # limb 3 joins r-elbow and r-wrist
    assert px(image, 256, 256 + 3) == dim(COLORS[3])
    assert px(image, 256, 256 + 6) == [0, 0, 0]  # still 4 px half width
    assert px(image, 384 + 4, 256) == COLORS[4] and px(image, 384 + 6, 256) == [0, 0, 0]


def fan_hand(wrist=(256, 470), spread=24, bone=48):
    """A hand with five straight fingers fanned upwards, far enough apart to inspect each bone."""
    pts = [wrist]
    for finger in range(5):
        angle = math.radians(-90 + (finger - 2) * spread)
        for joint in range(1, 5):
            r = bone * joint + 10
            pts.append((wrist[0] + r * math.cos(angle), wrist[1] + r * math.sin(angle)))
    return np.array(pts)


HAND_BONES = [(0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (0, 9), (9, 10), (10, 11), (11, 12),
              (0, 13), (13, 14), (14, 15), (15, 16), (0, 17), (17, 18), (18, 19), (19, 20)]  # fmt: skip


def test_hand_bones_are_rainbow_lines_and_points_blue():
    hand = fan_hand()
    person = body({}).with_part("right_hand", Keypoints.from_points(hand))
    image = render([person])
    for index, (a, b) in enumerate(HAND_BONES):
        if a == 0:
            continue  # bones from the wrist start too close together to inspect in the middle
        p, q = [int(v) for v in hand[a]], [int(v) for v in hand[b]]
        assert px(image, (p[0] + q[0]) // 2, (p[1] + q[1]) // 2) == hand_bone_rgb(index), index
    for x, y in hand:
        assert px(image, x, y) == [0, 0, 255]
    x, y = (int(v) for v in hand[4])  # finger tip: radius-4 disc
    assert px(image, x - 4, y) == [0, 0, 255] and px(image, x, y - 6) == [0, 0, 0]
    # wrist bones, checked 30 px out where they are apart
    for index in (0, 4, 8, 12, 16):
        a, b = HAND_BONES[index]
        direction = (hand[b] - hand[a]) / np.linalg.norm(hand[b] - hand[a])
        x, y = (int(hand[a][0]) + 30 * direction[0], int(hand[a][1]) + 30 * direction[1])
        assert px(image, round(x), round(y)) == hand_bone_rgb(index), index


def test_hand_colours_are_the_published_rainbow():
    assert hand_bone_rgb(0) == [255, 0, 0]
    assert hand_bone_rgb(5) == [128, 255, 0]  # hue 0.25: 127.5 rounds to 128
    assert hand_bone_rgb(10) == [0, 255, 255]
    assert [hand_bone_rgb(b) for b in (1, 19)] == [[255, 77, 0], [255, 0, 77]]


def test_hidden_and_edge_hand_points_are_skipped():
    hand = fan_hand()
    visible = np.ones(21, dtype=bool)
    visible[4] = False  # thumb tip hidden: bone 3 and the point vanish
    hand_pts = hand.copy()
    hand_pts[8] = (0.0, 300.0)  # index tip at x = 0: not drawn (annotator needs > 0.01)
    person = body({}).with_part("left_hand", Keypoints(hand_pts, visible))
    image = render([person])
    x, y = (int(v) for v in hand[4])
    assert px(image, x, y) == [0, 0, 0]
    p, q = hand[3].astype(int), hand[4].astype(int)
    assert px(image, (p[0] + q[0]) // 2, (p[1] + q[1]) // 2) == [0, 0, 0]
    assert image[290:311, 0:5].max() == 0
    p = hand[7].astype(int)  # bone 7 (7 -> 8) is gone too, point 7 stays
    assert px(image, p[0] // 2, (p[1] + 300) // 2) == [0, 0, 0]
    assert px(image, *hand[7]) == [0, 0, 255]


def test_face_points_are_white_radius_three_and_drawn_last():
    face = np.array([(100 + 12 * (i % 10), 100 + 12 * (i // 10)) for i in range(70)], dtype=float)
    hand = fan_hand(wrist=(100, 400))
    hand[20] = face[0]  # a hand point under a face point
    person = body({0: (300, 300), 1: (300, 400)}).with_part("face", Keypoints.from_points(face))
    person = person.with_part("right_hand", Keypoints.from_points(hand))
    face[69] = (300, 300)  # a face point over the nose joint
    person = person.with_part("face", Keypoints.from_points(face))
    image = render([person])
    for x, y in face:
        assert px(image, x, y) == [255, 255, 255]
    assert px(image, 100 + 3, 100) == [255, 255, 255]
    assert px(image, 100 - 3, 100) == [255, 255, 255]
    assert px(image, 100 - 5, 100) == [0, 0, 0]


def test_hands_cover_body_and_left_hand_is_drawn_before_right():
    left = fan_hand(wrist=(200, 470))
    right = fan_hand(wrist=(320, 470))
    # put the left hand's wrist on a right-hand bone (bone 10: point 10 -> 11)
    mid = (right[10] + right[11]) / 2
    left = left + (np.floor(mid) - left[0])
    person = body({4: tuple(np.floor(right[0]))})
    person = person.with_part("left_hand", Keypoints.from_points(left))
    person = person.with_part("right_hand", Keypoints.from_points(right))
    image = render([person])
    assert px(image, *right[0]) == [0, 0, 255]  # hand point over the body's wrist joint
    assert px(image, *left[0]) == hand_bone_rgb(10)  # right hand's bone over left hand's point


def test_mirror_keeps_colours_on_anatomical_sides():
    doc = Document(512, 512)
    doc.pose.add_template("walking", height=400, hands=True, face=True)
    before = doc.pose.people[0]
    doc.pose.mirror_person(0, axis_x=256)
    after = doc.pose.people[0]
    image = doc.control_image("pose")
    # the right shoulder now sits where the left shoulder was mirrored to, and is drawn in its colour
    np.testing.assert_allclose(after.body.xy[2], [512 - before.body.xy[5][0], before.body.xy[5][1]])
    assert px(image, *after.body.xy[2]) == COLORS[2]
    assert px(image, *after.body.xy[5]) == COLORS[5]
