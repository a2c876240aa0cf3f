"""The history panel: timeline with thumbnails, kind filter and text search, restore onto a new branch, branch
switching, comparison of two revisions, and feedback on a logged generation."""

from __future__ import annotations


import numpy as np
from history_helpers import WAIT_MS, settle, store_of
from PIL import Image

from studio.engine.pipeline import GenerationResult
from studio.engine.request import ControlInput, GenerationRequest


def _reload(qtbot, window):
    """Commit everything, then wait for a fresh read of the timeline."""
    settle(qtbot, window)
    panel = window.history_panel
    with qtbot.waitSignal(panel.loaded, timeout=WAIT_MS):
        panel.refresh()
    return panel


def _rows(panel):
    return [panel.list.item(i).data(0x0100) for i in range(panel.list.count())]  # Qt.UserRole


def _draw_three_revisions(window):
    document = window.document
    document.edge.stroke([(20, 20), (120, 20)], width=5)
    window.generate_panel.prompt_edit.setPlainText("a castle at dawn")
    document.edge.stroke([(20, 200), (300, 200)], width=5)
    window.recorder.flush()


def test_timeline_lists_revisions_newest_first_with_thumbnails(qtbot, window):
    _draw_three_revisions(window)
    panel = _reload(qtbot, window)
    rows = _rows(panel)
    assert [row.kind for row in rows] == ["stroke", "setting", "stroke", "snapshot", "created"]
    assert rows[0].summary.startswith("Edge stroke") and "castle" in rows[1].summary
    assert not panel.list.item(0).icon().isNull() and rows[0].thumbnail != rows[2].thumbnail
    assert panel.branch_combo.currentText() == "main" and "5 revisions" in panel.count_label.text()


def test_search_and_kind_filter_narrow_the_list(qtbot, window):
    _draw_three_revisions(window)
    window.recorder.log_chat_turn(message="Which castle style?", reply="Try a gothic castle.")
    panel = _reload(qtbot, window)
    with qtbot.waitSignal(panel.loaded, timeout=WAIT_MS):
        panel.search_edit.setText("castle")
    assert [row.kind for row in _rows(panel)] == ["chat", "setting"]
    with qtbot.waitSignal(panel.loaded, timeout=WAIT_MS):
        panel.search_edit.setText("gothic")
    assert [row.kind for row in _rows(panel)] == ["chat"]
    with qtbot.waitSignal(panel.loaded, timeout=WAIT_MS):
        panel.search_edit.clear()
    with qtbot.waitSignal(panel.loaded, timeout=WAIT_MS):
        panel.kind_combo.setCurrentText("Drawing")
    assert [row.kind for row in _rows(panel)] == ["stroke", "stroke", "snapshot"]


def test_restore_makes_a_branch_shows_old_content_and_keeps_later_revisions(qtbot, window):
    document = window.document
    document.edge.stroke([(20, 20), (120, 20)], width=5)
    early_edges = document.edge.data.copy()
    window.generate_panel.prompt_edit.setPlainText("first idea")
    document.edge.stroke([(20, 200), (300, 200)], width=5)
    window.generate_panel.prompt_edit.setPlainText("second idea")
    late_edges = document.edge.data.copy()
    panel = _reload(qtbot, window)
    count_before = len(store_of(window).revisions())
    target = next(row for row in _rows(panel) if row.kind == "setting" and "first" in row.summary)
    panel.select_revisions([target.revision])
    assert panel.restore_button.isEnabled()
    panel.restore_button.click()
    qtbot.waitUntil(lambda: np.array_equal(document.edge.data, early_edges), timeout=WAIT_MS)
    panel = _reload(qtbot, window)
    assert window.document is document  # the same document: its undo history goes on
    assert window.generate_panel.prompt_edit.toPlainText() == "first idea"
    assert window.undo.undo_action.text() == f"Undo Restore revision {target.revision}"
    store = store_of(window)
    assert store.current_branch().name == f"restore-{target.revision}"
    assert len(store.revisions()) == count_before + 1  # nothing was dropped
    assert panel.branch_combo.currentText() == f"restore-{target.revision}"
    assert _rows(panel)[0].kind == "restore"
    # Editing after the restore grows the new branch; the later revisions stay on main.
    window.document.depth.fill(0.5)
    settle(qtbot, window)
    assert store.head().kind == "stroke" and store.head().branch == f"restore-{target.revision}"
    # Switching back to main shows its newest revision again.
    panel = _reload(qtbot, window)
    with qtbot.waitSignal(window.history.head_moved, timeout=WAIT_MS):
        panel.branch_combo.setCurrentText("main")
        panel.branch_combo.activated.emit(panel.branch_combo.currentIndex())
    assert np.array_equal(window.document.edge.data, late_edges)
    assert window.generate_panel.prompt_edit.toPlainText() == "second idea"
    assert store.current_branch().name == "main"
    with qtbot.waitSignal(panel.loaded, timeout=WAIT_MS):
        pass  # the panel follows the switch by itself
    assert panel.branch_combo.currentText() == "main" and _rows(panel)[0].kind == "setting"


def test_compare_two_revisions_side_by_side(qtbot, window):
    _draw_three_revisions(window)
    panel = _reload(qtbot, window)
    strokes = [row.revision for row in _rows(panel) if row.kind == "stroke"]
    panel.select_revisions(strokes)
    assert panel.compare_button.isEnabled() and not panel.restore_button.isEnabled()
    panel.compare_button.click()
    qtbot.waitUntil(lambda: panel.compare_dialog is not None and panel.compare_dialog.isVisible(), timeout=WAIT_MS)
    left, right = (label.pixmap().toImage() for label in panel.compare_dialog.images)
    assert left.size() == right.size() and left != right  # the first stroke alone, then both strokes
    assert left.pixelColor(70, 20).value() > 200 and right.pixelColor(150, 200).value() > 200
    assert left.pixelColor(150, 200).value() < 60
    panel.compare_dialog.close()


def _log_generation(qtbot, window) -> int:
    """A finished generation with two results, logged as the generation controller does when a run ends."""
    image = np.zeros((64, 64, 3), np.uint8)
    request = GenerationRequest(prompt="a lighthouse", width=64, height=64, steps=2, seed=5,
                                controls=[ControlInput(kind="edge", image=image)])
    images = [Image.fromarray(np.full((64, 64, 3), value, np.uint8)) for value in (60, 180)]
    result = GenerationResult(request=request, images=images, seed=5, seeds=[5, 6], cancelled=False,
                              timings={"total": 0.5}, models=[], device="cpu float32", family="sd15")
    ids = []
    window.recorder.log_generation(request, result=result, on_logged=ids.append)
    qtbot.waitUntil(lambda: bool(ids), timeout=WAIT_MS)
    return ids[0]


def test_feedback_on_a_generation_from_the_history_panel(qtbot, window):
    generation = _log_generation(qtbot, window)
    panel = _reload(qtbot, window)
    row = next(row for row in _rows(panel) if row.kind == "generation")
    assert row.event == generation and "lighthouse" in row.summary
    panel.select_revisions([row.revision])
    box = panel.feedback_box
    qtbot.waitUntil(lambda: box.isVisible() and box.results.count() == 2, timeout=WAIT_MS)
    box.pick_result(1)
    box.star_buttons[3].click()  # 4 stars on the second image
    box.accept_button.click()
    box.comment_edit.setText("good light, wrong sky")
    box.comment_button.click()
    box.pick_result(None)
    box.reject_button.click()  # the whole generation
    settle(qtbot, window)
    feedback = store_of(window).generation(generation).feedback
    assert [(f.result, f.verdict, f.rating, f.comment) for f in feedback] == [
        (1, None, 4, None), (1, "accept", None, None), (1, None, None, "good light, wrong sky"),
        (None, "reject", None, None)]
    qtbot.waitUntil(lambda: "wrong sky" in box.state_label.text(), timeout=WAIT_MS)
    assert "★★★★" in box.state_label.text()
