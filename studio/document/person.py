"""A person of the pose layer: body keypoints plus optional hands and face, and whole-person transforms."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from studio.document.errors import PoseFormatError
from studio.document.keypoints import BODY_MIRROR, FACE_MIRROR, PART_SIZES, Keypoints


@dataclass(frozen=True, eq=False)
class Person:
    """One skeleton: 18 body points (COCO order), optional 21-point hands and 70-point face."""

    body: Keypoints
    left_hand: Keypoints | None = None
    right_hand: Keypoints | None = None
    face: Keypoints | None = None

    def __post_init__(self) -> None:
        for part, size in PART_SIZES.items():
            points = getattr(self, part)
            if points is None:
                if part == "body":
                    raise PoseFormatError("A person needs body keypoints.")
                continue
            if len(points) != size:
                raise PoseFormatError(f"A person's {part.replace('_', ' ')} needs {size} keypoints, not {len(points)}.")

    def __eq__(self, other) -> bool:
        if not isinstance(other, Person):
            return False
        for part in PART_SIZES:
            a, b = getattr(self, part), getattr(other, part)
            if (a is None) != (b is None) or (a is not None and a != b):
                return False
        return True

    def part(self, name: str) -> Keypoints | None:
        if name not in PART_SIZES:
            raise PoseFormatError(f"Unknown pose part {name!r}; use one of {', '.join(PART_SIZES)}.")
        return getattr(self, name)

    def parts(self) -> list[tuple[str, Keypoints]]:
        """(name, keypoints) for every part present."""
        return [(name, getattr(self, name)) for name in PART_SIZES if getattr(self, name) is not None]

    def with_part(self, name: str, points: Keypoints | None) -> "Person":
        self.part(name)
        return replace(self, **{name: points})

    def bounds(self) -> tuple[float, float, float, float] | None:
        """(x0, y0, x1, y1) of all visible points, or None when none is visible."""
        pts = [p.xy[p.visible] for _, p in self.parts()]
        pts = np.concatenate(pts) if pts else np.zeros((0, 2))
        if len(pts) == 0:
            return None
        return float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max())

    def center(self) -> tuple[float, float]:
        """Centre of the bounding box of the visible points (of all points if none is visible)."""
        box = self.bounds()
        if box is None:
            xy = self.body.xy
            return float(xy[:, 0].mean()), float(xy[:, 1].mean())
        return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2

    def transformed(self, matrix: np.ndarray) -> "Person":
        """Apply a 2x3 affine matrix to every part."""
        return Person(**{name: points.transformed(matrix) for name, points in self.parts()})

    def moved(self, dx: float, dy: float) -> "Person":
        return self.transformed(np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]]))

    def scaled(self, factor: float, center: tuple[float, float] | None = None) -> "Person":
        if not math.isfinite(factor) or factor <= 0:
            raise PoseFormatError(f"Scale factor must be a positive number, not {factor}.")
        cx, cy = self.center() if center is None else center
        return self.transformed(np.array([[factor, 0.0, cx - factor * cx], [0.0, factor, cy - factor * cy]]))

    def rotated(self, degrees: float, center: tuple[float, float] | None = None) -> "Person":
        """Rotate clockwise on screen (y points down) by `degrees` around `center`."""
        if not math.isfinite(degrees):
            raise PoseFormatError("Rotation angle must be a finite number.")
        cx, cy = self.center() if center is None else center
        c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
        return self.transformed(np.array([[c, -s, cx - c * cx + s * cy], [s, c, cy - s * cx - c * cy]]))

    def mirrored(self, axis_x: float | None = None) -> "Person":
        """Mirror left-right about the vertical line x = axis_x (default: the person's centre).

        Labels follow anatomy: the point that lands where a left shoulder belongs becomes the left
        shoulder, the hands swap, and the face landmarks swap sides, so the result renders as a real
        person seen in a mirror."""
        cx = self.center()[0] if axis_x is None else axis_x
        flip = np.array([[-1.0, 0.0, 2 * cx], [0.0, 1.0, 0.0]])
        body = self.body.transformed(flip).permuted(BODY_MIRROR)
        left = self.right_hand.transformed(flip) if self.right_hand is not None else None
        right = self.left_hand.transformed(flip) if self.left_hand is not None else None
        face = self.face.transformed(flip).permuted(FACE_MIRROR) if self.face is not None else None
        return Person(body=body, left_hand=left, right_hand=right, face=face)

