"""The gallery model and its rebuild from a document's history (what brings results back on reopen)."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from PIL import Image

from studio.app.document_storage import create_document, open_document
from studio.app.gallery import Gallery, GalleryEntry
from studio.app.gallery_store import load_gallery
from studio.document import Document
from studio.engine.pipeline import GenerationResult
from studio.engine.request import ControlInput, GenerationRequest
from studio.history import events as ev
from studio.history.record import record_generation
from studio.history.store import HistoryStore


def _request(prompt: str = "a lighthouse", seed: int | None = 5) -> GenerationRequest:
    edge = np.zeros((64, 64), np.uint8)
    edge[10:20] = 255
    return GenerationRequest(prompt=prompt, width=64, height=64, steps=2, seed=seed, batch_size=2,
                             controls=[ControlInput(kind="edge", image=edge, weight=0.7)])


def _result(request: GenerationRequest, values=(60, 180), *, seed: int = 5) -> GenerationResult:
    images = [Image.fromarray(np.full((64, 64, 3), value, np.uint8)) for value in values]
    return GenerationResult(request=request, images=images, seed=seed, seeds=[seed + i for i in range(len(values))],
                            cancelled=False, timings={"total": 0.5},
                            models=[{"role": "base", "name": "tiny"}], device="cpu float32", family="sd15")


def _entry(value: int = 0) -> GalleryEntry:
    return GalleryEntry(image=np.full((8, 8, 3), value, np.uint8), request=_request(), model="m")


def test_gallery_events_follow_adds_ratings_history_ids_and_resets():
    gallery = Gallery()
    seen = {name: [] for name in ("added", "changed", "rated", "history_attached", "reset")}
    for name, calls in seen.items():
        getattr(gallery, name).connect(calls.append)
    first, second = _entry(1), _entry(2)
    gallery.add([first, second])
    gallery.add([])  # nothing new: no event
    assert seen["added"] == [[first, second]] and len(gallery) == 2
    gallery.set_rating(first, "starred")
    gallery.set_rating(first, "starred")  # the same rating twice clears it
    assert first.rating is None and seen["rated"] == [first, first]
    with pytest.raises(ValueError, match="Unknown rating"):
        gallery.set_rating(first, "great")
    gallery.attach_history_id([first, second], None)  # could not be logged: nothing changes
    assert seen["history_attached"] == [] and first.history_id is None
    gallery.attach_history_id([first, second], 42)
    assert first.history_id == second.history_id == 42 and seen["history_attached"] == [[first, second]]
    assert gallery.find(second.entry_id) is second and gallery.find(-1) is None
    gallery.replace([])
    assert list(gallery) == [] and seen["reset"] == [[]]


def test_load_gallery_rebuilds_results_with_seeds_models_and_ratings(tmp_path):
    with HistoryStore.create(tmp_path / "doc.studio") as store:
        store.append(ev.setting_event("model", "tiny")).result()
        request = _request()
        first = record_generation(store, request, result=_result(request)).result().event
        store.append(ev.setting_event("model", "other")).result()
        record_generation(store, request, error=RuntimeError("out of memory")).result()  # no images: left out
        later = _request("a boat", seed=None)
        second = record_generation(store, later, result=_result(later, (90,), seed=77)).result().event
        store.feedback(first, verdict="accept", result=1).result()
        store.feedback(second, verdict="reject").result()
        store.flush()
        entries = load_gallery(store)
    assert [(e.history_id, e.index_in_batch) for e in entries] == [(first, 0), (first, 1), (second, 0)]
    assert [e.request.seed for e in entries] == [5, 6, 77]
    assert [e.model for e in entries] == ["tiny", "tiny", "other"]
    assert [e.rating for e in entries] == [None, "starred", "rejected"]
    assert entries[1].image.shape == (64, 64, 3) and int(entries[1].image[0, 0, 0]) == 180
    assert entries[0].request.batch_size == 1 and entries[0].request.controls[0].weight == 0.7
    assert np.array_equal(entries[0].request.controls[0].image[..., 0] if entries[0].request.controls[0].image.ndim
                          == 3 else entries[0].request.controls[0].image, request.controls[0].image)
    assert entries[2].models == [{"role": "base", "name": "tiny"}] and entries[2].timings == {"total": 0.5}


def test_load_gallery_keeps_the_newest_results_within_the_limit(tmp_path):
    with HistoryStore.create(tmp_path / "doc.studio") as store:
        request = _request()
        ids = [record_generation(store, request, result=_result(request, (i, i + 1))).result().event
               for i in range(3)]
        store.flush()
        entries = load_gallery(store, limit=3)
    assert [(e.history_id, e.index_in_batch) for e in entries] == [(ids[1], 1), (ids[2], 0), (ids[2], 1)]


def test_a_damaged_result_image_leaves_that_generation_out_and_keeps_the_others(tmp_path):
    path = tmp_path / "doc.studio"
    with HistoryStore.create(path) as store:
        request = _request()
        broken = record_generation(store, request, result=_result(request, (10, 20))).result().event
        kept = record_generation(store, request, result=_result(request, (30, 40))).result().event
        store.flush()
        damaged = store.generation(broken).results[0]
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE blobs SET data = ? WHERE hash = ?", (b"not a png", damaged))
    with HistoryStore.open(path) as store:
        entries = load_gallery(store)
    assert {e.history_id for e in entries} == {kept}


def test_opening_a_document_reads_its_gallery(tmp_path):
    path = tmp_path / "doc.studio"
    store = create_document(path, Document(64, 64), settings={"model": "tiny"})
    request = _request()
    record_generation(store, request, result=_result(request)).result()
    store.close()
    store, read = open_document(path)
    try:
        assert read.gallery is not None and [e.model for e in read.gallery] == ["tiny", "tiny"]
    finally:
        store.close()
