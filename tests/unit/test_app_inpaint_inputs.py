"""Mask -> request wiring (studio.app.inpaint_inputs): a painted mask makes the window's request an inpaint of the
reference picture, with its ControlNets, and the tiny engine keeps every pixel outside the mask."""

from __future__ import annotations

import numpy as np
import pytest
from engine_fixtures import stripes, tiny_engine, tiny_sd15  # noqa: F401

from studio.app.generation_settings import GenerationSettings
from studio.app.inpaint_inputs import InpaintInputError, describe_inpaint, inpaint_inputs, with_mask
from studio.document import Document
from studio.document.picture_import import set_reference_picture


def _picture(size: int = 64, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3)).astype(np.uint8)


def _request(document: Document, **settings):
    values = dict(prompt="a cat", width=64, height=64, steps=3, seed=5)
    values.update(settings)
    setting = GenerationSettings(**values)
    images = {"edge": document.control_image("edge")} if document.edge.data.any() else {}
    return with_mask(setting.to_request(images), document)


def test_an_empty_mask_leaves_the_request_text_to_image():
    document = Document(64, 64)
    set_reference_picture(document, _picture())
    request = _request(document)
    assert inpaint_inputs(document) is None
    assert request.mask is None and request.init_image is None and not request.is_inpaint
    assert describe_inpaint(request) is None


def test_a_painted_mask_carries_mask_and_reference_picture_into_a_valid_request():
    document = Document(64, 64)
    picture = _picture()
    set_reference_picture(document, picture)
    document.edge.set_edges(stripes()[:, :, 0])
    document.mask.stroke([(20, 32), (44, 32)], width=16)
    request = _request(document)
    request.validate()
    assert request.is_inpaint and [c.kind for c in request.controls] == ["edge"]
    assert np.array_equal(request.init_image, picture)
    assert request.mask.shape == (64, 64, 3) and np.array_equal(request.mask[:, :, 1], document.mask.data)
    # The request holds copies: later edits of the document do not change a request that is running.
    document.mask.clear()
    document.reference.clear()
    assert (request.mask > 127).any() and np.array_equal(request.init_image, picture)
    assert "Inpainting" in describe_inpaint(request) and "%" in describe_inpaint(request)


def test_a_mask_without_a_picture_is_refused_with_what_to_do():
    document = Document(64, 64)
    document.mask.fill_all()
    with pytest.raises(InpaintInputError, match="no picture to repaint.*reference layer"):
        _request(document)


def test_the_request_keeps_the_settings_inpaint_fields():
    document = Document(64, 64)
    set_reference_picture(document, _picture())
    document.mask.stroke([(10, 10)], width=8)
    request = with_mask(GenerationSettings(prompt="x").to_request({}), document)
    import dataclasses

    only = with_mask(dataclasses.replace(GenerationSettings(prompt="x").to_request({}), inpaint_only_masked=True,
                                         inpaint_padding=8, strength=0.9), document)
    assert only.inpaint_only_masked and only.inpaint_padding == 8 and only.strength == 0.9
    assert request.strength == GenerationSettings(prompt="x").to_request({}).strength
    assert "only the masked area" in describe_inpaint(only)


def test_the_document_request_inpaints_through_the_tiny_engine_and_keeps_the_outside(tiny_engine):
    document = Document(64, 64)
    picture = _picture(seed=7)
    set_reference_picture(document, picture)
    document.edge.set_edges(stripes()[:, :, 0])
    document.mask.stroke([(16, 32), (48, 32)], width=20)
    request = _request(document)
    image = np.asarray(tiny_engine.generate(request).images[0])
    outside = document.mask.data <= 127
    assert image.shape == picture.shape
    assert np.array_equal(image[outside], picture[outside])
    assert not np.array_equal(image[~outside], picture[~outside])  # the masked area was repainted
