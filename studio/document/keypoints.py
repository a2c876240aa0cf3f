"""Keypoint sets of an OpenPose person (COCO-18 body, 21-point hands, 70-point face) and their mirror maps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.document.errors import PoseFormatError

BODY_NAMES = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist",
    "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "right_eye", "left_eye",
    "right_ear", "left_ear",
)  # fmt: skip
BODY_POINTS = 18
HAND_POINTS = 21
FACE_POINTS = 70
PART_SIZES = {"body": BODY_POINTS, "left_hand": HAND_POINTS, "right_hand": HAND_POINTS, "face": FACE_POINTS}
PARTS = tuple(PART_SIZES)
MAX_COORD = 1e6  # pixels; larger coordinates are refused (they would overflow the drawing code)


def _pairs_to_permutation(size: int, pairs) -> np.ndarray:
    perm = np.arange(size)
    for a, b in pairs:
        perm[a], perm[b] = b, a
    return perm


#: After a horizontal mirror, new point i takes the position of old point MIRROR[i] (left/right swapped).
BODY_MIRROR = _pairs_to_permutation(BODY_POINTS, [(2, 5), (3, 6), (4, 7), (8, 11), (9, 12), (10, 13), (14, 15), (16, 17)])
FACE_MIRROR = _pairs_to_permutation(
    FACE_POINTS,
    [(i, 16 - i) for i in range(8)]  # jaw line
    + [(17, 26), (18, 25), (19, 24), (20, 23), (21, 22)]  # eyebrows
    + [(31, 35), (32, 34)]  # lower nose
    + [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]  # eyes
    + [(48, 54), (49, 53), (50, 52), (55, 59), (56, 58)]  # outer lips
    + [(60, 64), (61, 63), (65, 67)]  # inner lips
    + [(68, 69)],  # pupils
)


@dataclass(frozen=True, eq=False)
class Keypoints:
    """A fixed-size set of 2-D points in document pixels; hidden points keep their last position.

    Treat as immutable: every edit makes a new object (undo steps keep the old ones).
    """

    xy: np.ndarray  # (N, 2) float64
    visible: np.ndarray  # (N,) bool

    def __post_init__(self) -> None:
        xy = np.array(self.xy, dtype=np.float64).reshape(-1, 2)
        visible = np.array(self.visible, dtype=bool).reshape(-1)
        if xy.shape[0] != visible.shape[0]:
            raise PoseFormatError("Each keypoint needs exactly one visibility flag.")
        if not np.all(np.isfinite(xy[visible])):
            raise PoseFormatError("Visible keypoints must have finite coordinates (no NaN or infinity).")
        if np.any(np.abs(xy[visible]) > MAX_COORD):
            raise PoseFormatError(f"Keypoint coordinates must lie within +-{MAX_COORD:g} pixels.")
        xy[~np.isfinite(xy)] = 0.0
        xy.flags.writeable = False
        visible.flags.writeable = False
        object.__setattr__(self, "xy", xy)
        object.__setattr__(self, "visible", visible)

    @classmethod
    def from_points(cls, points, visible=None) -> "Keypoints":
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if visible is None:
            visible = np.ones(len(points), dtype=bool)
        return cls(points, visible)

    def __len__(self) -> int:
        return len(self.xy)

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, Keypoints)
            and np.array_equal(self.xy, other.xy)
            and np.array_equal(self.visible, other.visible)
        )

    def transformed(self, matrix: np.ndarray) -> "Keypoints":
        """Apply a 2x3 affine matrix to every point (hidden ones too, so they stay with the person)."""
        xy = self.xy @ matrix[:, :2].T + matrix[:, 2]
        return Keypoints(xy, self.visible)

    def permuted(self, order: np.ndarray) -> "Keypoints":
        return Keypoints(self.xy[order], self.visible[order])

    def with_point(self, index: int, x: float, y: float, visible: bool = True) -> "Keypoints":
        if not 0 <= index < len(self):
            raise PoseFormatError(f"Keypoint index {index} is out of range 0-{len(self) - 1}.")
        xy = self.xy.copy()
        xy[index] = (x, y)
        vis = self.visible.copy()
        vis[index] = visible
        return Keypoints(xy, vis)
