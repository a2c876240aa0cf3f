"""Loading, checking and writing user images: one place for every area that reads pictures.

Rules:
- Only the header is read before the size check: images above MAX_IMAGE_PIXELS (64 megapixels) or with a
  side above MAX_IMAGE_SIDE (16384) raise ImageTooLargeError without being decoded. So do files above
  MAX_IMAGE_BYTES (256 MiB, checked before reading), pixel data that is compressed more than MAX_RATIO (1200:1;
  deflate, as in PNG, cannot pass 1032:1, so only bombs in other formats reach it) once it would inflate past
  32 MiB, and PNG text chunks (tEXt/zTXt/iTXt) above MAX_TEXT_BYTES (1 MiB) in all, compressed or inflated.
- Files that are missing, unreadable or not images raise ImageLoadError (never a crash or PIL traceback).
- Colour loading (`load_rgb`): EXIF rotation is applied; alpha is composited over white (as ControlNet's
  HWC3 does); grey, palette and CMYK images become RGB; 16-bit images are scaled to 8 bits.
- Grey loading (`load_gray`): float32 in [0, 1]; 8-bit / 255, 16-bit / 65535, 32-bit integer images
  are read as 16-bit values (clipped), float images are clipped to [0, 1]; colour images use their
  luminance; alpha is ignored.
- `encode_png` writes deterministic bytes (same pixels, same bytes) for uint8 or uint16, grey or RGB.
"""

from __future__ import annotations

import io
import os
import warnings
import zlib
from pathlib import Path
from typing import Union

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from studio.errors import StudioError

MAX_IMAGE_PIXELS = 64 * 1024 * 1024
MAX_IMAGE_SIDE = 16384
MAX_IMAGE_BYTES = 256 * 2**20
MAX_RATIO = 1200  # uncompressed pixel bytes per file byte
RATIO_FLOOR = 32 * 2**20  # images that inflate to less than this are cheap whatever their ratio
MAX_TEXT_BYTES = 2**20
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")

ImageSource = Union[str, os.PathLike, bytes, bytearray]


class ImageLoadError(StudioError):
    """An image file is missing, unreadable or not an image."""


class ImageTooLargeError(ImageLoadError):
    """An image is larger than the documented limit (refused before decoding)."""


def _describe(source: ImageSource) -> str:
    return "the image data" if isinstance(source, (bytes, bytearray)) else f"'{source}'"


def _read_bytes(source: ImageSource, name: str) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise ImageLoadError(f"Image file {name} does not exist.")
        size = path.stat().st_size
        if size > MAX_IMAGE_BYTES:
            raise ImageTooLargeError(f"Image {name} is {size} bytes; the limit is {MAX_IMAGE_BYTES} bytes.")
        data = path.read_bytes()
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageTooLargeError(f"Image {name} is {len(data)} bytes; the limit is {MAX_IMAGE_BYTES} bytes.")
    return data


def _compressed_text(kind: bytes, body: bytes) -> bytes | None:
    """The compressed part of a zTXt or compressed iTXt chunk, or None."""
    keyword_end = body.find(b"\x00")
    if keyword_end < 0:
        return None
    if kind == b"zTXt":
        return body[keyword_end + 2:]
    if kind == b"iTXt" and body[keyword_end + 1:keyword_end + 2] == b"\x01":
        rest = body[keyword_end + 3:]
        parts = rest.split(b"\x00", 2)
        return parts[2] if len(parts) == 3 else None
    return None


def _check_png_text(data: bytes, name: str) -> None:
    """Refuse PNG text chunks above MAX_TEXT_BYTES, stored or inflated (a zTXt bomb), before PIL reads them."""
    if not data.startswith(_PNG_SIGNATURE):
        return
    position, total = len(_PNG_SIGNATURE), 0
    while position + 8 <= len(data):
        length = int.from_bytes(data[position:position + 4], "big")
        kind = data[position + 4:position + 8]
        if kind in _TEXT_CHUNKS:
            body = data[position + 8:position + 8 + length]
            total += len(body)
            packed = _compressed_text(kind, body)
            if packed is not None:
                try:
                    total += len(zlib.decompressobj().decompress(packed, MAX_TEXT_BYTES + 1))
                except zlib.error:
                    pass  # PIL reports the broken chunk itself
            if total > MAX_TEXT_BYTES:
                raise ImageTooLargeError(
                    f"Image {name} holds more than {MAX_TEXT_BYTES} bytes of text chunks (metadata); refused.")
        position += 12 + length


def _check_ratio(image: Image.Image, size: int, name: str) -> None:
    width, height = image.size
    bits = 1 if image.mode == "1" else 8 * Image.getmodebands(image.mode) * (2 if "16" in image.mode else 1)
    if image.mode in ("I", "F"):
        bits = 32
    inflated = width * height * bits // 8
    if inflated > RATIO_FLOOR and inflated > MAX_RATIO * max(size, 1):
        raise ImageTooLargeError(
            f"Image {name} is compressed {inflated // max(size, 1)}:1 ({size} bytes for {width}x{height} "
            f"pixels), more than the {MAX_RATIO}:1 allowed; refused as a decompression bomb.")


def _check_size(width: int, height: int, name: str) -> None:
    if width * height > MAX_IMAGE_PIXELS or max(width, height) > MAX_IMAGE_SIDE:
        raise ImageTooLargeError(
            f"Image {name} is {width}x{height} pixels; the limit is {MAX_IMAGE_PIXELS // 2**20} "
            f"megapixels and {MAX_IMAGE_SIDE} pixels per side."
        )


def open_image(source: ImageSource) -> Image.Image:
    """Open, limit-check (see the module docstring) and fully decode an image; returns a PIL image (EXIF
    rotation applied). Every area that opens a user's image uses this."""
    name = _describe(source)
    try:
        data = _read_bytes(source, name)
        if data.startswith(_PNG_SIGNATURE) and data[12:16] == b"IHDR":  # the size PIL would call a bomb
            _check_size(int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big"), name)
        _check_png_text(data, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            _check_size(*image.size, name)
            _check_ratio(image, len(data), name)
            image.load()
            return ImageOps.exif_transpose(image)
    except ImageLoadError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError(f"Image {name} is far above the {MAX_IMAGE_PIXELS // 2**20} megapixel limit.") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageLoadError(f"Cannot read {name} as an image ({exc.__class__.__name__}: {exc}).") from exc


def image_size(source: ImageSource) -> tuple[int, int]:
    """(width, height) from the header only (ImageTooLargeError when PIL itself calls it a bomb)."""
    name = _describe(source)
    try:
        fp = io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray)) else open(source, "rb")
        with fp, warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(fp).size
    except FileNotFoundError as exc:
        raise ImageLoadError(f"Image file {name} does not exist.") from exc
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError(f"Image {name} is far above the {MAX_IMAGE_PIXELS // 2**20} megapixel limit.") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageLoadError(f"Cannot read {name} as an image ({exc.__class__.__name__}: {exc}).") from exc


def _sixteen_bit(image: Image.Image) -> np.ndarray | None:
    """Values of a 16/32-bit integer grey image as uint16 (32-bit clipped), or None for other modes."""
    if image.mode.startswith("I"):
        return np.clip(np.asarray(image, dtype=np.int64), 0, 65535).astype(np.uint16)
    return None


def to_rgb_array(image: Image.Image) -> np.ndarray:
    """HxWx3 uint8 RGB from a PIL image, converting as the module docstring says."""
    wide = _sixteen_bit(image)
    if wide is not None:
        grey = ((wide.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if image.mode == "F":
        grey = np.rint(np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0) * 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32)
        alpha = rgba[:, :, 3:4] / 255.0
        return np.clip(np.rint(rgba[:, :, :3] * alpha + 255.0 * (1.0 - alpha)), 0, 255).astype(np.uint8)
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def to_gray_array(image: Image.Image) -> np.ndarray:
    """HxW float32 in [0, 1] from a PIL image, converting as the module docstring says."""
    wide = _sixteen_bit(image)
    if wide is not None:
        return wide.astype(np.float32) / 65535.0
    if image.mode == "F":
        values = np.asarray(image, dtype=np.float32)
        if not np.isfinite(values).all():
            raise ImageLoadError("The grey image holds NaN or infinite values.")
        return np.clip(values, 0.0, 1.0)
    if image.mode not in ("L", "1"):
        image = image.convert("RGBA").convert("L") if image.mode == "P" else image.convert("L")
    return np.asarray(image.convert("L"), dtype=np.float32) / 255.0


def _converted(source: ImageSource, convert) -> np.ndarray:
    image = open_image(source)
    try:
        return convert(image)
    except (ValueError, OSError) as exc:  # e.g. LAB colour, which PIL cannot turn into RGB
        raise ImageLoadError(f"Cannot convert {_describe(source)} (mode {image.mode}): {exc}.") from exc


def load_rgb(source: ImageSource) -> np.ndarray:
    """HxWx3 uint8 RGB image from a file path or encoded bytes."""
    return _converted(source, to_rgb_array)


def load_gray(source: ImageSource) -> np.ndarray:
    """HxW float32 grey in [0, 1] from a file path or encoded bytes (8- or 16-bit)."""
    return _converted(source, to_gray_array)


def fit_to_size(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale `image` (HxW or HxWxC) to cover width x height, then crop the centre to exactly that size."""
    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return image
    scale = max(width / w, height / h)
    new_w, new_h = max(width, round(w * scale)), max(height, round(h * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    x0, y0 = (new_w - width) // 2, (new_h - height) // 2
    return np.ascontiguousarray(resized[y0 : y0 + height, x0 : x0 + width])


def encode_png(array: np.ndarray) -> bytes:
    """PNG bytes of an HxW or HxWx3 (RGB) uint8/uint16 array; deterministic for equal arrays."""
    array = np.asarray(array)
    if array.dtype not in (np.uint8, np.uint16) or array.ndim not in (2, 3):
        raise ValueError(f"encode_png needs a uint8/uint16 HxW or HxWx3 array, not {array.dtype} {array.shape}")
    if array.ndim == 3:
        if array.shape[2] != 3:
            raise ValueError("encode_png needs 3 channels (RGB)")
        array = array[:, :, ::-1]  # OpenCV writes BGR
    ok, buffer = cv2.imencode(".png", np.ascontiguousarray(array))
    if not ok:
        raise ImageLoadError("OpenCV could not encode the PNG.")
    return buffer.tobytes()


def decode_png16(data: bytes) -> np.ndarray:
    """Grey PNG bytes as HxW uint16 (8-bit images are scaled by 257); size-checked like every load."""
    image = open_image(data)
    wide = _sixteen_bit(image)
    if wide is not None:
        return wide
    return np.asarray(image.convert("L"), dtype=np.uint16) * 257
