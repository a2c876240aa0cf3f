"""Document state at a revision and how each event changes it (the replay rules).

A `DocumentState` is the size, the settings and the ordered layers. Each layer has a kind, properties and
content: an image array (edge/depth rasters, reference image), a pose dict, or None (empty). `content_hash`
names the blob holding the content while it is unchanged since it was loaded; strokes clear it, and
`checkpoints.write_checkpoint` stores the new pixels again.

`apply_event` changes a state by one event. It checks everything before changing anything, so an event that
does not fit (a stroke outside the canvas, on an unknown layer) raises HistoryError and leaves the state as it
was. The writer thread uses it to refuse such events before they are written.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from studio.history import events as ev
from studio.history.blobs import JSON, PNG
from studio.history.errors import HistoryError
from studio.history.setting_groups import payload_fields

STROKE_KINDS = ("edge", "depth", "mask")  # layer kinds that take strokes
#: Layers every document has that files older than the layer lack: the first event naming one adds it (empty).
IMPLICIT_LAYERS = {"mask": "mask"}


class BlobSource(Protocol):
    """Where replay reads blobs: decoded content by hash."""

    def media(self, hash_: str) -> str: ...

    def array(self, hash_: str, *, max_pixels: int | None = None) -> np.ndarray: ...

    def json(self, hash_: str) -> Any: ...


@dataclass
class LayerState:
    """One layer: kind (edge | depth | pose | reference | ...), properties and content."""

    kind: str
    props: dict[str, Any] = field(default_factory=dict)
    content: np.ndarray | dict | None = None
    content_hash: str | None = None

    def copy(self) -> LayerState:
        content = self.content.copy() if isinstance(self.content, np.ndarray) else copy.deepcopy(self.content)
        return LayerState(self.kind, copy.deepcopy(self.props), content, self.content_hash)


@dataclass
class DocumentState:
    """The document at one revision. `layers` keeps stack order (first = bottom)."""

    revision: int
    width: int | None = None
    height: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    layers: dict[str, LayerState] = field(default_factory=dict)

    def copy(self) -> DocumentState:
        return DocumentState(self.revision, self.width, self.height, copy.deepcopy(self.settings),
                             {name: layer.copy() for name, layer in self.layers.items()})

    def to_json(self) -> dict[str, Any]:
        """The state as checkpoint JSON; every non-empty layer must have a `content_hash`."""
        layers = []
        for name, layer in self.layers.items():
            if layer.content is not None and layer.content_hash is None:
                raise HistoryError(f"Layer '{name}' has unsaved content.")
            layers.append({"name": name, "kind": layer.kind, "props": layer.props, "content": layer.content_hash})
        return {"width": self.width, "height": self.height, "settings": self.settings, "layers": layers}


def load_content(hash_: str | None, blobs: BlobSource, *, max_pixels: int | None = None) -> np.ndarray | dict | None:
    """Decode a layer's content blob (PNG -> array, JSON -> dict)."""
    if hash_ is None:
        return None
    media = blobs.media(hash_)
    if media == PNG:
        return blobs.array(hash_, max_pixels=max_pixels)
    if media == JSON:
        return blobs.json(hash_)
    raise HistoryError(f"Layer content blob {hash_[:12]} has unknown media {media!r}.")


def state_from_json(revision: int, data: dict[str, Any], blobs: BlobSource) -> DocumentState:
    """A state from checkpoint or snapshot JSON, loading every layer's content."""
    width, height = data.get("width"), data.get("height")
    max_pixels = width * height * 16 if width and height else None
    state = DocumentState(revision, width, height, copy.deepcopy(data.get("settings", {})))
    for entry in data.get("layers", []):
        content = load_content(entry["content"], blobs, max_pixels=max_pixels)
        if entry["kind"] in STROKE_KINDS and content is not None and (
            not isinstance(content, np.ndarray) or content.shape[:2] != (height, width)
        ):
            raise HistoryError(f"Layer '{entry['name']}' does not match the {width}x{height} document size.")
        state.layers[entry["name"]] = LayerState(entry["kind"], copy.deepcopy(entry["props"]), content,
                                                 entry["content"])
    return state


def _layer(state: DocumentState, name: str, kind: str) -> LayerState:
    if name not in state.layers and name in IMPLICIT_LAYERS:
        return LayerState(IMPLICIT_LAYERS[name])  # not in the state yet: the caller adds it once the event fits
    if name not in state.layers:
        raise HistoryError(f"A {kind} event names the layer '{name}', which does not exist at that revision.")
    return state.layers[name]


def _apply_stroke(state: DocumentState, payload: dict[str, Any], blobs: BlobSource) -> None:
    layer = _layer(state, payload["layer"], ev.STROKE)
    if layer.kind not in STROKE_KINDS:
        raise HistoryError(f"Layer '{payload['layer']}' is a {layer.kind} layer and takes no strokes.")
    if state.width is None or state.height is None:
        raise HistoryError("A stroke came before the document size was known; record a snapshot first.")
    x, y, w, h = payload["bbox"]
    if x + w > state.width or y + h > state.height:
        raise HistoryError(f"A stroke box {payload['bbox']} reaches outside the {state.width}x{state.height} canvas.")
    patch = blobs.array(payload["patch"], max_pixels=w * h)
    if patch.shape[:2] != (h, w):
        raise HistoryError(f"A stroke patch is {patch.shape[1]}x{patch.shape[0]}, its box says {w}x{h}.")
    if layer.kind == "mask" and (patch.dtype != np.uint8 or patch.ndim != 2):
        raise HistoryError("A mask stroke patch must be 8-bit grey.")
    raster = layer.content
    if raster is None:
        raster = np.zeros((state.height, state.width) + patch.shape[2:], dtype=patch.dtype)
    elif not isinstance(raster, np.ndarray) or raster.shape[2:] != patch.shape[2:] or raster.dtype != patch.dtype:
        raise HistoryError(f"A stroke patch does not match the pixel format of layer '{payload['layer']}'.")
    elif not raster.flags.writeable:
        raster = raster.copy()
    raster[y : y + h, x : x + w] = patch
    layer.content, layer.content_hash = raster, None
    state.layers.setdefault(payload["layer"], layer)


def _apply_layer(state: DocumentState, payload: dict[str, Any]) -> None:
    name, changes = payload["layer"], dict(payload["changes"])
    if changes.get("removed"):
        if name not in state.layers:
            raise HistoryError(f"A {ev.LAYER} event removes the layer '{name}', which does not exist at that revision.")
        del state.layers[name]
        return
    adding = name not in state.layers
    if adding and name in IMPLICIT_LAYERS:
        changes.setdefault("kind", IMPLICIT_LAYERS[name])
    if adding and not isinstance(changes.get("kind"), str):
        raise HistoryError(f"Layer '{name}' does not exist; a layer event that adds it must give its kind.")
    index = changes.pop("index", None)
    count = len(state.layers) + adding
    if index is not None and (not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < count):
        raise HistoryError(f"Layer index {index!r} is outside the stack of {count} layers.")
    if adding:
        state.layers[name] = LayerState(changes["kind"])
    layer = state.layers[name]
    layer.kind = changes.pop("kind", layer.kind)
    layer.props.update(changes)
    if index is not None:
        order = [n for n in state.layers if n != name]
        order.insert(index, name)
        state.layers = {n: state.layers[n] for n in order}


def _apply_content(state: DocumentState, payload: dict[str, Any], *, kind: str, key: str, media: str,
                   blobs: BlobSource) -> None:
    name, hash_ = payload["layer"], payload[key]
    layer = _layer(state, name, kind)
    if hash_ is not None and blobs.media(hash_) != media:
        raise HistoryError(f"The {key} of layer '{name}' must be a {media.upper()} blob.")
    max_pixels = state.width * state.height * 16 if state.width and state.height else None
    content = load_content(hash_, blobs, max_pixels=max_pixels)
    layer.content, layer.content_hash = content, hash_


def apply_event(state: DocumentState, *, revision: int, kind: str, payload: dict[str, Any], blobs: BlobSource) -> None:
    """Change `state` by one event and mark it as the state at `revision`. Raises HistoryError (state unchanged)
    when the event does not fit the state."""
    if kind == ev.SNAPSHOT:
        new = state_from_json(revision, payload["state"], blobs)
        state.width, state.height, state.layers = new.width, new.height, new.layers
        if "settings" in payload["state"]:
            state.settings = new.settings
    elif kind == ev.STROKE:
        _apply_stroke(state, payload, blobs)
    elif kind == ev.POSE:
        _apply_content(state, payload, kind=kind, key="pose", media=JSON, blobs=blobs)
    elif kind == ev.REFERENCE:
        _apply_content(state, payload, kind=kind, key="image", media=PNG, blobs=blobs)
    elif kind == ev.LAYER:
        _apply_layer(state, payload)
    elif kind == ev.SETTING:
        state.settings.update(copy.deepcopy(payload_fields(payload)))
    # created, generation, feedback, chat, restore and branch leave the document as it was: restore and branch
    # revisions have the restored revision as parent, so their state is already the parent's.
    state.revision = revision
