"""Hires fix: the second pass equals a refine of the upscaled first result, latent mode, tiling, CLI and PNGs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from engine_fixtures import config_home, stripes, tiny_engine, tiny_request, tiny_sd15, tiny_sdxl  # noqa: F401
from PIL import Image

from studio.cli import main
from studio.engine.errors import RequestError
from studio.engine.hires import hires_size, tiled_decode
from studio.engine.metadata import a1111_parameters, read_png_metadata
from studio.engine.request import GenerationRequest
from studio.png.read import a1111_fields, read_png_settings
from studio.png.remake import request_from_settings


def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def test_lanczos_pass_is_a_refine_of_the_upscaled_first_result(tiny_engine):
    request = tiny_request(hires_scale=1.5, hires_strength=0.5, batch_size=2)
    result = tiny_engine.generate(request)
    assert [image.size for image in result.images] == [(96, 96), (96, 96)]
    first = tiny_engine.generate(dataclasses.replace(request, hires_scale=1.0))
    for image, seed, small in zip(result.images, result.seeds, first.images):
        upscaled = np.asarray(small.resize((96, 96), Image.Resampling.LANCZOS))
        refine = dataclasses.replace(request, hires_scale=1.0, width=96, height=96, init_image=upscaled,
                                     strength=0.5, seed=seed, batch_size=1)
        assert np.array_equal(_pixels(tiny_engine.generate(refine).images[0]), _pixels(image))


def test_latent_pass_and_progress(tiny_engine):
    request = tiny_request(hires_scale=2.0, hires_strength=0.5, hires_steps=6, hires_upscaler="latent")
    steps: list[tuple[int, int]] = []
    result = tiny_engine.generate(request, on_progress=lambda p: steps.append((p.step, p.total)))
    assert result.images[0].size == (128, 128)
    # 4 first-pass steps, then int(6 * 0.5) = 3 hires steps, counted on from the first pass
    assert steps == [(1, 4), (2, 4), (3, 4), (4, 4), (5, 7), (6, 7), (7, 7)]
    again = tiny_engine.generate(request)
    assert np.array_equal(_pixels(again.images[0]), _pixels(result.images[0]))
    lanczos = tiny_engine.generate(dataclasses.replace(request, hires_upscaler="lanczos"))
    assert not np.array_equal(_pixels(lanczos.images[0]), _pixels(result.images[0]))


def test_tiled_decode_turns_on_only_above_the_limit_and_restores(tiny_engine, tiny_sd15):
    pipe = tiny_engine.prepare(tiny_request())
    vae = pipe.vae
    assert not vae.use_tiling
    with tiled_decode(pipe, 96, 96):
        assert not vae.use_tiling  # 96 x 96 is far below the default limit
    with tiled_decode(pipe, 96, 96, above_pixels=64 * 64):
        assert vae.use_tiling
    assert not vae.use_tiling
    vae.enable_tiling()  # already tiling (low-VRAM mode) stays tiling after the pass
    try:
        with tiled_decode(pipe, 96, 96, above_pixels=0):
            assert vae.use_tiling
        assert vae.use_tiling
    finally:
        vae.disable_tiling()


def test_sizes_and_bad_requests():
    assert hires_size(tiny_request(hires_scale=1.5)) == (96, 96)
    assert hires_size(GenerationRequest(prompt="x", width=512, height=768, hires_scale=1.3)) == (664, 1000)
    with pytest.raises(RequestError, match="hires scale"):
        tiny_request(hires_scale=9.0).validate()
    with pytest.raises(RequestError, match="hires upscaler"):
        tiny_request(hires_scale=2.0, hires_upscaler="esrgan").validate()
    with pytest.raises(RequestError, match="no step"):
        tiny_request(hires_scale=2.0, hires_strength=0.1).validate()
    with pytest.raises(RequestError, match="text-to-image"):
        tiny_request(hires_scale=2.0, init_image=stripes()).validate()
    with pytest.raises(RequestError, match="must be a number"):
        GenerationRequest.from_dict({"prompt": "x", "hires_scale": "2"})
    request = tiny_request(hires_scale=2.0, hires_strength=0.35, hires_upscaler="latent")
    assert GenerationRequest.from_json(request.to_json()) == request


def test_a1111_fields_written_and_read_back():
    request = tiny_request(hires_scale=2.0, hires_strength=0.35, hires_steps=10, hires_upscaler="latent")
    fields = a1111_fields(a1111_parameters(request, seed=3, models=[]).splitlines()[-1])
    assert (fields["Size"], fields["Hires upscale"], fields["Hires steps"], fields["Hires upscaler"],
            fields["Denoising strength"]) == ("64x64", "2", "10", "Latent", "0.35")
    plain = a1111_fields(a1111_parameters(dataclasses.replace(request, hires_steps=0), seed=3, models=[])
                         .splitlines()[-1])
    assert "Hires steps" not in plain


def test_a1111_hires_png_gives_a_hires_request(tmp_path):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a castle\nNegative prompt: fog\nSteps: 20, Sampler: Euler a, CFG scale: 7, "
                  "Seed: 5, Size: 512x512, Model hash: 6ce0161689, Model: v1-5, Denoising strength: 0.45, "
                  "Hires upscale: 1.5, Hires steps: 12, Hires upscaler: R-ESRGAN 4x+, Version: v1.10.1")
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png", pnginfo=info)
    settings = read_png_settings(tmp_path / "a.png")
    assert settings.hires == {"scale": 1.5, "strength": 0.45, "steps": 12, "upscaler": "R-ESRGAN 4x+"}
    assert settings.strength is None  # the strength is the hires pass's, not a refine's
    request, notes = request_from_settings(settings)
    assert (request.hires_scale, request.hires_strength, request.hires_steps, request.hires_upscaler) == \
        (1.5, 0.45, 12, "lanczos")
    assert any("R-ESRGAN 4x+" in note for note in notes)
    request.validate()


def test_cli_hires(tiny_sd15, tmp_path, config_home):
    Image.fromarray(stripes()).save(tmp_path / "sketch.png")
    out = tmp_path / "out.png"
    assert main(["generate", "--model", str(tiny_sd15.base), "--control", f"edge={tmp_path / 'sketch.png'}",
                 "--prompt", "a cat", "--seed", "2", "--steps", "4", "--width", "64", "--height", "64",
                 "--hires", "1.5", "--hires-strength", "0.5", "--hires-upscaler", "latent", "--out", str(out)]) == 0
    parameters, stored = read_png_metadata(out)
    assert Image.open(out).size == (96, 96)
    assert "Hires upscale: 1.5" in parameters and stored.hires_upscaler == "latent"
    again = tmp_path / "again.png"
    assert main(["generate", "--model", str(tiny_sd15.base), "--from-png", str(out), "--out", str(again)]) == 0
    assert np.array_equal(_pixels(Image.open(again)), _pixels(Image.open(out)))


@pytest.mark.parametrize("upscaler", ["latent", "lanczos"])
def test_sdxl_hires(tiny_sdxl, upscaler):
    from studio.engine.pipeline import Engine
    from studio.engine.settings import ModelSettings

    engine = Engine(ModelSettings.for_model(str(tiny_sdxl.base)))
    result = engine.generate(tiny_request(hires_scale=1.5, hires_strength=0.6, hires_upscaler=upscaler))
    assert result.images[0].size == (96, 96)
