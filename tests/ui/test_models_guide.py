"""First run without models: the guide says where to point the app; demo mode installs tiny models."""

from __future__ import annotations

import shutil

from PySide6.QtWidgets import QLabel

from studio.engine.settings import ModelSettings
from ui.dialogs.models_guide import DEMO_MODEL_NAME


def test_guide_explains_model_sources(window):
    guide = window.show_models_guide()
    assert guide.isVisible()
    labels = " ".join(label.text() for label in guide.findChildren(QLabel))
    for needle in ("diffusers folder", ".safetensors", "Hugging Face", "DEMO MODE", "random noise"):
        assert needle in labels
    guide.close()


def test_demo_mode_registers_tiny_models_and_selects_them(qtbot, window, app_paths, tiny_models):
    shutil.copytree(tiny_models, app_paths.demo_models)  # already built: the installer reuses them
    guide = window.show_models_guide()
    with qtbot.waitSignal(guide.models_changed, timeout=60_000):
        guide.demo_button.click()
        assert not guide.demo_button.isEnabled()
    assert "DEMO MODE is on" in guide.message_bar.text()
    settings = ModelSettings.load(app_paths.model_settings)
    assert settings.active == DEMO_MODEL_NAME
    assert window.generate_panel.settings().model == DEMO_MODEL_NAME
    assert set(settings.models[DEMO_MODEL_NAME].controlnets) == {"edge", "pose", "depth"}
    guide.close()


def test_add_model_form_checks_input_and_writes_settings(window, app_paths, tmp_path):
    guide = window.show_models_guide()
    assert guide.add_model_from_form() is False
    assert "name" in guide.message_bar.text()
    guide.name_edit.setText("mine")
    guide.base_field.edit.setText(str(tmp_path / "sd15.safetensors"))
    guide.control_fields["edge"].edit.setText(str(tmp_path / "scribble.safetensors"))
    assert guide.add_model_from_form()
    settings = ModelSettings.load(app_paths.model_settings)
    assert settings.active == "mine" and settings.models["mine"].controlnets == {
        "edge": str(tmp_path / "scribble.safetensors")}
    assert window.generate_panel.model_combo.currentData() == "mine"
    guide.close()


def test_unreadable_settings_file_is_reported(make_window, app_paths):
    app_paths.model_settings.parent.mkdir(parents=True)
    app_paths.model_settings.write_text("{ not json", encoding="utf-8")
    window = make_window()
    assert window.generate_panel.message_bar.kind == "error"
    assert "models.json" in window.generate_panel.message_bar.text()
