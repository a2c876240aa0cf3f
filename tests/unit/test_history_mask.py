"""The inpaint mask in the history store: snapshots keep it, mask strokes and property changes replay (also in
files from before the mask, which have no mask layer), and an inpaint's mask is logged with its generation."""

from __future__ import annotations

import numpy as np
import pytest

from studio.document import Document
from studio.document.events import PIXELS, PROPERTY, ChangeEvent
from studio.engine.request import GenerationRequest
from studio.history.errors import HistoryError
from studio.history import events as ev
from studio.history.record import change_event, document_at, record_generation, request_from_generation, \
    snapshot_document
from studio.history.store import HistoryStore

def test_a_snapshot_keeps_the_mask_and_strokes_on_it_replay(tmp_path):
    doc = Document(64, 48)
    doc.mask.stroke([(10, 10), (30, 30)], width=8)
    with HistoryStore.open(tmp_path / "a.studio", create=True) as store:
        snapshot_document(store, doc).result()
        assert np.array_equal(document_at(store).mask.data, doc.mask.data)
        doc.mask.stroke([(50, 5), (60, 40)], width=6)
        store.append(change_event(doc, ChangeEvent("mask", PIXELS, (44, 0, 64, 48)))).result()
        doc.mask.visible = False
        store.append(change_event(doc, ChangeEvent("mask", PROPERTY, None, "visible"))).result()
        again = document_at(store)
    assert np.array_equal(again.mask.data, doc.mask.data) and not again.mask.visible


def test_a_document_from_before_the_mask_opens_and_takes_a_mask(tmp_path):
    path = tmp_path / "old.studio"
    doc = Document(40, 30)
    doc.edge.stroke([(2, 2), (30, 20)], width=3)
    with HistoryStore.open(path, create=True) as store:  # an unmasked document is logged as before the mask:
        snapshot_document(store, doc).result()
        snapshot = store.events(kinds=["snapshot"])[-1].payload["state"]
        assert [layer["name"] for layer in snapshot["layers"]] == ["reference", "edge", "depth", "pose"]
    with HistoryStore.open(path) as store:
        old = document_at(store)
        assert old.mask.is_empty and "mask" not in store.state_at().layers
        old.mask.stroke([(5, 5), (20, 20)], width=6)
        store.append(change_event(old, ChangeEvent("mask", PIXELS, None))).result()
        old.mask.opacity = 0.5
        store.append(change_event(old, ChangeEvent("mask", PROPERTY, None, "opacity"))).result()
    with HistoryStore.open(path) as store:
        again = document_at(store)
    assert np.array_equal(again.mask.data, old.mask.data) and again.mask.opacity == 0.5
    assert np.array_equal(again.edge.data, doc.edge.data)


def test_a_bad_mask_stroke_is_refused_and_changes_nothing(tmp_path):
    with HistoryStore.open(tmp_path / "b.studio", create=True) as store:
        snapshot_document(store, Document(32, 32)).result()
        with pytest.raises(HistoryError, match="outside"):
            store.append(ev.stroke_event("mask", x=30, y=30, patch=np.full((8, 8), 255, np.uint8))).result()
        assert "mask" not in store.state_at().layers
        with pytest.raises(HistoryError, match="8-bit grey"):
            store.append(ev.stroke_event("mask", x=0, y=0, patch=np.full((8, 8), 999, np.uint16))).result()
        with pytest.raises(HistoryError, match="does not exist"):
            store.append(ev.layer_event("mask", {"removed": True})).result()
        assert "mask" not in store.state_at().layers
        assert document_at(store).mask.is_empty  # the document still opens


def test_document_files_with_and_without_a_mask():
    import json

    from studio.document.errors import DocumentFormatError
    from studio.document.serialize import document_from_files, document_to_files

    plain = document_to_files(Document(32, 32))
    assert "mask" not in json.loads(plain["document.json"])["layers"]  # as documents were before the mask
    assert document_from_files(plain).mask.is_empty
    doc = Document(32, 32)
    doc.mask.fill_all()
    doc.mask.locked = True
    files = document_to_files(doc)
    again = document_from_files(files)
    assert again.mask.data.min() == 255 and again.mask.locked
    meta = json.loads(files["document.json"])
    meta["layers"]["mask"] = "hidden"
    with pytest.raises(DocumentFormatError, match="mask layer"):
        document_from_files({**files, "document.json": json.dumps(meta).encode()})
    meta["layers"]["mask"] = {"opacity": 7}
    with pytest.raises(DocumentFormatError, match="mask layer"):
        document_from_files({**files, "document.json": json.dumps(meta).encode()})
    grey16 = {**files, "mask.png": document_to_files(doc)["depth.png"]}
    with pytest.raises(DocumentFormatError, match="8-bit grey"):
        document_from_files(grey16)


def test_an_inpaint_generation_is_logged_with_its_mask_and_comes_back(tmp_path):
    from PIL import Image

    from studio.engine.pipeline import GenerationResult

    picture = np.random.default_rng(2).integers(0, 256, (64, 64, 3)).astype(np.uint8)
    mask = np.zeros((64, 64, 3), np.uint8)
    mask[10:30, 10:30] = 255
    request = GenerationRequest(prompt="a cat", width=64, height=64, steps=2, seed=1, init_image=picture, mask=mask)
    result = GenerationResult(request=request, images=[Image.fromarray(picture)], seed=1, seeds=[1], cancelled=False,
                              timings={"total": 0.1}, models=[], device="cpu", family="sd15")
    with HistoryStore.open(tmp_path / "c.studio", create=True) as store:
        snapshot_document(store, Document(64, 64)).result()
        generation = record_generation(store, request, result=result).result().event
        back = request_from_generation(store, generation)
    assert back.is_inpaint and np.array_equal(back.mask, mask) and np.array_equal(back.init_image, picture)
