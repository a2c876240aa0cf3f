"""Panel settings from a PNG: the studio's own exactly, other tools' public fixtures, bad files change nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from studio.app.generation_settings import GenerationSettings, LoraSetting
from studio.app.png_settings import PngSettingsError, settings_from_png
from studio.engine.lora import LoraInput
from studio.engine.metadata import save_png
from studio.engine.request import ControlInput, GenerationRequest

FIXTURES = Path(__file__).parent / "fixtures" / "png"
BASE = {"role": "base", "path": "/models/dreamy-v2.safetensors", "fingerprint": "1a2b3c4d5e6f", "hub_id": None}


def _current() -> GenerationSettings:
    current = GenerationSettings(model="mine", prompt="old", batch_size=3, strength=0.8, inpaint_padding=9,
                                 loras=[LoraSetting("/old.safetensors")])
    current.controls["pose"].enabled = False
    current.controls["edge"].weight = 0.3
    return current


def test_the_studios_own_png_gives_its_settings_exactly(tmp_path):
    lora = tmp_path / "ink.safetensors"
    lora.write_bytes(b"")
    request = GenerationRequest(
        prompt="a (red:1.2) fox <lora:film:0.4>", negative_prompt="blur", width=640, height=384, steps=9,
        guidance_scale=5.5, seed=2**40 + 3, scheduler="euler_a",
        controls=[ControlInput(kind="depth", image=np.zeros((8, 8, 3), np.uint8), weight=0.6, start=0.1, end=0.9,
                               mode="prompt")],
        loras=[LoraInput(str(lora), 0.7), LoraInput(str(tmp_path / "gone.safetensors"), 1.0)],
        hires_scale=1.5, hires_strength=0.35, hires_steps=4, hires_upscaler="latent")
    save_png(Image.new("RGB", (64, 64)), tmp_path / "own.png", request=request, seed=request.seed, models=[BASE])
    read = settings_from_png(tmp_path / "own.png", _current(), models={"dreamy": "/models/dreamy-v2.safetensors"},
                             lora_dir=None)
    s = read.settings
    assert read.source == "studio" and s.model == "dreamy"  # found by its base file's name
    assert (s.prompt, s.negative_prompt, s.width, s.height, s.steps, s.guidance_scale, s.seed, s.scheduler) == (
        request.prompt, "blur", 640, 384, 9, 5.5, 2**40 + 3, "euler_a")
    assert (s.hires_enabled, s.hires_scale, s.hires_strength, s.hires_steps, s.hires_upscaler) == (
        True, 1.5, 0.35, 4, "latent")
    assert s.loras == [LoraSetting(str(lora), 0.7), LoraSetting(str(tmp_path / "gone.safetensors"), 1.0)]
    assert s.controls["depth"].enabled and s.controls["depth"].weight == 0.6 and s.controls["depth"].mode == "prompt"
    assert not s.controls["edge"].enabled and not s.controls["pose"].enabled
    assert s.batch_size == 3 and s.strength == 0.8 and s.inpaint_padding == 9  # the image does not speak to them
    assert s.to_request({}).to_dict(include_images=False)["loras"] == request.to_dict()["loras"]
    assert any("gone.safetensors" in note for note in read.notes)
    assert any("drawings are not changed" in note for note in read.notes)


def test_an_unknown_model_keeps_the_current_one(tmp_path):
    request = GenerationRequest(prompt="x", seed=1)
    save_png(Image.new("RGB", (8, 8)), tmp_path / "own.png", request=request, seed=1, models=[BASE])
    read = settings_from_png(tmp_path / "own.png", _current(), models={"mine": "/m/other"}, lora_dir=None)
    assert read.settings.model == "mine" and any("dreamy-v2" in note for note in read.notes)


@pytest.mark.parametrize("name, prompt, seed, steps, width, scheduler", [
    ("automatic1111_cropped.png", "photo of a duck", 235284042, 15, 512, "unipc"),
    ("img2img_cropped.png", "photograph of victorian woman", 280823642470253, 20, 512, "unipc"),
    ("invokeai_imeta1.png", "digital artwork, oil painting", 3293022630, 35, 1024, "unipc"),
    ("fooocus1_cropped.png", "cinematic still a smiling goldfish", 6952411511246973023, 30, 768, "unipc"),
    ("novelai1_cropped.png", "masterpiece, best quality", 2253955223, 50, 512, "euler_a"),
])
def test_other_tools_pngs_fill_the_fields_and_keep_the_rest(name, prompt, seed, steps, width, scheduler):
    current = _current()
    read = settings_from_png(FIXTURES / name, current, models={"mine": "/m/mine"}, lora_dir=None)
    s = read.settings
    assert read.source != "studio" and s.prompt.startswith(prompt) and s.negative_prompt
    assert (s.seed, s.steps, s.width, s.scheduler) == (seed, steps, width, scheduler)
    assert s.controls == current.controls and s.loras == [] and s.model == "mine" and s.batch_size == 3
    assert (s.strength, s.inpaint_padding) == (0.8, 9)
    s.to_request({}).validate()


def test_a1111_lora_tags_stay_in_the_prompt_and_missing_loras_are_named(tmp_path):
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a cat <lora:ink:0.8> <lora:film:0.5>\nNegative prompt: dog\n"
                                "Steps: 12, Sampler: Euler a, CFG scale: 6, Seed: 77, Size: 512x512, Model: sd15")
    Image.new("RGB", (8, 8)).save(tmp_path / "a1111.png", pnginfo=info)
    folder = tmp_path / "loras"
    folder.mkdir()
    (folder / "ink.safetensors").write_bytes(b"")
    read = settings_from_png(tmp_path / "a1111.png", _current(), models={"sd15": "/m/x"}, lora_dir=folder)
    assert read.settings.prompt == "a cat <lora:ink:0.8> <lora:film:0.5>" and read.settings.loras == []
    assert read.settings.model == "sd15" and read.settings.scheduler == "euler_a"
    assert [note for note in read.notes if "LoRA" in note] == [
        "The LoRA 'film' is not in the LoRA folder; put it there or remove it."]


def test_unreadable_or_plain_images_are_refused(tmp_path):
    (tmp_path / "text.png").write_text("not an image")
    good = (FIXTURES / "automatic1111_cropped.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(good[: len(good) // 2])
    Image.new("RGB", (4, 4)).save(tmp_path / "plain.png")
    info = PngImagePlugin.PngInfo()
    info.add_itxt("studio_request", "{broken", zip=True)
    Image.new("RGB", (4, 4)).save(tmp_path / "broken.png", pnginfo=info)
    for name, words in [("text.png", "Cannot read"), ("cut.png", "Cannot read"), ("missing.png", "does not exist"),
                        ("plain.png", "carries no generation settings"), ("broken.png", "studio_request")]:
        with pytest.raises(PngSettingsError, match=words) as error:
            settings_from_png(tmp_path / name, _current(), models={}, lora_dir=None)
        assert str(error.value).endswith("Nothing was changed.")


def _fooocus_with_loras(tmp_path: Path, loras: list) -> Path:
    """The public Fooocus fixture with LoRAs in its `loras` field, as Fooocus 2.2+ writes them: [name, weight,
    hash]."""
    import json

    with Image.open(FIXTURES / "fooocus1_cropped.png") as image:
        data = json.loads(image.text["parameters"])
        data["loras"] = loras
        info = PngImagePlugin.PngInfo()
        info.add_text("parameters", json.dumps(data))
        info.add_text("fooocus_scheme", image.text["fooocus_scheme"])
        image.save(tmp_path / "fooocus-loras.png", pnginfo=info)
    return tmp_path / "fooocus-loras.png"


def test_fooocus_loras_outside_the_prompt_come_from_the_lora_folder(tmp_path):
    from studio.png.read import read_png_settings

    path = _fooocus_with_loras(tmp_path, [["sd_xl_offset_example-lora_1.0", 0.1, "4852686128"],
                                          ["ink", 0.65, "0123456789"]])
    assert read_png_settings(path).loras == [
        {"name": "sd_xl_offset_example-lora_1.0", "weight": 0.1, "hash": "4852686128"},
        {"name": "ink", "weight": 0.65, "hash": "0123456789"}]
    folder = tmp_path / "loras"
    folder.mkdir()
    (folder / "ink.safetensors").write_bytes(b"")
    read = settings_from_png(path, _current(), models={}, lora_dir=folder)
    assert read.settings.loras == [LoraSetting(str(folder / "ink.safetensors"), 0.65)]
    assert any("'sd_xl_offset_example-lora_1.0' is not in the LoRA folder" in note for note in read.notes)
