"""A1111 prompt weighting through compel: the parser, (cat:1.0) == cat, weights, long prompts, BREAK, SDXL."""

from __future__ import annotations

import numpy as np
import pytest
from engine_fixtures import tiny_engine, tiny_request, tiny_sd15, tiny_sdxl  # noqa: F401

from studio.engine.errors import RequestError
from studio.engine.pipeline import Engine
from studio.engine.prompt_weights import parse_weighted
from studio.engine.settings import ModelSettings


def _chunks(text):
    return [[(t, round(w, 4)) for t, w in chunk] for chunk in parse_weighted(text).chunks]


def test_a1111_syntax():
    assert _chunks("a (red) cat") == [[("a ", 1.0), ("red", 1.1), (" cat", 1.0)]]
    assert _chunks("((red)) [blue] [[x]]") == [[("red", 1.21), (" ", 1.0), ("blue", 0.9091), (" ", 1.0),
                                                ("x", 0.8264)]]
    assert _chunks("(red cat:1.3), (dog: 0.5)") == [[("red cat", 1.3), (", ", 1.0), ("dog", 0.5)]]
    assert _chunks("((a:1.5) b)") == [[("a", 1.65), (" b", 1.1)]]
    assert _chunks(r"\(not weighted\) a\\b 3:4") == [[("(not weighted) a\\b 3:4", 1.0)]]
    assert _chunks("a cat BREAK a dog") == [[("a cat ", 1.0)], [(" a dog", 1.0)]]
    assert _chunks("BREAKFAST (x") == [[("BREAKFAST ", 1.0), ("x", 1.1)]]  # not BREAK; unclosed ( weights to the end
    assert _chunks("stray ) and ]") == [[("stray  and ", 1.0)]]
    assert parse_weighted("(cat:1.0)").is_plain and parse_weighted("(cat:1.0)").plain_text == "cat"
    with pytest.raises(RequestError, match="out of range"):
        parse_weighted("(cat:1000)")


def _image(engine, prompt, negative="blurry", **extra):
    request = tiny_request(prompt=prompt, negative_prompt=negative, controls=[], **extra)
    return np.asarray(engine.generate(request).images[0]).astype(int)


def test_weight_one_is_the_plain_prompt_and_weights_change_it(tiny_engine):
    plain = _image(tiny_engine, "a cat")
    assert np.array_equal(_image(tiny_engine, "a (cat:1.0)"), plain)
    assert np.array_equal(_image(tiny_engine, r"a cat", negative="(blurry:1)"), plain)
    up, down = _image(tiny_engine, "a (cat:1.6)"), _image(tiny_engine, "a [cat]")
    assert np.abs(up - plain).mean() > 0.05 and np.abs(down - plain).mean() > 0.01
    assert not np.array_equal(_image(tiny_engine, "a cat", negative="(blurry:1.5)"), plain)


def test_long_prompts_are_chunked_and_break_starts_a_chunk(tiny_engine):
    head = "cat " * 80  # 80 tokens: past CLIP's window of 75
    with_dog, with_house = _image(tiny_engine, head + "dog dog"), _image(tiny_engine, head + "house house")
    assert not np.array_equal(with_dog, with_house)  # words after token 75 still count
    joined, broken = _image(tiny_engine, "a cat a dog"), _image(tiny_engine, "a cat BREAK a dog")
    assert not np.array_equal(joined, broken)
    assert np.array_equal(_image(tiny_engine, "a cat BREAK a dog"), broken)


def test_sdxl_weights_and_long_prompts(tiny_sdxl):
    engine = Engine(ModelSettings.for_model(str(tiny_sdxl.base)))
    plain = _image(engine, "a red house")
    assert np.array_equal(_image(engine, "a (red:1.0) house"), plain)
    assert np.abs(_image(engine, "a (red:1.8) house") - plain).mean() > 0.01
    long = _image(engine, "tree " * 90 + "(night:1.2)", batch_size=2)
    assert long.shape == (64, 64, 3)


@pytest.mark.parametrize("family", ["sd15", "sdxl"])
def test_compel_embeddings_of_an_unweighted_prompt_match_diffusers(family, tiny_sd15, tiny_sdxl):
    import torch
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    from studio.engine.prompt_weights import prompt_embeddings

    if family == "sd15":
        pipe = StableDiffusionPipeline.from_pretrained(tiny_sd15.base, safety_checker=None, feature_extractor=None)
        theirs = pipe.encode_prompt("a cat", "cpu", 1, True, negative_prompt="blurry")
        ours = prompt_embeddings(pipe, "sd1", "a cat BREAK", "blurry")  # BREAK forces the compel path
        torch.testing.assert_close(ours["prompt_embeds"][:, :77], theirs[0])
        torch.testing.assert_close(ours["negative_prompt_embeds"][:, :77], theirs[1])
    else:
        pipe = StableDiffusionXLPipeline.from_pretrained(tiny_sdxl.base, add_watermarker=False)
        theirs = pipe.encode_prompt("a cat", device="cpu", negative_prompt="blurry")
        ours = prompt_embeddings(pipe, "sdxl", "a cat BREAK", "blurry")
        torch.testing.assert_close(ours["prompt_embeds"][:, :77], theirs[0])
        torch.testing.assert_close(ours["pooled_prompt_embeds"], theirs[2])
        torch.testing.assert_close(ours["negative_prompt_embeds"][:, :77], theirs[1])
