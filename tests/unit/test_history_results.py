"""Per-image records of a history: feedback that names one image labels only that image, the per-image seed, and
the implicit signals (used as reference, refined, re-run, time to feedback)."""

from __future__ import annotations

import numpy as np

from studio.history import events as ev
from studio.history.results import result_images
from studio.history.store import HistoryStore

REQUEST = {"prompt": "a lighthouse", "negative_prompt": "", "width": 32, "height": 32, "steps": 4,
           "guidance_scale": 7.0, "seed": 40, "scheduler": "unipc", "batch_size": 2,
           "controls": [{"kind": "edge", "image": None, "weight": 1.0, "start": 0.0, "end": 1.0, "mode": "balanced"}]}


def _generate(store, request, results, *, seed, init=None):
    edge = np.full((32, 32, 3), 7, np.uint8)
    return store.append(ev.generation_event(request=request, control_images=[edge], results=results, seed=seed,
                                            models={}, timings={}, init_image=init)).result().event


def test_labels_seeds_and_signals_are_per_image(tmp_path):
    rng = np.random.default_rng(3)
    images = [rng.integers(0, 256, (32, 32, 3), dtype=np.uint8) for _ in range(2)]
    with HistoryStore.create(tmp_path / "d.studio") as store:
        store.append(ev.snapshot_event(width=32, height=32, layers=[
            ev.LayerContent("reference", "reference", {}, None)]))
        batch = _generate(store, REQUEST, images, seed=40)
        store.feedback(batch, verdict="accept", rating=5, result=0).result()
        store.feedback(batch, verdict="reject", rating=1, comment="too dark", result=1).result()
        store.feedback(batch, comment="nice set").result()  # on the whole batch: copied onto neither image
        store.append(ev.reference_event("reference", images[0])).result()
        refine = _generate(store, {**REQUEST, "seed": None, "batch_size": 1}, [images[1][::-1].copy()], seed=9,
                           init=images[1])
        _generate(store, {**REQUEST, "seed": 41, "batch_size": 1}, [images[1]], seed=41)  # re-run of image 1
        _generate(store, {**REQUEST, "seed": None, "batch_size": 1}, [images[0][:, ::-1].copy()], seed=77)
        store.feedback(refine, verdict="accept").result()  # one image: generation feedback is its own
        with store.read_transaction() as conn:
            rows = result_images(conn)
    first, second, refined = rows[0], rows[1], rows[2]
    assert [(r.generation, r.index, r.seed) for r in rows[:2]] == [(batch, 0, 40), (batch, 1, 41)]
    assert (first.verdict, first.rating, first.comment, first.kept) == ("accept", 5, None, True)
    assert (second.verdict, second.rating, second.comment, second.kept) == ("reject", 1, "too dark", False)
    assert [f.comment for f in first.generation_feedback] == ["nice set"]
    assert first.used_as_reference and not second.used_as_reference
    assert (first.refined, second.refined) == (0, 1)
    assert (first.rerun, second.rerun) == (0, 1)  # the new-seed re-run names no image
    assert first.seconds_to_feedback is not None and 0 <= first.seconds_to_feedback < 60
    assert (refined.verdict, refined.kept, refined.seed) == ("accept", True, 9)
    assert rows[4].verdict is None and rows[4].kept is None and rows[4].seconds_to_feedback is None


def test_ratings_without_verdict_give_kept():
    from studio.history.reads import Feedback
    from studio.history.results import ResultImage

    image = ResultImage(1, 0, 1, 1, "main", 0.0, {"request": {}, "seed": 1}, "0" * 64)
    for rating, kept in ((5, True), (4, True), (3, None), (2, False), (1, False)):
        image.feedback = [Feedback(2, 1.0, 0, None, rating, None)]
        assert image.kept is kept
