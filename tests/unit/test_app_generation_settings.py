"""GenerationSettings: one field list, mapped to and from GenerationRequest and to and from history fields."""

from __future__ import annotations

import dataclasses

import numpy as np

from studio.app.generation_settings import (
    CONTROL_FIELD_TYPES,
    CONTROL_REQUEST_FIELDS,
    FIELD_TYPES,
    REQUEST_FIELDS,
    GenerationSettings,
)
from studio.app.history_settings import settings_fields, settings_with_fields
from studio.engine.request import ControlInput, GenerationRequest


def test_the_field_lists_come_from_the_dataclasses():
    settings_names = [f.name for f in dataclasses.fields(GenerationSettings)]
    assert list(FIELD_TYPES) == [name for name in settings_names if name not in ("controls", "loras")]
    request_names = {f.name for f in dataclasses.fields(GenerationRequest)}
    assert set(REQUEST_FIELDS) == (set(settings_names) & request_names) - {"controls", "loras"}
    assert "model" in FIELD_TYPES and "model" not in REQUEST_FIELDS
    assert FIELD_TYPES["seed"] == (int, type(None)) and FIELD_TYPES["guidance_scale"] == (int, float)
    assert set(CONTROL_REQUEST_FIELDS) == {"weight", "start", "end", "mode"}
    assert set(CONTROL_FIELD_TYPES) == {"enabled", "weight", "start", "end", "mode"}


def test_settings_round_trip_through_a_request():
    settings = GenerationSettings(model="m", prompt="a fox", negative_prompt="blur", width=640, height=384,
                                  steps=9, guidance_scale=5, seed=11, scheduler="euler", batch_size=3)
    settings.controls["pose"].enabled = False
    settings.controls["depth"].weight, settings.controls["depth"].mode = 0.4, "prompt"
    images = {kind: np.full((384, 640), 9, np.uint8) for kind in ("edge", "depth")}
    request = settings.to_request(images)
    assert [c.kind for c in request.controls] == ["edge", "depth"]
    assert request.controls[1].weight == 0.4 and request.controls[1].mode == "prompt"
    assert (request.prompt, request.steps, request.batch_size, request.seed) == ("a fox", 9, 3, 11)
    back = GenerationSettings.from_request(request, model="m")
    assert isinstance(back.guidance_scale, float) and back.guidance_scale == 5.0
    assert not back.controls["pose"].enabled and back.controls["depth"].weight == 0.4
    expected = settings.copy()
    expected.guidance_scale = 5.0
    assert back == expected


def test_layers_without_an_image_are_left_out_of_the_request():
    request = GenerationSettings(prompt="x").to_request({"pose": np.ones((512, 512, 3), np.uint8)})
    assert [c.kind for c in request.controls] == ["pose"]
    assert GenerationSettings.from_request(request, model=None).controls["edge"].enabled is False


def test_history_fields_round_trip_and_wrong_types_are_ignored():
    settings = GenerationSettings(model="m", prompt="p", steps=12, seed=None)
    fields = settings_fields(settings)
    assert set(fields) == set(FIELD_TYPES) | {"controls", "loras"}
    assert settings_with_fields(GenerationSettings(), fields) == settings
    hostile = {"steps": "twelve", "seed": True, "width": 700, "unknown": 1,
               "controls": {"edge": {"weight": "heavy", "end": 0.5}, "pose": "not a dict"}}
    read = settings_with_fields(settings, hostile)
    assert read.steps == 12 and read.seed is None and read.width == 700
    assert read.controls["edge"].weight == 1.0 and read.controls["edge"].end == 0.5


def test_control_inputs_keep_the_kind_and_image():
    image = np.zeros((512, 512), np.uint8)
    request = GenerationSettings().to_request({"edge": image})
    assert isinstance(request.controls[0], ControlInput) and request.controls[0].image is image
