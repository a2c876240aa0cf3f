"""Saving documents as a set of named files, for the history store and for saving to disk.

`document_to_files(doc)` returns {"document.json", "edge.png", "depth.png", "pose.json"} plus
"reference.png" when there is a reference picture:
- document.json: {"format": "controlnet-studio-document", "version": 1, "width", "height",
  "layers": {name: {"visible", "opacity", "locked"}}} with sorted keys;
- edge.png: 8-bit grey PNG;
- depth.png: 16-bit grey PNG, round(depth * 65535) (so depth keeps 1/65535 precision);
- pose.json: OpenPose JSON in document pixels (see openpose_json);
- reference.png: 8-bit RGB PNG;
- mask.png: 8-bit grey PNG of the inpaint mask, only when it is not empty (older files have none).
The same content always gives the same bytes, so content hashes deduplicate. `document_from_files`
reads them back (with an empty undo history); a missing or corrupt file raises DocumentFormatError.
"""

from __future__ import annotations

import json

import numpy as np

from studio.document.document import LAYER_NAMES, Document
from studio.document.errors import DocumentError, DocumentFormatError
from studio.document.layer import Layer
from studio.document.openpose_json import dumps_openpose, loads_openpose
from studio.imageio import ImageLoadError, decode_png16, encode_png, open_image, to_rgb_array

FORMAT = "controlnet-studio-document"
VERSION = 1
#: File name of each layer's content.
LAYER_FILES = {"reference": "reference.png", "edge": "edge.png", "depth": "depth.png", "pose": "pose.json"}
MASK_FILE = "mask.png"


def layer_to_bytes(layer: Layer) -> bytes | None:
    """The content of one layer as file bytes (None for an empty reference layer)."""
    if layer.name == "edge":
        return encode_png(layer.data)
    if layer.name == "depth":
        return encode_png(layer.to_uint16())
    if layer.name == "pose":
        return dumps_openpose(layer.people, canvas_width=layer.width, canvas_height=layer.height).encode("utf-8")
    if layer.name == "reference":
        return None if layer.image is None else encode_png(layer.image)
    raise DocumentError(f"Unknown layer {layer.name!r}.")


def layer_from_bytes(layer: Layer, data: bytes | None) -> None:
    """Replace one layer's content from file bytes made by `layer_to_bytes` (one undo step)."""
    name = LAYER_FILES.get(layer.name, layer.name)
    try:
        if layer.name == "pose":
            parsed = loads_openpose(data, canvas_size=(layer.width, layer.height))
            if (parsed.canvas_width, parsed.canvas_height) != (layer.width, layer.height):
                sx, sy = layer.width / parsed.canvas_width, layer.height / parsed.canvas_height
                people = [p.transformed(np.array([[sx, 0, 0], [0, sy, 0]])) for p in parsed.people]
            else:
                people = list(parsed.people)
            layer.set_people(people, label="Load pose")
            return
        if layer.name == "reference":
            layer.set_image(None if data is None else _sized(to_rgb_array(open_image(data)), layer, name))
            return
        if data is None:
            raise DocumentFormatError(f"{name} is missing.")
        if layer.name == "edge":
            image = open_image(data)
            if image.mode != "L":
                raise DocumentFormatError(f"{name} must be an 8-bit grey PNG, not mode {image.mode}.")
            layer.set_edges(_sized(np.asarray(image, dtype=np.uint8), layer, name), label="Load edges")
        elif layer.name == "depth":
            depth = _sized(decode_png16(data), layer, name).astype(np.float32) / 65535.0
            layer.set_depth(depth, label="Load depth")
        else:
            raise DocumentError(f"Unknown layer {layer.name!r}.")
    except ImageLoadError as exc:
        raise DocumentFormatError(f"{name} is not a readable image: {exc}") from exc


def _sized(array: np.ndarray, layer: Layer, name: str) -> np.ndarray:
    if array.shape[:2] != (layer.height, layer.width):
        raise DocumentFormatError(
            f"{name} is {array.shape[1]}x{array.shape[0]}, but the document is {layer.width}x{layer.height}."
        )
    return array


def document_to_files(doc: Document) -> dict[str, bytes]:
    """All files of a document (see module doc); deterministic bytes."""
    doc.finish_strokes()
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "width": doc.width,
        "height": doc.height,
        "layers": {name: doc.layer(name).properties() for name in LAYER_NAMES},
    }
    files = {"document.json": json.dumps(meta, sort_keys=True, separators=(",", ":")).encode("utf-8")}
    for name in LAYER_NAMES:
        data = layer_to_bytes(doc.layer(name))
        if data is not None:
            files[LAYER_FILES[name]] = data
    if not doc.mask.is_empty:
        files[MASK_FILE] = encode_png(doc.mask.data)
        meta["layers"]["mask"] = doc.mask.properties()
        files["document.json"] = json.dumps(meta, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return files


def document_from_files(files: dict[str, bytes]) -> Document:
    """Rebuild a document from `document_to_files` output; its undo history starts empty."""
    try:
        meta = json.loads(files["document.json"].decode("utf-8"))
    except KeyError as exc:
        raise DocumentFormatError("The saved document has no document.json.") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DocumentFormatError(f"document.json is not valid JSON ({exc}).") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DocumentFormatError("document.json is not a ControlNet Studio document.")
    if meta.get("version") != VERSION:
        raise DocumentFormatError(f"Document format version {meta.get('version')!r} is not supported (expected {VERSION}).")
    try:
        doc = Document(meta["width"], meta["height"])
    except (KeyError, DocumentError) as exc:
        raise DocumentFormatError(f"document.json has no valid width and height ({exc}).") from exc
    for name in LAYER_NAMES:
        data = files.get(LAYER_FILES[name])
        if data is None and name != "reference":
            raise DocumentFormatError(f"The saved document has no {LAYER_FILES[name]}.")
        if data is not None:
            layer_from_bytes(doc.layer(name), data)
    layers = meta.get("layers", {})
    if not isinstance(layers, dict):
        raise DocumentFormatError("document.json has a malformed 'layers' entry.")
    for name in LAYER_NAMES:
        props = layers.get(name, {})
        if not isinstance(props, dict):
            raise DocumentFormatError(f"document.json has malformed properties for the {name} layer.")
        try:
            doc.layer(name).set_properties(props)
        except (DocumentError, TypeError, ValueError) as exc:
            raise DocumentFormatError(f"document.json has bad properties for the {name} layer ({exc}).") from exc
    if MASK_FILE in files:
        try:
            image = open_image(files[MASK_FILE])
        except ImageLoadError as exc:
            raise DocumentFormatError(f"{MASK_FILE} is not a readable image: {exc}") from exc
        if image.mode != "L":
            raise DocumentFormatError(f"{MASK_FILE} must be an 8-bit grey PNG, not mode {image.mode}.")
        doc.mask.set_mask(_sized(np.asarray(image, dtype=np.uint8), doc.mask, MASK_FILE), label="Load mask")
    props = layers.get("mask", {})  # documents from before the mask have none: an empty, visible mask
    if not isinstance(props, dict):
        raise DocumentFormatError("document.json has malformed properties for the mask layer.")
    try:
        doc.mask.set_properties(props)
    except (DocumentError, TypeError, ValueError) as exc:
        raise DocumentFormatError(f"document.json has bad properties for the mask layer ({exc}).") from exc
    doc.history.clear()
    return doc
