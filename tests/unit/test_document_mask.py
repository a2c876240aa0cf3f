"""The mask layer: painting, fill, invert, grow/feather, undo, saving, and inpainting through it."""

from __future__ import annotations

import numpy as np
import pytest
from engine_fixtures import stripes, tiny_engine, tiny_sd15  # noqa: F401

from studio.document import Document, DocumentError, DocumentFormatError
from studio.document.serialize import document_from_files, document_to_files


def test_paint_erase_fill_invert_grow_feather_with_undo():
    doc = Document(128, 96)
    assert doc.mask.is_empty
    doc.mask.stroke([(20, 20), (60, 20)], width=10)
    assert doc.mask.data[20, 40] == 255 and doc.mask.data[60, 40] == 0 and not doc.mask.is_empty
    assert doc.history.undo_label == "Paint mask"
    doc.mask.stroke([(40, 20)], width=6, erase=True)
    assert doc.mask.data[20, 40] == 0
    before = doc.mask.data.copy()
    doc.mask.grow(3)
    assert doc.mask.data.sum() > before.sum() and doc.mask.data[26, 25] == 255
    doc.mask.grow(-3)
    doc.mask.invert()
    assert doc.mask.data[60, 100] == 255
    doc.mask.feather(4)
    assert ((doc.mask.data > 0) & (doc.mask.data < 255)).any()
    for _ in range(4):  # feather, invert, shrink, grow
        doc.history.undo()
    assert np.array_equal(doc.mask.data, before)
    doc.mask.fill_all()
    assert doc.mask.data.min() == 255
    doc.mask.clear()
    assert doc.mask.is_empty


def test_fill_region_follows_the_reference_picture():
    doc = Document(64, 64)
    picture = np.zeros((64, 64, 3), np.uint8)
    picture[10:30, 10:40] = (200, 30, 30)  # a red box to select
    doc.mask.fill_region(20, 20, image=picture, tolerance=10)
    assert doc.mask.data[15, 15] == 255 and doc.mask.data[5, 5] == 0 and (doc.mask.data == 255).sum() == 20 * 30
    doc.mask.fill_region(20, 20, image=picture, erase=True)
    assert doc.mask.is_empty
    with pytest.raises(DocumentError, match="outside"):
        doc.mask.fill_region(99, 1)
    with pytest.raises(DocumentError, match="size"):
        doc.mask.fill_region(1, 1, image=picture[:10])
    with pytest.raises(DocumentError):
        doc.mask.grow(1.5)
    with pytest.raises(DocumentError, match="not a control map"):
        doc.mask.control_image(64, 64)


def test_mask_is_saved_only_when_painted_and_reads_back():
    doc = Document(64, 48)
    files = document_to_files(doc)
    assert "mask.png" not in files  # documents without a mask keep their exact bytes
    doc.mask.stroke([(10, 10), (30, 30)], width=8)
    files = document_to_files(doc)
    again = document_from_files(files)
    assert np.array_equal(again.mask.data, doc.mask.data) and not again.history.can_undo
    copy = doc.copy()
    assert np.array_equal(copy.mask.data, doc.mask.data)
    bad = dict(files, **{"mask.png": b"not a png"})
    with pytest.raises(DocumentFormatError, match="mask.png"):
        document_from_files(bad)


def test_document_mask_drives_an_inpaint(tiny_engine):
    from studio.engine.request import ControlInput, GenerationRequest

    doc = Document(64, 64)
    picture = np.random.default_rng(1).integers(0, 256, (64, 64, 3)).astype(np.uint8)
    doc.mask.stroke([(20, 32), (44, 32)], width=16)
    request = GenerationRequest(prompt="a cat", width=64, height=64, steps=3, seed=5, init_image=picture,
                                mask=doc.mask.request_mask(), controls=[ControlInput("edge", stripes())])
    image = np.asarray(tiny_engine.generate(request).images[0])
    outside = doc.mask.data <= 127
    assert np.array_equal(image[outside], picture[outside]) and not np.array_equal(image, picture)
