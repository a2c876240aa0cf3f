"""The window's scorer model (Qt-free): keep probabilities for gallery entries, sorting and badges, the prediction
log, and the agreement line once the designer chooses; off with a clear message when the encoder is missing."""

from __future__ import annotations

import shutil

import numpy as np
from scorer_fixtures import history, tiny_clip

from studio.app.gallery_store import load_gallery
from studio.app.scorer_model import OFF, ScorerModel
from studio.cli import main
from studio.history.store import HistoryStore
from studio.scorer.predictions import PredictionLog


def _trained(tmp_path):
    clip = tiny_clip(tmp_path / "clip")
    history(tmp_path / "past.studio", np.random.default_rng(1), generations=30)
    assert main(["scorer", "train", str(tmp_path / "past.studio"), "--encoder", str(clip), "--out",
                 str(tmp_path / "scorer"), "--folds", "2"]) == 0
    return tmp_path / "scorer", clip


def test_gallery_predictions_are_logged_and_measured_by_later_choices(tmp_path):
    folder, _ = _trained(tmp_path)
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
    folder, clip = _trained(tmp_path)
    shutil.rmtree(clip)
    model = ScorerModel()
    assert not model.choose(folder)
    assert "stays off" in model.message and model.predict([], None) == {}
    assert not model.choose(tmp_path / "not-a-scorer")
    assert "is not a scorer folder" in model.message
    assert model.agreement_line(tmp_path / "x.studio") == model.message
