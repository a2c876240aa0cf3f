"""File commands: save and open `.studio` documents, bad files, import a reference, export control maps."""

from __future__ import annotations

import numpy as np
from PIL import Image

from studio.imageio import load_rgb


def _wait(qtbot, handle) -> None:
    qtbot.waitUntil(lambda: handle.done_event.is_set(), timeout=20_000)
    qtbot.wait(50)  # let the queued callbacks run


def test_save_then_open_round_trip(qtbot, window, tmp_path):
    document = window.document
    document.edge.stroke([(20, 20), (200, 100)], width=6)
    document.pose.add_template("standing")
    document.depth.fill(0.25)
    document.depth.opacity = 0.3
    assert window.files.modified and window.isWindowModified()
    path = tmp_path / "poster.studio"
    _wait(qtbot, window.files.save_to(path))
    assert path.exists() and not window.files.modified
    assert window.files.path == path and "poster" in window.windowTitle()
    window.new_document(256, 128)
    assert window.document.size == (256, 128)
    _wait(qtbot, window.files.open_path(path, confirm=False))
    opened = window.document
    assert opened is not document
    assert np.array_equal(opened.edge.data, document.edge.data)
    assert len(opened.pose.people) == 1 and abs(opened.depth.opacity - 0.3) < 1e-9
    assert window.layers_panel.rows["depth"].opacity.value() == 30
    assert window.app_settings.recent_files()[0] == path.resolve()
    # Save again into the same file: its history keeps both snapshots.
    opened.edge.clear()
    _wait(qtbot, window.files.save())
    from studio.history.store import HistoryStore

    with HistoryStore.open(path, readonly=True) as store:
        assert sum(1 for event in store.events() if event.kind == "snapshot") == 2


def test_opening_a_corrupt_file_keeps_the_document(qtbot, window, tmp_path):
    bad = tmp_path / "bad.studio"
    bad.write_bytes(b"this is not a studio document" * 10)
    window.document.edge.stroke([(10, 10), (50, 50)])
    before = window.document
    _wait(qtbot, window.files.open_path(bad, confirm=False))
    assert window.document is before
    assert window.message_bar.kind == "error" and "bad.studio" in window.message_bar.text()
    _wait(qtbot, window.files.open_path(tmp_path / "missing.studio", confirm=False))
    assert window.document is before


def test_failed_save_keeps_path_and_modified_flag(qtbot, window, tmp_path):
    window.document.edge.stroke([(10, 10), (50, 50)])
    _wait(qtbot, window.files.save_to(tmp_path / "no-such-folder" / "x.studio"))
    assert window.files.path is None and window.files.modified
    assert window.message_bar.kind == "error"


def test_import_reference_image_and_edges_from_it(qtbot, window, tmp_path):
    picture = np.zeros((300, 400, 3), dtype=np.uint8)
    picture[100:200, 150:250] = 255
    Image.fromarray(picture).save(tmp_path / "ref.png")
    assert window.files.import_image(tmp_path / "ref.png")
    assert window.document.reference.image.shape == (512, 512, 3)
    window.commands["edges_from_reference"].trigger()
    dialog = window.canny_dialog
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
