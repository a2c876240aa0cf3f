"""Draw people exactly as the ControlNet 1.1 OpenPose annotator draws its detections.

Facts of the annotator (lllyasviel/ControlNet-v1-1-nightly, annotator/openpose/util.py), re-implemented:
- Keypoints are normalised to [0, 1] and scaled by the output size; pixel positions are truncated with int().
- Body: 17 limbs (the 18th and 19th entries of its limb table, shoulder-ear, are never drawn), limb-major
  over people, each a filled convex polygon from cv2.ellipse2Poly(centre, (int(length / 2), 4),
  int(angle), 0, 360, 1) in the limb's colour; then the whole canvas is multiplied by 0.6 and truncated to
  uint8; then each visible joint is a filled circle of radius 4 in its colour (joint-major over people).
- Hands (after all bodies): per hand, its 20 bones as 2 px cv2.line in HSV-rainbow colours
  (hue = bone / 20, full saturation and value, times 255), then its 21 points as filled circles of
  radius 4 in (0, 0, 255). A bone or point is drawn only when its pixel coordinates are > 0.01.
- Faces (after all hands): each point a filled white circle of radius 3, same > 0.01 rule.
- The canvas starts black and is fed to the ControlNet as it is, so the colour triples are RGB.
Hidden points are given to the drawing as -1 (as the annotator marks undetected hand/face points).
"""

from __future__ import annotations

import colorsys
import math
from typing import Iterable

import cv2
import numpy as np

from studio.document.person import Person

#: Body limbs as pairs of 0-based COCO-18 indices, in drawing order (colour i belongs to limb i).
BODY_LIMBS = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10),
    (1, 11), (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)  # fmt: skip
#: One colour per body joint (and per limb, by index), RGB.
BODY_COLORS = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
    (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
    (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)  # fmt: skip
STICK_WIDTH = 4
JOINT_RADIUS = 4
LIMB_DIMMING = 0.6
#: Hand bones (0 = wrist; 1-4 thumb, 5-8 index, 9-12 middle, 13-16 ring, 17-20 little finger).
HAND_BONES = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (0, 9), (9, 10),
    (10, 11), (11, 12), (0, 13), (13, 14), (14, 15), (15, 16), (0, 17), (17, 18), (18, 19), (19, 20),
)  # fmt: skip
HAND_LINE_WIDTH = 2
HAND_POINT_RADIUS = 4
HAND_POINT_COLOR = (0, 0, 255)
FACE_POINT_RADIUS = 3
FACE_POINT_COLOR = (255, 255, 255)
MIN_COORD = 0.01  # hand/face pixels at or below this are not drawn


def hand_bone_color(bone: int) -> tuple[float, float, float]:
    """RGB colour (0-255 floats, rounded by OpenCV when drawing) of hand bone `bone`."""
    r, g, b = colorsys.hsv_to_rgb(bone / float(len(HAND_BONES)), 1.0, 1.0)
    return (r * 255, g * 255, b * 255)


def _normalised(points, visible, canvas_size) -> np.ndarray:
    """Points divided by the canvas size; hidden points become (-1, -1)."""
    cw, ch = canvas_size
    norm = np.empty((len(points), 2), dtype=np.float64)
    norm[:, 0] = points[:, 0] / float(cw)
    norm[:, 1] = points[:, 1] / float(ch)
    norm[~visible] = -1.0
    return norm


def draw_bodies(canvas: np.ndarray, bodies: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Draw normalised 18-point bodies given as (points, visible) pairs; returns the new canvas."""
    height, width = canvas.shape[:2]
    for limb, (a, b) in enumerate(BODY_LIMBS):
        for body, visible in bodies:
            if not (visible[a] and visible[b]):
                continue
            xs = (body[a, 0] * float(width), body[b, 0] * float(width))
            ys = (body[a, 1] * float(height), body[b, 1] * float(height))
            center = (int((xs[0] + xs[1]) / 2), int((ys[0] + ys[1]) / 2))
            length = ((ys[0] - ys[1]) ** 2 + (xs[0] - xs[1]) ** 2) ** 0.5
            angle = math.degrees(math.atan2(ys[0] - ys[1], xs[0] - xs[1]))
            polygon = cv2.ellipse2Poly(center, (int(length / 2), STICK_WIDTH), int(angle), 0, 360, 1)
            cv2.fillConvexPoly(canvas, polygon, BODY_COLORS[limb])
    canvas = (canvas * LIMB_DIMMING).astype(np.uint8)
    for joint in range(len(BODY_COLORS)):
        for body, visible in bodies:
            if not visible[joint]:
                continue
            center = (int(body[joint, 0] * width), int(body[joint, 1] * height))
            cv2.circle(canvas, center, JOINT_RADIUS, BODY_COLORS[joint], thickness=-1)
    return canvas


def draw_hands(canvas: np.ndarray, hands: list[np.ndarray]) -> np.ndarray:
    """Draw normalised 21-point hands (hidden points at -1) in place; returns the canvas."""
    height, width = canvas.shape[:2]
    for hand in hands:
        pixels = [(int(x * width), int(y * height)) for x, y in hand]
        for bone, (a, b) in enumerate(HAND_BONES):
            (x1, y1), (x2, y2) = pixels[a], pixels[b]
            if min(x1, y1, x2, y2) > MIN_COORD:
                cv2.line(canvas, (x1, y1), (x2, y2), hand_bone_color(bone), thickness=HAND_LINE_WIDTH)
        for x, y in pixels:
            if x > MIN_COORD and y > MIN_COORD:
                cv2.circle(canvas, (x, y), HAND_POINT_RADIUS, HAND_POINT_COLOR, thickness=-1)
    return canvas


def draw_faces(canvas: np.ndarray, faces: list[np.ndarray]) -> np.ndarray:
    """Draw normalised 70-point faces (hidden points at -1) in place; returns the canvas."""
    height, width = canvas.shape[:2]
    for face in faces:
        for x, y in face:
            x, y = int(x * width), int(y * height)
            if x > MIN_COORD and y > MIN_COORD:
                cv2.circle(canvas, (x, y), FACE_POINT_RADIUS, FACE_POINT_COLOR, thickness=-1)
    return canvas


def render_people(
    people: Iterable[Person],
    *,
    canvas_size: tuple[int, int],
    width: int,
    height: int,
    draw_body: bool = True,
    draw_hand: bool = True,
    draw_face: bool = True,
) -> np.ndarray:
    """Render people whose coordinates are pixels of a `canvas_size` (w, h) canvas into a new
    `height` x `width` x 3 uint8 RGB image, as the annotator would for the same normalised keypoints.

    Hands are drawn per person, left hand before right (the annotator's order)."""
    people = list(people)
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    if draw_body:
        bodies = [(_normalised(p.body.xy, p.body.visible, canvas_size), p.body.visible) for p in people]
        canvas = draw_bodies(canvas, bodies)
    if draw_hand:
        hands = [
            _normalised(hand.xy, hand.visible, canvas_size)
            for p in people
            for hand in (p.left_hand, p.right_hand)
            if hand is not None
        ]
        canvas = draw_hands(canvas, hands)
    if draw_face:
        faces = [_normalised(p.face.xy, p.face.visible, canvas_size) for p in people if p.face is not None]
        canvas = draw_faces(canvas, faces)
    return canvas
