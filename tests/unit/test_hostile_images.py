"""One image reader with limits for every user image, the engine's control and init images included:
huge headers, real oversized images, text-chunk bombs and extreme compression ratios are refused before
decoding, in one sentence."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.engine.control_images import read_rgb_image
from studio.engine.errors import RequestError
from studio.engine.request import image_from_base64_png
from studio.imageio import MAX_IMAGE_BYTES, ImageLoadError, ImageTooLargeError, load_rgb


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_bytes(width: int, height: int, *, extra: bytes = b"", rows: bytes | None = None, level: int = 9) -> bytes:
    """A grey 8-bit PNG written chunk by chunk (so sizes and chunks can be anything a hostile file holds)."""
    if rows is None:
        rows = (b"\x00" + b"\x00" * width) * height
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + extra + _chunk(b"IDAT", zlib.compress(rows, level)) + _chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("images")
    files = {}
    small = _png_bytes(4, 4)
    header = bytearray(small)
    header[16:24] = struct.pack(">II", 100_000, 100_000)
    header[29:33] = struct.pack(">I", zlib.crc32(bytes(header[12:29])) & 0xFFFFFFFF)
    files["header 100000x100000"] = bytes(header)
    files["real 9000x9000"] = _png_bytes(9000, 9000)  # 81 MP of zeros: a real, complete image, about 80 KB
    text = zlib.compress(b"A" * (200 * 2**20), 9)  # a 200 MiB zTXt bomb in about 200 KB
    files["zTXt bomb"] = _png_bytes(8, 8, extra=_chunk(b"zTXt", b"comment\x00\x00" + text))
    files["many text chunks"] = _png_bytes(8, 8, extra=b"".join(
        _chunk(b"tEXt", b"k\x00" + b"v" * 60_000) for _ in range(100)))
    paths = {}
    for name, data in files.items():
        paths[name] = folder / (name.replace(" ", "_") + ".png")
        paths[name].write_bytes(data)
    big = folder / "big.png"
    with open(big, "wb") as handle:
        handle.write(small)
        handle.truncate(MAX_IMAGE_BYTES + 1)
    paths["file over the byte limit"] = big
    return paths


CASES = {
    "header 100000x100000": "100000x100000 pixels",
    "real 9000x9000": "9000x9000 pixels",
    "zTXt bomb": "text chunk",
    "many text chunks": "text chunks",
    "file over the byte limit": "bytes",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_image_reader_refuses_hostile_images_in_one_sentence(hostile, case):
    with pytest.raises(ImageLoadError, match=CASES[case]):
        load_rgb(hostile[case])
    with pytest.raises(ImageLoadError, match=CASES[case]):
        load_rgb(hostile[case].read_bytes())


@pytest.mark.parametrize("case", sorted(CASES))
def test_engine_control_and_init_images_use_the_limited_reader(hostile, case):
    with pytest.raises(RequestError, match=CASES[case]):
        read_rgb_image(str(hostile[case]))
    if case != "file over the byte limit":
        text = base64.b64encode(hostile[case].read_bytes()).decode()
        with pytest.raises(RequestError, match=CASES[case]):
            image_from_base64_png(text, what="the control image")


def test_decompression_ratio_is_capped_for_non_png_formats():
    buffer = io.BytesIO()  # LZW of a flat image goes far beyond deflate's 1032:1
    Image.new("P", (6000, 6000), 0).save(buffer, "GIF")
    ratio = 6000 * 6000 * 3 / len(buffer.getvalue())
    assert ratio > 1200
    with pytest.raises(ImageTooLargeError, match="compressed"):
        load_rgb(buffer.getvalue())


def test_ordinary_images_still_load_in_the_engine(tmp_path):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    path = tmp_path / "control.png"
    Image.fromarray(pixels).save(path)
    assert np.array_equal(read_rgb_image(str(path)), pixels)
    flat = tmp_path / "flat.png"
    Image.new("RGB", (8192, 8192), "white").save(flat)  # a blank full-size canvas: deflate's best ratio
    assert read_rgb_image(str(flat)).shape == (8192, 8192, 3)
    rgba = np.dstack([pixels, np.full((48, 64), 255, np.uint8)])
    text = base64.b64encode(_encode(Image.fromarray(rgba))).decode()
    assert np.array_equal(image_from_base64_png(text, what="x"), pixels)
    with pytest.raises(RequestError, match="does not exist"):
        read_rgb_image(str(tmp_path / "missing.png"))


def _encode(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
