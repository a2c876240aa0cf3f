"""The log of the scorer's predictions, so that the designer's later choices measure it.

Each prediction is one JSON line in the scorer folder's `predictions.jsonl`: when, which scorer, which document,
generation and result index, the image's sha256 (its identity, kept through export and import) and the keep
probability. Appends are single lines, so a crash loses at most the line being written; unreadable lines are
skipped when reading.

A choice is an image's own feedback that says keep or drop (accepted/rejected, or 4-5 / 1-2 stars). The scorer
agreed with it when its last prediction for that image, made before the choice, was >= 0.5 for a kept image and
< 0.5 for a dropped one.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from studio.history.results import result_images
from studio.history.store import HistoryStore

LOG = "predictions.jsonl"


@dataclass(frozen=True)
class Prediction:
    time: float
    scorer: str
    document: str
    generation: int
    result: int
    image: str  # sha256 of the result's PNG; "" when the window predicted it (then document, generation, result)
    probability: float


@dataclass(frozen=True)
class Agreement:
    agreed: int
    choices: int  # the last `choices` choices that had a prediction before them

    def __str__(self) -> str:
        return f"scorer agreed with {self.agreed} of your last {self.choices} choices"


class PredictionLog:
    def __init__(self, path: str | os.PathLike) -> None:
        path = Path(path)
        self.path = path / LOG if path.is_dir() else path

    def record(self, predictions: Iterable[Prediction]) -> None:
        lines = "".join(json.dumps(p.__dict__, sort_keys=True) + "\n" for p in predictions)
        if lines:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(lines)
                handle.flush()

    def read(self) -> list[Prediction]:
        if not self.path.exists():
            return []
        found = []
        with open(self.path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    found.append(Prediction(**json.loads(line)))
                except (json.JSONDecodeError, TypeError):
                    continue  # a line cut by a crash, or not ours
        return found


def predictions_for(scorer: str, document: str | os.PathLike, images: Iterable[tuple[int, int, str]],
                    probabilities: Iterable[float], *, when: float | None = None) -> list[Prediction]:
    """Prediction records for (generation, result index, sha256) triples."""
    when = time.time() if when is None else when
    return [Prediction(when, scorer, Path(document).name, g, r, h, float(p))
            for (g, r, h), p in zip(images, probabilities)]


def agreement(document: str | os.PathLike, log: PredictionLog, *, last: int = 20,
              scorer: str | None = None) -> Agreement:
    """How many of the designer's last `last` choices in `document` the scorer had predicted."""
    by_image: dict[object, list[Prediction]] = {}  # by sha256, or (generation, index) for this document
    name = Path(document).name
    for prediction in log.read():
        if scorer is None or prediction.scorer == scorer:
            if prediction.image:
                by_image.setdefault(prediction.image, []).append(prediction)
            elif prediction.document == name:
                by_image.setdefault((prediction.generation, prediction.result), []).append(prediction)
    choices: list[tuple[float, bool]] = []
    with HistoryStore.open(document, readonly=True) as store, store.read_transaction() as conn:
        for image in result_images(conn):
            kept = image.kept
            if kept is None:
                continue
            chosen_at = next((f.time for f in reversed(image.feedback)
                              if f.verdict is not None or f.rating is not None), None)
            made = by_image.get(image.image_hash, []) + by_image.get((image.generation, image.index), [])
            before = sorted((p for p in made if p.time <= chosen_at), key=lambda p: p.time)
            if before:
                choices.append((chosen_at, (before[-1].probability >= 0.5) == kept))
    recent = sorted(choices)[-last:] if last > 0 else []
    return Agreement(sum(ok for _, ok in recent), len(recent))
