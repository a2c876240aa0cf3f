"""The Generate panel's LoRA list, hires fix and inpaint fields, through the window to the (scripted) engine, and
the LoRA folder kept in the model settings."""

from __future__ import annotations

import json

import pytest
from fake_engine import FakeEngineClient
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QFileDialog

from studio.engine.lora import LoraInput
from studio.engine.settings import ModelEntry, ModelSettings

WAIT_MS = 30_000


@pytest.fixture
def fake():
    return FakeEngineClient()


@pytest.fixture
def lora_dir(tmp_path):
    folder = tmp_path / "loras"
    (folder / "styles").mkdir(parents=True)
    for name in ("ink.safetensors", "styles/film.safetensors"):
        (folder / name).write_bytes(b"")
    return folder


@pytest.fixture
def fake_window(make_window, app_paths, fake, tmp_path, lora_dir):
    from ui.dialogs.models_guide import add_model

    add_model(app_paths.model_settings, name="sketchy", entry=ModelEntry(base=str(tmp_path / "never-loaded")))
    settings = ModelSettings.load(app_paths.model_settings)
    settings.lora_dir = str(lora_dir)
    settings.save(app_paths.model_settings)
    return make_window(engine=fake)


def _small(window, **values):
    settings = window.generate_panel.settings()
    settings.width = settings.height = 64
    settings.steps, settings.seed, settings.prompt = 3, 9, "a red kite"
    for name, value in values.items():
        setattr(settings, name, value)
    window.generate_panel.set_settings(settings)


def _run(qtbot, window, fake):
    with qtbot.waitSignal(window.generation.finished, timeout=WAIT_MS):
        window.generate_panel.generate_button.click()
    return fake.calls[-1][0]


def test_loras_are_added_weighted_switched_off_and_removed(qtbot, fake_window, fake, lora_dir, tmp_path,
                                                           monkeypatch):
    window, panel = fake_window, fake_window.generate_panel
    loras = panel.lora_list
    assert [loras.choice.itemText(i) for i in range(loras.choice.count())] == ["film", "ink"]
    loras.choice.setCurrentIndex(1)
    loras.add_button.click()
    elsewhere = tmp_path / "elsewhere" / "sketchy-lines.safetensors"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(b"")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(elsewhere), ""))
    loras.file_button.click()
    assert [row.use.text() for row in loras.rows] == ["ink", "sketchy-lines"]
    assert panel.sections["loras"].header.text() == "LoRA · 2 on"
    loras.rows[0].weight.setValue(0.65)
    loras.rows[1].use.setChecked(False)
    assert not loras.rows[1].weight.isEnabled()
    _small(window, prompt="a kite <lora:film:0.3>")
    request = _run(qtbot, window, fake)
    assert request.loras == [LoraInput(str(lora_dir / "ink.safetensors"), 0.65)]
    assert request.prompt == "a kite <lora:film:0.3>"  # the engine resolves A1111 tags in the LoRA folder
    assert panel.settings().loras[1].enabled is False  # kept in the list while off
    loras.rows[0].remove.click()
    assert [row.use.text() for row in loras.rows] == ["sketchy-lines"]
    assert panel.sections["loras"].header.text() == "LoRA"
    assert _run(qtbot, window, fake).loras == []


def test_a_file_that_is_no_lora_is_refused_in_the_panel(fake_window, tmp_path, monkeypatch):
    panel = fake_window.generate_panel
    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(notes), ""))
    panel.lora_list.file_button.click()
    assert panel.lora_list.rows == [] and panel.message_bar.kind == "error"
    assert "not a LoRA file" in panel.message_bar.text()


def test_the_lora_folder_is_kept_in_the_model_settings(qtbot, make_window, app_paths, lora_dir, fake):
    window = make_window(engine=fake)
    panel = window.generate_panel
    assert panel.lora_list.choice.count() == 0 and "No LoRA folder" in panel.lora_list.choice.placeholderText()
    guide = window.show_models_guide()
    guide.lora_dir_edit.setText(str(lora_dir / "missing"))
    guide.lora_dir_button.click()
    assert guide.message_bar.kind == "error" and "does not exist" in guide.message_bar.text()
    assert not app_paths.model_settings.exists() or json.loads(app_paths.model_settings.read_text())[
        "lora_dir"] is None
    guide.lora_dir_edit.setText(str(lora_dir))
    guide.lora_dir_button.click()
    assert json.loads(app_paths.model_settings.read_text())["lora_dir"] == str(lora_dir)
    assert panel.lora_list.choice.count() == 2 and fake.settings.lora_dir == str(lora_dir)
    guide.close()
    again = make_window(engine=FakeEngineClient())
    assert again.generate_panel.lora_list.choice.count() == 2
    assert again.show_models_guide().lora_dir_edit.text() == str(lora_dir)


def test_hires_fix_fields_reach_the_request(qtbot, fake_window, fake):
    window, panel = fake_window, fake_window.generate_panel
    hires = panel.hires_fields
    _small(window)
    assert not hires.scale_spin.isEnabled() and hires.size_label.text() == "64 × 64 px (off)"
    assert _run(qtbot, window, fake).hires_scale == 1.0
    hires.enabled_check.setChecked(True)
    hires.scale_spin.setValue(1.5)
    hires.upscaler_combo.setCurrentIndex(hires.upscaler_combo.findData("latent"))
    hires.strength_spin.setValue(0.4)
    hires.steps_spin.setValue(5)
    assert hires.size_label.text() == "96 × 96 px" and panel.sections["hires"].header.text() == "Hires fix · on"
    panel.width_spin.setValue(128)
    assert hires.size_label.text() == "192 × 96 px"
    request = _run(qtbot, window, fake)
    assert (request.hires_scale, request.hires_upscaler, request.hires_strength, request.hires_steps) == (
        1.5, "latent", 0.4, 5)


def test_inpaint_fields_reach_the_request(qtbot, fake_window, fake):
    window, panel = fake_window, fake_window.generate_panel
    _small(window)
    fields = panel.inpaint_fields
    assert not fields.padding_spin.isEnabled()
    fields.strength_spin.setValue(0.85)
    fields.only_masked_check.setChecked(True)
    assert fields.padding_spin.isEnabled()
    fields.padding_spin.setValue(20)
    fields.blur_spin.setValue(3)
    request = _run(qtbot, window, fake)
    assert request.mask is None  # no mask painted: text-to-image, the fields wait for one
    assert (request.strength, request.inpaint_only_masked, request.inpaint_padding, request.mask_blur) == (
        0.85, True, 20, 3)
    assert panel.settings().strength == 0.85


@pytest.fixture(params=[None, 12], ids=["default-font", "12pt-font"])
def font_size(request):
    app = QApplication.instance()
    old = app.font()
    if request.param is not None:
        font = QFont(old)
        font.setPointSize(request.param)
        app.setFont(font)
    yield request.param
    app.setFont(old)


def _scroll_into_view(scroll, widget) -> None:
    """Scroll until the whole widget is in view (Qt's ensureWidgetVisible only shows a spin box's text cursor)."""
    bar = scroll.verticalScrollBar()
    top = widget.mapTo(scroll.widget(), QPoint(0, 0)).y()
    bottom = top + widget.height()
    if bottom > bar.value() + scroll.viewport().height():
        bar.setValue(bottom - scroll.viewport().height())
    if top < bar.value():
        bar.setValue(top)
    QApplication.processEvents()


def test_the_new_sections_fit_1366x768(make_window, qtbot, font_size, tmp_path):
    from studio.app.generation_settings import LoraSetting

    window = make_window(engine=FakeEngineClient())
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: window.width() == 1366)
    panel = window.generate_panel
    settings = panel.settings()
    settings.loras = [LoraSetting(str(tmp_path / "a-rather-long-lora-name_v2.safetensors"), 0.8)]
    panel.set_settings(settings)
    for name in ("loras", "hires", "inpaint"):
        panel.sections[name].set_open(True)
    QApplication.processEvents()
    scroll = panel.scroll_area
    viewport = scroll.viewport()
    assert not scroll.horizontalScrollBar().isVisible()
    assert scroll.widget().minimumSizeHint().width() <= viewport.width()
    row = panel.lora_list.rows[0]
    for widget in (row.use, row.weight, row.remove, panel.lora_list.file_button, panel.hires_fields.steps_spin,
                   panel.hires_fields.size_label, panel.inpaint_fields.padding_spin, panel.inpaint_fields.blur_spin,
                   panel.inpaint_fields.only_masked_check):
        _scroll_into_view(scroll, widget)
        place = QRect(widget.mapTo(viewport, QPoint(0, 0)), widget.size())
        assert widget.isVisible() and viewport.rect().contains(place), (widget, place, viewport.size())


def test_the_lora_list_and_hires_fix_are_logged_in_the_history(qtbot, fake_window, lora_dir):
    from history_helpers import settle, store_of

    window, panel = fake_window, fake_window.generate_panel
    panel.lora_list.add(lora_dir / "ink.safetensors")
    panel.lora_list.rows[0].weight.setValue(0.5)
    panel.hires_fields.enabled_check.setChecked(True)
    panel.inpaint_fields.only_masked_check.setChecked(True)
    settle(qtbot, window)
    state = store_of(window).state_at()
    assert state.settings["loras"] == [{"path": str(lora_dir / "ink.safetensors"), "weight": 0.5, "enabled": True}]
    assert state.settings["hires_enabled"] is True and state.settings["inpaint_only_masked"] is True
