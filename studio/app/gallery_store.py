"""The gallery of a document rebuilt from its history: every logged generation's images, with their requests.

Runs on the history thread (it reads the store). A generation's images are in the file already (the history
panel shows them), so nothing else needs saving: opening or recovering a document shows its results again.
The model name comes from the `model` setting (or snapshot settings) in force when the generation was logged; ratings from the latest
accept/reject feedback on each image.
"""

from __future__ import annotations

import dataclasses

from studio.app.gallery import GalleryEntry
from studio.errors import StudioError
from studio.history import events as ev
from studio.history.setting_groups import payload_fields
from studio.history.record import request_from_generation
from studio.history.store import HistoryStore

GALLERY_LIMIT = 120  # newest images brought back (each is a full-size array in memory)
VERDICT_RATINGS = {"accept": "starred", "reject": "rejected"}


def load_gallery(store: HistoryStore, *, limit: int = GALLERY_LIMIT) -> list[GalleryEntry]:
    """The results of the generations logged in `store`, oldest first, the newest `limit` of them. A generation
    whose images cannot be read is left out (the rest still come back)."""
    models = _model_settings(store)
    entries: list[GalleryEntry] = []
    for generation in reversed(store.generations()):
        if len(entries) >= limit:
            break
        payload = generation.payload
        if payload.get("status") == "failed" or not payload.get("results"):
            continue
        try:
            request = request_from_generation(store, generation.id)
            images = [store.image(hash_) for hash_ in payload["results"]]
        except (StudioError, KeyError, ValueError, TypeError):  # a damaged record: the others still come back
            continue
        model = next((value for event_id, value in reversed(models) if event_id < generation.id), None)
        first_seed = payload.get("seed") if payload.get("seed") is not None else request.seed
        recorded = payload.get("models") or {}
        batch = []
        for index, image in enumerate(images):
            seed = None if first_seed is None else int(first_seed) + index
            batch.append(GalleryEntry(
                image=image[:, :, :3] if image.ndim == 3 else image,
                request=dataclasses.replace(request, seed=seed, batch_size=1),
                model=model if isinstance(model, str) else None,
                models=list(recorded.get("models") or []),
                index_in_batch=index,
                rating=_rating(generation, index),
                timings=dict(payload.get("timings") or {}),
                history_id=generation.id,
            ))
        entries[:0] = batch[-(limit - len(entries)):]
    return entries


def _model_settings(store: HistoryStore) -> list[tuple[int, object]]:
    """(event id, model name) of every event that set the model: a snapshot's settings or a `model` setting."""
    found = []
    for event in store.events(kinds=[ev.SNAPSHOT, ev.SETTING]):
        payload = event.payload
        if event.kind == ev.SETTING and "model" in payload_fields(payload):
            found.append((event.id, payload_fields(payload)["model"]))
        elif event.kind == ev.SNAPSHOT and isinstance(payload.get("state"), dict):
            settings = payload["state"].get("settings")
            if isinstance(settings, dict) and "model" in settings:
                found.append((event.id, settings["model"]))
    return found


def _rating(generation, index: int) -> str | None:
    """The latest accept/reject verdict on image `index` (or on the whole generation)."""
    for feedback in reversed(generation.feedback):
        if feedback.verdict is not None and feedback.result in (None, index):
            return VERDICT_RATINGS.get(feedback.verdict)
    return None
