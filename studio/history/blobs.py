"""Content-addressed blobs: layer rasters, patches, pose JSON, control images, results and thumbnails.

A blob is identified by the sha256 of its raw bytes (a PNG file or UTF-8 JSON text). Encoding happens in the
caller's thread (`Blob.from_array`, `Blob.from_json`), so the writer thread only inserts bytes.
Inside the store the raw bytes are kept as is when they are already compressed (PNG) and zlib-compressed
otherwise (`pack`/`unpack`); the hash always names the raw bytes, so the stored form can change freely.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from studio.history.errors import HistoryError
from studio.safe_json import UINT64_MAX, UntrustedJsonError, load_untrusted_json

PNG = "png"
JSON = "json"
MEDIA = (PNG, JSON)
EXTENSIONS = {PNG: ".png", JSON: ".json"}

CODEC_NONE = "none"
CODEC_ZLIB = "zlib"

THUMBNAIL_SIDE = 128  # longest side of revision thumbnails, in pixels

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of `data`: the name of a blob."""
    return hashlib.sha256(data).hexdigest()


def is_blob_hash(value: Any) -> bool:
    """True for a lower-case 64-digit hex string."""
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def encode_png(array: np.ndarray, *, compress_level: int = 1) -> bytes:
    """PNG bytes of an HxW (uint8/uint16), HxWx3 (RGB) or HxWx4 (RGBA) uint8 array; same pixels, same bytes.

    OpenCV encodes without holding the GIL, so encoding in one thread does not stall the writer thread (PIL's
    PNG encoder holds it for the whole image)."""
    array = np.asarray(array)
    grey = array.ndim == 2 and array.dtype in (np.uint8, np.uint16)
    colour = array.ndim == 3 and array.dtype == np.uint8 and array.shape[2] in (3, 4)
    if not (grey or colour):
        raise HistoryError(
            f"Cannot store an image of shape {array.shape} and dtype {array.dtype}; "
            "use HxW uint8/uint16 or HxWx3/HxWx4 uint8."
        )
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise HistoryError(f"Cannot store an empty image (shape {array.shape}).")
    if colour:
        array = cv2.cvtColor(array, cv2.COLOR_RGB2BGR if array.shape[2] == 3 else cv2.COLOR_RGBA2BGRA)
    ok, data = cv2.imencode(".png", np.ascontiguousarray(array), [cv2.IMWRITE_PNG_COMPRESSION, compress_level])
    if not ok:
        raise HistoryError("An image could not be encoded as PNG.")
    return data.tobytes()


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG header, without decoding."""
    if len(data) < 24 or not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise HistoryError("A stored image is not PNG data.")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def decode_png(data: bytes, *, max_pixels: int | None = None) -> np.ndarray:
    """Pixels of PNG bytes: HxW uint8/uint16, HxWx3 RGB or HxWx4 RGBA; the size is checked before decoding."""
    width, height = png_size(data)
    if max_pixels is not None and width * height > max_pixels:
        raise HistoryError(f"A stored image is {width}x{height}, larger than allowed here.")
    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None or array.shape[:2] != (height, width):
        raise HistoryError("A stored image cannot be decoded.")
    if array.ndim == 3 and array.shape[2] == 3:
        return cv2.cvtColor(array, cv2.COLOR_BGR2RGB)
    if array.ndim == 3 and array.shape[2] == 4:
        return cv2.cvtColor(array, cv2.COLOR_BGRA2RGBA)
    return array


def encode_json(value: Any) -> bytes:
    """Canonical UTF-8 JSON (sorted keys, no spaces): equal values give equal bytes and equal hashes."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise HistoryError(f"Value cannot be stored as JSON ({exc}).") from exc


def decode_json(data: bytes) -> Any:
    """A JSON blob's value, read strictly (blobs may come from an untrusted archive); HistoryError if bad."""
    try:
        return load_untrusted_json(data, source="a stored JSON blob", max_int=UINT64_MAX)
    except UntrustedJsonError as exc:
        raise HistoryError(f"A stored JSON blob cannot be read ({exc}).") from None


@dataclass(frozen=True)
class Blob:
    """Raw bytes with their hash and media type. `array` keeps the decoded pixels when the caller had them,
    so the writer can apply a stroke without decoding its PNG again (read-only, never shared with the caller)."""

    hash: str
    media: str
    data: bytes = field(repr=False)
    array: np.ndarray | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_bytes(cls, data: bytes, media: str) -> Blob:
        if media not in MEDIA:
            raise HistoryError(f"Unknown blob media {media!r}; use one of: {', '.join(MEDIA)}.")
        return cls(hash=sha256_hex(data), media=media, data=bytes(data))

    @classmethod
    def from_array(cls, array: np.ndarray, *, compress_level: int = 1) -> Blob:
        """PNG blob of an image array; keeps a private read-only copy of the pixels."""
        data = encode_png(array, compress_level=compress_level)
        pixels = np.array(array, copy=True)
        pixels.flags.writeable = False
        return cls(hash=sha256_hex(data), media=PNG, data=data, array=pixels)

    @classmethod
    def from_json(cls, value: Any) -> Blob:
        data = encode_json(value)
        return cls(hash=sha256_hex(data), media=JSON, data=data)


def make_thumbnail(array: np.ndarray, *, side: int = THUMBNAIL_SIDE) -> Blob:
    """Small RGB PNG of an image or layer (longest side `side` pixels) for revision lists."""
    array = np.asarray(array)
    if array.dtype == np.uint16:
        array = (array >> 8).astype(np.uint8)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    array = array[:, :, :3]
    height, width = array.shape[:2]
    scale = min(1.0, side / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return Blob.from_array(cv2.resize(array, size, interpolation=cv2.INTER_AREA), compress_level=6)


def pack(data: bytes, media: str) -> tuple[str, bytes]:
    """(codec, stored bytes): PNG is already compressed and kept as is; other media are zlib-compressed."""
    if media == PNG:
        return CODEC_NONE, data
    return CODEC_ZLIB, zlib.compress(data, 6)


def unpack(codec: str, stored: bytes) -> bytes:
    """Raw bytes back from their stored form."""
    if codec == CODEC_NONE:
        return bytes(stored)
    if codec == CODEC_ZLIB:
        try:
            return zlib.decompress(stored)
        except zlib.error as exc:
            raise HistoryError(f"A stored blob is corrupt ({exc}).") from exc
    raise HistoryError(f"A stored blob uses the unknown codec {codec!r}.")
