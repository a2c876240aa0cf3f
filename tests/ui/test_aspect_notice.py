"""Generating at another shape than the canvas's says what happens to the control maps."""

from __future__ import annotations

import pytest
from fake_engine import FakeEngineClient
from history_helpers import WAIT_MS

from studio.engine.settings import ModelEntry


@pytest.fixture
def fake_window(make_window, app_paths, tmp_path):
    from ui.dialogs.models_guide import add_model

    add_model(app_paths.model_settings, name="sketchy", entry=ModelEntry(base=str(tmp_path / "never-loaded")))
    return make_window(engine=FakeEngineClient())


def _generate(qtbot, window, width: int, height: int) -> str:
    settings = window.generate_panel.settings()
    settings.width, settings.height, settings.steps = width, height, 2
    window.generate_panel.set_settings(settings)
    with qtbot.waitSignal(window.generation.finished, timeout=WAIT_MS):
        assert window.generation.generate()
        text = window.generate_panel.message_bar.text() if window.generate_panel.message_bar.isVisible() else ""
    return text


def test_a_wider_output_than_the_canvas_is_pointed_out(qtbot, fake_window):
    window = fake_window
    window.document.edge.stroke([(5, 5), (300, 200)], width=6)
    text = _generate(qtbot, window, 768, 512)
    assert "768 × 512" in text and "canvas 512 × 512" in text and "cropped" in text
    assert _generate(qtbot, window, 256, 256) == ""  # same shape: nothing to say
