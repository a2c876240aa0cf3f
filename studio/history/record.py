"""Bridges between the history store and the other areas' types: documents (studio.document) and generation
requests/results (studio.engine). The store itself only knows plain payloads and blobs.

- `snapshot_document(store, doc)`: log the whole document (on create/open, after loading a file).
- `change_event(doc, change)`: the event for a document `ChangeEvent` (call it once per finished edit, e.g. at
  stroke end with the stroke's region, not for every dab). `capture_change(doc, change)` is its cheap first half
  (copies what the event needs out of the document, on the thread that edits it); `CapturedChange.to_event()`
  is the slow half (PNG/JSON encoding), for another thread.
- `document_at(store, revision)`: rebuild a `Document` from the history.
- `record_generation(store, request, result=..., error=...)`: log a generation (call it in the worker thread:
  encoding images takes milliseconds). `log_generation_to_document(path, ...)` does the same for a document
  file (used by `studio generate --document DOC`). `request_from_generation` gives a logged request back.
"""

from __future__ import annotations

import dataclasses

import json
import os
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from studio.history import events as ev
from studio.history.blobs import JSON, PNG, Blob
from studio.history.errors import HistoryError
from studio.history.store import HistoryStore
from studio.history.writer import Appended

if TYPE_CHECKING:
    from studio.document.document import Document
    from studio.document.events import ChangeEvent
    from studio.engine.pipeline import GenerationResult
    from studio.engine.request import GenerationRequest


def snapshot_document(store: HistoryStore, doc: Document, *, settings: dict | None = None) -> Future:
    """Log the whole document as a snapshot (its layer files as blobs); `settings` None keeps the settings."""
    from studio.document.document import LAYER_NAMES, MASK_LAYER
    from studio.document.serialize import LAYER_FILES, MASK_FILE, document_to_files

    files = document_to_files(doc)
    meta = json.loads(files["document.json"])
    layers = []
    for name in LAYER_NAMES:
        data = files.get(LAYER_FILES[name])
        blob = None if data is None else Blob.from_bytes(data, JSON if LAYER_FILES[name].endswith(".json") else PNG)
        layers.append(ev.LayerContent(name=name, kind=name, props=meta["layers"][name], content=blob))
    if MASK_FILE in files:  # the inpaint mask, when there is one (kind "mask": it takes strokes like the edges)
        layers.append(ev.LayerContent(name=MASK_LAYER, kind=MASK_LAYER, props=meta["layers"][MASK_LAYER],
                                      content=Blob.from_bytes(files[MASK_FILE], PNG)))
    thumbnail = doc.control_image("edge")
    return store.append(ev.snapshot_event(width=doc.width, height=doc.height, layers=layers, settings=settings,
                                          thumbnail=thumbnail))


@dataclass(frozen=True)
class CapturedChange:
    """One document change with the data its history event needs, detached from the document: a raster patch
    (a copy of the changed box), the reference image, the pose layer's people (immutable) or a property value."""

    layer: str
    kind: str
    origin: tuple[int, int] = (0, 0)  # top-left corner of `data` for raster patches
    canvas: tuple[int, int] = (0, 0)  # document width, height
    data: Any = None
    undo: dict[str, str] | None = None  # {"action": "undo" | "redo", "step": label}: what made the change

    def to_event(self) -> ev.NewEvent:
        """The history event (encodes the patch, image or pose; milliseconds, so any thread but the GUI's).
        A change made by Undo or Redo says so in the payload's `undo` ({"action", "step"})."""
        event = self._event()
        if self.undo is None:
            return event
        return dataclasses.replace(event, payload={**event.payload, "undo": dict(self.undo)})

    def _event(self) -> ev.NewEvent:
        from studio.document.events import PIXELS, POSE, PROPERTY
        from studio.document.openpose_json import dumps_openpose

        if self.kind == PROPERTY:
            return ev.layer_event(self.layer, self.data)
        if self.kind == POSE:
            width, height = self.canvas
            return ev.pose_event(self.layer, json.loads(dumps_openpose(self.data, canvas_width=width,
                                                                       canvas_height=height)))
        if self.kind == PIXELS and self.layer == "reference":
            return ev.reference_event(self.layer, self.data)
        patch = self.data
        if patch.dtype != np.uint8:  # depth: the history keeps round(d * 65535) as uint16
            patch = np.rint(np.clip(patch, 0.0, 1.0) * 65535.0).astype(np.uint16)
        return ev.stroke_event(self.layer, x=self.origin[0], y=self.origin[1], patch=patch)


def capture_change(doc: Document, change: ChangeEvent) -> CapturedChange:
    """Copy what the event of `change` needs out of `doc` as it is now (fast: a patch copy at most)."""
    from studio.document.events import PIXELS, POSE, PROPERTY

    layer = doc.layer(change.layer)
    canvas = (doc.width, doc.height)
    if change.kind == PROPERTY:
        return CapturedChange(change.layer, change.kind, canvas=canvas,
                              data={change.prop: layer.properties()[change.prop]})
    if change.kind == POSE:
        return CapturedChange(change.layer, change.kind, canvas=canvas, data=layer.people)
    if change.kind == PIXELS and change.layer == "reference":
        image = layer.image
        return CapturedChange(change.layer, change.kind, canvas=canvas,
                              data=image if image is None or not image.flags.writeable else image.copy())
    if change.kind == PIXELS:
        x0, y0, x1, y1 = change.region or (0, 0, doc.width, doc.height)
        return CapturedChange(change.layer, change.kind, origin=(x0, y0), canvas=canvas,
                              data=layer.data[y0:y1, x0:x1].copy())
    raise HistoryError(f"Unknown document change {change.kind!r}.")


def change_event(doc: Document, change: ChangeEvent) -> ev.NewEvent:
    """The history event for one document change: a stroke (pixels of the changed region of the edge or depth
    layer), a reference image, a pose edit or a layer property change."""
    return capture_change(doc, change).to_event()


def document_at(store: HistoryStore, revision: int | None = None) -> Document:
    """The document as it was at `revision` (default: the current head), with an empty undo history."""
    from studio.document.document import LAYER_NAMES, MASK_LAYER
    from studio.document.serialize import FORMAT, LAYER_FILES, MASK_FILE, VERSION, document_from_files
    from studio.imageio import encode_png

    state = store.state_at(revision)
    if state.width is None or state.height is None:
        raise HistoryError(f"No document was recorded up to revision {state.revision}.")
    names = {**LAYER_FILES, MASK_LAYER: MASK_FILE}
    meta = {"format": FORMAT, "version": VERSION, "width": state.width, "height": state.height,
            "layers": {name: layer.props for name, layer in state.layers.items()
                       if name in LAYER_NAMES or name == MASK_LAYER}}
    files = {"document.json": json.dumps(meta).encode()}
    for name, layer in state.layers.items():
        if name not in names or layer.content is None:
            continue
        if layer.content_hash is not None:
            files[names[name]] = store.blob(layer.content_hash)
        else:
            files[names[name]] = encode_png(layer.content)
    return document_from_files(files)


def generation_event_for(request: GenerationRequest, *, result: GenerationResult | None = None,
                         error: BaseException | str | None = None) -> ev.NewEvent:
    """The event of one generation: `result` when it finished or was cancelled, `error` when it failed."""
    if result is None and error is None:
        raise HistoryError("A generation record needs its result or its error.")
    plain = request.to_dict(include_images=False)
    images = [np.asarray(image.convert("RGB")) for image in result.images] if result is not None else []
    if result is None:
        status, models, timings, seed = "failed", {}, {}, request.seed
    else:
        status = "cancelled" if result.cancelled else "ok"
        models = {"models": result.models, "device": result.device, "family": result.family, "notes": result.notes}
        timings, seed = result.timings, result.seed
    return ev.generation_event(
        request=plain, control_images=[c.image for c in request.controls], results=images, models=models,
        seed=seed, timings=timings, status=status, error=None if error is None else str(error),
        init_image=request.init_image, mask=request.mask,
    )


def request_from_generation(store: HistoryStore, generation: int) -> GenerationRequest:
    """The GenerationRequest of a logged generation, images included (to run it again or refine it)."""
    from studio.engine.request import GenerationRequest

    data = dict(store.generation(generation).request)
    controls = [dict(c) for c in data.get("controls", [])]
    images = [store.image(c["image"]) if c.get("image") else None for c in controls]
    init = store.image(data["init_image"]) if data.get("init_image") else None
    mask = store.image(data["mask"]) if data.get("mask") else None
    for control in controls:
        control["image"] = None
    request = GenerationRequest.from_dict({**data, "controls": controls, "init_image": None, "mask": None})
    for control, image in zip(request.controls, images):
        control.image = image
    request.init_image, request.mask = init, mask
    return request


def record_generation(store: HistoryStore, request: GenerationRequest, *, result: GenerationResult | None = None,
                      error: BaseException | str | None = None) -> Future:
    """Log a generation into `store`; Future[Appended] (its `event` is the generation id for feedback)."""
    return store.append(generation_event_for(request, result=result, error=error))


def log_generation_to_document(document: str | os.PathLike, request: GenerationRequest, *,
                               result: GenerationResult | None = None,
                               error: BaseException | str | None = None) -> Appended:
    """Log a generation into the document file `document` (created if missing) and wait until it is saved."""
    with HistoryStore.open(document, create=True) as store:
        return record_generation(store, request, result=result, error=error).result()
