"""Generate -> gallery through the window's controllers with a scripted engine (no diffusers): what the engine
is asked for, when the gallery shows the result and when its history id arrives, progress and failures."""

from __future__ import annotations

import pytest
from fake_engine import FakeEngineClient
from history_helpers import WAIT_MS, settle, store_of

from studio.engine.errors import DeviceOutOfMemoryError
from studio.engine.settings import ModelEntry


@pytest.fixture
def fake():
    return FakeEngineClient()


@pytest.fixture
def fake_window(make_window, app_paths, fake, tmp_path):
    from ui.dialogs.models_guide import add_model

    add_model(app_paths.model_settings, name="sketchy", entry=ModelEntry(base=str(tmp_path / "never-loaded")))
    return make_window(engine=fake)


def _settings(window, **values):
    settings = window.generate_panel.settings()
    settings.width = settings.height = 64
    settings.steps, settings.seed, settings.prompt = 3, 9, "a red kite"
    for name, value in values.items():
        setattr(settings, name, value)
    window.generate_panel.set_settings(settings)
    return settings


def test_the_panel_settings_reach_the_engine_and_the_gallery_shows_the_result_before_its_history_id(
        qtbot, fake_window, fake):
    window = fake_window
    assert fake.configured == 1 and list(fake.settings.models) == ["sketchy"]
    window.document.edge.stroke([(5, 5), (300, 200)], width=6)
    _settings(window, batch_size=2)
    steps = []
    window.generation.progress.connect(lambda step, total: steps.append((step, total)))
    ids_when_shown = []
    window.gallery.added.connect(lambda entries: ids_when_shown.extend(e.history_id for e in entries))
    with qtbot.waitSignal(window.generation.finished, timeout=WAIT_MS) as finished:
        assert window.generation.generate()
    (request, model), = fake.calls
    assert model == "sketchy" and request.prompt == "a red kite" and request.steps == 3 and request.seed == 9
    assert [c.kind for c in request.controls] == ["edge"]  # pose and depth are empty: not used
    assert steps == [(1, 3), (2, 3), (3, 3)]
    _result, entries = finished.args
    assert ids_when_shown == [None, None]  # on screen before the history has it
    assert [e.request.seed for e in entries] == [9, 10] and int(entries[1].image[0, 0, 0]) == 10
    qtbot.waitUntil(lambda: entries[0].history_id is not None, timeout=WAIT_MS)
    settle(qtbot, window)
    assert entries[1].history_id == entries[0].history_id
    assert store_of(window).generation(entries[0].history_id).request["prompt"] == "a red kite"


def test_a_rating_given_before_the_history_id_is_logged_when_it_arrives(qtbot, fake_window):
    window = fake_window
    window.document.edge.stroke([(5, 5), (300, 200)], width=6)
    _settings(window)
    rated = []

    def star_at_once(entries):
        rated.extend(entries)
        window.gallery.set_rating(entries[0], "starred")

    window.gallery.added.connect(star_at_once)
    with qtbot.waitSignal(window.generation.finished, timeout=WAIT_MS):
        window.generation.generate()
    assert rated[0].history_id is None
    qtbot.waitUntil(lambda: rated[0].history_id is not None, timeout=WAIT_MS)
    settle(qtbot, window)
    feedback = store_of(window).generation(rated[0].history_id).feedback
    assert [(f.result, f.verdict) for f in feedback] == [(0, "accept")]


def test_an_engine_failure_is_shown_once_and_logged_as_failed(qtbot, fake_window, fake):
    window = fake_window
    window.document.edge.stroke([(5, 5), (300, 200)], width=6)
    _settings(window)
    fake.script.append(DeviceOutOfMemoryError("The CPU ran out of memory; make fewer images at once."))
    with qtbot.waitSignal(window.generation.failed, timeout=WAIT_MS) as failed:
        window.generation.generate()
    assert failed.args == ["The CPU ran out of memory; make fewer images at once."]
    assert window.generate_panel.message_bar.kind == "error" and window.gallery_panel.entries == []
    settle(qtbot, window)
    (generation,) = store_of(window).generations()
    assert generation.payload["status"] == "failed" and "out of memory" in generation.payload["error"]
    assert not window.generation.running  # the next run may start


def test_a_second_generate_while_one_runs_is_refused(qtbot, fake_window, fake):
    window = fake_window
    _settings(window, steps=2)
    fake.hold.clear()
    assert window.generation.generate()
    assert not window.generation.generate()
    assert "already running" in window.generate_panel.message_bar.text()
    with qtbot.waitSignal(window.generation.finished, timeout=WAIT_MS):
        fake.hold.set()
    assert len(fake.calls) == 1
