"""Read and write OpenPose JSON as ControlNet pose editors exchange it.

Format: {"canvas_width": W, "canvas_height": H, "people": [{"pose_keypoints_2d": [x, y, c, ...] (18 points),
"hand_left_keypoints_2d": [...] (21), "hand_right_keypoints_2d": [...] (21), "face_keypoints_2d": [...] (70)}]}.

Reading accepts, besides that, what real tools write:
- a list of such objects (ComfyUI's POSE_KEYPOINT: one object per video frame): each is one frame, and
  `loads_openpose(..., frame=N)` picks one (default the first, with a note when there are more);
  `load_openpose_frames` gives them all;
- normalised coordinates, decided per part as the editors do: a part whose visible coordinates all have
  abs() <= 1 is taken as fractions of the canvas. In a normalised part a coordinate of exactly -1 pixel
  (-1/W or -1/H, the classic hand detector's "not found" marker, written with confidence 1) hides the point;
- a person whose pose_keypoints_2d is null or empty (sd-webui-controlnet writes that for a person it found
  nothing of): skipped, with a note in `OpenPoseFile.notes`;
- 68-point faces (COCO-WholeBody, raw DWPose): padded to OpenPose's 70 with the two pupils placed at the
  centres of the eye outlines (visible when all six outline points of that eye are);
- points as [x, y, c] triples instead of a flat list;
- missing, null or empty hand and face lists (the part is absent);
- 25-point BODY_25 bodies as written by CMU OpenPose (converted to the 18-point COCO order);
- no canvas size (as CMU OpenPose writes): the caller's `canvas_size` is used.
A confidence <= 0 hides a point (its position is kept). Visible points must be finite; negative and
off-canvas pixel coordinates are kept (they are drawn clipped). Anything else malformed raises PoseFormatError.
Writing gives visible points confidence 1 and hidden ones 0, so export followed by import is identical.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace

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
FACE68_POINTS = 68
#: Outline points of the right and left eye in the 68/70-point face; OpenPose's points 68 and 69 are the pupils.
EYE_OUTLINES = (range(36, 42), range(42, 48))
MAX_FRAMES = 100_000


@dataclass(frozen=True)
class OpenPoseFile:
    """The content of an OpenPose JSON file: canvas size and people in canvas pixels."""

    canvas_width: int
    canvas_height: int
    people: tuple[Person, ...]
    notes: tuple[str, ...] = ()


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
def _decode(data):
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
    return data


def load_openpose_frames(data, *, canvas_size: tuple[int, int] | None = None) -> list[OpenPoseFile]:
    """Every frame of OpenPose JSON given as text, bytes or decoded objects: a list (ComfyUI's POSE_KEYPOINT)
    gives one `OpenPoseFile` per item, a single object gives one.

    `canvas_size` (w, h) is used when the file gives no canvas size."""
    data = _decode(data)
    if isinstance(data, list):
        if not data:
            raise PoseFormatError("The pose file holds an empty list; expected OpenPose objects.")
        if len(data) > MAX_FRAMES:
            raise PoseFormatError(f"The pose file holds more than {MAX_FRAMES} frames.")
        return [_parse_object(item, canvas_size, f"frame {n + 1}") for n, item in enumerate(data)]
    return [_parse_object(data, canvas_size, "the file")]


def loads_openpose(data, *, canvas_size: tuple[int, int] | None = None, frame: int | None = None) -> OpenPoseFile:
    """Parse OpenPose JSON given as text, bytes or already-decoded objects.

    `canvas_size` (w, h) is used when the file gives no canvas size. `frame` (0-based) chooses one frame of a
    list of frames; by default the first, with a note saying how many there are."""
    frames = load_openpose_frames(data, canvas_size=canvas_size)
    if frame is None:
        chosen = frames[0]
        if len(frames) > 1:
            note = f"The file holds {len(frames)} frames (one pose each); frame 1 was used."
            chosen = replace(chosen, notes=(note, *chosen.notes))
        return chosen
    if isinstance(frame, bool) or not isinstance(frame, int) or not 0 <= frame < len(frames):
        raise PoseFormatError(f"Frame {frame!r} is not in the file; it holds frames 0 to {len(frames) - 1}.")
    return frames[frame]


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
        if "animals" in obj:
            raise PoseFormatError(f"{where.capitalize()} holds animal poses (AP-10K), not OpenPose people.")
        raise PoseFormatError(f"{where.capitalize()} has no 'people' list.")
    if len(people_raw) > MAX_PEOPLE:
        raise PoseFormatError(f"The pose file holds more than {MAX_PEOPLE} people.")
    fallback_w, fallback_h = canvas_size if canvas_size is not None else (None, None)
    width = _canvas_side(obj, "canvas_width", fallback_w, where)
    height = _canvas_side(obj, "canvas_height", fallback_h, where)
    parsed = [_parse_person(p, f"person {n + 1} of {where}") for n, p in enumerate(people_raw)]
    if width is None or height is None:
        raise PoseFormatError(f"{where.capitalize()} gives no canvas_width/canvas_height; pass the canvas size.")
    people, notes = [], []
    for number, parts in enumerate(parsed, start=1):
        if parts is None:
            notes.append(f"Person {number} of {where} has no body keypoints and was skipped.")
            continue
        built = {}
        for part, (xy, visible) in parts.items():
            if _is_normalised(xy, visible):
                visible = visible & ~_missing_marker(xy, width, height)
                xy = xy * (width, height)
            built[part] = Keypoints(xy, visible)
        people.append(Person(**built))
    return OpenPoseFile(width, height, tuple(people), tuple(notes))


def _flatten(values, field: str, where: str) -> list:
    """[x, y, c, ...]; also accepts [[x, y, c], ...] (as ComfyUI's documentation writes points)."""
    if values and all(isinstance(v, list) for v in values):
        if any(len(v) not in (2, 3) for v in values):
            raise PoseFormatError(f"{field} of {where} holds a point that is not [x, y] or [x, y, confidence].")
        return [c for v in values for c in (v if len(v) == 3 else [*v, 1.0])]
    return values


def _parse_person(raw, where: str) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    """The parts of a person as (xy, visible) arrays, or None for a person without body keypoints."""
    if not isinstance(raw, dict):
        raise PoseFormatError(f"{where.capitalize()} is not a JSON object.")
    if "pose_keypoints_2d" not in raw:
        raise PoseFormatError(f"{where.capitalize()} has no pose_keypoints_2d.")
    parts = {}
    for part, field in PART_FIELDS.items():
        values = raw.get(field)
        if values is None or (isinstance(values, list) and not values):
            if part == "body":
                return None
            continue
        if not isinstance(values, list):
            raise PoseFormatError(f"{field} of {where} is not a list of numbers.")
        values = _flatten(values, field, where)
        size = _SIZES[part]
        if part == "body" and len(values) == 3 * BODY25_POINTS:
            values = [v for i in BODY25_TO_COCO18 for v in values[3 * i : 3 * i + 3]]
        face68 = part == "face" and len(values) == 3 * FACE68_POINTS
        if len(values) != 3 * size and not face68:
            expected = f"{3 * size} or {3 * FACE68_POINTS}" if part == "face" else f"{3 * size}"
            raise PoseFormatError(
                f"{field} of {where} has {len(values)} numbers; expected {expected} (points of x, y, confidence)."
            )
        numbers = np.array([_number(v, f"{field} of {where}") for v in values], dtype=np.float64).reshape(-1, 3)
        confidence = numbers[:, 2]
        if np.isnan(confidence).any():
            raise PoseFormatError(f"{field} of {where} has a NaN confidence.")
        visible = confidence > 0
        if not np.isfinite(numbers[visible, :2]).all():
            raise PoseFormatError(f"{field} of {where} has a visible point with a NaN or infinite coordinate.")
        xy = numbers[:, :2]
        if face68:
            xy, visible = _pad_face(xy, visible)
        parts[part] = (xy, visible)
    return parts


def _pad_face(xy: np.ndarray, visible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A 68-point face with OpenPose's two pupils added at the centres of the eye outlines."""
    pupils, shown = [], []
    for outline in EYE_OUTLINES:
        idx = list(outline)
        all_shown = bool(visible[idx].all())
        pupils.append(xy[idx].mean(axis=0) if all_shown else np.zeros(2))
        shown.append(all_shown)
    return np.vstack([xy, pupils]), np.concatenate([visible, shown])


def _is_normalised(xy: np.ndarray, visible: np.ndarray) -> bool:
    """True when the part has visible points and every visible coordinate has abs() <= 1."""
    coords = xy[visible]
    return len(coords) > 0 and bool(np.all(np.abs(coords) <= 1.0))


def _missing_marker(xy: np.ndarray, width: int, height: int) -> np.ndarray:
    """Points of a normalised part with a coordinate of exactly -1 pixel (the "not found" marker)."""
    pixels = xy * (width, height)
    return np.any(np.abs(pixels + 1.0) < 1e-3, axis=1)
