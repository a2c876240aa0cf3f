"""History ▸ Train from accepted results…: a tiny ControlNet run from the window, in a child process, with the
progress bar fed from its output while the window keeps handling events; the trained model joins the model
list; Stop ends a run (keeping a checkpoint); a reason not to start is shown in the dialog."""

from __future__ import annotations

import pytest
from fake_engine import FakeEngineClient
from history_helpers import WAIT_MS, settle
from PySide6.QtCore import QTimer

from studio.app.training import TrainRequest
from studio.engine.settings import ModelEntry, ModelSettings
from studio.train.loop import latest_checkpoint

RUN_MS = 240_000
FAST = dict(lr=1e-3, resolution=64, batch=1, rank=2, validate_every=0, validation_steps=2, checkpoint_every=0,
            device="cpu")


@pytest.fixture
def trainer_window(make_window, app_paths, tiny_models, monkeypatch):
    """Generations from the fake engine (instant), training from the tiny models (real, in a child process)."""
    from ui.dialogs.models_guide import add_model

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    add_model(app_paths.model_settings, name="tiny", entry=ModelEntry(base=str(tiny_models)))
    return make_window(engine=FakeEngineClient())


def _accept_one(qtbot, window):
    window.document.edge.stroke([(5, 5), (300, 200)], width=6)
    settings = window.generate_panel.settings()
    settings.width = settings.height = 64
    settings.steps, settings.seed, settings.prompt, settings.batch_size = 2, 3, "a kite", 2
    window.generate_panel.set_settings(settings)
    with qtbot.waitSignal(window.generation.finished, timeout=WAIT_MS) as finished:
        assert window.generation.generate()
    _result, entries = finished.args
    qtbot.waitUntil(lambda: entries[0].history_id is not None, timeout=WAIT_MS)
    window.gallery.set_rating(entries[0], "starred")
    window.gallery.set_rating(entries[1], "rejected")


def test_train_a_controlnet_from_the_window(qtbot, trainer_window, app_paths):
    window = trainer_window
    _accept_one(qtbot, window)
    window.commands["train_from_history"].trigger()
    dialog = window.training.dialog
    assert dialog.isVisible() and "Base model:" in dialog.base_label.text()
    dialog.set_request(TrainRequest(task="controlnet", kind="edge", name="kite-edges", steps=4, **FAST))
    assert not dialog.rank_spin.isEnabled() and dialog.kind_combo.isEnabled()
    steps, ticks, formats = [], [], []
    dialog.progress_bar.valueChanged.connect(steps.append)
    dialog.progress_bar.valueChanged.connect(lambda _v: formats.append(dialog.progress_bar.format()))
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(50)
    with qtbot.waitSignal(dialog.trained, timeout=RUN_MS) as trained:
        assert dialog.start()
        assert not dialog.train_button.isEnabled() and dialog.cancel_button.isEnabled()
    timer.stop()
    outcome = trained.args[0]
    assert outcome.status == "ok" and (outcome.out / "config.json").is_file()
    assert [1, 2, 3, 4] == [v for v in steps if v in (1, 2, 3, 4)][:4]
    assert any("loss" in text for text in formats)
    assert len(ticks) > 10  # the window kept handling events while the model trained
    assert dialog.message_bar.kind == "info" and "choose the model 'tiny + kite-edges'" in dialog.message_bar.text()
    names = [window.generate_panel.model_combo.itemData(i) for i in range(window.generate_panel.model_combo.count())]
    assert "tiny + kite-edges" in names
    entry = ModelSettings.load(app_paths.model_settings).models["tiny + kite-edges"]
    assert entry.controlnets["edge"] == str(outcome.out)


def test_stop_a_run_and_reasons_not_to_start(qtbot, trainer_window, app_paths):
    window = trainer_window
    dialog = window.training.open_dialog()
    dialog.set_request(TrainRequest(task="lora", name="style", steps=10, **FAST))
    assert not dialog.start() and dialog.message_bar.text() == "There is no history to learn from yet."
    window.document.edge.stroke([(5, 5), (30, 20)], width=6)
    qtbot.waitUntil(lambda: window.history.current is not None, timeout=WAIT_MS)
    settle(qtbot, window)
    assert dialog.start()  # a history, but nothing accepted yet: the export finds no rows and the dialog says so
    qtbot.waitUntil(lambda: not dialog.running and dialog.message_bar.kind == "error", timeout=WAIT_MS)
    assert "has no accepted results with a control map yet" in dialog.message_bar.text()
    assert dialog.progress_bar.format() == "Not trained" and dialog.train_button.isEnabled()
    _accept_one(qtbot, window)
    dialog.set_request(TrainRequest(task="lora", name="../bad", steps=10, **FAST))
    assert not dialog.start() and not dialog.running
    assert "The name must start" in dialog.message_bar.text()
    dialog.set_request(TrainRequest(task="lora", name="long-style", steps=100_000, **FAST))
    assert dialog.start()
    qtbot.waitUntil(lambda: dialog.progress_bar.value() >= 1, timeout=RUN_MS)
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=RUN_MS)
    assert dialog.progress_bar.format() == "Stopped" and dialog.train_button.isEnabled()
    work = app_paths.data_dir / "training" / "long-style" / "work"
    assert latest_checkpoint(work) is not None
    planned = dialog.job.result if dialog.job.result is not None else None
    assert planned is not None and planned.status == "cancelled" and not planned.plan.out.exists()
