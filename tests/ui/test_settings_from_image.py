"""File ▸ Open Settings from Image… and PNGs dropped on the Generate panel: the studio's own PNG exactly, other
tools' public fixtures, one undo step, and bad files refused with nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_engine import FakeEngineClient
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from studio.app.generation_settings import LoraSetting
from studio.engine.lora import LoraInput
from studio.engine.metadata import save_png
from studio.engine.request import GenerationRequest
from studio.engine.settings import ModelEntry

FIXTURES = Path(__file__).parents[1] / "unit" / "fixtures" / "png"


@pytest.fixture
def window(make_window, app_paths, tmp_path):
    from ui.dialogs.models_guide import add_model

    add_model(app_paths.model_settings, name="sketchy", entry=ModelEntry(base=str(tmp_path / "never-loaded")))
    return make_window(engine=FakeEngineClient())


def _drop(panel, path: Path, *, on=None) -> bool:
    """Drag `path` onto the panel (or the widget `on`) and drop it; True when the drop was taken."""
    target = panel if on is None else on
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = QPointF(target.rect().center())
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, drop)
    return drop.isAccepted()


def test_an_a1111_png_fills_the_fields_as_one_undo_step(window, monkeypatch):
    panel = window.generate_panel
    panel.prompt_edit.setPlainText("my own prompt")
    panel.steps_spin.setValue(7)
    before = panel.settings()
    action = window.commands["settings_from_image"]
    assert action in window.menus.menus["File"].actions()
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda *args, **kwargs: (str(FIXTURES / "automatic1111_cropped.png"), ""))
    action.trigger()
    after = panel.settings()
    assert panel.prompt_edit.toPlainText().startswith("photo of a duck") and panel.negative_edit.toPlainText()
    assert (after.seed, after.steps, after.width, after.height, after.scheduler) == (235284042, 15, 512, 400, "unipc")
    assert panel.seed_edit.text() == "235284042" and not panel.random_seed_check.isChecked()
    assert after.model == "sketchy" and after.controls == before.controls
    assert panel.message_bar.kind == "info" and "AUTOMATIC1111" in panel.message_bar.text()
    assert window.commands["undo"].text() == "Undo Settings from image"
    window.commands["undo"].trigger()  # one step gives back every field
    assert panel.settings() == before and panel.prompt_edit.toPlainText() == "my own prompt"
    window.commands["redo"].trigger()
    assert panel.settings() == after
    action.trigger()  # the same image again: nothing changes, so no second undo step
    assert panel.message_bar.text().startswith("The fields already hold the settings of automatic1111_cropped.png")
    window.commands["undo"].trigger()
    assert panel.settings() == before


def test_a_comfyui_seed_above_2_32_survives_the_seed_field(window):
    panel = window.generate_panel
    # dropped on the prompt box: the panel reads the file (its path is not typed into the prompt)
    assert _drop(panel, FIXTURES / "night_evening_day_morning_cropped.png", on=panel.prompt_edit.viewport())
    assert panel.prompt_edit.toPlainText().startswith("(best quality) (daytime:1.2)")
    assert panel.settings().seed == 335608130539327 and panel.seed_edit.text() == "335608130539327"
    assert (panel.width_spin.value(), panel.height_spin.value()) == (704, 1280)
    assert "2 sampling passes" in panel.message_bar.text()


def test_the_studios_own_png_dropped_on_the_panel_gives_its_settings(window, tmp_path):
    panel = window.generate_panel
    lora = tmp_path / "ink.safetensors"
    lora.write_bytes(b"")
    request = GenerationRequest(prompt="a fox <lora:film:0.4>", negative_prompt="blur", width=320, height=192,
                                steps=6, guidance_scale=4.5, seed=2**40 + 1, scheduler="ddim",
                                loras=[LoraInput(str(lora), 0.7)], hires_scale=1.5, hires_strength=0.3,
                                hires_upscaler="latent")
    base = {"role": "base", "path": str(tmp_path / "never-loaded"), "fingerprint": "0123456789ab", "hub_id": None}
    save_png(Image.new("RGB", (16, 16)), tmp_path / "mine.png", request=request, seed=request.seed, models=[base])
    assert _drop(panel, tmp_path / "mine.png")
    s = panel.settings()
    assert (s.prompt, s.negative_prompt, s.width, s.height, s.steps, s.guidance_scale, s.seed, s.scheduler) == (
        "a fox <lora:film:0.4>", "blur", 320, 192, 6, 4.5, 2**40 + 1, "ddim")
    assert s.loras == [LoraSetting(str(lora), 0.7)] and [row.use.text() for row in panel.lora_list.rows] == ["ink"]
    assert panel.hires_fields.enabled_check.isChecked() and panel.hires_fields.scale_spin.value() == 1.5
    assert panel.hires_fields.upscaler_combo.currentData() == "latent"
    assert s.model == "sketchy"  # named by its base folder
    assert window.generation.build_request(s).to_dict(include_images=False)["loras"] == [
        {"path": str(lora), "weight": 0.7}]


def test_unreadable_and_plain_images_change_nothing(window, tmp_path):
    panel = window.generate_panel
    panel.prompt_edit.setPlainText("keep me")
    before = panel.settings()
    history = window.document.history
    steps = history.undo_label
    (tmp_path / "text.png").write_text("not an image")
    Image.new("RGB", (8, 8)).save(tmp_path / "plain.png")
    for name, words in [("text.png", "Cannot read"), ("plain.png", "carries no generation settings")]:
        assert _drop(panel, tmp_path / name)
        assert panel.message_bar.kind == "error" and words in panel.message_bar.text()
        assert "Nothing was changed" in panel.message_bar.text()
        assert panel.settings() == before and history.undo_label == steps
