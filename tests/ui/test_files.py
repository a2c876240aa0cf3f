"""File commands: import a reference, export control maps and the canvas (saving and opening `.studio`
documents: test_history_files.py)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from studio.imageio import load_rgb


def test_import_reference_image_and_edges_from_it(qtbot, window, tmp_path):
    picture = np.zeros((300, 400, 3), dtype=np.uint8)
    picture[100:200, 150:250] = 255
    Image.fromarray(picture).save(tmp_path / "ref.png")
    assert window.files.import_image(tmp_path / "ref.png")
    assert window.document.reference.image.shape == (512, 512, 3)
    window.commands["edges_from_reference"].trigger()
    dialog = window.layer_commands.canny_dialog
    dialog.high_slider.setValue(150)
    preview = dialog.update_preview()
    assert preview.any()
    dialog.accept()
    assert window.document.edge.data.any()
    window.commands["undo"].trigger()
    assert not window.document.edge.data.any()
    assert not window.files.import_image(tmp_path / "missing.png")
    assert "missing.png" in window.message_bar.text()


def test_edges_from_reference_without_reference_explains(window):
    window.commands["edges_from_reference"].trigger()
    assert "no reference image" in window.message_bar.text()


def test_export_control_maps_writes_exact_inputs(window, tmp_path):
    window.document.edge.stroke([(10, 10), (200, 200)], width=5)
    window.document.pose.add_template("standing")
    written = window.files.export_control_maps(tmp_path / "maps")
    assert sorted(path.name for path in written) == ["depth.png", "edge.png", "pose.json", "pose.png"]
    assert np.array_equal(load_rgb(tmp_path / "maps" / "edge.png"), window.document.control_image("edge"))
    assert np.array_equal(load_rgb(tmp_path / "maps" / "pose.png"), window.document.control_image("pose"))


def test_export_canvas_image(window, tmp_path):
    window.document.edge.stroke([(10, 10), (200, 200)], width=9)
    window.view.set_tool("pose")  # handles must not end up in the file
    assert window.files.export_canvas(tmp_path / "canvas.png")
    pixels = load_rgb(tmp_path / "canvas.png")
    assert pixels.shape == (512, 512, 3)
    assert pixels[100, 100].min() > 200 and pixels[400, 50].max() == 0
