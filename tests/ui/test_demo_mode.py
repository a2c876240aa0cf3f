"""Demo mode on the real tiny models: fast defaults with the reason shown, a determinate progress bar from the
start, latent previews from the first step, and the gallery's Time equal to the run's real time."""

from __future__ import annotations

import shutil

from history_helpers import WAIT_MS

from studio.app.demo_defaults import DEMO_HEIGHT, DEMO_STEPS, DEMO_WIDTH
from studio.engine.settings import ModelEntry, ModelSettings
from ui.dialogs.models_guide import DEMO_MODEL_NAME, install_demo_models


def _fast(settings) -> bool:
    return (settings.width, settings.height, settings.steps) == (DEMO_WIDTH, DEMO_HEIGHT, DEMO_STEPS)


def test_the_demo_button_picks_fast_settings_and_says_why(qtbot, window, app_paths, tiny_models):
    shutil.copytree(tiny_models, app_paths.demo_models)
    assert not _fast(window.generate_panel.settings())
    guide = window.show_models_guide()
    with qtbot.waitSignal(guide.demo_ready, timeout=60_000):
        guide.demo_button.click()
    settings = window.generate_panel.settings()
    assert settings.model == DEMO_MODEL_NAME and _fast(settings)
    assert window.generate_panel.width_spin.value() == DEMO_WIDTH  # shown, not only stored
    text = window.generate_panel.message_bar.text()
    assert "Demo mode" in text and "noise" in text and f"{DEMO_STEPS} steps" in text
    guide.close()


def test_demo_mode_set_up_earlier_starts_fast_but_a_real_model_keeps_the_stock_settings(
        make_window, app_paths, tiny_models):
    shutil.copytree(tiny_models, app_paths.demo_models)
    install_demo_models(app_paths.demo_models, app_paths.model_settings)
    assert _fast(make_window().generate_panel.settings())
    settings = ModelSettings.load(app_paths.model_settings)
    settings.models["mine"] = ModelEntry(base=str(tiny_models))  # the same files, not the demo folder
    settings.active = "mine"
    settings.save(app_paths.model_settings)
    assert not _fast(make_window().generate_panel.settings())


def test_a_demo_generation_shows_progress_and_previews_from_the_first_step(
        qtbot, make_window, app_paths, tiny_models):
    shutil.copytree(tiny_models, app_paths.demo_models)
    install_demo_models(app_paths.demo_models, app_paths.model_settings)
    window = make_window()
    panel = window.generate_panel
    window.document.edge.stroke([(20, 20), (400, 300)], width=8)
    seen = []
    window.generation.progress.connect(
        lambda step, total: seen.append((step, total, panel.preview_label.isVisible())))
    with qtbot.waitSignal(window.generation.finished, timeout=WAIT_MS) as finished:
        assert window.generation.generate()
        # determinate before the model has even loaded
        assert (panel.progress_bar.minimum(), panel.progress_bar.maximum()) == (0, DEMO_STEPS)
        assert panel.progress_bar.value() == 0
    assert [s for s, _, _ in seen] == list(range(1, DEMO_STEPS + 1))
    assert all(total == DEMO_STEPS for _, total, _ in seen)
    assert seen[0][2], "a latent preview shows after the first step"
    result, entries = finished.args
    assert entries[0].image.shape == (DEMO_HEIGHT, DEMO_WIDTH, 3)
    assert entries[0].seconds == result.timings["total"]
    window.gallery_panel.select(entries)
    assert f"Time: {result.timings['total']:.1f} s" in window.gallery_panel.details.toPlainText().splitlines()
