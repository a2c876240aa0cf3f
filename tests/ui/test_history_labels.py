"""The history panel reads clearly: changes made by Undo say "Undo: ...", the count is singular for one
revision, and search finds every kind of event by its line ("pose", "stroke", "undo")."""

from __future__ import annotations

from history_helpers import WAIT_MS, settle
from test_history_panel import _reload, _rows

from studio.app.history_model import count_text
from studio.document.pose_templates import template_names


def test_undo_and_redo_are_labelled_and_search_covers_every_kind(qtbot, window):
    document = window.document
    document.edge.stroke([(20, 20), (120, 20)], width=5)
    stroke_label = document.history.undo_label
    document.pose.add_template(template_names()[0])
    window.undo.undo_action.trigger()  # undo the pose edit
    window.undo.redo_action.trigger()
    panel = _reload(qtbot, window)
    summaries = [row.summary for row in _rows(panel)]
    assert summaries[0] == "Redo: Add standing person" and summaries[1] == "Undo: Add standing person"
    assert summaries[2] == "Pose edit"
    with qtbot.waitSignal(panel.loaded, timeout=WAIT_MS):
        panel.search_edit.setText("pose")
    assert [row.kind for row in _rows(panel)] == ["pose"] * 3  # the edit, its undo and its redo
    with qtbot.waitSignal(panel.loaded, timeout=WAIT_MS):
        panel.search_edit.setText("undo")
    assert [row.kind for row in _rows(panel)] == ["pose"]
    assert panel.count_label.text() == "1 revision"
    with qtbot.waitSignal(panel.loaded, timeout=WAIT_MS):
        panel.search_edit.setText("edge stroke")
    assert [row.kind for row in _rows(panel)] == ["stroke"] and stroke_label


def test_count_text():
    assert count_text(1, 1) == "1 revision" and count_text(0, 0) == "0 revisions"
    assert count_text(3, 3) == "3 revisions" and count_text(400, 1250) == "400 of 1,250 revisions"
