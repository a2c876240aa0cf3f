"""Restore and branch switches keep Undo: the restore is one undo step, and the steps before it (an "Apply"
that said "Undo takes it back") still undo. Undoing a restore is logged on the new branch like any edit."""

from __future__ import annotations

import numpy as np
from history_helpers import WAIT_MS, settle, store_of
from test_history_panel import _reload, _rows


def _restore(qtbot, window, revision: int) -> None:
    with qtbot.waitSignal(window.history.head_moved, timeout=WAIT_MS):
        window.files.restore_revision(revision)
    settle(qtbot, window)


def test_undo_takes_back_a_restore_and_then_the_steps_before_it(qtbot, window):
    document, panel = window.document, window.generate_panel
    document.edge.stroke([(20, 20), (120, 20)], width=5)
    early = document.edge.data.copy()
    settle(qtbot, window)
    target = store_of(window).head().id
    panel.apply_fields(prompt="a lighthouse in fog", width=640)  # what the assistant's Apply does
    document.edge.stroke([(20, 200), (300, 200)], width=5)
    document.depth.fill(0.25)
    late_edges, late_depth = document.edge.data.copy(), document.depth.data.copy()
    settle(qtbot, window)

    _restore(qtbot, window, target)
    assert window.document is document and np.array_equal(document.edge.data, early)
    assert not document.depth.data.any() and panel.settings().prompt == ""
    assert window.undo.undo_action.isEnabled()
    assert window.undo.undo_action.text() == f"Undo Restore revision {target}"
    branch = store_of(window).current_branch().name
    assert branch == f"restore-{target}" and store_of(window).head().kind == "restore"  # not logged twice

    window.undo.undo_action.trigger()  # back to what was shown before the restore
    assert np.array_equal(document.edge.data, late_edges) and np.array_equal(document.depth.data, late_depth)
    assert panel.settings().prompt == "a lighthouse in fog" and panel.width_spin.value() == 640
    settle(qtbot, window)
    head = store_of(window).head()
    assert head.branch == branch and head.kind != "restore"  # the undo is an edit on the new branch
    window.undo.undo_action.trigger()  # the depth fill
    window.undo.undo_action.trigger()  # the second stroke
    window.undo.undo_action.trigger()  # the Apply, whose promise still holds
    assert panel.settings().prompt == "" and panel.width_spin.value() == 512
    window.undo.redo_action.trigger()
    assert panel.settings().prompt == "a lighthouse in fog"


def test_switching_branches_is_an_undo_step_too(qtbot, window):
    document = window.document
    document.edge.stroke([(20, 20), (120, 20)], width=5)
    settle(qtbot, window)
    target = store_of(window).head().id
    document.edge.stroke([(20, 300), (300, 300)], width=5)
    main_edges = document.edge.data.copy()
    settle(qtbot, window)
    _restore(qtbot, window, target)
    document.depth.fill(0.5)
    on_branch = document.depth.data.copy()
    panel = _reload(qtbot, window)
    with qtbot.waitSignal(window.history.head_moved, timeout=WAIT_MS):
        panel.branch_combo.setCurrentText("main")
        panel.branch_combo.activated.emit(panel.branch_combo.currentIndex())
    assert np.array_equal(document.edge.data, main_edges) and not document.depth.data.any()
    assert window.undo.undo_action.text() == "Undo Switch to branch main"
    window.undo.undo_action.trigger()
    assert np.array_equal(document.depth.data, on_branch)
    settle(qtbot, window)
    assert _rows(_reload(qtbot, window))  # the panel still reads the file


def test_locked_layers_are_restored_too(qtbot, window):
    document = window.document
    settle(qtbot, window)
    target = store_of(window).head().id
    document.edge.stroke([(20, 20), (120, 20)], width=5)
    document.edge.locked = True
    settle(qtbot, window)
    _restore(qtbot, window, target)
    assert not document.edge.data.any() and not document.edge.locked
    window.undo.undo_action.trigger()
    assert document.edge.data.any() and document.edge.locked
