"""'Edges from Reference' replaces the edge layer or adds the traced edges to what was drawn."""

from __future__ import annotations

import numpy as np
import pytest

from studio.document import Document, DocumentError
from studio.document.picture_import import edges_from_picture


def _window_with_reference(window):
    picture = np.zeros((512, 512, 3), dtype=np.uint8)
    picture[100:200, 150:250] = 255
    window.document.reference.set_image(picture)
    window.document.edge.stroke([(20, 450), (480, 450)], width=6)  # drawn by hand, far from the square
    return window.document.edge.data.copy()


def test_add_keeps_the_drawing_and_replace_does_not(qtbot, window):
    drawn = _window_with_reference(window)
    window.commands["edges_from_reference"].trigger()
    dialog = window.layer_commands.canny_dialog
    assert dialog.ok_button.text() == "Replace edge layer"
    dialog.combine_combo.setCurrentIndex(dialog.combine_combo.findData("add"))
    assert dialog.ok_button.text() == "Add to edge layer"
    assert dialog.update_preview()[440:460].any()  # the preview shows the drawing too
    dialog.accept()
    edges = window.document.edge.data
    assert np.array_equal(edges[440:460], drawn[440:460]) and edges[95:205, 145:255].any()
    assert window.document.history.undo_label == "Add edges from picture (canny)"
    window.commands["undo"].trigger()
    assert np.array_equal(window.document.edge.data, drawn)

    window.commands["edges_from_reference"].trigger()
    window.layer_commands.canny_dialog.accept()  # replace, the default
    edges = window.document.edge.data
    assert not edges[440:460].any() and edges[95:205, 145:255].any()


def test_unknown_combine_is_refused():
    document = Document(64, 64)
    with pytest.raises(DocumentError, match="replace, add"):
        edges_from_picture(document, np.zeros((64, 64, 3), np.uint8), combine="blend")
