"""Builders for scorer tests: a tiny random CLIP vision tower and a synthetic history where the designer keeps
the brighter half of each batch. Import them (`from scorer_fixtures import tiny_clip, history`)."""

from __future__ import annotations

import numpy as np
import pytest

from studio.history import events as ev
from studio.history.store import HistoryStore


def tiny_clip(folder):
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    config = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                              image_size=32, patch_size=8, projection_dim=16)
    CLIPVisionModelWithProjection(config).save_pretrained(folder)
    return folder


def history(path, rng, generations=40, batch=4, feedback=True):
    """Returns, per generation event id, the indices the designer keeps (given as feedback when `feedback`)."""
    kept = {}
    with HistoryStore.create(path) as store:
        for g in range(generations):
            request = {"prompt": f"a scene {g}", "negative_prompt": "", "width": 32, "height": 32, "steps": 4,
                       "guidance_scale": 7.0, "seed": g * 10, "scheduler": "unipc", "batch_size": batch,
                       "controls": []}
            light = rng.uniform(0, 1, batch)
            images = [np.clip(rng.integers(0, 60, (32, 32, 3)) + 190 * b, 0, 255).astype(np.uint8) for b in light]
            event = store.append(ev.generation_event(request=request, control_images=[], results=images,
                                                     seed=g * 10, models={}, timings={})).result().event
            kept[event] = {int(i) for i in range(batch) if light[i] >= np.median(light)}
            for i in np.argsort(light) if feedback else []:
                store.feedback(event, result=int(i), verdict="accept" if light[i] >= np.median(light) else "reject")
            store.flush()
    return kept
