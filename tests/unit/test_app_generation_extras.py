"""GenerationSettings' LoRA list, hires fix and inpaint fields: into the request, back, into the history, undo."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from studio.app.generation_settings import GenerationSettings, LoraSetting
from studio.app.generation_state import GenerationState, apply_settings
from studio.app.history_settings import settings_fields, settings_with_fields
from studio.app.loras import add_lora, available_loras, lora_folder, remove_lora, set_lora_folder
from studio.document.history import UndoHistory
from studio.engine.errors import RequestError, SettingsError
from studio.engine.lora import LoraInput
from studio.engine.settings import ModelEntry, ModelSettings


def test_enabled_loras_reach_the_request_and_come_back():
    settings = GenerationSettings(prompt="a cat <lora:film:0.5>", loras=[
        LoraSetting("/l/a.safetensors", 0.7), LoraSetting("/l/b.safetensors", -1.0, enabled=False)])
    request = settings.to_request({})
    assert request.loras == [LoraInput("/l/a.safetensors", 0.7)]
    assert request.prompt == "a cat <lora:film:0.5>"  # the A1111 tag is left for the engine to resolve
    back = GenerationSettings.from_request(request, model=None)
    assert back.loras == [LoraSetting("/l/a.safetensors", 0.7, True)]


def test_hires_off_sends_scale_one_and_keeps_the_chosen_scale():
    settings = GenerationSettings(prompt="x", hires_scale=1.5, hires_strength=0.3, hires_steps=6,
                                  hires_upscaler="latent")
    assert settings.to_request({}).hires_scale == 1.0
    settings.hires_enabled = True
    request = settings.to_request({})
    request.validate()
    assert (request.hires_scale, request.hires_strength, request.hires_steps, request.hires_upscaler) == (
        1.5, 0.3, 6, "latent")
    back = GenerationSettings.from_request(request, model=None)
    back.controls = settings.controls  # no layer had a map, so none is on in the request
    assert back == settings
    off = GenerationSettings.from_request(GenerationSettings(prompt="x").to_request({}), model=None)
    assert not off.hires_enabled and off.hires_scale == 2.0


def test_inpaint_fields_reach_the_request_and_make_a_valid_inpaint_with_a_mask():
    picture = np.full((64, 64, 3), 80, np.uint8)
    mask = np.zeros((64, 64, 3), np.uint8)
    mask[10:20, 10:20] = 255
    settings = GenerationSettings(prompt="x", width=64, height=64, strength=0.9, inpaint_only_masked=True,
                                  inpaint_padding=12, mask_blur=2)
    request = dataclasses.replace(settings.to_request({}), init_image=picture, mask=mask)  # the mask's wiring
    request.validate()
    assert request.is_inpaint and request.strength == 0.9
    assert (request.inpaint_only_masked, request.inpaint_padding, request.mask_blur) == (True, 12, 2)
    settings.hires_enabled = True
    with pytest.raises(RequestError, match="Hires fix is for text-to-image"):
        dataclasses.replace(settings.to_request({}), init_image=picture, mask=mask).validate()


def test_history_fields_keep_loras_and_ignore_broken_entries():
    settings = GenerationSettings(loras=[LoraSetting("/a.safetensors", 0.5, False)], hires_enabled=True,
                                  inpaint_padding=8)
    fields = settings_fields(settings)
    assert fields["loras"] == [{"path": "/a.safetensors", "weight": 0.5, "enabled": False}]
    assert settings_with_fields(GenerationSettings(), fields) == settings
    hostile = {"loras": [{"path": ""}, "x", {"weight": 2}, {"path": "/b.safetensors", "weight": "heavy", "x": 1},
                         {"path": "/c.safetensors", "weight": 2}], "hires_scale": "big", "inpaint_only_masked": 1}
    read = settings_with_fields(GenerationSettings(), hostile)
    assert read.loras == [LoraSetting("/b.safetensors", 1.0), LoraSetting("/c.safetensors", 2.0)]
    assert isinstance(read.loras[1].weight, float)
    assert read.hires_scale == 2.0 and read.inpaint_only_masked is False
    assert settings_with_fields(GenerationSettings(), {"loras": "nope"}).loras == []


def test_lora_list_adds_once_and_removes(tmp_path):
    loras = add_lora([], tmp_path / "a.safetensors", weight=0.8)
    loras[0].enabled = False
    again = add_lora(loras, tmp_path / "a.safetensors")
    assert again == [LoraSetting(str(tmp_path / "a.safetensors"), 0.8, True)] and loras[0].enabled is False
    two = add_lora(again, tmp_path / "b.safetensors", weight=99)
    assert [x.weight for x in two] == [0.8, 10.0]
    assert remove_lora(two, 0) == [two[1]]
    with pytest.raises(SettingsError, match="not a LoRA file"):
        add_lora([], tmp_path / "notes.txt")


def test_lora_folder_is_kept_in_the_model_settings(tmp_path):
    file = tmp_path / "models.json"
    base = tmp_path / "base"
    (base / "loras" / "sub").mkdir(parents=True)
    (base / "loras" / "sub" / "Zed.safetensors").write_bytes(b"")
    (base / "loras" / "alpha.safetensors").write_bytes(b"")
    ModelSettings(models={"m": ModelEntry(base=str(base))}, active="m").save(file)
    models = ModelSettings.load(file)
    assert lora_folder(models) == base / "loras"  # a diffusers folder's own loras/ without a setting
    assert [p.name for p in available_loras(models)] == ["alpha.safetensors", "Zed.safetensors"]
    mine = tmp_path / "my loras"
    mine.mkdir()
    (mine / "one.safetensors").write_bytes(b"")
    set_lora_folder(file, str(mine))
    models = ModelSettings.load(file)
    assert models.lora_dir == str(mine) and [p.name for p in available_loras(models)] == ["one.safetensors"]
    assert models.models["m"].base == str(base) and models.active == "m"  # the rest is kept
    with pytest.raises(SettingsError, match="does not exist"):
        set_lora_folder(file, str(tmp_path / "missing"))
    assert ModelSettings.load(file).lora_dir == str(mine)  # a refused folder changes nothing
    set_lora_folder(file, "")
    assert ModelSettings.load(file).lora_dir is None
    assert lora_folder(ModelSettings()) is None and available_loras(ModelSettings()) == []


def test_applying_settings_is_one_undo_step():
    state = GenerationState(GenerationSettings(prompt="before", steps=5))
    history = UndoHistory()
    after = GenerationSettings(prompt="after", steps=30, hires_enabled=True, loras=[LoraSetting("/a.safetensors")])
    assert apply_settings(state, after, history=history, label="Settings from image")
    assert state.value == after and history.undo_label == "Settings from image"
    history.undo()
    assert state.value.prompt == "before" and state.value.loras == [] and not history.can_undo
    history.redo()
    assert state.value == after
    assert not apply_settings(state, after, history=history, label="same")  # no change: no step
    assert history.undo_label == "Settings from image"
