"""Image loading and validation (studio.imageio): bad files, huge headers, 16-bit, alpha, palettes."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from studio.errors import StudioError
from studio.imageio import (
    MAX_IMAGE_PIXELS, ImageLoadError, ImageTooLargeError, encode_png, fit_to_size, image_size, load_gray, load_rgb,
)  # fmt: skip


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _with_header_size(png: bytes, width: int, height: int) -> bytes:
    """The same PNG with IHDR claiming another size (CRC fixed), so only the header is big."""
    ihdr = bytearray(png[12:29])  # chunk type + 13 data bytes
    ihdr[4:12] = struct.pack(">II", width, height)
    crc = struct.pack(">I", zlib.crc32(bytes(ihdr)) & 0xFFFFFFFF)
    return png[:12] + bytes(ihdr) + crc + png[33:]


def test_huge_images_are_refused_from_the_header():
    small = _png(Image.new("L", (4, 4)))
    for width, height in ((8193, 8193), (20000, 10)):
        bomb = _with_header_size(small, width, height)
        assert image_size(bomb) == (width, height)
        with pytest.raises(ImageTooLargeError, match="limit"):
            load_rgb(bomb)
    bomb = _with_header_size(small, 40000, 40000)  # PIL itself calls this a decompression bomb
    with pytest.raises(ImageTooLargeError):
        image_size(bomb)
    with pytest.raises(ImageTooLargeError):
        load_gray(bomb)
    assert 8192 * 8192 == MAX_IMAGE_PIXELS


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, b"GIF89a" + b"\x01" * 5],
)
def test_non_images_raise_image_load_error(data):
    with pytest.raises(ImageLoadError):
        load_rgb(data)
    with pytest.raises(ImageLoadError):
        load_gray(data)


def test_truncated_png_and_missing_paths(tmp_path):
    rng = np.random.default_rng(0)
    png = _png(Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)))
    with pytest.raises(ImageLoadError):
        load_rgb(png[: len(png) // 2])
    with pytest.raises(ImageLoadError, match="does not exist"):
        load_rgb(tmp_path / "nope.png")
    with pytest.raises(ImageLoadError):
        load_rgb(tmp_path)  # a folder
    with pytest.raises(ImageLoadError):
        image_size(tmp_path / "nope.png")
    text = tmp_path / "notes.png"
    text.write_text("hello")
    with pytest.raises(ImageLoadError):
        load_gray(text)
    assert issubclass(ImageLoadError, StudioError)


def test_sixteen_bit_grey():
    values = (np.arange(256, dtype=np.uint32).reshape(16, 16) * 257).astype(np.uint16)
    values[0, 0], values[0, 1] = 1, 65535
    png = encode_png(values)
    assert Image.open(io.BytesIO(png)).mode.startswith("I")
    np.testing.assert_allclose(load_gray(png), values / 65535.0, atol=1e-7)
    rgb = load_rgb(png)
    assert rgb.shape == (16, 16, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb[:, :, 0], np.rint(values / 257.0).astype(np.uint8))


def test_alpha_is_composited_over_white_and_palette_converted():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[0, 0, 3] = 255
    rgba[0, 1, 3] = 0
    rgba[0, 2, 3] = 128
    out = load_rgb(_png(Image.fromarray(rgba, "RGBA")))
    assert out[0, 0].tolist() == [200, 0, 0]
    assert out[0, 1].tolist() == [255, 255, 255]
    assert out[0, 2].tolist() == [int(np.rint(200 * 128 / 255 + 255 * 127 / 255)), 127, 127]
    palette = Image.fromarray(np.full((3, 3, 3), 90, np.uint8)).convert("P", palette=Image.Palette.ADAPTIVE)
    assert load_rgb(_png(palette))[1, 1].tolist() == [90, 90, 90]
    la = Image.fromarray(np.stack([np.full((2, 2), 100, np.uint8), np.zeros((2, 2), np.uint8)], 2), "LA")
    assert load_gray(_png(la))[0, 0] == pytest.approx(100 / 255)  # grey loading ignores alpha


def test_cmyk_jpeg_and_exif_rotation():
    cmyk = Image.new("CMYK", (8, 4), (0, 255, 255, 0))
    buffer = io.BytesIO()
    cmyk.save(buffer, "JPEG")
    rgb = load_rgb(buffer.getvalue())
    assert rgb.shape == (4, 8, 3) and rgb[2, 4, 0] > 200 and rgb[2, 4, 1] < 60
    rotated = Image.new("RGB", (8, 4), (10, 20, 30))
    exif = rotated.getexif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    buffer = io.BytesIO()
    rotated.save(buffer, "JPEG", exif=exif)
    assert load_rgb(buffer.getvalue()).shape == (8, 4, 3)


def test_unconvertible_colour_modes_raise_image_load_error():
    buffer = io.BytesIO()
    Image.new("LAB", (4, 4)).save(buffer, "TIFF")
    with pytest.raises(ImageLoadError, match="LAB"):
        load_gray(buffer.getvalue())  # PIL has no LAB -> L conversion
    big_endian = io.BytesIO()
    Image.new("I;16B", (4, 4), 513).save(big_endian, "TIFF")
    np.testing.assert_allclose(load_gray(big_endian.getvalue()), 513 / 65535.0)


def test_float_grey_images_are_clipped():
    image = Image.fromarray(np.array([[-1.0, 0.25], [0.5, 3.0]], np.float32), "F")
    buffer = io.BytesIO()
    image.save(buffer, "TIFF")
    np.testing.assert_allclose(load_gray(buffer.getvalue()), [[0.0, 0.25], [0.5, 1.0]])


def test_fit_to_size_covers_and_centre_crops():
    image = np.zeros((100, 200, 3), np.uint8)
    image[:, 50:150] = 255
    out = fit_to_size(image, 50, 50)
    assert out.shape == (50, 50, 3) and out.min() == 255  # only the white middle remains
    assert fit_to_size(image, 200, 100) is image


def test_encode_png_is_deterministic_and_round_trips():
    rgb = np.random.default_rng(2).integers(0, 256, (7, 9, 3), dtype=np.uint8)
    assert encode_png(rgb) == encode_png(rgb.copy())
    np.testing.assert_array_equal(load_rgb(encode_png(rgb)), rgb)
    with pytest.raises(ValueError):
        encode_png(np.zeros((3, 3), np.float32))
