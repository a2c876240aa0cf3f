"""One record per result image of a history: its generation's request as typed values, its own feedback and the
implicit signals the later history gives about it (Qt-free; the export, the training presets and the scorer read
these).

Feedback belongs to one image when it names that image (`result` = its index). Feedback on a whole generation
(`result` None) is that image's own when the generation made one image; for a batch it stays in the
`generation_*` fields and is copied onto no image, so one verdict never labels images it was not given for.

Implicit signals, each read from later events of the same document:
- `used_as_reference`: a later `reference` event set exactly this image (same pixels) as the reference picture.
- `refined`: how many later generations refined this image (their `init_image` is this image).
- `rerun`: how many later generations repeated this image's request with its seed (same prompt, settings and
  control maps; the batch size may differ). A re-run with a new random seed names no image and counts for none.
- `seconds_to_feedback`: seconds from the generation to the first feedback that is this image's own.
A save of a result to a PNG file is not recorded in the history, so it is not a signal here.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Iterator

from studio.history import events as ev
from studio.history.checkpoints import state_at
from studio.history.errors import HistoryError
from studio.history.reads import Event, Feedback, list_events, read_blob

CONTROL_KINDS = ("edge", "pose", "depth")
MODEL_ROLES = ("base", *CONTROL_KINDS)
TIMINGS = ("load", "prepare", "run", "total")
# Request fields that do not make a re-run different: the seed is compared on its own, the batch size may change.
_NOT_COMPARED = ("seed", "batch_size", "version")


@dataclass
class ResultImage:
    """One result image with everything the exports need (`image` holds its PNG bytes)."""

    generation: int
    index: int
    count: int  # images the generation made
    revision: int
    branch: str
    time: float
    payload: dict[str, Any]
    image_hash: str
    feedback: list[Feedback] = field(default_factory=list)  # this image's own, oldest first
    generation_feedback: list[Feedback] = field(default_factory=list)  # on the whole batch, not copied here
    used_as_reference: bool = False
    refined: int = 0
    rerun: int = 0

    @property
    def request(self) -> dict[str, Any]:
        return self.payload["request"]

    @property
    def prompt(self) -> str:
        return self.request.get("prompt", "")

    @property
    def seed(self) -> int | None:
        """The seed of this image: the generation's seed plus the image's index (what its PNG file carries)."""
        seed = self.payload.get("seed")
        if seed is None:
            seed = self.request.get("seed")
        return None if seed is None else int(seed) + self.index

    def control(self, kind: str) -> dict[str, Any] | None:
        return next((c for c in self.request.get("controls", []) if c.get("kind") == kind), None)

    @property
    def verdict(self) -> str | None:
        return _latest(self.feedback, "verdict")

    @property
    def rating(self) -> int | None:
        return _latest(self.feedback, "rating")

    @property
    def comment(self) -> str | None:
        return _latest(self.feedback, "comment")

    @property
    def seconds_to_feedback(self) -> float | None:
        return None if not self.feedback else max(0.0, self.feedback[0].time - self.time)

    @property
    def kept(self) -> bool | None:
        """True when the designer kept it (accepted, or 4-5 stars without a verdict), False when they dropped it
        (rejected, or 1-2 stars), None when the feedback says neither."""
        if self.verdict is not None:
            return self.verdict == "accept"
        if self.rating is not None and self.rating != 3:
            return self.rating >= 4
        return None


def _latest(feedback: list[Feedback], name: str) -> Any:
    return next((getattr(f, name) for f in reversed(feedback) if getattr(f, name) is not None), None)


def request_key(request: dict[str, Any]) -> str:
    """The request without its seed and batch size: equal for a batch and its re-runs."""
    return json.dumps({k: v for k, v in request.items() if k not in _NOT_COMPARED}, sort_keys=True)


def result_images(conn: sqlite3.Connection) -> list[ResultImage]:
    """Every result image of the history behind `conn`, in log order (generation, then index)."""
    images: list[ResultImage] = []
    by_hash: dict[str, list[ResultImage]] = {}
    by_generation: dict[int, list[ResultImage]] = {}
    by_request: dict[tuple[str, int], list[ResultImage]] = {}
    for event in list_events(conn, kinds=[ev.GENERATION, ev.FEEDBACK, ev.REFERENCE]):
        payload = event.payload
        if event.kind == ev.GENERATION:
            request = payload["request"]
            init = request.get("init_image")
            for earlier in by_hash.get(init, []) if init else []:
                earlier.refined += 1
            seed = payload.get("seed") if payload.get("seed") is not None else request.get("seed")
            if request.get("seed") is not None and seed is not None:
                for earlier in by_request.get((request_key(request), int(seed)), []):
                    earlier.rerun += 1
            new = [ResultImage(event.id, i, len(payload["results"]), event.revision, event.branch, event.time,
                               payload, hash_) for i, hash_ in enumerate(payload["results"])]
            by_generation[event.id] = new
            for image in new:
                images.append(image)
                by_hash.setdefault(image.image_hash, []).append(image)
                if image.seed is not None:
                    by_request.setdefault((request_key(request), image.seed), []).append(image)
        elif event.kind == ev.FEEDBACK:
            _add_feedback(by_generation.get(payload["generation"], []), event)
        elif payload["image"] is not None:
            for earlier in by_hash.get(payload["image"], []):
                earlier.used_as_reference = True
    return images


def _add_feedback(images: list[ResultImage], event: Event) -> None:
    p = event.payload
    feedback = Feedback(event.id, event.time, p["result"], p["verdict"], p["rating"], p["comment"])
    if feedback.result is None:
        for image in images:
            (image.feedback if len(images) == 1 else image.generation_feedback).append(feedback)
    elif feedback.result < len(images):
        images[feedback.result].feedback.append(feedback)


def pose_keypoints(conn: sqlite3.Connection, image: ResultImage) -> str | None:
    """The OpenPose JSON of the document's pose layer when the generation ran, for generations with a pose
    control (None otherwise, or when the history holds no pose layer there)."""
    if image.control("pose") is None:
        return None
    try:
        state, _ = state_at(conn, image.revision)
    except HistoryError:
        return None
    layer = next((layer for layer in state.layers.values() if layer.kind == "pose"), None)
    if layer is None or not isinstance(layer.content, dict):
        return None
    return json.dumps(layer.content, sort_keys=True)


def iter_with_bytes(conn: sqlite3.Connection, images: list[ResultImage]) -> Iterator[tuple[ResultImage, bytes]]:
    """Each image with its PNG bytes, read one at a time (a history may hold gigabytes of images)."""
    for image in images:
        yield image, read_blob(conn, image.image_hash)
