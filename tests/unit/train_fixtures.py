"""Shared fixtures for the training tests: a document whose accepted results form a small, memorisable
training set (a few flat-coloured images with a stripe control map each), and its controlnet export."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from studio.history import events as ev
from studio.history.presets import export_preset
from studio.history.store import HistoryStore

PROMPTS = ("a red house", "a blue sky", "a red tree", "a blue city")
COLOURS = ((220, 40, 30), (30, 60, 220), (200, 60, 40), (40, 80, 200))


def stripes(size: int, position: int) -> np.ndarray:
    image = np.zeros((size, size, 3), np.uint8)
    image[:, position:position + 6] = 255
    return image


def make_document(path: Path, *, size: int = 64, rejected: bool = True, kinds: tuple[str, ...] = ("edge",)) -> Path:
    """One generation per prompt, its image accepted (plus one rejected image that must not be trained on), with
    a stripe control map of each of `kinds`."""
    with HistoryStore.create(path) as store:
        for index, (prompt, colour) in enumerate(zip(PROMPTS, COLOURS)):
            request = {"prompt": prompt, "negative_prompt": "", "width": size, "height": size, "steps": 4,
                       "guidance_scale": 7.0, "seed": index, "scheduler": "unipc", "batch_size": 2,
                       "controls": [{"kind": kind, "image": None, "weight": 1.0, "start": 0.0, "end": 1.0,
                                     "mode": "balanced"} for kind in kinds]}
            liked = np.zeros((size, size, 3), np.uint8)
            liked[:] = colour
            liked[:, 8 + 12 * index:14 + 12 * index] = 255  # the stripe of the control map, drawn in
            noise = np.random.default_rng(index).integers(0, 256, (size, size, 3), dtype=np.uint8)
            appended = store.append(ev.generation_event(
                request=request, control_images=[stripes(size, 8 + 12 * index) for _ in kinds], results=[liked, noise], seed=index,
                models={}, timings={})).result()
            store.feedback(appended.event, result=0, verdict="accept").result()
            if rejected:
                store.feedback(appended.event, result=1, verdict="reject").result()
    return path


def make_export(folder: Path, *, kind: str = "edge") -> tuple[Path, Path]:
    """(document, export folder) in `folder`."""
    document = make_document(folder / "designs.studio")
    out = folder / "export"
    export_preset([document], out, format="controlnet", kind=kind)
    return document, out
