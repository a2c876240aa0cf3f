"""Inpainting on tiny models: ordinary and 9-channel UNets, with ControlNets, paste-back, only-masked, SDXL, CLI."""

from __future__ import annotations

import numpy as np
import pytest
from engine_fixtures import config_home, stripes, tiny_engine, tiny_sd15, tiny_sdxl  # noqa: F401
from PIL import Image

from studio.cli import main
from studio.engine.errors import ModelError, RequestError
from studio.engine.inpaint import feather, masked_box
from studio.engine.metadata import a1111_parameters
from studio.engine.pipeline import Engine
from studio.engine.request import ControlInput, GenerationRequest
from studio.engine.settings import ModelSettings
from studio.engine.tiny import make_tiny

RNG = np.random.default_rng(0)
PICTURE = RNG.integers(0, 256, (96, 128, 3)).astype(np.uint8)
MASK = np.zeros_like(PICTURE)
MASK[30:60, 40:90] = 255


@pytest.fixture(scope="module")
def tiny_inpaint(tmp_path_factory):
    return make_tiny(tmp_path_factory.mktemp("tiny") / "inpaint", inpaint=True)


def _request(**overrides) -> GenerationRequest:
    values = dict(prompt="a cat", width=64, height=64, steps=4, seed=1, init_image=PICTURE, mask=MASK, strength=0.9,
                  controls=[ControlInput("edge", stripes())])
    values.update(overrides)
    return GenerationRequest(**values)


def _check_outside_kept(image: np.ndarray, picture: np.ndarray, mask: np.ndarray) -> None:
    outside = mask.max(axis=2) <= 127
    assert np.array_equal(image[outside], picture[outside])
    assert np.abs(image[~outside].astype(int) - picture[~outside]).mean() > 5


def test_helpers():
    mask = np.zeros((60, 80), np.uint8)
    mask[10:40, 10:40] = 255
    alpha = feather(mask, 3)
    assert alpha[mask == 0].max() == 0 and alpha[25, 25] == pytest.approx(1.0) and 0 < alpha[10, 25] < 0.5
    assert masked_box(mask, padding=2, aspect=2.0) == (0, 8, 68, 42)  # 34 high, widened to 68 wide, kept inside


@pytest.mark.parametrize("only_masked", [False, True])
def test_ordinary_unet_keeps_every_pixel_outside_the_mask(tiny_engine, only_masked):
    result = tiny_engine.generate(_request(inpaint_only_masked=only_masked))
    image = np.asarray(result.images[0])
    if only_masked:
        assert image.shape == PICTURE.shape  # pasted into the picture at its own size
        _check_outside_kept(image, PICTURE, MASK)
    else:
        from studio.engine.control_images import fit_image

        fitted = fit_image(PICTURE, width=64, height=64, mode="crop_and_resize")
        fitted_mask = fit_image(MASK, width=64, height=64, mode="crop_and_resize")
        _check_outside_kept(image, fitted, fitted_mask)
    other = tiny_engine.generate(_request(inpaint_only_masked=only_masked,
                                          controls=[ControlInput("edge", stripes(vertical=False))]))
    assert not np.array_equal(np.asarray(other.images[0]), image)  # the ControlNet still acts inside the mask


def test_nine_channel_inpainting_unet(tiny_inpaint):
    engine = Engine(ModelSettings.for_model(str(tiny_inpaint.base)))
    image = np.asarray(engine.generate(_request(inpaint_only_masked=True, strength=1.0)).images[0])
    _check_outside_kept(image, PICTURE, MASK)
    with pytest.raises(ModelError, match="inpainting model"):
        engine.generate(GenerationRequest(prompt="a cat", width=64, height=64, steps=2, seed=1))


def test_sdxl_controlnet_inpaint(tiny_sdxl):
    engine = Engine(ModelSettings.for_model(str(tiny_sdxl.base)))
    image = np.asarray(engine.generate(_request(inpaint_only_masked=True, steps=3)).images[0])
    _check_outside_kept(image, PICTURE, MASK)


def test_bad_inpaint_requests_and_metadata():
    with pytest.raises(RequestError, match="needs the image"):
        _request(init_image=None).validate()
    with pytest.raises(RequestError, match="empty"):
        _request(mask=np.zeros_like(MASK)).validate()
    with pytest.raises(RequestError, match="must match"):
        _request(mask=MASK[:50], inpaint_only_masked=True).validate()
    request = _request(inpaint_only_masked=True)
    assert GenerationRequest.from_json(request.to_json()) == request
    text = a1111_parameters(request, seed=1, models=[])
    assert "Mask blur: 4, Inpaint area: Only masked, Masked area padding: 32" in text


def test_cli_inpaint(tiny_sd15, tmp_path, config_home):
    Image.fromarray(PICTURE).save(tmp_path / "picture.png")
    Image.fromarray(MASK).save(tmp_path / "mask.png")
    Image.fromarray(stripes()).save(tmp_path / "sketch.png")
    assert main(["generate", "--model", str(tiny_sd15.base), "--control", f"edge={tmp_path / 'sketch.png'}",
                 "--prompt", "a cat", "--seed", "2", "--steps", "4", "--width", "64", "--height", "64",
                 "--init", str(tmp_path / "picture.png"), "--mask", str(tmp_path / "mask.png"), "--strength", "0.8",
                 "--only-masked", "--padding", "8", "--out", str(tmp_path / "out.png")]) == 0
    _check_outside_kept(np.asarray(Image.open(tmp_path / "out.png")), PICTURE, MASK)
