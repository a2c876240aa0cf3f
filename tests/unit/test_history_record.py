"""Bridges to the document and engine types: snapshots, document changes, document_at, generations."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from studio.document.document import Document
from studio.document.events import ChangeEvent
from studio.document.raster import union_region
from studio.document.serialize import document_to_files
from studio.engine.pipeline import GenerationResult
from studio.engine.request import ControlInput, GenerationRequest
from studio.history.errors import HistoryError
from studio.history.record import (
    capture_change, change_event, document_at, log_generation_to_document, record_generation,
    request_from_generation, snapshot_document,
)
from studio.history.store import HistoryStore


class _Recorder:
    """Logs one history event per finished edit, the way the canvas hook is meant to: pixel changes of one
    layer are merged into a stroke when the stroke ends."""

    def __init__(self, store: HistoryStore, doc: Document) -> None:
        self.store, self.doc = store, doc
        self.pending: dict[str, tuple | None] = {}
        doc.subscribe(self.on_change)

    def on_change(self, change: ChangeEvent) -> None:
        if change.kind == "pixels" and change.layer in ("edge", "depth") and change.region is not None:
            self.pending[change.layer] = union_region(self.pending.get(change.layer), change.region)
        else:
            self.store.append(change_event(self.doc, change))

    def stroke_done(self, layer: str) -> None:
        region = self.pending.pop(layer)
        self.store.append(change_event(self.doc, ChangeEvent(layer, "pixels", region)))


def test_document_round_trips_through_the_history(tmp_path):
    doc = Document(96, 64)
    with HistoryStore.create(tmp_path / "doc.studio") as store:
        snapshot_document(store, doc, settings={"prompt": "a dancer"}).result()
        recorder = _Recorder(store, doc)
        doc.edge.stroke([(5, 5), (60, 40)])
        recorder.stroke_done("edge")
        store.flush()
        early_files, early_revision = document_to_files(doc), store.head().id
        doc.depth.stroke([(10, 50), (80, 10)])
        recorder.stroke_done("depth")
        doc.pose.add_template(_template_name())
        doc.reference.set_image(np.random.default_rng(1).integers(0, 256, (64, 96, 3), dtype=np.uint8))
        doc.edge.opacity = 0.25
        doc.edge.stroke([(90, 2), (2, 60)], erase=True)
        recorder.stroke_done("edge")
        store.flush()
        assert document_to_files(document_at(store)) == document_to_files(doc)
        assert document_to_files(document_at(store, early_revision)) == early_files
        assert store.state_at().settings == {"prompt": "a dancer"}
        kinds = [e.kind for e in store.events()]
        assert kinds == ["created", "snapshot", "stroke", "stroke", "pose", "reference", "layer", "stroke"]


def test_captured_change_is_detached_from_later_edits():
    """A capture taken at stroke end gives the same event after the document has changed again."""
    doc = Document(96, 64)
    doc.edge.stroke([(5, 5), (60, 40)])
    doc.depth.stroke([(10, 50), (80, 10)])
    doc.pose.add_template(_template_name())
    doc.reference.set_image(np.full((64, 96, 3), 7, np.uint8))
    changes = [ChangeEvent("edge", "pixels", (0, 0, 70, 50)), ChangeEvent("depth", "pixels", (0, 0, 96, 64)),
               ChangeEvent("pose", "pose"), ChangeEvent("reference", "pixels"),
               ChangeEvent("edge", "property", prop="opacity")]
    expected = [change_event(doc, change) for change in changes]
    captured = [capture_change(doc, change) for change in changes]
    doc.edge.clear()
    doc.depth.fill(0.9)
    doc.pose.clear()
    doc.reference.set_image(None)
    doc.edge.opacity = 0.5
    assert [c.to_event() for c in captured] == expected
    assert expected[1].payload["bbox"] == [0, 0, 96, 64]
    with pytest.raises(HistoryError, match="Unknown document change"):
        capture_change(doc, ChangeEvent("edge", "sparkle"))


def _template_name() -> str:
    from studio.document.pose_templates import template_names

    return template_names()[0]


def test_document_at_needs_a_recorded_document(tmp_path):
    with HistoryStore.create(tmp_path / "doc.studio") as store:
        with pytest.raises(HistoryError, match="No document was recorded"):
            document_at(store)


def _request() -> GenerationRequest:
    rng = np.random.default_rng(2)
    controls = [ControlInput(kind="edge", image=rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), weight=0.7),
                ControlInput(kind="depth", image=rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), end=0.6)]
    return GenerationRequest(prompt="a lighthouse", negative_prompt="blurry", width=64, height=64, steps=3,
                             seed=None, controls=controls)


def _result(request: GenerationRequest, *, cancelled: bool = False) -> GenerationResult:
    images = [Image.fromarray(np.full((64, 64, 3), 40 * i, np.uint8)) for i in range(1, 3)]
    return GenerationResult(request=request, images=images, seed=1234, seeds=[1234, 1235], cancelled=cancelled,
                            timings={"load": 0.1, "run": 1.5, "total": 1.7},
                            models=[{"role": "base", "name": "tiny-sd", "sha256": "b" * 64}],
                            device="cpu float32", family="sd15")


def test_record_generation_keeps_request_images_models_and_results(tmp_path):
    request = _request()
    with HistoryStore.create(tmp_path / "doc.studio") as store:
        done = record_generation(store, request, result=_result(request)).result()
        generation = store.generation(done.event)
        payload = generation.payload
        assert payload["status"] == "ok" and payload["error"] is None and payload["seed"] == 1234
        assert payload["models"]["models"][0]["sha256"] == "b" * 64 and payload["timings"]["run"] == 1.5
        assert store.image(generation.results[1])[0, 0].tolist() == [80, 80, 80]
        assert request_from_generation(store, done.event) == request
        plain = request.to_dict(include_images=False)
        assert {k: v for k, v in generation.request.items() if k != "controls"} == {
            k: v for k, v in plain.items() if k != "controls"}
        assert store.revision(done.revision).thumbnail is not None

        cancelled = record_generation(store, request, result=_result(request, cancelled=True)).result()
        failed = record_generation(store, request, error=RuntimeError("CUDA out of memory")).result()
        assert store.generation(cancelled.event).payload["status"] == "cancelled"
        failure = store.generation(failed.event).payload
        assert failure["status"] == "failed" and failure["error"] == "CUDA out of memory"
        assert failure["results"] == []
        with pytest.raises(HistoryError, match="result or its error"):
            record_generation(store, request)


def test_log_generation_to_document_creates_and_appends(tmp_path):
    path = tmp_path / "cli.studio"
    request = _request()
    first = log_generation_to_document(path, request, result=_result(request))
    second = log_generation_to_document(path, request, result=_result(request))
    assert second.event > first.event
    with HistoryStore.open(path, readonly=True) as store:
        assert [g.id for g in store.generations()] == [first.event, second.event]
