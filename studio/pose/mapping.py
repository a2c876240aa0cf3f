"""MediaPipe Holistic landmarks -> an OpenPose person (18 body, 21 + 21 hand, 70 face points, in pixels).

Holistic gives 33 pose landmarks (BlazePose), 21 per hand and 468 face-mesh landmarks (478 with the irises), all
normalised to the image (x, y in [0, 1]); "left" and "right" are the subject's, as in OpenPose. The tables below
are documented in docs/pose_from_photo.md:
- body: COCO-18 in OpenPose order; the neck, which BlazePose lacks, is the midpoint of the shoulders.
- hands: MediaPipe's 21 hand landmarks are in OpenPose's order (wrist, then thumb, index, middle, ring, pinky from
  base to tip), so they map one to one.
- face: the 68 iBUG/dlib points OpenPose uses, each taken from the face-mesh landmark at that place, plus the two
  pupils (68 right, 69 left): the iris centres 468/473 when given, else the middle of the eye's corners.
A point is visible when its landmark lies inside the picture and, for the body, its visibility score is at least
`min_visibility`. Pure numpy: needs no MediaPipe (its tests always run).
"""

from __future__ import annotations

import numpy as np

from studio.document.keypoints import Keypoints
from studio.document.person import Person

# OpenPose COCO-18 index -> BlazePose index (None: the neck, the midpoint of the shoulders 11 and 12).
BODY_FROM_BLAZEPOSE: tuple[int | None, ...] = (
    0,     # 0 nose
    None,  # 1 neck = mean of left shoulder 11 and right shoulder 12
    12, 14, 16,  # 2-4 right shoulder, elbow, wrist
    11, 13, 15,  # 5-7 left shoulder, elbow, wrist
    24, 26, 28,  # 8-10 right hip, knee, ankle
    23, 25, 27,  # 11-13 left hip, knee, ankle
    5, 2,        # 14 right eye, 15 left eye (eye centres)
    8, 7,        # 16 right ear, 17 left ear
)  # fmt: skip
POSE_LANDMARKS, HAND_LANDMARKS, FACE_LANDMARKS, FACE_WITH_IRIS = 33, 21, 468, 478
# OpenPose face index 0-67 -> face-mesh index.
FACE_FROM_MESH: tuple[int, ...] = (
    127, 234, 93, 132, 58, 172, 136, 150, 152, 379, 365, 397, 288, 361, 323, 454, 356,  # 0-16 jaw, right to left
    70, 63, 105, 66, 107,        # 17-21 right eyebrow, outer to inner
    336, 296, 334, 293, 300,     # 22-26 left eyebrow, inner to outer
    168, 197, 5, 4,              # 27-30 nose bridge, top to tip
    75, 97, 2, 326, 305,         # 31-35 nostrils, right to left
    33, 160, 158, 133, 153, 144,  # 36-41 right eye from the outer corner, clockwise in the image
    362, 385, 387, 263, 373, 380,  # 42-47 left eye from the inner corner
    61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,  # 48-59 outer lips from the right corner
    78, 82, 13, 312, 308, 317, 14, 87,  # 60-67 inner lips from the right corner
)  # fmt: skip
IRIS_CENTRES = (468, 473)  # right, left (refined face mesh only)
EYE_CORNERS = ((33, 133), (362, 263))  # right eye outer/inner, left eye inner/outer


def _as_array(landmarks, count: int, what: str, columns: int) -> np.ndarray | None:
    if landmarks is None:
        return None
    array = np.asarray(landmarks, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] < count or array.shape[1] < columns:
        raise ValueError(f"{what} needs at least {count} landmarks of {columns} numbers, not {array.shape}.")
    return array


def _inside(xy: np.ndarray) -> np.ndarray:
    return np.isfinite(xy).all(axis=1) & (xy >= 0.0).all(axis=1) & (xy <= 1.0).all(axis=1)


def _pixels(xy: np.ndarray, visible: np.ndarray, width: int, height: int) -> Keypoints:
    xy = np.where(np.isfinite(xy), xy, 0.0) * np.array([width, height], dtype=np.float64)
    return Keypoints(xy=xy, visible=visible)


def map_body(pose: np.ndarray, *, width: int, height: int, min_visibility: float) -> Keypoints:
    """18 OpenPose body points from 33 BlazePose landmarks (rows x, y[, z[, visibility]])."""
    xy = np.zeros((len(BODY_FROM_BLAZEPOSE), 2))
    visible = np.zeros(len(BODY_FROM_BLAZEPOSE), dtype=bool)
    scores = pose[:, 3] if pose.shape[1] > 3 else np.ones(len(pose))
    ok = _inside(pose[:, :2]) & (scores >= min_visibility)
    for index, source in enumerate(BODY_FROM_BLAZEPOSE):
        if source is None:
            xy[index] = (pose[11, :2] + pose[12, :2]) / 2
            visible[index] = ok[11] and ok[12]
        else:
            xy[index], visible[index] = pose[source, :2], ok[source]
    return _pixels(xy, visible, width, height)


def map_hand(hand: np.ndarray, *, width: int, height: int) -> Keypoints:
    """21 OpenPose hand points from 21 MediaPipe hand landmarks (same order)."""
    xy = hand[:HAND_LANDMARKS, :2]
    return _pixels(xy, _inside(xy), width, height)


def map_face(face: np.ndarray, *, width: int, height: int) -> Keypoints:
    """70 OpenPose face points from 468 (or 478, with irises) face-mesh landmarks."""
    xy = np.zeros((70, 2))
    xy[:68] = face[list(FACE_FROM_MESH), :2]
    for pupil, (centre, corners) in enumerate(zip(IRIS_CENTRES, EYE_CORNERS)):
        xy[68 + pupil] = face[centre, :2] if len(face) >= FACE_WITH_IRIS else face[list(corners), :2].mean(axis=0)
    return _pixels(xy, _inside(xy), width, height)


def holistic_to_person(*, pose, left_hand=None, right_hand=None, face=None, width: int, height: int,
                       min_visibility: float = 0.5) -> Person:
    """An OpenPose `Person` (pixels of a width x height picture) from Holistic landmarks given as arrays of rows
    (x, y[, z[, visibility]]) in normalised image coordinates; missing hands or face stay None."""
    if width <= 0 or height <= 0:
        raise ValueError(f"The picture needs a positive size, not {width}x{height}.")
    pose_rows = _as_array(pose, POSE_LANDMARKS, "The body", 2)
    if pose_rows is None:
        raise ValueError("No body was found in the picture.")
    hands = [_as_array(h, HAND_LANDMARKS, f"The {side} hand", 2) for side, h in
             (("left", left_hand), ("right", right_hand))]
    face_rows = _as_array(face, FACE_LANDMARKS, "The face", 2)
    return Person(
        body=map_body(pose_rows, width=width, height=height, min_visibility=min_visibility),
        left_hand=None if hands[0] is None else map_hand(hands[0], width=width, height=height),
        right_hand=None if hands[1] is None else map_hand(hands[1], width=width, height=height),
        face=None if face_rows is None else map_face(face_rows, width=width, height=height),
    )
