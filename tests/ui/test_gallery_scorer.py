"""The taste scorer in the window: the folder kept in the settings is loaded at start, the Gallery shows each
result's keep probability as a badge and sorts "By scorer", predictions are logged by image, the History panel
counts how often the scorer agreed with the designer; without a usable scorer the order item is off and says why.

A tiny random CLIP and a scorer trained on a synthetic history where the brighter images are kept stand in for
real weights; the scripted engine makes results of known brightness."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from fake_engine import FakeEngineClient
from history_helpers import WAIT_MS, settle, store_of
from PIL import Image
from PySide6.QtCore import Qt

from studio.app.scorer_model import NO_CHOICES, OFF
from studio.engine.pipeline import GenerationResult
from studio.engine.settings import ModelEntry
from studio.scorer.predictions import PredictionLog
from ui.gallery.scorer_settings import ScorerFolderBox

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))  # the scorer test builders live with the unit tests
from scorer_fixtures import history, tiny_clip  # noqa: E402

LEVELS = (20, 235, 90, 180)  # grey levels of the scripted batch: the scorer learned "brighter is kept"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(scorer folder, encoder folder), trained once for this module."""
    from studio.cli import main

    root = tmp_path_factory.mktemp("scorer")
    clip = tiny_clip(root / "clip")
    history(root / "past.studio", np.random.default_rng(1), generations=30)
    assert main(["scorer", "train", str(root / "past.studio"), "--encoder", str(clip), "--out",
                 str(root / "scorer"), "--folds", "2"]) == 0
    return root / "scorer", clip


@pytest.fixture
def fake():
    return FakeEngineClient()


@pytest.fixture
def scorer_window(qtbot, make_window, app_paths, fake, tmp_path):
    from ui.dialogs.models_guide import add_model

    add_model(app_paths.model_settings, name="sketchy", entry=ModelEntry(base=str(tmp_path / "never-loaded")))

    def make():
        window = make_window(engine=fake)
        qtbot.waitUntil(lambda: window.scorer.loading is None, timeout=WAIT_MS)  # the scorer kept in the settings
        return window

    return make


def _bright_and_dark(request, model):
    rng = np.random.default_rng(3)
    images = [Image.fromarray(np.clip(rng.integers(0, 20, (64, 64, 3)) + level, 0, 255).astype(np.uint8))
              for level in LEVELS]
    seeds = [request.seed + i for i in range(len(images))]
    return GenerationResult(request=request, images=images, seed=request.seed, seeds=seeds, cancelled=False,
                            timings={"total": 0.01}, models=[{"role": "base", "name": model}], device="fake",
                            family="sd15")


def _generate(qtbot, window, fake):
    fake.script.append(_bright_and_dark)
    settings = window.generate_panel.settings()
    settings.width = settings.height = 64
    settings.steps, settings.seed, settings.batch_size, settings.prompt = 2, 5, len(LEVELS), "a scene"
    window.generate_panel.set_settings(settings)
    with qtbot.waitSignal(window.generation.finished, timeout=WAIT_MS) as finished:
        assert window.generation.generate()
    entries = finished.args[1]
    qtbot.waitUntil(lambda: all(e.history_id is not None for e in entries), timeout=WAIT_MS)
    return entries


def _scorer_item(panel):
    return panel.order_combo.model().item(panel.order_combo.findData("scorer"))


def test_the_chosen_scorer_badges_sorts_logs_and_counts_agreement(qtbot, scorer_window, fake, qsettings, trained,
                                                                 tmp_path):
    folder, _clip = trained
    qsettings.setValue("scorer/folder", str(folder))
    window = scorer_window()
    model, gallery = window.scorer.model, window.gallery_panel
    assert model.available and _scorer_item(gallery).isEnabled()
    assert gallery.scorer_label.text() == ""

    entries = _generate(qtbot, window, fake)
    qtbot.waitUntil(lambda: len(gallery.badges) == len(LEVELS), timeout=WAIT_MS)
    p = {e.entry_id: model.probability(e) for e in entries}
    for row in range(gallery.list.count()):
        item = gallery.list.item(row)
        entry = window.gallery.find(item.data(Qt.ItemDataRole.UserRole))
        assert item.text() == f"#{entry.entry_id} · keep {round(100 * p[entry.entry_id])}%"
        assert f"Scorer: keep {round(100 * p[entry.entry_id])}%" in item.toolTip()
    assert gallery.shown_entries() == list(reversed(entries))  # newest first until the designer picks the order

    gallery.order_combo.setCurrentIndex(gallery.order_combo.findData("scorer"))
    shown = gallery.shown_entries()
    assert [p[e.entry_id] for e in shown] == sorted(p.values(), reverse=True)
    assert [LEVELS[e.index_in_batch] for e in shown[:2]] == [235, 180]  # it learned "brighter is kept"
    if (shots := Path(__file__).parent / "_screens").is_dir():  # write it only where a developer asked for it
        window.resizeDocks([window.docks["gallery"]], [300], Qt.Orientation.Vertical)
        qtbot.wait(100)
        window.grab().save(str(shots / "window_scorer.png"))
        gallery.grab().save(str(shots / "gallery_scorer.png"))

    # Each prediction was logged once, naming the image by its hash in the history.
    settle(qtbot, window)
    window.runner.wait(WAIT_MS)
    qtbot.wait(50)
    logged = PredictionLog(folder).read()
    hashes = store_of(window).generation(entries[0].history_id).results
    assert sorted(x.image for x in logged) == sorted(hashes)
    assert {x.image: x.probability for x in logged} == {hashes[e.index_in_batch]: p[e.entry_id] for e in entries}
    label = window.history_panel.agreement_label
    qtbot.waitUntil(lambda: label.text() == NO_CHOICES, timeout=WAIT_MS)

    # The designer keeps the two brightest and rejects the others; the History panel counts the agreement.
    for entry in entries:
        gallery.select([entry])
        gallery.buttons["star" if LEVELS[entry.index_in_batch] > 128 else "reject"].click()
    settle(qtbot, window)
    right = sum((p[e.entry_id] >= 0.5) == (LEVELS[e.index_in_batch] > 128) for e in entries)
    qtbot.waitUntil(lambda: label.text() == f"scorer agreed with {right} of your last 4 choices", timeout=WAIT_MS)
    assert label.isVisible()
    if (shots := Path(__file__).parent / "_screens").is_dir():
        window.history_panel.grab().save(str(shots / "history_agreement.png"))

    # Turned off in the settings: the order goes back to newest first, badges go, the choice is remembered.
    window.scorer.choose("")
    assert gallery.order_combo.currentData() == "newest" and not _scorer_item(gallery).isEnabled()
    assert gallery.badges == {} and gallery.shown_entries() == list(reversed(entries))
    assert all("keep" not in gallery.list.item(r).text() for r in range(gallery.list.count()))
    assert window.app_settings.scorer_folder() is None and not label.isVisible()


def test_a_missing_encoder_or_a_wrong_folder_leaves_the_feature_off_with_the_reason(
        qtbot, scorer_window, fake, qsettings, trained, tmp_path):
    folder, clip = trained
    moved = tmp_path / "scorer-copy"
    shutil.copytree(folder, moved, ignore=shutil.ignore_patterns("predictions.jsonl"))  # the other test logged
    qsettings.setValue("scorer/folder", str(tmp_path / "not-a-scorer"))
    window = scorer_window()
    gallery = window.gallery_panel
    assert not window.scorer.model.available
    assert gallery.scorer_label.text() == "Scorer off" and "is not a scorer folder" in gallery.scorer_label.toolTip()
    assert not _scorer_item(gallery).isEnabled() and "is not a scorer folder" in _scorer_item(gallery).toolTip()

    # The encoder the scorer names is gone: the same, with the scorer's own sentence.
    hidden = clip.with_name("clip-away")
    clip.rename(hidden)
    try:
        window.scorer.choose(moved)
        window.runner.wait(WAIT_MS)
        qtbot.waitUntil(lambda: window.scorer.loading is None, timeout=WAIT_MS)
    finally:
        hidden.rename(clip)
    assert not window.scorer.model.available and "stays off" in window.scorer.model.message
    assert window.scorer.model.message in gallery.order_combo.toolTip()
    assert window.app_settings.scorer_folder() == moved  # kept: the scorer works again once the encoder is back

    entries = _generate(qtbot, window, fake)  # the gallery works as before, without badges
    settle(qtbot, window)
    window.runner.wait(WAIT_MS)
    assert len(entries) == len(LEVELS) and gallery.badges == {} and not PredictionLog(moved).read()
    gallery.order_combo.setCurrentIndex(gallery.order_combo.findData("scorer"))  # a script may still try
    assert gallery.shown_entries() == list(reversed(entries))
    assert window.history_panel.agreement_label.isHidden()


def test_the_scorer_folder_is_chosen_in_the_models_dialog_and_kept(qtbot, scorer_window, trained):
    folder, _clip = trained
    window = scorer_window()
    assert window.scorer.model.message == OFF
    dialog = window.show_models_guide()
    box = dialog.findChild(ScorerFolderBox)
    assert box.state_label.text() == OFF
    box.edit.setText(str(folder))
    box.use_button.click()
    window.runner.wait(WAIT_MS)
    qtbot.waitUntil(lambda: window.scorer.model.available, timeout=WAIT_MS)
    assert box.state_label.text().startswith("Scorer ") and window.app_settings.scorer_folder() == folder
    assert _scorer_item(window.gallery_panel).isEnabled()
    window.close()
    again = scorer_window()  # a new start loads it from the settings
    assert again.scorer.model.available and again.scorer.model.folder == folder


def test_an_opened_document_is_scored_in_chunks_and_every_result_logged_once(qtbot, scorer_window, qsettings,
                                                                               trained, tmp_path):
    from history_helpers import wait_future

    from studio.app import document_storage
    from studio.document import Document
    from studio.engine.request import GenerationRequest
    from studio.history.record import record_generation
    from ui.gallery.scorer import CHUNK

    folder, _clip = trained
    scorer = tmp_path / "scorer-copy"
    shutil.copytree(folder, scorer, ignore=shutil.ignore_patterns("predictions.jsonl"))
    qsettings.setValue("scorer/folder", str(scorer))
    path = tmp_path / "earlier.studio"  # 24 results: more than one chunk
    store = document_storage.create_document(path, Document(64, 64), settings={"model": "sketchy"})
    rng = np.random.default_rng(5)
    for g in range(6):
        request = GenerationRequest(prompt=f"scene {g}", width=64, height=64, steps=2, seed=g * 4, batch_size=4)
        images = [Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)) for _ in range(4)]
        record_generation(store, request, result=GenerationResult(
            request=request, images=images, seed=g * 4, seeds=[g * 4 + i for i in range(4)], cancelled=False,
            timings={"total": 1.0}, models=[], device="cpu float32", family="sd15")).result()
    store.close()
    window = scorer_window()
    chunks = []
    window.scorer.model.predicted.connect(lambda result: chunks.append(len(result)))
    wait_future(qtbot, window.files.open_path(path, confirm=False))
    gallery = window.gallery_panel
    qtbot.waitUntil(lambda: len(gallery.badges) == 24, timeout=WAIT_MS)
    assert chunks[0] == CHUNK and sum(chunks) == 24
    settle(qtbot, window)
    window.runner.wait(WAIT_MS)
    qtbot.wait(50)
    logged = PredictionLog(scorer).read()
    results = [h for g in store_of(window).generations() for h in g.results]
    assert len(logged) == 24 and sorted(p.image for p in logged) == sorted(results)
