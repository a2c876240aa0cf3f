"""History ▸ Export…: the zip archive and the training sets from the window, on a worker, with progress; a
refused target is explained and nothing is written."""

from __future__ import annotations

import json
import zipfile

import pyarrow.parquet as pq
import pytest
from fake_engine import FakeEngineClient
from history_helpers import WAIT_MS, settle

from studio.engine.settings import ModelEntry


@pytest.fixture
def fake_window(make_window, app_paths, tmp_path):
    from ui.dialogs.models_guide import add_model

    add_model(app_paths.model_settings, name="sketchy", entry=ModelEntry(base=str(tmp_path / "never-loaded")))
    return make_window(engine=FakeEngineClient())


def _generate_and_star(qtbot, window):
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


def _export(qtbot, dialog) -> str:
    seen = []
    dialog.progress_bar.valueChanged.connect(seen.append)
    with qtbot.waitSignal(dialog.finished_export, timeout=WAIT_MS) as done:
        assert dialog.start()
        assert not dialog.export_button.isEnabled()
    assert dialog.progress_bar.value() == dialog.progress_bar.maximum() and seen
    return done.args[0]


def test_export_the_history_as_zip_and_as_training_sets(qtbot, fake_window, tmp_path):
    window = fake_window
    _generate_and_star(qtbot, window)
    window.commands["export_history"].trigger()
    dialog = window.exports.dialog
    assert dialog.isVisible() and not dialog.kind_combo.isEnabled()
    dialog.target_edit.setText(str(tmp_path / "history.zip"))
    text = _export(qtbot, dialog)
    assert "history.zip" in text and "2 result images" in text
    with zipfile.ZipFile(tmp_path / "history.zip") as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["counts"]["generations"] == 1

    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("controlnet"))
    assert dialog.kind_combo.isEnabled() and dialog.kind_combo.currentData() == "edge"
    dialog.target_edit.setText(str(tmp_path / "train-edge"))
    assert "1 controlnet rows" in _export(qtbot, dialog)  # the starred image, not the rejected one
    table = pq.read_table(tmp_path / "train-edge" / "data" / "train-00000-of-00001.parquet")
    assert table.column_names == ["image", "text", "conditioning_image"]
    assert table.column("text").to_pylist() == ["a kite"]

    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("preference"))
    dialog.target_edit.setText(str(tmp_path / "pairs"))
    assert "1 preference rows" in _export(qtbot, dialog)


def test_a_target_that_exists_is_refused_and_explained(qtbot, fake_window, tmp_path):
    window = fake_window
    settle(qtbot, window)
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    dialog = window.exports.open_dialog()
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("preference"))
    dialog.target_edit.setText(str(taken))
    assert dialog.start()
    qtbot.waitUntil(lambda: dialog.message_bar.kind == "error", timeout=WAIT_MS)
    assert "already exists" in dialog.message_bar.text() and dialog.export_button.isEnabled()
    assert (taken / "notes.txt").read_text() == "mine" and sorted(p.name for p in taken.iterdir()) == ["notes.txt"]
