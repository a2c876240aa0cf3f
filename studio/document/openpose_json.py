"""Read and write OpenPose JSON as ControlNet pose editors exchange it.

Format: {"canvas_width": W, "canvas_height": H, "people": [{"pose_keypoints_2d": [x, y, c, ...] (18 points),
"hand_left_keypoints_2d": [...] (21), "hand_right_keypoints_2d": [...] (21), "face_keypoints_2d": [...] (70)}]}.

Reading accepts, besides that:
- a list of such objects (their people are merged; coordinates are rescaled to the first object's canvas);
- normalised coordinates: when every visible coordinate of a file lies in [0, 1], they are taken as
  fractions of the canvas;
- missing, null or empty hand and face lists (the part is absent);
- 25-point BODY_25 bodies as written by CMU OpenPose (converted to the 18-point COCO order);
- no canvas size (as CMU OpenPose writes): the caller's `canvas_size` is used.
A confidence <= 0 hides a point (its position is kept). Visible points must be finite; negative and
off-canvas coordinates are kept (they are drawn clipped). Anything else malformed raises PoseFormatError.
Writing gives visible points confidence 1 and hidden ones 0, so export followed by import is identical.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from studio.document.errors import PoseFormatError
from studio.document.keypoints import BODY_POINTS, FACE_POINTS, HAND_POINTS, Keypoints
from studio.document.person import Person

MAX_JSON_BYTES = 64 * 1024 * 1024
MAX_PEOPLE = 1000
#: JSON field of each person part.
PART_FIELDS = {
    "body": "pose_keypoints_2d",
    "left_hand": "hand_left_keypoints_2d",
    "right_hand": "hand_right_keypoints_2d",
    "face": "face_keypoints_2d",
}
_SIZES = {"body": BODY_POINTS, "left_hand": HAND_POINTS, "right_hand": HAND_POINTS, "face": FACE_POINTS}
BODY25_POINTS = 25
#: COCO-18 point i is BODY_25 point BODY25_TO_COCO18[i] (BODY_25 adds a mid-hip and six foot points).
BODY25_TO_COCO18 = (0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18)


@dataclass(frozen=True)
class OpenPoseFile:
    """The content of an OpenPose JSON file: canvas size and people in canvas pixels."""

    canvas_width: int
    canvas_height: int
    people: tuple[Person, ...]


# -- writing -------------------------------------------------------------------------------------
def _flat(points: Keypoints | None) -> list[float]:
    if points is None:
        return []
    out: list[float] = []
    for (x, y), visible in zip(points.xy.tolist(), points.visible.tolist()):
        out += [x, y, 1.0 if visible else 0.0]
    return out


def people_to_openpose(people, *, canvas_width: int, canvas_height: int) -> dict:
    """OpenPose JSON object (a dict) for `people` in pixels of a canvas_width x canvas_height canvas."""
    return {
        "canvas_width": int(canvas_width),
        "canvas_height": int(canvas_height),
        "people": [{field: _flat(getattr(p, part)) for part, field in PART_FIELDS.items()} for p in people],
    }


def dumps_openpose(people, *, canvas_width: int, canvas_height: int) -> str:
    """OpenPose JSON text; the same people always give the same text."""
    data = people_to_openpose(people, canvas_width=canvas_width, canvas_height=canvas_height)
    return json.dumps(data, separators=(",", ":"), allow_nan=False)


# -- reading -------------------------------------------------------------------------------------
def loads_openpose(data, *, canvas_size: tuple[int, int] | None = None) -> OpenPoseFile:
    """Parse OpenPose JSON given as text, bytes or already-decoded objects.

    `canvas_size` (w, h) is used when the file gives no canvas size."""
    if isinstance(data, (bytes, bytearray)):
        if len(data) > MAX_JSON_BYTES:
            raise PoseFormatError("The pose file is larger than 64 MB; that is not a pose.")
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PoseFormatError("The pose file is not UTF-8 text.") from exc
    if isinstance(data, str):
        if len(data) > MAX_JSON_BYTES:
            raise PoseFormatError("The pose file is larger than 64 MB; that is not a pose.")
        try:
            data = json.loads(data)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise PoseFormatError(f"The pose file is not valid JSON ({exc}).") from exc
    if isinstance(data, list):
        if not data:
            raise PoseFormatError("The pose file holds an empty list; expected OpenPose objects.")
        files = [_parse_object(item, canvas_size, f"item {n}") for n, item in enumerate(data)]
        first = files[0]
        people = []
        for f in files:
            sx, sy = first.canvas_width / f.canvas_width, first.canvas_height / f.canvas_height
            scale = np.array([[sx, 0.0, 0.0], [0.0, sy, 0.0]])
            people += [p if (sx, sy) == (1.0, 1.0) else p.transformed(scale) for p in f.people]
        if len(people) > MAX_PEOPLE:
            raise PoseFormatError(f"The pose file holds more than {MAX_PEOPLE} people.")
        return OpenPoseFile(first.canvas_width, first.canvas_height, tuple(people))
    return _parse_object(data, canvas_size, "the file")


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PoseFormatError(f"{where} holds {value!r}, which is not a number.")
    return float(value)


def _canvas_side(obj: dict, key: str, fallback: int | None, where: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return fallback
    side = _number(value, f"{key} of {where}")
    if not math.isfinite(side) or side != int(side) or not 1 <= side <= 65536:
        raise PoseFormatError(f"{key} of {where} must be a whole number of pixels from 1 to 65536, not {value!r}.")
    return int(side)


def _parse_object(obj, canvas_size, where: str) -> OpenPoseFile:
    if not isinstance(obj, dict):
        raise PoseFormatError(f"{where.capitalize()} is not an OpenPose object (a JSON object with 'people').")
    people_raw = obj.get("people")
    if not isinstance(people_raw, list):
        raise PoseFormatError(f"{where.capitalize()} has no 'people' list.")
    if len(people_raw) > MAX_PEOPLE:
        raise PoseFormatError(f"The pose file holds more than {MAX_PEOPLE} people.")
    fallback_w, fallback_h = canvas_size if canvas_size is not None else (None, None)
    width = _canvas_side(obj, "canvas_width", fallback_w, where)
    height = _canvas_side(obj, "canvas_height", fallback_h, where)
    parsed = [_parse_person(p, f"person {n} of {where}") for n, p in enumerate(people_raw)]
    if width is None or height is None:
        raise PoseFormatError(f"{where.capitalize()} gives no canvas_width/canvas_height; pass the canvas size.")
    normalised = _is_normalised(parsed)
    people = []
    for parts in parsed:
        built = {}
        for part, (xy, visible) in parts.items():
            if normalised:
                xy = xy * (width, height)
            built[part] = Keypoints(xy, visible)
        people.append(Person(**built))
    return OpenPoseFile(width, height, tuple(people))


def _parse_person(raw, where: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    if not isinstance(raw, dict):
        raise PoseFormatError(f"{where.capitalize()} is not a JSON object.")
    parts = {}
    for part, field in PART_FIELDS.items():
        values = raw.get(field)
        if values is None or (isinstance(values, list) and not values and part != "body"):
            if part == "body":
                raise PoseFormatError(f"{where.capitalize()} has no {field}.")
            continue
        if not isinstance(values, list):
            raise PoseFormatError(f"{field} of {where} is not a list of numbers.")
        size = _SIZES[part]
        if part == "body" and len(values) == 3 * BODY25_POINTS:
            values = [v for i in BODY25_TO_COCO18 for v in values[3 * i : 3 * i + 3]]
        if len(values) != 3 * size:
            raise PoseFormatError(
                f"{field} of {where} has {len(values)} numbers; expected {3 * size} ({size} points of x, y, confidence)."
            )
        numbers = np.array([_number(v, f"{field} of {where}") for v in values], dtype=np.float64).reshape(size, 3)
        confidence = numbers[:, 2]
        if np.isnan(confidence).any():
            raise PoseFormatError(f"{field} of {where} has a NaN confidence.")
        visible = confidence > 0
        if not np.isfinite(numbers[visible, :2]).all():
            raise PoseFormatError(f"{field} of {where} has a visible point with a NaN or infinite coordinate.")
        parts[part] = (numbers[:, :2], visible)
    return parts


def _is_normalised(parsed) -> bool:
    """True when every visible coordinate of the file is within [0, 1] (and at least one is visible)."""
    coords = [xy[visible] for parts in parsed for xy, visible in parts.values()]
    coords = np.concatenate(coords) if coords else np.zeros((0, 2))
    return len(coords) > 0 and bool(np.all((coords >= 0.0) & (coords <= 1.0)))
