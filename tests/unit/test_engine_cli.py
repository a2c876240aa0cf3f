"""`studio generate` / `studio models` end to end, the settings file and PNG metadata."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from engine_fixtures import config_home, stripes, tiny_request, tiny_sd15, tiny_single_files  # noqa: F401
from PIL import Image

from studio.cli import main
from studio.engine.errors import SettingsError
from studio.engine.metadata import a1111_parameters, read_png_metadata, save_png
from studio.engine.settings import ModelEntry, ModelSettings, settings_path


@pytest.fixture
def control_files(tmp_path):
    Image.fromarray(stripes(height=96, width=96)).save(tmp_path / "sketch.png")
    Image.fromarray(stripes(height=80, width=48, vertical=False)).save(tmp_path / "pose.png")
    return tmp_path / "sketch.png", tmp_path / "pose.png"


def _generate(model, sketch, pose, out, *extra):
    return main(["generate", "--model", str(model), "--control", f"edge={sketch}", "--control", f"pose={pose}",
                 "--prompt", "a cat", "--seed", "3", "--steps", "4", "--width", "64", "--height", "64",
                 "--out", str(out), *extra])


def test_make_tiny_then_generate_twice_gives_identical_pixels(tmp_path, control_files, config_home, capsys):
    sketch, pose = control_files
    assert main(["models", "make-tiny", str(tmp_path / "tiny")]) == 0
    assert (tmp_path / "tiny" / "controlnets" / "pose" / "config.json").is_file()
    assert _generate(tmp_path / "tiny", sketch, pose, tmp_path / "out.png") == 0
    assert _generate(tmp_path / "tiny", sketch, pose, tmp_path / "again.png") == 0
    first, second = Image.open(tmp_path / "out.png"), Image.open(tmp_path / "again.png")
    assert first.size == (64, 64)
    assert np.array_equal(np.asarray(first), np.asarray(second))
    parameters, request = read_png_metadata(tmp_path / "out.png")
    assert parameters.startswith("a cat\n")
    assert "Steps: 4, Sampler: UniPC, CFG scale: 7, Seed: 3, Size: 64x64" in parameters
    assert 'ControlNet 1: "Module: pose' in parameters
    assert request.seed == 3 and request.prompt == "a cat" and [c.kind for c in request.controls] == ["edge", "pose"]
    assert np.array_equal(request.controls[0].image, np.asarray(Image.open(sketch).convert("RGB")))
    assert "wrote" in capsys.readouterr().out


def test_generate_with_options_batch_and_refine(tiny_sd15, control_files, tmp_path, config_home):
    sketch, pose = control_files
    code = main(["generate", "--model", str(tiny_sd15.base), "--control",
                 f"edge={sketch},weight=0.7,start=0.1,end=0.9,mode=prompt,resize=resize_and_fill",
                 "--prompt", "a dog", "--negative", "ugly", "--steps", "3", "--width", "64", "--height", "64",
                 "--seed", "5", "--batch", "2", "--scheduler", "euler_a", "--out", str(tmp_path / "b.png")])
    assert code == 0
    parameters, request = read_png_metadata(tmp_path / "b-2.png")
    assert "Negative prompt: ugly" in parameters and "Seed: 6" in parameters and "Sampler: Euler a" in parameters
    assert request.seed == 6 and request.batch_size == 1 and request.controls[0].mode == "prompt"
    assert request.controls[0].weight == pytest.approx(0.7)
    code = main(["generate", "--model", str(tiny_sd15.base), "--prompt", "a dog", "--steps", "4", "--width", "64",
                 "--height", "64", "--init", str(tmp_path / "b-1.png"), "--strength", "0.5",
                 "--out", str(tmp_path / "r.png")])
    assert code == 0 and "Denoising strength: 0.5" in read_png_metadata(tmp_path / "r.png")[0]


@pytest.mark.parametrize("args, message", [
    (["--control", "edge=missing.png"], "Cannot read the image"),
    (["--control", "edge={sketch},weight=lots"], "needs a number"),
    (["--control", "edge={sketch},colour=red"], "Unknown control option"),
    (["--width", "100"], "multiple of 8"),
    (["--out", "{tmp}/x.jpg"], "must be a .png"),
    (["--model", "{tmp}/no-model"], "does not exist"),
])
def test_generate_errors_exit_2_with_one_sentence(tiny_sd15, control_files, tmp_path, config_home, capsys, args,
                                                  message):
    sketch, _ = control_files
    base = ["generate", "--model", str(tiny_sd15.base), "--prompt", "x", "--steps", "2", "--width", "64",
            "--height", "64", "--out", str(tmp_path / "o.png")]
    extra = [a.format(sketch=sketch, tmp=tmp_path) for a in args]
    assert main(base + extra) == 2
    err = capsys.readouterr().err
    assert err.startswith("studio: ") and message in err and "Traceback" not in err
    assert not (tmp_path / "o.png").exists()


def test_generate_without_a_model_uses_the_settings(tiny_sd15, control_files, tmp_path, config_home, capsys):
    sketch, _ = control_files
    args = ["generate", "--control", f"edge={sketch}", "--prompt", "x", "--steps", "2", "--width", "64",
            "--height", "64", "--out", str(tmp_path / "o.png")]
    assert main(args) == 2 and "No model is set up" in capsys.readouterr().err
    assert main(["models", "add", "tiny", str(tiny_sd15.base)]) == 0
    assert main(args) == 0 and (tmp_path / "o.png").is_file()


def test_models_add_set_list_remove(tiny_sd15, tiny_single_files, config_home, capsys):
    assert main(["models", "add", "folder", str(tiny_sd15.base)]) == 0
    assert main(["models", "add", "single", str(tiny_single_files["base"]), "--controlnet",
                 f"edge={tiny_single_files['edge']}"]) == 0
    assert main(["models", "set", "--active", "single", "--allow-pickle", "on", "--device", "cpu"]) == 0
    assert main(["models", "set", "--controlnet", f"pose={tiny_single_files['pose']}"]) == 0
    stored = json.loads(settings_path().read_text())
    assert stored["active"] == "single" and stored["allow_pickle"] is True and stored["device"] == "cpu"
    assert set(stored["models"]["single"]["controlnets"]) == {"edge", "pose"}
    capsys.readouterr()
    assert main(["models", "list"]) == 0
    listing = capsys.readouterr().out
    assert "* single" in listing and "  folder" in listing and "ok (file" in listing and "ok (folder" in listing
    assert main(["models", "set", "--active", "nope"]) == 2
    assert main(["models", "remove", "single"]) == 0
    assert ModelSettings.load().active == "folder"


def test_settings_file_errors_are_clear(config_home):
    settings_path().parent.mkdir(parents=True)
    settings_path().write_text("{broken")
    with pytest.raises(SettingsError, match="Cannot read the model settings file"):
        ModelSettings.load()
    settings_path().write_text(json.dumps({"models": {"m": {"base": "x", "controlnets": {"canny": "y"}}}}))
    with pytest.raises(SettingsError, match="unknown kind 'canny'"):
        ModelSettings.load()
    settings_path().write_text(json.dumps({"device": "tpu"}))
    with pytest.raises(SettingsError, match="Unknown device 'tpu'"):
        ModelSettings.load()


def test_settings_round_trip(config_home):
    settings = ModelSettings(models={"a": ModelEntry(base="/m/a", controlnets={"depth": "/m/d"}, config="/m/cfg")},
                             active="a", allow_pickle=True, dtype="bf16")
    settings.save()
    assert ModelSettings.load() == settings
    assert not list(config_home.glob("*.tmp"))


def test_metadata_module_round_trip(tmp_path):
    request = tiny_request(batch_size=3)
    models = [{"role": "base", "path": "/m/dream.safetensors", "fingerprint": "0123456789abcdef", "hub_id": None,
               "sha256": "0123456789" + "f" * 54, "model_hash": "0123456789"}]
    path = save_png(Image.new("RGB", (64, 64)), tmp_path / "m.png", request=request, seed=42, models=models,
                    include_images=False)
    parameters, stored = read_png_metadata(path)
    assert parameters == a1111_parameters(request, seed=42, models=models)
    assert "Model hash: 0123456789, Model: dream" in parameters
    assert 'ControlNet 0: "Module: edge, Model: None' in parameters
    assert stored.seed == 42 and stored.batch_size == 1 and stored.controls[0].image is None
    Image.new("RGB", (8, 8)).save(tmp_path / "plain.png")
    assert read_png_metadata(tmp_path / "plain.png") == (None, None)


def test_studio_command_runs_as_a_program(tmp_path, config_home):
    out = subprocess.run([sys.executable, "-m", "studio.cli", "models", "list"], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0 and "no models" in out.stdout
