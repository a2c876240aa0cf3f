"""Generation from the window with tiny models: results in the gallery, cancel, errors, gallery actions."""

from __future__ import annotations

import numpy as np
from PIL import Image

from studio.app.generation_settings import GenerationSettings
from studio.engine.metadata import read_png_metadata

WAIT_MS = 60_000


def _small_settings(window, **changes) -> GenerationSettings:
    settings = window.generate_panel.settings()
    settings.width = settings.height = 64
    settings.steps = 2
    settings.seed = 1234
    for key, value in changes.items():
        setattr(settings, key, value)
    window.generate_panel.set_settings(settings)
    return settings


def _wait_idle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.generation.running and window.generate_panel.generate_button.isEnabled(),
                    timeout=WAIT_MS)


def test_generate_puts_image_in_gallery_with_seed_shown(qtbot, tiny_window):
    window = tiny_window
    window.document.edge.stroke([(50, 50), (400, 300)], width=8)
    _small_settings(window, prompt="a red house", batch_size=2)
    progress = []
    window.generation.progress.connect(lambda step, total: progress.append((step, total)))
    with qtbot.waitSignal(window.generation.finished, timeout=WAIT_MS) as finished:
        window.generate_panel.generate_button.click()
        assert window.generation.running
        assert not window.generate_panel.generate_button.isEnabled()
    result, entries = finished.args
    assert not result.cancelled
    assert [entry.request.seed for entry in entries] == [1234, 1235]
    assert len(window.gallery_panel.entries) == 2
    assert window.gallery_panel.entries[0].image.shape == (64, 64, 3)
    assert [c.kind for c in entries[0].request.controls] == ["edge"]  # empty pose/depth layers are left out
    assert "1234" in window.generate_panel.seed_used_label.text()
    assert progress[-1] == (2, 2)
    _wait_idle(qtbot, window)
    assert window.generate_panel.progress_bar.format() == "Idle"


def test_cancel_stops_a_running_generation(qtbot, tiny_window):
    window = tiny_window
    _small_settings(window, steps=400)
    steps_seen = []
    window.generation.progress.connect(lambda step, _total: steps_seen.append(step))
    assert window.generation.generate()
    qtbot.waitUntil(lambda: len(steps_seen) > 0, timeout=WAIT_MS)
    assert window.generate_panel.cancel_button.isEnabled()
    with qtbot.waitSignal(window.generation.finished, timeout=WAIT_MS) as finished:
        window.generate_panel.cancel_button.click()
    result, entries = finished.args
    assert result.cancelled and entries == []
    assert max(steps_seen) < 400
    assert window.gallery_panel.entries == []
    assert "cancelled" in window.generate_panel.message_bar.text().lower()
    _wait_idle(qtbot, window)


def test_engine_error_shows_message_and_window_stays_usable(qtbot, make_window, app_paths, tmp_path):
    from studio.engine.settings import ModelEntry
    from ui.dialogs.models_guide import add_model

    add_model(app_paths.model_settings, name="broken", entry=ModelEntry(base=str(tmp_path / "no-such-model")))
    window = make_window()
    window.document.edge.stroke([(10, 10), (100, 100)])
    _small_settings(window)
    window.generation.generate()
    qtbot.waitUntil(lambda: window.generate_panel.message_bar.kind == "error", timeout=WAIT_MS)
    text = window.generate_panel.message_bar.text()
    assert "no-such-model" in text and "Models" in text
    _wait_idle(qtbot, window)
    # Still usable: editing and undo work, and Generate can be pressed again.
    window.document.depth.fill(0.5)
    window.commands["undo"].trigger()
    assert not window.document.depth.data.any()
    assert window.generate_panel.generate_button.isEnabled()


def test_no_model_configured_explains_where_to_point_the_app(window):
    assert not window.generation.has_models
    assert window.generation.generate() is False
    text = window.generate_panel.message_bar.text()
    assert "DEMO MODE" in text and ".safetensors" in text


def test_bad_request_values_show_message(window, tiny_models, app_paths):
    from studio.engine.settings import ModelEntry
    from ui.dialogs.models_guide import add_model

    add_model(app_paths.model_settings, name="tiny", entry=ModelEntry(base=str(tiny_models)))
    window.generation.reload_models()
    settings = _small_settings(window)
    settings.controls["edge"].start, settings.controls["edge"].end = 0.8, 0.2
    window.generate_panel.set_settings(settings)
    window.document.edge.stroke([(10, 10), (100, 100)])
    assert window.generation.generate() is False
    assert "start" in window.generate_panel.message_bar.text()


def test_gallery_rate_reference_save_and_rerun(qtbot, tiny_window, tmp_path):
    window = tiny_window
    _small_settings(window, prompt="a tree")
    with qtbot.waitSignal(window.generation.finished, timeout=WAIT_MS):
        window.generation.generate()
    _wait_idle(qtbot, window)
    gallery = window.gallery_panel
    entry = gallery.entries[0]
    gallery.select([entry])
    gallery.buttons["star"].click()
    assert entry.rating == "starred"
    gallery.buttons["reject"].click()
    assert entry.rating == "rejected"
    # Use as reference: one undo step on the reference layer, scaled to the document.
    gallery.buttons["reference"].click()
    assert window.document.reference.image.shape == (512, 512, 3)
    window.commands["undo"].trigger()
    assert window.document.reference.image is None
    # Save as PNG with the engine's metadata: the stored request remakes this image.
    path = tmp_path / "result.png"
    assert window.generation.save_entry(entry, path)
    parameters, request = read_png_metadata(path)
    assert "a tree" in parameters and request.seed == 1234
    assert np.array_equal(np.asarray(Image.open(path).convert("RGB")), entry.image)
    # Re-run with the same seed gives the same pixels; a new seed gives a new seed.
    with qtbot.waitSignal(window.generation.finished, timeout=WAIT_MS) as same:
        gallery.buttons["rerun"].click()
    assert np.array_equal(same.args[1][0].image, entry.image)
    _wait_idle(qtbot, window)
    gallery.select([entry])
    with qtbot.waitSignal(window.generation.finished, timeout=WAIT_MS) as fresh:
        gallery.buttons["reseed"].click()
    assert fresh.args[1][0].request.seed != 1234
    _wait_idle(qtbot, window)
    gallery.select(gallery.entries[:2])
    assert gallery.buttons["compare"].isEnabled()
    gallery.buttons["compare"].click()
    dialogs = [child for child in window.children() if type(child).__name__ == "CompareDialog"]
    assert dialogs and dialogs[-1].isVisible()
    dialogs[-1].close()


def test_apply_fields_is_one_undo_step(window):
    panel = window.generate_panel
    panel.apply_fields(prompt="a fox in snow", negative="blurry", width=768, height=512)
    settings = panel.settings()
    assert (settings.prompt, settings.negative_prompt, settings.width, settings.height) == (
        "a fox in snow", "blurry", 768, 512)
    window.commands["undo"].trigger()
    settings = panel.settings()
    assert (settings.prompt, settings.width) == ("", 512)
    window.commands["redo"].trigger()
    assert panel.settings().prompt == "a fox in snow"


def test_error_messages_say_what_to_do():
    from studio.engine.errors import DeviceOutOfMemoryError, ModelError
    from studio.app.errors import describe_error

    oom = DeviceOutOfMemoryError("The CUDA ran out of memory making 4 image(s) of 1024x1024; try a smaller size.")
    assert describe_error(oom) == str(oom)
    incompatible = ModelError("The edge ControlNet is for SDXL but the base model is SD 1.x.")
    assert describe_error(incompatible).endswith("Check the model in Generate ▸ Models….")
    assert "RuntimeError" in describe_error(RuntimeError("boom")) and "unchanged" in describe_error(RuntimeError())
