"""The mask layer in the window: brush, unmask and fill tools on the canvas, the mask commands, the overlay, the
layers panel row, undo, saving and reopening, and Generate turning a painted mask into an inpaint."""

from __future__ import annotations

import numpy as np
import pytest
from canvas_input import drag, viewport_point
from fake_engine import FakeEngineClient
from history_helpers import WAIT_MS, settle, wait_future
from PySide6.QtCore import Qt

from studio.document.picture_import import set_reference_picture
from studio.engine.settings import ModelEntry


def _picture(width: int = 512, height: int = 512) -> np.ndarray:
    picture = np.zeros((height, width, 3), np.uint8)
    picture[:, :] = (30, 60, 90)
    picture[100:200, 150:350] = (220, 40, 40)  # a red box the fill tool can pick
    return picture


def _click(qtbot, window, x, y, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, modifier, viewport_point(window, x, y))


def test_mask_tools_paint_unmask_and_fill_one_undo_step_each(qtbot, window):
    document = window.document
    set_reference_picture(document, _picture())
    window.tool_actions["mask_brush"].trigger()
    assert window.view.tool.name == "mask_brush" and window.layers_panel.current() == "mask"
    assert window.view.tool_settings.brush_size == 32  # masks start with a broad brush
    drag(qtbot, window, [(60, 400), (200, 400), (300, 420)])
    mask = document.mask.data
    assert mask[400, 120] == 255 and mask[300, 120] == 0 and document.history.undo_label == "Paint mask"
    assert document.edge.data.max() == 0  # only the mask changed
    window.tool_actions["mask_eraser"].trigger()
    drag(qtbot, window, [(120, 400), (121, 400)])
    assert mask[400, 120] == 0 and mask[400, 60] == 255 and document.history.undo_label == "Erase mask"
    window.tool_actions["mask_fill"].trigger()
    _click(qtbot, window, 250, 150)  # the red box of the reference picture
    assert (mask[100:200, 150:350] == 255).all() and mask[90, 250] == 0
    assert document.history.undo_label == "Fill mask area"
    _click(qtbot, window, 250, 150, Qt.KeyboardModifier.ControlModifier)  # Ctrl: take the box out again
    assert (mask[100:200, 150:350] == 0).all()
    _click(qtbot, window, 5, 5, Qt.KeyboardModifier.ShiftModifier)  # Shift: everything
    assert mask.min() == 255
    for label in ("Fill mask", "Erase mask area", "Fill mask area", "Erase mask", "Paint mask"):
        assert document.history.undo_label == label
        window.commands["undo"].trigger()
    assert document.mask.is_empty
    window.commands["redo"].trigger()
    assert mask[400, 120] == 255


def test_mask_tool_keys(qtbot, window):
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_M)
    assert window.view.tool.name == "mask_brush" and window.layers_panel.current() == "mask"
    qtbot.keyClick(window.view, Qt.Key.Key_M, Qt.KeyboardModifier.ShiftModifier)
    assert window.view.tool.name == "mask_eraser"
    qtbot.keyClick(window.view, Qt.Key.Key_F, Qt.KeyboardModifier.ShiftModifier)
    assert window.view.tool.name == "mask_fill"
    qtbot.keyClick(window.view, Qt.Key.Key_B)
    assert window.view.tool.name == "brush" and window.view.tool_settings.brush_size == 8  # its own size back


def test_mask_commands_and_the_amount_in_the_options_bar(qtbot, window):
    document = window.document
    document.mask.stroke([(100, 100), (200, 100)], width=20)
    window.tool_actions["mask_brush"].trigger()
    bar = window.tool_options
    shown = {group: all(entry.isVisible() for entry in entries) for group, entries in bar._groups.items()}
    assert shown["amount"] and shown["mask"] and len(bar._groups["mask"]) == 5 and not shown["mode"]
    bar.amount_spin.setValue(6)
    before = document.mask.data.copy()
    window.commands["grow_mask"].trigger()
    assert document.mask.data[114, 150] == 255 and before[114, 150] == 0
    assert document.mask.data[118, 150] == 0  # grown by 6 px, not more
    window.commands["shrink_mask"].trigger()
    window.commands["feather_mask"].trigger()
    soft = document.mask.data
    assert ((soft > 0) & (soft < 255)).any()
    window.commands["invert_mask"].trigger()
    assert document.mask.data[400, 400] == 255 and document.mask.data[100, 150] < 128
    window.commands["clear_mask"].trigger()
    assert document.mask.is_empty
    for _ in range(5):  # clear, invert, feather, shrink, grow
        window.commands["undo"].trigger()
    assert np.array_equal(document.mask.data, before)
    window.tool_actions["brush"].trigger()
    assert not any(entry.isVisible() for entry in bar._groups["amount"] + bar._groups["mask"])  # mask tools only
    document.mask.locked = True
    window.commands["invert_mask"].trigger()
    assert np.array_equal(document.mask.data, before)  # a locked mask refuses, with a message, and stays


def test_the_overlay_and_the_layers_panel_row(qtbot, window):
    document = window.document
    item = window.view.items.by_layer["mask"]
    document.mask.stroke([(40, 40)], width=10)
    pixel = item.image.pixelColor(40, 40)
    assert pixel.red() > 200 and 0 < pixel.alpha() < 255  # translucent: the picture stays visible under it
    assert item.image.pixelColor(300, 300).alpha() == 0
    assert item.zValue() > window.view.items.by_layer["pose"].zValue()  # over every other layer
    row = window.layers_panel.rows["mask"]
    row.visible.setChecked(False)
    assert not document.mask.visible and not item.isVisible()
    document.mask.visible = True
    assert row.visible.isChecked() and item.isVisible()
    window.tool_actions["brush"].trigger()
    row.current.setChecked(True)  # picking the row switches to the mask brush
    assert window.view.tool.name == "mask_brush"
    window.layers_panel.set_current("mask")
    window.commands["clear_layer"].trigger()
    assert document.mask.is_empty


def test_a_mask_is_saved_with_the_document_and_reopened(qtbot, window, tmp_path):
    document = window.document
    document.edge.stroke([(20, 20), (200, 100)], width=6)
    document.mask.stroke([(100, 300), (300, 300)], width=40)
    document.mask.opacity = 0.7
    path = tmp_path / "masked.studio"
    wait_future(qtbot, window.files.save_to(path))
    document.mask.stroke([(400, 50), (450, 80)], width=12)  # logged into the saved file as it is made
    settle(qtbot, window)
    expected = document.mask.data.copy()
    window.new_document(256, 128)
    settle(qtbot, window)
    assert window.document.mask.is_empty
    wait_future(qtbot, window.files.open_path(path, confirm=False))
    settle(qtbot, window)
    reopened = window.document
    assert np.array_equal(reopened.mask.data, expected) and reopened.mask.opacity == pytest.approx(0.7)
    overlay = window.view.items.by_layer["mask"].image
    assert overlay.pixelColor(200, 300).alpha() > 0 and overlay.pixelColor(200, 100).alpha() == 0
    assert not reopened.history.can_undo


def test_a_document_saved_without_a_mask_opens_with_an_empty_one_that_can_be_painted(qtbot, window, tmp_path):
    path = tmp_path / "plain.studio"
    window.document.edge.stroke([(20, 20), (200, 100)], width=6)
    wait_future(qtbot, window.files.save_to(path))
    window.new_document(256, 128)
    settle(qtbot, window)
    wait_future(qtbot, window.files.open_path(path, confirm=False))
    settle(qtbot, window)
    assert window.document.mask.is_empty and window.document.edge.data.any()
    window.document.mask.stroke([(50, 50), (60, 60)], width=10)
    settle(qtbot, window)
    expected = window.document.mask.data.copy()
    window.new_document(64, 64)
    settle(qtbot, window)
    wait_future(qtbot, window.files.open_path(path, confirm=False))
    settle(qtbot, window)
    assert np.array_equal(window.document.mask.data, expected)


def test_restoring_a_revision_brings_its_mask_back_and_undo_takes_it_away(qtbot, window):
    from history_helpers import store_of

    document = window.document
    document.mask.stroke([(100, 100), (300, 100)], width=30)
    masked = document.mask.data.copy()
    settle(qtbot, window)
    target = store_of(window).head().id
    document.mask.clear()
    document.mask.stroke([(50, 400)], width=10)
    later = document.mask.data.copy()
    settle(qtbot, window)
    with qtbot.waitSignal(window.history.head_moved, timeout=WAIT_MS):
        window.files.restore_revision(target)
    settle(qtbot, window)
    assert np.array_equal(document.mask.data, masked)
    overlay = window.view.items.by_layer["mask"].image
    assert overlay.pixelColor(200, 100).alpha() > 0 and overlay.pixelColor(50, 400).alpha() == 0
    window.commands["undo"].trigger()
    assert np.array_equal(document.mask.data, later)


@pytest.fixture
def fake():
    return FakeEngineClient()


@pytest.fixture
def fake_window(make_window, app_paths, fake, tmp_path):
    from ui.dialogs.models_guide import add_model

    add_model(app_paths.model_settings, name="sketchy", entry=ModelEntry(base=str(tmp_path / "never-loaded")))
    return make_window(engine=fake)


def _settings(window):
    settings = window.generate_panel.settings()
    settings.width = settings.height = 64
    settings.steps, settings.seed, settings.prompt = 3, 9, "a red kite"
    window.generate_panel.set_settings(settings)


def test_generate_with_a_mask_asks_the_engine_for_an_inpaint_of_the_reference(qtbot, fake_window, fake):
    window = fake_window
    document = window.document
    picture = _picture()
    set_reference_picture(document, picture)
    document.edge.stroke([(5, 5), (300, 200)], width=6)
    _settings(window)
    with qtbot.waitSignal(window.generation.finished, timeout=WAIT_MS):
        assert window.generation.generate()
    request, _model = fake.calls[-1]
    assert request.mask is None and request.init_image is None  # no mask: text-to-image as before
    document.mask.stroke([(100, 300), (300, 300)], width=40)
    statuses = []
    window.statusBar().messageChanged.connect(statuses.append)
    with qtbot.waitSignal(window.generation.finished, timeout=WAIT_MS) as finished:
        assert window.generation.generate()
    request, _model = fake.calls[-1]
    assert request.is_inpaint and np.array_equal(request.init_image, picture)
    assert np.array_equal(request.mask[:, :, 0], document.mask.data)
    assert [c.kind for c in request.controls] == ["edge"]  # the ControlNets stay active
    assert any(text.startswith("Inpainting") for text in statuses)
    _result, entries = finished.args
    assert entries[0].request.is_inpaint  # Rerun from the gallery inpaints again


def test_generate_with_a_mask_but_no_picture_says_what_to_do(qtbot, fake_window, fake):
    window = fake_window
    window.document.mask.fill_all()
    _settings(window)
    assert not window.generation.generate()
    assert fake.calls == []
    assert "no picture to repaint" in window.generate_panel.message_bar.text()


def test_the_tiny_engine_repaints_only_the_masked_area_from_the_window(qtbot, tiny_window):
    window = tiny_window
    window.new_document(64, 64)
    document = window.document
    picture = np.random.default_rng(3).integers(0, 256, (64, 64, 3)).astype(np.uint8)
    set_reference_picture(document, picture)
    document.edge.stroke([(5, 5), (60, 40)], width=3)
    document.mask.stroke([(16, 32), (48, 32)], width=20)
    _settings(window)
    with qtbot.waitSignal(window.generation.finished, timeout=WAIT_MS) as finished:
        assert window.generation.generate()
    _result, (entry,) = finished.args
    outside = document.mask.data <= 127
    assert entry.image.shape == (64, 64, 3)
    assert np.array_equal(entry.image[outside], picture[outside])  # exactly the original outside the mask
    assert not np.array_equal(entry.image[~outside], picture[~outside])
