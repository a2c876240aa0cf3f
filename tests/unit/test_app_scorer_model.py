"""The window's scorer model (Qt-free): keep probabilities for gallery entries, sorting and badges, the prediction
log, and the agreement line once the designer chooses; off with a clear message when the encoder is missing."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from scorer_fixtures import history, tiny_clip

from studio.app.gallery_store import load_gallery
from studio.app.scorer_model import NO_CHOICES, OFF, ScorerModel, load_scorer, result_hashes
from studio.cli import main
from studio.history.store import HistoryStore
from studio.scorer.predictions import PredictionLog


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(scorer folder, encoder folder), trained once; tests that log predictions copy the folder first."""
    return _trained(tmp_path_factory.mktemp("trained"))


def _copy(trained, tmp_path):
    folder, clip = trained
    shutil.copytree(folder, tmp_path / "scorer", ignore=shutil.ignore_patterns("predictions.jsonl"))
    return tmp_path / "scorer", clip


def _trained(tmp_path):
    clip = tiny_clip(tmp_path / "clip")
    history(tmp_path / "past.studio", np.random.default_rng(1), generations=30)
    assert main(["scorer", "train", str(tmp_path / "past.studio"), "--encoder", str(clip), "--out",
                 str(tmp_path / "scorer"), "--folds", "2"]) == 0
    return tmp_path / "scorer", clip


def test_gallery_predictions_are_logged_and_measured_by_later_choices(tmp_path, trained):
    folder, _ = _copy(trained, tmp_path)
    document = tmp_path / "new.studio"
    kept = history(document, np.random.default_rng(7), generations=5, feedback=False)
    with HistoryStore.open(document, readonly=True) as store:
        entries = load_gallery(store)
    assert len(entries) == 20

    model = ScorerModel()
    assert not model.available and model.message == OFF and model.predict(entries, document) == {}
    seen = []
    model.predicted.connect(seen.append)
    assert model.choose(folder)
    probabilities = model.predict(entries, document)
    model.apply(probabilities)
    assert seen == [probabilities] and set(probabilities) == {e.entry_id for e in entries}
    assert all(0.0 <= p <= 1.0 for p in probabilities.values())
    ordered = model.ordered(entries)
    assert [probabilities[e.entry_id] for e in ordered] == sorted(probabilities.values(), reverse=True)
    assert model.badge(ordered[0]) == f"keep {round(100 * probabilities[ordered[0].entry_id])}%"
    assert len(PredictionLog(folder).read()) == 20
    model.predict(entries, document)  # already predicted: nothing new is logged
    assert len(PredictionLog(folder).read()) == 20
    assert model.agreement_line(document) == "The scorer has not predicted any of your choices yet."

    with HistoryStore.open(document) as store:  # the designer chooses after seeing the predictions
        for generation, keep in kept.items():
            for i in range(4):
                store.feedback(generation, result=i, verdict="accept" if i in keep else "reject")
        store.flush()
    right = sum((probabilities[e.entry_id] >= 0.5) == (e.index_in_batch in kept[e.history_id]) for e in entries)
    assert model.agreement_line(document, last=100) == f"scorer agreed with {right} of your last 20 choices"
    assert right >= 15  # it learned "brighter is kept" on the past document
    assert model.agreement_line(document, last=8).endswith("of your last 8 choices")


def test_missing_encoder_turns_the_feature_off_with_a_message(tmp_path):
    folder, clip = _trained(tmp_path)  # its own encoder: this test removes it
    shutil.rmtree(clip)
    model = ScorerModel()
    assert not model.choose(folder)
    assert "stays off" in model.message and model.predict([], None) == {}
    assert not model.choose(tmp_path / "not-a-scorer")
    assert "is not a scorer folder" in model.message
    assert model.agreement_line(tmp_path / "x.studio") == model.message


def test_the_window_path_names_images_by_hash_so_the_log_survives_save_as(tmp_path, trained):
    """The window's way: load off the GUI thread, `use` on it, hashes from the history, a short `limit` per job,
    entries whose history id arrives later logged then; the agreement read through the open store, also after
    the document was saved under another name."""
    folder, _ = _copy(trained, tmp_path)
    document = tmp_path / "first.studio"
    kept = history(document, np.random.default_rng(8), generations=3, feedback=False)
    with HistoryStore.open(document, readonly=True) as store:
        entries = load_gallery(store)
        hashes = result_hashes(store, entries)
    late = entries[-4:]  # the newest generation: its history id has not arrived yet
    late_ids = [e.history_id for e in late]
    for entry in late:
        entry.history_id = None

    loaded = load_scorer(folder)  # a job-thread call: the model is unchanged until `use`
    model = ScorerModel()
    events = []
    model.changed.connect(lambda: events.append("changed"))
    assert model.message == OFF and not events
    assert model.use(loaded) and events == ["changed"]

    first = model.predict(entries, document, hashes, limit=5)
    assert len(first) == 5 and set(first) == {e.entry_id for e in entries[:5]}
    assert model.probabilities == {}  # nothing the views read changes off the GUI thread
    model.apply(first)
    rest = model.predict(entries, document, hashes)
    model.apply(rest)
    assert model.unpredicted(entries) == []
    logged = PredictionLog(folder).read()
    assert sorted(p.image for p in logged) == sorted(hashes[e.entry_id] for e in entries[:-4])

    for entry, history_id in zip(late, late_ids):  # the log is written: the next call logs them, nothing new embeds
        entry.history_id = history_id
    assert model.predict(entries, document, {}) == {}  # hashes not read yet for them: still not logged
    assert len(PredictionLog(folder).read()) == 8
    with HistoryStore.open(document, readonly=True) as store:
        assert model.predict(entries, document, result_hashes(store, entries)) == {}
    logged = PredictionLog(folder).read()
    assert sorted(p.image for p in logged) == sorted(hashes.values()) and len(logged) == 12

    saved = tmp_path / "renamed.studio"  # Save As: another name, the same images
    shutil.copy(document, saved)
    with HistoryStore.open(saved) as store:
        assert model.agreement_line(store) == NO_CHOICES
        for generation, keep in kept.items():
            for i in range(4):
                store.feedback(generation, result=i, verdict="accept" if i in keep else "reject")
        store.flush()
        p = model.probabilities
        right = sum((p[e.entry_id] >= 0.5) == (e.index_in_batch in kept[e.history_id]) for e in entries)
        assert model.agreement_line(store) == f"scorer agreed with {right} of your last 12 choices"


def test_an_unreadable_scorer_folder_is_off_with_a_message_and_raises_nothing(tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "scorer.json").write_text("{not json", encoding="utf-8")
    for folder in (tmp_path / "broken", tmp_path / "missing", None):
        loaded = load_scorer(folder)
        assert loaded.scorer is None and loaded.message
    assert load_scorer(None).message == OFF
