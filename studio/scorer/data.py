"""What the scorer learns from: the result images of documents, embedded, with their labels and preference pairs.

An image's pointwise target is 1 when accepted and 0 when rejected; with no verdict, its rating maps 1-5 stars
to 0, 0.25, ..., 1. Pairs are those of `studio.history.pairs` (images of one request where the designer preferred
one), kept apart per document.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from studio.history.pairs import preference_pairs, request_key
from studio.history.reads import read_blob
from studio.history.results import ResultImage, result_images
from studio.history.store import HistoryStore
from studio.scorer.encoder import ClipEncoder


@dataclass(frozen=True)
class Item:
    """One embedded result image."""

    document: str
    generation: int
    index: int
    image_hash: str
    time: float
    prompt: str
    seed: int | None
    verdict: str | None
    rating: int | None
    target: float | None
    group: str

    @property
    def newness(self) -> tuple[float, int, int]:
        """Later generations are newer; within a batch, the later image."""
        return self.time, self.generation, self.index


@dataclass
class Data:
    items: list[Item]
    features: np.ndarray  # float32 [len(items), dim]
    pairs: np.ndarray  # int64 [P, 2]: (preferred, other) item indices

    @property
    def targets(self) -> np.ndarray:
        return np.array([np.nan if i.target is None else i.target for i in self.items], np.float32)


def target(image: ResultImage) -> float | None:
    if image.verdict is not None:
        return 1.0 if image.verdict == "accept" else 0.0
    if image.rating is not None:
        return (image.rating - 1) / 4.0
    return None


def _item(document: Path, image: ResultImage) -> Item:
    return Item(document.name, image.generation, image.index, image.image_hash, image.time, image.prompt,
                image.seed, image.verdict, image.rating, target(image), f"{document}:{request_key(image)}")


def load(documents: Iterable[str | os.PathLike], encoder: ClipEncoder, *, labelled_only: bool = True) -> Data:
    """Embed the images of `documents`: those with a label or in a pair (`labelled_only`), or all of them."""
    items: list[Item] = []
    features: list[np.ndarray] = []
    pairs: list[tuple[int, int]] = []
    for document in map(Path, documents):
        with HistoryStore.open(document, readonly=True) as store, store.read_transaction() as conn:
            images = [image for image in result_images(conn) if image.payload["status"] == "ok"]
            doc_pairs = preference_pairs(images)
            paired = {id(p.better) for p in doc_pairs} | {id(p.worse) for p in doc_pairs}
            chosen = [im for im in images if not labelled_only or target(im) is not None or id(im) in paired]
            position = {id(image): len(items) + n for n, image in enumerate(chosen)}
            items += [_item(document, image) for image in chosen]
            pairs += [(position[id(p.better)], position[id(p.worse)]) for p in doc_pairs]
            for start in range(0, len(chosen), 64):
                batch = chosen[start:start + 64]
                features.append(encoder.embed([read_blob(conn, im.image_hash) for im in batch],
                                              [im.prompt for im in batch]))
    matrix = np.concatenate(features) if features else np.zeros((0, encoder.info.dim), np.float32)
    return Data(items, matrix.astype(np.float32), np.array(pairs, np.int64).reshape(-1, 2))
