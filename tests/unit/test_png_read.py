"""`studio png read` and `--from-png`: the studio's own PNGs exactly, other tools' PNGs from their public fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from engine_fixtures import config_home, stripes, tiny_request, tiny_sd15  # noqa: F401
from PIL import Image, PngImagePlugin

from studio.cli import main
from studio.engine.metadata import save_png
from studio.png.read import PngReadError, a1111_fields, read_png_settings
from studio.png.remake import request_from_settings

FIXTURES = Path(__file__).parent / "fixtures" / "png"
# An A1111 v1.6 infotext with sd-webui-controlnet and a LoRA (the format as A1111 writes it; prompt words ours).
A1111_CONTROLNET = (
    "portrait of a woman, pink hair <lora:JapaneseDollLikeness_v15:0.8>\n"
    "Negative prompt: blurry, ugly\n"
    "Steps: 35, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 4219467701, Size: 1024x683, Model hash: 59ffe2243a, "
    "Model: Chilloutmix-Ni-pruned-fp16-fix, Denoising strength: 0.75, ControlNet 0: \"Module: dw_openpose_full, "
    "Model: control_v11p_sd15_openpose [cab727d4], Weight: 1, Resize Mode: Crop and Resize, Low Vram: False, "
    "Processor Res: 512, Guidance Start: 0, Guidance End: 1, Pixel Perfect: True, Control Mode: Balanced, "
    "Save Detected Map: True\", Lora hashes: \"JapaneseDollLikeness_v15: 50b3f6a2ecf7\", Version: v1.6.1"
)

EXPECTED = {  # file: (source, prompt start, seed, steps, guidance, sampler, width, height, model)
    "automatic1111_cropped.png": ("AUTOMATIC1111", "photo of a duck", 235284042, 15, 5.0, "UniPC", 512, 400,
                                  "realistic_realisticVisionV20_v20"),
    "img2img_cropped.png": ("ComfyUI", "photograph of victorian woman", 280823642470253, 20, 8.0,
                            "sample_dpmpp_2m", None, None, "v1-5-pruned-emaonly.ckpt"),
    "night_evening_day_morning_cropped.png": ("ComfyUI", "(best quality) (daytime:1.2)", 335608130539327, 13, 8.5,
                                              "dpmpp_sde", 704, 1280, "Anything-V3.0.ckpt"),
    "invokeai_imeta1.png": ("InvokeAI", "digital artwork, oil painting", 3293022630, 35, 8.0, "euler", 1024, 1024,
                            "juggernautXL"),
    "invokeai_sdmeta1.png": ("InvokeAI", "professional full body photo", 2980747362, 50, 5.0, "k_lms", 512, 768,
                             "deliberateForInvoke_v08"),
    "invokeai_dream1.png": ("InvokeAI", "professional full body photo", 2980747362, 50, 5.0, "k_lms", 512, 768, None),
    "fooocus1_cropped.png": ("Fooocus", "cinematic still a smiling goldfish", 6952411511246973023, 30, 4.0,
                             "dpmpp_2m_sde_gpu", 768, 1280, "juggernautXL_v8Rundiffusion"),
    "novelai1_cropped.png": ("NovelAI", "masterpiece, best quality", 2253955223, 50, 10.0, "k_euler_ancestral",
                             None, None, "Stable Diffusion"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_other_tools_pngs(name):
    source, prompt, seed, steps, guidance, sampler, width, height, model = EXPECTED[name]
    s = read_png_settings(FIXTURES / name)
    assert (s.source, s.seed, s.steps, s.guidance, s.sampler, s.width, s.height, s.model) == (
        source, seed, steps, guidance, sampler, width, height, model)
    assert s.prompt.startswith(prompt) and s.negative and s.request is None
    request, _ = request_from_settings(s)
    request.validate()
    assert request.seed == seed  # seeds above 2^32 are kept


def test_a1111_controlnet_units_loras_and_quoted_fields(tmp_path):
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", A1111_CONTROLNET)
    Image.new("RGB", (8, 8)).save(tmp_path / "a1111.png", pnginfo=info)
    s = read_png_settings(tmp_path / "a1111.png")
    assert (s.source, s.seed, s.width, s.height, s.scheduler, s.strength) == (
        "AUTOMATIC1111", 4219467701, 1024, 683, "dpmpp_2m_karras", 0.75)
    assert s.negative == "blurry, ugly" and s.model_hash == "59ffe2243a"
    assert s.loras == [{"name": "JapaneseDollLikeness_v15", "weight": 0.8, "hash": "50b3f6a2ecf7"}]
    unit = s.controlnets[0]
    assert unit["module"] == "dw_openpose_full" and unit["model"] == "control_v11p_sd15_openpose [cab727d4]"
    assert unit["weight"] == 1.0 and unit["control_mode"] == "Balanced" and len(s.controlnets) == 1
    request, notes = request_from_settings(s)
    assert (request.width, request.height) == (1024, 680) and any("680" in n for n in notes)
    assert any("ControlNet unit" in n for n in notes)
    assert a1111_fields('A: 1, B: "x, y", C: "q\\"uote"') == {"A": "1", "B": "x, y", "C": 'q"uote'}


def test_studio_png_reads_exactly_and_from_png_remakes_the_pixels(tiny_sd15, tmp_path, config_home, capsys):
    Image.fromarray(stripes()).save(tmp_path / "sketch.png")
    base = ["generate", "--model", str(tiny_sd15.base), "--control", f"edge={tmp_path / 'sketch.png'}",
            "--prompt", "a (red:1.2) cat", "--negative", "blurry", "--seed", str(2**40 + 5), "--steps", "3",
            "--width", "64", "--height", "64", "--scheduler", "euler_a"]
    assert main([*base, "--out", str(tmp_path / "first.png")]) == 0
    s = read_png_settings(tmp_path / "first.png")
    assert (s.source, s.prompt, s.negative, s.seed, s.steps, s.sampler, s.scheduler) == (
        "studio", "a (red:1.2) cat", "blurry", 2**40 + 5, 3, "Euler a", "euler_a")
    assert s.controlnets[0]["module"] == "edge" and s.request.controls[0].image.shape == (64, 64, 3)
    capsys.readouterr()
    assert main(["png", "read", str(tmp_path / "first.png"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    for key in ("prompt", "negative", "seed", "steps", "guidance", "sampler", "width", "height"):
        assert key in data
    assert data["seed"] == 2**40 + 5 and data["width"] == 64 and data["request"]["controls"][0]["image"] is None
    assert main(["generate", "--model", str(tiny_sd15.base), "--from-png", str(tmp_path / "first.png"),
                 "--out", str(tmp_path / "again.png")]) == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "first.png")),
                          np.asarray(Image.open(tmp_path / "again.png")))
    assert main(["generate", "--model", str(tiny_sd15.base), "--from-png", str(tmp_path / "first.png"),
                 "--seed", "9", "--out", str(tmp_path / "seed9.png")]) == 0
    assert read_png_settings(tmp_path / "seed9.png").seed == 9
    assert main(["generate", "--model", str(tiny_sd15.base), "--from-png", str(FIXTURES / "novelai1_cropped.png"),
                 "--steps", "2", "--width", "64", "--height", "64", "--out", str(tmp_path / "nai.png")]) == 0
    assert read_png_settings(tmp_path / "nai.png").seed == 2253955223


def test_bad_files_are_refused_clearly(tmp_path, capsys):
    (tmp_path / "text.png").write_text("not an image")
    good = (FIXTURES / "automatic1111_cropped.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(good[: len(good) // 2])
    for name in ("text.png", "cut.png", "missing.png"):
        with pytest.raises(PngReadError):
            read_png_settings(tmp_path / name)
    assert main(["png", "read", str(tmp_path / "text.png")]) == 2
    assert "studio:" in capsys.readouterr().err
    Image.new("RGB", (4, 4)).save(tmp_path / "plain.png")
    assert read_png_settings(tmp_path / "plain.png") is None
    assert main(["png", "read", str(tmp_path / "plain.png")]) == 1
    info = PngImagePlugin.PngInfo()
    info.add_itxt("studio_request", "{broken", zip=True)
    Image.new("RGB", (4, 4)).save(tmp_path / "broken.png", pnginfo=info)
    with pytest.raises(PngReadError, match="studio_request"):
        read_png_settings(tmp_path / "broken.png")
    assert main(["generate", "--from-png", str(tmp_path / "plain.png"), "--out", str(tmp_path / "o.png")]) == 2
