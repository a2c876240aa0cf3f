"""The scorer on a tiny random CLIP: a synthetic designer keeps the brighter images of each batch; held-out
pairwise accuracy must reach 0.9 (chance 0.5). A missing encoder gives a clear message."""

from __future__ import annotations

import numpy as np
import pytest

from studio.history import events as ev
from studio.history.store import HistoryStore
from studio.scorer.errors import EncoderMissingError


def _tiny_clip(folder):
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    config = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                              image_size=32, patch_size=8, projection_dim=16)
    CLIPVisionModelWithProjection(config).save_pretrained(folder)
    return folder


def _history(path, rng, generations=40, batch=4):
    with HistoryStore.create(path) as store:
        for g in range(generations):
            request = {"prompt": f"a scene {g}", "negative_prompt": "", "width": 32, "height": 32, "steps": 4,
                       "guidance_scale": 7.0, "seed": g * 10, "scheduler": "unipc", "batch_size": batch,
                       "controls": []}
            light = rng.uniform(0, 1, batch)
            images = [np.clip(rng.integers(0, 60, (32, 32, 3)) + 190 * b, 0, 255).astype(np.uint8) for b in light]
            event = store.append(ev.generation_event(request=request, control_images=[], results=images,
                                                     seed=g * 10, models={}, timings={})).result().event
            for i in np.argsort(light):
                store.feedback(event, result=int(i), verdict="accept" if light[i] >= np.median(light) else "reject")
            store.flush()


def test_scorer_learns_brighter_is_kept(tmp_path):
    from studio.scorer.data import load
    from studio.scorer.encoder import ClipEncoder
    from studio.scorer.training import TrainSettings, cross_validate

    encoder = ClipEncoder(str(_tiny_clip(tmp_path / "clip")), device="cpu")
    _history(tmp_path / "d.studio", np.random.default_rng(1))
    data = load([tmp_path / "d.studio"], encoder)
    evaluation = cross_validate(data, TrainSettings())
    print(evaluation)
    assert evaluation.pairs == 40 * 4 and evaluation.accuracy >= 0.9 and evaluation.chance == 0.5


def test_missing_encoder_says_so(tmp_path):
    from studio.scorer.encoder import resolve

    with pytest.raises(EncoderMissingError, match="stays off"):
        resolve(str(tmp_path / "nothing"))
    with pytest.raises(EncoderMissingError, match="Hugging Face cache"):
        resolve("nobody/no-such-clip")
