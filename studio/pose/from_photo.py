"""Pose from a photo: MediaPipe Holistic (body, hands and face) mapped to an OpenPose person (mapping.py).

MediaPipe is an optional extra, `pip install 'controlnet-studio[pose]'`: mediapipe 0.10.21, the last release whose
wheel carries the Holistic `.tflite` models (later ones download `.task` files from Google's storage, which an
offline install cannot do). See docs/pose_from_photo.md for what that extra changes in an environment.

    studio pose from-photo photo.jpg --out pose.json
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from studio.document.errors import DocumentError
from studio.document.person import Person
from studio.pose.mapping import holistic_to_person

EXTRA_HINT = "install the optional extra: pip install 'controlnet-studio[pose]' (mediapipe 0.10.21)"


class PoseDetectorError(DocumentError):
    """The pose detector is not installed, or found no person."""


def _holistic():
    try:
        from mediapipe.python.solutions import holistic
    except ImportError as exc:
        raise PoseDetectorError(f"Pose from a photo needs MediaPipe Holistic, which is not installed ({exc}); "
                                f"{EXTRA_HINT}.") from None
    return holistic


def _rows(landmarks, *, with_visibility: bool) -> np.ndarray | None:
    if landmarks is None:
        return None
    if with_visibility:
        return np.array([(p.x, p.y, p.z, p.visibility) for p in landmarks.landmark], dtype=np.float64)
    return np.array([(p.x, p.y, p.z) for p in landmarks.landmark], dtype=np.float64)


def detect_person(image: np.ndarray, *, min_visibility: float = 0.5) -> Person:
    """The person in an HxWx3 uint8 RGB picture, as OpenPose keypoints in its pixels; `PoseDetectorError` when
    MediaPipe is missing or finds no body."""
    holistic = _holistic()
    image = np.ascontiguousarray(image[..., :3], dtype=np.uint8)
    height, width = image.shape[:2]
    with holistic.Holistic(static_image_mode=True, model_complexity=1, refine_face_landmarks=True) as model:
        found = model.process(image)
    if found.pose_landmarks is None:
        raise PoseDetectorError("No person was found in the picture.")
    return holistic_to_person(
        pose=_rows(found.pose_landmarks, with_visibility=True),
        left_hand=_rows(found.left_hand_landmarks, with_visibility=False),
        right_hand=_rows(found.right_hand_landmarks, with_visibility=False),
        face=_rows(found.face_landmarks, with_visibility=False),
        width=width, height=height, min_visibility=min_visibility,
    )


def pose_json_from_photo(path: str | Path) -> str:
    """OpenPose JSON text (canvas = the photo's size) for the person in the photo at `path`."""
    from studio.document.openpose_json import dumps_openpose
    from studio.imageio import ImageLoadError, open_image

    _holistic()  # say the extra is missing before reading anything
    try:
        picture = np.asarray(open_image(path).convert("RGB"), dtype=np.uint8)
    except (ImageLoadError, OSError, ValueError) as exc:
        raise PoseDetectorError(f"Cannot read the photo {path}: {exc}") from None
    person = detect_person(picture)
    return dumps_openpose([person], canvas_width=picture.shape[1], canvas_height=picture.shape[0])


def register(sub) -> None:
    """Add `from-photo` to the `studio pose` actions."""
    p = sub.add_parser("from-photo", help="detect body, hands and face in a photo (MediaPipe Holistic, optional "
                                          "extra [pose]) and write OpenPose JSON")
    p.add_argument("image", help="photo of one person")
    p.add_argument("--out", required=True, help="OpenPose JSON file to write")
    p.set_defaults(func=_from_photo)


def _from_photo(args) -> int:
    text = pose_json_from_photo(args.image)
    try:
        Path(args.out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise PoseDetectorError(f"Cannot write {args.out} ({exc}).") from None
    print(f"wrote {args.out}")
    return 0
