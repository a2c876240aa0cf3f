"""Built-in poses (standing, walking, sitting, arms raised, side view) and template hands and faces.

Body templates are written in person units: x = 0 is the body's middle, y = 0 the top of the head and
y = 1 the soles, seen from the front (so the person's right side has negative x). Hands and faces are
fitted to the body they are added to.
"""

from __future__ import annotations

import math

import numpy as np

from studio.document.errors import DocumentError
from studio.document.keypoints import FACE_POINTS, HAND_POINTS, Keypoints
from studio.document.person import Person

_HIDDEN = None  # a point the template leaves hidden

# nose, neck, r-shoulder, r-elbow, r-wrist, l-shoulder, l-elbow, l-wrist, r-hip, r-knee, r-ankle,
# l-hip, l-knee, l-ankle, r-eye, l-eye, r-ear, l-ear
TEMPLATES: dict[str, list[tuple[float, float] | None]] = {
    "standing": [
        (0.0, 0.075), (0.0, 0.175), (-0.105, 0.185), (-0.13, 0.335), (-0.14, 0.475), (0.105, 0.185),
        (0.13, 0.335), (0.14, 0.475), (-0.06, 0.515), (-0.065, 0.735), (-0.07, 0.95), (0.06, 0.515),
        (0.065, 0.735), (0.07, 0.95), (-0.022, 0.055), (0.022, 0.055), (-0.05, 0.065), (0.05, 0.065),
    ],
    "walking": [
        (0.0, 0.075), (0.0, 0.175), (-0.1, 0.185), (-0.15, 0.33), (-0.12, 0.46), (0.1, 0.185),
        (0.1, 0.335), (0.16, 0.45), (-0.055, 0.515), (-0.1, 0.72), (-0.16, 0.93), (0.055, 0.515),
        (0.1, 0.725), (0.09, 0.95), (-0.022, 0.055), (0.022, 0.055), (-0.05, 0.065), (0.05, 0.065),
    ],
    "sitting": [
        (0.0, 0.075), (0.0, 0.175), (-0.105, 0.185), (-0.14, 0.33), (-0.09, 0.45), (0.105, 0.185),
        (0.14, 0.33), (0.09, 0.45), (-0.065, 0.5), (-0.1, 0.6), (-0.1, 0.82), (0.065, 0.5),
        (0.1, 0.6), (0.1, 0.82), (-0.022, 0.055), (0.022, 0.055), (-0.05, 0.065), (0.05, 0.065),
    ],
    "arms_raised": [
        (0.0, 0.075), (0.0, 0.175), (-0.105, 0.185), (-0.17, 0.085), (-0.18, -0.05), (0.105, 0.185),
        (0.17, 0.085), (0.18, -0.05), (-0.06, 0.515), (-0.065, 0.735), (-0.07, 0.95), (0.06, 0.515),
        (0.065, 0.735), (0.07, 0.95), (-0.022, 0.055), (0.022, 0.055), (-0.05, 0.065), (0.05, 0.065),
    ],
    # Facing the right of the picture: the person's right side is towards the viewer.
    "side_view": [
        (0.045, 0.075), (0.0, 0.175), (-0.005, 0.185), (0.02, 0.335), (0.06, 0.46), (0.01, 0.18),
        (-0.02, 0.33), (-0.01, 0.465), (-0.01, 0.515), (0.03, 0.735), (0.0, 0.95), (0.0, 0.515),
        (-0.03, 0.73), (-0.05, 0.945), (0.03, 0.055), _HIDDEN, (-0.015, 0.065), _HIDDEN,
    ],
}  # fmt: skip

# Left hand, palm towards the viewer, fingers along +y, thumb towards +x; unit = wrist-to-middle-tip.
_LEFT_HAND = [
    (0.0, 0.0), (0.13, 0.1), (0.24, 0.22), (0.32, 0.33), (0.38, 0.43), (0.11, 0.43), (0.13, 0.62),
    (0.14, 0.74), (0.15, 0.84), (0.03, 0.45), (0.03, 0.66), (0.03, 0.8), (0.03, 0.92), (-0.05, 0.43),
    (-0.06, 0.62), (-0.07, 0.74), (-0.08, 0.84), (-0.12, 0.38), (-0.15, 0.53), (-0.17, 0.62), (-0.18, 0.7),
]  # fmt: skip
HAND_TO_FOREARM = 0.75  # hand length as a fraction of the elbow-wrist distance


def _face_template() -> np.ndarray:
    """70 face landmarks (iBUG-68 order plus two pupils), frontal and left-right symmetric under
    FACE_MIRROR; unit = jaw width, origin = nose tip (point 30), y down."""
    # jaw, from the face's right (the viewer's left) over the chin
    pts = [(0.5 * math.cos(math.pi * (1 - i / 16)), -0.15 + 0.6 * math.sin(math.pi * i / 16)) for i in range(17)]
    pts += [(-0.36 + 0.07 * i, -0.3 - 0.04 * math.sin(math.pi * i / 4)) for i in range(5)]  # right brow
    pts += [(0.08 + 0.07 * i, -0.3 - 0.04 * math.sin(math.pi * i / 4)) for i in range(5)]  # left brow
    pts += [(0.0, -0.2 + 0.2 * i / 3) for i in range(4)]  # nose bridge down to the tip (30)
    pts += [(-0.09 + 0.045 * i, 0.06 + (0.015 if i == 2 else 0.0)) for i in range(5)]  # nostrils
    xs = (-0.09, -0.035, 0.035, 0.09, 0.035, -0.035)  # each eye clockwise from the corner at smaller x
    ys = (0.0, -0.035, -0.035, 0.0, 0.03, 0.03)
    for cx in (-0.2, 0.2):  # right eye, then left eye
        pts += [(cx + x, -0.18 + y) for x, y in zip(xs, ys)]
    outer = [(-0.18, 0.2), (-0.11, 0.17), (-0.04, 0.16), (0.0, 0.17), (0.04, 0.16), (0.11, 0.17), (0.18, 0.2),
             (0.12, 0.26), (0.05, 0.29), (0.0, 0.295), (-0.05, 0.29), (-0.12, 0.26)]  # fmt: skip
    inner = [(-0.15, 0.2), (-0.05, 0.19), (0.0, 0.195), (0.05, 0.19), (0.15, 0.2), (0.05, 0.23), (0.0, 0.235),
             (-0.05, 0.23)]  # fmt: skip
    pts += outer + inner + [(-0.2, -0.18), (0.2, -0.18)]
    return np.array(pts, dtype=np.float64)


_FACE = _face_template()
assert len(_FACE) == FACE_POINTS and len(_LEFT_HAND) == HAND_POINTS


def template_names() -> tuple[str, ...]:
    return tuple(TEMPLATES)


def make_person(
    name: str, *, center: tuple[float, float], height: float, hands: bool = False, face: bool = False
) -> Person:
    """A person from template `name`, `height` pixels tall (head top to soles), centred at `center`."""
    if name not in TEMPLATES:
        raise DocumentError(f"Unknown pose template {name!r}; choose one of {', '.join(TEMPLATES)}.")
    if not math.isfinite(height) or height <= 0:
        raise DocumentError("A template person needs a positive height.")
    rows = TEMPLATES[name]
    visible = np.array([row is not None for row in rows])
    xy = np.array([row if row is not None else (0.0, 0.5) for row in rows], dtype=np.float64)
    xy = (xy - (0.0, 0.5)) * height + center
    person = Person(body=Keypoints(xy, visible))
    if hands:
        for part in ("left_hand", "right_hand"):
            person = person.with_part(part, make_hand(person, part))
    if face:
        person = person.with_part("face", make_face(person))
    return person


def make_hand(person: Person, part: str) -> Keypoints:
    """Template hand for `part` ("left_hand" or "right_hand") continuing the forearm past the wrist.

    Needs the elbow and wrist on that side; without them the hand goes below the shoulder (or the neck)."""
    elbow, wrist = (6, 7) if part == "left_hand" else (3, 4)
    body = person.body
    if body.visible[elbow] and body.visible[wrist]:
        start, end = body.xy[elbow], body.xy[wrist]
        length = float(np.hypot(*(end - start)))
    else:
        anchor = next((i for i in ((5 if part == "left_hand" else 2), 1) if body.visible[i]), None)
        base = body.xy[anchor] if anchor is not None else np.array(person.center())
        length = _body_scale(person) * 0.15
        start, end = base, base + (0.0, length)
    if length < 1e-6:
        length = max(_body_scale(person) * 0.15, 1.0)
        start, end = end - (0.0, length), end
    direction = (end - start) / np.hypot(*(end - start))
    normal = np.array([-direction[1], direction[0]])
    local = np.array(_LEFT_HAND)
    if part == "right_hand":
        local[:, 0] = -local[:, 0]
    size = length * HAND_TO_FOREARM
    xy = end + size * (local[:, :1] * -normal + local[:, 1:] * direction)
    return Keypoints(xy, np.ones(HAND_POINTS, dtype=bool))


def make_face(person: Person) -> Keypoints:
    """Template face fitted to the head: nose tip on the nose, width from the eyes or ears (or the
    nose-neck distance), tilted with the eye line, squeezed and shifted sideways when only one eye shows."""
    body = person.body
    vis, xy = body.visible, body.xy
    nose = xy[0] if vis[0] else (xy[1] - (0.0, _body_scale(person) * 0.1) if vis[1] else np.array(person.center()))
    width, angle, squeeze, shift = None, 0.0, 1.0, 0.0
    if vis[14] and vis[15]:
        delta = xy[15] - xy[14]
        width = float(np.hypot(*delta)) / 0.4
        angle = math.atan2(delta[1], delta[0])
    elif vis[16] and vis[17]:
        delta = xy[17] - xy[16]
        width = float(np.hypot(*delta)) / 0.9
        angle = math.atan2(delta[1], delta[0])
    if width is None or width < 1e-6:
        neck_dist = float(np.hypot(*(xy[1] - nose))) if vis[1] else _body_scale(person) * 0.1
        width = max(neck_dist * 0.75, 1.0)
    if vis[14] != vis[15]:  # profile: only one eye shows
        squeeze = 0.5
        seen = 14 if vis[14] else 15
        shift = -0.25 if xy[seen][0] < nose[0] else 0.25
    local = _FACE.copy()
    local[:, 0] = local[:, 0] * squeeze + shift * (1.0 if squeeze < 1 else 0.0)
    local[:, 0] -= local[30, 0]
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    out = nose + width * (local @ rot.T)
    return Keypoints(out, np.ones(FACE_POINTS, dtype=bool))


def _body_scale(person: Person) -> float:
    box = person.bounds()
    if box is None:
        return 100.0
    return max(box[2] - box[0], box[3] - box[1], 1.0)
