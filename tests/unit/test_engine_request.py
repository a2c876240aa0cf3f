"""GenerationRequest / ControlInput: JSON round trip and validation messages."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.engine.errors import RequestError
from studio.engine.request import ControlInput, GenerationRequest
from studio.errors import StudioError


def _image(seed: int = 0, shape=(24, 40, 3)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def _request(**overrides) -> GenerationRequest:
    values = dict(prompt="a cat", negative_prompt="blurry", width=64, height=64, steps=4, seed=3,
                  controls=[ControlInput("edge", _image(1)),
                            ControlInput("pose", _image(2), weight=0.5, start=0.1, end=0.8, mode="control",
                                         resize_mode="resize_and_fill")])
    values.update(overrides)
    return GenerationRequest(**values)


def test_round_trip_with_images_keeps_every_pixel():
    request = _request(init_image=_image(3), strength=0.4)
    request.validate()
    again = GenerationRequest.from_json(request.to_json())
    assert again == request
    assert np.array_equal(again.controls[1].image, request.controls[1].image)
    assert again.controls[1].mode == "control" and again.controls[1].resize_mode == "resize_and_fill"
    assert again.init_image.shape == (24, 40, 3)


def test_round_trip_without_images_keeps_settings_only():
    data = json.loads(_request().to_json(include_images=False))
    assert data["controls"][0]["image"] is None and data["version"] == 1
    again = GenerationRequest.from_dict(data)
    assert again.controls[0].image is None and again.controls[1].weight == 0.5
    with pytest.raises(RequestError, match="has no image"):
        again.validate()


def test_equality_notices_a_changed_pixel():
    a, b = _request(), _request()
    assert a == b
    b.controls[0].image[0, 0, 0] ^= 1
    assert a != b


@settings(max_examples=25, deadline=None)
@given(prompt=st.text(max_size=40), steps=st.integers(1, 500), seed=st.one_of(st.none(), st.integers(0, 2**64 - 1)),
       weight=st.floats(0, 2), start=st.floats(0, 0.49), end=st.floats(0.5, 1),
       width=st.integers(8, 512).map(lambda n: n * 8))
def test_round_trip_property(prompt, steps, seed, weight, start, end, width):
    request = GenerationRequest(prompt=prompt, steps=steps, seed=seed, width=width, height=64,
                                controls=[ControlInput("depth", _image(), weight=weight, start=start, end=end)])
    request.validate()
    assert GenerationRequest.from_json(request.to_json()) == request


@pytest.mark.parametrize("change, message", [
    (dict(width=65), "width must be a multiple of 8"),
    (dict(height=32), "height must be between 64 and 4096"),
    (dict(steps=0), "number of steps must be between"),
    (dict(steps=2.5), "number of steps must be a whole number"),
    (dict(guidance_scale=float("nan")), "guidance scale must be a number"),
    (dict(scheduler="heun"), "scheduler 'heun' is unknown"),
    (dict(batch_size=0), "batch size"),
    (dict(seed=-1), "seed must be between"),
    (dict(prompt=None), "prompt must be text"),
    (dict(init_image=np.zeros((8, 8), np.uint8)), "image to refine must be an HxWx3 uint8"),
    (dict(init_image=np.zeros((8, 8, 3), np.uint8), strength=0.0), "strength must be above 0"),
    (dict(init_image=np.zeros((8, 8, 3), np.uint8), strength=0.1, steps=4), "leaves no step"),
])
def test_validation_messages(change, message):
    with pytest.raises(RequestError, match=message):
        _request(**change).validate()


@pytest.mark.parametrize("control, message", [
    (ControlInput("canny", _image()), "Control 1 kind 'canny' is unknown"),
    (ControlInput("edge", _image(), weight=2.5), "weight must be between 0 and 2"),
    (ControlInput("edge", _image(), weight=-0.1), "weight must be between 0 and 2"),
    (ControlInput("edge", _image(), start=0.6, end=0.6), r"start \(0.6\) must be before its end"),
    (ControlInput("edge", _image(), end=1.5), "end must be between 0 and 1"),
    (ControlInput("edge", _image(), mode="strong"), "mode 'strong' is unknown"),
    (ControlInput("edge", _image(), resize_mode="fit"), "resize mode 'fit' is unknown"),
    (ControlInput("edge", _image().astype(np.float32)), "uint8 RGB array"),
    (ControlInput("edge", _image(shape=(8, 8, 4))), "uint8 RGB array"),
    (ControlInput("edge", [[1, 2, 3]]), "numpy array"),
])
def test_control_validation_messages(control, message):
    with pytest.raises(RequestError, match=message) as caught:
        _request(controls=[control]).validate()
    assert isinstance(caught.value, StudioError)


def test_two_controls_of_one_kind_are_refused():
    with pytest.raises(RequestError, match="two edge controls"):
        _request(controls=[ControlInput("edge", _image()), ControlInput("edge", _image(1))]).validate()


@pytest.mark.parametrize("text, message", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('{"negative_prompt": "x"}', "lacks the field"),
    ('{"prompt": "x", "colour": 3}', "unknown field"),
    ('{"prompt": "x", "steps": "4"}', "steps must be a whole number"),
    ('{"prompt": "x", "version": 99}', "version 99 is not supported"),
    ('{"prompt": "x", "controls": [{"kind": "edge", "image": "###"}]}', "not a readable base64 PNG"),
    ('{"prompt": "x", "controls": [{"kind": "edge", "image": "aGVsbG8="}]}', "not a readable base64 PNG"),
    ('{"prompt": "x", "controls": {"kind": "edge"}}', "controls must be a list"),
    ('{"prompt": "x", "controls": [{"kind": "edge", "weight": "high"}]}', "weight must be a number"),
])
def test_malformed_json_gives_clear_errors(text, message):
    with pytest.raises(RequestError, match=message):
        GenerationRequest.from_json(text)
