"""The gallery belongs to the document: results come back when it is opened again or recovered."""

from __future__ import annotations

import numpy as np
from history_helpers import WAIT_MS, settle, wait_future
from PIL import Image
from PySide6.QtWidgets import QMessageBox

from studio.app import document_storage
from studio.document import Document
from studio.engine.pipeline import GenerationResult
from studio.engine.request import GenerationRequest
from studio.history.record import record_generation


def _generate(qtbot, window, *, batch: int = 2) -> list:
    window.document.edge.stroke([(50, 50), (400, 300)], width=8)
    settings = window.generate_panel.settings()
    settings.width = settings.height = 64
    settings.steps, settings.seed, settings.batch_size, settings.prompt = 2, 31, batch, "a kite"
    window.generate_panel.set_settings(settings)
    with qtbot.waitSignal(window.generation.finished, timeout=WAIT_MS * 3) as finished:
        assert window.generation.generate()
    entries = finished.args[1]
    qtbot.waitUntil(lambda: all(entry.history_id is not None for entry in entries), timeout=WAIT_MS)
    return entries


def test_results_and_ratings_come_back_when_the_document_is_reopened(qtbot, tiny_window, tmp_path):
    window = tiny_window
    made = _generate(qtbot, window)
    gallery = window.gallery_panel
    gallery.select([made[1]])
    gallery.buttons["star"].click()
    path = tmp_path / "kites.studio"
    wait_future(qtbot, window.files.save_to(path))
    window.new_document(128, 128)
    settle(qtbot, window)
    assert gallery.entries == [] and gallery.list.count() == 0  # a new document has no results
    wait_future(qtbot, window.files.open_path(path, confirm=False))
    settle(qtbot, window)
    back = gallery.entries
    assert gallery.list.count() == 2
    assert [e.image.tolist() for e in back] == [e.image.tolist() for e in made]
    assert [e.request.seed for e in back] == [31, 32] and [e.model for e in back] == ["tiny", "tiny"]
    assert [e.rating for e in back] == [None, "starred"]
    assert [e.history_id for e in back] == [e.history_id for e in made]
    # A reopened result is a normal one: re-running it remakes the same picture.
    gallery.select([back[0]])
    with qtbot.waitSignal(window.generation.finished, timeout=WAIT_MS * 3) as rerun:
        gallery.buttons["rerun"].click()
    assert np.array_equal(rerun.args[1][0].image, back[0].image)


def test_a_recovered_autosave_shows_its_results(qtbot, make_window, app_paths, monkeypatch):
    path = document_storage.new_autosave_path(app_paths.autosave_dir)
    store = document_storage.create_document(path, Document(96, 64), settings={"model": "gone"})
    request = GenerationRequest(prompt="lost work", width=64, height=64, steps=2, seed=3)
    images = [Image.fromarray(np.full((64, 64, 3), 120, np.uint8))]
    record_generation(store, request, result=GenerationResult(
        request=request, images=images, seed=3, seeds=[3], cancelled=False, timings={"total": 1.0}, models=[],
        device="cpu float32", family="sd15")).result()
    store.close()  # no lock file left: the app that wrote it is gone
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: QMessageBox.StandardButton.Open)
    window = make_window()
    qtbot.waitUntil(lambda: window.document.size == (96, 64), timeout=WAIT_MS)
    settle(qtbot, window)
    (entry,) = window.gallery_panel.entries
    assert entry.request.prompt == "lost work" and entry.model == "gone" and int(entry.image[0, 0, 0]) == 120
