"""Event kinds, their payloads, and constructors the UI and the other areas use to log what happened.

Every event is plain JSON plus the blobs it names by hash. Kinds and payloads:

- `created` {studio_version}: the first event of every document (made by the store).
- `snapshot` {state: {width, height, settings, layers: [{name, kind, props, content}]}}: the whole document;
  `content` is the hash of a PNG (raster layers, reference image) or JSON blob (pose) or null when empty.
  Without `settings` the snapshot keeps the settings the document had.
- `stroke` {layer, bbox: [x, y, w, h], patch, tool}: the pixels of `bbox` after a stroke (edge or depth layer).
- `pose` {layer, pose}: the pose layer's new OpenPose JSON (blob).
- `layer` {layer, changes}: layer properties (visible, opacity, locked, ...); `kind` in changes creates the
  layer, `removed: true` deletes it, `index` moves it in the stack.
- `reference` {layer, image}: a reference image set (PNG blob) or cleared (null).
- `setting` {field, value[, fields]}: prompt, negative prompt or any generation setting. Edits of the same field
  that follow each other within the store's coalescing window merge into one event; consecutive grouped edits
  of several fields are one event whose `fields` holds them all (`studio.history.setting_groups`).
- `generation` {request, results, models, seed, timings, status, error}: the full GenerationRequest JSON whose
  control and init images are blob hashes, the result images (hashes), model identities and file hashes, the seed
  used, timings in seconds, status ok | cancelled | failed and the error text.
- `feedback` {generation, result, verdict, rating, comment}: a verdict accept | reject, a star rating 1-5 and/or
  a comment on a generation (event id) or on one of its results (index).
- `chat` {message, reply, tool_calls, applied}: one assistant turn; tool calls with their results; whether the
  reply's fields were applied to the document.
- `training` {task, status, error, data, base_model, settings, losses, steps, eval_loss, output, validation,
  seconds}: one training run on a training export of this document's feedback (`studio train lora|controlnet
  --document DOC`): task lora | controlnet, status ok | cancelled | failed, data {path, hash (sha256 of its
  parquet files), rows, ...}, the base model's identity, the settings, [step, loss] pairs, the fixed-noise
  evaluation loss {start, end}, the output path (null unless written) and the validation image paths; the last
  validation image is the revision's thumbnail.
- `restore` {revision, branch}, `branch` {revision, name}: made by `HistoryStore.restore` / `.branch`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from studio.history.blobs import Blob, is_blob_hash, make_thumbnail
from studio.history.errors import HistoryError
from studio.history.setting_groups import payload_fields

# The document's own size limits (studio.document.document.MAX_SIDE / MAX_PIXELS; a test keeps them equal):
# a snapshot beyond them, from an archive or anywhere, is refused before any canvas is allocated.
MAX_SIDE = 8192
MAX_PIXELS = 64 * 2**20

CREATED = "created"
SNAPSHOT = "snapshot"
STROKE = "stroke"
POSE = "pose"
LAYER = "layer"
REFERENCE = "reference"
SETTING = "setting"
GENERATION = "generation"
FEEDBACK = "feedback"
CHAT = "chat"
RESTORE = "restore"
BRANCH = "branch"
TRAINING = "training"

KINDS = (CREATED, SNAPSHOT, STROKE, POSE, LAYER, REFERENCE, SETTING, GENERATION, FEEDBACK, CHAT, RESTORE, BRANCH,
         TRAINING)
APPENDABLE = (SNAPSHOT, STROKE, POSE, LAYER, REFERENCE, SETTING, GENERATION, FEEDBACK, CHAT, TRAINING)
TRAINING_TASKS = ("lora", "controlnet")
STATUSES = ("ok", "cancelled", "failed")
VERDICTS = ("accept", "reject")
TEXT_SETTINGS = ("prompt", "negative_prompt")  # settings whose values are searchable text


@dataclass(frozen=True)
class NewEvent:
    """An event to append: kind, JSON payload, the blobs it introduces and an optional thumbnail (PNG blob)."""

    kind: str
    payload: dict[str, Any]
    blobs: tuple[Blob, ...] = ()
    thumbnail: Blob | None = field(default=None, repr=False)
    group: bool = False  # a setting edit that may join the previous grouped one (`studio.history.setting_groups`)


@dataclass(frozen=True)
class LayerContent:
    """One layer for a snapshot: content is an image array (raster, reference), a pose dict, an encoded blob
    (PNG or JSON bytes the caller already has), or None (empty)."""

    name: str
    kind: str
    props: dict[str, Any]
    content: np.ndarray | dict | Blob | None


# -- validation ------------------------------------------------------------------------------------------------
def _fail(kind: str, problem: str) -> None:
    raise HistoryError(f"Malformed {kind} event: {problem}.")


def _need(kind: str, payload: Mapping[str, Any], key: str, types: type | tuple, *, nullable: bool = False) -> Any:
    if key not in payload:
        _fail(kind, f"'{key}' is missing")
    value = payload[key]
    if value is None and nullable:
        return None
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
        _fail(kind, f"'{key}' has the wrong type ({type(value).__name__})")
    return value


def _as_tuple(types: type | tuple) -> tuple:
    return types if isinstance(types, tuple) else (types,)


def _need_hash(kind: str, payload: Mapping[str, Any], key: str, *, nullable: bool = False) -> None:
    value = _need(kind, payload, key, str, nullable=nullable)
    if value is not None and not is_blob_hash(value):
        _fail(kind, f"'{key}' is not a blob hash")


def _validate_state(kind: str, state: Any) -> None:
    if not isinstance(state, dict):
        _fail(kind, "'state' must be an object")
    for key in ("width", "height"):
        value = _need(kind, state, key, int)
        if not 1 <= value <= MAX_SIDE:
            _fail(kind, f"'{key}' must be 1 to {MAX_SIDE} pixels")
    if state["width"] * state["height"] > MAX_PIXELS:
        _fail(kind, f"the canvas {state['width']}x{state['height']} is above {MAX_PIXELS // 2**20} megapixels")
    if "settings" in state:  # a snapshot without settings keeps the document's settings
        _need(kind, state, "settings", dict)
    names = set()
    for layer in _need(kind, state, "layers", list):
        if not isinstance(layer, dict):
            _fail(kind, "a layer must be an object")
        name = _need(kind, layer, "name", str)
        _need(kind, layer, "kind", str)
        _need(kind, layer, "props", dict)
        _need_hash(kind, layer, "content", nullable=True)
        if name in names:
            _fail(kind, f"layer '{name}' appears twice")
        names.add(name)


def _validate_generation(kind: str, payload: Mapping[str, Any]) -> None:
    request = _need(kind, payload, "request", dict)
    _need(kind, request, "prompt", str)
    for control in _need(kind, request, "controls", list):
        if not isinstance(control, dict):
            _fail(kind, "a control must be an object")
        _need(kind, control, "kind", str)
        _need_hash(kind, control, "image", nullable=True)
    for name in ("init_image", "mask"):
        if request.get(name) is not None:
            _need_hash(kind, request, name)
    for result in _need(kind, payload, "results", list):
        if not is_blob_hash(result):
            _fail(kind, "a result is not a blob hash")
    _need(kind, payload, "models", dict)
    _need(kind, payload, "seed", int, nullable=True)
    _need(kind, payload, "timings", dict)
    if _need(kind, payload, "status", str) not in STATUSES:
        _fail(kind, f"'status' must be one of {', '.join(STATUSES)}")
    _need(kind, payload, "error", str, nullable=True)


def _validate_feedback(kind: str, payload: Mapping[str, Any]) -> None:
    generation = _need(kind, payload, "generation", int)
    if generation < 1:
        _fail(kind, "'generation' must be an event id")
    result = _need(kind, payload, "result", int, nullable=True)
    if result is not None and result < 0:
        _fail(kind, "'result' must be a result index")
    verdict = _need(kind, payload, "verdict", str, nullable=True)
    if verdict is not None and verdict not in VERDICTS:
        _fail(kind, "'verdict' must be accept or reject")
    rating = _need(kind, payload, "rating", int, nullable=True)
    if rating is not None and not 1 <= rating <= 5:
        _fail(kind, "'rating' must be 1 to 5 stars")
    comment = _need(kind, payload, "comment", str, nullable=True)
    if verdict is None and rating is None and comment is None:
        _fail(kind, "it needs a verdict, a rating or a comment")


def _validate_training(kind: str, payload: Mapping[str, Any]) -> None:
    if _need(kind, payload, "task", str) not in TRAINING_TASKS:
        _fail(kind, f"'task' must be one of {', '.join(TRAINING_TASKS)}")
    if _need(kind, payload, "status", str) not in STATUSES:
        _fail(kind, f"'status' must be one of {', '.join(STATUSES)}")
    _need(kind, payload, "error", str, nullable=True)
    data = _need(kind, payload, "data", dict)
    _need(kind, data, "path", str)
    _need(kind, data, "hash", str)
    _need(kind, data, "rows", int)
    _need(kind, payload, "base_model", dict)
    _need(kind, payload, "settings", dict)
    for pair in _need(kind, payload, "losses", list):
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], int)
                and isinstance(pair[1], (int, float)) and not isinstance(pair[1], bool)):
            _fail(kind, "a loss must be [step, value]")
    if _need(kind, payload, "steps", int) < 0:
        _fail(kind, "'steps' must not be negative")
    _need(kind, payload, "eval_loss", dict)
    _need(kind, payload, "output", str, nullable=True)
    if not all(isinstance(path, str) for path in _need(kind, payload, "validation", list)):
        _fail(kind, "a validation image must be a path")
    _need(kind, payload, "seconds", (int, float))


def validate_payload(kind: str, payload: Any) -> None:
    """Check the structure of an event payload; raises HistoryError with one sentence."""
    if kind not in KINDS:
        raise HistoryError(f"Unknown event kind {kind!r}.")
    if not isinstance(payload, dict):
        _fail(kind, "the payload must be an object")
    if kind == CREATED:
        _need(kind, payload, "studio_version", str)
    elif kind == SNAPSHOT:
        _validate_state(kind, payload.get("state"))
    elif kind == STROKE:
        _need(kind, payload, "layer", str)
        bbox = _need(kind, payload, "bbox", list)
        if len(bbox) != 4 or not all(isinstance(v, int) and not isinstance(v, bool) for v in bbox):
            _fail(kind, "'bbox' must be [x, y, width, height] in whole pixels")
        if bbox[0] < 0 or bbox[1] < 0 or bbox[2] < 1 or bbox[3] < 1:
            _fail(kind, "'bbox' must start inside the canvas and be at least one pixel")
        _need_hash(kind, payload, "patch")
        _need(kind, payload, "tool", str)
    elif kind == POSE:
        _need(kind, payload, "layer", str)
        _need_hash(kind, payload, "pose")
    elif kind == LAYER:
        _need(kind, payload, "layer", str)
        if not _need(kind, payload, "changes", dict):
            _fail(kind, "'changes' is empty")
    elif kind == REFERENCE:
        _need(kind, payload, "layer", str)
        _need_hash(kind, payload, "image", nullable=True)
    elif kind == SETTING:
        if not _need(kind, payload, "field", str):
            _fail(kind, "'field' is empty")
        if "value" not in payload:
            _fail(kind, "'value' is missing")
        if "fields" in payload and not (isinstance(payload["fields"], dict) and payload["fields"]
                                        and all(isinstance(name, str) and name for name in payload["fields"])):
            _fail(kind, "'fields' must map field names to values")
    elif kind == GENERATION:
        _validate_generation(kind, payload)
    elif kind == FEEDBACK:
        _validate_feedback(kind, payload)
    elif kind == CHAT:
        _need(kind, payload, "message", str)
        _need(kind, payload, "reply", str)
        for call in _need(kind, payload, "tool_calls", list):
            if not isinstance(call, dict):
                _fail(kind, "a tool call must be an object")
        _need(kind, payload, "applied", bool)
    elif kind == TRAINING:
        _validate_training(kind, payload)
    elif kind == RESTORE:
        _need(kind, payload, "revision", int)
        _need(kind, payload, "branch", str)
    elif kind == BRANCH:
        _need(kind, payload, "revision", int)
        _need(kind, payload, "name", str)


def blob_refs(kind: str, payload: Mapping[str, Any]) -> list[str]:
    """Hashes of the blobs an (already validated) event payload refers to."""
    if kind == SNAPSHOT:
        return [layer["content"] for layer in payload["state"]["layers"] if layer["content"] is not None]
    if kind == STROKE:
        return [payload["patch"]]
    if kind == POSE:
        return [payload["pose"]]
    if kind == REFERENCE:
        return [payload["image"]] if payload["image"] is not None else []
    if kind == GENERATION:
        request = payload["request"]
        refs = [c["image"] for c in request["controls"] if c.get("image") is not None]
        refs += [request[name] for name in ("init_image", "mask") if request.get(name) is not None]
        return refs + list(payload["results"])
    return []


def search_text(kind: str, payload: Mapping[str, Any]) -> str | None:
    """Text that text search finds this event by (prompts, chat turns, feedback comments), or None."""
    if kind == SETTING:
        texts = [value for name, value in payload_fields(payload).items()
                 if name in TEXT_SETTINGS and isinstance(value, str)]
        return "\n".join(texts) if texts else None
    if kind == GENERATION:
        request = payload["request"]
        return "\n".join(filter(None, [request["prompt"], request.get("negative_prompt") or ""]))
    if kind == CHAT:
        return f"{payload['message']}\n{payload['reply']}"
    if kind == FEEDBACK:
        return payload["comment"]
    if kind == TRAINING:
        return "\n".join(filter(None, [f"{payload['task']} training", payload["output"] or "", payload["error"] or ""]))
    return None


# -- constructors --------------------------------------------------------------------------------------------
def _event(kind: str, payload: dict[str, Any], blobs: Sequence[Blob] = (), thumbnail: Blob | None = None) -> NewEvent:
    validate_payload(kind, payload)
    unique = {blob.hash: blob for blob in blobs}
    return NewEvent(kind=kind, payload=payload, blobs=tuple(unique.values()), thumbnail=thumbnail)


def _content_blob(content: np.ndarray | dict | None) -> Blob | None:
    if content is None:
        return None
    if isinstance(content, np.ndarray):
        return Blob.from_array(content)
    if isinstance(content, dict):
        return Blob.from_json(content)
    raise HistoryError(f"Layer content must be an image array, a dict or None, not {type(content).__name__}.")


def snapshot_event(
    *, width: int, height: int, layers: Sequence[LayerContent], settings: Mapping[str, Any] | None = None,
    thumbnail: np.ndarray | None = None,
) -> NewEvent:
    """The whole document: size, every layer with its content and (unless None) all settings."""
    blobs, entries = [], []
    for layer in layers:
        blob = layer.content if isinstance(layer.content, Blob) else _content_blob(layer.content)
        if blob is not None:
            blobs.append(blob)
        entries.append({"name": layer.name, "kind": layer.kind, "props": dict(layer.props),
                        "content": blob.hash if blob else None})
    state = {"width": int(width), "height": int(height), "layers": entries}
    if settings is not None:
        state["settings"] = dict(settings)
    thumb = make_thumbnail(thumbnail) if thumbnail is not None else None
    return _event(SNAPSHOT, {"state": state}, blobs, thumb)


def stroke_event(layer: str, *, x: int, y: int, patch: np.ndarray, tool: str = "brush",
                 thumbnail: np.ndarray | None = None) -> NewEvent:
    """A stroke: `patch` holds the layer's pixels after the stroke in the box at (x, y) of the patch's size."""
    blob = Blob.from_array(patch)
    height, width = patch.shape[:2]
    payload = {"layer": layer, "bbox": [int(x), int(y), int(width), int(height)], "patch": blob.hash, "tool": tool}
    thumb = make_thumbnail(thumbnail) if thumbnail is not None else None
    return _event(STROKE, payload, [blob], thumb)


def pose_event(layer: str, pose: Mapping[str, Any]) -> NewEvent:
    """A pose edit: the whole OpenPose JSON of the pose layer after the edit."""
    blob = Blob.from_json(dict(pose))
    return _event(POSE, {"layer": layer, "pose": blob.hash}, [blob])


def layer_event(layer: str, changes: Mapping[str, Any]) -> NewEvent:
    """Layer property changes ({"visible": False}, {"opacity": 0.5}); {"kind": ...} adds, {"removed": True} drops."""
    return _event(LAYER, {"layer": layer, "changes": dict(changes)})


def reference_event(layer: str, image: np.ndarray | None) -> NewEvent:
    """Set (an HxWx3 image) or clear (None) a reference image layer."""
    blob = Blob.from_array(image, compress_level=6) if image is not None else None
    return _event(REFERENCE, {"layer": layer, "image": blob.hash if blob else None}, [blob] if blob else [])


def setting_event(field_name: str, value: Any, *, group: bool = False) -> NewEvent:
    """A prompt or setting change (coalesced with the previous edit of the same field while typing; with `group`,
    consecutive edits of any grouped fields become one revision)."""
    return dataclasses.replace(_event(SETTING, {"field": field_name, "value": value}), group=group)


def feedback_event(generation: int, *, verdict: str | None = None, rating: int | None = None,
                   comment: str | None = None, result: int | None = None) -> NewEvent:
    """Feedback on generation `generation` (its event id), or on its result number `result`."""
    payload = {"generation": generation, "result": result, "verdict": verdict, "rating": rating, "comment": comment}
    return _event(FEEDBACK, payload)


def chat_event(*, message: str, reply: str, tool_calls: Sequence[Mapping[str, Any]] = (),
               applied: bool = False) -> NewEvent:
    """One chat turn: the user's message, the reply, the tool calls made ({name, args, result}) and applied flag."""
    payload = {"message": message, "reply": reply, "tool_calls": [dict(c) for c in tool_calls], "applied": applied}
    return _event(CHAT, payload)


def generation_event(
    *, request: Mapping[str, Any], control_images: Sequence[np.ndarray | None], results: Sequence[np.ndarray],
    models: Mapping[str, Any], seed: int | None, timings: Mapping[str, float], status: str = "ok",
    error: str | None = None, init_image: np.ndarray | None = None, mask: np.ndarray | None = None,
) -> NewEvent:
    """A generation. `request` is the request JSON without images; `control_images[i]` is the image of
    `request["controls"][i]`. Images become blobs and the request names them by hash. Encoding the images
    (PNG) is the slow part: call this in a worker thread, not the GUI thread."""
    request = dict(request)
    controls = [dict(c) for c in request.get("controls", [])]
    if len(controls) != len(control_images):
        raise HistoryError(f"The request has {len(controls)} controls but {len(control_images)} control images.")
    blobs: list[Blob] = []
    for control, image in zip(controls, control_images):
        blob = Blob.from_array(image, compress_level=6) if image is not None else None
        control["image"] = blob.hash if blob else None
        blobs += [blob] if blob else []
    request["controls"] = controls
    for name, image in (("init_image", init_image), ("mask", mask)):  # an inpaint's mask too
        if image is not None:
            blob = Blob.from_array(image, compress_level=6)
            request[name] = blob.hash
            blobs.append(blob)
    result_blobs = [Blob.from_array(image, compress_level=6) for image in results]
    payload = {
        "request": request, "results": [b.hash for b in result_blobs], "models": dict(models),
        "seed": None if seed is None else int(seed), "timings": {k: float(v) for k, v in timings.items()},
        "status": status, "error": error,
    }
    shown = results[0] if len(results) else next((i for i in control_images if i is not None), None)
    thumb = make_thumbnail(shown) if shown is not None else None
    return _event(GENERATION, payload, blobs + result_blobs, thumb)


def training_event(*, task: str, status: str, data: Mapping[str, Any], base_model: Mapping[str, Any],
                   settings: Mapping[str, Any], losses: Sequence[Sequence[float]], steps: int,
                   eval_loss: Mapping[str, float | None], output: str | None, validation: Sequence[str],
                   seconds: float, error: str | None = None, thumbnail: np.ndarray | None = None) -> NewEvent:
    """A training run (see the module docstring); `thumbnail` (an image, e.g. the last validation image)."""
    payload = {
        "task": task, "status": status, "error": error, "data": dict(data), "base_model": dict(base_model),
        "settings": dict(settings), "losses": [[int(step), float(value)] for step, value in losses],
        "steps": int(steps), "eval_loss": dict(eval_loss), "output": output, "validation": list(validation),
        "seconds": float(seconds),
    }
    return _event(TRAINING, payload, (), make_thumbnail(thumbnail) if thumbnail is not None else None)
